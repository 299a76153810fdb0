//! The dense layer's affine map as one op: `y = x·Wᵀ + b`.
//!
//! Shapes: `x [N, I]`, `W [O, I]` (PyTorch's layout), `b [O]`, `y [N, O]`. With `G = ∂L/∂y`:
//!
//! ```text
//! ∂L/∂x = G·W        (N×O · O×I)
//! ∂L/∂W = Gᵀ·x       (O×N · N×I)
//! ∂L/∂b = Σ_n G[n, :]
//! ```
//!
//! The same as `x.matmul_t(false, W, true).add(b)` (which the tests use as its reference), but
//! the bias costs no extra pass and no extra tensor: the output is first filled with the bias,
//! row by row, and the product is accumulated onto it (`beta = 1`), so `y` is written by one
//! kernel. The backward takes the bias gradient as a column sum of `G` directly, where the
//! `add` op would copy `G` twice before summing.

use tensor::Tensor;

use crate::var::Var;

impl Var {
    /// `self·Wᵀ + b` for `self [N, I]`, `weight [O, I]`, `bias [O]` (see the module doc).
    pub fn linear(&self, weight: &Var, bias: Option<&Var>) -> Var {
        let y = Tensor::linear(
            &self.value(),
            &weight.value(),
            bias.map(|b| b.value()).as_deref(),
        );
        let mut inputs = vec![self, weight];
        inputs.extend(bias);
        Var::from_op("linear", y, &inputs, |g, inputs| {
            let (x, w) = (&inputs[0], &inputs[1]);
            // The forward read x and Wᵀ; so dx = G·W and dW = Gᵀ·x, transposes as strides.
            if x.requires_grad() {
                let dx = g.matmul_t(false, &w.value(), false);
                x.accumulate_grad(dx);
            }
            if w.requires_grad() {
                let dw = g.matmul_t(true, &x.value(), false);
                w.accumulate_grad(dw);
            }
            // b was broadcast over the N rows, so its gradient sums them.
            if let Some(b) = inputs.get(2).filter(|b| b.requires_grad()) {
                b.accumulate_grad(g.sum_axis(0, false));
            }
        })
    }
}
