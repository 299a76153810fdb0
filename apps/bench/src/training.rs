//! The model workloads of `shared/BENCHMARKS.md`: a training step, a distillation step and
//! inference, each set up once on random inputs and then called again and again.
//!
//! A training step is what `torch_bench.py`'s `train_step` does, in the same order:
//!
//! ```text
//! opt.zero_grad()                       gradients dropped (PyTorch: set_to_none=True)
//! loss = CE(model(x), y)                forward, softmax cross-entropy, mean over the batch
//! loss.backward()
//! opt.step()                            SGD, lr 0.01, momentum 0.9
//! ```
//!
//! on one fixed batch of 128 (inputs from N(0, 1), labels uniform over the classes), as the torch
//! script does: only the timing matters, and a fixed batch keeps data loading out of it.

use autograd::{no_grad, Reduction, Var};
use kd::{HardTargets, ResponseLoss, Teacher};
use nn::optim::{Optimizer, Sgd};
use nn::{Module, Sequential};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tensor::Tensor;

use crate::models;

/// The batch of every training workload and of `kd_step`.
pub const BATCH: usize = 128;
/// torch_bench.py's `torch.optim.SGD(lr=0.01, momentum=0.9)`.
const LR: f32 = 0.01;
const MOMENTUM: f32 = 0.9;

fn random_batch(rng: &mut StdRng, input_shape: &[usize], classes: usize) -> (Tensor, Vec<usize>) {
    let mut shape = vec![BATCH];
    shape.extend_from_slice(input_shape);
    let inputs = Tensor::normal(&shape, 0.0, 1.0, rng);
    let labels = (0..BATCH).map(|_| rng.random_range(0..classes)).collect();
    (inputs, labels)
}

/// One supervised training step of a model on a fixed batch.
pub struct TrainStep {
    model: Sequential,
    optimizer: Sgd,
    inputs: Var,
    labels: Vec<usize>,
}

impl TrainStep {
    /// `model` on random inputs of shape `[BATCH, input_shape…]` with labels in `0..classes`.
    pub fn new(model: Sequential, input_shape: &[usize], classes: usize, seed: u64) -> TrainStep {
        let mut rng = StdRng::seed_from_u64(seed);
        let (inputs, labels) = random_batch(&mut rng, input_shape, classes);
        let optimizer = Sgd::new(model.parameter_vars(), LR).momentum(MOMENTUM);
        TrainStep {
            model,
            optimizer,
            inputs: Var::constant(inputs),
            labels,
        }
    }

    /// `mlp_train`: MLP 784-800-800-10 on `[128, 784]`, 10 classes.
    pub fn mlp(seed: u64) -> TrainStep {
        let model = models::mlp(&mut StdRng::seed_from_u64(seed));
        TrainStep::new(model, &[784], 10, seed + 1)
    }

    /// `cnn_train`: the CNN on `[128, 1, 28, 28]`, 10 classes.
    pub fn cnn(seed: u64) -> TrainStep {
        let model = models::cnn(&mut StdRng::seed_from_u64(seed));
        TrainStep::new(model, &[1, 28, 28], 10, seed + 1)
    }

    /// `conv1d_train`: the 1-D CNN on `[128, 1, 187]`, 5 classes.
    pub fn conv1d(seed: u64) -> TrainStep {
        let model = models::conv1d_net(&mut StdRng::seed_from_u64(seed));
        TrainStep::new(model, &[1, 187], 5, seed + 1)
    }

    /// One step; returns the loss *before* the update.
    pub fn step(&mut self) -> f32 {
        self.optimizer.zero_grad();
        let logits = self.model.forward(&self.inputs);
        let loss = logits.cross_entropy(&self.labels, Reduction::Mean);
        loss.backward();
        self.optimizer.step();
        let value = loss.value().item();
        value
    }
}

/// One response-distillation step: the `cnn_train` network as a teacher (evaluation mode, no
/// graph recorded), the MLP as the student, loss `0.1·CE + 0.9·T²·KL` at `T = 4` (PyTorch's
/// `α = 0.9`), backward and SGD update of the student.
pub struct KdStep {
    teacher: Teacher,
    student: Sequential,
    optimizer: Sgd,
    loss: ResponseLoss,
    /// `[128, 1, 28, 28]`, what the teacher sees.
    images: Var,
    /// The same values as `[128, 784]`, what the student sees. torch_bench.py flattens a view on
    /// each call, which costs nothing; flattening once here is the equivalent.
    flat: Var,
    targets: HardTargets,
}

/// `kd_step`'s temperature and weights (BENCHMARKS.md: T = 4, α = 0.9 on the soft term).
const TEMPERATURE: f32 = 4.0;
const HARD_WEIGHT: f32 = 0.1;
const SOFT_WEIGHT: f32 = 0.9;

impl KdStep {
    pub fn new(seed: u64) -> KdStep {
        let mut rng = StdRng::seed_from_u64(seed);
        let teacher = Teacher::single(Box::new(models::cnn(&mut rng)));
        let student = models::mlp(&mut rng);
        let (images, labels) = random_batch(&mut rng, &[1, 28, 28], 10);
        let flat = images.clone().reshape(&[BATCH, 784]);
        let optimizer = Sgd::new(student.parameter_vars(), LR).momentum(MOMENTUM);
        KdStep {
            teacher,
            student,
            optimizer,
            loss: ResponseLoss::new(HARD_WEIGHT, SOFT_WEIGHT, TEMPERATURE),
            images: Var::constant(images),
            flat: Var::constant(flat),
            targets: HardTargets::Labels(labels),
        }
    }

    /// One step; returns the total loss before the update.
    pub fn step(&mut self) -> f32 {
        // `Teacher` runs in evaluation mode under `no_grad`.
        let (teacher_logits, _) = self
            .teacher
            .logits_and_features(&self.images, TEMPERATURE, &[]);
        self.optimizer.zero_grad();
        let student_logits = self.student.forward(&self.flat);
        let terms = self
            .loss
            .compute(&student_logits, &teacher_logits, &self.targets);
        terms.total.backward();
        self.optimizer.step();
        let value = terms.total.value().item();
        value
    }
}

/// The MLP forward alone, in evaluation mode, recording nothing: `mlp_infer_b1`, `mlp_infer_b1024`.
pub struct Infer {
    model: Sequential,
    inputs: Var,
}

impl Infer {
    pub fn mlp(batch: usize, seed: u64) -> Infer {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut model = models::mlp(&mut rng);
        model.set_training(false);
        let inputs = Var::constant(Tensor::normal(&[batch, 784], 0.0, 1.0, &mut rng));
        Infer { model, inputs }
    }

    /// The logits `[batch, 10]`.
    pub fn call(&mut self) -> Var {
        no_grad(|| self.model.forward(&self.inputs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A step that does its job lowers the loss on the batch it was taken on: 8 steps of SGD with
    // momentum at lr 0.01 on one fixed batch must bring the loss down (a step that forgot the
    // update, zeroed the wrong gradients or used the wrong sign would not).
    #[test]
    fn training_steps_lower_the_loss_on_their_batch() {
        for (name, mut step) in [
            ("mlp", TrainStep::mlp(1)),
            ("cnn", TrainStep::cnn(1)),
            ("conv1d", TrainStep::conv1d(1)),
        ] {
            let first = step.step();
            let last = (0..7).map(|_| step.step()).last().unwrap();
            assert!(
                first.is_finite() && last < first,
                "{name}: {first} → {last}"
            );
        }
    }

    #[test]
    fn kd_steps_lower_the_loss_and_leave_the_teacher_alone() {
        let mut step = KdStep::new(1);
        let before: Vec<Tensor> = step.teacher.members()[0]
            .parameter_vars()
            .iter()
            .map(|p| p.value().clone())
            .collect();
        let first = step.step();
        let last = (0..7).map(|_| step.step()).last().unwrap();
        assert!(first.is_finite() && last < first, "kd: {first} → {last}");
        for (p, b) in step.teacher.members()[0]
            .parameter_vars()
            .iter()
            .zip(&before)
        {
            assert_eq!(p.value().data(), b.data(), "a teacher parameter changed");
            assert!(p.grad().is_none(), "a teacher parameter got a gradient");
        }
    }

    #[test]
    fn inference_gives_one_row_of_logits_per_sample_and_records_nothing() {
        for batch in [1, 5] {
            let y = Infer::mlp(batch, 1).call();
            assert_eq!(y.shape(), vec![batch, 10]);
            assert!(!y.requires_grad());
        }
    }
}
