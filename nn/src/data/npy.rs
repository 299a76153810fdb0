//! `.npy` files (NumPy's own array format), read for little-endian `f32` and `i64` arrays: what
//! `scripts/fetch-mnist1d` writes with `numpy.save` (docs/mnist1d.md).
//!
//! Layout (NumPy's "format.py", versions 1.0 to 3.0):
//!
//! ```text
//! bytes 0..6    \x93NUMPY                     (the magic string)
//! byte 6, 7     major, minor version          (1.0, 2.0 or 3.0)
//! then          header length H: u16 little-endian (version 1) or u32 (versions 2 and 3)
//! then          H bytes of a Python dict literal, space-padded, ending in '\n', e.g.
//!               {'descr': '<f4', 'fortran_order': False, 'shape': (4000, 40), }
//! then          the elements, row-major (C order), ∏ shape of them
//! ```
//!
//! Only what MNIST-1D needs is read: `descr` `<f4` or `<i8` (little-endian, as numpy writes on
//! every common machine), C order. Anything else is refused by name rather than misread, and
//! every error names the file and says what was expected and what was found.

use std::fmt;
use std::path::Path;

/// The six bytes every `.npy` file starts with.
const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Why a `.npy` file could not be read: the file, what was expected, what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NpyError {
    pub file: String,
    pub expected: String,
    pub found: String,
}

impl fmt::Display for NpyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {}, found {}",
            self.file, self.expected, self.found
        )
    }
}

impl std::error::Error for NpyError {}

/// An array read from a `.npy` file: its shape and its elements in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray<T> {
    pub shape: Vec<usize>,
    pub data: Vec<T>,
}

/// An element type this reader knows: its `descr` and how to decode one from its bytes.
pub trait NpyElement: Sized + Copy {
    /// NumPy's type string, e.g. `<f4`.
    const DESCR: &'static str;
    const SIZE: usize;
    fn from_le(bytes: &[u8]) -> Self;
}

impl NpyElement for f32 {
    const DESCR: &'static str = "<f4";
    const SIZE: usize = 4;
    fn from_le(b: &[u8]) -> f32 {
        f32::from_le_bytes([b[0], b[1], b[2], b[3]])
    }
}

impl NpyElement for i64 {
    const DESCR: &'static str = "<i8";
    const SIZE: usize = 8;
    fn from_le(b: &[u8]) -> i64 {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[..8]);
        i64::from_le_bytes(a)
    }
}

/// Reads a `.npy` file of element type `T` (`f32` or `i64`).
pub fn read_npy<T: NpyElement>(path: &Path) -> Result<NpyArray<T>, NpyError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| NpyError {
        file: name.clone(),
        expected: "a readable .npy file".into(),
        found: e.to_string(),
    })?;
    parse_npy(&bytes, &name)
}

/// Parses the bytes of a `.npy` file held in memory; `name` is used in error messages.
pub fn parse_npy<T: NpyElement>(bytes: &[u8], name: &str) -> Result<NpyArray<T>, NpyError> {
    let fail = |expected: &str, found: String| NpyError {
        file: name.to_string(),
        expected: expected.to_string(),
        found,
    };
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(fail(
            "a .npy file (starting with \\x93NUMPY)",
            format!("{:02x?}", &bytes[..bytes.len().min(6)]),
        ));
    }
    let major = bytes[6];
    let (header_len, start) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        _ => {
            return Err(fail(
                ".npy format version 1, 2 or 3",
                format!("version {major}.{} (or a truncated file)", bytes[7]),
            ))
        }
    };
    let header = bytes.get(start..start + header_len).ok_or_else(|| {
        fail(
            &format!("a header of {header_len} bytes"),
            format!("a file of {} bytes", bytes.len()),
        )
    })?;
    let header = std::str::from_utf8(header)
        .map_err(|_| fail("a text header", "bytes that are not UTF-8".into()))?;
    let descr = header_value(header, "descr")
        .and_then(|v| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .ok_or_else(|| fail("a 'descr' entry in the header", format!("{header:?}")))?;
    if descr != T::DESCR {
        return Err(fail(
            &format!("elements of type {}", T::DESCR),
            format!("type {descr}"),
        ));
    }
    match header_value(header, "fortran_order") {
        Some("False") => {}
        other => {
            return Err(fail(
                "'fortran_order': False (C order)",
                other.unwrap_or("no such entry").to_string(),
            ))
        }
    }
    let shape = header_value(header, "shape")
        .and_then(parse_shape)
        .ok_or_else(|| fail("a 'shape' tuple in the header", format!("{header:?}")))?;
    // Checked: a corrupt shape such as (2^62,) would otherwise wrap to 0 bytes and be accepted.
    let count = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    let Some((count, size)) = count.and_then(|c| Some((c, c.checked_mul(T::SIZE)?))) else {
        return Err(fail(
            "a shape whose byte size fits in memory",
            format!("shape {shape:?}"),
        ));
    };
    let data = &bytes[start + header_len..];
    if data.len() != size {
        return Err(fail(
            &format!(
                "{} × {} = {} bytes of data for shape {shape:?}",
                count,
                T::SIZE,
                size
            ),
            format!("{} bytes", data.len()),
        ));
    }
    let data = data.chunks_exact(T::SIZE).map(T::from_le).collect();
    Ok(NpyArray { shape, data })
}

/// The text of `'key': value` in the header dict, up to the next top-level comma or `}`
/// (a shape tuple's commas are inside parentheses).
fn header_value<'h>(header: &'h str, key: &str) -> Option<&'h str> {
    let at = header.find(&format!("'{key}':"))? + key.len() + 3;
    let rest = header[at..].trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')')? + 1
    } else {
        rest.find([',', '}'])?
    };
    Some(rest[..end].trim())
}

/// `(4000, 40)` → `[4000, 40]`; `(4000,)` → `[4000]`; `()` → `[]` (a scalar).
fn parse_shape(text: &str) -> Option<Vec<usize>> {
    let inner = text.strip_prefix('(')?.strip_suffix(')')?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().ok())
        .collect()
}
