//! Nearest-neighbour upsampling of `[N, C, H, W]` by an integer factor `f`: every input pixel
//! becomes an `f × f` block of the output, `[N, C, H·f, W·f]`. The decoder of a fully
//! convolutional network uses it to grow its feature maps back to the input's size.
//!
//! ```text
//! forward:   y[n, c, i, j] = x[n, c, ⌊i/f⌋, ⌊j/f⌋]
//! backward:  ∂L/∂x[n, c, h, w] = Σ_{a<f} Σ_{b<f} g[n, c, h·f + a, w·f + b]
//! ```
//!
//! Each input pixel is read by exactly its own block, so the backward is a sum over that block
//! (not a scatter: no two inputs share an output). The plain loops are
//! [`reference::upsample_nearest2d`](crate::reference::upsample::upsample_nearest2d) and
//! [`reference::upsample_nearest2d_backward`](crate::reference::upsample::upsample_nearest2d_backward).
//!
//! Planes (`n, c`) are independent, so large tensors are split across threads by plane.

use rayon::prelude::*;

use crate::parallel::MIN_CHUNK;
use crate::Tensor;

/// `[N, C, H, W]` from `shape`, with a message naming `op` otherwise.
fn planes(shape: &[usize], op: &str) -> (usize, usize, usize) {
    match *shape {
        [n, c, h, w] => (n * c, h, w),
        _ => panic!("{op}: expected a [N, C, H, W] tensor, found shape {shape:?}"),
    }
}

fn check_factor(factor: usize, op: &str) {
    assert!(factor >= 1, "{op}: the factor must be at least 1, found 0");
}

/// Runs `f(input plane, output plane)` for every plane, in parallel when the output is large.
fn per_plane(
    input: &[f32],
    in_plane: usize,
    output: &mut [f32],
    out_plane: usize,
    f: impl Fn(&[f32], &mut [f32]) + Sync,
) {
    if output.len() < 2 * MIN_CHUNK {
        for (src, dst) in input.chunks(in_plane).zip(output.chunks_mut(out_plane)) {
            f(src, dst);
        }
    } else {
        input
            .par_chunks(in_plane)
            .zip(output.par_chunks_mut(out_plane))
            .for_each(|(src, dst)| f(src, dst));
    }
}

/// `[N, C, H, W] → [N, C, H·f, W·f]`, each pixel repeated over an `f × f` block.
///
/// # Panics
/// If `x` is not 4-D or `factor` is 0.
pub fn upsample_nearest2d(x: &Tensor, factor: usize) -> Tensor {
    check_factor(factor, "upsample_nearest2d");
    let (planes_, h, w) = planes(x.shape(), "upsample_nearest2d");
    let (oh, ow) = (h * factor, w * factor);
    let mut out = vec![0.0; planes_ * oh * ow];
    if planes_ * h * w > 0 {
        per_plane(x.data(), h * w, &mut out, oh * ow, |src, dst| {
            for (row, out_rows) in src.chunks(w).zip(dst.chunks_mut(factor * ow)) {
                // Build the first output row of the block, then copy it to the other f − 1.
                let (first, rest) = out_rows.split_at_mut(ow);
                for (block, &v) in first.chunks_mut(factor).zip(row) {
                    block.fill(v);
                }
                for copy in rest.chunks_mut(ow) {
                    copy.copy_from_slice(first);
                }
            }
        });
    }
    let shape = [x.shape()[0], x.shape()[1], oh, ow];
    Tensor::from_vec(out, &shape).expect("the output holds N·C·(H·f)·(W·f) values")
}

/// The gradient of [`upsample_nearest2d`] with respect to its input: each input pixel gets the
/// sum of the gradient over its `f × f` block. `g` is `[N, C, H·f, W·f]`.
///
/// # Panics
/// If `g` is not 4-D, `factor` is 0, or `g`'s height or width is not a multiple of `factor`.
pub fn upsample_nearest2d_backward(g: &Tensor, factor: usize) -> Tensor {
    check_factor(factor, "upsample_nearest2d_backward");
    let (planes_, oh, ow) = planes(g.shape(), "upsample_nearest2d_backward");
    assert!(
        oh % factor == 0 && ow % factor == 0,
        "upsample_nearest2d_backward: expected a gradient whose height and width are multiples \
         of the factor {factor}, found {oh} × {ow}"
    );
    let (h, w) = (oh / factor, ow / factor);
    let mut out = vec![0.0; planes_ * h * w];
    if planes_ * h * w > 0 {
        // `per_plane` hands out (input, output) planes; here the gradient is the input.
        per_plane(g.data(), oh * ow, &mut out, h * w, |src, dst| {
            for (block_rows, sums) in src.chunks(factor * ow).zip(dst.chunks_mut(w)) {
                for row in block_rows.chunks(ow) {
                    for (sum, block) in sums.iter_mut().zip(row.chunks(factor)) {
                        *sum += block.iter().sum::<f32>();
                    }
                }
            }
        });
    }
    let shape = [g.shape()[0], g.shape()[1], h, w];
    Tensor::from_vec(out, &shape).expect("the output holds N·C·H·W values")
}
