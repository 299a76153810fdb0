//! Softmax and log-softmax over the last axis, at temperature `T`.
//!
//! With `s = softmax(z/T)` for one row and `g = ∂L/∂(output)`:
//!
//! ```text
//! y = softmax_T(z)       ∂L/∂z = (1/T) · s ⊙ (g − ⟨g, s⟩)
//! y = log_softmax_T(z)   ∂L/∂z = (1/T) · (g − s · Σ_j g_j)
//! ```
//!
//! Both come from the Jacobian of softmax, `∂s_i/∂u_j = s_i(δ_ij − s_j)` with `u = z/T`, and the
//! chain rule through `u = z/T` (a factor `1/T`). For log-softmax, `∂ log s_i/∂u_j = δ_ij − s_j`.

use tensor::Tensor;

use crate::var::Var;

/// Row-wise `(Σ over the last axis)`, kept as `[…, 1]` so it broadcasts against the rows.
fn row_sums(t: &Tensor) -> Tensor {
    t.sum_axis(t.ndim() - 1, true)
}

/// The backward recomputes `s` from the input rather than keeping the output: one more pass over
/// the logits in training, and no copy at all when nothing is recorded (inference).
fn softmax_again(z: &Var, temperature: f32) -> Tensor {
    z.value().softmax(temperature)
}

impl Var {
    /// `softmax(z / T)` over the last axis.
    pub fn softmax(&self, temperature: f32) -> Var {
        let y = self.value().softmax(temperature);
        Var::from_op("softmax", y, &[self], move |g, inputs| {
            let s = softmax_again(&inputs[0], temperature);
            // (1/T)·s⊙(g − ⟨g, s⟩), with ⟨g, s⟩ taken row by row.
            let g_dot_s = row_sums(&g.mul(&s));
            let grad = s.mul(&g.sub(&g_dot_s)).mul_scalar(1.0 / temperature);
            inputs[0].accumulate_grad(grad);
        })
    }

    /// `log_softmax(z / T)` over the last axis, computed stably.
    pub fn log_softmax(&self, temperature: f32) -> Var {
        let y = self.value().log_softmax(temperature);
        Var::from_op("log_softmax", y, &[self], move |g, inputs| {
            let s = softmax_again(&inputs[0], temperature);
            // (1/T)·(g − s·Σg), row by row.
            let grad = g.sub(&s.mul(&row_sums(g))).mul_scalar(1.0 / temperature);
            inputs[0].accumulate_grad(grad);
        })
    }
}
