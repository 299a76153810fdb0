//! Why distillation did not clearly help a student: sentences drawn from measured facts by fixed
//! rules, never a fixed paragraph. Each rule reads a few facts of the study ([`Facts`]), fires
//! when they cross its threshold, and says what it saw in numbers; the report shows every rule
//! that fired, in the order below, or says that none did. The thresholds are stated beside each
//! rule and pinned by the tests at the end of this file.
//!
//! The rules, each a known reason for distillation to fall short:
//! 1. **A teacher barely better than the student** (validation margin under [`SMALL_MARGIN`]
//!    points): its soft targets say little the labels do not.
//! 2. **A student short of capacity**: alone, it fits its training batches hardly better than
//!    held-out data (by less than [`UNDERFIT_GAP`] points of accuracy). It cannot even overfit,
//!    so capacity, not information, limits it, and the soft term competes with the labels for
//!    what it has. (A student that fits its training data clearly better than the validation
//!    split has room the teacher's knowledge could fill, whatever its training accuracy.)
//! 3. **Distilled, it fits its training batches worse** (by more than [`FIT_LOSS`] points): the
//!    soft targets pulled it away from labels it could fit.
//! 4. **Soft targets that are nearly one-hot or nearly uniform at the temperature used** (mean
//!    entropy below [`PEAKED`] or above [`FLAT`] of its maximum, `ln C`): nearly one-hot targets
//!    carry little beyond the labels; nearly uniform ones, little at all.
//! 5. **Settings not chosen on this data** (T and the weights came from a preset or the command
//!    line): they may suit another data set.

use tensor::Tensor;

/// Points of validation accuracy (or the study's first metric) under which a teacher's margin
/// over the student alone is called small.
pub const SMALL_MARGIN: f64 = 1.0;
/// Points of accuracy by which a student alone must fit its training batches better than the
/// validation split not to be called short of capacity.
pub const UNDERFIT_GAP: f64 = 2.0;
/// Points of training-batch accuracy a distilled student may lose against the student alone
/// before the soft targets are said to pull it away from the labels.
pub const FIT_LOSS: f64 = 1.0;
/// Below this share of the largest entropy (`ln C`) the soft targets are called nearly one-hot.
pub const PEAKED: f64 = 0.1;
/// Above this share, nearly uniform.
pub const FLAT: f64 = 0.9;

/// Where the temperature and the loss weights of a run came from.
#[derive(Debug, Clone, PartialEq)]
pub enum WeightsSource {
    /// The app's preset (chosen on another data set, or by the paper the preset follows).
    Preset,
    /// Given on the command line.
    CommandLine,
    /// Chosen on this data's validation split by `tune`, read from this file.
    Tuned(String),
}

/// The measured facts the rules read, for one student.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    /// The teacher's score on the validation split, and the student alone's (mean over seeds),
    /// in points of the study's first metric.
    pub teacher_validation: f64,
    pub alone_validation: f64,
    /// Accuracy (%) on the training batches in the last epoch: alone and distilled (means).
    pub train_alone: f64,
    pub train_distilled: f64,
    /// The teacher's soft targets at the temperature used, on the validation split: their mean
    /// entropy as a share of the largest possible (`ln C`; a binary output's: `ln 2`).
    pub soft_entropy: f64,
    pub temperature: f32,
    pub source: WeightsSource,
    /// The app's binary, for the command a sentence names.
    pub app: String,
}

/// The sentences of every rule that fires, in order; one plain sentence when none does.
pub fn explain(f: &Facts) -> String {
    let mut said = Vec::new();
    let margin = f.teacher_validation - f.alone_validation;
    if margin < SMALL_MARGIN {
        let standing = if margin >= 0.0 {
            format!("only {margin:.2} points above")
        } else {
            format!("{:.2} points below", -margin)
        };
        said.push(format!(
            "The teacher is {standing} the student alone on the validation split ({:.2} against \
             {:.2}): its soft targets have little to add to the labels.",
            f.teacher_validation, f.alone_validation
        ));
    }
    if f.train_alone - f.alone_validation < UNDERFIT_GAP {
        said.push(format!(
            "Alone, the student fits its training batches hardly better than held-out data \
             ({:.2} % against {:.2} % on validation): it is short of capacity rather than of \
             information, and the soft term competes with the labels for what it has.",
            f.train_alone, f.alone_validation
        ));
    }
    if f.train_alone - f.train_distilled > FIT_LOSS {
        said.push(format!(
            "Distilled, it fits its training batches worse ({:.2} % against {:.2} % alone): the \
             soft targets pulled it away from labels it could fit.",
            f.train_distilled, f.train_alone
        ));
    }
    // Advice on T only where T was not chosen on this data: a tuned T was the best of its grid.
    let tuned = matches!(f.source, WeightsSource::Tuned(_));
    let (one_hot, uniform) = if tuned {
        let still = " (this T was still the best of the tuning's grid on validation)";
        (still, still)
    } else {
        (
            "; a higher temperature shows more of the small probabilities",
            "; a lower temperature keeps more of the ranking",
        )
    };
    if f.soft_entropy < PEAKED {
        said.push(format!(
            "At T = {} the teacher's soft targets are nearly one-hot (mean entropy {:.0} % of the \
             largest): they carry little beyond the labels{one_hot}.",
            f.temperature,
            100.0 * f.soft_entropy
        ));
    } else if f.soft_entropy > FLAT {
        said.push(format!(
            "At T = {} the teacher's soft targets are nearly uniform (mean entropy {:.0} % of the \
             largest): they carry little at all{uniform}.",
            f.temperature,
            100.0 * f.soft_entropy
        ));
    }
    match &f.source {
        WeightsSource::Tuned(_) => {}
        source => said.push(format!(
            "T and the weights were {} and not chosen on this data's validation split (`{} tune` \
             chooses them).",
            if *source == WeightsSource::Preset {
                "the preset's"
            } else {
                "given on the command line"
            },
            f.app
        )),
    }
    if said.is_empty() {
        return "None of the usual reasons shows in the measurements (a clear teacher margin, a \
                student that fits its training batches, informative soft targets, settings tuned \
                on this data)."
            .to_string();
    }
    said.join(" ")
}

/// The mean entropy of the softened distributions of `logits` (`[N, C]`) at `temperature`, as a
/// share of the largest, `ln C`. One column is read as a sigmoid's logit (two classes).
///
/// `H(p) = −Σ_c p_c ln p_c` with `p = softmax(z / T)` per row (`σ(z / T)` and its complement for
/// one column).
pub fn soft_target_entropy(logits: &Tensor, temperature: f32) -> f64 {
    let (rows, columns) = (logits.shape()[0], logits.shape()[1]);
    if rows == 0 {
        return f64::NAN;
    }
    let t = f64::from(temperature);
    let mut total = 0.0;
    for row in logits.data().chunks_exact(columns) {
        let probabilities: Vec<f64> = if columns == 1 {
            let p = 1.0 / (1.0 + (-f64::from(row[0]) / t).exp());
            vec![p, 1.0 - p]
        } else {
            let max = row.iter().fold(f32::NEG_INFINITY, |m, &z| m.max(z));
            let e: Vec<f64> = row
                .iter()
                .map(|&z| (f64::from(z - max) / t).exp())
                .collect();
            let sum: f64 = e.iter().sum();
            e.into_iter().map(|x| x / sum).collect()
        };
        total -= probabilities
            .iter()
            .filter(|&&p| p > 0.0)
            .map(|&p| p * p.ln())
            .sum::<f64>();
    }
    let classes = columns.max(2) as f64;
    total / rows as f64 / classes.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Facts under which no rule fires: a clear margin, a student that fits, informative targets,
    /// tuned settings.
    fn quiet() -> Facts {
        Facts {
            teacher_validation: 93.0,
            alone_validation: 88.0,
            train_alone: 92.0,
            train_distilled: 91.5,
            soft_entropy: 0.3,
            temperature: 4.0,
            source: WeightsSource::Tuned("runs/x/tuned.json".into()),
            app: "mnist_kd".into(),
        }
    }

    #[test]
    fn no_rule_fires_on_quiet_facts() {
        let text = explain(&quiet());
        assert!(text.starts_with("None of the usual reasons"), "{text}");
    }

    /// Each rule fires just past its threshold, alone, and says its numbers; just short of the
    /// threshold it stays quiet.
    #[test]
    fn each_rule_fires_at_its_threshold_and_not_before() {
        type Edit = fn(&mut Facts, bool);
        let cases: [(&str, Edit); 7] = [
            // (The student's training accuracy moves with its validation accuracy, so that only
            // the margin changes.)
            ("only 0.90 points above", |f, past| {
                f.alone_validation = if past { 92.1 } else { 91.9 };
                (f.train_alone, f.train_distilled) = (97.0, 97.0);
            }),
            ("0.50 points below the student alone", |f, past| {
                f.alone_validation = if past { 93.5 } else { 91.9 };
                (f.train_alone, f.train_distilled) = (97.0, 97.0);
            }),
            ("hardly better than held-out data (89.90 % against 88.00 %", |f, past| {
                f.train_alone = if past { 89.9 } else { 90.1 };
                f.train_distilled = f.train_alone;
            }),
            ("fits its training batches worse (90.90 % against 92.00 % alone)", |f, past| {
                f.train_distilled = if past { 90.9 } else { 91.1 };
            }),
            ("nearly one-hot (mean entropy 9 % of the largest): they carry little beyond the labels (this T was still the best", |f, past| {
                f.soft_entropy = if past { 0.09 } else { 0.11 };
            }),
            ("nearly uniform (mean entropy 91 %", |f, past| {
                f.soft_entropy = if past { 0.91 } else { 0.89 };
            }),
            ("were the preset's and not chosen on this data", |f, past| {
                if past {
                    f.source = WeightsSource::Preset;
                }
            }),
        ];
        for (needle, edit) in cases {
            let mut f = quiet();
            edit(&mut f, true);
            let text = explain(&f);
            assert!(text.contains(needle), "{needle:?} should fire: {text}");
            assert!(!text.starts_with("None"), "{text}");
            let mut f = quiet();
            edit(&mut f, false);
            let text = explain(&f);
            assert!(
                text.starts_with("None of the usual reasons"),
                "{needle:?} fired early: {text}"
            );
        }
        let mut f = quiet();
        f.source = WeightsSource::CommandLine;
        assert!(explain(&f).contains("given on the command line"));
        assert!(explain(&f).contains("`mnist_kd tune`"));
        // Advice on T only where T was not tuned.
        f.soft_entropy = 0.05;
        assert!(
            explain(&f).contains("a higher temperature shows more"),
            "{}",
            explain(&f)
        );
        f.soft_entropy = 0.95;
        assert!(
            explain(&f).contains("a lower temperature keeps more"),
            "{}",
            explain(&f)
        );
    }

    #[test]
    fn rules_that_fire_together_are_all_said_in_order() {
        let mut f = quiet();
        f.alone_validation = 92.5;
        f.source = WeightsSource::Preset;
        let text = explain(&f);
        let (a, b) = (
            text.find("points above").unwrap(),
            text.find("preset's").unwrap(),
        );
        assert!(a < b, "{text}");
    }

    #[test]
    fn entropy_of_soft_targets_by_hand() {
        // Equal logits: uniform at any T, the largest entropy.
        let flat = Tensor::from_vec(vec![1.0; 6], &[2, 3]).unwrap();
        assert!((soft_target_entropy(&flat, 2.0) - 1.0).abs() < 1e-12);
        // Logits 0 and ln 3 at T = 1: p = (1/4, 3/4), H = ln 4 − (3/4) ln 3, over ln 2.
        let z = Tensor::from_vec(vec![0.0, 3f32.ln()], &[1, 2]).unwrap();
        let want = (4f64.ln() - 0.75 * 3f64.ln()) / 2f64.ln();
        assert!((soft_target_entropy(&z, 1.0) - want).abs() < 1e-6);
        // The same as one sigmoid logit ln 3 (σ = 3/4).
        let one = Tensor::from_vec(vec![3f32.ln()], &[1, 1]).unwrap();
        assert!((soft_target_entropy(&one, 1.0) - want).abs() < 1e-6);
        // A higher temperature flattens: the entropy grows.
        let peaked = Tensor::from_vec(vec![8.0, 0.0, 0.0], &[1, 3]).unwrap();
        assert!(soft_target_entropy(&peaked, 1.0) < 0.1);
        assert!(soft_target_entropy(&peaked, 8.0) > soft_target_entropy(&peaked, 2.0));
    }
}
