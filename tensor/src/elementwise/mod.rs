//! Elementwise ops on [`Tensor`]: unary maths, binary arithmetic with NumPy broadcasting, scalar
//! forms, and in-place updates for optimisers.
//!
//! Two generic kernels do the looping for every op, so each op is one line saying *what* it
//! computes:
//! - [`Tensor::map`] applies `f(x)` to every element;
//! - [`Tensor::zip_map`] applies `f(a, b)` to every pair of a broadcast.
//!
//! Both split large tensors across threads (`parallel::for_each_chunk_mut`). The hottest ops (add,
//! sub, mul, div, maximum on equal shapes or a broadcast row; relu; exp; scalar add and multiply)
//! skip the closure and call the SIMD kernels in `simd` directly.

mod binary;
mod inplace;
mod unary;

use crate::error::fail;
use crate::parallel::for_each_chunk_mut;
use crate::shape::{broadcast_shapes, broadcast_strides, numel};
use crate::Tensor;

impl Tensor {
    /// `f(x)` for every element.
    pub fn map(&self, f: impl Fn(f32) -> f32 + Sync) -> Tensor {
        let x = self.data();
        let mut out = vec![0.0; x.len()];
        for_each_chunk_mut(&mut out, |offset, chunk| {
            let end = offset + chunk.len();
            for (o, &v) in chunk.iter_mut().zip(&x[offset..end]) {
                *o = f(v);
            }
        });
        Tensor::from_parts(self.shape().to_vec(), out)
    }

    /// `f(a, b)` for every pair of elements of `self` and `other` broadcast together (NumPy's
    /// rule); `op` names the operation in the error for shapes that do not broadcast.
    #[track_caller]
    pub fn zip_map(
        &self,
        other: &Tensor,
        op: &'static str,
        f: impl Fn(f32, f32) -> f32 + Sync,
    ) -> Tensor {
        self.broadcast_with(other, op, |a, b, out| {
            for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
                *o = f(x, y);
            }
        })
    }

    /// The broadcasting driver behind every binary op. `kernel(a, b, out)` combines equal-length
    /// runs; this function finds the longest runs it can hand over:
    /// - equal shapes: the whole buffers (in parallel chunks);
    /// - `other` matching the trailing axes of `self` (a bias row over a batch): one call per row;
    /// - otherwise: along the last axis of the output, with the operands' elements gathered into
    ///   contiguous scratch runs first (a broadcast axis has stride 0).
    #[track_caller]
    pub(crate) fn broadcast_with(
        &self,
        other: &Tensor,
        op: &'static str,
        kernel: impl Fn(&[f32], &[f32], &mut [f32]) + Sync,
    ) -> Tensor {
        let (a, b) = (self.data(), other.data());
        if self.shape() == other.shape() {
            let mut out = vec![0.0; a.len()];
            for_each_chunk_mut(&mut out, |offset, chunk| {
                let end = offset + chunk.len();
                kernel(&a[offset..end], &b[offset..end], chunk);
            });
            return Tensor::from_parts(self.shape().to_vec(), out);
        }
        let shape = broadcast_shapes(op, self.shape(), other.shape()).unwrap_or_else(|e| fail(e));
        let mut out = vec![0.0; numel(&shape)];
        if out.is_empty() {
            return Tensor::from_parts(shape, out);
        }
        // A row of `other` repeated over every row of `self`: [N, C] + [C], [N, C, L] + [C, L].
        if shape == self.shape() && self.shape().ends_with(other.shape()) && !b.is_empty() {
            let row = b.len();
            for_each_chunk_rows(&mut out, row, |first_row, chunk| {
                let start = first_row * row;
                for (i, o) in chunk.chunks_mut(row).enumerate() {
                    kernel(&a[start + i * row..start + (i + 1) * row], b, o);
                }
            });
            return Tensor::from_parts(shape, out);
        }
        let sa = broadcast_strides(self.shape(), &shape);
        let sb = broadcast_strides(other.shape(), &shape);
        let last = shape.len() - 1;
        let row = shape[last];
        let (mut run_a, mut run_b) = (vec![0.0; row], vec![0.0; row]);
        let mut index = vec![0usize; last];
        for o in out.chunks_mut(row) {
            let base_a: usize = index.iter().zip(&sa).map(|(i, s)| i * s).sum();
            let base_b: usize = index.iter().zip(&sb).map(|(i, s)| i * s).sum();
            for j in 0..row {
                run_a[j] = a[base_a + j * sa[last]];
                run_b[j] = b[base_b + j * sb[last]];
            }
            kernel(&run_a, &run_b, o);
            // Advance the multi-index over the leading axes, last one fastest.
            for axis in (0..last).rev() {
                index[axis] += 1;
                if index[axis] < shape[axis] {
                    break;
                }
                index[axis] = 0;
            }
        }
        Tensor::from_parts(shape, out)
    }
}

/// Like `for_each_chunk_mut`, but every chunk holds whole rows of `row` elements; `f` gets the index
/// of the chunk's first row.
fn for_each_chunk_rows(out: &mut [f32], row: usize, f: impl Fn(usize, &mut [f32]) + Sync) {
    use rayon::prelude::*;
    let rows_per_chunk = crate::parallel::chunk_len(out.len()).div_ceil(row).max(1);
    if out.len() < 2 * crate::parallel::MIN_CHUNK {
        f(0, out);
        return;
    }
    out.par_chunks_mut(rows_per_chunk * row)
        .enumerate()
        .for_each(|(i, chunk)| f(i * rows_per_chunk, chunk));
}
