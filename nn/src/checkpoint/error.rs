//! `CheckpointError`: everything that can go wrong reading or writing a checkpoint.
//!
//! A checkpoint is user input (a path on a command line, a file from another machine), so nothing
//! here panics: every failure is a value whose message names the file, what was expected and what
//! was found. When the tensors' names or shapes disagree and the file records a different
//! architecture than the model's, the message says so too: "this file was saved from another
//! model" is almost always the real cause, and the architectures make it obvious.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// The architectures of a checkpoint and of the model it was loaded into, when they differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Architectures {
    /// The file's `"architecture"` metadata: `describe()` of the model that wrote it.
    pub checkpoint: String,
    /// `describe()` of the model being loaded.
    pub model: String,
}

/// Why a checkpoint could not be saved, read or loaded. Every variant carries the file's path.
///
/// (The architectures are boxed to keep the error small: it travels in every `Result` of this
/// module, and the common case, `Ok`, should not pay for the rare one.)
#[derive(Debug)]
pub enum CheckpointError {
    /// The operating system refused: no such file, no permission, disk full, missing folder.
    Io {
        path: PathBuf,
        /// What was being done, e.g. "read", "create the temporary file …".
        action: String,
        source: io::Error,
    },
    /// The bytes are not a safetensors file, or a truncated one: `reason` is the safetensors
    /// crate's own explanation.
    Corrupt { path: PathBuf, reason: String },
    /// Tensors the model has and the file lacks (in the model's order). `unexpected` lists the
    /// file's tensors the model lacks, if any, since a renamed layer shows up as both.
    Missing {
        path: PathBuf,
        names: Vec<String>,
        unexpected: Vec<String>,
        architectures: Option<Box<Architectures>>,
    },
    /// Tensors the file has and the model lacks (sorted by name).
    Unexpected {
        path: PathBuf,
        names: Vec<String>,
        architectures: Option<Box<Architectures>>,
    },
    /// A tensor present in both with different shapes (the first such, in the model's order).
    ShapeMismatch {
        path: PathBuf,
        name: String,
        model_shape: Vec<usize>,
        file_shape: Vec<usize>,
        architectures: Option<Box<Architectures>>,
    },
    /// A tensor stored in another element type than F32 (`found` is the safetensors dtype name,
    /// e.g. "F16"). The engine computes in f32 only, and converting silently would hide a file
    /// written for another purpose.
    WrongDtype {
        path: PathBuf,
        name: String,
        found: String,
    },
}

impl CheckpointError {
    /// The file the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            CheckpointError::Io { path, .. }
            | CheckpointError::Corrupt { path, .. }
            | CheckpointError::Missing { path, .. }
            | CheckpointError::Unexpected { path, .. }
            | CheckpointError::ShapeMismatch { path, .. }
            | CheckpointError::WrongDtype { path, .. } => path,
        }
    }
}

/// `a, b, c`: names listed for a person to read.
fn list(names: &[String]) -> String {
    names.join(", ")
}

/// The sentence added when the architectures differ; nothing when they agree or are unknown.
fn architecture_note(architectures: &Option<Box<Architectures>>) -> String {
    match architectures {
        Some(a) => format!(
            "; the checkpoint was written for {}, this model is {}",
            a.checkpoint, a.model
        ),
        None => String::new(),
    }
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path().display();
        match self {
            CheckpointError::Io { action, source, .. } => {
                write!(f, "checkpoint {path}: could not {action}: {source}")
            }
            CheckpointError::Corrupt { reason, .. } => write!(
                f,
                "checkpoint {path}: truncated or not a safetensors file ({reason})"
            ),
            CheckpointError::Missing {
                names,
                unexpected,
                architectures,
                ..
            } => {
                write!(
                    f,
                    "checkpoint {path}: the model expects tensors the file lacks: {}",
                    list(names)
                )?;
                if !unexpected.is_empty() {
                    write!(
                        f,
                        "; the file also has tensors the model lacks: {}",
                        list(unexpected)
                    )?;
                }
                f.write_str(&architecture_note(architectures))
            }
            CheckpointError::Unexpected {
                names,
                architectures,
                ..
            } => write!(
                f,
                "checkpoint {path}: the file has tensors the model lacks: {}{}",
                list(names),
                architecture_note(architectures)
            ),
            CheckpointError::ShapeMismatch {
                name,
                model_shape,
                file_shape,
                architectures,
                ..
            } => write!(
                f,
                "checkpoint {path}: tensor {name} has shape {file_shape:?} in the file, \
                 the model expects {model_shape:?}{}",
                architecture_note(architectures)
            ),
            CheckpointError::WrongDtype { name, found, .. } => write!(
                f,
                "checkpoint {path}: tensor {name} is stored as {found}, expected F32"
            ),
        }
    }
}

impl std::error::Error for CheckpointError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CheckpointError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
