//! The bias gradient of a convolution, 1-D or 2-D.
//!
//! Shapes: `grad_out [N, O, OL]` or `[N, O, OH, OW]` → `db [O]`.
//!
//! The forward added `b[o]` to every output cell of channel `o`, in every image, so the backward
//! collects the gradient of all those cells: `db[o] = Σ_n Σ_p dY[n, o, p]`.

use rayon::prelude::*;

use super::conv2d::ranked;
use crate::error::{fail, TensorError};
use crate::parallel::MIN_CHUNK;
use crate::{simd, Tensor};

/// `db[o] = Σ_n Σ_p dY[n, o, p]` for a rank-3 (`[N, O, L]`) or rank-4 (`[N, O, H, W]`) gradient.
///
/// Each image's row of `P` cells is summed by the SIMD [`simd::sum`] (in vector lanes, pairwise
/// across blocks of 1 024: for the rows here, P ≤ 1 024, an error growing like `P / lanes`), and
/// the `N` row sums are added in f64 and rounded once: `N·P` is tens of
/// thousands of terms for a batch of feature maps, and a plain f32 running sum would lose digits.
/// Only the `N` row sums are in f64: an f64 add per cell would be one long chain of dependent
/// adds, where the SIMD row sums keep several lanes busy. Channels are independent: a large
/// gradient spreads them over rayon's threads, each channel summed the same way on any thread
/// count.
///
/// The definition, as plain loops:
/// [`reference::conv_backward_bias`](crate::reference::conv_backward_bias).
#[track_caller]
pub fn conv_backward_bias(grad_out: &Tensor) -> Tensor {
    let op = "conv_backward_bias";
    let shape = grad_out.shape();
    let (n, o, p) = match shape.len() {
        3 => {
            let [n, o, l] = ranked(op, "grad_out [N, O, L]", shape);
            (n, o, l)
        }
        4 => {
            let [n, o, h, w] = ranked(op, "grad_out [N, O, H, W]", shape);
            (n, o, h * w)
        }
        _ => fail(TensorError::InvalidArgument {
            op,
            message: format!(
                "expected grad_out [N, O, L] or [N, O, H, W] (rank 3 or 4), found shape {shape:?}"
            ),
        }),
    };
    let dy = grad_out.data();
    let channel = |ch: usize| -> f32 {
        let rows = (0..n).map(|i| &dy[(i * o + ch) * p..(i * o + ch + 1) * p]);
        rows.map(|row| f64::from(simd::sum(row))).sum::<f64>() as f32
    };
    let db = if dy.len() >= 2 * MIN_CHUNK {
        (0..o).into_par_iter().map(channel).collect()
    } else {
        (0..o).map(channel).collect()
    };
    Tensor::from_parts(vec![o], db)
}
