//! The pipeline: a teacher (trained, or reused when its saved configuration matches), then for
//! each seed the student alone and the same student (same initialisation, same batches, same
//! mixup draws) distilled, each evaluated on the test set after every epoch.
//!
//! Both students and the teacher train with Adam and a cosine decay of the learning rate to a
//! twentieth: the last epoch, which is the one reported, is then a settled one rather than one
//! bounce of a constant-rate run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kd::metrics::ConfusionMatrix;
use kd::{
    predict_logits, predicted_classes, Distiller, EpochRecord, FitData, ModelSpec, Objective,
    ResponseLoss, SoftLoss, Teacher, TrainConfig,
};
use kd_app::{Bar, Divergence, Speed};
use nn::checkpoint;
use nn::data::Dataset;
use nn::optim::{Adam, CosineLr};
use nn::{Module, Sequential};
use tensor::Tensor;

use crate::config::Config;
use crate::data::{Splits, CLASSES, SAMPLE_SHAPE};

/// One trained model's results.
pub struct RunResult {
    /// `teacher`, `alone` or `distilled`.
    pub role: &'static str,
    pub spec: ModelSpec,
    pub seed: u64,
    pub parameters: usize,
    pub epochs: Vec<EpochRecord>,
    /// `Some` when the loss or the test outputs became non-finite: the run is shown and left out
    /// of the means and the verdict.
    pub diverged: Option<Divergence>,
    pub test: Scores,
    pub validation: Scores,
    /// Top-1 agreement with the teacher on the test set (1 for the teacher itself).
    pub agreement: f64,
    /// On the test set.
    pub confusion: ConfusionMatrix,
    pub checkpoint: Option<PathBuf>,
    pub checkpoint_bytes: u64,
    pub speed: Speed,
}

/// Accuracy and macro-F1 on one split (fractions in [0, 1]).
#[derive(Debug, Clone, Copy)]
pub struct Scores {
    pub accuracy: f64,
    pub macro_f1: f64,
}

pub struct TeacherOutcome {
    /// The trained teacher, until the students' phase takes it.
    pub model: Option<Sequential>,
    /// Its predicted class for each test signal (for the students' agreement).
    pub predictions: Vec<usize>,
    pub result: RunResult,
    pub reused: bool,
}

/// What identifies a trained teacher: if all of it matches a saved checkpoint, the checkpoint is
/// that teacher and training it again would only repeat the same work.
fn teacher_identity(config: &Config, splits: &Splits) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    m.insert("spec".into(), config.teacher.to_string());
    m.insert("epochs".into(), config.teacher_epochs.to_string());
    m.insert("lr".into(), format!("{} cosine", config.teacher_lr));
    m.insert("batch_size".into(), config.batch_size.to_string());
    m.insert("shift".into(), config.teacher_shift.to_string());
    m.insert("mixup".into(), format!("{:?}", config.teacher_mixup));
    m.insert("train_samples".into(), splits.train.len().to_string());
    m.insert("data".into(), "mnist1d".into());
    m.insert(
        "normalisation".into(),
        format!("{} {}", splits.mean, splits.std),
    );
    m
}

pub fn teacher_path(out: &Path) -> PathBuf {
    out.join("teacher.safetensors")
}

fn train(
    model: &mut Sequential,
    teacher: Option<&mut Teacher>,
    objective: Objective,
    config: TrainConfig,
    lr: f32,
    splits: &Splits,
    label: &str,
) -> kd::FitOutcome {
    let steps = config.epochs * (splits.train.len() / config.batch.batch_size);
    let bar = Bar::new(label, steps);
    let optimizer = Box::new(Adam::new(model.parameter_vars(), lr));
    let schedule = CosineLr::new(lr, lr / 20.0, config.epochs);
    let outcome = Distiller {
        student: model,
        teacher,
        objective,
        hint: None,
        optimizer,
        schedule: Some(Box::new(schedule)),
        config,
    }
    .fit(
        FitData {
            train: &splits.train,
            validation: Some(&splits.validation),
            report: Some(&splits.test),
        },
        &mut |e| bar.on_event(e),
    );
    bar.finish(match outcome.diverged {
        Some(_) => "diverged (non-finite loss)",
        None => "done",
    });
    outcome
}

/// Trains the teacher, or reuses the saved one when its identity matches.
pub fn teacher(
    config: &Config,
    splits: &Splits,
    require_saved: bool,
) -> Result<TeacherOutcome, String> {
    let identity = teacher_identity(config, splits);
    let path = teacher_path(&config.out);
    let mut model = config
        .teacher
        .build(&SAMPLE_SHAPE, CLASSES, 1)
        .map_err(|e| e.to_string())?;
    let reused = kd_app::reuse_teacher(
        &path,
        &identity,
        &model,
        require_saved.then_some("signal_kd"),
    )?;
    let (epochs, reused) = if reused {
        (Vec::new(), true)
    } else {
        let mut train_config = TrainConfig::new(config.teacher_epochs, config.batch_size, 1);
        train_config.batch.shift = config.teacher_shift;
        train_config.mixup_alpha = config.teacher_mixup;
        let outcome = train(
            &mut model,
            None,
            Objective::Hard {
                label_smoothing: 0.0,
            },
            train_config,
            config.teacher_lr,
            splits,
            &format!("teacher {}", config.teacher),
        );
        if let Some((epoch, batch)) = outcome.diverged {
            return Err(format!(
                "the teacher's loss became non-finite at epoch {}, batch {batch}",
                epoch + 1
            ));
        }
        checkpoint::save(&path, &model, &identity).map_err(|e| e.to_string())?;
        (outcome.epochs, false)
    };
    let predictions = predicted_classes(&predict_logits(&mut model, &splits.test, 1000), false);
    let result = finish_run(
        splits,
        "teacher",
        config.teacher.clone(),
        1,
        &mut model,
        epochs,
        None,
        &predictions,
        Some(path),
    );
    Ok(TeacherOutcome {
        model: Some(model),
        predictions,
        result,
        reused,
    })
}

/// Scores on `data`, its confusion matrix, the predicted classes, and whether every output was
/// finite.
fn scores(model: &mut Sequential, data: &Dataset) -> (Scores, ConfusionMatrix, Vec<usize>, Tensor) {
    let logits = predict_logits(model, data, 1000);
    let predictions = predicted_classes(&logits, false);
    let confusion = ConfusionMatrix::from_predictions(&predictions, &data.labels, CLASSES);
    let s = Scores {
        accuracy: confusion.accuracy(),
        macro_f1: confusion.macro_f1(),
    };
    (s, confusion, predictions, logits)
}

/// Evaluates a trained model and measures it: the common tail of every run.
#[allow(clippy::too_many_arguments)]
fn finish_run(
    splits: &Splits,
    role: &'static str,
    spec: ModelSpec,
    seed: u64,
    model: &mut Sequential,
    epochs: Vec<EpochRecord>,
    fit_diverged: Option<(usize, usize)>,
    teacher_predictions: &[usize],
    checkpoint: Option<PathBuf>,
) -> RunResult {
    let (test, confusion, predictions, logits) = scores(model, &splits.test);
    let (validation, _, _, _) = scores(model, &splits.validation);
    let diverged = Divergence::of(fit_diverged, &logits);
    let checkpoint_bytes = checkpoint
        .as_ref()
        .and_then(|p| std::fs::metadata(p).ok())
        .map_or(0, |m| m.len());
    RunResult {
        role,
        parameters: model.num_parameters(),
        spec,
        seed,
        epochs,
        diverged,
        test,
        validation,
        agreement: kd::metrics::agreement(&predictions, teacher_predictions),
        confusion,
        checkpoint,
        checkpoint_bytes,
        speed: kd_app::speed(model, &splits.test),
    }
}

/// The distillation loss of the flags: KL at temperature T, plus the MAE between the soft labels
/// when its weight is not 0.
pub fn response_loss(config: &Config) -> ResponseLoss {
    let loss = ResponseLoss::new(config.hard_weight, config.soft_weight, config.temperature);
    if config.mae_weight > 0.0 {
        loss.with_soft_loss(SoftLoss::KlL1 {
            l1_weight: config.mae_weight,
        })
    } else {
        loss
    }
}

/// Trains the student alone and distilled for one seed; returns (alone, distilled).
pub fn student_pair(
    config: &Config,
    splits: &Splits,
    seed: u64,
    teacher: &mut Teacher,
    teacher_predictions: &[usize],
) -> Result<(RunResult, RunResult), String> {
    let spec = &config.student;
    let mut results = Vec::new();
    for role in ["alone", "distilled"] {
        // Built from the same seed: the same initial weights for both.
        let mut student = spec
            .build(&SAMPLE_SHAPE, CLASSES, 1000 + seed)
            .map_err(|e| e.to_string())?;
        let distilled = role == "distilled";
        let objective = if distilled {
            Objective::Response(response_loss(config))
        } else {
            Objective::Hard {
                label_smoothing: 0.0,
            }
        };
        let mut train_config = TrainConfig::new(config.epochs, config.batch_size, seed);
        train_config.mixup_alpha = config.mixup;
        let outcome = train(
            &mut student,
            distilled.then_some(&mut *teacher),
            objective,
            train_config,
            config.lr,
            splits,
            &format!("{spec} {role} seed {seed}"),
        );
        let path = (seed == 0).then(|| config.out.join(format!("student-{role}.safetensors")));
        if let Some(p) = &path {
            let mut meta = BTreeMap::new();
            meta.insert("spec".to_string(), spec.to_string());
            meta.insert("role".to_string(), role.to_string());
            meta.insert("data".into(), "mnist1d".into());
            meta.insert(
                "normalisation".into(),
                format!("{} {}", splits.mean, splits.std),
            );
            checkpoint::save(p, &student, &meta).map_err(|e| e.to_string())?;
        }
        results.push(finish_run(
            splits,
            role,
            spec.clone(),
            seed,
            &mut student,
            outcome.epochs,
            outcome.diverged,
            teacher_predictions,
            path,
        ));
    }
    let distilled = results.pop().expect("two runs");
    let alone = results.pop().expect("two runs");
    Ok((alone, distilled))
}
