//! The fused losses training needs, each computed from *logits* in one stable pass, with the
//! simple closed-form gradient that fusing buys.
//!
//! Shapes: logits `z [N, C]` (N samples, C classes), or `[N]`/any shape for the binary loss.
//! Every loss is reduced over the batch by [`Reduction`]: `Mean` divides by `N` (samples, not
//! elements, for the class losses), `Sum` does not.
//!
//! ```text
//! cross_entropy(z, y)      = −log softmax(z)_y                     ∂/∂z = softmax(z) − onehot(y)
//! cross_entropy_soft(z, q) = −Σ_c q_c log softmax(z)_c             ∂/∂z = softmax(z)·Σq − q
//! bce_with_logits(z, t)    = −t log σ(z) − (1 − t) log(1 − σ(z))   ∂/∂z = σ(z) − t
//!                          = max(z, 0) − z·t + log(1 + e^−|z|)   (the stable form)
//! kl_div(z, p, T)          = Σ_c p_c (log p_c − log softmax(z/T)_c)
//!                                                                 ∂/∂z = (softmax(z/T)·Σp − p) / T
//! ```
//!
//! Targets (`y`, `q`, `t`, `p`) are constants: labels, or a teacher's probabilities computed
//! without recording. In `kl_div`, terms with `p_c = 0` contribute 0 (the limit of `p log p`).
//!
//! ## Values in f64
//! Each loss's value is computed in f64 from the f32 logits and rounded to f32 once, at the end
//! ([`log_softmax_f64`] for the class losses). A loss is often a small difference of large terms:
//! a confident cross-entropy `lse − z_y` with `lse = log Σ e^{z}` of the size of the logits, or a
//! KL divergence at high temperature, a difference of two cross-entropies of size `log C`. From an
//! f32 `log_softmax`, the rounding of `lse` (about `u·|lse|`) would be a large share of such a
//! value and of its change when a logit moves: a finite difference of the loss (`gradcheck`'s)
//! would measure that noise, and a logged loss would carry it. The cost is one f64 pass over the
//! `[N, C]` logits, small beside the network that made them. The backwards recompute the f32
//! `softmax` from the input (as `Var::softmax` does) and keep nothing from the forward.

use tensor::Tensor;

use crate::var::Var;

/// How a loss combines its per-sample values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reduction {
    /// The mean over samples (the usual choice: the learning rate does not depend on batch size).
    #[default]
    Mean,
    /// The sum over samples.
    Sum,
}

impl Reduction {
    fn scale(self, samples: usize) -> f32 {
        match self {
            Reduction::Mean => 1.0 / samples.max(1) as f32,
            Reduction::Sum => 1.0,
        }
    }
}

/// `(N, C)` of logits that must be `[N, C]`.
#[track_caller]
fn batch_and_classes(op: &str, logits: &Tensor) -> (usize, usize) {
    match logits.shape() {
        &[n, c] => (n, c),
        other => panic!("{op}: logits must be [N, C] (samples, classes), found shape {other:?}"),
    }
}

#[track_caller]
fn check_target(op: &str, logits: &Tensor, target: &Tensor) {
    if logits.shape() != target.shape() {
        panic!(
            "{op}: the target must have the logits' shape {:?}, found {:?}",
            logits.shape(),
            target.shape()
        );
    }
}

/// `softmax·Σ_c target_c − target`, row by row: the gradient of `−Σ_c target_c · log softmax(u)_c`
/// with respect to `u`, shared by the soft cross-entropy (`u = z`) and the KL divergence
/// (`u = z/T`, which adds a factor `1/T`). When the target rows sum to 1 it is the familiar
/// `softmax − target`.
fn softmax_times_mass_minus_target(probs: Tensor, target: &Tensor) -> Tensor {
    let mass = target.sum_axis(1, true);
    probs.mul(&mass).sub(target)
}

/// `log softmax(z/T)` of logits `[N, C]` (`classes = C`), every step in f64 (see the module doc),
/// as one flat `Vec` in the logits' order.
fn log_softmax_f64(z: &Tensor, temperature: f32, classes: usize) -> Vec<f64> {
    let t = temperature as f64;
    let mut out = Vec::with_capacity(z.numel());
    for row in z.data().chunks(classes.max(1)) {
        // z_c/T − m − log Σ_j e^{z_j/T − m}, with m the row's maximum: no overflow, no log 0.
        let m = row
            .iter()
            .map(|&v| v as f64 / t)
            .fold(f64::NEG_INFINITY, f64::max);
        let log_sum = row
            .iter()
            .map(|&v| (v as f64 / t - m).exp())
            .sum::<f64>()
            .ln();
        out.extend(row.iter().map(|&v| v as f64 / t - m - log_sum));
    }
    out
}

impl Var {
    /// Cross-entropy of logits `[N, C]` against class indices `labels` (`N` of them, each `< C`).
    #[track_caller]
    pub fn cross_entropy(&self, labels: &[usize], reduction: Reduction) -> Var {
        let (n, c) = batch_and_classes("cross_entropy", &self.value());
        if labels.len() != n {
            panic!(
                "cross_entropy: {n} samples of logits but {} labels",
                labels.len()
            );
        }
        if let Some(&bad) = labels.iter().find(|&&l| l >= c) {
            panic!("cross_entropy: label {bad} is out of range for {c} classes");
        }
        let log_p = log_softmax_f64(&self.value(), 1.0, c);
        let total: f64 = labels
            .iter()
            .enumerate()
            .map(|(i, &l)| -log_p[i * c + l])
            .sum();
        let scale = reduction.scale(n);
        let loss = Tensor::scalar(total as f32 * scale);
        let labels = labels.to_vec();
        Var::from_op("cross_entropy", loss, &[self], move |g, inputs| {
            // softmax(z) − onehot(y), times the upstream scalar and the reduction's scale.
            let mut grad = inputs[0].value().softmax(1.0);
            for (i, &l) in labels.iter().enumerate() {
                grad.data_mut()[i * c + l] -= 1.0;
            }
            inputs[0].accumulate_grad(grad.mul_scalar(g.item() * scale));
        })
    }

    /// Cross-entropy of logits `[N, C]` against target distributions `q [N, C]` (rows summing to 1:
    /// label smoothing, or a teacher's soft targets at T = 1).
    #[track_caller]
    pub fn cross_entropy_soft(&self, target: &Tensor, reduction: Reduction) -> Var {
        let (n, c) = batch_and_classes("cross_entropy_soft", &self.value());
        check_target("cross_entropy_soft", &self.value(), target);
        let log_p = log_softmax_f64(&self.value(), 1.0, c);
        let total: f64 = log_p
            .iter()
            .zip(target.data())
            .map(|(&lp, &q)| -(q as f64) * lp)
            .sum();
        let scale = reduction.scale(n);
        let target = target.clone();
        Var::from_op(
            "cross_entropy_soft",
            Tensor::scalar(total as f32 * scale),
            &[self],
            move |g, inputs| {
                let probs = inputs[0].value().softmax(1.0);
                let grad = softmax_times_mass_minus_target(probs, &target);
                inputs[0].accumulate_grad(grad.mul_scalar(g.item() * scale));
            },
        )
    }

    /// Binary cross-entropy of logits (any shape) against targets `t` in `[0, 1]` of the same
    /// shape, in the stable form. `Mean` averages over every element.
    #[track_caller]
    pub fn bce_with_logits(&self, target: &Tensor, reduction: Reduction) -> Var {
        check_target("bce_with_logits", &self.value(), target);
        let z = self.value();
        let total: f64 = z
            .data()
            .iter()
            .zip(target.data())
            .map(|(&z, &t)| {
                let (z, t) = (z as f64, t as f64);
                z.max(0.0) - z * t + (-z.abs()).exp().ln_1p()
            })
            .sum();
        let scale = reduction.scale(z.numel());
        drop(z);
        let target = target.clone();
        Var::from_op(
            "bce_with_logits",
            Tensor::scalar(total as f32 * scale),
            &[self],
            move |g, inputs| {
                let grad = inputs[0].value().sigmoid().sub(&target);
                inputs[0].accumulate_grad(grad.mul_scalar(g.item() * scale));
            },
        )
    }

    /// `KL(p ‖ softmax(z/T))` for student logits `z [N, C]` and target distributions `p [N, C]`
    /// (a teacher's `softmax(t/T)`), summed over classes and reduced over samples.
    ///
    /// This is the soft term of distillation *without* the `T²` factor: the `kd` crate applies it.
    #[track_caller]
    pub fn kl_div(&self, target: &Tensor, temperature: f32, reduction: Reduction) -> Var {
        let (n, c) = batch_and_classes("kl_div", &self.value());
        check_target("kl_div", &self.value(), target);
        let log_q = log_softmax_f64(&self.value(), temperature, c);
        let total: f64 = target
            .data()
            .iter()
            .zip(&log_q)
            .filter(|(&p, _)| p > 0.0)
            .map(|(&p, &lq)| p as f64 * ((p as f64).ln() - lq))
            .sum();
        let scale = reduction.scale(n);
        let target = target.clone();
        Var::from_op(
            "kl_div",
            Tensor::scalar(total as f32 * scale),
            &[self],
            move |g, inputs| {
                // The soft cross-entropy's gradient at u = z/T, times the 1/T of the chain rule.
                let probs = inputs[0].value().softmax(temperature);
                let grad = softmax_times_mass_minus_target(probs, &target);
                inputs[0].accumulate_grad(grad.mul_scalar(g.item() * scale / temperature));
            },
        )
    }
}
