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
//!
//! Three forms of the forward share one kernel (`plane_forward`, branch-free, row by row):
//! [`max_pool2d`] (`usize` indices, the original API), [`max_pool2d_argmax32`] (`u32` indices, half
//! the memory: what autograd keeps) and [`max_pool2d_values`] (no index buffer at all, for
//! inference). [`reference::max_pool2d`](crate::reference::max_pool2d) is the plain per-window
//! loop they are tested against.
//!
//! Windows two cells wide that step two (`KW = sw = 2`: the 1×2 and 2×2 pools of the benchmarks)
//! take a fast path instead, `max_pairs.rs`: there the windows of an output row read consecutive
//! cells, so eight outputs come from two vector loads and a shuffle on AVX2, with the same visiting
//! order and the same rule, hence the same bits and indices. The `*_with` forms take the SIMD
//! level explicitly, so that tests can run that path on every level the CPU has.

use super::{max_pairs, new_plane_pairs, ArgIndex, PoolGeometry};
use crate::error::{fail, TensorError};
use crate::parallel::{new_with_chunks, MIN_CHUNK};
use crate::simd::{self, Level};
use crate::Tensor;

/// Max over `KH × KW` windows stepping `stride`; returns `Y [N, C, OH, OW]` and the flat index into
/// `input` of each output's maximum (first on ties, first NaN if any).
///
/// The definition, as plain loops: [`reference::max_pool2d`](crate::reference::max_pool2d).
#[track_caller]
pub fn max_pool2d(
    input: &Tensor,
    kernel: (usize, usize),
    stride: (usize, usize),
) -> (Tensor, Vec<usize>) {
    let g = PoolGeometry::new_2d("max_pool2d", input.shape(), kernel, stride);
    forward("max_pool2d", simd::level(), input, &g, true)
}

/// [`max_pool2d`] with 32-bit indices (half the memory of `usize` ones): what the autograd op
/// keeps for its backward. Panics if `input` has more than 2³² cells.
#[track_caller]
pub fn max_pool2d_argmax32(
    input: &Tensor,
    kernel: (usize, usize),
    stride: (usize, usize),
) -> (Tensor, Vec<u32>) {
    let g = PoolGeometry::new_2d("max_pool2d", input.shape(), kernel, stride);
    forward("max_pool2d", simd::level(), input, &g, true)
}

/// [`max_pool2d`]'s values only, with no argmax at all: for a forward no backward will follow
/// (inference, a teacher under `no_grad`).
#[track_caller]
pub fn max_pool2d_values(input: &Tensor, kernel: (usize, usize), stride: (usize, usize)) -> Tensor {
    let g = PoolGeometry::new_2d("max_pool2d", input.shape(), kernel, stride);
    forward::<u32>("max_pool2d", simd::level(), input, &g, false).0
}

/// [`max_pool2d`] on an explicit SIMD level, which must be available on this CPU (the level decides
/// only how the `KW = sw = 2` fast path runs; the results are the same on every level).
#[track_caller]
pub fn max_pool2d_with(
    level: Level,
    input: &Tensor,
    kernel: (usize, usize),
    stride: (usize, usize),
) -> (Tensor, Vec<usize>) {
    check_level("max_pool2d_with", level);
    let g = PoolGeometry::new_2d("max_pool2d", input.shape(), kernel, stride);
    forward("max_pool2d", level, input, &g, true)
}

/// [`max_pool2d_argmax32`] on an explicit SIMD level (see [`max_pool2d_with`]).
#[track_caller]
pub fn max_pool2d_argmax32_with(
    level: Level,
    input: &Tensor,
    kernel: (usize, usize),
    stride: (usize, usize),
) -> (Tensor, Vec<u32>) {
    check_level("max_pool2d_argmax32_with", level);
    let g = PoolGeometry::new_2d("max_pool2d", input.shape(), kernel, stride);
    forward("max_pool2d", level, input, &g, true)
}

/// [`max_pool2d_values`] on an explicit SIMD level (see [`max_pool2d_with`]).
#[track_caller]
pub fn max_pool2d_values_with(
    level: Level,
    input: &Tensor,
    kernel: (usize, usize),
    stride: (usize, usize),
) -> Tensor {
    check_level("max_pool2d_values_with", level);
    let g = PoolGeometry::new_2d("max_pool2d", input.shape(), kernel, stride);
    forward::<u32>("max_pool2d", level, input, &g, false).0
}

/// Panics unless the CPU can run `level` (the fast path would otherwise execute instructions the
/// CPU lacks).
#[track_caller]
fn check_level(op: &str, level: Level) {
    assert!(
        level.is_available(),
        "pool::{op}: level {level:?} is not available on this CPU (available: {:?})",
        simd::available_levels()
    );
}

/// `dX` for `max_pool2d`: each `grad_out` cell added into the input cell its `argmax` names.
///
/// The definition, as plain loops:
/// [`reference::max_pool_backward`](crate::reference::max_pool_backward).
#[track_caller]
pub fn max_pool2d_backward(grad_out: &Tensor, argmax: &[usize], input_shape: &[usize]) -> Tensor {
    max_pool2d_backward_any(grad_out, argmax, input_shape)
}

/// [`max_pool2d_backward`] for the 32-bit indices of [`max_pool2d_argmax32`].
#[track_caller]
pub fn max_pool2d_backward32(grad_out: &Tensor, argmax: &[u32], input_shape: &[usize]) -> Tensor {
    max_pool2d_backward_any(grad_out, argmax, input_shape)
}

#[track_caller]
fn max_pool2d_backward_any<I: ArgIndex>(
    grad_out: &Tensor,
    argmax: &[I],
    input_shape: &[usize],
) -> Tensor {
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
///
/// The definition, as plain loops: [`reference::max_pool1d`](crate::reference::max_pool1d).
#[track_caller]
pub fn max_pool1d(input: &Tensor, kernel: usize, stride: usize) -> (Tensor, Vec<usize>) {
    let g = PoolGeometry::new_1d("max_pool1d", input.shape(), kernel, stride);
    forward("max_pool1d", simd::level(), input, &g, true)
}

/// [`max_pool1d`] with 32-bit indices (see [`max_pool2d_argmax32`]).
#[track_caller]
pub fn max_pool1d_argmax32(input: &Tensor, kernel: usize, stride: usize) -> (Tensor, Vec<u32>) {
    let g = PoolGeometry::new_1d("max_pool1d", input.shape(), kernel, stride);
    forward("max_pool1d", simd::level(), input, &g, true)
}

/// [`max_pool1d`]'s values only, no argmax (see [`max_pool2d_values`]).
#[track_caller]
pub fn max_pool1d_values(input: &Tensor, kernel: usize, stride: usize) -> Tensor {
    let g = PoolGeometry::new_1d("max_pool1d", input.shape(), kernel, stride);
    forward::<u32>("max_pool1d", simd::level(), input, &g, false).0
}

/// [`max_pool2d_backward`] for [`max_pool1d`].
///
/// The definition, as plain loops:
/// [`reference::max_pool_backward`](crate::reference::max_pool_backward).
#[track_caller]
pub fn max_pool1d_backward(grad_out: &Tensor, argmax: &[usize], input_shape: &[usize]) -> Tensor {
    max_pool1d_backward_any(grad_out, argmax, input_shape)
}

/// [`max_pool1d_backward`] for the 32-bit indices of [`max_pool1d_argmax32`].
#[track_caller]
pub fn max_pool1d_backward32(grad_out: &Tensor, argmax: &[u32], input_shape: &[usize]) -> Tensor {
    max_pool1d_backward_any(grad_out, argmax, input_shape)
}

#[track_caller]
fn max_pool1d_backward_any<I: ArgIndex>(
    grad_out: &Tensor,
    argmax: &[I],
    input_shape: &[usize],
) -> Tensor {
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

/// Computes every window's max — and with `want_index`, its argmax — in parallel over planes.
/// `want_index = false` skips the indices entirely (an inference forward). `level` must be
/// available; it chooses how the `KW = sw = 2` fast path runs.
fn forward<I: ArgIndex>(
    op: &'static str,
    level: Level,
    input: &Tensor,
    g: &PoolGeometry,
    want_index: bool,
) -> (Tensor, Vec<I>) {
    let x = input.data();
    if want_index && I::from_flat(x.len().saturating_sub(1)).flat() != x.len().saturating_sub(1) {
        fail(TensorError::InvalidArgument {
            op,
            message: format!(
                "input {:?} has {} cells, more than a 32-bit argmax can index",
                input.shape(),
                x.len()
            ),
        });
    }
    let (in_plane, out_plane) = (g.in_plane(), g.out_plane());
    // Windows of two cells stepping two read consecutive pairs: the fast path (`max_pairs.rs`).
    let pairs = g.kw == 2 && g.sw == 2;
    let avx2 = max_pairs::uses_avx2(level);
    let one_plane = |p: usize, y_p: &mut [f32], arg_p: Option<&mut [I]>| {
        let base = p * in_plane;
        let plane = &x[base..base + in_plane];
        let arg_p = arg_p.map(|a| (a, base));
        if pairs {
            max_pairs::plane(avx2, plane, g, y_p, arg_p);
        } else {
            plane_forward(plane, g, y_p, arg_p);
        }
    };
    // Every output cell is written, so the buffers' initial values are never seen.
    let (y, argmax) = if want_index {
        new_plane_pairs(
            g.planes,
            (out_plane, 0.0),
            (out_plane, I::from_flat(0)),
            g.work(),
            |p, y_p, arg_p| one_plane(p, y_p, Some(arg_p)),
        )
    } else {
        let parallel = g.work() >= 2 * MIN_CHUNK;
        let y = new_with_chunks(g.planes * out_plane, out_plane, parallel, |at, y_p| {
            one_plane(at / out_plane, y_p, None)
        });
        (y, Vec::new())
    };
    (Tensor::from_parts(g.out_shape.clone(), y), argmax)
}

/// One plane: `y` (its `OH·OW` outputs) and optionally the argmax (flat, offset by `base`).
///
/// Output row by output row: the row is first set to each window's top-left cell, then every
/// other cell `(i, j)` of the windows, in row-major order, is compared against the whole row at
/// once. The inner loop over `ow` has no branch (`take` becomes a compare and a blend/select),
/// reads the input at stride `sw`, and keeps the row of maxima and indices in L1.
///
/// The rule is the one of the module doc: replace on a strict `>` (ties keep the first), a NaN
/// replaces a number, nothing replaces a NaN.
fn plane_forward<I: ArgIndex>(
    plane: &[f32],
    g: &PoolGeometry,
    y: &mut [f32],
    mut arg: Option<(&mut [I], usize)>,
) {
    let (w, ow_n) = (g.w, g.ow);
    for oh in 0..g.oh {
        let top = oh * g.sh * w;
        let y_row = &mut y[oh * ow_n..(oh + 1) * ow_n];
        let cells = |start: usize| plane[start..].iter().step_by(g.sw).take(ow_n);
        for (out, &v) in y_row.iter_mut().zip(cells(top)) {
            *out = v;
        }
        if let Some((arg, base)) = arg.as_mut() {
            let arg_row = &mut arg[oh * ow_n..(oh + 1) * ow_n];
            for (q, a) in arg_row.iter_mut().enumerate() {
                *a = I::from_flat(*base + top + q * g.sw);
            }
            for i in 0..g.kh {
                for j in (0..g.kw).filter(|&j| i > 0 || j > 0) {
                    let start = top + i * w + j;
                    let at = *base + start;
                    for (q, ((out, a), &v)) in y_row
                        .iter_mut()
                        .zip(arg_row.iter_mut())
                        .zip(cells(start))
                        .enumerate()
                    {
                        let take = v > *out || (v.is_nan() && !out.is_nan());
                        *out = if take { v } else { *out };
                        *a = if take {
                            I::from_flat(at + q * g.sw)
                        } else {
                            *a
                        };
                    }
                }
            }
        } else {
            for i in 0..g.kh {
                for j in (0..g.kw).filter(|&j| i > 0 || j > 0) {
                    for (out, &v) in y_row.iter_mut().zip(cells(top + i * w + j)) {
                        let take = v > *out || (v.is_nan() && !out.is_nan());
                        *out = if take { v } else { *out };
                    }
                }
            }
        }
    }
}

/// Scatter-adds `grad_out` into a zero `dX` at `argmax`, in parallel over planes. Every index must
/// lie in the plane of its output cell (true of any argmax `forward` returns), which is what lets
/// planes be written independently.
#[track_caller]
fn backward<I: ArgIndex>(
    op: &'static str,
    grad_out: &Tensor,
    argmax: &[I],
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
    let planes = input_shape.iter().product::<usize>() / in_plane.max(1);
    let work = 2 * argmax.len();
    // Each plane of dX is zeroed right before its scatter (`new_with_chunks`), not all of dX first.
    let dx = new_with_chunks(
        planes * in_plane,
        in_plane,
        work >= 2 * MIN_CHUNK,
        |base, dx_p| {
            let p = base / in_plane;
            let range = p * out_plane..(p + 1) * out_plane;
            // The forward copied X[argmax[q]] into Y[q], so the backward adds dY[q] back there.
            for (&i, &d) in argmax[range.clone()].iter().zip(&dy[range]) {
                let i = i.flat();
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
        },
    );
    Tensor::from_parts(input_shape.to_vec(), dx)
}
