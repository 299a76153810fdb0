//! Checkpoints (`nn::checkpoint`): a saved model loads back bit for bit; every way a file can
//! disagree with a model is refused with a message naming the file and the difference, before
//! the model changes; saving replaces a file atomically; the bytes are plain safetensors.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use autograd::Var;
use nn::checkpoint::{self, CheckpointError};
use nn::{Dense, Init, Module, Sequential};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::Tensor;

/// `Dense(in→hidden) → Dense(hidden→out)`, weights drawn from `seed`, biases set to nonzero
/// values (the constructor leaves them at zero, which a broken load would also produce).
fn mlp(inputs: usize, hidden: usize, outputs: usize, seed: u64) -> Sequential {
    let mut rng = StdRng::seed_from_u64(seed);
    let model = Sequential::new()
        .push(Dense::new(inputs, hidden, &mut rng))
        .push(Dense::new(hidden, outputs, &mut rng));
    for (name, var) in model.state() {
        if name.ends_with("bias") {
            let n = var.value().numel();
            *var.value_mut() = distillery_tests::uniform(&[n], -1.0, 1.0, seed + 100);
        }
    }
    model
}

/// One dense layer `in→out`, with or without a bias.
fn single(inputs: usize, outputs: usize, bias: bool, seed: u64) -> Sequential {
    let mut rng = StdRng::seed_from_u64(seed);
    Sequential::new().push(Dense::with_init(
        inputs,
        outputs,
        bias,
        Init::KaimingUniform,
        &mut rng,
    ))
}

/// Every value of the model, as bit patterns (so -0.0 and NaN compare exactly).
fn bits_of(model: &dyn Module) -> Vec<(String, Vec<u32>)> {
    model
        .state()
        .into_iter()
        .map(|(name, var)| {
            let bits = var.value().data().iter().map(|x| x.to_bits()).collect();
            (name, bits)
        })
        .collect()
}

fn caller_metadata() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("epoch".to_string(), "7".to_string()),
        ("teacher".to_string(), "resnet-ish".to_string()),
    ])
}

/// Writes a safetensors file by hand from the format's definition: 8-byte little-endian header
/// length, the JSON header, the raw bytes. Independent of the crate the engine uses to write.
fn write_by_hand(path: &Path, header_json: &str, data: &[u8]) {
    let mut bytes = (header_json.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header_json.as_bytes());
    bytes.extend_from_slice(data);
    fs::write(path, bytes).unwrap();
}

#[test]
fn round_trip_gives_bit_identical_outputs_and_the_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("student.safetensors");
    let mut saved = mlp(4, 8, 3, 1);
    checkpoint::save(&path, &saved, &caller_metadata()).unwrap();

    let mut restored = mlp(4, 8, 3, 2);
    assert_ne!(
        bits_of(&saved),
        bits_of(&restored),
        "two seeds must give two different models, or the test proves nothing"
    );
    let metadata = checkpoint::load(&path, &restored).unwrap();
    assert_eq!(bits_of(&saved), bits_of(&restored));

    let x = Var::constant(distillery_tests::uniform(&[5, 4], -2.0, 2.0, 9));
    let expected: Vec<u32> = saved
        .forward(&x)
        .value()
        .data()
        .iter()
        .map(|v| v.to_bits())
        .collect();
    let found: Vec<u32> = restored
        .forward(&x)
        .value()
        .data()
        .iter()
        .map(|v| v.to_bits())
        .collect();
    assert_eq!(found, expected);

    assert_eq!(metadata["epoch"], "7");
    assert_eq!(metadata["teacher"], "resnet-ish");
    assert_eq!(
        metadata["architecture"],
        "Sequential[Dense(4→8), Dense(8→3)]"
    );
    assert_eq!(metadata["format"], checkpoint::FORMAT);
    assert_eq!(metadata.len(), 4, "{metadata:?}");
    assert_eq!(checkpoint::read_metadata(&path).unwrap(), metadata);
}

#[test]
fn the_format_and_architecture_keys_are_the_engines_not_the_callers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    let mut asked = caller_metadata();
    asked.insert("architecture".to_string(), "a lie".to_string());
    asked.insert("format".to_string(), "another".to_string());
    checkpoint::save(&path, &single(2, 2, true, 0), &asked).unwrap();
    let metadata = checkpoint::read_metadata(&path).unwrap();
    assert_eq!(metadata["architecture"], "Sequential[Dense(2→2)]");
    assert_eq!(metadata["format"], checkpoint::FORMAT);
}

#[test]
fn the_file_is_plain_safetensors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    let model = mlp(4, 8, 3, 3);
    checkpoint::save(&path, &model, &caller_metadata()).unwrap();
    let bytes = fs::read(&path).unwrap();

    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = std::str::from_utf8(&bytes[8..8 + header_len]).unwrap();
    assert!(header.starts_with('{'), "{header}");
    assert!(header.trim_end().ends_with('}'), "{header}");
    for name in ["0.weight", "0.bias", "1.weight", "1.bias", "__metadata__"] {
        assert!(
            header.contains(&format!("\"{name}\"")),
            "{name} in {header}"
        );
    }
    assert!(header.contains("\"dtype\":\"F32\""), "{header}");
    assert!(header.contains("\"shape\":[8,4]"), "{header}");
    assert!(header.contains("\"epoch\":\"7\""), "{header}");

    // 4 bytes per f32: Σnumel = 8·4 + 8 + 3·8 + 3 = 67 (the four tensors' shapes).
    assert_eq!(bytes.len(), 8 + header_len + 4 * 67);

    // The raw bytes are the values, little-endian. "0.bias" is the first tensor in name order
    // and all are F32 (the crate orders by dtype, then name), so it starts the data.
    let bias = model.state()[1].1.value().data().to_vec();
    let first = &bytes[8 + header_len..8 + header_len + 4];
    assert_eq!(f32::from_le_bytes(first.try_into().unwrap()), bias[0]);
}

#[test]
fn a_file_written_by_hand_from_the_spec_loads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("by_hand.safetensors");
    let data: Vec<u8> = [1.5f32, -2.0]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    write_by_hand(
        &path,
        r#"{"0.weight":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}}"#,
        &data,
    );
    let mut model = single(2, 1, false, 0);
    let metadata = checkpoint::load(&path, &model).unwrap();
    assert!(
        metadata.is_empty(),
        "no __metadata__ in the file: {metadata:?}"
    );
    let y = model.forward(&Var::constant(Tensor::ones(&[1, 2])));
    // By hand: 1·1.5 + 1·(−2.0) = −0.5, exact in f32.
    assert_eq!(y.value().data(), &[-0.5]);
}

#[test]
fn a_truncated_file_is_corrupt_and_the_message_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.safetensors");
    checkpoint::save(&path, &mlp(4, 8, 3, 4), &caller_metadata()).unwrap();
    let bytes = fs::read(&path).unwrap();
    fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();

    let model = mlp(4, 8, 3, 5);
    let before = bits_of(&model);
    let error = checkpoint::load(&path, &model).unwrap_err();
    assert!(
        matches!(error, CheckpointError::Corrupt { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(
        message.contains("truncated or not a safetensors file"),
        "{message}"
    );
    assert_eq!(bits_of(&model), before);

    // The header alone is intact here, but its offsets promise more bytes than the file has.
    let error = checkpoint::read_metadata(&path).unwrap_err();
    assert!(
        matches!(error, CheckpointError::Corrupt { .. }),
        "{error:?}"
    );

    // Cut inside the header: both readers refuse it the same way.
    fs::write(&path, &bytes[..20]).unwrap();
    for error in [
        checkpoint::read_metadata(&path).unwrap_err(),
        checkpoint::load(&path, &model).unwrap_err(),
    ] {
        assert!(
            matches!(error, CheckpointError::Corrupt { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains(&path.display().to_string()));
    }
}

#[test]
fn text_is_not_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    fs::write(&path, "these are not the weights you are looking for").unwrap();
    let error = checkpoint::load(&path, &single(2, 2, true, 0)).unwrap_err();
    assert!(
        matches!(error, CheckpointError::Corrupt { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("notes.txt"), "{error}");
}

#[test]
fn a_missing_file_is_an_io_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.safetensors");
    let error = checkpoint::load(&path, &single(2, 2, true, 0)).unwrap_err();
    assert!(matches!(error, CheckpointError::Io { .. }), "{error:?}");
    assert!(error.to_string().contains("absent.safetensors"), "{error}");
    let error = checkpoint::read_metadata(&path).unwrap_err();
    assert!(matches!(error, CheckpointError::Io { .. }), "{error:?}");
}

#[test]
fn a_wrong_shape_is_refused_and_the_model_is_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wide.safetensors");
    checkpoint::save(&path, &single(4, 5, true, 6), &BTreeMap::new()).unwrap();

    let model = single(4, 3, true, 7);
    let before = bits_of(&model);
    let error = checkpoint::load(&path, &model).unwrap_err();
    match &error {
        CheckpointError::ShapeMismatch {
            name,
            model_shape,
            file_shape,
            ..
        } => {
            assert_eq!(name, "0.weight");
            assert_eq!(model_shape, &[3, 4]);
            assert_eq!(file_shape, &[5, 4]);
        }
        other => panic!("expected ShapeMismatch, got {other:?}"),
    }
    let message = error.to_string();
    for part in [
        "0.weight",
        "[3, 4]",
        "[5, 4]",
        "wide.safetensors",
        "the checkpoint was written for Sequential[Dense(4→5)], this model is Sequential[Dense(4→3)]",
    ] {
        assert!(message.contains(part), "{part:?} in {message}");
    }
    assert_eq!(bits_of(&model), before, "a failed load changed the model");

    // The mismatch in the second layer, after two tensors that fit: those two must not have
    // been written either.
    let path = dir.path().join("three_classes.safetensors");
    checkpoint::save(&path, &mlp(4, 8, 3, 21), &BTreeMap::new()).unwrap();
    let model = mlp(4, 8, 5, 22);
    let before = bits_of(&model);
    let error = checkpoint::load(&path, &model).unwrap_err();
    assert!(
        matches!(&error, CheckpointError::ShapeMismatch { name, .. } if name == "1.weight"),
        "{error:?}"
    );
    assert_eq!(
        bits_of(&model),
        before,
        "a failed load changed the first layer"
    );
}

#[test]
fn a_file_without_the_bias_the_model_has_is_missing_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no_bias.safetensors");
    checkpoint::save(&path, &single(3, 2, false, 8), &BTreeMap::new()).unwrap();

    let model = single(3, 2, true, 9);
    let before = bits_of(&model);
    let error = checkpoint::load(&path, &model).unwrap_err();
    match &error {
        CheckpointError::Missing {
            names, unexpected, ..
        } => {
            assert_eq!(names, &["0.bias"]);
            assert!(unexpected.is_empty(), "{unexpected:?}");
        }
        other => panic!("expected Missing, got {other:?}"),
    }
    assert!(error.to_string().contains("0.bias"), "{error}");
    // Both describe themselves as Dense(3→2): the bias is not in `describe`, so no note.
    assert!(!error.to_string().contains("written for"), "{error}");
    assert_eq!(
        bits_of(&model),
        before,
        "a failed load changed the weight it does have"
    );
}

#[test]
fn a_file_with_a_bias_the_model_lacks_has_an_unexpected_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bias.safetensors");
    checkpoint::save(&path, &single(3, 2, true, 10), &BTreeMap::new()).unwrap();

    let model = single(3, 2, false, 11);
    let before = bits_of(&model);
    let error = checkpoint::load(&path, &model).unwrap_err();
    match &error {
        CheckpointError::Unexpected { names, .. } => assert_eq!(names, &["0.bias"]),
        other => panic!("expected Unexpected, got {other:?}"),
    }
    assert!(error.to_string().contains("0.bias"), "{error}");
    assert!(error.to_string().contains("bias.safetensors"), "{error}");
    assert_eq!(bits_of(&model), before);
}

#[test]
fn a_renamed_layer_is_missing_and_unexpected_with_both_architectures() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("renamed.safetensors");
    let mut rng = StdRng::seed_from_u64(12);
    let saved = Sequential::new().push_named("fc1", Dense::new(2, 2, &mut rng));
    checkpoint::save(&path, &saved, &BTreeMap::new()).unwrap();

    let model = mlp(2, 2, 2, 13);
    let error = checkpoint::load(&path, &model).unwrap_err();
    match &error {
        CheckpointError::Missing {
            names, unexpected, ..
        } => {
            assert_eq!(names, &["0.weight", "0.bias", "1.weight", "1.bias"]);
            assert_eq!(unexpected, &["fc1.bias", "fc1.weight"]);
        }
        other => panic!("expected Missing, got {other:?}"),
    }
    let message = error.to_string();
    assert!(message.contains("fc1.weight"), "{message}");
    assert!(
        message.contains(
            "written for Sequential[Dense(2→2)], this model is Sequential[Dense(2→2), Dense(2→2)]"
        ),
        "{message}"
    );
}

#[test]
fn a_wrong_dtype_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f64.safetensors");
    let data: Vec<u8> = [1.5f64, -2.0]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    write_by_hand(
        &path,
        r#"{"0.weight":{"dtype":"F64","shape":[1,2],"data_offsets":[0,16]}}"#,
        &data,
    );
    let model = single(2, 1, false, 14);
    let before = bits_of(&model);
    let error = checkpoint::load(&path, &model).unwrap_err();
    match &error {
        CheckpointError::WrongDtype { name, found, .. } => {
            assert_eq!(name, "0.weight");
            assert_eq!(found, "F64");
        }
        other => panic!("expected WrongDtype, got {other:?}"),
    }
    assert!(error.to_string().contains("F64"), "{error}");
    assert!(error.to_string().contains("F32"), "{error}");
    assert_eq!(bits_of(&model), before);
}

#[test]
fn saving_over_a_checkpoint_replaces_it_completely() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("best.safetensors");
    checkpoint::save(&path, &mlp(16, 32, 10, 15), &caller_metadata()).unwrap();
    let big_len = fs::metadata(&path).unwrap().len();

    let small = single(2, 1, false, 16);
    checkpoint::save(&path, &small, &BTreeMap::new()).unwrap();

    // Nothing of the bigger file survives at the end, as an in-place write would leave it.
    let bytes = fs::read(&path).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    assert_eq!(bytes.len(), 8 + header_len + 4 * 2, "one [1, 2] tensor");
    assert!((bytes.len() as u64) < big_len);
    let metadata = checkpoint::read_metadata(&path).unwrap();
    assert!(!metadata.contains_key("epoch"), "{metadata:?}");

    let restored = single(2, 1, false, 17);
    checkpoint::load(&path, &restored).unwrap();
    assert_eq!(bits_of(&restored), bits_of(&small));

    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["best.safetensors"], "no temporary file left behind");
}

#[test]
fn a_failed_save_leaves_no_temporary_file_and_other_files_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let earlier = dir.path().join("earlier.safetensors");
    checkpoint::save(&earlier, &mlp(4, 8, 3, 18), &caller_metadata()).unwrap();
    let earlier_bytes = fs::read(&earlier).unwrap();

    let nowhere = dir.path().join("no_such_folder").join("model.safetensors");
    let error = checkpoint::save(&nowhere, &mlp(4, 8, 3, 19), &BTreeMap::new()).unwrap_err();
    assert!(matches!(error, CheckpointError::Io { .. }), "{error:?}");
    assert_eq!(error.path(), nowhere, "the error names the file asked for");
    assert!(error.to_string().contains("no_such_folder"), "{error}");

    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["earlier.safetensors"]);
    assert_eq!(fs::read(&earlier).unwrap(), earlier_bytes);
}

#[test]
fn a_failed_rename_removes_the_temporary_file_and_keeps_what_was_there() {
    // The target is a non-empty folder: the temporary file is written, the rename over the
    // folder fails, and the temporary file must go.
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("model.safetensors");
    fs::create_dir(&target).unwrap();
    fs::write(target.join("keep"), "x").unwrap();

    let error = checkpoint::save(&target, &single(2, 2, true, 20), &BTreeMap::new()).unwrap_err();
    assert!(matches!(error, CheckpointError::Io { .. }), "{error:?}");
    assert_eq!(error.path(), target);
    assert!(error.to_string().contains("model.safetensors"), "{error}");

    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["model.safetensors"], "the temporary file is gone");
    assert_eq!(fs::read_to_string(target.join("keep")).unwrap(), "x");
}
