//! 1-D convolution, run through the 2-D kernels.
//!
//! Shapes: input `X [N, C, L]`, weight `W [O, C, K]`, bias `b [O]`, output `Y [N, O, OL]`. The same
//! maths as [`conv2d`](super::conv2d) with `K = C·K` rows and `P = OL` columns:
//! `Y_n = W·cols_n + b`, `dX_n = col2im(Wᵀ·dY_n)`, `dW = Σ_n dY_n·cols_nᵀ`.
//!
//! Nothing here is computed: `[N, C, L]` is laid out exactly like `[N, C, 1, L]`, and `[O, C, K]`
//! like `[O, C, 1, K]`, so each function checks its 1-D shapes, views the geometry as a 2-D one
//! with height 1 ([`Conv1dGeometry::as_2d`]) and calls the 2-D kernel on the same buffers. One
//! im2col, one set of loops to get right, at the cost of a few loop levels that run once.

use super::conv2d::{backward_input, backward_weight, check_bias, check_grad_out, forward, ranked};
use super::geometry::{Conv1dGeometry, Conv1dParams};
use crate::error::{fail, TensorError};
use crate::Tensor;

/// `Y = conv1d(X, W) + b`: `[N, C, L]` ⊛ `[O, C, K]` → `[N, O, OL]`.
///
/// Panics (naming `conv1d` and the shapes) when a rank is not 3, the channels of input and weight
/// differ, `bias` is not `[O]`, or the geometry is invalid (see [`Conv1dGeometry::new`]).
///
/// The definition, as plain loops: [`reference::conv1d`](crate::reference::conv1d).
#[track_caller]
pub fn conv1d(
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    params: Conv1dParams,
) -> Tensor {
    let op = "conv1d";
    let (n, o, g) = check(op, input.shape(), weight.shape(), params);
    let bias = bias.map(|b| check_bias(op, b, weight.shape()));
    let y = forward(input.data(), n, weight.data(), o, bias, &g.as_2d());
    Tensor::from_parts(vec![n, o, g.out_length()], y)
}

/// `dX` for `Y = conv1d(X, W)`: `grad_out [N, O, OL]`, `weight [O, C, K]` → `[N, C, L]`
/// (`input_shape`).
///
/// The definition, as plain loops:
/// [`reference::conv1d_backward_input`](crate::reference::conv1d_backward_input).
#[track_caller]
pub fn conv1d_backward_input(
    grad_out: &Tensor,
    weight: &Tensor,
    input_shape: &[usize],
    params: Conv1dParams,
) -> Tensor {
    let op = "conv1d_backward_input";
    let (n, o, g) = check(op, input_shape, weight.shape(), params);
    check_grad_out(op, grad_out.shape(), &[n, o, g.out_length()]);
    let dx = backward_input(grad_out.data(), n, weight.data(), o, &g.as_2d());
    Tensor::from_parts(input_shape.to_vec(), dx)
}

/// `dW` for `Y = conv1d(X, W)`: `grad_out [N, O, OL]`, `input [N, C, L]` → `[O, C, K]`
/// (`weight_shape`).
///
/// The definition, as plain loops:
/// [`reference::conv1d_backward_weight`](crate::reference::conv1d_backward_weight).
#[track_caller]
pub fn conv1d_backward_weight(
    grad_out: &Tensor,
    input: &Tensor,
    weight_shape: &[usize],
    params: Conv1dParams,
) -> Tensor {
    let op = "conv1d_backward_weight";
    let (n, o, g) = check(op, input.shape(), weight_shape, params);
    check_grad_out(op, grad_out.shape(), &[n, o, g.out_length()]);
    let dw = backward_weight(grad_out.data(), n, input.data(), o, &g.as_2d());
    Tensor::from_parts(weight_shape.to_vec(), dw)
}

/// Checks `[N, C, L]` against `[O, C, K]` and builds the geometry; returns `(N, O, geometry)`.
#[track_caller]
fn check(
    op: &'static str,
    input: &[usize],
    weight: &[usize],
    params: Conv1dParams,
) -> (usize, usize, Conv1dGeometry) {
    let [n, c, l] = ranked(op, "input [N, C, L]", input);
    let [o, c_w, k] = ranked(op, "weight [O, C, K]", weight);
    if c != c_w {
        fail(TensorError::ShapeMismatch {
            op,
            lhs: input.to_vec(),
            rhs: weight.to_vec(),
        });
    }
    let g = Conv1dGeometry::checked(op, [c, l], k, params);
    (n, o, g)
}
