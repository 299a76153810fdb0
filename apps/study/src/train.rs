//! Training one model: the teacher, a student alone, or a student distilled — one function for all
//! three, so that they differ only in what they are given (the loss, a teacher or none, a recipe).

use kd::spec::Kind;
use kd::{
    parameters_to_train, Distiller, FitData, FitOutcome, Hint, HintAdapter, ModelSpec, Objective,
    Teacher, TrainConfig,
};
use nn::optim::{Adam, CosineLr, Optimizer, Sgd};
use nn::Sequential;
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::data::Splits;
use crate::progress::Bar;
use crate::settings::{OptimizerKind, Recipe};

/// How a distilled student learns from its teacher: the loss, and a FitNets hint when the method
/// pulls a hidden layer too. An app chooses it (`Study::distilled`).
pub struct KdLoss {
    pub objective: Objective,
    pub hint: Option<Hint>,
}

/// Which set a run is scored on after every epoch (its curves, its progress bar).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvalOn {
    /// The test set: what reports show.
    Test,
    /// The validation split: what the sweep chooses by.
    Validation,
}

/// The batches of a run: `recipe`'s epochs, shift and mixup over batches of `batch_size`,
/// shuffled and mixed from `seed`.
pub fn train_config(recipe: &Recipe, batch_size: usize, seed: u64) -> TrainConfig {
    let mut config = TrainConfig::new(recipe.epochs, batch_size, seed);
    config.batch.shift = recipe.shift;
    config.mixup_alpha = recipe.mixup;
    // Evaluation in the training batch's size: its activations then have the sizes the training
    // step's had, so the allocator's block cache (tensor::block_cache) hands the same blocks back
    // instead of faulting in fresh pages for a larger batch every epoch. The logits are the same
    // bits in any batch size (tests/tests/batch_invariance.rs).
    config.eval_batch_size = batch_size;
    config.keep_best = recipe.patience.map(|patience| kd::KeepBest {
        patience: Some(patience),
    });
    config
}

/// Trains `model` on `splits.train` by `recipe`: on the labels alone when `lesson` is `None`,
/// otherwise from the teacher with the given loss. The validation split is scored after every
/// epoch (what a schedule may see), and `eval` for the record. A run whose loss became non-finite
/// is returned as it is, `diverged` set.
pub fn train(
    model: &mut Sequential,
    lesson: Option<(&mut Teacher, KdLoss)>,
    recipe: &Recipe,
    config: TrainConfig,
    splits: &Splits,
    eval: EvalOn,
    label: &str,
) -> FitOutcome {
    let (teacher, loss) = match lesson {
        Some((teacher, loss)) => (Some(teacher), loss),
        None => (
            None,
            KdLoss {
                objective: splits.hard_objective(),
                hint: None,
            },
        ),
    };
    let params = parameters_to_train(model, loss.hint.as_ref());
    let optimizer: Box<dyn Optimizer> = match recipe.optimizer {
        OptimizerKind::Adam => Box::new(Adam::new(params, recipe.lr)),
        OptimizerKind::Sgd => Box::new(Sgd::new(params, recipe.lr).momentum(0.9)),
    };
    let lr = recipe.lr;
    let schedule = recipe
        .cosine
        .then(|| Box::new(CosineLr::new(lr, lr / 20.0, recipe.epochs)) as _);
    let (eval_set, eval_name) = match eval {
        EvalOn::Test => (&splits.test, "test"),
        EvalOn::Validation => (&splits.validation, "validation"),
    };
    let steps = config.epochs * (splits.train.len() / config.batch.batch_size);
    let bar = Bar::new(label, steps).evaluating(eval_name);
    let outcome = Distiller {
        student: model,
        teacher,
        objective: loss.objective,
        hint: loss.hint,
        optimizer,
        schedule,
        config,
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
    outcome
}

/// A FitNets hint from the student's last hidden layer to the teacher's, through a dense adapter
/// drawn from `seed`, weighing `weight` in the loss.
pub fn hint_between(
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
    // The width of the layer a hint reads: an MLP's last hidden layer, a CNN's dense one.
    let width = |spec: &ModelSpec| -> Result<usize, String> {
        match spec.kind {
            Kind::Mlp => Ok(*spec.widths.last().expect("has hidden layers")),
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

/// A model built from `spec` for `splits`' samples and outputs, its weights drawn from `seed`.
pub fn build(spec: &ModelSpec, splits: &Splits, seed: u64) -> Result<Sequential, String> {
    spec.build(splits.sample_shape(), splits.outputs(), seed)
        .map_err(|e| e.to_string())
}
