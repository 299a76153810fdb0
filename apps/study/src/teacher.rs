//! The teacher: trained, or reused when a saved one has the same identity, and scored like every
//! other run. Training the teacher is the longest phase of a study, and a second run with the same
//! teacher settings would only repeat it: the checkpoint's metadata records what identifies the
//! teacher (its description, recipe, data, normalisation…), and when every entry matches, the
//! saved weights are that teacher.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kd::metrics::expected_calibration_error;
use kd::{predict_logits, ModelSpec};
use nn::checkpoint;
use nn::{Module, Sequential};

use crate::data::Splits;
use crate::runs::{score, Metric, Role, RunResult, Trained};
use crate::settings::Recipe;
use crate::train::{build, train, train_config, EvalOn};

/// The teacher a study wants: what it is, how it trains, where it is saved.
pub struct TeacherPlan<'a> {
    pub spec: &'a ModelSpec,
    pub recipe: &'a Recipe,
    pub batch_size: usize,
    /// Draws its initial weights and its batches: 1 for the one teacher (or an ensemble's first
    /// member), k for an ensemble's k-th.
    pub seed: u64,
    /// The checkpoint: `teacher.safetensors` in the output folder (`Ensemble::member_path`).
    pub path: PathBuf,
}

/// The teacher, trained or reused, and scored.
pub struct TeacherOutcome {
    /// Its predicted class for each test sample (for the students' agreement).
    pub predictions: Vec<usize>,
    pub result: RunResult,
    pub reused: bool,
    /// Expected calibration error of its softmax on the test set (15 bins); NaN for one logit.
    pub calibration_error: f64,
    /// Which epoch's model the teacher is, when its recipe keeps the best on validation.
    pub kept: Option<KeptEpoch>,
    /// Its logits on the validation split, whose softmax at the study's temperature is the soft
    /// targets (what the explanations measure). One model's do not depend on the temperature; an
    /// ensemble's averaging probabilities do, and are taken at the study's (`ensemble.rs`).
    pub validation_logits: tensor::Tensor,
}

/// The epoch a teacher was kept from (its recipe's `patience`), beside the last one it trained:
/// the best on the validation split, which the test set had no say in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeptEpoch {
    /// 1-based, as reports count epochs.
    pub kept: usize,
    /// Epochs trained (fewer than planned when the patience ran out).
    pub run: usize,
    /// Validation accuracy (%) of the kept epoch and of the last.
    pub validation_kept: f64,
    pub validation_last: f64,
    /// Test accuracy (%) after the last epoch, for the record (the kept epoch's is the teacher's).
    pub test_last: f64,
}

impl KeptEpoch {
    /// From a training run that kept its best epoch; `None` otherwise.
    fn of(outcome: &kd::FitOutcome) -> Option<KeptEpoch> {
        let best = outcome.best_epoch?;
        let last = outcome.epochs.last()?;
        let accuracy = |e: Option<kd::Evaluation>| e.map_or(f64::NAN, |e| 100.0 * e.accuracy);
        Some(KeptEpoch {
            kept: best + 1,
            run: outcome.epochs.len(),
            validation_kept: accuracy(outcome.epochs[best].validation),
            validation_last: accuracy(last.validation),
            test_last: accuracy(last.eval),
        })
    }

    /// As the checkpoint's metadata keeps it ("kept run validation_kept validation_last test_last"),
    /// so that a reused teacher is reported as fully as a trained one.
    fn to_metadata(self) -> String {
        format!(
            "{} {} {} {} {}",
            self.kept, self.run, self.validation_kept, self.validation_last, self.test_last
        )
    }

    fn from_metadata(text: &str) -> Option<KeptEpoch> {
        let parts: Vec<&str> = text.split(' ').collect();
        let [kept, run, vk, vl, tl] = parts[..] else {
            return None;
        };
        Some(KeptEpoch {
            kept: kept.parse().ok()?,
            run: run.parse().ok()?,
            validation_kept: vk.parse().ok()?,
            validation_last: vl.parse().ok()?,
            test_last: tl.parse().ok()?,
        })
    }
}

/// The metadata key of [`KeptEpoch`] (not part of the identity: it is what training found).
const KEPT_EPOCH: &str = "kept_epoch";

/// What the metadata of a study's checkpoints says of the data they were trained on: the app's
/// entries (`app`), the output width, and the normalisation their inputs need.
pub fn data_identity(splits: &Splits, app: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut m = app.clone();
    m.insert("outputs".into(), splits.outputs().to_string());
    m.insert(
        "normalisation".into(),
        format!("{} {}", splits.mean, splits.std),
    );
    m
}

impl TeacherPlan<'_> {
    /// What identifies a trained teacher: if all of it matches a saved checkpoint, the checkpoint
    /// is that teacher and training it again would only repeat the same work.
    pub fn identity(
        &self,
        splits: &Splits,
        data: &BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        let r = self.recipe;
        let mut m = data.clone();
        m.insert("spec".into(), self.spec.to_string());
        m.insert("epochs".into(), r.epochs.to_string());
        let schedule = if r.cosine { "cosine" } else { "constant" };
        m.insert("lr".into(), format!("{} {schedule}", r.lr));
        m.insert("batch_size".into(), self.batch_size.to_string());
        m.insert("shift".into(), r.shift.to_string());
        m.insert("mixup".into(), format!("{:?}", r.mixup));
        m.insert("patience".into(), format!("{:?}", r.patience));
        m.insert("train_samples".into(), splits.train.len().to_string());
        // Seed 1's checkpoints were written before a teacher had any other seed, without this
        // entry: its seed is implied, so that they are still reused. Every other seed is named.
        if self.seed != 1 {
            m.insert("seed".into(), self.seed.to_string());
        }
        m
    }

    /// Trains the teacher, or reuses the saved one when its `identity` matches; returns the model
    /// and its scores. With
    /// `required_by = Some(app)` a missing or different teacher is an error naming the command
    /// that trains it.
    pub fn train_or_reuse(
        self,
        splits: &Splits,
        identity: &BTreeMap<String, String>,
        metrics: &[Metric],
        required_by: Option<&str>,
    ) -> Result<(Sequential, TeacherOutcome), String> {
        let mut model = build(self.spec, splits, self.seed)?;
        let reused = reuse(&self.path, identity, &model, required_by)?;
        let (outcome, kept) = if reused {
            let saved = checkpoint::read_metadata(&self.path).map_err(|e| e.to_string())?;
            let kept = saved
                .get(KEPT_EPOCH)
                .and_then(|t| KeptEpoch::from_metadata(t));
            (kd::FitOutcome::default(), kept)
        } else {
            let config = train_config(self.recipe, self.batch_size, self.seed);
            let label = format!("teacher {} seed {}", self.spec, self.seed);
            let outcome = train(
                &mut model,
                None,
                self.recipe,
                config,
                splits,
                EvalOn::Test,
                &label,
            );
            if let Some((epoch, batch)) = outcome.diverged {
                return Err(format!(
                    "the teacher's loss became non-finite at epoch {}, batch {batch}",
                    epoch + 1
                ));
            }
            let kept = KeptEpoch::of(&outcome);
            let mut metadata = identity.clone();
            if let Some(k) = kept {
                metadata.insert(KEPT_EPOCH.into(), k.to_metadata());
            }
            checkpoint::save(&self.path, &model, &metadata).map_err(|e| e.to_string())?;
            (outcome, kept)
        };
        let logits = predict_logits(&mut model, &splits.test, 1000);
        let calibration_error = if splits.one_logit {
            f64::NAN
        } else {
            expected_calibration_error(&logits.softmax(1.0), &splits.test.labels, 15)
        };
        let predictions = splits.predictions(&logits);
        let validation_logits = predict_logits(&mut model, &splits.validation, 1000);
        let run = Trained {
            role: Role::Teacher,
            spec: self.spec,
            seed: self.seed,
            outcome,
            checkpoint: Some(self.path),
        };
        let result = score(run, &mut model, splits, metrics, None);
        let outcome = TeacherOutcome {
            predictions,
            result,
            reused,
            calibration_error,
            kept,
            validation_logits,
        };
        Ok((model, outcome))
    }
}

/// Loads the teacher saved at `path` into `model` when the file's metadata holds every entry of
/// `identity`, and says so. `Ok(false)`: no such teacher, train one (a message says so when a
/// teacher of another configuration is there).
fn reuse(
    path: &Path,
    identity: &BTreeMap<String, String>,
    model: &dyn Module,
    required_by: Option<&str>,
) -> Result<bool, String> {
    let saved = path.exists().then(|| checkpoint::read_metadata(path));
    let matches = match &saved {
        Some(Ok(meta)) => identity.iter().all(|(k, v)| meta.get(k) == Some(v)),
        _ => false,
    };
    if matches {
        checkpoint::load(path, model).map_err(|e| e.to_string())?;
        eprintln!(
            "Reusing the teacher saved in {} (same configuration).",
            path.display()
        );
        return Ok(true);
    }
    if let Some(app) = required_by {
        return Err(format!(
            "no teacher for this configuration in {} (run `{app} teacher` first, with the same flags)",
            path.display()
        ));
    }
    if saved.is_some() {
        eprintln!(
            "The teacher saved in {} has another configuration: training a new one.",
            path.display()
        );
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_epoch_reads_back_from_its_metadata() {
        let k = KeptEpoch {
            kept: 9,
            run: 12,
            validation_kept: 93.12,
            validation_last: 92.875,
            test_last: 92.61,
        };
        assert_eq!(KeptEpoch::from_metadata(&k.to_metadata()), Some(k));
        assert_eq!(KeptEpoch::from_metadata("9 12 93.1"), None);
    }
}
