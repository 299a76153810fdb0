//! Shapes, strides and NumPy broadcasting.
//!
//! Every tensor is stored contiguously in row-major order, so a shape alone determines where each
//! element lives: the stride of axis `i` is the product of the sizes of the axes after it.

use crate::error::{fail, TensorError};

/// Number of elements a shape holds (1 for the empty shape of a scalar).
pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// Row-major strides, in elements: `strides([2, 3, 4]) == [12, 4, 1]`.
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        strides[i] = strides[i + 1] * shape[i + 1];
    }
    strides
}

/// The shape two operands broadcast to, by NumPy's rule: align the shapes at their last axis; two
/// sizes agree when they are equal or one of them is 1; a missing leading axis counts as size 1.
pub fn broadcast_shapes(
    op: &'static str,
    lhs: &[usize],
    rhs: &[usize],
) -> Result<Vec<usize>, TensorError> {
    let ndim = lhs.len().max(rhs.len());
    let mut out = vec![0; ndim];
    for i in 0..ndim {
        // Walk from the last axis: `a`, `b` are the sizes of the aligned axes (1 when absent).
        let a = if i < lhs.len() {
            lhs[lhs.len() - 1 - i]
        } else {
            1
        };
        let b = if i < rhs.len() {
            rhs[rhs.len() - 1 - i]
        } else {
            1
        };
        out[ndim - 1 - i] = match (a, b) {
            (a, b) if a == b => a,
            (1, b) => b,
            (a, 1) => a,
            _ => {
                return Err(TensorError::ShapeMismatch {
                    op,
                    lhs: lhs.to_vec(),
                    rhs: rhs.to_vec(),
                })
            }
        };
    }
    Ok(out)
}

/// Strides with which a tensor of shape `shape` is read as if it had shape `target` (which it must
/// broadcast to): broadcast axes get stride 0, so the same element is read again along them.
pub fn broadcast_strides(shape: &[usize], target: &[usize]) -> Vec<usize> {
    let own = strides(shape);
    let offset = target.len() - shape.len();
    (0..target.len())
        .map(|i| {
            if i < offset || shape[i - offset] == 1 {
                0
            } else {
                own[i - offset]
            }
        })
        .collect()
}

/// Checks that `axis < ndim`, naming the op otherwise.
#[track_caller]
pub(crate) fn check_axis(op: &'static str, axis: usize, ndim: usize) {
    if axis >= ndim {
        fail(TensorError::AxisOutOfRange { op, axis, ndim });
    }
}

/// Panics with a shape-mismatch message naming `op` unless `lhs == rhs`.
#[track_caller]
pub(crate) fn check_same_shape(op: &'static str, lhs: &[usize], rhs: &[usize]) {
    if lhs != rhs {
        fail(TensorError::ShapeMismatch {
            op,
            lhs: lhs.to_vec(),
            rhs: rhs.to_vec(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strides_are_row_major() {
        assert_eq!(strides(&[2, 3, 4]), vec![12, 4, 1]);
        assert_eq!(strides(&[]), Vec::<usize>::new());
        assert_eq!(strides(&[5]), vec![1]);
    }

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(broadcast_shapes("t", &[2, 3], &[3]).unwrap(), vec![2, 3]);
        assert_eq!(broadcast_shapes("t", &[4, 1], &[1, 5]).unwrap(), vec![4, 5]);
        assert_eq!(broadcast_shapes("t", &[], &[2, 2]).unwrap(), vec![2, 2]);
        let err = broadcast_shapes("add", &[2, 3], &[4]).unwrap_err();
        assert_eq!(err.to_string(), "add: incompatible shapes [2, 3] and [4]");
    }

    #[test]
    fn broadcast_strides_repeat_size_one_axes() {
        assert_eq!(broadcast_strides(&[3], &[2, 3]), vec![0, 1]);
        assert_eq!(broadcast_strides(&[2, 1], &[2, 3]), vec![1, 0]);
    }
}
