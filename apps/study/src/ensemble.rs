//! A teacher of several models (`--teachers N`): N models of the same description and recipe,
//! member k trained from seed k, their outputs combined (`--ensemble`). Hinton et al. (2015)
//! distil such an ensemble into one model: the ensemble is more accurate than any of its members,
//! and too slow to deploy; the student learns its averaged soft targets.
//!
//! Member 1 is the one teacher a study has without an ensemble: the same seed and the same file
//! (`teacher.safetensors`), so a saved teacher becomes the ensemble's first member. Member k is
//! saved as `teacher-k.safetensors`, and reused by its identity as the first is.
//!
//! The ensemble is scored as one model: its prediction is the argmax of its combined output (the
//! averaged probabilities, or the averaged logits), and it is the teacher the students learn from,
//! agree with, and the explanations read. Each member is scored on its own as well, beside it.

use kd::metrics::{agreement, expected_calibration_error, ConfusionMatrix};
use kd::{Combine, Teacher};
use nn::{Module, Sequential};

use crate::data::Splits;
use crate::measure::Speed;
use crate::runs::{Metric, Role, RunResult};
use crate::teacher::TeacherOutcome;

/// The teachers of a study, scored.
pub struct Teachers {
    /// Each member's outcome, member 1 first. For an ensemble, each member's agreement is with the
    /// ensemble's predictions.
    pub members: Vec<TeacherOutcome>,
    /// The ensemble's, scored as one model; `None` with one teacher, which is its own.
    pub ensemble: Option<TeacherOutcome>,
    pub combine: Combine,
}

impl Teachers {
    /// The teacher the students learn from: the ensemble, or the one teacher.
    pub fn taught_by(&self) -> &TeacherOutcome {
        self.ensemble.as_ref().unwrap_or(&self.members[0])
    }
}

/// The teacher the students learn from, made of its `trained` members (at least one), and its
/// scores. An ensemble's `validation_logits` are its logits at `temperature` (the soft targets'),
/// which for averaged probabilities differ from one temperature to another.
pub fn assemble(
    trained: Vec<(Sequential, TeacherOutcome)>,
    combine: Combine,
    splits: &Splits,
    metrics: &[Metric],
    temperature: f32,
) -> (Teacher, Teachers) {
    let (models, mut members): (Vec<Sequential>, Vec<TeacherOutcome>) = trained.into_iter().unzip();
    if models.len() == 1 {
        let model = models.into_iter().next().expect("one member");
        let teachers = Teachers {
            members,
            ensemble: None,
            combine,
        };
        return (Teacher::single(Box::new(model)), teachers);
    }
    let boxed = models
        .into_iter()
        .map(|m| Box::new(m) as Box<dyn Module>)
        .collect();
    let mut teacher = Teacher::ensemble(boxed, combine);
    let ensemble = score_ensemble(&mut teacher, &members, splits, metrics, temperature);
    for m in &mut members {
        m.result.agreement = agreement(&m.predictions, &ensemble.predictions);
    }
    let teachers = Teachers {
        members,
        ensemble: Some(ensemble),
        combine,
    };
    (teacher, teachers)
}

/// The ensemble `teacher` of `members`, scored as one model. Its output at temperature 1 is what
/// it predicts: the logits whose softmax is the averaged probabilities, or the averaged logits
/// (see `kd::Teacher`).
fn score_ensemble(
    teacher: &mut Teacher,
    members: &[TeacherOutcome],
    splits: &Splits,
    metrics: &[Metric],
    temperature: f32,
) -> TeacherOutcome {
    let confusion_on = |logits: &tensor::Tensor, labels: &[usize]| {
        let predictions = splits.predictions(logits);
        let confusion = ConfusionMatrix::from_predictions(&predictions, labels, splits.classes());
        (confusion, predictions)
    };
    let test_logits = teacher.logits_for(&splits.test, 1000, 1.0);
    let (confusion, predictions) = confusion_on(&test_logits, &splits.test.labels);
    let validation_at_1 = teacher.logits_for(&splits.validation, 1000, 1.0);
    let (validation, _) = confusion_on(&validation_at_1, &splits.validation.labels);
    let calibration_error = if splits.one_logit {
        f64::NAN
    } else {
        expected_calibration_error(&test_logits.softmax(1.0), &splits.test.labels, 15)
    };
    let first = &members[0].result;
    let result = RunResult {
        role: Role::Teacher,
        spec: first.spec.clone(),
        seed: first.seed,
        parameters: members.iter().map(|m| m.result.parameters).sum(),
        epochs: Vec::new(),
        diverged: None,
        test: metrics.iter().map(|m| (m.of)(&confusion)).collect(),
        validation: metrics.iter().map(|m| (m.of)(&validation)).collect(),
        agreement: 1.0,
        confusion,
        checkpoint: None,
        checkpoint_bytes: members.iter().map(|m| m.result.checkpoint_bytes).sum(),
        speed: one_after_another(members.iter().map(|m| m.result.speed)),
    };
    TeacherOutcome {
        predictions,
        result,
        reused: members.iter().all(|m| m.reused),
        calibration_error,
        kept: None,
        validation_logits: teacher.logits_for(&splits.validation, 1000, temperature),
    }
}

/// The speed of models run one after another on the same inputs, from each one's: their times
/// per sample add up.
fn one_after_another(speeds: impl Iterator<Item = Speed>) -> Speed {
    let (seconds_per_sample, latency_us) = speeds.fold((0.0, 0.0), |(s, l), speed| {
        (s + 1.0 / speed.throughput, l + speed.latency_us)
    });
    Speed {
        throughput: 1.0 / seconds_per_sample,
        latency_us,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::path::Path;

    use kd::ModelSpec;

    use crate::ensemble_plan::Ensemble;
    use crate::runs::ACCURACY;
    use crate::settings::Recipe;
    use crate::teacher::TeacherPlan;
    use kd::predict_logits;
    use nn::data::Dataset;
    use rand::{RngExt, SeedableRng};

    /// A small task of 3 classes in 6 features, the class the largest of the first three, so
    /// that one epoch teaches something and the members differ only by their seeds.
    fn toy_splits() -> Splits {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut set = |n: usize| {
            let inputs: Vec<f32> = (0..n * 6).map(|_| rng.random_range(-1.0..1.0)).collect();
            let labels = inputs
                .chunks(6)
                .map(|x| (0..3).max_by(|&a, &b| x[a].total_cmp(&x[b])).unwrap())
                .collect();
            Dataset::new(inputs, vec![6], labels, 3)
        };
        let (train, test) = (set(300), set(200));
        Splits::new("toy".into(), "points", train, test, 100).unwrap()
    }

    /// `n` members trained from seeds 1 to `n`, saved in `dir`, as the driver trains them.
    fn members(splits: &Splits, n: usize, dir: &Path) -> Vec<(Sequential, TeacherOutcome)> {
        let spec: ModelSpec = "mlp:16".parse().unwrap();
        let recipe = Recipe::adam(1, 1e-2);
        let ensemble = Ensemble {
            members: n,
            combine: Combine::Probabilities,
        };
        ensemble
            .seeds()
            .map(|seed| {
                let plan = TeacherPlan {
                    spec: &spec,
                    recipe: &recipe,
                    batch_size: 20,
                    seed,
                    path: Ensemble::member_path(dir, seed),
                };
                let identity = plan.identity(splits, &BTreeMap::new());
                plan.train_or_reuse(splits, &identity, &[ACCURACY], None)
                    .unwrap()
            })
            .collect()
    }

    /// Each row's class of the largest value.
    fn argmax_rows(values: &[f64], classes: usize) -> Vec<usize> {
        values
            .chunks(classes)
            .map(|row| {
                (0..classes)
                    .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                    .unwrap()
            })
            .collect()
    }

    /// The members' softmax at `t`, averaged, in f64: an ensemble's soft targets, by hand.
    fn averaged_probabilities(member_logits: &[tensor::Tensor], t: f64) -> Vec<f64> {
        let classes = member_logits[0].shape()[1];
        let mut mean = vec![0.0; member_logits[0].data().len()];
        for logits in member_logits {
            for (row, out) in logits.data().chunks(classes).zip(mean.chunks_mut(classes)) {
                let top = row.iter().fold(f32::MIN, |m, &z| m.max(z)) as f64;
                let e: Vec<f64> = row.iter().map(|&z| ((z as f64 - top) / t).exp()).collect();
                let sum: f64 = e.iter().sum();
                for (o, e) in out.iter_mut().zip(&e) {
                    *o += e / sum / member_logits.len() as f64;
                }
            }
        }
        mean
    }

    /// Members from different seeds have different weights; the ensemble predicts the argmax of
    /// its members' averaged probabilities (computed here by hand in f64), is scored on those
    /// predictions, and its validation logits at the study's temperature give the averaged soft
    /// targets at that temperature; each member's agreement is with the ensemble.
    #[test]
    fn an_ensemble_predicts_the_argmax_of_its_averaged_probabilities() {
        let splits = toy_splits();
        let dir = tempfile::tempdir().unwrap();
        let mut trained = members(&splits, 3, dir.path());
        let test_logits: Vec<_> = trained
            .iter_mut()
            .map(|(m, _)| predict_logits(m, &splits.test, 1000))
            .collect();
        let validation_logits: Vec<_> = trained
            .iter_mut()
            .map(|(m, _)| predict_logits(m, &splits.validation, 1000))
            .collect();
        assert_ne!(
            test_logits[0].data(),
            test_logits[1].data(),
            "seeds 1 and 2 trained the same weights"
        );
        let member_predictions: Vec<Vec<usize>> =
            trained.iter().map(|(_, o)| o.predictions.clone()).collect();

        let (_, teachers) = assemble(trained, Combine::Probabilities, &splits, &[ACCURACY], 4.0);
        let ensemble = teachers.ensemble.as_ref().expect("three members");
        let by_hand = argmax_rows(&averaged_probabilities(&test_logits, 1.0), 3);
        assert_eq!(ensemble.predictions, by_hand);
        // The averaged probabilities are not any one member's: the test would see a member
        // passed off as the ensemble.
        assert!(member_predictions.iter().all(|p| *p != by_hand));
        let right = by_hand
            .iter()
            .zip(&splits.test.labels)
            .filter(|(p, l)| p == l)
            .count();
        assert_eq!(ensemble.result.test[0], right as f64 / 200.0);
        assert_eq!(
            ensemble.result.parameters,
            3 * teachers.members[0].result.parameters
        );
        for (member, predictions) in teachers.members.iter().zip(&member_predictions) {
            assert_eq!(member.result.agreement, agreement(predictions, &by_hand));
        }
        // The soft targets at T = 4: the softmax of the recorded logits at 4 is the average of
        // the members' softmax at 4 (to f32 rounding of the log and the softmax).
        let soft = ensemble.validation_logits.softmax(4.0);
        let expected = averaged_probabilities(&validation_logits, 4.0);
        for (got, want) in soft.data().iter().zip(&expected) {
            assert!((*got as f64 - want).abs() < 1e-5, "{got} against {want}");
        }
    }

    /// Averaged logits: the ensemble predicts the argmax of the members' mean logits.
    #[test]
    fn an_ensemble_of_logits_predicts_the_argmax_of_their_mean() {
        let splits = toy_splits();
        let dir = tempfile::tempdir().unwrap();
        let mut trained = members(&splits, 2, dir.path());
        let mut mean = vec![0.0f64; 200 * 3];
        for (m, _) in &mut trained {
            for (o, z) in mean
                .iter_mut()
                .zip(predict_logits(m, &splits.test, 1000).data())
            {
                *o += *z as f64 / 2.0;
            }
        }
        let (_, teachers) = assemble(trained, Combine::Logits, &splits, &[ACCURACY], 4.0);
        let ensemble = teachers.ensemble.as_ref().expect("two members");
        assert_eq!(ensemble.predictions, argmax_rows(&mean, 3));
    }

    /// One member is the teacher itself: no ensemble is scored, and it agrees with itself.
    #[test]
    fn one_member_is_its_own_teacher() {
        let splits = toy_splits();
        let dir = tempfile::tempdir().unwrap();
        let trained = members(&splits, 1, dir.path());
        let predictions = trained[0].1.predictions.clone();
        let (teacher, teachers) =
            assemble(trained, Combine::Probabilities, &splits, &[ACCURACY], 4.0);
        assert!(teachers.ensemble.is_none());
        assert_eq!(teacher.len(), 1);
        assert_eq!(teachers.taught_by().predictions, predictions);
        assert_eq!(teachers.taught_by().result.agreement, 1.0);
    }

    /// Times per sample add: two models that each classify `r` samples per second together
    /// classify `r/2`.
    #[test]
    fn models_run_one_after_another_add_their_times() {
        let s = |throughput, latency_us| Speed {
            throughput,
            latency_us,
        };
        let both = one_after_another([s(1000.0, 3.0), s(1000.0, 5.0)].into_iter());
        assert!((both.throughput - 500.0).abs() < 1e-9, "{both:?}");
        assert_eq!(both.latency_us, 8.0);
    }
}
