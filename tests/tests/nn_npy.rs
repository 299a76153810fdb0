//! The `.npy` reader: files as numpy writes them (header bytes copied from `numpy.save` output),
//! and every refusal naming the file and what was expected.

use nn::data::{parse_npy, read_npy, NpyArray};

/// A version-1.0 `.npy` file as `numpy.save` lays it out: the header dict padded with spaces so
/// that magic + version + length + header is a multiple of 64 bytes, ending in '\n'.
fn npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

/// The same file marked Fortran-ordered (`False` → `True `, the header keeps its length).
fn fortran(file: &[u8]) -> Vec<u8> {
    let mut bytes = file.to_vec();
    let at = bytes.windows(5).position(|w| w == b"False").unwrap();
    bytes[at..at + 5].copy_from_slice(b"True ");
    bytes
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[test]
fn reads_f32_matrix_and_i64_vector() {
    let values = [1.5f32, -2.0, 0.25, 3.0, 4.0, -0.5];
    let a: NpyArray<f32> = parse_npy(&npy("<f4", "(2, 3)", &f32_bytes(&values)), "a.npy").unwrap();
    assert_eq!(a.shape, vec![2, 3]);
    assert_eq!(a.data, values);

    let labels: Vec<u8> = [7i64, 0, 9].iter().flat_map(|v| v.to_le_bytes()).collect();
    let b: NpyArray<i64> = parse_npy(&npy("<i8", "(3,)", &labels), "b.npy").unwrap();
    assert_eq!(b.shape, vec![3]);
    assert_eq!(b.data, vec![7, 0, 9]);
}

#[test]
fn header_matches_numpy_save_byte_for_byte() {
    // The first 128 bytes of data/mnist1d/x_train.npy, as numpy 2.4 wrote them (xxd): the helper
    // above must lay a header out the same way, or the reader is only tested on our own guesses.
    let mut numpy =
        b"\x93NUMPY\x01\x00\x76\x00{'descr': '<f4', 'fortran_order': False, 'shape': (4000, 40), }"
            .to_vec();
    numpy.resize(127, b' ');
    numpy.push(b'\n');
    assert_eq!(npy("<f4", "(4000, 40)", &[]), numpy);
}

/// The MNIST-1D fixture (tests/fixtures/mnist1d, cut by scripts/make-fixtures from the generated
/// data set): a file numpy wrote, read whole. Always there, so this never skips.
#[test]
fn reads_the_mnist1d_fixture() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mnist1d");
    let x: NpyArray<f32> = read_npy(&dir.join("x_train.npy")).unwrap();
    let y: NpyArray<i64> = read_npy(&dir.join("y_train.npy")).unwrap();
    // The first 2000 of MNIST-1D's 4000 training signals, 40 samples each.
    assert_eq!(x.shape, vec![2000, 40]);
    assert_eq!(y.shape, vec![2000]);
    assert!(y.data.iter().all(|&l| (0..10).contains(&l)));
    assert!(x.data.iter().all(|v| v.is_finite()));
    // All ten classes appear in a slice this long (the generator draws them uniformly).
    for class in 0..10 {
        assert!(y.data.contains(&class), "class {class} missing");
    }
}

#[test]
fn refusals_name_the_file_and_what_was_expected() {
    let good = npy("<f4", "(2,)", &f32_bytes(&[1.0, 2.0]));
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"PK\x03\x04 not npy".to_vec(), "a .npy file"),
        (
            npy("<f8", "(2,)", &[0; 16]),
            "elements of type <f4, found type <f8",
        ),
        (
            npy("<f4", "(2, 2)", &f32_bytes(&[1.0, 2.0])),
            "16 bytes of data for shape [2, 2], found 8 bytes",
        ),
        (good[..good.len() - 1].to_vec(), "found 7 bytes"),
        (
            fortran(&good),
            "'fortran_order': False (C order), found True",
        ),
    ];
    for (bytes, expected) in cases {
        let err = parse_npy::<f32>(&bytes, "x.npy").unwrap_err().to_string();
        assert!(err.starts_with("x.npy: expected"), "{err}");
        assert!(
            err.contains(expected),
            "{err:?} should contain {expected:?}"
        );
    }
    let missing = read_npy::<f32>(std::path::Path::new("/nonexistent/x.npy")).unwrap_err();
    assert!(missing
        .to_string()
        .starts_with("/nonexistent/x.npy: expected a readable .npy file"));
}

/// A shape whose element count overflows usize must be refused, not wrap around. With
/// shape (2^62,) of f32, count × 4 wraps to 0 in release builds (and panics with overflow checks
/// on, as in `cargo test` without --release): an empty data section is then "accepted".
#[test]
fn a_shape_whose_size_overflows_is_refused() {
    let huge = npy("<f4", "(4611686018427387904,)", &[]); // 2^62
    let result = std::panic::catch_unwind(|| parse_npy::<f32>(&huge, "x.npy"));
    let result = result.expect("parse_npy panicked on an overflowing shape");
    let err = result
        .expect_err("an overflowing shape was accepted")
        .to_string();
    assert!(err.starts_with("x.npy: expected"), "{err}");

    // Two dimensions whose product wraps to 0: (2^32, 2^32).
    let wraps = npy("<f4", "(4294967296, 4294967296)", &[]);
    let result = std::panic::catch_unwind(|| parse_npy::<f32>(&wraps, "x.npy"));
    assert!(
        matches!(result, Ok(Err(_))),
        "(2^32, 2^32) must be an error: {:?}",
        result.map(|r| r.map(|a| a.shape))
    );
}

/// Other malformed headers: each an error, never a panic.
#[test]
fn malformed_headers_are_errors_not_panics() {
    let good = npy("<f4", "(2,)", &f32_bytes(&[1.0, 2.0]));
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("magic only", b"\x93NUMPY".to_vec()),
        ("version 2 truncated", b"\x93NUMPY\x02\x00\x10\x00".to_vec()),
        ("version 9", b"\x93NUMPY\x09\x00\x10\x00\x00\x00".to_vec()),
        (
            "header longer than file",
            b"\x93NUMPY\x01\x00\xff\xff{".to_vec(),
        ),
        ("big-endian", npy(">f4", "(2,)", &f32_bytes(&[1.0, 2.0]))),
        ("negative shape", npy("<f4", "(-2,)", &[])),
        ("shape not a tuple", npy("<f4", "[2]", &[])),
        (
            "no shape close",
            b"\x93NUMPY\x01\x00\x2a\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2,"
                .to_vec(),
        ),
    ];
    let mut not_utf8 = good.clone();
    not_utf8[12] = 0xff;
    cases.push(("non-utf8 header", not_utf8));
    for (what, bytes) in cases {
        let r = std::panic::catch_unwind(|| parse_npy::<f32>(&bytes, "x.npy"));
        match r {
            Ok(Err(e)) => assert!(e.to_string().starts_with("x.npy: expected"), "{what}: {e}"),
            Ok(Ok(a)) => panic!("{what}: accepted, shape {:?}", a.shape),
            Err(_) => panic!("{what}: panicked"),
        }
    }
}
