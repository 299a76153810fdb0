//! Nearest-neighbour upsampling of `[N, C, H, W]` by an integer factor `f` (the decoder of a
//! fully convolutional network).
//!
//! ```text
//! y[n, c, i, j] = x[n, c, ⌊i/f⌋, ⌊j/f⌋]      ∂L/∂x[n, c, h, w] = Σ over its f × f block of g
//! ```
//!
//! Every output copies exactly one input, so each input's gradient is the sum of the gradients of
//! its own block.

use tensor::upsample;

use crate::var::Var;

impl Var {
    /// `[N, C, H, W] → [N, C, H·f, W·f]`, each pixel repeated over an `f × f` block.
    pub fn upsample_nearest2d(&self, factor: usize) -> Var {
        let y = upsample::upsample_nearest2d(&self.value(), factor);
        Var::from_op("upsample_nearest2d", y, &[self], move |g, inputs| {
            inputs[0].accumulate_grad(upsample::upsample_nearest2d_backward(g, factor));
        })
    }
}
