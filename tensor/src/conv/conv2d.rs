//! 2-D convolution (cross-correlation, as in every deep-learning library) and its two backward
//! products, through im2col and `sgemm`.
//!
//! Shapes: input `X [N, C, H, W]`, weight `W [O, C, KH, KW]`, bias `b [O]`, output
//! `Y [N, O, OH, OW]` (sizes from [`Conv2dGeometry`]). Write `K = C·KH·KW` and `P = OH·OW`, and see
//! each image's weight as the matrix `W [O, K]` and its im2col columns as `cols_n [K, P]`:
//!
//! ```text
//! forward          Y_n  = W · cols_n + b          [O, P] = [O, K]·[K, P]  (b added to every column)
//! backward, input  dcols_n = Wᵀ · dY_n            [K, P] = [K, O]·[O, P]
//!                  dX_n = col2im(dcols_n)
//! backward, weight dW   = Σ_n dY_n · cols_nᵀ      [O, K] = [O, P]·[P, K]
//! backward, bias   db   = Σ_n Σ_p dY_n[:, p]      (see `conv_backward_bias`)
//! ```
//!
//! Each image is one `sgemm`; images are independent, so they are spread over threads with rayon,
//! each thread with its own column buffer (`K·P` floats, reused across the images it handles).
//! Each image's slice of the output is zeroed by the thread that computes it, just before (see
//! [`crate::parallel::new_with_chunks_init`]).
//! Transposes cost nothing: `sgemm` reads a stored matrix transposed through its strides.

use super::geometry::{Conv2dGeometry, Conv2dParams};
use super::im2col::{col2im_2d, im2col_2d};
use crate::error::{fail, TensorError};
use crate::layout::{MatMut, MatRef, Scale};
use crate::matmul::sgemm;
use crate::parallel::new_with_chunks_init;
use crate::Tensor;

/// Multiply-adds below which a whole convolution runs on the calling thread: the work must be
/// a few times what handing images to rayon threads costs, or the threads only add overhead.
const PARALLEL_MIN_WORK: usize = 1 << 18;

/// How many partial weight gradients `backward_weight` sums into at most (see there).
const WEIGHT_GRAD_BLOCKS: usize = 16;

/// `Y = conv2d(X, W) + b`: `[N, C, H, W]` ⊛ `[O, C, KH, KW]` → `[N, O, OH, OW]`.
///
/// Panics (naming `conv2d` and the shapes) when a rank is not 4, the channels of input and weight
/// differ, `bias` is not `[O]`, or the geometry is invalid (see [`Conv2dGeometry::new`]).
///
/// The definition, as plain loops: [`reference::conv2d`](crate::reference::conv2d).
#[track_caller]
pub fn conv2d(
    input: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    params: Conv2dParams,
) -> Tensor {
    let op = "conv2d";
    let (n, o, g) = check(op, input.shape(), weight.shape(), params);
    let bias = bias.map(|b| check_bias(op, b, weight.shape()));
    let y = forward(input.data(), n, weight.data(), o, bias, &g);
    Tensor::from_parts(vec![n, o, g.out_height(), g.out_width()], y)
}

/// `dX` for `Y = conv2d(X, W)`: `grad_out [N, O, OH, OW]`, `weight [O, C, KH, KW]` → `[N, C, H, W]`
/// (`input_shape`).
///
/// The definition, as plain loops:
/// [`reference::conv2d_backward_input`](crate::reference::conv2d_backward_input).
#[track_caller]
pub fn conv2d_backward_input(
    grad_out: &Tensor,
    weight: &Tensor,
    input_shape: &[usize],
    params: Conv2dParams,
) -> Tensor {
    let op = "conv2d_backward_input";
    let (n, o, g) = check(op, input_shape, weight.shape(), params);
    check_grad_out(op, grad_out.shape(), &[n, o, g.out_height(), g.out_width()]);
    let dx = backward_input(grad_out.data(), n, weight.data(), o, &g);
    Tensor::from_parts(input_shape.to_vec(), dx)
}

/// `dW` for `Y = conv2d(X, W)`: `grad_out [N, O, OH, OW]`, `input [N, C, H, W]` →
/// `[O, C, KH, KW]` (`weight_shape`).
///
/// The definition, as plain loops:
/// [`reference::conv2d_backward_weight`](crate::reference::conv2d_backward_weight).
#[track_caller]
pub fn conv2d_backward_weight(
    grad_out: &Tensor,
    input: &Tensor,
    weight_shape: &[usize],
    params: Conv2dParams,
) -> Tensor {
    let op = "conv2d_backward_weight";
    let (n, o, g) = check(op, input.shape(), weight_shape, params);
    check_grad_out(op, grad_out.shape(), &[n, o, g.out_height(), g.out_width()]);
    let dw = backward_weight(grad_out.data(), n, input.data(), o, &g);
    Tensor::from_parts(weight_shape.to_vec(), dw)
}

// ----- the kernels, on slices (shared with conv1d) ----------------------------------------------

/// `Y_n = W · cols_n + b` for every image. `x`: `N` images of `g.image_len()`; `w`: `[O, K]`;
/// returns `[N, O, P]`.
pub(super) fn forward(
    x: &[f32],
    n: usize,
    w: &[f32],
    o: usize,
    bias: Option<&[f32]>,
    g: &Conv2dGeometry,
) -> Vec<f32> {
    let (k, p, image_len) = (g.rows(), g.cols(), g.image_len());
    let parallel = n * o * k * p >= PARALLEL_MIN_WORK;
    let columns = || vec![0.0; g.columns_len()];
    new_with_chunks_init(n * o * p, o * p, parallel, columns, |buf, offset, y_n| {
        let i = offset / (o * p);
        let x_n = &x[i * image_len..(i + 1) * image_len];
        // A 1×1, stride-1, unpadded kernel's columns are the image itself: skip the copy.
        let cols: &[f32] = if g.is_identity() {
            x_n
        } else {
            im2col_2d(x_n, g, buf);
            buf
        };
        // The bias is added by starting each output row at b[o] and letting sgemm accumulate
        // (beta = 1) onto it, which saves a second pass over Y.
        let scale = match bias {
            Some(b) => {
                for (row, &b_o) in y_n.chunks_exact_mut(p).zip(b) {
                    row.fill(b_o);
                }
                Scale::ACCUMULATE
            }
            None => Scale::OVERWRITE,
        };
        let (w, cols) = (MatRef::new(w, o, k), MatRef::new(cols, k, p));
        sgemm(w, cols, scale, MatMut::new(y_n, o, p));
    })
}

/// `dX_n = col2im(Wᵀ · dY_n)` for every image. `dy`: `[N, O, P]`; `w`: `[O, K]`; returns `N`
/// images of `g.image_len()`.
pub(super) fn backward_input(
    dy: &[f32],
    n: usize,
    w: &[f32],
    o: usize,
    g: &Conv2dGeometry,
) -> Vec<f32> {
    let (k, p, image_len) = (g.rows(), g.cols(), g.image_len());
    let parallel = n * o * k * p >= PARALLEL_MIN_WORK;
    let columns = || vec![0.0; g.columns_len()];
    new_with_chunks_init(
        n * image_len,
        image_len,
        parallel,
        columns,
        |dcols, offset, dx_n| {
            let i = offset / image_len;
            let dy_n = &dy[i * o * p..(i + 1) * o * p];
            // The forward was Y_n = W·cols_n, so dcols_n = Wᵀ·dY_n: the weight is stored as [O, K],
            // and sgemm reads its transpose through the strides, without a copy.
            let (wt, dy_n) = (MatRef::new(w, o, k).t(), MatRef::new(dy_n, o, p));
            if g.is_identity() {
                // ...and cols_n was X_n itself, so dcols_n is dX_n: write it straight there.
                sgemm(wt, dy_n, Scale::OVERWRITE, MatMut::new(dx_n, k, p));
            } else {
                // ...and cols_n was im2col(X_n), so dX_n = col2im(dcols_n), the adjoint of im2col.
                // (dx_n starts at zero and col2im accumulates into it.)
                sgemm(wt, dy_n, Scale::OVERWRITE, MatMut::new(dcols, k, p));
                col2im_2d(dcols, g, dx_n);
            }
        },
    )
}

/// `dW = Σ_n dY_n · cols_nᵀ`. `dy`: `[N, O, P]`; `x`: `N` images; returns `[O, K]`.
///
/// Why blocks: the sum over images is where threads would meet. One way is sequential over images
/// with `sgemm(beta = 1)` into a single `dW` — simple, but one thread. The other, taken here: cut
/// the batch into at most [`WEIGHT_GRAD_BLOCKS`] consecutive blocks, let each block accumulate its
/// own partial `dW` (in parallel across blocks, sequential with `beta = 1` inside), then add the
/// partials in block order. The blocks depend only on `N`, never on the number of threads, so the
/// floating-point sum is the same on 1 thread or 16 — and the sequential path (small work) uses the
/// same blocks, so it gives the same bits too. The cost is `blocks · O·K` floats, small next to one
/// image's columns: on one thread the blocks cost nothing measurable, and they scale with the
/// threads, where the sequential sum cannot (the timings: docs/performance.md).
pub(super) fn backward_weight(
    dy: &[f32],
    n: usize,
    x: &[f32],
    o: usize,
    g: &Conv2dGeometry,
) -> Vec<f32> {
    let (k, p, image_len) = (g.rows(), g.cols(), g.image_len());
    if n == 0 || o * k == 0 {
        return vec![0.0; o * k];
    }
    let block_len = n.div_ceil(n.min(WEIGHT_GRAD_BLOCKS));
    let blocks = n.div_ceil(block_len);
    let parallel = n * o * k * p >= PARALLEL_MIN_WORK;
    let columns = || vec![0.0; g.columns_len()];
    let mut partials = new_with_chunks_init(
        blocks * o * k,
        o * k,
        parallel,
        columns,
        |buf, offset, dw_b| {
            let b = offset / (o * k);
            for i in b * block_len..((b + 1) * block_len).min(n) {
                let x_n = &x[i * image_len..(i + 1) * image_len];
                let dy_n = &dy[i * o * p..(i + 1) * o * p];
                let cols: &[f32] = if g.is_identity() {
                    x_n
                } else {
                    im2col_2d(x_n, g, buf);
                    buf
                };
                // The forward was Y_n = W·cols_n, so dW gains dY_n·cols_nᵀ: cols_n is stored [K, P],
                // and sgemm reads its transpose through the strides. The first image of a block
                // overwrites (beta = 0), the rest accumulate (beta = 1).
                let scale = if i == b * block_len {
                    Scale::OVERWRITE
                } else {
                    Scale::ACCUMULATE
                };
                let (dy_n, cols_t) = (MatRef::new(dy_n, o, p), MatRef::new(cols, k, p).t());
                sgemm(dy_n, cols_t, scale, MatMut::new(dw_b, o, k));
            }
        },
    );
    let (dw, rest) = partials.split_at_mut(o * k);
    for part in rest.chunks_exact(o * k) {
        for (a, &b) in dw.iter_mut().zip(part) {
            *a += b;
        }
    }
    partials.truncate(o * k);
    partials
}

// ----- shape checks -----------------------------------------------------------------------------

/// Checks a rank-4 input shape `[N, C, H, W]` against a rank-4 weight shape `[O, C, KH, KW]` and
/// builds the geometry; returns `(N, O, geometry)`.
#[track_caller]
fn check(
    op: &'static str,
    input: &[usize],
    weight: &[usize],
    params: Conv2dParams,
) -> (usize, usize, Conv2dGeometry) {
    let [n, c, h, w] = ranked(op, "input [N, C, H, W]", input);
    let [o, c_w, kh, kw] = ranked(op, "weight [O, C, KH, KW]", weight);
    if c != c_w {
        fail(TensorError::ShapeMismatch {
            op,
            lhs: input.to_vec(),
            rhs: weight.to_vec(),
        });
    }
    let g = Conv2dGeometry::checked(op, [c, h, w], [kh, kw], params);
    (n, o, g)
}

/// The sizes of a shape that must have rank `R`; panics naming `what` was expected otherwise.
#[track_caller]
pub(super) fn ranked<const R: usize>(op: &'static str, what: &str, shape: &[usize]) -> [usize; R] {
    shape.try_into().unwrap_or_else(|_| {
        fail(TensorError::InvalidArgument {
            op,
            message: format!("expected {what} of rank {R}, found shape {shape:?}"),
        })
    })
}

/// Panics unless `bias` is `[O]` for a weight `[O, …]`; returns its values.
#[track_caller]
pub(super) fn check_bias<'a>(op: &'static str, bias: &'a Tensor, weight: &[usize]) -> &'a [f32] {
    if bias.shape() != [weight[0]] {
        fail(TensorError::InvalidArgument {
            op,
            message: format!(
                "bias must have shape [O] = [{}] for weight {weight:?}, found {:?}",
                weight[0],
                bias.shape()
            ),
        });
    }
    bias.data()
}

/// Panics unless the output gradient has the shape the forward's output had.
#[track_caller]
pub(super) fn check_grad_out(op: &'static str, grad_out: &[usize], expected: &[usize]) {
    if grad_out != expected {
        fail(TensorError::ShapeMismatch {
            op,
            lhs: grad_out.to_vec(),
            rhs: expected.to_vec(),
        });
    }
}
