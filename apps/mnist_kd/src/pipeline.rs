//! The pipeline: a teacher (trained, or reused when its saved configuration matches), then for
//! each student and each seed the student alone and the same student (same initialisation)
//! distilled, each evaluated on the test set after every epoch.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kd::metrics::{expected_calibration_error, ConfusionMatrix};
use kd::{
    evaluate, parameters_to_train, predict_logits, predicted_classes, BinaryLoss, Distiller,
    EpochRecord, FitData, FitOutcome, Hint, HintAdapter, ModelSpec, Objective, ResponseLoss,
    Teacher, TrainConfig,
};
use nn::checkpoint;
use nn::optim::{Adam, CosineLr, Optimizer, Sgd};
use nn::{Module, Sequential};
use rand::rngs::StdRng;
use rand::SeedableRng;

use kd_app::{Bar, Divergence, Speed};

use crate::config::{Config, KdMethod, OptimizerKind};
use crate::data::{outputs, Splits, SAMPLE_SHAPE};

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
    pub test_accuracy: f64,
    pub test_errors: usize,
    pub validation_accuracy: f64,
    /// Top-1 agreement with the teacher on the test set (1 for the teacher itself).
    pub agreement: f64,
    pub confusion: ConfusionMatrix,
    pub checkpoint: Option<PathBuf>,
    pub checkpoint_bytes: u64,
    pub speed: Speed,
}

pub struct TeacherOutcome {
    /// The trained teacher, until the students' phase takes it.
    pub model: Option<Sequential>,
    /// Its predicted class for each test image (for the students' agreement).
    pub predictions: Vec<usize>,
    pub result: RunResult,
    pub reused: bool,
    pub calibration_error: f64,
}

fn objective_hard(config: &Config) -> Objective {
    if config.binary.is_some() {
        Objective::BinaryHard
    } else {
        Objective::Hard {
            label_smoothing: 0.0,
        }
    }
}

fn optimizer(kind: OptimizerKind, params: Vec<autograd::Var>, lr: f32) -> Box<dyn Optimizer> {
    match kind {
        OptimizerKind::Adam => Box::new(Adam::new(params, lr)),
        OptimizerKind::Sgd => Box::new(Sgd::new(params, lr).momentum(0.9)),
    }
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
    m.insert("train_samples".into(), splits.train.len().to_string());
    m.insert("task".into(), format!("{:?}", config.binary));
    m.insert("outputs".into(), outputs(config).to_string());
    m.insert(
        "normalisation".into(),
        format!("{} {}", splits.mean, splits.std),
    );
    m
}

pub fn teacher_path(out: &Path) -> PathBuf {
    out.join("teacher.safetensors")
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
        .build(&SAMPLE_SHAPE, outputs(config), 1)
        .map_err(|e| e.to_string())?;
    let reused = kd_app::reuse_teacher(
        &path,
        &identity,
        &model,
        require_saved.then_some("mnist_kd"),
    )?;
    let (epochs, reused) = if reused {
        (Vec::new(), true)
    } else {
        let mut train_config = TrainConfig::new(config.teacher_epochs, config.batch_size, 1);
        train_config.batch.shift = config.teacher_shift;
        let steps = config.teacher_epochs * (splits.train.len() / config.batch_size);
        let bar = Bar::new(&format!("teacher {}", config.teacher), steps);
        let optimizer = optimizer(
            OptimizerKind::Adam,
            model.parameter_vars(),
            config.teacher_lr,
        );
        // A cosine decay to a twentieth of the rate: the last epochs settle instead of bouncing.
        let lr = config.teacher_lr;
        let schedule = CosineLr::new(lr, lr / 20.0, config.teacher_epochs);
        let outcome = Distiller {
            student: &mut model,
            teacher: None,
            objective: objective_hard(config),
            hint: None,
            optimizer,
            schedule: Some(Box::new(schedule)),
            config: train_config,
        }
        .fit(
            FitData {
                train: &splits.train,
                validation: Some(&splits.validation),
                report: Some(&splits.test),
            },
            &mut |e| bar.on_event(e),
        );
        if let Some((epoch, batch)) = outcome.diverged {
            return Err(format!(
                "the teacher's loss became non-finite at epoch {}, batch {batch}",
                epoch + 1
            ));
        }
        bar.finish("done");
        checkpoint::save(&path, &model, &identity).map_err(|e| e.to_string())?;
        (outcome.epochs, false)
    };
    let logits = predict_logits(&mut model, &splits.test, 1000);
    let calibration_error = if config.binary.is_none() {
        expected_calibration_error(&logits.softmax(1.0), &splits.test.labels, 15)
    } else {
        f64::NAN
    };
    let predictions = predicted_classes(&logits, config.binary.is_some());
    let result = finish_run(
        config,
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
        calibration_error,
    })
}

/// Evaluates a trained model and measures it: the common tail of every run.
#[allow(clippy::too_many_arguments)]
fn finish_run(
    config: &Config,
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
    let binary = config.binary.is_some();
    let logits = predict_logits(model, &splits.test, 1000);
    let diverged = Divergence::of(fit_diverged, &logits);
    let predictions = predicted_classes(&logits, binary);
    let classes = if binary { 2 } else { 10 };
    let confusion = ConfusionMatrix::from_predictions(&predictions, &splits.test.labels, classes);
    let validation = evaluate(model, &splits.validation, 1000, binary);
    let agreement = kd::metrics::agreement(&predictions, teacher_predictions);
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
        test_accuracy: confusion.accuracy(),
        test_errors: confusion.errors() as usize,
        validation_accuracy: validation.accuracy,
        agreement,
        confusion,
        checkpoint,
        checkpoint_bytes,
        speed: kd_app::speed(model, &splits.test),
    }
}

/// Trains `spec` alone and distilled for one seed; returns (alone, distilled).
pub fn student_pair(
    config: &Config,
    splits: &Splits,
    spec: &ModelSpec,
    seed: u64,
    teacher: &mut Teacher,
    teacher_spec: &ModelSpec,
    teacher_predictions: &[usize],
) -> Result<(RunResult, RunResult), String> {
    let mut results = Vec::new();
    for role in ["alone", "distilled"] {
        let distilled = role == "distilled";
        let (mut student, outcome) = train_student(
            config,
            splits,
            spec,
            seed,
            distilled.then_some(&mut *teacher),
            teacher_spec,
            EvalOn::Test,
            &format!("{spec} {role} seed {seed}"),
        )?;
        let path = (seed == 0).then(|| {
            config.out.join(format!(
                "student-{}-{role}.safetensors",
                file_safe(&spec.to_string())
            ))
        });
        if let Some(p) = &path {
            let mut meta = BTreeMap::new();
            meta.insert("spec".to_string(), spec.to_string());
            meta.insert("role".to_string(), role.to_string());
            meta.insert("task".to_string(), format!("{:?}", config.binary));
            meta.insert("outputs".to_string(), outputs(config).to_string());
            meta.insert(
                "normalisation".into(),
                format!("{} {}", splits.mean, splits.std),
            );
            checkpoint::save(p, &student, &meta).map_err(|e| e.to_string())?;
        }
        results.push(finish_run(
            config,
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

/// Which set a run is scored on after every epoch.
#[derive(Clone, Copy)]
pub enum EvalOn {
    /// The test set: what reports show.
    Test,
    /// The validation split: what the sweep chooses by.
    Validation,
}

/// Trains one student from the initialisation that `seed` gives: alone on the labels when
/// `teacher` is `None`, otherwise distilled with `config`'s method, temperature and weights.
/// `eval` is the set scored after every epoch. A run whose loss became non-finite is returned as it is, `diverged` set.
#[allow(clippy::too_many_arguments)]
pub fn train_student(
    config: &Config,
    splits: &Splits,
    spec: &ModelSpec,
    seed: u64,
    teacher: Option<&mut Teacher>,
    teacher_spec: &ModelSpec,
    eval: EvalOn,
    label: &str,
) -> Result<(Sequential, FitOutcome), String> {
    // Built from the same seed: the same initial weights alone and distilled.
    let mut student = spec
        .build(&SAMPLE_SHAPE, outputs(config), 1000 + seed)
        .map_err(|e| e.to_string())?;
    let distilled = teacher.is_some();
    let response = distilled && config.kd_method != KdMethod::Feature;
    let objective = match (response, config.binary.is_some()) {
        (false, _) => objective_hard(config),
        (true, false) => Objective::Response(ResponseLoss::new(
            config.hard_weight,
            config.soft_weight,
            config.temperature,
        )),
        (true, true) => Objective::Binary(BinaryLoss::new(
            config.hard_weight,
            config.soft_weight,
            config.temperature,
        )),
    };
    let hint = if distilled && config.kd_method != KdMethod::Response {
        Some(hint_for(spec, teacher_spec, seed, config.hint_weight)?)
    } else {
        None
    };
    let params = parameters_to_train(&student, hint.as_ref());
    let steps = config.epochs * (splits.train.len() / config.batch_size);
    let (eval_set, eval_name) = match eval {
        EvalOn::Test => (&splits.test, "test"),
        EvalOn::Validation => (&splits.validation, "validation"),
    };
    let bar = Bar::new(label, steps).evaluating(eval_name);
    let outcome = Distiller {
        student: &mut student,
        teacher,
        objective,
        hint,
        optimizer: optimizer(config.optimizer, params, config.lr),
        schedule: None,
        config: TrainConfig::new(config.epochs, config.batch_size, seed),
    }
    .fit(
        FitData {
            train: &splits.train,
            validation: Some(&splits.validation),
            report: Some(eval_set),
        },
        &mut |e| bar.on_event(e),
    );
    bar.finish(match outcome.diverged {
        Some(_) => "diverged (non-finite loss)",
        None => "done",
    });
    Ok((student, outcome))
}

/// A hint from the student's last hidden layer to the teacher's, through a dense adapter.
fn hint_for(
    student: &ModelSpec,
    teacher: &ModelSpec,
    seed: u64,
    weight: f32,
) -> Result<Hint, String> {
    let (Some(s_layer), Some(t_layer)) = (student.feature_layer(), teacher.feature_layer()) else {
        return Err(
            "feature distillation needs hidden layers in both the student and the teacher".into(),
        );
    };
    let width = |spec: &ModelSpec| -> Result<usize, String> {
        match spec.kind {
            kd::spec::Kind::Mlp => Ok(*spec.widths.last().expect("has hidden layers")),
            _ if spec.fc > 0 => Ok(spec.fc),
            _ => Err(format!(
                "feature distillation from {spec} needs fc=N (a dense hidden layer)"
            )),
        }
    };
    Ok(Hint {
        student_layer: s_layer,
        teacher_layer: t_layer,
        adapter: HintAdapter::dense(
            width(student)?,
            width(teacher)?,
            &mut StdRng::seed_from_u64(seed),
        ),
        weight,
    })
}

fn file_safe(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// The evaluate subcommand: rebuilds the model from the checkpoint's description and tests it.
pub fn evaluate_checkpoint(
    path: &Path,
    config: &Config,
    splits: &Splits,
) -> Result<String, String> {
    let meta = checkpoint::read_metadata(path).map_err(|e| e.to_string())?;
    let binary = config.binary.is_some();
    let wanted = outputs(config).to_string();
    if meta.get("outputs") != Some(&wanted) {
        return Err(format!(
            "{}: written for a model with {} output(s), this task needs {wanted} (a binary task needs --task binary:A,B)",
            path.display(),
            meta.get("outputs").map_or("an unknown number of", |s| s.as_str())
        ));
    }
    let spec: ModelSpec = meta
        .get("spec")
        .ok_or_else(|| {
            format!(
                "{}: no model description (\"spec\") in its metadata: not written by mnist_kd",
                path.display()
            )
        })?
        .parse()
        .map_err(|e: kd::SpecError| e.to_string())?;
    let mut model = spec
        .build(&SAMPLE_SHAPE, outputs(config), 0)
        .map_err(|e| e.to_string())?;
    checkpoint::load(path, &model).map_err(|e| e.to_string())?;
    let eval = evaluate(&mut model, &splits.test, 1000, binary);
    Ok(format!(
        "{}: {spec}, {} parameters: test accuracy {:.2} % ({} errors of {})",
        path.display(),
        model.num_parameters(),
        100.0 * eval.accuracy,
        eval.errors,
        eval.samples
    ))
}
