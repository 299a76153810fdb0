//! Binary distillation: a two-class problem with one sigmoid output.
//!
//! For a student logit `z`, a teacher logit `t`, a label `y ∈ {0, 1}` and temperature `T`, with
//! `p = σ(t/T)` the teacher's softened probability of the positive class:
//!
//! ```text
//! loss = hard_weight · BCE(z, y)  +  soft_weight · T² · [BCE(z/T, p) − H(p)]
//! ```
//!
//! `BCE(z/T, p) − H(p)` is the KL divergence between the two Bernoulli distributions
//! `KL(p ‖ σ(z/T))`: the binary cross-entropy against the teacher's probability, less the teacher's
//! own entropy `H(p) = −p log p − (1 − p) log(1 − p)`, a constant that carries no gradient but makes
//! the term 0 when the student matches the teacher. It is the two-class case of the softmax KL
//! (a sigmoid is a softmax over the logits `(0, z)`), so the `T²` argument of `response.rs` holds:
//! the gradient is `∂/∂z = T·(σ(z/T) − σ(t/T))` per sample.
//!
//! It is computed that way too: `kl_div` over the pairs `(0, z)` against the teacher's `(0, t)`
//! softened, rather than as `BCE − H` in f32. The KL is a small difference of two terms of size
//! `log 2`, and the f32 rounding of those terms would be a large share of it (and of its change
//! when `z` moves, which is what a gradient check measures); `kl_div` computes the value in f64.
//!
//! Shapes: logits `[N]` or `[N, 1]`, labels `N` values 0 or 1. Means over the batch.

use autograd::{Reduction, Var};
use tensor::Tensor;

use crate::response::LossTerms;
use crate::soft_targets::check_temperature;

/// The binary distillation loss.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BinaryLoss {
    pub hard_weight: f32,
    pub soft_weight: f32,
    pub temperature: f32,
}

impl BinaryLoss {
    pub fn new(hard_weight: f32, soft_weight: f32, temperature: f32) -> BinaryLoss {
        check_temperature(temperature);
        assert!(
            hard_weight >= 0.0 && soft_weight >= 0.0,
            "BinaryLoss: weights must be ≥ 0, found hard {hard_weight}, soft {soft_weight}"
        );
        BinaryLoss {
            hard_weight,
            soft_weight,
            temperature,
        }
    }

    /// The loss of a batch; `labels` are 0 or 1 (as `usize`, like class labels).
    pub fn compute(
        &self,
        student_logits: &Var,
        teacher_logits: &Tensor,
        labels: &[usize],
    ) -> LossTerms {
        let shape = student_logits.shape();
        if shape != teacher_logits.shape() || shape.first() != Some(&labels.len()) {
            panic!(
                "BinaryLoss: student logits {shape:?}, teacher logits {:?} and {} labels must agree",
                teacher_logits.shape(),
                labels.len()
            );
        }
        let y: Vec<f32> = labels
            .iter()
            .map(|&l| match l {
                0 => 0.0,
                1 => 1.0,
                other => panic!("BinaryLoss: labels must be 0 or 1, found {other}"),
            })
            .collect();
        let y = Tensor::from_vec(y, &shape).expect("one label per logit");
        let hard = student_logits.bce_with_logits(&y, Reduction::Mean);
        let soft = self.soft_loss(student_logits, teacher_logits);
        LossTerms::weighted(&hard, self.hard_weight, &soft, self.soft_weight)
    }

    /// `T² · KL(σ(t/T) ‖ σ(z/T))`, mean over the batch: the softmax KL of the logit pairs `(0, z)`
    /// and `(0, t)` (see the module doc).
    pub fn soft_loss(&self, student_logits: &Var, teacher_logits: &Tensor) -> Var {
        let t = self.temperature;
        let m = teacher_logits.numel();
        let zeros = Tensor::zeros(&[m, 1]);
        let teacher_pairs = Tensor::concat(&[&zeros, &teacher_logits.clone().reshape(&[m, 1])], 1);
        let p = teacher_pairs.softmax(t);
        let student_pairs = Var::concat(
            &[&Var::constant(zeros), &student_logits.reshape(&[m, 1])],
            1,
        );
        // T²: see the module documentation.
        student_pairs
            .kl_div(&p, t, Reduction::Mean)
            .mul_scalar(t * t)
    }
}
