//! Errors of data loading.
//!
//! Everything here reads files a user points us at, so every failure is a value, never a panic, and
//! every message names the file and says what was expected and what was found: the person reading
//! it should be able to fix the folder without opening a hex editor or the source.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// What went wrong while reading or writing a data file.
#[derive(Debug)]
pub enum DataError {
    /// The file could not be opened, read, written or renamed.
    Io {
        /// What we were doing: "open", "read", "write", "rename to".
        action: &'static str,
        file: String,
        source: io::Error,
    },
    /// The first four bytes are not the magic number the caller needs: the first two bytes are not
    /// zero (not an IDX file at all), or the dimension count is not the one the caller wants.
    BadMagic {
        file: String,
        /// What the caller wanted, e.g. "an IDX image file (magic 0x00000803)".
        expected: String,
        found: u32,
    },
    /// A valid IDX header whose element type we do not read (only u8, type 0x08, is supported).
    UnsupportedType { file: String, type_byte: u8 },
    /// The file ends inside the header.
    TruncatedHeader {
        file: String,
        expected: usize,
        found: usize,
    },
    /// The header promises more data bytes than the file holds.
    Truncated {
        file: String,
        dims: Vec<usize>,
        expected: u64,
        found: u64,
    },
    /// The file holds more data bytes than the header accounts for.
    TrailingBytes {
        file: String,
        dims: Vec<usize>,
        expected: u64,
        found: u64,
    },
    /// The dimensions are not the ones the caller needs (e.g. test images of another size than the
    /// training images).
    BadShape {
        file: String,
        expected: String,
        found: Vec<usize>,
    },
    /// An image file and its label file disagree on the number of samples.
    CountMismatch {
        images: String,
        image_count: usize,
        labels: String,
        label_count: usize,
    },
    /// A label is not below the number of classes.
    LabelOutOfRange {
        file: String,
        index: usize,
        label: usize,
        classes: usize,
    },
    /// A test label that no training label equals: a class no model could learn.
    UnseenClass {
        file: String,
        index: usize,
        label: usize,
        train_file: String,
        /// The classes the training labels hold, ascending.
        train_classes: Vec<usize>,
    },
    /// A file of class names that does not name the classes one a line.
    BadClassNames {
        file: String,
        expected: String,
        found: String,
    },
    /// The file starts with the gzip magic (1f 8b) but does not decompress.
    Gzip { file: String, source: io::Error },
    /// A data folder lacks files it needs, in every accepted spelling.
    MissingFiles { dir: PathBuf, missing: Vec<String> },
}

/// `60000×28×28`: how a list of dimensions is written in messages.
pub(crate) fn dims_to_string(dims: &[usize]) -> String {
    if dims.is_empty() {
        return "(no dimensions)".to_string();
    }
    dims.iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("×")
}

/// `0 to 4, 6, 8 to 9`: a set of classes (ascending) in messages, runs of consecutive classes
/// written as their ends, so that 255 classes still fit on a line.
pub(crate) fn classes_to_string(classes: &[usize]) -> String {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &c in classes {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == c => *end = c,
            _ => runs.push((c, c)),
        }
    }
    if runs.is_empty() {
        return "none".to_string();
    }
    runs.iter()
        .map(|&(a, b)| match b - a {
            0 => a.to_string(),
            1 => format!("{a}, {b}"),
            _ => format!("{a} to {b}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataError::Io {
                action,
                file,
                source,
            } => write!(f, "cannot {action} {file}: {source}"),
            DataError::BadMagic {
                file,
                expected,
                found,
            } => write!(f, "{file}: expected {expected}, found 0x{found:08X}"),
            DataError::UnsupportedType { file, type_byte } => write!(
                f,
                "{file}: IDX element type {} (0x{type_byte:02X}) is not supported; \
                 only u8 (0x08) is",
                idx_type_name(*type_byte)
            ),
            DataError::TruncatedHeader {
                file,
                expected,
                found,
            } => write!(
                f,
                "{file}: truncated IDX file: the header needs {expected} bytes, the file has {found}"
            ),
            DataError::Truncated {
                file,
                dims,
                expected,
                found,
            } => write!(
                f,
                "{file}: truncated IDX file: header says {} = {expected} bytes of data, \
                 the file has {found}",
                dims_to_string(dims)
            ),
            DataError::TrailingBytes {
                file,
                dims,
                expected,
                found,
            } => write!(
                f,
                "{file}: trailing bytes after the IDX data: header says {} = {expected} bytes \
                 of data, the file has {found}",
                dims_to_string(dims)
            ),
            DataError::BadShape {
                file,
                expected,
                found,
            } => write!(
                f,
                "{file}: expected dimensions {expected}, found {}",
                dims_to_string(found)
            ),
            DataError::CountMismatch {
                images,
                image_count,
                labels,
                label_count,
            } => write!(
                f,
                "{labels}: expected {image_count} labels, one for each image in {images}, \
                 found {label_count}"
            ),
            DataError::LabelOutOfRange {
                file,
                index,
                label,
                classes,
            } => write!(
                f,
                "{file}: label {label} of sample {index} is out of range: expected a class \
                 below {classes}"
            ),
            DataError::UnseenClass {
                file,
                index,
                label,
                train_file,
                train_classes,
            } => write!(
                f,
                "{file}: label {label} of sample {index} is a class the training set never \
                 shows: expected one of the training labels in {train_file} ({}), found {label}",
                classes_to_string(train_classes)
            ),
            DataError::BadClassNames {
                file,
                expected,
                found,
            } => write!(f, "{file}: expected {expected}, found {found}"),
            DataError::Gzip { file, source } => write!(
                f,
                "{file}: starts like a gzip file (1f 8b) but does not decompress: {source}"
            ),
            DataError::MissingFiles { dir, missing } => write!(
                f,
                "{}: missing data files; looked for {}. Run scripts/fetch-mnist (or \
                 scripts/fetch-fashion-mnist) to download them, or point at a folder that holds \
                 them (raw or .gz)",
                dir.display(),
                missing.join(", ")
            ),
        }
    }
}

impl std::error::Error for DataError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DataError::Io { source, .. } | DataError::Gzip { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The IDX element types by their type byte, named for messages.
fn idx_type_name(type_byte: u8) -> &'static str {
    match type_byte {
        0x08 => "u8",
        0x09 => "i8",
        0x0B => "i16",
        0x0C => "i32",
        0x0D => "f32",
        0x0E => "f64",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_written_as_runs() {
        assert_eq!(classes_to_string(&[0, 1, 2]), "0 to 2");
        assert_eq!(
            classes_to_string(&[0, 1, 2, 3, 4, 6, 8, 9]),
            "0 to 4, 6, 8, 9"
        );
        assert_eq!(classes_to_string(&[3]), "3");
        assert_eq!(classes_to_string(&[]), "none");
    }
}
