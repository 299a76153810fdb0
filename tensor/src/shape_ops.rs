//! Shape ops: transpose and permute, broadcast_to, gathering rows by index, slicing, concat and stack
//! — each with the adjoint its backward needs (`scatter_add_rows` for `gather_rows`, `slice_add_`
//! for `slice`).
//!
//! Every op here materialises its result (tensors are always contiguous, see the crate doc): a
//! transpose is a copy, not a view. `reshape` is the exception, since it changes no element's
//! position; it lives with the type, in `tensor.rs`.
//!
//! Slicing and concatenation see a tensor as `[outer, n, inner]` around the axis they act on
//! (`outer` = product of the axes before, `inner` = product of the axes after): along that axis the
//! tensor is `outer` stacked blocks of `n·inner` contiguous values, so a slice is `outer` contiguous
//! copies of `len·inner` values each.

use crate::error::{fail, TensorError};
use crate::shape::{broadcast_shapes, broadcast_strides, check_axis, numel, strides};
use crate::simd;
use crate::Tensor;

impl Tensor {
    /// Swaps two axes (for a matrix, its transpose). Copies.
    #[track_caller]
    pub fn transpose(&self, axis0: usize, axis1: usize) -> Tensor {
        check_axis("transpose", axis0, self.ndim());
        check_axis("transpose", axis1, self.ndim());
        let mut order: Vec<usize> = (0..self.ndim()).collect();
        order.swap(axis0, axis1);
        self.permute(&order)
    }

    /// Reorders the axes: axis `i` of the result is axis `order[i]` of `self` (NumPy's `transpose`
    /// with an axis list). Copies.
    #[track_caller]
    pub fn permute(&self, order: &[usize]) -> Tensor {
        let ndim = self.ndim();
        let mut seen = vec![false; ndim];
        let valid = order.len() == ndim
            && order
                .iter()
                .all(|&a| a < ndim && !std::mem::replace(&mut seen[a], true));
        if !valid {
            fail(TensorError::InvalidArgument {
                op: "permute",
                message: format!(
                    "{order:?} is not an ordering of the {ndim} axes of shape {:?}",
                    self.shape()
                ),
            });
        }
        let own = strides(self.shape());
        let shape: Vec<usize> = order.iter().map(|&a| self.shape()[a]).collect();
        let read_strides: Vec<usize> = order.iter().map(|&a| own[a]).collect();
        Tensor::from_parts(
            shape.clone(),
            strided_copy(self.data(), &shape, &read_strides),
        )
    }

    /// Repeats the tensor along broadcast axes until it has shape `shape` (which it must broadcast
    /// to by NumPy's rule). Copies.
    #[track_caller]
    pub fn broadcast_to(&self, shape: &[usize]) -> Tensor {
        let target =
            broadcast_shapes("broadcast_to", self.shape(), shape).unwrap_or_else(|e| fail(e));
        if target != shape {
            fail(TensorError::ShapeMismatch {
                op: "broadcast_to",
                lhs: self.shape().to_vec(),
                rhs: shape.to_vec(),
            });
        }
        let read_strides = broadcast_strides(self.shape(), shape);
        Tensor::from_parts(
            shape.to_vec(),
            strided_copy(self.data(), shape, &read_strides),
        )
    }

    /// The rows (entries along axis 0) at `indices`, in that order; an index may repeat. This is
    /// how a minibatch is drawn from a dataset: `images.gather_rows(&batch_indices)`.
    #[track_caller]
    pub fn gather_rows(&self, indices: &[usize]) -> Tensor {
        let (rows, row_len) = self.rows_view("gather_rows");
        let mut data = Vec::with_capacity(indices.len() * row_len);
        for &i in indices {
            check_row("gather_rows", i, rows);
            data.extend_from_slice(&self.data()[i * row_len..(i + 1) * row_len]);
        }
        let mut shape = self.shape().to_vec();
        shape[0] = indices.len();
        Tensor::from_parts(shape, data)
    }

    /// `self[indices[i]] += source[i]` for every `i`: the adjoint of [`gather_rows`](Tensor::gather_rows)
    /// (a row gathered twice gets both gradients).
    #[track_caller]
    pub fn scatter_add_rows(&mut self, indices: &[usize], source: &Tensor) {
        let (rows, row_len) = self.rows_view("scatter_add_rows");
        let mut expected = self.shape().to_vec();
        expected[0] = indices.len();
        if source.shape() != expected {
            fail(TensorError::ShapeMismatch {
                op: "scatter_add_rows",
                lhs: expected,
                rhs: source.shape().to_vec(),
            });
        }
        for (&i, src) in indices.iter().zip(source.data().chunks(row_len.max(1))) {
            check_row("scatter_add_rows", i, rows);
            let dst = &mut self.data_mut()[i * row_len..(i + 1) * row_len];
            simd::axpy(1.0, src, dst);
        }
    }

    /// Entries `start..end` along `axis`. Copies.
    #[track_caller]
    pub fn slice(&self, axis: usize, start: usize, end: usize) -> Tensor {
        check_axis("slice", axis, self.ndim());
        let n = self.shape()[axis];
        check_range("slice", axis, start, end, n);
        let (outer, inner) = outer_inner(self.shape(), axis);
        let len = end - start;
        let mut data = Vec::with_capacity(outer * len * inner);
        if self.numel() > 0 {
            for block in self.data().chunks(n * inner) {
                data.extend_from_slice(&block[start * inner..end * inner]);
            }
        }
        let mut shape = self.shape().to_vec();
        shape[axis] = len;
        Tensor::from_parts(shape, data)
    }

    /// `self[…, start..start+len, …] += source` along `axis`, where `len` is `source`'s size on that
    /// axis: the adjoint of [`slice`](Tensor::slice).
    #[track_caller]
    pub fn slice_add_(&mut self, axis: usize, start: usize, source: &Tensor) {
        check_axis("slice_add_", axis, self.ndim());
        let n = self.shape()[axis];
        let len = source.shape().get(axis).copied().unwrap_or(0);
        let mut expected = self.shape().to_vec();
        expected[axis] = len;
        if source.shape() != expected {
            fail(TensorError::ShapeMismatch {
                op: "slice_add_",
                lhs: self.shape().to_vec(),
                rhs: source.shape().to_vec(),
            });
        }
        check_range("slice_add_", axis, start, start + len, n);
        let (outer, inner) = outer_inner(self.shape(), axis);
        if outer == 0 || inner == 0 || len == 0 {
            return;
        }
        let blocks = self.data_mut().chunks_mut(n * inner);
        for (block, src) in blocks.zip(source.data().chunks(len * inner)) {
            let dst = &mut block[start * inner..(start + len) * inner];
            simd::axpy(1.0, src, dst);
        }
    }

    /// Joins tensors along an existing `axis`; all other axes must agree.
    #[track_caller]
    pub fn concat(tensors: &[&Tensor], axis: usize) -> Tensor {
        let Some(first) = tensors.first() else {
            fail(TensorError::InvalidArgument {
                op: "concat",
                message: "needs at least one tensor, found none".into(),
            });
        };
        check_axis("concat", axis, first.ndim());
        for t in tensors {
            let agrees = t.ndim() == first.ndim()
                && (0..t.ndim()).all(|a| a == axis || t.shape()[a] == first.shape()[a]);
            if !agrees {
                fail(TensorError::ShapeMismatch {
                    op: "concat",
                    lhs: first.shape().to_vec(),
                    rhs: t.shape().to_vec(),
                });
            }
        }
        let (outer, inner) = outer_inner(first.shape(), axis);
        let mut shape = first.shape().to_vec();
        shape[axis] = tensors.iter().map(|t| t.shape()[axis]).sum();
        let mut data = Vec::with_capacity(numel(&shape));
        // Output block `o` is block `o` of each input in turn.
        for o in 0..outer {
            for t in tensors {
                let block = t.shape()[axis] * inner;
                data.extend_from_slice(&t.data()[o * block..(o + 1) * block]);
            }
        }
        Tensor::from_parts(shape, data)
    }

    /// Joins tensors of one shape along a new axis inserted at `axis` (`0..=ndim`).
    #[track_caller]
    pub fn stack(tensors: &[&Tensor], axis: usize) -> Tensor {
        let Some(first) = tensors.first() else {
            fail(TensorError::InvalidArgument {
                op: "stack",
                message: "needs at least one tensor, found none".into(),
            });
        };
        check_axis("stack", axis, first.ndim() + 1);
        let lifted: Vec<Tensor> = tensors
            .iter()
            .map(|t| {
                if t.shape() != first.shape() {
                    fail(TensorError::ShapeMismatch {
                        op: "stack",
                        lhs: first.shape().to_vec(),
                        rhs: t.shape().to_vec(),
                    });
                }
                let mut shape = t.shape().to_vec();
                shape.insert(axis, 1);
                (*t).clone().reshape(&shape)
            })
            .collect();
        Tensor::concat(&lifted.iter().collect::<Vec<_>>(), axis)
    }

    /// `(rows, row_len)` for ops along axis 0.
    #[track_caller]
    fn rows_view(&self, op: &'static str) -> (usize, usize) {
        if self.ndim() == 0 {
            fail(TensorError::InvalidArgument {
                op,
                message: "needs at least one axis (the rows), found a scalar".into(),
            });
        }
        (self.shape()[0], self.shape()[1..].iter().product())
    }
}

/// Products of the axes before and after `axis`.
fn outer_inner(shape: &[usize], axis: usize) -> (usize, usize) {
    (
        shape[..axis].iter().product(),
        shape[axis + 1..].iter().product(),
    )
}

#[track_caller]
fn check_row(op: &'static str, index: usize, rows: usize) {
    if index >= rows {
        fail(TensorError::InvalidArgument {
            op,
            message: format!("row index {index} is out of range for {rows} rows"),
        });
    }
}

#[track_caller]
fn check_range(op: &'static str, axis: usize, start: usize, end: usize, n: usize) {
    if start > end || end > n {
        fail(TensorError::InvalidArgument {
            op,
            message: format!("range {start}..{end} does not fit axis {axis} of size {n}"),
        });
    }
}

/// Reads the elements of a tensor of shape `shape` whose element at multi-index `idx` sits at
/// `Σ idx[a]·read_strides[a]` in `src`, in row-major order of `shape`. The innermost axis is a tight
/// loop; the outer axes advance like an odometer.
fn strided_copy(src: &[f32], shape: &[usize], read_strides: &[usize]) -> Vec<f32> {
    let total = numel(shape);
    let mut out = Vec::with_capacity(total);
    if total == 0 {
        return out;
    }
    let Some((&last_len, outer_shape)) = shape.split_last() else {
        out.push(src[0]);
        return out;
    };
    let last_stride = read_strides[shape.len() - 1];
    let mut index = vec![0usize; outer_shape.len()];
    let mut base = 0usize;
    loop {
        out.extend((0..last_len).map(|j| src[base + j * last_stride]));
        // Advance the odometer over the outer axes, keeping `base` equal to the read offset.
        let mut axis = outer_shape.len();
        loop {
            if axis == 0 {
                return out;
            }
            axis -= 1;
            index[axis] += 1;
            base += read_strides[axis];
            if index[axis] < outer_shape[axis] {
                break;
            }
            base -= index[axis] * read_strides[axis];
            index[axis] = 0;
        }
    }
}
