//! Convolutions, 1-D and 2-D, with stride, padding, dilation and an optional bias.
//!
//! Shapes: input `X [N, C, H, W]` (or `[N, C, L]`), weight `W [O, C, KH, KW]` (or `[O, C, K]`),
//! bias `b [O]`, output `Y [N, O, OH, OW]`. The forward is, per image, one matrix product over the
//! im2col matrix (see `tensor::conv`): `Y_n = W · cols(X_n) + b`. So with `G = ∂L/∂Y`:
//!
//! ```text
//! ∂L/∂X_n = col2im(Wᵀ · G_n)          (each input pixel gets back what every window it sat in sent)
//! ∂L/∂W   = Σ_n G_n · cols(X_n)ᵀ
//! ∂L/∂b   = Σ_{n, positions} G
//! ```
//!
//! The three products are `tensor::conv`'s kernels; this file only wires them to the graph. The
//! settings (stride, padding, dilation) are tensor's own [`Conv2dParams`] and [`Conv1dParams`],
//! re-exported by this crate, so they are described once.

use tensor::conv::{self, Conv1dParams, Conv2dParams};
use tensor::Tensor;

use crate::var::Var;

impl Var {
    /// 2-D convolution of `self` (`[N, C, H, W]`) with `weight` (`[O, C, KH, KW]`), plus `bias` (`[O]`).
    pub fn conv2d(&self, weight: &Var, bias: Option<&Var>, p: Conv2dParams) -> Var {
        let y = conv::conv2d(
            &self.value(),
            &weight.value(),
            bias.map(|b| b.value().clone()).as_ref(),
            p,
        );
        record(
            "conv2d",
            y,
            self,
            weight,
            bias,
            move |g, w, shape| conv::conv2d_backward_input(g, w, shape, p),
            move |g, x, shape| conv::conv2d_backward_weight(g, x, shape, p),
        )
    }

    /// 1-D convolution of `self` (`[N, C, L]`) with `weight` (`[O, C, K]`), plus `bias` (`[O]`).
    pub fn conv1d(&self, weight: &Var, bias: Option<&Var>, p: Conv1dParams) -> Var {
        let y = conv::conv1d(
            &self.value(),
            &weight.value(),
            bias.map(|b| b.value().clone()).as_ref(),
            p,
        );
        record(
            "conv1d",
            y,
            self,
            weight,
            bias,
            move |g, w, shape| conv::conv1d_backward_input(g, w, shape, p),
            move |g, x, shape| conv::conv1d_backward_weight(g, x, shape, p),
        )
    }
}

/// Records a convolution `y` of `x` with `weight` (and `bias`), whose backward products are
/// `backward_input(g, weight, x's shape)` and `backward_weight(g, x, weight's shape)`; the bias
/// gradient is the same for every convolution (a sum over samples and positions).
fn record(
    op: &'static str,
    y: Tensor,
    x: &Var,
    weight: &Var,
    bias: Option<&Var>,
    backward_input: impl Fn(&Tensor, &Tensor, &[usize]) -> Tensor + 'static,
    backward_weight: impl Fn(&Tensor, &Tensor, &[usize]) -> Tensor + 'static,
) -> Var {
    let mut inputs = vec![x, weight];
    inputs.extend(bias);
    Var::from_op(op, y, &inputs, move |g, inputs| {
        let (x, w) = (&inputs[0], &inputs[1]);
        if x.requires_grad() {
            let dx = backward_input(g, &w.value(), &x.shape());
            x.accumulate_grad(dx);
        }
        if w.requires_grad() {
            let dw = backward_weight(g, &x.value(), &w.shape());
            w.accumulate_grad(dw);
        }
        if let Some(b) = inputs.get(2).filter(|b| b.requires_grad()) {
            b.accumulate_grad(conv::conv_backward_bias(g));
        }
    })
}
