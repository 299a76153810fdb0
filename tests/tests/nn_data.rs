//! Data loading: IDX files (raw and gzip), their error messages, MNIST folders, data set surgery,
//! and batches (order, coverage, reproducibility, shift augmentation against a naive shift).
//!
//! Every file is written by the test into a fresh temporary folder, byte by byte from the IDX
//! layout (big-endian header, then the data), so nothing depends on a real MNIST download. Gzip
//! files are built here too, from *stored* (uncompressed) deflate blocks and a bitwise CRC-32: an
//! encoder independent of the flate2 decoder under test.

use std::collections::HashSet;
use std::fs;
use std::path::Path;

use nn::data::augment::{background, shift_1d, shift_2d};
use nn::data::{
    batches, load_idx_set, load_mnist, one_hot, read_idx, read_idx_bytes, write_idx_u8, Batch,
    BatchConfig, DataError, Dataset,
};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

// ----- file builders ----------------------------------------------------------------------------

/// The bytes of an IDX file, laid out by hand: `00 00 type ndims`, one big-endian u32 per
/// dimension, then `data` as given (so a test can give too few or too many bytes).
fn idx_bytes(type_byte: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, type_byte, dims.len() as u8];
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

/// CRC-32 as gzip uses it (reflected polynomial 0xEDB88320, init and final xor 0xFFFFFFFF), one
/// bit at a time: slow and obviously the textbook definition.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A gzip member (RFC 1952) holding `data` in stored deflate blocks (RFC 1951 §3.2.4): header
/// `1f 8b 08` + flags/mtime/xfl/os, blocks of `BFINAL|BTYPE=00, LEN, NLEN, bytes`, then CRC-32
/// and the length, both little-endian.
fn gzip(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut chunks: Vec<&[u8]> = data.chunks(65_535).collect();
    if chunks.is_empty() {
        chunks.push(&[]);
    }
    let last = chunks.len() - 1;
    for (i, chunk) in chunks.iter().enumerate() {
        out.push(u8::from(i == last));
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

/// Deterministic bytes, all 256 values occurring.
fn pattern(len: usize, salt: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 7 + salt * 13) % 256) as u8)
        .collect()
}

/// One MNIST set (`train` or `t10k`) of `n` images with labels `i % 10`, raw or gzip.
fn write_mnist_set(dir: &Path, prefix: &str, n: usize, gz: bool) {
    let images = idx_bytes(8, &[n as u32, 28, 28], &pattern(n * 784, n));
    let labels = idx_bytes(
        8,
        &[n as u32],
        &(0..n).map(|i| (i % 10) as u8).collect::<Vec<_>>(),
    );
    for (name, bytes) in [
        (format!("{prefix}-images-idx3-ubyte"), images),
        (format!("{prefix}-labels-idx1-ubyte"), labels),
    ] {
        if gz {
            fs::write(dir.join(format!("{name}.gz")), gzip(&bytes)).unwrap();
        } else {
            fs::write(dir.join(name), bytes).unwrap();
        }
    }
}

fn error_of<T: std::fmt::Debug>(result: Result<T, DataError>) -> (DataError, String) {
    let err = result.expect_err("expected an error");
    let msg = err.to_string();
    (err, msg)
}

// ----- the builders themselves ------------------------------------------------------------------

#[test]
fn crc32_of_the_standard_check_string() {
    // 0xCBF43926 is CRC-32's published check value for the ASCII string "123456789".
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
}

#[test]
fn write_idx_u8_lays_out_the_header_big_endian() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.idx");
    write_idx_u8(&path, &[2, 300], &pattern(600, 0)).unwrap();
    let bytes = fs::read(&path).unwrap();
    // By hand: 00 00 08 02, then 2 = 00 00 00 02 and 300 = 0x012C = 00 00 01 2C.
    assert_eq!(bytes[..12], [0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 1, 0x2C]);
    assert_eq!(bytes, idx_bytes(8, &[2, 300], &pattern(600, 0)));
    // The temporary name is gone after the rename.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}

// ----- round trips ------------------------------------------------------------------------------

#[test]
fn idx_round_trip_raw() {
    let dir = tempfile::tempdir().unwrap();
    for dims in [
        vec![3usize, 4, 5],
        vec![7],
        vec![0, 28, 28],
        vec![2, 1, 3, 2],
    ] {
        let data = pattern(dims.iter().product(), dims.len());
        let path = dir.path().join("x-idx");
        write_idx_u8(&path, &dims, &data).unwrap();
        let back = read_idx(&path).unwrap();
        assert_eq!(back.dims, dims);
        assert_eq!(back.data, data);
        assert_eq!(back.magic(), 0x0800 | dims.len() as u32);
    }
}

#[test]
fn idx_round_trip_gzip_detected_by_magic_not_name() {
    let dir = tempfile::tempdir().unwrap();
    // 3×150×150 = 67 500 bytes: more than one stored block (65 535), so the decoder crosses a
    // block boundary.
    let dims = [3usize, 150, 150];
    let data = pattern(67_500, 1);
    let raw = dir.path().join("raw");
    write_idx_u8(&raw, &dims, &data).unwrap();
    let compressed = gzip(&fs::read(&raw).unwrap());

    // Same content under a .gz name and under a name that says nothing.
    for name in ["images.gz", "images-no-extension"] {
        let path = dir.path().join(name);
        fs::write(&path, &compressed).unwrap();
        let back = read_idx(&path).unwrap();
        assert_eq!(back.dims, dims);
        assert_eq!(back.data, data);
    }
    // And a raw file with a .gz name is read as raw.
    let misnamed = dir.path().join("really-raw.gz");
    fs::copy(&raw, &misnamed).unwrap();
    assert_eq!(read_idx(&misnamed).unwrap().data, data);

    // In memory, the same.
    let back = read_idx_bytes(&compressed, "in memory").unwrap();
    assert_eq!((back.dims, back.data), (dims.to_vec(), data));
}

#[test]
fn gzip_from_the_gzip_tool_with_compressed_blocks() {
    // The stored blocks above exercise the container, not the inflater. These 39 bytes are
    // `gzip -9n` of an IDX [4, 8] file whose data are i² mod 7 for i = 0..32: one fixed-Huffman
    // block (first byte 0x63: BFINAL 1, BTYPE 01) with back-references into the repeating pattern.
    let from_gzip_tool = [
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x63, 0x60, 0xe0, 0x60, 0x62,
        0x60, 0x60, 0x60, 0x01, 0x62, 0x0e, 0x06, 0x46, 0x16, 0x26, 0x26, 0x16, 0x46, 0x9c, 0x14,
        0x00, 0x09, 0x79, 0x4f, 0xe6, 0x2c, 0x00, 0x00, 0x00,
    ];
    let back = read_idx_bytes(&from_gzip_tool, "tool.gz").unwrap();
    assert_eq!(back.dims, vec![4, 8]);
    let expected: Vec<u8> = (0..32u32).map(|i| (i * i % 7) as u8).collect();
    assert_eq!(back.data, expected);
}

#[test]
fn concatenated_gzip_members_read_as_one_file() {
    // RFC 1952 §2.2: a gzip file is a series of members; `gzip -c a b > c` makes one. Split an IDX
    // file's bytes after the header and compress the halves separately.
    let data = pattern(100, 2);
    let bytes = idx_bytes(8, &[10, 10], &data);
    let mut two_members = gzip(&bytes[..8]);
    two_members.extend(gzip(&bytes[8..]));
    let back = read_idx_bytes(&two_members, "two members").unwrap();
    assert_eq!((back.dims, back.data), (vec![10, 10], data));
}

// ----- errors, one by one -----------------------------------------------------------------------

#[test]
fn not_an_idx_file_names_the_magic_found() {
    // A zip file starts "PK\x03\x04" = 50 4B 03 04.
    let (err, msg) = error_of(read_idx_bytes(b"PK\x03\x04rest of a zip", "archive.zip"));
    assert!(matches!(err, DataError::BadMagic { .. }), "{err:?}");
    assert!(msg.contains("archive.zip"), "{msg}");
    assert!(msg.contains("0x504B0304"), "{msg}");
}

#[test]
fn wrong_magic_for_the_role_names_expected_and_found() {
    // A label file (00 00 08 01) where the images should be.
    let dir = tempfile::tempdir().unwrap();
    write_mnist_set(dir.path(), "train", 4, false);
    write_mnist_set(dir.path(), "t10k", 2, false);
    let images = dir.path().join("train-images-idx3-ubyte");
    fs::copy(dir.path().join("train-labels-idx1-ubyte"), &images).unwrap();
    let (err, msg) = error_of(load_mnist(dir.path()));
    assert!(matches!(err, DataError::BadMagic { .. }), "{err:?}");
    assert!(msg.contains(&images.display().to_string()), "{msg}");
    assert!(
        msg.contains("expected an IDX image file (magic 0x00000803), found 0x00000801"),
        "{msg}"
    );

    // And the other way round.
    write_mnist_set(dir.path(), "train", 4, false);
    let labels = dir.path().join("train-labels-idx1-ubyte");
    fs::copy(dir.path().join("train-images-idx3-ubyte"), &labels).unwrap();
    let (_, msg) = error_of(load_mnist(dir.path()));
    assert!(msg.contains(&labels.display().to_string()), "{msg}");
    assert!(
        msg.contains("expected an IDX label file (magic 0x00000801), found 0x00000803"),
        "{msg}"
    );
}

#[test]
fn unsupported_type_is_named() {
    // Type 0x0D is f32: one element of 4 bytes.
    let bytes = idx_bytes(0x0D, &[1], &[0, 0, 0x80, 0x3F]);
    let (err, msg) = error_of(read_idx_bytes(&bytes, "floats.idx"));
    assert!(
        matches!(
            err,
            DataError::UnsupportedType {
                type_byte: 0x0D,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(msg.contains("floats.idx") && msg.contains("f32") && msg.contains("0x0D"));
    assert!(msg.contains("u8"), "{msg}");

    let (_, msg) = error_of(read_idx_bytes(&idx_bytes(0x0B, &[0], &[]), "shorts"));
    assert!(msg.contains("i16"), "{msg}");
}

#[test]
fn truncated_data_says_how_much_was_promised_and_found() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("short-images");
    // Header [3, 28, 28] promises 2352 bytes; give 10 fewer.
    fs::write(&path, idx_bytes(8, &[3, 28, 28], &pattern(2342, 0))).unwrap();
    let (err, msg) = error_of(read_idx(&path));
    assert!(matches!(err, DataError::Truncated { .. }), "{err:?}");
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    // 3 × 28 × 28 = 2352, by hand.
    assert!(
        msg.contains("header says 3×28×28 = 2352 bytes of data, the file has 2342"),
        "{msg}"
    );
}

#[test]
fn truncated_header_is_reported() {
    // Three dimensions need 4 + 3·4 = 16 header bytes; give 10.
    let bytes = &idx_bytes(8, &[3, 28, 28], &[])[..10];
    let (err, msg) = error_of(read_idx_bytes(bytes, "stub"));
    assert!(
        matches!(
            err,
            DataError::TruncatedHeader {
                expected: 16,
                found: 10,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(msg.contains("stub") && msg.contains("16") && msg.contains("10"));
    // Fewer bytes than the magic itself.
    let (err, _) = error_of(read_idx_bytes(&[0, 0], "two bytes"));
    assert!(matches!(
        err,
        DataError::TruncatedHeader {
            expected: 4,
            found: 2,
            ..
        }
    ));
}

#[test]
fn trailing_bytes_are_refused() {
    // [2, 3] holds 6 bytes; give 8.
    let (err, msg) = error_of(read_idx_bytes(&idx_bytes(8, &[2, 3], &[1; 8]), "long"));
    assert!(matches!(
        err,
        DataError::TrailingBytes {
            expected: 6,
            found: 8,
            ..
        }
    ));
    assert!(msg.contains("long") && msg.contains("2×3 = 6") && msg.contains("has 8"));
}

#[test]
fn absurd_dimensions_are_truncation_not_overflow() {
    // 0xFFFFFFFF⁴ overflows u64; the reader must say "truncated", not wrap round or panic.
    let bytes = idx_bytes(8, &[u32::MAX; 4], &[1, 2, 3]);
    let (err, _) = error_of(read_idx_bytes(&bytes, "garbage"));
    assert!(
        matches!(err, DataError::Truncated { found: 3, .. }),
        "{err:?}"
    );
}

#[test]
fn count_mismatch_names_both_files_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    write_mnist_set(dir.path(), "train", 5, false);
    write_mnist_set(dir.path(), "t10k", 2, false);
    let labels = dir.path().join("train-labels-idx1-ubyte");
    fs::write(&labels, idx_bytes(8, &[4], &[1, 2, 3, 4])).unwrap();
    let (err, msg) = error_of(load_mnist(dir.path()));
    assert!(
        matches!(
            err,
            DataError::CountMismatch {
                image_count: 5,
                label_count: 4,
                ..
            }
        ),
        "{err:?}"
    );
    let images = dir.path().join("train-images-idx3-ubyte");
    assert_eq!(
        msg,
        format!(
            "{}: expected 5 labels, one for each image in {}, found 4",
            labels.display(),
            images.display()
        )
    );
}

#[test]
fn a_test_class_the_training_set_never_shows_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // Training labels 0, 1, 2; the test set has a 10 at sample 1.
    write_mnist_set(dir.path(), "train", 3, false);
    write_mnist_set(dir.path(), "t10k", 3, false);
    let labels = dir.path().join("t10k-labels-idx1-ubyte");
    fs::write(&labels, idx_bytes(8, &[3], &[2, 10, 0])).unwrap();
    let (err, msg) = error_of(load_mnist(dir.path()));
    assert!(
        matches!(
            err,
            DataError::UnseenClass {
                index: 1,
                label: 10,
                ..
            }
        ),
        "{err:?}"
    );
    let train_labels = dir.path().join("train-labels-idx1-ubyte");
    assert_eq!(
        msg,
        format!(
            "{}: label 10 of sample 1 is a class the training set never shows: expected one of \
             the training labels in {} (0 to 2), found 10",
            labels.display(),
            train_labels.display()
        )
    );
}

#[test]
fn images_of_the_wrong_size_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    write_mnist_set(dir.path(), "train", 2, false);
    write_mnist_set(dir.path(), "t10k", 2, false);
    let images = dir.path().join("t10k-images-idx3-ubyte");
    fs::write(
        &images,
        idx_bytes(8, &[2, 27, 28], &pattern(2 * 27 * 28, 0)),
    )
    .unwrap();
    let (err, msg) = error_of(load_mnist(dir.path()));
    assert!(matches!(err, DataError::BadShape { .. }), "{err:?}");
    let train_images = dir.path().join("train-images-idx3-ubyte");
    assert_eq!(
        msg,
        format!(
            "{}: expected dimensions N×28×28, the size of the training images in {}, found 2×27×28",
            images.display(),
            train_images.display()
        )
    );
}

#[test]
fn corrupt_gzip_is_a_gzip_error() {
    let good = gzip(&idx_bytes(8, &[4, 4], &pattern(16, 3)));
    assert!(read_idx_bytes(&good, "good").is_ok());

    // Cut off half way through the stream.
    let (err, msg) = error_of(read_idx_bytes(&good[..good.len() / 2], "cut.gz"));
    assert!(matches!(err, DataError::Gzip { .. }), "{err:?}");
    assert!(msg.contains("cut.gz") && msg.contains("gzip"), "{msg}");

    // Flip a byte of the stored CRC-32 (the 8th byte from the end): the data decode, the check fails.
    let mut bad_crc = good.clone();
    let at = bad_crc.len() - 8;
    bad_crc[at] ^= 0xFF;
    let (err, _) = error_of(read_idx_bytes(&bad_crc, "crc.gz"));
    assert!(matches!(err, DataError::Gzip { .. }), "{err:?}");

    // A corrupt file on disk names its path.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("train-images-idx3-ubyte.gz");
    fs::write(&path, &bad_crc).unwrap();
    let (_, msg) = error_of(read_idx(&path));
    assert!(msg.contains(&path.display().to_string()), "{msg}");
}

#[test]
fn missing_files_name_the_folder_and_the_fetch_script() {
    let dir = tempfile::tempdir().unwrap();
    let (err, msg) = error_of(load_mnist(dir.path()));
    assert!(matches!(err, DataError::MissingFiles { .. }), "{err:?}");
    assert!(msg.contains(&dir.path().display().to_string()), "{msg}");
    assert!(msg.contains("scripts/fetch-mnist"), "{msg}");
    for name in [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ] {
        assert!(msg.contains(&format!("{name} or {name}.gz")), "{msg}");
    }

    // Half a download: only the test files are reported missing.
    write_mnist_set(dir.path(), "train", 2, true);
    let (err, msg) = error_of(load_mnist(dir.path()));
    match err {
        DataError::MissingFiles { missing, .. } => assert_eq!(missing.len(), 2, "{msg}"),
        other => panic!("expected MissingFiles, got {other:?}"),
    }
    assert!(
        msg.contains("t10k-images") && !msg.contains("train-images"),
        "{msg}"
    );

    // A folder that does not exist at all is the same error.
    let (err, _) = error_of(load_mnist(&dir.path().join("nowhere")));
    assert!(matches!(err, DataError::MissingFiles { .. }));
}

#[test]
fn unreadable_file_names_the_path_and_the_os_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent-file");
    let (err, msg) = error_of(read_idx(&path));
    assert!(matches!(err, DataError::Io { .. }), "{err:?}");
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    // The OS error is the source, for callers that print chains.
    assert!(std::error::Error::source(&err).is_some());
}

// ----- MNIST ------------------------------------------------------------------------------------

#[test]
fn load_mnist_reads_raw_and_gzip_and_scales_to_unit_range() {
    let dir = tempfile::tempdir().unwrap();
    write_mnist_set(dir.path(), "train", 12, true);
    write_mnist_set(dir.path(), "t10k", 3, false);
    let mnist = load_mnist(dir.path()).unwrap();
    for (ds, n) in [(&mnist.train, 12), (&mnist.test, 3)] {
        assert_eq!(ds.len(), n);
        assert_eq!(ds.sample_shape, vec![1, 28, 28]);
        assert_eq!(ds.classes, 10);
        assert_eq!(ds.labels, (0..n).map(|i| i % 10).collect::<Vec<_>>());
        // Every value is its byte / 255.
        let bytes = pattern(n * 784, n);
        for (x, b) in ds.inputs.iter().zip(&bytes) {
            assert_eq!(*x, *b as f32 / 255.0);
        }
        // The pattern holds 0 and 255, which must land on 0 and 1 exactly.
        assert_eq!(ds.inputs.iter().copied().fold(f32::INFINITY, f32::min), 0.0);
        assert_eq!(ds.inputs.iter().copied().fold(0.0, f32::max), 1.0);
    }
}

#[test]
fn raw_file_wins_over_gzip_when_both_exist() {
    let dir = tempfile::tempdir().unwrap();
    write_mnist_set(dir.path(), "train", 2, false);
    write_mnist_set(dir.path(), "t10k", 2, false);
    // A .gz beside the raw labels, claiming three labels: if it were read, the counts would clash.
    fs::write(
        dir.path().join("t10k-labels-idx1-ubyte.gz"),
        gzip(&idx_bytes(8, &[3], &[1, 2, 3])),
    )
    .unwrap();
    assert_eq!(load_mnist(dir.path()).unwrap().test.len(), 2);
}

// ----- any IDX set ------------------------------------------------------------------------------

/// An image set of `n` images of `h`×`w` with the given labels, as the four raw files' `prefix`.
fn write_set(dir: &Path, prefix: &str, h: u32, w: u32, labels: &[u8]) {
    let n = labels.len() as u32;
    let images = idx_bytes(8, &[n, h, w], &pattern((n * h * w) as usize, 1));
    fs::write(dir.join(format!("{prefix}-images-idx3-ubyte")), images).unwrap();
    let labels = idx_bytes(8, &[n], labels);
    fs::write(dir.join(format!("{prefix}-labels-idx1-ubyte")), labels).unwrap();
}

#[test]
fn the_files_decide_the_image_size_the_classes_and_their_names() {
    let dir = tempfile::tempdir().unwrap();
    write_set(dir.path(), "train", 10, 12, &[0, 1, 2, 1, 0]);
    write_set(dir.path(), "t10k", 10, 12, &[2, 2]);
    let set = load_idx_set(dir.path()).unwrap();
    assert_eq!(set.train.sample_shape, vec![1, 10, 12]);
    assert_eq!((set.train.classes, set.test.classes), (3, 3));
    assert_eq!(set.test.labels, vec![2, 2]);
    assert_eq!(set.class_names, None);

    // Names one a line; spaces around a name and the final newline are not part of it.
    fs::write(
        dir.path().join("classes.txt"),
        "bar top\n middle \nbottom\n\n",
    )
    .unwrap();
    let set = load_idx_set(dir.path()).unwrap();
    assert_eq!(
        set.class_names.as_deref(),
        Some(&["bar top".to_string(), "middle".into(), "bottom".into()][..])
    );
}

#[test]
fn class_names_must_name_every_class_once() {
    let dir = tempfile::tempdir().unwrap();
    write_set(dir.path(), "train", 4, 4, &[0, 1, 2]);
    write_set(dir.path(), "t10k", 4, 4, &[1]);
    let names = dir.path().join("classes.txt");
    fs::write(&names, "a\nb\nc\nd\n").unwrap();
    let (err, msg) = error_of(load_idx_set(dir.path()));
    assert!(matches!(err, DataError::BadClassNames { .. }), "{err:?}");
    assert_eq!(
        msg,
        format!(
            "{}: expected 3 class names, one per line, as the training labels name 3 classes, \
             found 4 lines",
            names.display()
        )
    );
    fs::write(&names, "a\n\nc\n").unwrap();
    let (_, msg) = error_of(load_idx_set(dir.path()));
    assert!(
        msg.ends_with("expected a class name on every line, found line 2 blank"),
        "{msg}"
    );
}

// ----- Dataset ----------------------------------------------------------------------------------

/// `n` samples of shape `[2]` whose values are `[i, −i]`, so every row says which sample it is;
/// labels `i % classes`.
fn numbered(n: usize, classes: usize) -> Dataset {
    let inputs = (0..n).flat_map(|i| [i as f32, -(i as f32)]).collect();
    Dataset::new(
        inputs,
        vec![2],
        (0..n).map(|i| i % classes).collect(),
        classes,
    )
}

fn ids(ds: &Dataset) -> Vec<usize> {
    (0..ds.len()).map(|i| ds.sample(i)[0] as usize).collect()
}

#[test]
fn sample_subset_and_take() {
    let ds = numbered(10, 3);
    assert_eq!(ds.sample(4), &[4.0, -4.0]);
    let sub = ds.subset(&[7, 2, 7]);
    assert_eq!(ids(&sub), vec![7, 2, 7]);
    assert_eq!(sub.labels, vec![1, 2, 1]);
    assert_eq!(ids(&ds.take(4)), vec![0, 1, 2, 3]);
    assert_eq!(ds.take(99).len(), 10);
    assert_eq!(ds.class_counts(), vec![4, 3, 3]);
}

#[test]
fn split_off_is_a_disjoint_cover_and_deterministic() {
    let ds = numbered(100, 10);
    let (kept, split) = ds.split_off(30, 7);
    assert_eq!((kept.len(), split.len()), (70, 30));
    let (k, s) = (ids(&kept), ids(&split));
    let k_set: HashSet<usize> = k.iter().copied().collect();
    let s_set: HashSet<usize> = s.iter().copied().collect();
    assert!(k_set.is_disjoint(&s_set));
    assert_eq!(k_set.union(&s_set).count(), 100);
    // Both keep dataset order, and labels travel with their rows.
    assert!(k.windows(2).all(|w| w[0] < w[1]) && s.windows(2).all(|w| w[0] < w[1]));
    assert!(split.labels.iter().zip(&s).all(|(&l, &i)| l == i % 10));

    // Same seed, same split; another seed, another split (two equal random 30-subsets of 100
    // would have probability 1 / C(100, 30) ≈ 3·10⁻²⁶).
    assert_eq!(ds.split_off(30, 7), (kept, split.clone()));
    assert_ne!(ids(&ds.split_off(30, 8).1), s);
    // The split is not simply the first or last 30.
    assert_ne!(s, (0..30).collect::<Vec<_>>());
    assert_ne!(s, (70..100).collect::<Vec<_>>());

    // Edge counts.
    assert_eq!(ds.split_off(0, 1).0.len(), 100);
    assert_eq!(ds.split_off(100, 1).1.len(), 100);
}

#[test]
fn filter_classes_keeps_and_relabels() {
    let ds = numbered(30, 10);
    // 4 vs 9, listed 9 first: 9 becomes class 0, 4 class 1.
    let two = ds.filter_classes(&[9, 4]);
    assert_eq!(two.classes, 2);
    assert_eq!(ids(&two), vec![4, 9, 14, 19, 24, 29]);
    assert_eq!(two.labels, vec![1, 0, 1, 0, 1, 0]);
    assert_eq!(two.sample_shape, vec![2]);
}

#[test]
fn mean_std_and_normalise() {
    // By hand: 1, 2, 3, 4 have mean 2.5 and population variance (1.5² + 0.5² + 0.5² + 1.5²)/4
    // = 1.25.
    let mut ds = Dataset::new(vec![1.0, 2.0, 3.0, 4.0], vec![1], vec![0, 1, 0, 1], 2);
    let (mean, std) = ds.mean_std();
    assert_eq!(mean, 2.5);
    assert_eq!(std, 1.25f64.sqrt() as f32);

    ds.normalise(mean, std);
    assert_eq!(ds.inputs[0], (1.0 - 2.5) * (1.0 / std));
    let (m, s) = ds.mean_std();
    // Exact algebra says 0 and 1; f32 rounding of four values leaves at most a few ulps.
    assert!(m.abs() < 1e-6 && (s - 1.0).abs() < 1e-6, "{m} {s}");
}

#[test]
fn mean_std_agrees_with_an_f64_reference_on_many_values() {
    // A million values near 1000: an f32 running sum would drift, the f64 one must not.
    let mut rng = StdRng::seed_from_u64(3);
    let inputs: Vec<f32> = (0..1_000_000)
        .map(|_| 1000.0 + rng.random::<f32>())
        .collect();
    let n = inputs.len() as f64;
    // Reference: f64 mean and two-pass variance computed here.
    let mean = inputs.iter().map(|&x| x as f64).sum::<f64>() / n;
    let var = inputs
        .iter()
        .map(|&x| (x as f64 - mean).powi(2))
        .sum::<f64>()
        / n;
    let ds = Dataset::new(inputs, vec![1], vec![0; 1_000_000], 1);
    let (m, s) = ds.mean_std();
    // Each result is the f64 value rounded once to f32 (half an ulp: 3·10⁻⁵ at 1000).
    assert_eq!(m, mean as f32);
    assert_eq!(s, var.sqrt() as f32);
}

#[test]
fn one_hot_rows() {
    let t = one_hot(&[2, 0, 1], 3);
    assert_eq!(t.shape(), &[3, 3]);
    assert_eq!(t.data(), &[0., 0., 1., 1., 0., 0., 0., 1., 0.]);
}

// ----- batches: order and coverage --------------------------------------------------------------

fn all_batches(ds: &Dataset, cfg: &BatchConfig, epoch: usize) -> Vec<Batch> {
    batches(ds, cfg, epoch).collect()
}

fn order_of(ds: &Dataset, cfg: &BatchConfig, epoch: usize) -> Vec<usize> {
    all_batches(ds, cfg, epoch)
        .into_iter()
        .flat_map(|b| b.indices)
        .collect()
}

fn shuffled(batch_size: usize, seed: u64, drop_last: bool) -> BatchConfig {
    BatchConfig {
        shuffle_seed: Some(seed),
        drop_last,
        ..BatchConfig::new(batch_size)
    }
}

#[test]
fn batch_sizes_with_and_without_drop_last() {
    let ds = numbered(10, 3);
    // 10 = 3 + 3 + 3 + 1.
    let sizes = |cfg: &BatchConfig| {
        all_batches(&ds, cfg, 0)
            .iter()
            .map(|b| b.labels.len())
            .collect::<Vec<_>>()
    };
    assert_eq!(sizes(&shuffled(3, 1, false)), vec![3, 3, 3, 1]);
    assert_eq!(sizes(&shuffled(3, 1, true)), vec![3, 3, 3]);
    assert_eq!(sizes(&shuffled(5, 1, true)), vec![5, 5]);
    assert_eq!(sizes(&shuffled(20, 1, true)), Vec::<usize>::new());
    assert_eq!(sizes(&shuffled(20, 1, false)), vec![10]);
    assert_eq!(batches(&ds, &shuffled(3, 1, false), 0).len(), 4);
}

proptest! {
    #[test]
    fn every_index_once_per_epoch(
        n in 0usize..60,
        batch_size in 1usize..13,
        drop_last in any::<bool>(),
        seed in proptest::option::of(any::<u64>()),
        epoch in 0usize..5,
    ) {
        let ds = numbered(n, 4);
        let cfg = BatchConfig { shuffle_seed: seed, drop_last, ..BatchConfig::new(batch_size) };
        let it = batches(&ds, &cfg, epoch);
        let announced = it.len();
        let all: Vec<Batch> = it.collect();
        prop_assert_eq!(all.len(), announced);

        let full = n / batch_size;
        let rest = n % batch_size;
        for (k, b) in all.iter().enumerate() {
            let expected = if k < full { batch_size } else { rest };
            prop_assert_eq!(b.indices.len(), expected);
        }
        let order: Vec<usize> = all.iter().flat_map(|b| b.indices.clone()).collect();
        let distinct: HashSet<usize> = order.iter().copied().collect();
        prop_assert_eq!(distinct.len(), order.len(), "an index repeated");
        prop_assert!(order.iter().all(|&i| i < n));
        let covered = if drop_last { full * batch_size } else { n };
        prop_assert_eq!(order.len(), covered);
        if seed.is_none() {
            prop_assert_eq!(order, (0..covered).collect::<Vec<_>>());
        }
    }
}

#[test]
fn same_seed_and_epoch_same_order_other_epoch_or_seed_differs() {
    let ds = numbered(50, 5);
    let cfg = shuffled(8, 42, false);
    let e3 = order_of(&ds, &cfg, 3);
    assert_eq!(order_of(&ds, &cfg, 3), e3);
    assert_ne!(e3, (0..50).collect::<Vec<_>>());
    // A repeated permutation of 50 by chance: probability 1/50! ≈ 3·10⁻⁶⁵.
    let others: Vec<Vec<usize>> = (0..6).map(|e| order_of(&ds, &cfg, e)).collect();
    for (i, a) in others.iter().enumerate() {
        for b in &others[i + 1..] {
            assert_ne!(a, b);
        }
    }
    assert_ne!(order_of(&ds, &shuffled(8, 43, false), 3), e3);
    // The batch size cuts the same permutation differently; it does not change it.
    assert_eq!(order_of(&ds, &shuffled(5, 42, false), 3), e3);
}

#[test]
fn shuffles_are_uniform_over_permutations() {
    // 600 epochs of a 3-sample set: each of the 3! = 6 orders is expected 100 times, with standard
    // deviation √(600·(1/6)·(5/6)) ≈ 9.1, so [60, 140] is more than 4σ either side. A biased
    // shuffle (e.g. Sattolo's, which only makes the 2 cyclic orders) lands far outside.
    let ds = numbered(3, 1);
    let cfg = shuffled(3, 12, false);
    let mut counts = std::collections::HashMap::new();
    for epoch in 0..600 {
        *counts.entry(order_of(&ds, &cfg, epoch)).or_insert(0) += 1;
    }
    assert_eq!(counts.len(), 6, "{counts:?}");
    assert!(
        counts.values().all(|&c| (60..=140).contains(&c)),
        "{counts:?}"
    );
}

#[test]
fn split_off_chooses_every_sample_equally_often() {
    // 1000 seeds of a 3-of-10 split: each sample is chosen 300 times on average, standard
    // deviation √(1000·0.3·0.7) ≈ 14.5, so [240, 360] is more than 4σ either side.
    let ds = numbered(10, 1);
    let mut chosen = [0usize; 10];
    for seed in 0..1000 {
        for i in ids(&ds.split_off(3, seed).1) {
            chosen[i] += 1;
        }
    }
    assert!(
        chosen.iter().all(|&c| (240..=360).contains(&c)),
        "{chosen:?}"
    );
}

#[test]
fn batch_rows_and_labels_match_the_dataset() {
    let ds = numbered(23, 7);
    for b in batches(&ds, &shuffled(6, 9, false), 2) {
        assert_eq!(b.inputs.shape(), &[b.indices.len(), 2]);
        for (row, &i) in b.inputs.data().chunks(2).zip(&b.indices) {
            assert_eq!(row, ds.sample(i));
        }
        let expected: Vec<usize> = b.indices.iter().map(|&i| ds.labels[i]).collect();
        assert_eq!(b.labels, expected);
    }
}

// ----- shift augmentation -----------------------------------------------------------------------

/// The shift, read straight off its definition: output pixel (c, y, x) comes from input pixel
/// (c, y − dy, x − dx) if that exists, else it is the sample's minimum. `[C, L]` is `[C, 1, L]`.
fn naive_shift(src: &[f32], shape: &[usize], dy: isize, dx: isize) -> Vec<f32> {
    let (c, h, w) = match *shape {
        [c, h, w] => (c, h, w),
        [c, l] => (c, 1, l),
        [l] => (1, 1, l),
        _ => unreachable!(),
    };
    let bg = src.iter().copied().fold(f32::INFINITY, f32::min);
    let mut out = Vec::with_capacity(src.len());
    for ch in 0..c {
        for y in 0..h as isize {
            for x in 0..w as isize {
                let (sy, sx) = (y - dy, x - dx);
                let inside = sy >= 0 && sy < h as isize && sx >= 0 && sx < w as isize;
                out.push(if inside {
                    src[ch * h * w + sy as usize * w + sx as usize]
                } else {
                    bg
                });
            }
        }
    }
    out
}

/// A data set of `n` samples of `shape` with distinct random values per sample (so a shifted
/// sample matches at most one offset, unless the shift empties it entirely).
fn random_images(n: usize, shape: &[usize], seed: u64) -> Dataset {
    let per: usize = shape.iter().product();
    let mut rng = StdRng::seed_from_u64(seed);
    let inputs = (0..n * per)
        .map(|_| rng.random::<f32>() * 2.0 - 0.5)
        .collect();
    Dataset::new(inputs, shape.to_vec(), vec![0; n], 1)
}

#[test]
fn fast_shift_equals_naive_for_every_offset() {
    let mut rng = StdRng::seed_from_u64(11);
    let (c, h, w) = (2usize, 5usize, 7usize);
    let src: Vec<f32> = (0..c * h * w).map(|_| rng.random::<f32>()).collect();
    let fill = background(&src);
    // Offsets past the edges too: a shift by the whole width or more leaves only background.
    for dy in -(h as isize + 1)..=(h as isize + 1) {
        for dx in -(w as isize + 1)..=(w as isize + 1) {
            let mut dst = vec![f32::NAN; src.len()];
            shift_2d(&src, &mut dst, [c, h, w], (dy, dx), fill);
            assert_eq!(
                dst,
                naive_shift(&src, &[c, h, w], dy, dx),
                "dy {dy} dx {dx}"
            );
        }
    }
    for d in -9isize..=9 {
        let mut dst = vec![f32::NAN; c * 8];
        shift_1d(
            &src[..c * 8],
            &mut dst,
            [c, 8],
            d,
            background(&src[..c * 8]),
        );
        assert_eq!(dst, naive_shift(&src[..c * 8], &[c, 8], 0, d), "d {d}");
    }
}

#[test]
fn shift_zero_leaves_inputs_identical() {
    let ds = random_images(20, &[1, 6, 6], 1);
    let plain = all_batches(&ds, &shuffled(7, 5, false), 1);
    let cfg = BatchConfig {
        shift: 0,
        augment_seed: 99,
        ..shuffled(7, 5, false)
    };
    assert_eq!(all_batches(&ds, &cfg, 1), plain);
    for b in &plain {
        for (row, &i) in b.inputs.data().chunks(36).zip(&b.indices) {
            assert_eq!(row, ds.sample(i));
        }
    }
}

/// For each sample of each batch, the offsets among the (2s+1)^rank candidates whose naive shift
/// it equals.
fn matching_offsets(ds: &Dataset, cfg: &BatchConfig, epoch: usize) -> Vec<Vec<(isize, isize)>> {
    let s = cfg.shift as isize;
    let dys: Vec<isize> = if ds.sample_shape.len() == 3 {
        (-s..=s).collect()
    } else {
        vec![0]
    };
    let per = ds.sample_len();
    let mut out = Vec::new();
    for b in batches(ds, cfg, epoch) {
        for (row, &i) in b.inputs.data().chunks(per).zip(&b.indices) {
            let mut hits = Vec::new();
            for &dy in &dys {
                for dx in -s..=s {
                    if row == naive_shift(ds.sample(i), &ds.sample_shape, dy, dx) {
                        hits.push((dy, dx));
                    }
                }
            }
            out.push(hits);
        }
    }
    out
}

#[test]
fn every_shifted_sample_is_one_naive_shift_of_its_source() {
    for (shape, s) in [
        (vec![2usize, 9, 8], 2usize),
        (vec![1, 28, 28], 3),
        (vec![3, 40], 4),
        (vec![40], 1),
    ] {
        let ds = random_images(60, &shape, 4);
        let cfg = BatchConfig {
            shift: s,
            augment_seed: 17,
            ..shuffled(16, 5, false)
        };
        let hits = matching_offsets(&ds, &cfg, 2);
        assert_eq!(hits.len(), 60);
        // Distinct random values: exactly one offset reproduces each sample.
        assert!(hits.iter().all(|h| h.len() == 1), "{shape:?}: {hits:?}");
        // And the offsets really vary: with 60 draws from (2s+1)^rank ≥ 3 choices, seeing only one
        // would mean the augmentation is not random at all.
        let seen: HashSet<(isize, isize)> = hits.iter().map(|h| h[0]).collect();
        assert!(seen.len() > 2, "{shape:?}: offsets {seen:?}");
    }
}

#[test]
fn all_offsets_occur_for_a_small_shift() {
    // 400 draws of 25 equally likely offsets: each is missed with probability (24/25)^400 ≈ 8·10⁻⁸.
    let ds = random_images(400, &[1, 6, 6], 8);
    let cfg = BatchConfig {
        shift: 2,
        augment_seed: 1,
        ..BatchConfig::new(64)
    };
    let seen: HashSet<(isize, isize)> = matching_offsets(&ds, &cfg, 0)
        .into_iter()
        .map(|h| h[0])
        .collect();
    assert_eq!(seen.len(), 25);
}

#[test]
fn shifts_are_reproducible_per_epoch_and_leave_the_order_alone() {
    let ds = random_images(30, &[1, 8, 8], 2);
    let cfg = BatchConfig {
        shift: 2,
        augment_seed: 3,
        ..shuffled(8, 6, false)
    };
    assert_eq!(all_batches(&ds, &cfg, 4), all_batches(&ds, &cfg, 4));
    assert_ne!(
        matching_offsets(&ds, &cfg, 4),
        matching_offsets(&ds, &cfg, 5)
    );
    // Augmentation draws from its own stream: the order is that of the unaugmented run.
    assert_eq!(
        order_of(&ds, &cfg, 4),
        order_of(&ds, &shuffled(8, 6, false), 4)
    );
}

#[test]
fn shift_preserves_mass_away_from_the_border() {
    // A normalised "digit": background −mean/std on a 16×16 canvas, ink only in rows and columns
    // 4..12, so any shift of up to 4 pixels moves the ink without cutting it.
    let (mean, std) = (0.1307f32, 0.3081f32); // MNIST's usual statistics
    let n = 40;
    let mut rng = StdRng::seed_from_u64(21);
    let mut inputs = Vec::new();
    for _ in 0..n {
        for y in 0..16 {
            for x in 0..16 {
                let inside = (4..12).contains(&y) && (4..12).contains(&x);
                inputs.push(if inside { rng.random::<f32>() } else { 0.0 });
            }
        }
    }
    let mut ds = Dataset::new(inputs, vec![1, 16, 16], vec![0; n], 1);
    ds.normalise(mean, std);
    let bg = (0.0 - mean) * (1.0 / std);

    let mass = |xs: &[f32]| -> f64 { xs.iter().map(|&x| (x - bg) as f64).sum() };
    let cfg = BatchConfig {
        shift: 4,
        augment_seed: 5,
        ..BatchConfig::new(16)
    };
    for b in batches(&ds, &cfg, 0) {
        for (row, &i) in b.inputs.data().chunks(256).zip(&b.indices) {
            // The same f32 values summed in another order: f64 sums of 256 terms agree to ~1e-12.
            assert!((mass(row) - mass(ds.sample(i))).abs() < 1e-9);
            // Vacated pixels got the background, never the 0 that is grey after normalisation.
            assert!(row.iter().all(|&x| x >= bg), "a value below the background");
            assert!(!row.contains(&0.0));
            assert_eq!(background(row), bg);
        }
    }
}

// ----- misuse -----------------------------------------------------------------------------------

#[test]
#[should_panic(expected = "batch_size must be at least 1")]
fn zero_batch_size_panics() {
    let ds = numbered(3, 1);
    let _ = batches(&ds, &BatchConfig::new(0), 0);
}

#[test]
#[should_panic(expected = "cannot split 11 samples off a data set of 10")]
fn splitting_off_too_many_panics() {
    numbered(10, 2).split_off(11, 0);
}
