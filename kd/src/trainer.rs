//! The `Distiller`: one training loop for a student alone and a student distilled.
//!
//! Training a student alone is distillation with no teacher and the hard-label loss only, so one
//! loop serves both, and the comparison a distillation study makes (same student, same
//! initialisation, same data order, only the loss differs) is fair by construction.
//!
//! Each step: take a batch (shuffled, maybe shifted), maybe mix it, get the teacher's logits for
//! exactly the inputs the student sees (from the cache when they cannot differ), compute the loss
//! and each of its terms, backward, clip, step. Each epoch ends with the evaluations and the
//! learning-rate schedule. Two sets can be scored after each epoch and they are kept apart
//! ([`FitData`]): the validation split, whose loss is all the schedule ever sees, and a set scored
//! for the record only (the test set, in a report), which chooses nothing. The validation split
//! can also choose which epoch's model to keep, and stop a run that no longer improves
//! ([`KeepBest`]). Progress goes out as [`Event`]s to a callback: the library prints nothing, an
//! app draws bars and curves from the events.
//!
//! A loss that turns non-finite stops the run and is reported ([`FitOutcome::diverged`]) rather than
//! training on NaNs: a learning rate too large for the loss (the `T²` factor scales the soft
//! gradient) shows up this way.

use std::time::Instant;

use autograd::{no_grad, Reduction, Var};
use nn::data::{batches, BatchConfig, Dataset};
use nn::optim::{clip_grad_norm, LrSchedule, Optimizer};
use nn::Module;
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::Tensor;

use crate::binary::BinaryLoss;
use crate::dkd::DkdLoss;
use crate::hints::HintAdapter;
use crate::mixup::mixup;
use crate::response::{HardTargets, ResponseLoss};
use crate::teacher::Teacher;

/// What the student is trained to minimise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Objective {
    /// Cross-entropy with the labels alone (the student trained on its own), with label smoothing.
    Hard { label_smoothing: f32 },
    /// Response-based distillation from the teacher's softened outputs.
    Response(ResponseLoss),
    /// A two-class problem with one logit: binary cross-entropy with the labels alone.
    BinaryHard,
    /// Binary distillation.
    Binary(BinaryLoss),
    /// Decoupled knowledge distillation: needs each sample's class, so no mixup (refused by
    /// [`Distiller::fit`]), and a class objective (at least 2 logits).
    Dkd(DkdLoss),
}

impl Objective {
    fn needs_teacher(&self) -> bool {
        matches!(
            self,
            Objective::Response(_) | Objective::Binary(_) | Objective::Dkd(_)
        )
    }

    fn is_binary(&self) -> bool {
        matches!(self, Objective::BinaryHard | Objective::Binary(_))
    }

    fn temperature(&self) -> f32 {
        match self {
            Objective::Response(r) => r.temperature,
            Objective::Binary(b) => b.temperature,
            Objective::Dkd(d) => d.temperature,
            _ => 1.0,
        }
    }
}

/// A FitNets hint: the student's layer `student_layer`, mapped by `adapter`, pulled towards the
/// teacher's layer `teacher_layer`, weighted by `weight` in the total loss.
pub struct Hint {
    pub student_layer: String,
    pub teacher_layer: String,
    pub adapter: HintAdapter,
    pub weight: f32,
}

/// How long and on what to train.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    pub epochs: usize,
    /// Batch size, shuffling seed, shift augmentation; a last partial batch is dropped.
    pub batch: BatchConfig,
    /// Mixup's `α` (`None`: no mixup). Needs an objective over classes, not a binary one.
    pub mixup_alpha: Option<f32>,
    /// Clip the gradients' global norm to this before each step.
    pub clip_norm: Option<f32>,
    /// Seeds mixup's draws.
    pub seed: u64,
    /// Batch size for evaluation and for computing the teacher's cache.
    pub eval_batch_size: usize,
    /// Keep the model of the best epoch on the validation split, and maybe stop early
    /// (`None`: the model is the last epoch's, and every epoch runs).
    pub keep_best: Option<KeepBest>,
}

/// Choosing the epoch to keep by the validation split ([`FitData::validation`], which must be
/// given): after each epoch the model's validation accuracy is compared with the best so far
/// (a tie goes to the lower validation loss); a better epoch's parameters and buffers are copied
/// aside, and at the end — or when `patience` epochs in a row have not been better — they are put
/// back. The test set plays no part, so the choice is an honest one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeepBest {
    /// Stop after this many epochs in a row without a better validation score (`None`: run every
    /// epoch, still keeping the best).
    pub patience: Option<usize>,
}

impl TrainConfig {
    pub fn new(epochs: usize, batch_size: usize, seed: u64) -> TrainConfig {
        let mut batch = BatchConfig::new(batch_size);
        batch.shuffle_seed = Some(seed);
        batch.augment_seed = seed;
        // A last batch of a few samples gives noisy steps, and of one sample no batch statistics
        // at all (batch norm); each epoch's shuffle puts the dropped samples back in play.
        batch.drop_last = true;
        TrainConfig {
            epochs,
            batch,
            mixup_alpha: None,
            clip_norm: None,
            seed,
            eval_batch_size: 1000,
            keep_best: None,
        }
    }
}

/// Each term of the loss, averaged over an epoch's batches (0 for terms not in the objective).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LossMeans {
    pub total: f64,
    pub hard: f64,
    pub soft: f64,
    pub hint: f64,
}

/// A model's quality on a labelled data set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// Mean cross-entropy (binary cross-entropy for one logit) with the labels.
    pub loss: f64,
    pub accuracy: f64,
    pub errors: usize,
    pub samples: usize,
}

/// What one epoch did.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochRecord {
    pub epoch: usize,
    /// The learning rate this epoch trained with.
    pub lr: f32,
    pub train_loss: LossMeans,
    /// Accuracy on the training batches as the student saw them (augmented; with mixup, against
    /// each sample's own label, the one mixed in with weight λ).
    pub train_accuracy: f64,
    /// On [`FitData::report`] after the epoch: for the record (a report's curves), never used to
    /// choose anything.
    pub eval: Option<Evaluation>,
    /// On [`FitData::validation`] after the epoch: its loss is the metric the schedule was given.
    pub validation: Option<Evaluation>,
    pub seconds: f64,
}

/// Progress, as it happens.
#[derive(Debug)]
pub enum Event<'a> {
    EpochStarted {
        epoch: usize,
        batches: usize,
    },
    /// After each step: the batch's loss terms.
    Step {
        epoch: usize,
        batch: usize,
        batches: usize,
        total: f32,
        hard: f32,
        soft: f32,
        hint: f32,
    },
    EpochFinished(&'a EpochRecord),
}

/// What `fit` returns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FitOutcome {
    pub epochs: Vec<EpochRecord>,
    /// `Some((epoch, batch))` when the loss became non-finite there and training stopped.
    pub diverged: Option<(usize, usize)>,
    /// With [`TrainConfig::keep_best`]: the epoch whose model the student holds at the end.
    pub best_epoch: Option<usize>,
    /// With a patience: whether training stopped before its last epoch for want of progress.
    pub stopped_early: bool,
}

/// What a run trains on and what it is scored on after each epoch.
#[derive(Debug, Clone, Copy)]
pub struct FitData<'a> {
    pub train: &'a Dataset,
    /// Held out from training; its loss after each epoch is the schedule's metric. `None`: the
    /// schedule gets no metric (a schedule that needs one is refused).
    pub validation: Option<&'a Dataset>,
    /// Scored after each epoch for the record only ([`EpochRecord::eval`]): the test set of a
    /// report goes here, and nothing here reaches the schedule.
    pub report: Option<&'a Dataset>,
}

impl<'a> FitData<'a> {
    /// Training on `train`, nothing scored after the epochs.
    pub fn train(train: &'a Dataset) -> FitData<'a> {
        FitData {
            train,
            validation: None,
            report: None,
        }
    }
}

/// A student, optionally a teacher, and how to train.
pub struct Distiller<'a> {
    pub student: &'a mut dyn Module,
    pub teacher: Option<&'a mut Teacher>,
    pub objective: Objective,
    pub hint: Option<Hint>,
    /// Must hold the student's parameters and the hint adapter's ([`parameters_to_train`]).
    pub optimizer: Box<dyn Optimizer>,
    /// Called at the end of each epoch with the validation loss ([`FitData::validation`]), if
    /// there is a validation set; never with the loss of the set scored for the report.
    pub schedule: Option<Box<dyn LrSchedule>>,
    pub config: TrainConfig,
}

/// Everything the optimiser must update: the student's parameters and a hint adapter's.
pub fn parameters_to_train(student: &dyn Module, hint: Option<&Hint>) -> Vec<Var> {
    let mut params = student.parameter_vars();
    if let Some(h) = hint {
        params.extend(h.adapter.parameters().into_iter().map(|(_, v)| v));
    }
    params
}

impl Distiller<'_> {
    /// Trains on `data.train` for `config.epochs`, scoring `data.validation` and `data.report`
    /// after each epoch, sending progress to `on_event`.
    pub fn fit(&mut self, data: FitData, on_event: &mut dyn FnMut(&Event)) -> FitOutcome {
        let train = data.train;
        self.check_setup(&data);
        let temperature = self.objective.temperature();
        // The teacher's outputs can be cached when every step shows it exactly the stored inputs.
        let cacheable = self.config.batch.shift == 0
            && self.config.mixup_alpha.is_none()
            && self.hint.is_none();
        let cache = match (
            &mut self.teacher,
            self.objective.needs_teacher() && cacheable,
        ) {
            (Some(teacher), true) => {
                Some(teacher.logits_for(train, self.config.eval_batch_size, temperature))
            }
            _ => None,
        };
        let mut mix_rng = StdRng::seed_from_u64(self.config.seed ^ 0x6d69_7875);
        let mut records = Vec::new();
        let mut best = BestSoFar::default();
        let mut stopped_early = false;
        for epoch in 0..self.config.epochs {
            let started = Instant::now();
            self.student.set_training(true);
            let epoch_batches = batches(train, &self.config.batch, epoch);
            let count = epoch_batches.size_hint().0;
            on_event(&Event::EpochStarted {
                epoch,
                batches: count,
            });
            let mut sums = LossMeans::default();
            let (mut correct, mut seen) = (0usize, 0usize);
            for (b, batch) in epoch_batches.enumerate() {
                let (inputs, targets) = match self.config.mixup_alpha {
                    Some(alpha) => {
                        let mixed = mixup(
                            &batch.inputs,
                            &batch.labels,
                            train.classes,
                            alpha,
                            &mut mix_rng,
                        );
                        (mixed.inputs, mixed.targets)
                    }
                    None => (batch.inputs, HardTargets::Labels(batch.labels.clone())),
                };
                let teacher_logits = cache.as_ref().map(|c| c.gather_rows(&batch.indices));
                let step = self.step(inputs, &targets, &batch.labels, teacher_logits);
                if !step.finite {
                    self.student.set_training(false);
                    return FitOutcome {
                        epochs: records,
                        diverged: Some((epoch, b)),
                        ..FitOutcome::default()
                    };
                }
                sums.total += step.total as f64;
                sums.hard += step.hard as f64;
                sums.soft += step.soft as f64;
                sums.hint += step.hint as f64;
                correct += step.correct;
                seen += batch.labels.len();
                on_event(&Event::Step {
                    epoch,
                    batch: b,
                    batches: count,
                    total: step.total,
                    hard: step.hard,
                    soft: step.soft,
                    hint: step.hint,
                });
            }
            let n = count.max(1) as f64;
            let binary = self.objective.is_binary();
            let batch_size = self.config.eval_batch_size;
            let mut score = |set: Option<&Dataset>| {
                set.map(|set| evaluate(self.student, set, batch_size, binary))
            };
            let evaluation = score(data.report);
            let validation = score(data.validation);
            let lr = self.optimizer.lr();
            if let Some(schedule) = self.schedule.as_mut() {
                // The validation loss only: a schedule is a choice, and the report's set (the test
                // set) must choose nothing.
                let metric = validation.map(|e| e.loss as f32);
                let next = schedule.lr(epoch, metric);
                self.optimizer.set_lr(next);
            }
            let record = EpochRecord {
                epoch,
                lr,
                train_loss: LossMeans {
                    total: sums.total / n,
                    hard: sums.hard / n,
                    soft: sums.soft / n,
                    hint: sums.hint / n,
                },
                train_accuracy: correct as f64 / seen.max(1) as f64,
                eval: evaluation,
                validation,
                seconds: started.elapsed().as_secs_f64(),
            };
            on_event(&Event::EpochFinished(&record));
            records.push(record);
            if let (Some(keep), Some(validation)) = (self.config.keep_best, validation) {
                if best.offer(epoch, validation, &*self.student) {
                    stopped_early = keep
                        .patience
                        .is_some_and(|p| epoch - best.epoch.unwrap_or(0) >= p)
                        && epoch + 1 < self.config.epochs;
                    if stopped_early {
                        break;
                    }
                }
            }
        }
        self.student.set_training(false);
        let best_epoch = best.restore(&*self.student);
        FitOutcome {
            epochs: records,
            diverged: None,
            best_epoch,
            stopped_early,
        }
    }

    fn check_setup(&self, data: &FitData) {
        let train = data.train;
        assert!(
            self.config.keep_best.is_none() || data.validation.is_some(),
            "Distiller: keeping the best epoch needs a validation set to judge it by (the set \
             scored for the report must never choose)"
        );
        if let Some(schedule) = &self.schedule {
            assert!(
                !schedule.uses_metric() || data.validation.is_some(),
                "Distiller: the schedule adjusts the rate by a validation loss, and no validation \
                 set was given (the set scored for the report must never choose the rate)"
            );
        }
        if self.objective.needs_teacher() && self.teacher.is_none() {
            panic!(
                "Distiller: the objective {:?} needs a teacher",
                self.objective
            );
        }
        if self.hint.is_some() && self.teacher.is_none() {
            panic!("Distiller: a hint needs a teacher");
        }
        if let Some(alpha) = self.config.mixup_alpha {
            assert!(
                alpha > 0.0 && alpha.is_finite(),
                "Distiller: mixup's α must be a positive number, found {alpha}"
            );
        }
        assert!(
            self.config.eval_batch_size > 0 && self.config.batch.batch_size > 0,
            "Distiller: batch sizes must be at least 1"
        );
        if self.objective.is_binary() && self.config.mixup_alpha.is_some() {
            panic!("Distiller: mixup is implemented for class objectives, not binary ones");
        }
        if matches!(self.objective, Objective::Dkd(_)) && self.config.mixup_alpha.is_some() {
            panic!(
                "Distiller: DKD splits the loss at each sample's target class, which mixup's \
                 mixed targets do not have; train DKD without mixup"
            );
        }
        if self.objective.is_binary() && train.classes != 2 {
            panic!(
                "Distiller: a binary objective needs 2 classes, the data has {}",
                train.classes
            );
        }
    }

    /// One optimisation step on one (possibly mixed) batch.
    fn step(
        &mut self,
        inputs: Tensor,
        targets: &HardTargets,
        labels: &[usize],
        cached_teacher_logits: Option<Tensor>,
    ) -> StepResult {
        let temperature = self.objective.temperature();
        let x = Var::constant(inputs);
        let student_layer: Vec<&str> = self
            .hint
            .as_ref()
            .map(|h| vec![h.student_layer.as_str()])
            .unwrap_or_default();
        let (logits, student_features) = self.student.forward_with_features(&x, &student_layer);

        // The teacher sees exactly the inputs the student saw (shifted, mixed).
        let mut teacher_features = Vec::new();
        let teacher_logits = match (cached_teacher_logits, &mut self.teacher) {
            (Some(cached), _) => Some(cached),
            (None, Some(teacher)) if self.objective.needs_teacher() || self.hint.is_some() => {
                let layer: Vec<&str> = self
                    .hint
                    .as_ref()
                    .map(|h| vec![h.teacher_layer.as_str()])
                    .unwrap_or_default();
                let (t, f) = teacher.logits_and_features(&x, temperature, &layer);
                teacher_features = f;
                Some(t)
            }
            _ => None,
        };

        let (mut total, hard, soft) = match (&self.objective, &teacher_logits) {
            (Objective::Hard { label_smoothing }, _) => {
                let loss = match targets {
                    HardTargets::Labels(l) => {
                        nn::losses::cross_entropy(&logits, l, *label_smoothing, Reduction::Mean)
                    }
                    HardTargets::Distributions(q) => {
                        // Mixed targets, smoothed the same way: (1 − ε)·q + ε/C.
                        let classes = q.shape()[1] as f32;
                        let q = q
                            .mul_scalar(1.0 - label_smoothing)
                            .add_scalar(label_smoothing / classes);
                        logits.cross_entropy_soft(&q, Reduction::Mean)
                    }
                };
                let value = loss.value().item();
                (loss, value, 0.0)
            }
            (Objective::Response(loss), Some(t)) => {
                let terms = loss.compute(&logits, t, targets);
                (terms.total, terms.hard, terms.soft)
            }
            (Objective::Dkd(loss), Some(t)) => {
                // `check_setup` refused mixup, so the targets are the labels themselves.
                let terms = loss.compute(&logits, t, labels);
                (terms.total, terms.hard, terms.soft)
            }
            (Objective::BinaryHard, _) => {
                let n = labels.len();
                let z = logits.reshape(&[n]);
                let y: Vec<f32> = labels.iter().map(|&l| l as f32).collect();
                let y = Tensor::from_vec(y, &[n]).expect("one label per sample");
                let loss = z.bce_with_logits(&y, Reduction::Mean);
                let value = loss.value().item();
                (loss, value, 0.0)
            }
            (Objective::Binary(loss), Some(t)) => {
                let n = labels.len();
                let terms = loss.compute(&logits.reshape(&[n]), &t.clone().reshape(&[n]), labels);
                (terms.total, terms.hard, terms.soft)
            }
            (objective, None) => panic!("Distiller: {objective:?} needs the teacher's logits"),
        };
        let mut hint_value = 0.0;
        if let (Some(hint), Some(student_f), Some(teacher_f)) = (
            self.hint.as_mut(),
            student_features.first(),
            teacher_features.first(),
        ) {
            let hint_loss = hint.adapter.loss(student_f, teacher_f);
            hint_value = hint_loss.value().item();
            total = total.add(&hint_loss.mul_scalar(hint.weight));
        }

        let total_value = total.value().item();
        let correct = count_correct(&logits.value(), labels, self.objective.is_binary());
        let mut finite = total_value.is_finite();
        if finite {
            self.optimizer.zero_grad();
            total.backward();
            if let Some(max_norm) = self.config.clip_norm {
                // A non-finite norm means a non-finite gradient: stepping would poison the
                // weights, so the run stops here instead.
                finite = clip_grad_norm(self.optimizer.params(), max_norm).is_finite();
            }
            if finite {
                self.optimizer.step();
            }
        }
        StepResult {
            finite,
            total: total_value,
            hard,
            soft,
            hint: hint_value,
            correct,
        }
    }
}

struct StepResult {
    /// Whether the loss (and the gradient norm, when clipping) was finite and the step taken.
    finite: bool,
    total: f32,
    hard: f32,
    soft: f32,
    hint: f32,
    correct: usize,
}

/// Predicted classes: the argmax of each row, or for one logit per sample, `logit > 0`.
pub fn predicted_classes(logits: &Tensor, binary: bool) -> Vec<usize> {
    if binary {
        logits
            .data()
            .iter()
            .map(|&z| usize::from(z > 0.0))
            .collect()
    } else {
        crate::metrics::predictions(logits)
    }
}

fn count_correct(logits: &Tensor, labels: &[usize], binary: bool) -> usize {
    predicted_classes(logits, binary)
        .iter()
        .zip(labels)
        .filter(|(p, l)| p == l)
        .count()
}

/// The model's logits for every sample of `data`, in order, in evaluation mode and without
/// recording (`[N, C]`, or `[N, 1]` for one logit). Leaves the model in evaluation mode.
pub fn predict_logits(model: &mut dyn Module, data: &Dataset, batch_size: usize) -> Tensor {
    model.set_training(false);
    let rows: Vec<Tensor> = no_grad(|| {
        batches(data, &BatchConfig::new(batch_size), 0)
            .map(|batch| model.forward(&Var::constant(batch.inputs)).value().clone())
            .collect()
    });
    let refs: Vec<&Tensor> = rows.iter().collect();
    Tensor::concat(&refs, 0)
}

/// Loss, accuracy and error count of `model` on `data`.
pub fn evaluate(
    model: &mut dyn Module,
    data: &Dataset,
    batch_size: usize,
    binary: bool,
) -> Evaluation {
    let logits = predict_logits(model, data, batch_size);
    let n = data.len();
    let loss = if binary {
        let y: Vec<f32> = data.labels.iter().map(|&l| l as f32).collect();
        let y = Tensor::from_vec(y, &[n]).expect("one label per sample");
        Var::constant(logits.clone().reshape(&[n]))
            .bce_with_logits(&y, Reduction::Mean)
            .value()
            .item()
    } else {
        Var::constant(logits.clone())
            .cross_entropy(&data.labels, Reduction::Mean)
            .value()
            .item()
    };
    let correct = count_correct(&logits, &data.labels, binary);
    Evaluation {
        loss: loss as f64,
        accuracy: correct as f64 / n.max(1) as f64,
        errors: n - correct,
        samples: n,
    }
}

/// The best epoch so far on the validation split, and a copy of the model as it was then
/// ([`KeepBest`]).
#[derive(Default)]
struct BestSoFar {
    epoch: Option<usize>,
    score: Option<Evaluation>,
    /// The values of the model's parameters, then its buffers, in `Module` order.
    values: Vec<Tensor>,
}

impl BestSoFar {
    /// Takes `epoch`'s validation score; returns `true` when the patience should be checked (the
    /// epoch was not better). A better epoch's model is copied aside.
    fn offer(&mut self, epoch: usize, score: Evaluation, model: &dyn Module) -> bool {
        let better = match self.score {
            None => true,
            Some(best) => {
                score.accuracy > best.accuracy
                    || (score.accuracy == best.accuracy && score.loss < best.loss)
            }
        };
        if !better {
            return true;
        }
        self.epoch = Some(epoch);
        self.score = Some(score);
        self.values = model_values(model).map(|v| v.value().clone()).collect();
        false
    }

    /// Puts the kept values back into `model`; returns the epoch they came from.
    fn restore(self, model: &dyn Module) -> Option<usize> {
        for (var, value) in model_values(model).zip(self.values) {
            *var.value_mut() = value;
        }
        self.epoch
    }
}

/// A model's parameters, then its buffers (batch norm's running statistics): all it holds.
fn model_values(model: &dyn Module) -> impl Iterator<Item = Var> {
    let named = model.parameters().into_iter().chain(model.buffers());
    named.map(|(_, var)| var)
}
