//! Gradient clipping by global norm (PyTorch's `clip_grad_norm_`, L2 norm).
//!
//! All gradients are treated as one long vector `g` (every element of every parameter):
//! ```text
//! ‖g‖ = √(Σ_params Σ_i g_i²)
//! if ‖g‖ > max_norm:  g ← g · max_norm / (‖g‖ + 10⁻⁶)
//! ```
//! Scaling all of them by one factor keeps the direction of the step and bounds its length: one
//! bad batch (a huge loss, an exploding recurrence) cannot throw the parameters far away. The
//! 10⁻⁶ is PyTorch's, and keeps the factor finite; it leaves the clipped norm a hair under
//! `max_norm` (by a relative 10⁻⁶/‖g‖).
//!
//! The sum of squares is accumulated in f64: it adds up millions of terms of different sizes, and
//! in f32 the small ones would be lost once the total is large.

use autograd::Var;

/// Clips the gradients of `params` to a global L2 norm of at most `max_norm`, in place, and
/// returns the norm they had before. Parameters without a gradient are skipped (none is created).
///
/// Below the threshold the gradients are left exactly as they were. When the norm is not finite
/// (an inf or NaN somewhere), the gradients are left as they are too and the norm is returned for
/// the caller to skip the step — PyTorch would scale by 0 and turn infinities into NaNs.
///
/// Panics when `max_norm` is negative or NaN (a programming error; a CLI validates its flags).
#[track_caller]
pub fn clip_grad_norm(params: &[Var], max_norm: f32) -> f32 {
    assert!(
        max_norm >= 0.0,
        "clip_grad_norm: max_norm must be ≥ 0, got {max_norm}"
    );
    let sum_squares: f64 = params
        .iter()
        .filter_map(|p| p.grad())
        .map(|g| {
            g.data()
                .iter()
                .map(|&x| f64::from(x) * f64::from(x))
                .sum::<f64>()
        })
        .sum();
    let norm = sum_squares.sqrt();
    if norm.is_finite() && norm > f64::from(max_norm) {
        let scale = (f64::from(max_norm) / (norm + 1e-6)) as f32;
        for param in params {
            // Take the buffer out, scale it, and give it back: with no gradient left in the slot,
            // `accumulate_grad` takes the buffer over as it is, so nothing is copied or allocated.
            if let Some(mut grad) = param.take_grad() {
                grad.scale_(scale);
                param.accumulate_grad(grad);
            }
        }
    }
    norm as f32
}
