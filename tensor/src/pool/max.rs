//! Max pooling and its backward.
//!
//! Shapes: `X [N, C, H, W]` → `Y [N, C, OH, OW]` (1-D: `[N, C, L]` → `[N, C, OL]`), plus `argmax`,
//! one index per output cell.
//!
//! ```text
//! Y[n, c, oh, ow] = max_{i < KH, j < KW} X[n, c, oh·sh + i, ow·sw + j]
//! argmax[q]       = the flat index into X (over all of X, not the plane) where Y[q] was found
//! dX              = Σ_q dY[q] · e_{argmax[q]}        (scatter-add)
//! ```
//!
//! The max is piecewise the identity on one input, so its gradient goes to that input alone; with
//! overlapping windows (stride < kernel) one input can be the max of several windows and collects
//! all their gradients, hence scatter-*add*.
//!
//! Ties go to the first maximum in row-major order within the window (a strict `>` never replaces
//! an equal value), so the gradient of a tie is not split. NaN propagates: a window holding a NaN has
//! max NaN, and its argmax is the window's first NaN — as in PyTorch, so that a NaN upstream is not
//! silently hidden by a pool.

use super::{for_each_plane, PoolGeometry};
use crate::error::{fail, TensorError};
use crate::Tensor;

/// Max over `KH × KW` windows stepping `stride`; returns `Y [N, C, OH, OW]` and the flat index into
/// `input` of each output's maximum (first on ties, first NaN if any).
#[track_caller]
pub fn max_pool2d(
    input: &Tensor,
    kernel: (usize, usize),
    stride: (usize, usize),
) -> (Tensor, Vec<usize>) {
    let g = PoolGeometry::new_2d("max_pool2d", input.shape(), kernel, stride);
    forward(input, &g)
}

/// `dX` for `max_pool2d`: each `grad_out` cell added into the input cell its `argmax` names.
#[track_caller]
pub fn max_pool2d_backward(grad_out: &Tensor, argmax: &[usize], input_shape: &[usize]) -> Tensor {
    let op = "max_pool2d_backward";
    let &[n, c, h, w] = input_shape else {
        fail(TensorError::InvalidArgument {
            op,
            message: format!("expected input_shape [N, C, H, W] of rank 4, found {input_shape:?}"),
        })
    };
    let out_plane = match grad_out.shape() {
        &[gn, gc, oh, ow] if gn == n && gc == c => oh * ow,
        other => fail(TensorError::ShapeMismatch {
            op,
            lhs: other.to_vec(),
            rhs: input_shape.to_vec(),
        }),
    };
    backward(op, grad_out, argmax, input_shape, h * w, out_plane)
}

/// [`max_pool2d`] on `[N, C, L]` with a window of `kernel` cells; returns `[N, C, OL]` and argmax.
#[track_caller]
pub fn max_pool1d(input: &Tensor, kernel: usize, stride: usize) -> (Tensor, Vec<usize>) {
    let g = PoolGeometry::new_1d("max_pool1d", input.shape(), kernel, stride);
    forward(input, &g)
}

/// [`max_pool2d_backward`] for [`max_pool1d`].
#[track_caller]
pub fn max_pool1d_backward(grad_out: &Tensor, argmax: &[usize], input_shape: &[usize]) -> Tensor {
    let op = "max_pool1d_backward";
    let &[n, c, l] = input_shape else {
        fail(TensorError::InvalidArgument {
            op,
            message: format!("expected input_shape [N, C, L] of rank 3, found {input_shape:?}"),
        })
    };
    let out_plane = match grad_out.shape() {
        &[gn, gc, ol] if gn == n && gc == c => ol,
        other => fail(TensorError::ShapeMismatch {
            op,
            lhs: other.to_vec(),
            rhs: input_shape.to_vec(),
        }),
    };
    backward(op, grad_out, argmax, input_shape, l, out_plane)
}

/// Finds each window's argmax (in parallel over planes), then reads the maxima through it.
fn forward(input: &Tensor, g: &PoolGeometry) -> (Tensor, Vec<usize>) {
    let x = input.data();
    let (in_plane, ow_n) = (g.in_plane(), g.ow);
    let mut argmax = vec![0usize; g.planes * g.out_plane()];
    for_each_plane(&mut argmax, g.out_plane(), g.work(), |p, arg| {
        let base = p * in_plane;
        let plane = &x[base..base + in_plane];
        for (q, slot) in arg.iter_mut().enumerate() {
            let (oh, ow) = (q / ow_n, q % ow_n);
            let corner = oh * g.sh * g.w + ow * g.sw;
            let (mut best_i, mut best) = (corner, plane[corner]);
            for i in 0..g.kh {
                let row = corner + i * g.w;
                for (j, &v) in plane[row..row + g.kw].iter().enumerate() {
                    // Strict `>`: an equal value never displaces the first. A NaN displaces a
                    // number, and nothing displaces a NaN (every comparison with it is false).
                    if v > best || (v.is_nan() && !best.is_nan()) {
                        (best_i, best) = (row + j, v);
                    }
                }
            }
            *slot = base + best_i;
        }
    });
    let y = argmax.iter().map(|&i| x[i]).collect();
    (Tensor::from_parts(g.out_shape.clone(), y), argmax)
}

/// Scatter-adds `grad_out` into a zero `dX` at `argmax`, in parallel over planes. Every index must
/// lie in the plane of its output cell (true of any argmax `forward` returns), which is what lets
/// planes be written independently.
#[track_caller]
fn backward(
    op: &'static str,
    grad_out: &Tensor,
    argmax: &[usize],
    input_shape: &[usize],
    in_plane: usize,
    out_plane: usize,
) -> Tensor {
    if argmax.len() != grad_out.numel() {
        fail(TensorError::InvalidArgument {
            op,
            message: format!(
                "argmax holds {} indices but grad_out {:?} has {} cells",
                argmax.len(),
                grad_out.shape(),
                grad_out.numel()
            ),
        });
    }
    let dy = grad_out.data();
    let mut dx = vec![0.0; input_shape.iter().product()];
    let work = 2 * argmax.len();
    for_each_plane(&mut dx, in_plane, work, |p, dx_p| {
        let base = p * in_plane;
        let range = p * out_plane..(p + 1) * out_plane;
        // The forward copied X[argmax[q]] into Y[q], so the backward adds dY[q] back there.
        for (&i, &d) in argmax[range.clone()].iter().zip(&dy[range]) {
            if i < base || i >= base + in_plane {
                fail(TensorError::InvalidArgument {
                    op,
                    message: format!(
                        "argmax index {i} is outside plane {p} of input {input_shape:?} \
                         (indices {base}..{})",
                        base + in_plane
                    ),
                });
            }
            dx_p[i - base] += d;
        }
    });
    Tensor::from_parts(input_shape.to_vec(), dx)
}
