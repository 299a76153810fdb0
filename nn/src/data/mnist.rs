//! MNIST from a folder of its four IDX files.
//!
//! Each file may be there under its original name (as `scripts/fetch-mnist` leaves it) or with `.gz`
//! appended (as most mirrors serve it); the raw name wins when both exist. Images become f32 in
//! `[0, 1]` (byte / 255) with sample shape `[1, 28, 28]`; labels must be below 10 and as many as
//! the images.

use std::path::{Path, PathBuf};

use super::dataset::Dataset;
use super::error::DataError;
use super::idx::{read_idx, IdxArray};

/// The MNIST training (60 000) and test (10 000) sets.
#[derive(Debug, Clone, PartialEq)]
pub struct Mnist {
    pub train: Dataset,
    pub test: Dataset,
}

/// The side of an MNIST image, in pixels.
const SIDE: usize = 28;
/// Digits 0 to 9.
const CLASSES: usize = 10;

const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";

/// Loads MNIST from `dir`, which holds the four files `train-images-idx3-ubyte`,
/// `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`, each raw or
/// gzip-compressed with `.gz` appended.
pub fn load_mnist(dir: &Path) -> Result<Mnist, DataError> {
    // Find all four before reading any, so that a half-populated folder is reported in one go.
    let names = [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS];
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for name in names {
        match locate(dir, name) {
            Some(path) => found.push(path),
            None => missing.push(format!("{name} or {name}.gz")),
        }
    }
    if !missing.is_empty() {
        return Err(DataError::MissingFiles {
            dir: dir.to_path_buf(),
            missing,
        });
    }
    let train = load_pair(&found[0], &found[1])?;
    let test = load_pair(&found[2], &found[3])?;
    Ok(Mnist { train, test })
}

/// `dir/name` if it is a file, else `dir/name.gz` if that is, else nothing.
fn locate(dir: &Path, name: &str) -> Option<PathBuf> {
    [name.to_string(), format!("{name}.gz")]
        .into_iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}

/// One image file and its label file as a data set.
fn load_pair(images_path: &Path, labels_path: &Path) -> Result<Dataset, DataError> {
    let images = read_idx(images_path)?;
    let images_name = images_path.display().to_string();
    expect_rank(&images, 3, "an IDX image file", &images_name)?;
    if images.dims[1..] != [SIDE, SIDE] {
        return Err(DataError::BadShape {
            file: images_name,
            expected: format!("N×{SIDE}×{SIDE}"),
            found: images.dims,
        });
    }

    let labels = read_idx(labels_path)?;
    let labels_name = labels_path.display().to_string();
    expect_rank(&labels, 1, "an IDX label file", &labels_name)?;

    if images.dims[0] != labels.dims[0] {
        return Err(DataError::CountMismatch {
            images: images_name,
            image_count: images.dims[0],
            labels: labels_name,
            label_count: labels.dims[0],
        });
    }
    if let Some((index, &label)) = labels
        .data
        .iter()
        .enumerate()
        .find(|(_, &l)| l as usize >= CLASSES)
    {
        return Err(DataError::LabelOutOfRange {
            file: labels_name,
            index,
            label: label as usize,
            classes: CLASSES,
        });
    }

    let inputs = images.data.iter().map(|&b| b as f32 / 255.0).collect();
    let labels = labels.data.iter().map(|&l| l as usize).collect();
    Ok(Dataset::new(inputs, vec![1, SIDE, SIDE], labels, CLASSES))
}

/// Refuses an IDX array with the wrong number of dimensions, naming the magic number we wanted
/// (u8 elements, `rank` dimensions) and the one the file has.
fn expect_rank(array: &IdxArray, rank: usize, what: &str, file: &str) -> Result<(), DataError> {
    if array.dims.len() == rank {
        return Ok(());
    }
    Err(DataError::BadMagic {
        file: file.to_string(),
        expected: format!("{what} (magic 0x{:08X})", 0x0800 | rank as u32),
        found: array.magic(),
    })
}
