//! What can be wrong with the data or the settings given to a tree. Every message says what was
//! expected and what was found, so the caller can fix the input without reading this crate.

use std::fmt;

/// Bad input to [`Features`](crate::Features), [`Targets`](crate::Targets), the limits
/// of a tree, or a fitted tree.
#[derive(Debug, Clone, PartialEq)]
pub enum TreeError {
    /// Something that must hold at least one element holds none.
    Empty { what: &'static str },
    /// Two lengths that must agree do not.
    LengthMismatch {
        what: &'static str,
        expected: usize,
        found: usize,
    },
    /// A NaN or infinite value where a finite number is needed (thresholds are midpoints, and NaN
    /// compares false with everything, so such a row would fall silently to one side).
    NotFinite {
        what: &'static str,
        index: usize,
        value: f32,
    },
    /// A class label not below the number of classes.
    LabelOutOfRange {
        row: usize,
        label: usize,
        classes: usize,
    },
    /// More of something than the crate can index.
    TooLarge {
        what: &'static str,
        limit: usize,
        found: usize,
    },
    /// A saved tree that is not one.
    Malformed { expected: String, found: String },
    /// A file that could not be read or written.
    Io { path: String, message: String },
    /// A limit of zero, which no tree can satisfy.
    ZeroLimit { name: &'static str },
}

impl fmt::Display for TreeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TreeError::Empty { what } => write!(f, "{what}: expected at least one, found none"),
            TreeError::LengthMismatch {
                what,
                expected,
                found,
            } => {
                write!(f, "{what}: expected length {expected}, found {found}")
            }
            TreeError::NotFinite { what, index, value } => {
                write!(
                    f,
                    "{what}: expected finite values, found {value} at index {index}"
                )
            }
            TreeError::LabelOutOfRange {
                row,
                label,
                classes,
            } => write!(
                f,
                "labels: expected each label below {classes} classes, found {label} at row {row}"
            ),
            TreeError::TooLarge { what, limit, found } => {
                write!(f, "{what}: expected at most {limit}, found {found}")
            }
            TreeError::Malformed { expected, found } => {
                write!(f, "saved tree: expected {expected}, found {found}")
            }
            TreeError::Io { path, message } => write!(f, "{path}: {message}"),
            TreeError::ZeroLimit { name } => {
                write!(
                    f,
                    "{name}: expected at least 1 (use None for no limit), found 0"
                )
            }
        }
    }
}

impl std::error::Error for TreeError {}
