//! Pooling: max and average over windows, 1-D and 2-D (no padding).
//!
//! ```text
//! max:  y = max over the window        ∂L/∂x = g at the window's (first) argmax, 0 elsewhere
//! avg:  y = (1/|window|) Σ window      ∂L/∂x = g/|window| at every element of the window
//! ```
//!
//! The max forward keeps, for each output, the flat index of its argmax in the input (as a `u32`);
//! the backward scatters the gradient there (summing where windows overlap). When nothing will be
//! recorded (`no_grad`, or an input that needs no gradient) no index is computed at all.

use tensor::pool;

use crate::var::Var;

/// Whether `Var::from_op` will record an op on `x` alone (so whether a backward can ever run).
fn will_record(x: &Var) -> bool {
    crate::no_grad::is_recording() && x.requires_grad()
}

impl Var {
    /// 2-D max pooling of `[N, C, H, W]` with the given window and stride.
    pub fn max_pool2d(&self, kernel: (usize, usize), stride: (usize, usize)) -> Var {
        if !will_record(self) {
            let y = pool::max_pool2d_values(&self.value(), kernel, stride);
            return Var::from_op("max_pool2d", y, &[self], |_, _| {});
        }
        let (y, argmax) = pool::max_pool2d_argmax32(&self.value(), kernel, stride);
        Var::from_op("max_pool2d", y, &[self], move |g, inputs| {
            let x = &inputs[0];
            x.accumulate_grad(pool::max_pool2d_backward32(g, &argmax, &x.shape()));
        })
    }

    /// 1-D max pooling of `[N, C, L]`.
    pub fn max_pool1d(&self, kernel: usize, stride: usize) -> Var {
        if !will_record(self) {
            let y = pool::max_pool1d_values(&self.value(), kernel, stride);
            return Var::from_op("max_pool1d", y, &[self], |_, _| {});
        }
        let (y, argmax) = pool::max_pool1d_argmax32(&self.value(), kernel, stride);
        Var::from_op("max_pool1d", y, &[self], move |g, inputs| {
            let x = &inputs[0];
            x.accumulate_grad(pool::max_pool1d_backward32(g, &argmax, &x.shape()));
        })
    }

    /// 2-D average pooling of `[N, C, H, W]`.
    pub fn avg_pool2d(&self, kernel: (usize, usize), stride: (usize, usize)) -> Var {
        let y = pool::avg_pool2d(&self.value(), kernel, stride);
        Var::from_op("avg_pool2d", y, &[self], move |g, inputs| {
            let x = &inputs[0];
            x.accumulate_grad(pool::avg_pool2d_backward(g, &x.shape(), kernel, stride));
        })
    }

    /// 1-D average pooling of `[N, C, L]`.
    pub fn avg_pool1d(&self, kernel: usize, stride: usize) -> Var {
        let y = pool::avg_pool1d(&self.value(), kernel, stride);
        Var::from_op("avg_pool1d", y, &[self], move |g, inputs| {
            let x = &inputs[0];
            x.accumulate_grad(pool::avg_pool1d_backward(g, &x.shape(), kernel, stride));
        })
    }
}
