//! The two loops every elementwise op runs on: [`Tensor::map`] for `y = f(x)` and
//! [`Tensor::zip_map`] for `z = f(x, y)` with broadcasting.
//!
//! ## Threads
//! The output buffer is built chunk by chunk by [`new_with`]; each chunk knows its offset in
//! the output, and so which part of the inputs it reads. Small tensors (under `2·MIN_CHUNK`) stay on
//! the calling thread. Every output element is computed by the same expression whichever chunk it
//! falls in, so the result does not depend on the number of threads.
//!
//! ## Broadcasting as a walk over rows
//! Shapes `A` and `B` broadcast to `S` (NumPy's rule, [`broadcast_shapes`]); reading an operand
//! through [`broadcast_strides`] gives stride 0 along its broadcast axes. The output is walked one
//! *row* (run along the last axis of `S`) at a time. Within a row each operand's stride is 1 (it has
//! that axis) or 0 (it is broadcast along it), so a row is one of four cases:
//!
//! | strides (a, b) | example                 | loop                                        |
//! |----------------|-------------------------|---------------------------------------------|
//! | (1, 1)         | `[N, C] + [C]` (a bias) | the SIMD slice kernel on the two row slices |
//! | (1, 0)         | `[N, C] · [N, 1]`       | `f(a[j], b0)` along the row                  |
//! | (0, 1)         | `[N, 1] − [N, C]`       | `f(a0, b[j])` along the row                  |
//! | (0, 0)         | `[N, 1] + [N, 1]`…      | one value, filled                            |
//!
//! The start of a row in each operand is found from the row's multi-index over the leading axes of
//! `S` (`Σ index·stride`). A chunk may begin or end in the middle of a row; the walk then handles a
//! partial row, which is why it works in `(row, column)` and lengths rather than whole rows.
//!
//! Equal shapes skip all of this: the slice kernel runs on whole chunks.

use crate::error::fail;
use crate::parallel::new_with;
use crate::shape::{broadcast_shapes, broadcast_strides, numel};
use crate::Tensor;

impl Tensor {
    /// `y[i] = f(x[i])`, a new tensor of the same shape. Parallel for large tensors, so `f` must be
    /// `Sync` (a plain closure over numbers is).
    pub fn map(&self, f: impl Fn(f32) -> f32 + Sync) -> Tensor {
        self.map_slices(|x, out| {
            for (o, &v) in out.iter_mut().zip(x) {
                *o = f(v);
            }
        })
    }

    /// `map` with a slice kernel (`kernel(x_chunk, out_chunk)`, equal lengths), for ops that have a
    /// SIMD implementation on slices.
    pub(crate) fn map_slices(&self, kernel: impl Fn(&[f32], &mut [f32]) + Sync) -> Tensor {
        let src = self.data();
        let out = new_with(src.len(), |offset, chunk| {
            kernel(&src[offset..offset + chunk.len()], chunk)
        });
        Tensor::from_parts(self.shape().to_vec(), out)
    }

    /// `z = f(x, y)` elementwise with NumPy broadcasting: the result has the broadcast shape of the
    /// two operands. `op` names the operation in the error message when the shapes are incompatible
    /// (`"add: incompatible shapes [2, 3] and [4]"`).
    #[track_caller]
    pub fn zip_map(
        &self,
        other: &Tensor,
        op: &'static str,
        f: impl Fn(f32, f32) -> f32 + Sync,
    ) -> Tensor {
        self.zip_slices(
            other,
            op,
            |a, b, out| {
                for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
                    *o = f(x, y);
                }
            },
            &f,
        )
    }

    /// `zip_map` with a slice kernel as well: `kernel(a, b, out)` (equal lengths) must compute
    /// `out[j] = f(a[j], b[j])`, and runs wherever both operands are contiguous along the row;
    /// `f` covers the broadcast cases.
    #[track_caller]
    pub(crate) fn zip_slices(
        &self,
        other: &Tensor,
        op: &'static str,
        kernel: impl Fn(&[f32], &[f32], &mut [f32]) + Sync,
        f: impl Fn(f32, f32) -> f32 + Sync,
    ) -> Tensor {
        let (a, b) = (self.data(), other.data());
        if self.shape() == other.shape() {
            let out = new_with(a.len(), |offset, chunk| {
                let range = offset..offset + chunk.len();
                kernel(&a[range.clone()], &b[range], chunk)
            });
            return Tensor::from_parts(self.shape().to_vec(), out);
        }

        let shape = broadcast_shapes(op, self.shape(), other.shape()).unwrap_or_else(|e| fail(e));
        let n = numel(&shape);
        if n == 0 {
            return Tensor::from_parts(shape, Vec::new());
        }
        if shape.is_empty() {
            // Two rank-0 tensors would have taken the equal-shape path; this is unreachable, but
            // cheap to get right.
            return Tensor::from_parts(shape, vec![f(a[0], b[0])]);
        }
        let walk = RowWalk::new(&shape, self.shape(), other.shape());
        let out = new_with(n, |offset, chunk| {
            walk.run(offset, chunk, a, b, &kernel, &f)
        });
        Tensor::from_parts(shape, out)
    }
}

/// How to find each output row's data in two operands broadcast to `shape`.
struct RowWalk<'s> {
    /// The broadcast (output) shape, rank ≥ 1.
    shape: &'s [usize],
    /// Strides (in elements, 0 along broadcast axes) of each operand over `shape`.
    a_strides: Vec<usize>,
    b_strides: Vec<usize>,
}

impl<'s> RowWalk<'s> {
    fn new(shape: &'s [usize], a_shape: &[usize], b_shape: &[usize]) -> RowWalk<'s> {
        RowWalk {
            shape,
            a_strides: broadcast_strides(a_shape, shape),
            b_strides: broadcast_strides(b_shape, shape),
        }
    }

    /// Offsets in `a` and `b` of the first element of output row `row`: unravel `row` over the
    /// leading axes (last axis fastest) and sum index × stride.
    fn row_start(&self, mut row: usize) -> (usize, usize) {
        let last = self.shape.len() - 1;
        let (mut a0, mut b0) = (0, 0);
        for axis in (0..last).rev() {
            let i = row % self.shape[axis];
            row /= self.shape[axis];
            a0 += i * self.a_strides[axis];
            b0 += i * self.b_strides[axis];
        }
        (a0, b0)
    }

    /// Fills `chunk`, the output elements `offset .. offset + chunk.len()`, row piece by row piece.
    fn run(
        &self,
        offset: usize,
        chunk: &mut [f32],
        a: &[f32],
        b: &[f32],
        kernel: &impl Fn(&[f32], &[f32], &mut [f32]),
        f: &impl Fn(f32, f32) -> f32,
    ) {
        let last = self.shape.len() - 1;
        let row_len = self.shape[last];
        let (sa, sb) = (self.a_strides[last], self.b_strides[last]);
        let mut pos = 0;
        while pos < chunk.len() {
            let (row, col) = ((offset + pos) / row_len, (offset + pos) % row_len);
            let len = (row_len - col).min(chunk.len() - pos);
            let (a0, b0) = self.row_start(row);
            let (a0, b0) = (a0 + col * sa, b0 + col * sb);
            let out = &mut chunk[pos..pos + len];
            match (sa, sb) {
                (0, 0) => out.fill(f(a[a0], b[b0])),
                (_, 0) => {
                    let y = b[b0];
                    for (o, &x) in out.iter_mut().zip(&a[a0..a0 + len]) {
                        *o = f(x, y);
                    }
                }
                (0, _) => {
                    let x = a[a0];
                    for (o, &y) in out.iter_mut().zip(&b[b0..b0 + len]) {
                        *o = f(x, y);
                    }
                }
                _ => kernel(&a[a0..a0 + len], &b[b0..b0 + len], out),
            }
            pos += len;
        }
    }
}
