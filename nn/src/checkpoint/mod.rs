//! Checkpoints: a model's parameters and buffers, saved to and loaded from a safetensors file.
//!
//! ## The format
//! safetensors (Hugging Face) is deliberately simple, so that reading it cannot execute code
//! (unlike a pickle) and needs no library at all:
//!
//! ```text
//! [ 8 bytes: N, the header's length, u64 little-endian ]
//! [ N bytes: JSON header, padded with spaces                                   ]
//! [ the tensors' raw bytes, one after another                                  ]
//! ```
//!
//! The header maps each tensor's name to `{"dtype": "F32", "shape": [3, 4], "data_offsets":
//! [begin, end]}` (offsets into the raw bytes, which must cover them exactly), plus one optional
//! `"__metadata__"` entry of string → string. The raw bytes are row-major and little-endian:
//! exactly our [`Tensor`](tensor::Tensor) layout, so writing is a copy and reading is a copy.
//!
//! ## Why this format
//! Python opens it directly: `safetensors.torch.load_file("model.safetensors")` returns a dict
//! of tensors under the same names and layouts as PyTorch's `state_dict` (see [`crate::module`]),
//! so a student trained here can be inspected, evaluated or fine-tuned there, and the other way
//! round. The metadata carries what a tensor file cannot say by itself: `"architecture"` (the
//! model's [`describe`](crate::Module::describe)), so an app can rebuild the model before loading
//! ([`read_metadata`]), and `"format"` = [`FORMAT`].
//!
//! ## Why write, then rename
//! [`save`] writes to a temporary file beside the target, flushes it to the disk (`sync_all`),
//! and only then renames it over the target. A rename within one folder is atomic, so whoever
//! opens the path sees the old checkpoint or the new one, never half of one: a crash or a full
//! disk in the middle of an epoch cannot destroy the best model saved so far.
//!
//! ## Why check everything before writing anything
//! [`load`] compares every name, dtype and shape with the model's before it touches a value, so
//! a failed load leaves the model exactly as it was, never half old and half new.

mod error;

pub use error::{Architectures, CheckpointError};

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use safetensors::tensor::{Metadata, TensorView};
use safetensors::{Dtype, SafeTensors};

use crate::module::Module;

/// The `"format"` metadata of every checkpoint written here. [`load`] does not require it, so
/// files from elsewhere (PyTorch writes `"format": "pt"`) load as long as names and shapes fit.
pub const FORMAT: &str = "distillery-checkpoint-1";

/// Saves every tensor of `model.state()` (parameters, then buffers) as F32 under its name.
///
/// The file's metadata is `metadata` plus `"architecture"` = `model.describe()` and `"format"` =
/// [`FORMAT`]; those two keys overwrite the caller's entries of the same name.
///
/// The file appears complete or not at all (see the module documentation); on an error the
/// temporary file is removed and an existing file at `path` is left as it was. The folder
/// holding `path` must exist: creating it is the caller's job.
///
/// Panics if two of the model's tensors share a name (a bug in the model's `parameters`).
pub fn save(
    path: &Path,
    model: &dyn Module,
    metadata: &BTreeMap<String, String>,
) -> Result<(), CheckpointError> {
    let state = model.state();
    let mut seen = BTreeSet::new();
    for (name, _) in &state {
        if !seen.insert(name.as_str()) {
            panic!("checkpoint::save: the model has two tensors named {name:?}");
        }
    }

    // Little-endian bytes of each tensor, kept alive while the views below borrow them.
    let tensors: Vec<(String, Vec<usize>, Vec<u8>)> = state
        .iter()
        .map(|(name, var)| {
            let value = var.value();
            let bytes = value.data().iter().flat_map(|x| x.to_le_bytes()).collect();
            (name.clone(), value.shape().to_vec(), bytes)
        })
        .collect();
    let views = tensors.iter().map(|(name, shape, bytes)| {
        let view = TensorView::new(Dtype::F32, shape.clone(), bytes)
            .expect("4 bytes for each element of the shape, by construction");
        (name.as_str(), view)
    });

    let mut header: HashMap<String, String> = metadata.clone().into_iter().collect();
    header.insert("architecture".to_string(), model.describe());
    header.insert("format".to_string(), FORMAT.to_string());

    // Fails only if the header passes the crate's limit (100 MB of JSON): metadata this large
    // is the caller's input, so it is an error, reported as an invalid write.
    let bytes = safetensors::serialize(views, Some(header)).map_err(|e| CheckpointError::Io {
        path: path.to_path_buf(),
        action: "encode the safetensors header".to_string(),
        source: io::Error::new(io::ErrorKind::InvalidInput, e),
    })?;
    write_then_rename(path, &bytes)
}

/// Loads a checkpoint into `model` and returns the file's metadata.
///
/// Before any value changes, the file must hold exactly the model's tensor names
/// ([`CheckpointError::Missing`], [`CheckpointError::Unexpected`]), each as F32
/// ([`CheckpointError::WrongDtype`]) with the model's shape ([`CheckpointError::ShapeMismatch`]).
/// Then each value is overwritten in place (`var.value_mut()`), so every handle to the model's
/// parameters, an optimiser's included, sees the loaded values.
pub fn load(path: &Path, model: &dyn Module) -> Result<BTreeMap<String, String>, CheckpointError> {
    let bytes = fs::read(path).map_err(|source| io_error(path, "read", source))?;
    // The crate parses the header and checks that the offsets tile the data exactly and that
    // the file is as long as they say: after this, every slice below is in bounds.
    let (header_len, header) = SafeTensors::read_metadata(&bytes).map_err(|e| corrupt(path, e))?;
    let data = &bytes[8 + header_len..];
    let metadata = metadata_of(&header);
    let state = model.state();

    let model_architecture = model.describe();
    let architectures = match metadata.get("architecture") {
        Some(written) if *written != model_architecture => Some(Box::new(Architectures {
            checkpoint: written.clone(),
            model: model_architecture,
        })),
        _ => None,
    };

    // Names: all of the model's present, none besides.
    let in_file: BTreeSet<String> = header.offset_keys().into_iter().collect();
    let in_model: BTreeSet<String> = state.iter().map(|(name, _)| name.clone()).collect();
    let missing: Vec<String> = state
        .iter()
        .filter(|(name, _)| !in_file.contains(name))
        .map(|(name, _)| name.clone())
        .collect();
    let unexpected: Vec<String> = in_file.difference(&in_model).cloned().collect();
    if !missing.is_empty() {
        return Err(CheckpointError::Missing {
            path: path.to_path_buf(),
            names: missing,
            unexpected,
            architectures,
        });
    }
    if !unexpected.is_empty() {
        return Err(CheckpointError::Unexpected {
            path: path.to_path_buf(),
            names: unexpected,
            architectures,
        });
    }

    // Dtypes and shapes, decoded as we go; nothing is written until all have passed.
    let mut values = Vec::with_capacity(state.len());
    for (name, var) in &state {
        let info = header
            .info(name)
            .expect("every model name is in the file, checked above");
        if info.dtype != Dtype::F32 {
            return Err(CheckpointError::WrongDtype {
                path: path.to_path_buf(),
                name: name.clone(),
                found: info.dtype.to_string(),
            });
        }
        let model_shape = var.shape();
        if info.shape != model_shape {
            return Err(CheckpointError::ShapeMismatch {
                path: path.to_path_buf(),
                name: name.clone(),
                model_shape,
                file_shape: info.shape.clone(),
                architectures,
            });
        }
        // The crate has checked that the range is exactly 4·numel bytes long; the bytes need not
        // be 4-aligned in memory, so each f32 is assembled from its bytes rather than cast.
        let (begin, end) = info.data_offsets;
        let values_here: Vec<f32> = data[begin..end]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        values.push(values_here);
    }

    for ((_, var), loaded) in state.iter().zip(values) {
        var.value_mut().data_mut().copy_from_slice(&loaded);
    }
    Ok(metadata)
}

/// The metadata of a checkpoint, reading only its header from the disk: enough to rebuild the
/// architecture (`"architecture"`) before calling [`load`]. A file whose length disagrees with
/// its header (a truncated one) is [`CheckpointError::Corrupt`] here too.
pub fn read_metadata(path: &Path) -> Result<BTreeMap<String, String>, CheckpointError> {
    let mut file = File::open(path).map_err(|source| io_error(path, "open", source))?;
    let file_len = file
        .metadata()
        .map_err(|source| io_error(path, "read the length of", source))?
        .len();

    let mut len_bytes = [0u8; 8];
    read_exact_or_corrupt(&mut file, &mut len_bytes, path)?;
    let header_len = u64::from_le_bytes(len_bytes);
    if header_len > file_len.saturating_sub(8) {
        return Err(CheckpointError::Corrupt {
            path: path.to_path_buf(),
            reason: format!(
                "the header claims {header_len} bytes, the file holds {file_len} bytes in all"
            ),
        });
    }

    // The crate parses a header only as part of a whole file (it checks that the offsets cover
    // the file exactly), so give it a buffer of the file's length holding the real length and
    // header followed by zeros. `vec![0; n]` is a calloc: pages never written are never touched,
    // so the tensor bytes cost neither a read nor real memory.
    let whole_len = usize::try_from(file_len).map_err(|_| CheckpointError::Corrupt {
        path: path.to_path_buf(),
        reason: format!("{file_len} bytes do not fit in this machine's memory"),
    })?;
    let mut buffer = vec![0u8; whole_len];
    buffer[..8].copy_from_slice(&len_bytes);
    read_exact_or_corrupt(&mut file, &mut buffer[8..8 + header_len as usize], path)?;
    let (_, header) = SafeTensors::read_metadata(&buffer).map_err(|e| corrupt(path, e))?;
    Ok(metadata_of(&header))
}

/// Writes `bytes` to `.{file name}.tmp-{pid}-{n}` beside `path`, syncs it, renames it to `path`.
/// On any error the temporary file is removed.
fn write_then_rename(path: &Path, bytes: &[u8]) -> Result<(), CheckpointError> {
    // Two saves in one process (two threads, two models) must not share a temporary file.
    static SAVES: AtomicUsize = AtomicUsize::new(0);
    let Some(file_name) = path.file_name() else {
        return Err(io_error(
            path,
            "save to",
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "the path does not end in a file name",
            ),
        ));
    };
    let temporary: PathBuf = path.with_file_name(format!(
        ".{}.tmp-{}-{}",
        file_name.to_string_lossy(),
        std::process::id(),
        SAVES.fetch_add(1, Ordering::Relaxed)
    ));

    let result = write_synced(path, &temporary, bytes).and_then(|()| {
        fs::rename(&temporary, path).map_err(|source| {
            let action = format!("rename {} to it", temporary.display());
            io_error(path, &action, source)
        })
    });
    if result.is_err() {
        // Nothing to report if it is already gone (or was never created: a missing folder).
        let _ = fs::remove_file(&temporary);
    }
    result
}

/// Creates `temporary`, writes `bytes`, and waits until the operating system has them on the
/// disk: without the sync, a power cut after the rename could leave `path` naming an empty file.
/// Errors name `path`, the file the caller asked for, and say which temporary file failed.
fn write_synced(path: &Path, temporary: &Path, bytes: &[u8]) -> Result<(), CheckpointError> {
    let fail = |what: &str, source| {
        let action = format!("{what} the temporary file {}", temporary.display());
        io_error(path, &action, source)
    };
    let mut file = File::create(temporary).map_err(|e| fail("create", e))?;
    file.write_all(bytes).map_err(|e| fail("write", e))?;
    file.sync_all().map_err(|e| fail("flush to disk", e))
}

/// Reads exactly `buffer.len()` bytes; a file that ends sooner is truncated, not an I/O failure.
fn read_exact_or_corrupt(
    file: &mut File,
    buffer: &mut [u8],
    path: &Path,
) -> Result<(), CheckpointError> {
    file.read_exact(buffer).map_err(|source| {
        if source.kind() == io::ErrorKind::UnexpectedEof {
            CheckpointError::Corrupt {
                path: path.to_path_buf(),
                reason: "the file ends inside its header".to_string(),
            }
        } else {
            io_error(path, "read", source)
        }
    })
}

/// The `__metadata__` entries, sorted (empty when the file has none).
fn metadata_of(header: &Metadata) -> BTreeMap<String, String> {
    match header.metadata() {
        Some(entries) => entries.clone().into_iter().collect(),
        None => BTreeMap::new(),
    }
}

fn io_error(path: &Path, action: &str, source: io::Error) -> CheckpointError {
    CheckpointError::Io {
        path: path.to_path_buf(),
        action: action.to_string(),
        source,
    }
}

fn corrupt(path: &Path, error: safetensors::SafeTensorError) -> CheckpointError {
    CheckpointError::Corrupt {
        path: path.to_path_buf(),
        reason: error.to_string(),
    }
}
