//! IDX files, the format MNIST ships in.
//!
//! Layout (all integers big-endian):
//!
//! ```text
//! byte 0, 1   0x00 0x00                      (always zero: how an IDX file is recognised)
//! byte 2      element type: 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64
//! byte 3      D, the number of dimensions
//! then        D × u32, the size of each dimension
//! then        the elements, row-major, size₀ × … × size_{D−1} of them
//! ```
//!
//! So the MNIST images start `00 00 08 03` (u8, three dimensions [N, 28, 28]) and the labels
//! `00 00 08 01` ([N]). Only u8 is read: it is all MNIST needs, and other types are refused by name
//! rather than misread.
//!
//! Files compressed with gzip (the usual `*.gz` downloads) are recognised by their first two bytes,
//! `1f 8b`, not by the file name: a renamed file still loads, and a `.gz` name on a raw file does
//! not break anything.

use std::fs;
use std::io::Read;
use std::path::Path;

use flate2::read::MultiGzDecoder;

use super::error::DataError;

/// The two bytes every gzip stream starts with (RFC 1952, §2.3.1).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The IDX type byte for unsigned bytes.
const TYPE_U8: u8 = 0x08;

/// An IDX array of bytes: its dimensions and its elements in row-major order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

impl IdxArray {
    /// The magic number this array's file starts with: `0x0000_08_D` for D dimensions.
    pub fn magic(&self) -> u32 {
        ((TYPE_U8 as u32) << 8) | self.dims.len() as u32
    }
}

/// Reads a u8 IDX file, raw or gzip-compressed.
pub fn read_idx(path: &Path) -> Result<IdxArray, DataError> {
    let name = path.display().to_string();
    let bytes = fs::read(path).map_err(|source| DataError::Io {
        action: "read",
        file: name.clone(),
        source,
    })?;
    parse(bytes, &name)
}

/// Parses the bytes of a u8 IDX file (raw or gzip-compressed) held in memory; `name_for_errors`
/// stands in for the path in error messages.
pub fn read_idx_bytes(bytes: &[u8], name_for_errors: &str) -> Result<IdxArray, DataError> {
    parse(bytes.to_vec(), name_for_errors)
}

/// Takes the bytes by value so that the 47 MB of MNIST's training images are not copied once more:
/// the header is drained off the front of the same buffer.
fn parse(bytes: Vec<u8>, name: &str) -> Result<IdxArray, DataError> {
    let mut bytes = if bytes.starts_with(&GZIP_MAGIC) {
        gunzip(&bytes, name)?
    } else {
        bytes
    };

    if bytes.len() < 4 {
        return Err(DataError::TruncatedHeader {
            file: name.to_string(),
            expected: 4,
            found: bytes.len(),
        });
    }
    let magic = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(DataError::BadMagic {
            file: name.to_string(),
            expected: "an IDX file (magic 0x0000TTDD: two zero bytes, a type, a dimension count)"
                .to_string(),
            found: magic,
        });
    }
    let type_byte = bytes[2];
    if type_byte != TYPE_U8 {
        return Err(DataError::UnsupportedType {
            file: name.to_string(),
            type_byte,
        });
    }

    let ndims = bytes[3] as usize;
    let header_len = 4 + 4 * ndims;
    if bytes.len() < header_len {
        return Err(DataError::TruncatedHeader {
            file: name.to_string(),
            expected: header_len,
            found: bytes.len(),
        });
    }
    let dims: Vec<usize> = bytes[4..header_len]
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect();

    // Saturating: a header of garbage can claim more than 2⁶⁴ bytes, and the answer to that is the
    // same "truncated" as for any other claim larger than the file.
    let expected = dims
        .iter()
        .fold(1u64, |acc, &d| acc.saturating_mul(d as u64));
    let found = (bytes.len() - header_len) as u64;
    if found < expected {
        return Err(DataError::Truncated {
            file: name.to_string(),
            dims,
            expected,
            found,
        });
    }
    if found > expected {
        return Err(DataError::TrailingBytes {
            file: name.to_string(),
            dims,
            expected,
            found,
        });
    }

    bytes.drain(..header_len);
    Ok(IdxArray { dims, data: bytes })
}

/// Decompresses a whole gzip stream. `MultiGzDecoder` rather than `GzDecoder`: a file made by
/// concatenating gzip members is still one valid gzip file, and should read as the whole of it.
fn gunzip(compressed: &[u8], name: &str) -> Result<Vec<u8>, DataError> {
    let mut out = Vec::new();
    MultiGzDecoder::new(compressed)
        .read_to_end(&mut out)
        .map_err(|source| DataError::Gzip {
            file: name.to_string(),
            source,
        })?;
    Ok(out)
}

/// Writes `data` as a raw (uncompressed) u8 IDX file with dimensions `dims`.
///
/// The bytes go to `<path>.tmp` first and are renamed into place, so a reader never sees a half
/// written file and an interrupted write leaves the old file intact.
///
/// # Panics
/// If `data.len()` is not the product of `dims`, if there are more than 255 dimensions, or if a
/// dimension does not fit in a u32: the caller built an array that no IDX file can hold.
pub fn write_idx_u8(path: &Path, dims: &[usize], data: &[u8]) -> Result<(), DataError> {
    let count: usize = dims.iter().product();
    assert_eq!(
        count,
        data.len(),
        "write_idx_u8: dimensions {dims:?} hold {count} bytes but {} were given",
        data.len()
    );
    assert!(
        dims.len() <= 255,
        "write_idx_u8: an IDX file holds at most 255 dimensions, got {}",
        dims.len()
    );

    let mut bytes = Vec::with_capacity(4 + 4 * dims.len() + data.len());
    bytes.extend_from_slice(&[0, 0, TYPE_U8, dims.len() as u8]);
    for &d in dims {
        let d = u32::try_from(d).unwrap_or_else(|_| {
            panic!("write_idx_u8: dimension {d} of {dims:?} does not fit in a u32")
        });
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes.extend_from_slice(data);

    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = Path::new(&tmp_name);
    fs::write(tmp, &bytes).map_err(|source| DataError::Io {
        action: "write",
        file: tmp.display().to_string(),
        source,
    })?;
    fs::rename(tmp, path).map_err(|source| DataError::Io {
        action: "rename into place",
        file: format!("{} (from {})", path.display(), tmp.display()),
        source,
    })
}
