//! Response-based distillation: the student learns from the teacher's outputs.
//!
//! For student logits `z`, teacher logits `t`, labels `y` and temperature `T` (Hinton et al. 2015):
//!
//! ```text
//! loss = hard_weight · CE(z, y)  +  soft_weight · T² · KL(softmax(t/T) ‖ softmax(z/T))
//! ```
//!
//! **Why `T²`.** The soft term's gradient with respect to a student logit is
//! `∂KL/∂z_c = (softmax(z/T)_c − softmax(t/T)_c) / T`: one `1/T` from the chain rule through `z/T`.
//! And for large `T` the difference itself shrinks as `1/T` too (both softmaxes approach uniform,
//! `softmax(u/T)_c ≈ 1/C + (u_c − ū)/(C·T)`), so the gradient falls like `1/T²`. Multiplying by `T²`
//! keeps the soft term's pull comparable as the temperature changes, so that `hard_weight` and
//! `soft_weight` mean the same thing at any `T`. The exact scaled gradient, per sample, is
//! `T · (softmax(z/T) − softmax(t/T))` (tested).
//!
//! **Which weight is which.** Sources disagree on which term a bare `α` weighs: Keras's distiller
//! writes `α·hard + (1 − α)·soft`, most PyTorch code `(1 − α)·hard + α·soft`. Here the two weights
//! are named for their terms and nothing is implied; `hard_weight = 0.1, soft_weight = 0.9` is the
//! PyTorch-style `α = 0.9`.
//!
//! Other soft losses, selectable by [`SoftLoss`]:
//! - `KlL1`: the KL term plus `l1_weight · mean |softmax(t/T) − softmax(z/T)|` (a mean absolute error
//!   between the soft labels, as in a published 1-D CNN distillation of ECG heartbeats);
//! - `L1`: the mean absolute error alone;
//! - `LogitMse`: `mean (z − t)²` between the logits themselves (Ba and Caruana 2014; "matching
//!   logits", which Hinton et al. show is the `T → ∞` limit of the KL term). The temperature is not
//!   used.
//!
//! Every term is reported on its own ([`LossTerms`]) so a run can show what each one did.

use autograd::{Reduction, Var};
use nn::losses;
use tensor::Tensor;

use crate::soft_targets::{check_temperature, soft_targets};

/// What the student is compared with the teacher by.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum SoftLoss {
    /// `T² · KL(softmax(t/T) ‖ softmax(z/T))`, Hinton et al.
    #[default]
    Kl,
    /// The KL term plus `l1_weight ·` the mean absolute error between the two soft distributions.
    KlL1 { l1_weight: f32 },
    /// The mean absolute error between the soft distributions alone.
    L1,
    /// The mean squared error between the logits (temperature unused).
    LogitMse,
}

/// The hard targets: class labels, or, after mixup, a mixture of two labels per sample.
#[derive(Debug, Clone)]
pub enum HardTargets {
    Labels(Vec<usize>),
    /// One distribution per sample (`[N, C]`, rows summing to 1), e.g. `λ·onehot(a) + (1 − λ)·onehot(b)`.
    Distributions(Tensor),
}

/// The loss and each of its terms, unweighted, for logging.
pub struct LossTerms {
    /// `hard_weight · hard + soft_weight · soft`, in the graph: call `backward` on this.
    pub total: Var,
    /// The cross-entropy with the hard targets.
    pub hard: f32,
    /// The soft term (already including `T²` where it applies).
    pub soft: f32,
}

impl LossTerms {
    /// `hard_weight · hard + soft_weight · soft`, each term's value kept for logging. A weight of
    /// exactly 0 drops its term from the graph, so that `soft_weight = 0` is plain cross-entropy
    /// bit for bit (and costs nothing extra).
    pub fn weighted(hard: &Var, hard_weight: f32, soft: &Var, soft_weight: f32) -> LossTerms {
        let total = match (hard_weight, soft_weight) {
            (h, 0.0) => hard.mul_scalar(h),
            (0.0, s) => soft.mul_scalar(s),
            (h, s) => hard.mul_scalar(h).add(&soft.mul_scalar(s)),
        };
        LossTerms {
            total,
            hard: hard.value().item(),
            soft: soft.value().item(),
        }
    }
}

/// The response-based distillation loss: its weights, temperature and soft term.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResponseLoss {
    pub hard_weight: f32,
    pub soft_weight: f32,
    pub temperature: f32,
    pub soft: SoftLoss,
}

impl ResponseLoss {
    /// KL at temperature `T` with the two weights. Panics on `T ≤ 0` or a negative weight (an
    /// app validates its flags before building this).
    pub fn new(hard_weight: f32, soft_weight: f32, temperature: f32) -> ResponseLoss {
        check_temperature(temperature);
        assert!(
            hard_weight >= 0.0 && soft_weight >= 0.0,
            "ResponseLoss: weights must be ≥ 0, found hard {hard_weight}, soft {soft_weight}"
        );
        ResponseLoss {
            hard_weight,
            soft_weight,
            temperature,
            soft: SoftLoss::Kl,
        }
    }

    /// The same loss with another soft term.
    pub fn with_soft_loss(mut self, soft: SoftLoss) -> ResponseLoss {
        self.soft = soft;
        self
    }

    /// The loss of a batch: student logits `[N, C]` (in the graph), teacher logits `[N, C]` (plain
    /// values), hard targets for the `N` samples. Means over the batch.
    pub fn compute(
        &self,
        student_logits: &Var,
        teacher_logits: &Tensor,
        targets: &HardTargets,
    ) -> LossTerms {
        if student_logits.shape() != teacher_logits.shape() {
            panic!(
                "ResponseLoss: student logits {:?} and teacher logits {:?} must have the same shape",
                student_logits.shape(),
                teacher_logits.shape()
            );
        }
        let hard = hard_loss(student_logits, targets);
        let soft = self.soft_loss(student_logits, teacher_logits);
        LossTerms::weighted(&hard, self.hard_weight, &soft, self.soft_weight)
    }

    /// The soft term alone, with its `T²` where it applies.
    pub fn soft_loss(&self, student_logits: &Var, teacher_logits: &Tensor) -> Var {
        let t = self.temperature;
        let kl = || {
            let p = soft_targets(teacher_logits, t);
            // T²: see the module documentation.
            losses::kl_div(student_logits, &p, t, Reduction::Mean).mul_scalar(t * t)
        };
        let l1 = || {
            let p = Var::constant(soft_targets(teacher_logits, t));
            losses::l1(&student_logits.softmax(t), &p, Reduction::Mean)
        };
        match self.soft {
            SoftLoss::Kl => kl(),
            SoftLoss::KlL1 { l1_weight } => kl().add(&l1().mul_scalar(l1_weight)),
            SoftLoss::L1 => l1(),
            SoftLoss::LogitMse => losses::mse(
                student_logits,
                &Var::constant(teacher_logits.clone()),
                Reduction::Mean,
            ),
        }
    }
}

/// Cross-entropy with the hard targets, mean over the batch.
pub fn hard_loss(student_logits: &Var, targets: &HardTargets) -> Var {
    match targets {
        HardTargets::Labels(labels) => student_logits.cross_entropy(labels, Reduction::Mean),
        HardTargets::Distributions(q) => student_logits.cross_entropy_soft(q, Reduction::Mean),
    }
}
