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

/// `softmax·Σ_c target_c − target`, row by row, from the rows' log-probabilities: the gradient of
/// `−Σ_c target_c · log softmax(u)_c` with respect to `u`, shared by the soft cross-entropy
/// (`u = z`) and the KL divergence (`u = z/T`, which adds a factor `1/T`). When the target rows
/// sum to 1 it is the familiar `softmax − target`.
fn softmax_times_mass_minus_target(log_probs: &Tensor, target: &Tensor) -> Tensor {
    let mass = target.sum_axis(1, true);
    log_probs.exp().mul(&mass).sub(target)
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
        let log_p = self.value().log_softmax(1.0);
        let total: f64 = labels
            .iter()
            .enumerate()
            .map(|(i, &l)| -(log_p.data()[i * c + l] as f64))
            .sum();
        let scale = reduction.scale(n);
        let loss = Tensor::scalar(total as f32 * scale);
        let labels = labels.to_vec();
        Var::from_op("cross_entropy", loss, &[self], move |g, inputs| {
            // softmax(z) − onehot(y), times the upstream scalar and the reduction's scale.
            let mut grad = log_p.exp();
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
        let (n, _) = batch_and_classes("cross_entropy_soft", &self.value());
        check_target("cross_entropy_soft", &self.value(), target);
        let log_p = self.value().log_softmax(1.0);
        let total: f64 = log_p
            .data()
            .iter()
            .zip(target.data())
            .map(|(&lp, &q)| -(q as f64) * lp as f64)
            .sum();
        let scale = reduction.scale(n);
        let target = target.clone();
        Var::from_op(
            "cross_entropy_soft",
            Tensor::scalar(total as f32 * scale),
            &[self],
            move |g, inputs| {
                let grad = softmax_times_mass_minus_target(&log_p, &target);
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
        let (n, _) = batch_and_classes("kl_div", &self.value());
        check_target("kl_div", &self.value(), target);
        let log_q = self.value().log_softmax(temperature);
        let total: f64 = target
            .data()
            .iter()
            .zip(log_q.data())
            .filter(|(&p, _)| p > 0.0)
            .map(|(&p, &lq)| p as f64 * ((p as f64).ln() - lq as f64))
            .sum();
        let scale = reduction.scale(n);
        let target = target.clone();
        Var::from_op(
            "kl_div",
            Tensor::scalar(total as f32 * scale),
            &[self],
            move |g, inputs| {
                // The soft cross-entropy's gradient at u = z/T, times the 1/T of the chain rule.
                let grad = softmax_times_mass_minus_target(&log_q, &target);
                inputs[0].accumulate_grad(grad.mul_scalar(g.item() * scale / temperature));
            },
        )
    }
}
