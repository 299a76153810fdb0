//! The bias gradient of a convolution, 1-D or 2-D.
//!
//! Shapes: `grad_out [N, O, OL]` or `[N, O, OH, OW]` → `db [O]`.
//!
//! The forward added `b[o]` to every output cell of channel `o`, in every image, so the backward
//! collects the gradient of all those cells: `db[o] = Σ_n Σ_p dY[n, o, p]`.

use super::conv2d::ranked;
use crate::error::{fail, TensorError};
use crate::Tensor;

/// `db[o] = Σ_n Σ_p dY[n, o, p]` for a rank-3 (`[N, O, L]`) or rank-4 (`[N, O, H, W]`) gradient.
///
/// The sum is accumulated in f64 and rounded once: it adds `N·P` terms (tens of thousands for a
/// batch of feature maps), and this is not where the time goes.
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
    let mut db = vec![0.0f64; o];
    for i in 0..n {
        for (ch, acc) in db.iter_mut().enumerate() {
            let start = (i * o + ch) * p;
            *acc += dy[start..start + p].iter().map(|&v| v as f64).sum::<f64>();
        }
    }
    Tensor::from_parts(vec![o], db.into_iter().map(|v| v as f32).collect())
}
