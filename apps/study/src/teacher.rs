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
    /// The checkpoint: `teacher.safetensors` in the output folder.
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
}

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
        m.insert("train_samples".into(), splits.train.len().to_string());
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
        let mut model = build(self.spec, splits, 1)?;
        let reused = reuse(&self.path, identity, &model, required_by)?;
        let outcome = if reused {
            kd::FitOutcome::default()
        } else {
            let config = train_config(self.recipe, self.batch_size, 1);
            let label = format!("teacher {}", self.spec);
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
            checkpoint::save(&self.path, &model, identity).map_err(|e| e.to_string())?;
            outcome
        };
        let logits = predict_logits(&mut model, &splits.test, 1000);
        let calibration_error = if splits.one_logit {
            f64::NAN
        } else {
            expected_calibration_error(&logits.softmax(1.0), &splits.test.labels, 15)
        };
        let predictions = splits.predictions(&logits);
        let run = Trained {
            role: Role::Teacher,
            spec: self.spec,
            seed: 1,
            outcome,
            checkpoint: Some(self.path),
        };
        let result = score(run, &mut model, splits, metrics, None);
        let outcome = TeacherOutcome {
            predictions,
            result,
            reused,
            calibration_error,
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
