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
//! The three products are `tensor::conv`'s kernels; this file only wires them to the graph.

use tensor::conv;

use crate::var::Var;

/// The geometry of a 2-D convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dParams {
    pub stride: (usize, usize),
    pub padding: (usize, usize),
    pub dilation: (usize, usize),
}

impl Default for Conv2dParams {
    fn default() -> Self {
        Conv2dParams {
            stride: (1, 1),
            padding: (0, 0),
            dilation: (1, 1),
        }
    }
}

/// The geometry of a 1-D convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv1dParams {
    pub stride: usize,
    pub padding: usize,
    pub dilation: usize,
}

impl Default for Conv1dParams {
    fn default() -> Self {
        Conv1dParams {
            stride: 1,
            padding: 0,
            dilation: 1,
        }
    }
}

impl Var {
    /// 2-D convolution of `self` (`[N, C, H, W]`) with `weight` (`[O, C, KH, KW]`), plus `bias` (`[O]`).
    pub fn conv2d(&self, weight: &Var, bias: Option<&Var>, p: Conv2dParams) -> Var {
        let y = conv::conv2d(
            &self.value(),
            &weight.value(),
            bias.map(|b| b.value().clone()).as_ref(),
            p.stride,
            p.padding,
            p.dilation,
        );
        let mut inputs = vec![self, weight];
        inputs.extend(bias);
        Var::from_op("conv2d", y, &inputs, move |g, inputs| {
            let (x, w) = (&inputs[0], &inputs[1]);
            if x.requires_grad() {
                let shape = x.shape();
                let dx = conv::conv2d_backward_input(
                    g,
                    &w.value(),
                    &shape,
                    p.stride,
                    p.padding,
                    p.dilation,
                );
                x.accumulate_grad(dx);
            }
            if w.requires_grad() {
                let shape = w.shape();
                let dw = conv::conv2d_backward_weight(
                    g,
                    &x.value(),
                    &shape,
                    p.stride,
                    p.padding,
                    p.dilation,
                );
                w.accumulate_grad(dw);
            }
            if let Some(b) = inputs.get(2) {
                if b.requires_grad() {
                    b.accumulate_grad(conv::conv_backward_bias(g));
                }
            }
        })
    }

    /// 1-D convolution of `self` (`[N, C, L]`) with `weight` (`[O, C, K]`), plus `bias` (`[O]`).
    pub fn conv1d(&self, weight: &Var, bias: Option<&Var>, p: Conv1dParams) -> Var {
        let y = conv::conv1d(
            &self.value(),
            &weight.value(),
            bias.map(|b| b.value().clone()).as_ref(),
            p.stride,
            p.padding,
            p.dilation,
        );
        let mut inputs = vec![self, weight];
        inputs.extend(bias);
        Var::from_op("conv1d", y, &inputs, move |g, inputs| {
            let (x, w) = (&inputs[0], &inputs[1]);
            if x.requires_grad() {
                let shape = x.shape();
                let dx = conv::conv1d_backward_input(
                    g,
                    &w.value(),
                    &shape,
                    p.stride,
                    p.padding,
                    p.dilation,
                );
                x.accumulate_grad(dx);
            }
            if w.requires_grad() {
                let shape = w.shape();
                let dw = conv::conv1d_backward_weight(
                    g,
                    &x.value(),
                    &shape,
                    p.stride,
                    p.padding,
                    p.dilation,
                );
                w.accumulate_grad(dw);
            }
            if let Some(b) = inputs.get(2) {
                if b.requires_grad() {
                    b.accumulate_grad(conv::conv_backward_bias(g));
                }
            }
        })
    }
}
