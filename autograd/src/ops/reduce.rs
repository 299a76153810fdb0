//! Sums, means and maxima, over everything or over one axis.
//!
//! ```text
//! y = Σ_i x_i            ∂L/∂x_i = g                 (g broadcast back over what was summed)
//! y = (1/n) Σ_i x_i      ∂L/∂x_i = g / n
//! y = max_i x_i          ∂L/∂x_i = g if i is the (first) argmax, else 0
//! ```
//!
//! The backward of a reduction is a broadcast: every element that went into an output gets that
//! output's gradient (scaled by `1/n` for a mean). With `keepdim = false` the reduced axis is put
//! back with size 1 first, so that the gradient broadcasts along it.

use tensor::Tensor;

use crate::var::Var;

/// `g` (the gradient of a reduction over `axis`) spread back over `shape`, times `scale`.
fn spread(g: &Tensor, shape: &[usize], axis: Option<usize>, scale: f32) -> Tensor {
    let mut kept = shape.to_vec();
    match axis {
        Some(a) => kept[a] = 1,
        None => kept.iter_mut().for_each(|s| *s = 1),
    }
    let g = g.clone().reshape(&kept).broadcast_to(shape);
    if scale == 1.0 {
        g
    } else {
        g.mul_scalar(scale)
    }
}

impl Var {
    /// `Σ x` over every element, as a one-element tensor of shape `[]`.
    pub fn sum_all(&self) -> Var {
        let y = Tensor::scalar(self.value().sum_all());
        Var::from_op("sum_all", y, &[self], |g, inputs| {
            let x = &inputs[0];
            x.accumulate_grad(spread(g, &x.shape(), None, 1.0));
        })
    }

    /// The mean of every element, shape `[]`.
    pub fn mean_all(&self) -> Var {
        let n = self.value().numel();
        let y = Tensor::scalar(self.value().mean_all());
        Var::from_op("mean_all", y, &[self], move |g, inputs| {
            let x = &inputs[0];
            x.accumulate_grad(spread(g, &x.shape(), None, 1.0 / n as f32));
        })
    }

    /// `Σ` over `axis` (kept with size 1 when `keepdim`).
    pub fn sum_axis(&self, axis: usize, keepdim: bool) -> Var {
        let y = self.value().sum_axis(axis, keepdim);
        Var::from_op("sum_axis", y, &[self], move |g, inputs| {
            let x = &inputs[0];
            x.accumulate_grad(spread(g, &x.shape(), Some(axis), 1.0));
        })
    }

    /// The mean over `axis`.
    pub fn mean_axis(&self, axis: usize, keepdim: bool) -> Var {
        let n = self.shape()[axis];
        let y = self.value().mean_axis(axis, keepdim);
        Var::from_op("mean_axis", y, &[self], move |g, inputs| {
            let x = &inputs[0];
            x.accumulate_grad(spread(g, &x.shape(), Some(axis), 1.0 / n as f32));
        })
    }

    /// The maximum over `axis`. The gradient goes to the first maximal element of each run only.
    pub fn max_axis(&self, axis: usize, keepdim: bool) -> Var {
        let (y, argmax) = self.value().max_axis_with_argmax(axis, keepdim);
        Var::from_op("max_axis", y, &[self], move |g, inputs| {
            let x = &inputs[0];
            let shape = x.shape();
            let (n, inner) = (shape[axis], shape[axis + 1..].iter().product::<usize>());
            // The forward picked, for output k = (o, i), the element (o, argmax[k], i); route g[k] there.
            x.accumulate_grad_with(|grad| {
                let grad = grad.data_mut();
                for (k, (&j, &gk)) in argmax.iter().zip(g.data()).enumerate() {
                    let (o, i) = (k / inner.max(1), k % inner.max(1));
                    grad[(o * n + j) * inner + i] += gk;
                }
            });
        })
    }
}
