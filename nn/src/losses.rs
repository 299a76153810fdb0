//! Loss functions: how wrong a batch of predictions is, as one number to minimise.
//!
//! The classification losses work on *logits* (the raw scores before softmax or sigmoid) and are
//! fused in `autograd/src/ops/losses.rs`, where their gradients are derived; this file gives them
//! the options a training script expects. The regression losses are composed from autograd ops.
//!
//! ```text
//! cross_entropy(z, y, ε)  = −Σ_c q_c log softmax(z)_c,  q = (1 − ε)·onehot(y) + ε/C
//! bce_with_logits(z, t)   = −t log σ(z) − (1 − t) log(1 − σ(z))
//! mse(p, t)               = (p − t)²            ∂/∂p = 2(p − t)
//! l1(p, t)                = |p − t|             ∂/∂p = sign(p − t)
//! kl_div(z, p, T)         = Σ_c p_c (log p_c − log softmax(z/T)_c)
//! ```
//!
//! Reductions: for the class losses (`cross_entropy`, `kl_div`) `Mean` divides by the number of
//! samples; for the elementwise ones (`bce_with_logits`, `mse`, `l1`) by the number of elements —
//! PyTorch's conventions, so that the same learning rates carry over.
//!
//! Label smoothing (Szegedy et al. 2016) moves `ε` of the target's mass from the true class to all
//! classes evenly, so the model is not pushed to make one logit infinitely larger than the others.

use autograd::{Reduction, Var};
use tensor::Tensor;

/// Cross-entropy of logits `[N, C]` against class indices, with label smoothing `ε ∈ [0, 1]`
/// (0 is plain cross-entropy).
pub fn cross_entropy(
    logits: &Var,
    labels: &[usize],
    label_smoothing: f32,
    reduction: Reduction,
) -> Var {
    assert!(
        (0.0..=1.0).contains(&label_smoothing),
        "cross_entropy: label smoothing must be in [0, 1], found {label_smoothing}"
    );
    if label_smoothing == 0.0 {
        return logits.cross_entropy(labels, reduction);
    }
    let shape = logits.shape();
    let classes = *shape.last().expect("cross_entropy: logits must be [N, C]");
    let target = smoothed_targets(labels, classes, label_smoothing);
    if target.shape() != shape.as_slice() {
        panic!(
            "cross_entropy: {} labels for logits of shape {shape:?}",
            labels.len()
        );
    }
    logits.cross_entropy_soft(&target, reduction)
}

/// `(1 − ε)·onehot(y) + ε/C`, one row per label.
pub fn smoothed_targets(labels: &[usize], classes: usize, label_smoothing: f32) -> Tensor {
    let off = label_smoothing / classes as f32;
    let mut target = Tensor::full(&[labels.len(), classes], off);
    for (row, &label) in labels.iter().enumerate() {
        assert!(
            label < classes,
            "cross_entropy: label {label} is out of range for {classes} classes"
        );
        target.data_mut()[row * classes + label] += 1.0 - label_smoothing;
    }
    target
}

/// Binary cross-entropy of logits against targets in `[0, 1]` of the same shape.
pub fn bce_with_logits(logits: &Var, targets: &Tensor, reduction: Reduction) -> Var {
    logits.bce_with_logits(targets, reduction)
}

/// Mean (or summed) squared error between `prediction` and `target` (same shape). A gradient flows
/// to both, which matters when both are learned (a FitNets hint adapter, say).
pub fn mse(prediction: &Var, target: &Var, reduction: Reduction) -> Var {
    check_same_shape("mse", prediction, target);
    let diff = prediction.sub(target);
    reduce_elements(&diff.mul(&diff), reduction)
}

/// Mean (or summed) absolute error between `prediction` and `target` (same shape).
pub fn l1(prediction: &Var, target: &Var, reduction: Reduction) -> Var {
    check_same_shape("l1", prediction, target);
    reduce_elements(&prediction.sub(target).abs(), reduction)
}

/// `KL(p ‖ softmax(z/T))` of student logits `[N, C]` against target distributions `p [N, C]`,
/// without the `T²` factor that distillation adds (see the `kd` crate).
pub fn kl_div(logits: &Var, target_probs: &Tensor, temperature: f32, reduction: Reduction) -> Var {
    logits.kl_div(target_probs, temperature, reduction)
}

fn reduce_elements(values: &Var, reduction: Reduction) -> Var {
    match reduction {
        Reduction::Mean => values.mean_all(),
        Reduction::Sum => values.sum_all(),
    }
}

#[track_caller]
fn check_same_shape(op: &str, a: &Var, b: &Var) {
    if a.shape() != b.shape() {
        panic!(
            "{op}: prediction {:?} and target {:?} must have the same shape",
            a.shape(),
            b.shape()
        );
    }
}
