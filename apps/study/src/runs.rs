//! One trained model's results, and how a study scores a model: the app's metrics on the test set
//! and on the validation split, the confusion matrix, agreement with the teacher, size and speed.

use std::path::PathBuf;

use kd::metrics::{agreement, ConfusionMatrix};
use kd::{predict_logits, EpochRecord, FitOutcome, ModelSpec};
use nn::{Module, Sequential};

use crate::data::Splits;
use crate::diverged::Divergence;
use crate::measure::{speed, Speed};

/// A score of a model, from its confusion matrix on a set. The first metric of a study is the one
/// its verdict judges by.
#[derive(Clone, Copy, Debug)]
pub struct Metric {
    /// In reports: "accuracy", "macro-F1".
    pub name: &'static str,
    /// In results.json, after `test_` or `validation_`: "accuracy", "macro_f1".
    pub key: &'static str,
    /// A fraction in [0, 1].
    pub of: fn(&ConfusionMatrix) -> f64,
}

/// The share of samples classified right.
pub const ACCURACY: Metric = Metric {
    name: "accuracy",
    key: "accuracy",
    of: ConfusionMatrix::accuracy,
};

/// The mean over classes of each class's F1: a rare class counts as much as a common one.
pub const MACRO_F1: Metric = Metric {
    name: "macro-F1",
    key: "macro_f1",
    of: ConfusionMatrix::macro_f1,
};

/// Which model of the study a run trained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Teacher,
    /// The student on the labels alone.
    Alone,
    /// The same student, same initialisation, learning from the teacher.
    Distilled,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Teacher => "teacher",
            Role::Alone => "alone",
            Role::Distilled => "distilled",
        }
    }
}

/// One trained model's results.
pub struct RunResult {
    pub role: Role,
    pub spec: ModelSpec,
    pub seed: u64,
    pub parameters: usize,
    pub epochs: Vec<EpochRecord>,
    /// `Some` when the loss or the test outputs became non-finite: the run is shown and left out
    /// of the means and the verdict.
    pub diverged: Option<Divergence>,
    /// One score per metric of the study (fractions), on the test set.
    pub test: Vec<f64>,
    /// The same on the validation split.
    pub validation: Vec<f64>,
    /// Top-1 agreement with the teacher on the test set (1 for the teacher itself).
    pub agreement: f64,
    /// On the test set.
    pub confusion: ConfusionMatrix,
    pub checkpoint: Option<PathBuf>,
    pub checkpoint_bytes: u64,
    pub speed: Speed,
}

/// What a training run was, before it is scored.
pub struct Trained<'a> {
    pub role: Role,
    pub spec: &'a ModelSpec,
    pub seed: u64,
    pub outcome: FitOutcome,
    /// Where its weights were saved, if they were.
    pub checkpoint: Option<PathBuf>,
}

/// Scores a trained `model` by `metrics` and measures it: the common tail of every run.
/// `teacher_predictions` are the teacher's classes on the test set (`None` for the teacher).
pub fn score(
    run: Trained,
    model: &mut Sequential,
    splits: &Splits,
    metrics: &[Metric],
    teacher_predictions: Option<&[usize]>,
) -> RunResult {
    let confusion_on = |model: &mut Sequential, set| {
        let logits = predict_logits(model, set, 1000);
        let predictions = splits.predictions(&logits);
        let confusion =
            ConfusionMatrix::from_predictions(&predictions, &set.labels, splits.classes());
        (confusion, predictions, logits)
    };
    let (confusion, predictions, logits) = confusion_on(model, &splits.test);
    let (validation, _, _) = confusion_on(model, &splits.validation);
    let checkpoint_bytes = run
        .checkpoint
        .as_ref()
        .and_then(|p| std::fs::metadata(p).ok())
        .map_or(0, |m| m.len());
    RunResult {
        role: run.role,
        spec: run.spec.clone(),
        seed: run.seed,
        parameters: model.num_parameters(),
        diverged: Divergence::of(run.outcome.diverged, &logits),
        epochs: run.outcome.epochs,
        test: metrics.iter().map(|m| (m.of)(&confusion)).collect(),
        validation: metrics.iter().map(|m| (m.of)(&validation)).collect(),
        agreement: agreement(&predictions, teacher_predictions.unwrap_or(&predictions)),
        confusion,
        checkpoint: run.checkpoint,
        checkpoint_bytes,
        speed: speed(model, &splits.test),
    }
}

/// A model description as part of a file name: `mlp:32,32` → `mlp_32_32`.
pub fn file_safe(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Scores in words: `test macro-F1 86.41 %, test accuracy 86.60 %`.
pub fn scores_text(metrics: &[Metric], test: &[f64]) -> String {
    let words: Vec<String> = metrics
        .iter()
        .zip(test)
        .map(|(m, v)| format!("test {} {:.2} %", m.name, 100.0 * v))
        .collect();
    words.join(", ")
}
