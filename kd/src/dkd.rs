//! Decoupled Knowledge Distillation (Zhao, Cui, Song, Qiu and Liang, CVPR 2022): the KL term of
//! classic distillation split in two, each part with a weight of its own.
//!
//! For one sample with student logits `z`, teacher logits `t`, label `y` and temperature `T`,
//! `p = softmax(t/T)` and `q = softmax(z/T)`:
//!
//! ```text
//! b^T = [p_y, 1 − p_y]            b^S = [q_y, 1 − q_y]          (target class against the rest)
//! p̂_c = p_c / (1 − p_y)           q̂_c = q_c / (1 − q_y)         (c ≠ y: the rest, renormalised)
//!
//! TCKD = KL(b^T ‖ b^S)            target-class knowledge: how sure the teacher is
//! NCKD = KL(p̂ ‖ q̂)                non-target-class knowledge: which wrong classes look alike
//!
//! KL(p ‖ q) = TCKD + (1 − p_y) · NCKD                           (exactly; tested)
//! ```
//!
//! The identity follows from `p_c = (1 − p_y)·p̂_c` for `c ≠ y`: split `Σ_c p_c log(p_c/q_c)` into
//! the target term and the rest, and the rest into `log((1 − p_y)/(1 − q_y)) + log(p̂_c/q̂_c)`.
//!
//! **Why "decoupled".** In classic distillation the non-target part, the dark knowledge, is weighted
//! by `1 − p_y`: small exactly when the teacher is confident, which on a well-trained teacher is
//! on most training samples. DKD gives each part its own weight instead:
//!
//! ```text
//! loss = hard_weight · CE(z, y)  +  T² · (target_weight · TCKD  +  non_target_weight · NCKD)
//! ```
//!
//! mean over the batch. The paper's `α` is `target_weight` and its `β` is `non_target_weight`
//! (named for their terms here, as everywhere in this crate). `target_weight = 1` and
//! `non_target_weight = 1 − p_y` for each sample gives back classic KD's soft term (tested). `T²`
//! keeps the gradients' size independent of `T`, for the reason given in `response.rs`.
//!
//! ## How it is computed
//! From the logits, never by dividing probabilities, so that a teacher with `1 − p_y` below f32's
//! smallest number still has well-defined non-target probabilities `p̂`:
//! - Teacher (plain values, no gradient): per row in f64, `log Σ_c e^{t_c/T}` over all classes and
//!   over the non-target ones; `b^T` and `p̂` are exponentials of differences of these.
//! - NCKD: `q̂ = softmax` of the student's logits with the target replaced by a value far below the
//!   others (the DKD authors subtract a large constant; here the target logit is set to
//!   `max_{c≠y} z_c − MASK·T`, so nothing of `z_y` is left in the value or in the gradient), then
//!   the fused `kl_div` against `p̂` (value in f64, `ops/losses.rs`).
//! - TCKD: `b^S` is the two-class softmax of the pair `(z_y, s)` with
//!   `s = T · log Σ_{c≠y} e^{z_c/T}`, since `1 − q_y = Σ_{c≠y} q_c`. `s` is a log-sum-exp shifted
//!   by the non-target maximum, so every exponential lies in (0, 1] and the sum is ≥ 1: no overflow
//!   and no `log 0`, however confident either model is. Then `kl_div` of the pair against `b^T`.
//!
//! Shapes: logits `[N, C]` with `C ≥ 2` (for `C = 2` there is one non-target class and NCKD is
//! 0), labels `N` values below `C`. A two-class task with one sigmoid logit is not supported: use
//! [`BinaryLoss`](crate::BinaryLoss). DKD needs each sample's target class, so mixup's mixed
//! targets cannot be used with it.

use autograd::{Reduction, Var};
use tensor::Tensor;

use crate::response::LossTerms;
use crate::soft_targets::check_temperature;

/// How far below the largest non-target logit the target is put, in units of `T`, to take it out
/// of the student's non-target softmax: `e^{−MASK}` is 0 in f32 and in f64, so the target adds
/// exactly nothing.
const MASK: f32 = 1000.0;

/// The DKD loss: its three weights and its temperature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DkdLoss {
    /// Weight of the cross-entropy with the labels.
    pub hard_weight: f32,
    /// Weight of TCKD, the target-class term (the paper's `α`).
    pub target_weight: f32,
    /// Weight of NCKD, the non-target-class term (the paper's `β`).
    pub non_target_weight: f32,
    pub temperature: f32,
}

impl DkdLoss {
    /// Panics on `T ≤ 0` or a negative weight (an app validates its flags before building this).
    pub fn new(
        hard_weight: f32,
        target_weight: f32,
        non_target_weight: f32,
        temperature: f32,
    ) -> DkdLoss {
        check_temperature(temperature);
        let weights = [hard_weight, target_weight, non_target_weight];
        assert!(
            weights.iter().all(|w| *w >= 0.0 && w.is_finite()),
            "DkdLoss: weights must be numbers ≥ 0, found hard {hard_weight}, target \
             {target_weight}, non-target {non_target_weight}"
        );
        DkdLoss {
            hard_weight,
            target_weight,
            non_target_weight,
            temperature,
        }
    }

    /// The loss of a batch: student logits `[N, C]` (in the graph), teacher logits `[N, C]`
    /// (plain values), one label per sample. `hard` is the cross-entropy, `soft` the whole
    /// weighted DKD part `T²·(target_weight·TCKD + non_target_weight·NCKD)`.
    ///
    /// Panics when the shapes disagree, `C < 2`, or a label is out of range (the module
    /// documentation says why one logit is not supported).
    pub fn compute(
        &self,
        student_logits: &Var,
        teacher_logits: &Tensor,
        labels: &[usize],
    ) -> LossTerms {
        // The split checks the shapes and labels, so DKD's own message comes first.
        let split = TeacherSplit::new(student_logits, teacher_logits, labels, self.temperature);
        let hard = student_logits.cross_entropy(labels, Reduction::Mean);
        let soft = self.weighted_terms(student_logits, &split);
        // The soft part carries its own weights already; a hard weight of 0 leaves the
        // cross-entropy out of the graph, as `LossTerms::weighted` does.
        let total = if self.hard_weight == 0.0 {
            soft.clone()
        } else {
            hard.mul_scalar(self.hard_weight).add(&soft)
        };
        let (hard, soft) = (hard.value().item(), soft.value().item());
        LossTerms { total, hard, soft }
    }

    /// `T² · (target_weight · TCKD + non_target_weight · NCKD)`, mean over the batch. A term whose
    /// weight is 0 is not computed.
    pub fn soft_loss(
        &self,
        student_logits: &Var,
        teacher_logits: &Tensor,
        labels: &[usize],
    ) -> Var {
        let split = TeacherSplit::new(student_logits, teacher_logits, labels, self.temperature);
        self.weighted_terms(student_logits, &split)
    }

    fn weighted_terms(&self, student_logits: &Var, split: &TeacherSplit) -> Var {
        let t = self.temperature;
        let target = (self.target_weight != 0.0)
            .then(|| tckd_of(student_logits, split, t).mul_scalar(self.target_weight));
        let non_target = (self.non_target_weight != 0.0)
            .then(|| nckd_of(student_logits, split, t).mul_scalar(self.non_target_weight));
        let weighted = match (target, non_target) {
            (Some(a), Some(b)) => a.add(&b),
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (None, None) => Var::constant(Tensor::scalar(0.0)),
        };
        // T²: see the module documentation of `response`.
        weighted.mul_scalar(t * t)
    }
}

/// TCKD, `KL(b^T ‖ b^S)`, mean over the batch, without `T²`: the target-class term alone.
/// Shapes and panics as for [`DkdLoss::compute`].
pub fn tckd(
    student_logits: &Var,
    teacher_logits: &Tensor,
    labels: &[usize],
    temperature: f32,
) -> Var {
    check_temperature(temperature);
    let split = TeacherSplit::new(student_logits, teacher_logits, labels, temperature);
    tckd_of(student_logits, &split, temperature)
}

/// NCKD, `KL(p̂ ‖ q̂)` over the non-target classes renormalised, mean over the batch, without
/// `T²`. Shapes and panics as for [`DkdLoss::compute`].
pub fn nckd(
    student_logits: &Var,
    teacher_logits: &Tensor,
    labels: &[usize],
    temperature: f32,
) -> Var {
    check_temperature(temperature);
    let split = TeacherSplit::new(student_logits, teacher_logits, labels, temperature);
    nckd_of(student_logits, &split, temperature)
}

/// The teacher's side of the decomposition, and the masks both sides use.
struct TeacherSplit {
    /// `[N, 2]`: `(p_y, 1 − p_y)` per row.
    binary: Tensor,
    /// `[N, C]`: `p̂`, 0 at the target.
    non_target: Tensor,
    /// `[N, C]`: 1 at the target, 0 elsewhere.
    target_mask: Tensor,
    /// `[N, C]`: 0 at the target, 1 elsewhere.
    non_target_mask: Tensor,
    /// `[N, 1]`: the student's largest non-target logit per row (a shift, out of the graph).
    student_max: Tensor,
}

impl TeacherSplit {
    /// Checks the shapes and labels, and computes the teacher's `b^T` and `p̂` in f64.
    fn new(student: &Var, teacher: &Tensor, labels: &[usize], temperature: f32) -> TeacherSplit {
        let shape = student.shape();
        let (n, c) = match shape.as_slice() {
            &[n, c] if c >= 2 => (n, c),
            other => panic!(
                "DKD: logits must be [N, C] with at least 2 classes (a task with one sigmoid \
                 logit is not supported: use BinaryLoss), found shape {other:?}"
            ),
        };
        if teacher.shape() != shape.as_slice() {
            panic!(
                "DKD: student logits {shape:?} and teacher logits {:?} must have the same shape",
                teacher.shape()
            );
        }
        if labels.len() != n {
            panic!("DKD: {n} samples of logits but {} labels", labels.len());
        }
        if let Some(&bad) = labels.iter().find(|&&l| l >= c) {
            panic!("DKD: label {bad} is out of range for {c} classes");
        }
        let t = temperature as f64;
        let mut binary = Vec::with_capacity(2 * n);
        let mut non_target = vec![0.0f32; n * c];
        let mut target_mask = vec![0.0f32; n * c];
        let mut student_max = Vec::with_capacity(n);
        let z = student.value();
        for (i, &y) in labels.iter().enumerate() {
            let row = &teacher.data()[i * c..(i + 1) * c];
            let u: Vec<f64> = row.iter().map(|&v| v as f64 / t).collect();
            let all = log_sum_exp(u.iter().copied());
            let rest = log_sum_exp(
                u.iter()
                    .enumerate()
                    .filter(|&(k, _)| k != y)
                    .map(|(_, &v)| v),
            );
            binary.push((u[y] - all).exp() as f32);
            binary.push((rest - all).exp() as f32);
            for (k, &v) in u.iter().enumerate() {
                if k != y {
                    non_target[i * c + k] = (v - rest).exp() as f32;
                }
            }
            target_mask[i * c + y] = 1.0;
            let student_row = &z.data()[i * c..(i + 1) * c];
            let max = student_row
                .iter()
                .enumerate()
                .filter(|&(k, _)| k != y)
                .fold(f32::NEG_INFINITY, |m, (_, &v)| m.max(v));
            student_max.push(max);
        }
        let target_mask = Tensor::from_vec(target_mask, &[n, c]).expect("one mask entry per logit");
        TeacherSplit {
            binary: Tensor::from_vec(binary, &[n, 2]).expect("two entries per sample"),
            non_target: Tensor::from_vec(non_target, &[n, c]).expect("one entry per logit"),
            non_target_mask: target_mask.mul_scalar(-1.0).add_scalar(1.0),
            target_mask,
            student_max: Tensor::from_vec(student_max, &[n, 1]).expect("one maximum per sample"),
        }
    }
}

/// `log Σ e^{v}` in f64, shifted by the maximum (no overflow; at least one value is needed).
fn log_sum_exp(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let max = values.clone().fold(f64::NEG_INFINITY, f64::max);
    max + values.map(|v| (v - max).exp()).sum::<f64>().ln()
}

/// `KL(b^T ‖ b^S)`, `b^S` the two-class softmax of `(z_y, s)`, `s = T·log Σ_{c≠y} e^{z_c/T}`.
fn tckd_of(z: &Var, split: &TeacherSplit, t: f32) -> Var {
    let target_mask = Var::constant(split.target_mask.clone());
    let non_target_mask = Var::constant(split.non_target_mask.clone());
    let max = Var::constant(split.student_max.clone());
    let z_target = z.mul(&target_mask).sum_axis(1, true);
    // s = m + T·log Σ_{c≠y} e^{(z_c − m)/T}, m the largest non-target logit. The target's
    // difference is multiplied by 0 before the exponential (a confident student's z_y − m could
    // overflow it) and its exponential by 0 after (so it adds nothing); every other exponent is
    // ≤ 0 and one is 0, so the sum lies in [1, C − 1]. m is a constant: the log-sum-exp does not
    // depend on it, and neither does its gradient.
    let shifted = z.sub(&max).mul(&non_target_mask);
    let sum = shifted
        .mul_scalar(1.0 / t)
        .exp()
        .mul(&non_target_mask)
        .sum_axis(1, true);
    let rest = sum.ln().mul_scalar(t).add(&max);
    Var::concat(&[&z_target, &rest], 1).kl_div(&split.binary, t, Reduction::Mean)
}

/// `KL(p̂ ‖ q̂)`, `q̂` the softmax at `T` of the student's logits with the target set far below
/// the rest (`max_{c≠y} z_c − MASK·T`), so that it is exactly the non-target softmax.
fn nckd_of(z: &Var, split: &TeacherSplit, t: f32) -> Var {
    let non_target_mask = Var::constant(split.non_target_mask.clone());
    let floor = split
        .target_mask
        .mul(&split.student_max.add_scalar(-MASK * t));
    let masked = z.mul(&non_target_mask).add(&Var::constant(floor));
    masked.kl_div(&split.non_target, t, Reduction::Mean)
}
