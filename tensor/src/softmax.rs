//! Softmax and log-softmax along the last axis, at a temperature `T`.
//!
//! For logits `z` (one row of the last axis) and temperature `T > 0`:
//!
//! ```text
//! softmax_T(z)_i     = exp(z_i / T) / Σ_j exp(z_j / T)
//! log_softmax_T(z)_i = z_i / T − log Σ_j exp(z_j / T)
//! ```
//!
//! `T = 1` is the ordinary softmax. A larger `T` flattens the distribution and shows how the model
//! ranks the *wrong* classes ("a 3 looks more like an 8 than a 1") — the "dark knowledge" that a
//! distilled student learns from its teacher's soft targets.
//!
//! ## Stability
//! `exp(z/T)` overflows f32 for `z/T > 88.7`, and logits of 1e4 do occur. Both formulas are unchanged
//! when the same constant is subtracted from every `z_i`, so we subtract the row's maximum `m` first:
//! then every exponent `(z_i − m)/T ≤ 0`, each `exp` is at most 1, the largest is exactly 1, and the
//! sum lies in `[1, n]` — no overflow, and no `log 0` in log-softmax. Log-softmax is computed
//! directly as `(z_i − m)/T − log Σ exp((z_j − m)/T)`, never as `log(softmax)`, which would give
//! `−∞` where a probability underflows to 0.
//!
//! The gradients (vector-Jacobian products) live with the autograd ops; for the record, with
//! `s = softmax_T(z)` and upstream gradient `g`:
//! `dL/dz = (1/T)·s ⊙ (g − ⟨g, s⟩)` for softmax and `dL/dz = (1/T)·(g − s·Σ g)` for log-softmax.

use rayon::prelude::*;

use crate::error::{fail, TensorError};
use crate::parallel::MIN_CHUNK;
use crate::simd;
use crate::Tensor;

impl Tensor {
    /// `softmax_T` along the last axis: every row becomes a probability distribution.
    ///
    /// The definition, as plain loops: [`reference::softmax`](crate::reference::softmax()).
    #[track_caller]
    pub fn softmax(&self, temperature: f32) -> Tensor {
        self.rowwise("softmax", temperature, softmax_row)
    }

    /// `log_softmax_T` along the last axis, computed stably (see the module doc).
    ///
    /// The definition, as plain loops: [`reference::log_softmax`](crate::reference::log_softmax).
    #[track_caller]
    pub fn log_softmax(&self, temperature: f32) -> Tensor {
        self.rowwise("log_softmax", temperature, log_softmax_row)
    }

    /// Applies `row_op(logits, temperature, out, scratch)` to every row of the last axis, in
    /// parallel when the tensor is large.
    #[track_caller]
    fn rowwise(
        &self,
        op: &'static str,
        temperature: f32,
        row_op: fn(&[f32], f32, &mut [f32], &mut Vec<f32>),
    ) -> Tensor {
        if !(temperature > 0.0 && temperature.is_finite()) {
            fail(TensorError::InvalidArgument {
                op,
                message: format!("temperature must be positive and finite, found {temperature}"),
            });
        }
        if self.ndim() == 0 {
            fail(TensorError::InvalidArgument {
                op,
                message: "needs at least one axis (the classes), found a scalar".into(),
            });
        }
        let n = self.shape()[self.ndim() - 1];
        let mut out = crate::parallel::zeroed(self.numel());
        if n > 0 {
            if self.numel() >= 2 * MIN_CHUNK {
                self.data()
                    .par_chunks(n)
                    .zip(out.par_chunks_mut(n))
                    .for_each_init(Vec::new, |scratch, (z, o)| {
                        row_op(z, temperature, o, scratch)
                    });
            } else {
                let mut scratch = Vec::new();
                for (z, o) in self.data().chunks(n).zip(out.chunks_mut(n)) {
                    row_op(z, temperature, o, &mut scratch);
                }
            }
        }
        Tensor::from_parts(self.shape().to_vec(), out)
    }
}

/// Writes `(z_i − max z)/T` into `scratch`, then `exp` of it into `out`; returns `Σ out`.
fn shifted_exp(z: &[f32], temperature: f32, out: &mut [f32], scratch: &mut Vec<f32>) -> f32 {
    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let inv_t = 1.0 / temperature;
    scratch.clear();
    scratch.extend(z.iter().map(|&v| (v - max) * inv_t));
    simd::exp(scratch, out);
    simd::sum(out)
}

fn softmax_row(z: &[f32], temperature: f32, out: &mut [f32], scratch: &mut Vec<f32>) {
    let total = shifted_exp(z, temperature, out, scratch);
    let inv = 1.0 / total;
    out.iter_mut().for_each(|p| *p *= inv);
}

fn log_softmax_row(z: &[f32], temperature: f32, out: &mut [f32], scratch: &mut Vec<f32>) {
    let log_total = shifted_exp(z, temperature, out, scratch).ln();
    for (o, &shifted) in out.iter_mut().zip(scratch.iter()) {
        *o = shifted - log_total;
    }
}
