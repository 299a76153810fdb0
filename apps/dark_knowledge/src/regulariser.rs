//! Soft targets as a regulariser: Hinton et al.'s section 5 experiment, on MNIST.
//!
//! A big student trained on a small share of the training set with hard labels can learn those few
//! labels perfectly: a one-hot target says nothing about how a 4 resembles a 9, so the network is
//! free to separate its few examples any way that fits them. The soft targets of a teacher trained
//! on all the data constrain every output on every example — one number per class for each image
//! instead of one label — which leaves the network fewer ways to fit its examples and, the paper
//! found, makes early stopping unnecessary.
//!
//! The paper's figures (speech, frame accuracy), beside ours, are in docs/dark_knowledge.md: on
//! the small share, hard targets overfit and need early stopping, soft targets do not.
//!
//! Here: per seed, the share is a seeded random draw of the training split; the student trains on
//! it from the same initialisation with hard labels, and with the teacher's soft targets alone
//! (hard weight 0). The per-epoch training accuracy is the running accuracy over the epoch's
//! batches (the final one is measured on the share after training); test and validation accuracy
//! are measured after every epoch; the early-stopping epoch is the best on the validation split,
//! never on the test set.

use std::fmt::Write as _;

use kd::metrics::MeanStd;
use kd::{evaluate, EpochRecord, ModelSpec};
use serde_json::{json, Value};
use study::output::{epochs_json, markdown_table, write_atomic};
use study::Weights;

use crate::lab::{Lab, MNIST_KD_TEMPERATURE, SEEDS};
use crate::svg::{accuracy_curves, Line};

/// The student unless `--student` says otherwise: the paper's MNIST student, big enough to
/// overfit a small share.
pub const STUDENT: &str = "mlp:800,800";
const EPOCHS: usize = 40;
/// Seeds the draw of the share (plus the run's seed): a constant of its own, so that the share is
/// not tied to the validation split's draw (`Splits::new`) or to a student's initialisation.
const SHARE_SEED: u64 = 0x5a4e;

/// The share of `len` samples a run sees: at least one batch.
pub fn share_size(len: usize, share: f64, batch_size: usize) -> usize {
    ((len as f64 * share).round() as usize).clamp(batch_size.min(len), len)
}

/// One run's record: the per-epoch curves, the epoch chosen on validation, the final accuracies.
struct Run {
    epochs: Vec<EpochRecord>,
    /// 0-based: the epoch with the best validation accuracy (the first of equals).
    stop_epoch: usize,
    /// Accuracy (%) on the share after training, the model in evaluation mode.
    final_train: f64,
    final_test: f64,
}

/// The first epoch with the highest validation accuracy.
pub fn best_on_validation(epochs: &[EpochRecord]) -> usize {
    let accuracy = |e: &EpochRecord| e.validation.map_or(f64::NEG_INFINITY, |v| v.accuracy);
    let mut best = 0;
    for (i, e) in epochs.iter().enumerate() {
        if accuracy(e) > accuracy(&epochs[best]) {
            best = i;
        }
    }
    best
}

fn test_accuracy(e: &EpochRecord) -> f64 {
    e.eval.map_or(f64::NAN, |v| 100.0 * v.accuracy)
}

/// The experiment: `spec` on `share` of the training split, hard labels against soft targets.
pub fn run(lab: &mut Lab, spec: &ModelSpec, share: f64, command: &str) -> Result<(), String> {
    let epochs = lab.flags.epochs.unwrap_or(EPOCHS);
    let size = share_size(lab.splits.train.len(), share, lab.flags.batch_size);
    // Soft targets alone: the paper's "soft targets" row learns from nothing else.
    let soft = Weights {
        temperature: lab.flags.temperature.unwrap_or(MNIST_KD_TEMPERATURE),
        hard_weight: 0.0,
        soft_weight: 1.0,
    };
    let mut hard_runs = Vec::new();
    let mut soft_runs = Vec::new();
    for seed in 0..lab.flags.seeds(SEEDS) as u64 {
        let (_, few) = lab.splits.train.split_off(size, SHARE_SEED + seed);
        let splits = lab.with_train(few);
        for (weights, runs) in [(None, &mut hard_runs), (Some(soft), &mut soft_runs)] {
            let (mut model, outcome) = lab.student(spec, seed, Some(&splits), epochs, weights)?;
            let final_train = 100.0 * evaluate(&mut model, &splits.train, 1000, false).accuracy;
            let final_test = 100.0 * evaluate(&mut model, &splits.test, 1000, false).accuracy;
            runs.push(Run {
                stop_epoch: best_on_validation(&outcome.epochs),
                epochs: outcome.epochs,
                final_train,
                final_test,
            });
        }
    }
    let teacher_test = 100.0 * lab.teacher_outcome.result.test[0];
    let rows = [("hard labels", &hard_runs), ("soft targets", &soft_runs)];
    let of = |runs: &[Run], f: &dyn Fn(&Run) -> f64| {
        MeanStd::of(&runs.iter().map(f).collect::<Vec<_>>()).format(2)
    };
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|(name, runs)| {
            vec![
                name.to_string(),
                of(runs, &|r| r.final_train),
                of(runs, &|r| r.final_test),
                of(runs, &|r| r.stop_epoch as f64 + 1.0),
                of(runs, &|r| test_accuracy(&r.epochs[r.stop_epoch])),
            ]
        })
        .collect();
    let mut s = format!(
        "# Soft targets as a regulariser\n\n```\n{command}\n```\n\n\
         - {spec} trained on {size} images ({:.1} % of the {} training images of {}, a seeded \
         draw per seed), {epochs} epochs of Adam 10⁻³ in batches of {}, seeds 0 to {}; the same \
         initialisation for both targets.\n\
         - Soft targets: the teacher's ({}, trained on all {} training images, test accuracy \
         {teacher_test:.2} %) at T = {}, alone (hard weight 0).\n\
         - Early stopping: the epoch with the best accuracy on the {} validation images.\n\n",
        100.0 * size as f64 / lab.splits.train.len() as f64,
        lab.splits.train.len(),
        lab.splits.name,
        lab.flags.batch_size,
        lab.flags.seeds(SEEDS) - 1,
        lab.teacher_spec,
        lab.splits.train.len(),
        soft.temperature,
        lab.splits.validation.len()
    );
    s.push_str(&markdown_table(
        &[
            "targets",
            "train accuracy (%), last epoch",
            "test accuracy (%), last epoch",
            "epoch chosen on validation",
            "test accuracy (%) there",
        ],
        &table,
    ));
    s.push_str(
        "\nMean ± std over the seeds. regularise.svg draws accuracy per epoch (mean over the \
         seeds): training accuracy as the batches passed, test accuracy after each epoch.\n\n\
         ## Beside the paper\n\nHinton et al. (2015), table 5: speech recognition, frame \
         accuracy; the hard-target figure is early-stopped.\n\n",
    );
    let paper = [
        ("hard labels, 3 %", "67.3 %", "44.5 %"),
        ("soft targets, 3 %", "65.4 %", "57.0 %"),
        ("hard labels, all the data", "63.4 %", "58.9 %"),
    ];
    let paper: Vec<Vec<String>> = paper
        .iter()
        .map(|(a, b, c)| vec![a.to_string(), b.to_string(), c.to_string()])
        .collect();
    s.push_str(&markdown_table(&["the paper", "train", "test"], &paper));
    let _ = writeln!(
        s,
        "\nFor scale here: the teacher, trained on all the data, {teacher_test:.2} % on the test \
         set."
    );

    let mean_curve = |runs: &[Run], f: &dyn Fn(&EpochRecord) -> f64| -> Vec<f64> {
        let n = runs.iter().map(|r| r.epochs.len()).min().unwrap_or(0);
        (0..n)
            .map(|e| runs.iter().map(|r| f(&r.epochs[e])).sum::<f64>() / runs.len() as f64)
            .collect()
    };
    let train = |e: &EpochRecord| 100.0 * e.train_accuracy;
    let lines = vec![
        Line {
            name: "hard labels: train".into(),
            colour: 1,
            dashed: true,
            values: mean_curve(&hard_runs, &train),
        },
        Line {
            name: "hard labels: test".into(),
            colour: 1,
            dashed: false,
            values: mean_curve(&hard_runs, &test_accuracy),
        },
        Line {
            name: "soft targets: train".into(),
            colour: 2,
            dashed: true,
            values: mean_curve(&soft_runs, &train),
        },
        Line {
            name: "soft targets: test".into(),
            colour: 2,
            dashed: false,
            values: mean_curve(&soft_runs, &test_accuracy),
        },
    ];
    let low = lines
        .iter()
        .flat_map(|l| l.values.iter().copied())
        .filter(|v| v.is_finite())
        .fold(100.0, f64::min);
    let title = format!("{spec} on {size} training images: hard labels against soft targets");
    let out = &lab.flags.out;
    write_atomic(&out.join("regularise.md"), &s)?;
    write_atomic(
        &out.join("regularise.svg"),
        &accuracy_curves(&title, &lines, (low / 10.0).floor() * 10.0),
    )?;
    let runs_json = |runs: &[Run]| -> Vec<Value> {
        runs.iter()
            .enumerate()
            .map(|(seed, r)| {
                json!({
                    "seed": seed,
                    "stop_epoch": r.stop_epoch + 1,
                    "final_train_accuracy": r.final_train,
                    "final_test_accuracy": r.final_test,
                    "epochs": epochs_json(&r.epochs),
                })
            })
            .collect()
    };
    let json = json!({
        "command": command,
        "student": spec.to_string(),
        "share": share,
        "images": size,
        "epochs": epochs,
        "temperature": study::typed(soft.temperature),
        "teacher_test_accuracy": teacher_test,
        "hard": runs_json(&hard_runs),
        "soft": runs_json(&soft_runs),
    });
    write_atomic(
        &out.join("regularise.json"),
        &serde_json::to_string_pretty(&json).expect("JSON of plain values"),
    )?;
    println!(
        "{s}\nWritten to {}: regularise.md, regularise.svg, regularise.json.",
        out.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kd::{Evaluation, LossMeans};

    #[test]
    fn the_share_is_rounded_and_holds_at_least_one_batch() {
        assert_eq!(share_size(55_000, 0.03, 128), 1650);
        assert_eq!(share_size(1000, 0.01, 128), 128);
        assert_eq!(share_size(100, 0.5, 128), 100);
        assert_eq!(share_size(100, 1.0, 10), 100);
    }

    fn epoch(validation: f64, test: f64) -> EpochRecord {
        let e = |accuracy| Evaluation {
            loss: 0.0,
            accuracy,
            errors: 0,
            samples: 1,
        };
        EpochRecord {
            epoch: 0,
            lr: 0.0,
            train_loss: LossMeans::default(),
            train_accuracy: 0.0,
            eval: Some(e(test)),
            validation: Some(e(validation)),
            seconds: 0.0,
        }
    }

    #[test]
    fn early_stopping_takes_the_first_best_validation_epoch_whatever_the_test_set_says() {
        // The test set's best epoch is the last: it must play no part.
        let epochs: Vec<EpochRecord> = [(0.5, 0.5), (0.8, 0.6), (0.7, 0.7), (0.8, 0.8), (0.6, 0.9)]
            .map(|(v, t)| epoch(v, t))
            .to_vec();
        assert_eq!(best_on_validation(&epochs), 1);
    }
}
