//! Errors of the tensor engine.
//!
//! Two kinds of failure exist here. Data coming from outside (a `Vec` handed to `from_vec`, an index
//! list) is checked and reported as a `TensorError` value. A shape mismatch between two tensors that
//! the program itself built is a bug in the caller, so the op panics — but always with a message that
//! names the op and both shapes, built from this same type, so the bug is found in seconds.

use std::fmt;

/// What went wrong, with enough context to fix it without a debugger.
#[derive(Debug, Clone, PartialEq)]
pub enum TensorError {
    /// Two shapes that the op needs to agree (or to broadcast) do not.
    ShapeMismatch {
        op: &'static str,
        lhs: Vec<usize>,
        rhs: Vec<usize>,
    },
    /// A buffer's length does not match the number of elements its shape asks for.
    LengthMismatch {
        op: &'static str,
        shape: Vec<usize>,
        expected: usize,
        found: usize,
    },
    /// An axis index past the tensor's rank.
    AxisOutOfRange {
        op: &'static str,
        axis: usize,
        ndim: usize,
    },
    /// Any other argument the op cannot accept (a zero stride, an index past the end, …).
    InvalidArgument { op: &'static str, message: String },
}

impl fmt::Display for TensorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TensorError::ShapeMismatch { op, lhs, rhs } => {
                write!(f, "{op}: incompatible shapes {lhs:?} and {rhs:?}")
            }
            TensorError::LengthMismatch {
                op,
                shape,
                expected,
                found,
            } => write!(
                f,
                "{op}: shape {shape:?} needs {expected} values, found {found}"
            ),
            TensorError::AxisOutOfRange { op, axis, ndim } => write!(
                f,
                "{op}: axis {axis} is out of range for a tensor of rank {ndim}"
            ),
            TensorError::InvalidArgument { op, message } => write!(f, "{op}: {message}"),
        }
    }
}

impl std::error::Error for TensorError {}

/// Panics with the error's message. Used by ops whose failure can only be a programming error.
#[track_caller]
pub(crate) fn fail(err: TensorError) -> ! {
    panic!("{err}")
}
