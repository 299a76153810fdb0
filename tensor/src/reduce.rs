//! Reductions: sum, mean, max and argmax, over one axis or over everything.
//!
//! Any reduction over axis `a` sees the tensor as `[outer, n, inner]`: `outer` is the product of the
//! axes before `a`, `n` is the size of `a`, and `inner` the product of the axes after it. Element
//! `(o, j, i)` lives at `(o·n + j)·inner + i`. When `inner == 1` (the last axis, the common case for
//! logits) each reduced run of `n` values is contiguous and goes to a SIMD kernel; otherwise whole
//! rows of `inner` values are combined at once, which is just as vector-friendly.
//!
//! ## Accuracy
//! Adding `n` floats one after another lets the rounding error grow like `n·ε` (ε = 2⁻²⁴): summing
//! ten million copies of 0.1 that way is off by several percent. So sums here are never one long
//! running total: contiguous runs go through [`simd::sum`](crate::simd::sum), which sums pairwise,
//! and strided runs of rows are summed pairwise too — halves of the range summed separately, then
//! added, down to runs of [`BLOCK`] rows added plainly — so the error grows like
//! `(log₂(n/BLOCK) + BLOCK)·ε` instead.
//!
//! ## NaN
//! `max` and `argmax` let a NaN win: a NaN in a row of logits is a bug upstream, and a maximum that
//! quietly skipped it would hide the bug. (`argmax` returns the first NaN's index.)

use std::ops::Range;

use rayon::prelude::*;

use crate::error::{fail, TensorError};
use crate::parallel::MIN_CHUNK;
use crate::shape::check_axis;
use crate::simd;
use crate::Tensor;

/// The longest run of rows a strided sum adds one after another (see "Accuracy" above).
const BLOCK: usize = 64;

/// The `[outer, n, inner]` view of a reduction over `axis`.
fn split_at_axis(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    let outer = shape[..axis].iter().product();
    let inner = shape[axis + 1..].iter().product();
    (outer, shape[axis], inner)
}

/// The shape left after reducing `axis`: the axis is dropped, or kept with size 1.
fn reduced_shape(shape: &[usize], axis: usize, keepdim: bool) -> Vec<usize> {
    let mut out = shape.to_vec();
    if keepdim {
        out[axis] = 1;
    } else {
        out.remove(axis);
    }
    out
}

impl Tensor {
    /// `Σ x` over every element (0 for an empty tensor), summed pairwise.
    ///
    /// The definition, as plain loops: [`reference::sum_all`](crate::reference::sum_all).
    pub fn sum_all(&self) -> f32 {
        if self.numel() < 2 * MIN_CHUNK {
            return simd::sum(self.data());
        }
        // Each chunk is summed pairwise; the few chunk totals are then added in f64.
        let partials: Vec<f32> = self.data().par_chunks(MIN_CHUNK).map(simd::sum).collect();
        partials.iter().map(|&p| p as f64).sum::<f64>() as f32
    }

    /// The mean of every element (NaN for an empty tensor, as 0/0).
    pub fn mean_all(&self) -> f32 {
        self.sum_all() / self.numel() as f32
    }

    /// The largest element (a NaN wins). Panics on an empty tensor, which has no maximum.
    #[track_caller]
    pub fn max_all(&self) -> f32 {
        self.argmax_all_checked("max_all").1
    }

    /// The flat (row-major) index of the largest element: the first one on ties, the first NaN if
    /// there is one. Panics on an empty tensor.
    #[track_caller]
    pub fn argmax_all(&self) -> usize {
        self.argmax_all_checked("argmax_all").0
    }

    #[track_caller]
    fn argmax_all_checked(&self, op: &'static str) -> (usize, f32) {
        if self.numel() == 0 {
            fail(TensorError::InvalidArgument {
                op,
                message: format!("the tensor is empty (shape {:?})", self.shape()),
            });
        }
        argmax_run(self.data(), self.numel(), 1)
    }

    /// `Σ` over `axis`. With `keepdim` the axis stays with size 1 (so the result broadcasts against
    /// the input); without it the axis is dropped.
    ///
    /// The definition, as plain loops: [`reference::sum_axis`](crate::reference::sum_axis).
    #[track_caller]
    pub fn sum_axis(&self, axis: usize, keepdim: bool) -> Tensor {
        check_axis("sum_axis", axis, self.ndim());
        let (outer, n, inner) = split_at_axis(self.shape(), axis);
        let mut out = vec![0.0; outer * inner];
        let x = self.data();
        let sum_one = |o: usize, row: &mut [f32]| {
            let block = &x[o * n * inner..(o + 1) * n * inner];
            if inner == 1 {
                row[0] = simd::sum(block);
            } else {
                pairwise_row_sum(block, 0..n, inner, row);
            }
        };
        if inner > 0 {
            if self.numel() >= 2 * MIN_CHUNK && outer > 1 {
                out.par_chunks_mut(inner)
                    .enumerate()
                    .for_each(|(o, row)| sum_one(o, row));
            } else {
                out.chunks_mut(inner)
                    .enumerate()
                    .for_each(|(o, row)| sum_one(o, row));
            }
        }
        Tensor::from_parts(reduced_shape(self.shape(), axis, keepdim), out)
    }

    /// The mean over `axis` (see [`sum_axis`](Tensor::sum_axis) for `keepdim`).
    ///
    /// The definition, as plain loops: [`reference::mean_axis`](crate::reference::mean_axis).
    #[track_caller]
    pub fn mean_axis(&self, axis: usize, keepdim: bool) -> Tensor {
        let n = self.shape().get(axis).copied().unwrap_or(0);
        let mut out = self.sum_axis(axis, keepdim);
        out.scale_(1.0 / n as f32);
        out
    }

    /// The maximum over `axis` (a NaN wins). Panics if the axis is empty.
    ///
    /// The definition, as plain loops:
    /// [`reference::max_axis_with_argmax`](crate::reference::max_axis_with_argmax).
    #[track_caller]
    pub fn max_axis(&self, axis: usize, keepdim: bool) -> Tensor {
        self.max_axis_with_argmax(axis, keepdim).0
    }

    /// The index along `axis` of each maximum (first on ties, first NaN if any), in the row-major
    /// order of the remaining axes: for logits `[N, C]` and `axis = 1`, the predicted class of each
    /// of the `N` samples.
    ///
    /// The definition, as plain loops:
    /// [`reference::max_axis_with_argmax`](crate::reference::max_axis_with_argmax).
    #[track_caller]
    pub fn argmax_axis(&self, axis: usize) -> Vec<usize> {
        self.max_axis_with_argmax(axis, false).1
    }

    /// The maximum over `axis` and, for each, its index along the axis: the backward of `max`
    /// routes the gradient to exactly that element.
    ///
    /// The definition, as plain loops:
    /// [`reference::max_axis_with_argmax`](crate::reference::max_axis_with_argmax).
    #[track_caller]
    pub fn max_axis_with_argmax(&self, axis: usize, keepdim: bool) -> (Tensor, Vec<usize>) {
        check_axis("max_axis", axis, self.ndim());
        let (outer, n, inner) = split_at_axis(self.shape(), axis);
        if n == 0 {
            fail(TensorError::InvalidArgument {
                op: "max_axis",
                message: format!("axis {axis} of shape {:?} is empty", self.shape()),
            });
        }
        let x = self.data();
        let mut values = Vec::with_capacity(outer * inner);
        let mut indices = Vec::with_capacity(outer * inner);
        for o in 0..outer {
            for i in 0..inner {
                let (j, v) = argmax_run(&x[o * n * inner + i..], n, inner);
                values.push(v);
                indices.push(j);
            }
        }
        let shape = reduced_shape(self.shape(), axis, keepdim);
        (Tensor::from_parts(shape, values), indices)
    }

    /// Sums a broadcast result back down to `shape`: the adjoint of broadcasting `shape` up to
    /// `self.shape()`. Every axis that broadcasting added or stretched from 1 is summed over. This is
    /// how the gradient of `x + b` reaches a bias `b` that was broadcast over the batch.
    #[track_caller]
    pub fn sum_to_shape(&self, shape: &[usize]) -> Tensor {
        let target = crate::shape::broadcast_shapes("sum_to_shape", shape, self.shape())
            .unwrap_or_else(|e| fail(e));
        if target != self.shape() {
            fail(TensorError::ShapeMismatch {
                op: "sum_to_shape",
                lhs: self.shape().to_vec(),
                rhs: shape.to_vec(),
            });
        }
        let lead = self.ndim() - shape.len();
        let mut out = self.clone();
        // Leading axes that `shape` lacks: sum them away one at a time (always axis 0).
        for _ in 0..lead {
            out = out.sum_axis(0, false);
        }
        // Axes where `shape` has 1 but the result is larger.
        for (axis, &size) in shape.iter().enumerate() {
            if size == 1 && out.shape()[axis] != 1 {
                out = out.sum_axis(axis, true);
            }
        }
        out
    }
}

/// Writes the sum of rows `rows` (row `j` at `block[j·inner..]`) into `out`: pairwise over halves
/// of the range, plainly within runs of at most [`BLOCK`] rows (see "Accuracy" in the module doc).
fn pairwise_row_sum(block: &[f32], rows: Range<usize>, inner: usize, out: &mut [f32]) {
    if rows.len() <= BLOCK {
        out.fill(0.0);
        for j in rows {
            simd::axpy(1.0, &block[j * inner..(j + 1) * inner], out);
        }
        return;
    }
    let mid = rows.start + rows.len() / 2;
    pairwise_row_sum(block, rows.start..mid, inner, out);
    let mut right = vec![0.0; inner];
    pairwise_row_sum(block, mid..rows.end, inner, &mut right);
    simd::axpy(1.0, &right, out);
}

/// Among the `count` values `run[0], run[stride], run[2·stride], …`, the position of the largest
/// (the first on ties) and its value. A NaN wins at once.
fn argmax_run(run: &[f32], count: usize, stride: usize) -> (usize, f32) {
    let mut best = (0, run[0]);
    for (j, &v) in run.iter().step_by(stride).take(count).enumerate() {
        if best.1.is_nan() {
            break;
        }
        if v.is_nan() || v > best.1 {
            best = (j, v);
        }
    }
    best
}
