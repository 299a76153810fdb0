//! Average pooling and its backward.
//!
//! Shapes: `X [N, C, H, W]` → `Y [N, C, OH, OW]` (1-D: `[N, C, L]` → `[N, C, OL]`).
//!
//! ```text
//! Y[n, c, oh, ow] = (1 / (KH·KW)) · Σ_{i < KH, j < KW} X[n, c, oh·sh + i, ow·sw + j]
//! dX[n, c, ih, iw] = Σ over the windows containing (ih, iw) of dY[n, c, oh, ow] / (KH·KW)
//! ```
//!
//! There is no padding, so every window has exactly `KH·KW` cells and the divisor is the same for
//! all (no `count_include_pad` question).

use super::{for_each_plane, PoolGeometry};
use crate::Tensor;

/// Mean over `KH × KW` windows stepping `stride`: `[N, C, H, W]` → `[N, C, OH, OW]`.
///
/// The definition, as plain loops: [`reference::avg_pool2d`](crate::reference::avg_pool2d).
#[track_caller]
pub fn avg_pool2d(input: &Tensor, kernel: (usize, usize), stride: (usize, usize)) -> Tensor {
    let g = PoolGeometry::new_2d("avg_pool2d", input.shape(), kernel, stride);
    forward(input, &g)
}

/// `dX` for [`avg_pool2d`]: each `grad_out` cell spread evenly over its window.
///
/// The definition, as plain loops:
/// [`reference::avg_pool2d_backward`](crate::reference::avg_pool2d_backward).
#[track_caller]
pub fn avg_pool2d_backward(
    grad_out: &Tensor,
    input_shape: &[usize],
    kernel: (usize, usize),
    stride: (usize, usize),
) -> Tensor {
    let op = "avg_pool2d_backward";
    let g = PoolGeometry::new_2d(op, input_shape, kernel, stride);
    g.check_grad_out(op, grad_out.shape());
    backward(grad_out, input_shape, &g)
}

/// [`avg_pool2d`] on `[N, C, L]` with a window of `kernel` cells → `[N, C, OL]`.
///
/// The definition, as plain loops: [`reference::avg_pool1d`](crate::reference::avg_pool1d).
#[track_caller]
pub fn avg_pool1d(input: &Tensor, kernel: usize, stride: usize) -> Tensor {
    let g = PoolGeometry::new_1d("avg_pool1d", input.shape(), kernel, stride);
    forward(input, &g)
}

/// [`avg_pool2d_backward`] for [`avg_pool1d`].
///
/// The definition, as plain loops:
/// [`reference::avg_pool1d_backward`](crate::reference::avg_pool1d_backward).
#[track_caller]
pub fn avg_pool1d_backward(
    grad_out: &Tensor,
    input_shape: &[usize],
    kernel: usize,
    stride: usize,
) -> Tensor {
    let op = "avg_pool1d_backward";
    let g = PoolGeometry::new_1d(op, input_shape, kernel, stride);
    g.check_grad_out(op, grad_out.shape());
    backward(grad_out, input_shape, &g)
}

fn forward(input: &Tensor, g: &PoolGeometry) -> Tensor {
    let x = input.data();
    let in_plane = g.in_plane();
    let count = (g.kh * g.kw) as f32;
    let mut y = vec![0.0; g.planes * g.out_plane()];
    for_each_plane(&mut y, g.out_plane(), g.work(), |p, y_p| {
        let plane = &x[p * in_plane..(p + 1) * in_plane];
        for (q, out) in y_p.iter_mut().enumerate() {
            let corner = (q / g.ow) * g.sh * g.w + (q % g.ow) * g.sw;
            let mut sum = 0.0;
            for i in 0..g.kh {
                let row = corner + i * g.w;
                sum += plane[row..row + g.kw].iter().sum::<f32>();
            }
            *out = sum / count;
        }
    });
    Tensor::from_parts(g.out_shape.clone(), y)
}

fn backward(grad_out: &Tensor, input_shape: &[usize], g: &PoolGeometry) -> Tensor {
    let dy = grad_out.data();
    let out_plane = g.out_plane();
    let count = (g.kh * g.kw) as f32;
    let mut dx = vec![0.0; input_shape.iter().product()];
    for_each_plane(&mut dx, g.in_plane(), g.work(), |p, dx_p| {
        for (q, &d) in dy[p * out_plane..(p + 1) * out_plane].iter().enumerate() {
            // The forward took the mean of this window, so each of its cells gets an equal share
            // of dY; overlapping windows (stride < kernel) add up.
            let share = d / count;
            let corner = (q / g.ow) * g.sh * g.w + (q % g.ow) * g.sw;
            for i in 0..g.kh {
                let row = corner + i * g.w;
                for cell in &mut dx_p[row..row + g.kw] {
                    *cell += share;
                }
            }
        }
    });
    Tensor::from_parts(input_shape.to_vec(), dx)
}
