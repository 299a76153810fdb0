//! Data: IDX files (the MNIST format), in-memory data sets and batch iteration.
//!
//! Reading order: [`idx`] (the file format) → [`idx_set`] (four files into two data sets, of any
//! image size and number of classes; [`mnist`] is one of them) →
//! [`dataset`] (the in-memory type: subsets, splits, normalisation, class filters) → [`batches`]
//! (seeded shuffling, one batch tensor at a time) → [`augment`] (shifts).
//!
//! Non-goals: no streaming from disk (MNIST as f32 is 188 MB and fits), no background loading
//! threads (building a batch is a memcpy next to a forward pass), no image decoding beyond IDX.
//!
//! Errors: everything that reads a file returns [`DataError`], whose message names the file and
//! says what was expected and what was found. Methods that take arguments from code (indices,
//! counts, class lists) panic with a message on misuse, as the tensor ops do.

pub mod augment;
pub mod batches;
pub mod dataset;
pub mod error;
pub mod idx;
pub mod idx_set;
pub mod mnist;
pub mod npy;
pub mod one_hot;

pub use batches::{batches, Batch, BatchConfig, Batches};
pub use dataset::Dataset;
pub use error::DataError;
pub use idx::{read_idx, read_idx_bytes, write_idx_u8, IdxArray};
pub use idx_set::{load_idx_set, read_class_names, IdxSet};
pub use mnist::{load_mnist, Mnist};
pub use npy::{parse_npy, read_npy, NpyArray, NpyError};
pub use one_hot::one_hot;
