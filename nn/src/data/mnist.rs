//! MNIST: the image set whose four IDX files gave the format its file names, 60 000 training and
//! 10 000 test images of 28×28 pixels, ten digits. It loads as any other IDX set does
//! ([`load_idx_set`]): the size and the ten classes come from its files.

use std::path::Path;

use super::error::DataError;
use super::idx_set::{load_idx_set, IdxSet};

/// MNIST's training and test sets (and no class names: a digit is its own name).
pub type Mnist = IdxSet;

/// Loads MNIST, or any image set in its format, from `dir` ([`load_idx_set`]).
pub fn load_mnist(dir: &Path) -> Result<Mnist, DataError> {
    load_idx_set(dir)
}
