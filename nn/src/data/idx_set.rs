//! Any labelled image set in MNIST's format: a folder of four IDX files, and optionally the names
//! of the classes.
//!
//! Each file may be there under its original name (as `scripts/fetch-mnist` leaves it) or with `.gz`
//! appended (as most mirrors serve it); the raw name wins when both exist.
//!
//! What the files decide, so that a set of another size or with other classes loads unchanged:
//! - the image size: the images are a rank-3 IDX array of bytes `N×H×W`, and a sample is
//!   `[1, H, W]` (one channel) of f32 in `[0, 1]` (byte / 255). The test images must have the
//!   training images' size: a model is built for one input size.
//! - the number of classes: the largest training label + 1. A test label the training set never
//!   shows is refused, since no model could learn it and its errors would be blamed on the model.
//! - the class names: `classes.txt` beside the IDX files, one name per line, as many lines as
//!   classes; without it, classes are known by their numbers.

use std::fs;
use std::path::{Path, PathBuf};

use super::dataset::Dataset;
use super::error::DataError;
use super::idx::{read_idx, IdxArray};

/// A training and a test set read from IDX files, and the names of their classes if the folder
/// gives them.
#[derive(Debug, Clone, PartialEq)]
pub struct IdxSet {
    pub train: Dataset,
    pub test: Dataset,
    /// One name per class, in label order, from [`CLASS_NAMES_FILE`].
    pub class_names: Option<Vec<String>>,
}

pub const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
pub const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
pub const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
pub const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";
/// The optional file of class names, one per line, beside the IDX files.
pub const CLASS_NAMES_FILE: &str = "classes.txt";

/// Loads the image set in `dir`, which holds the four files `train-images-idx3-ubyte`,
/// `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`, each raw or
/// gzip-compressed with `.gz` appended, and maybe `classes.txt`.
pub fn load_idx_set(dir: &Path) -> Result<IdxSet, DataError> {
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
    let train = read_pair(&found[0], &found[1])?;
    let test = read_pair(&found[2], &found[3])?;

    if test.images.dims[1..] != train.images.dims[1..] {
        return Err(DataError::BadShape {
            file: test.images_file,
            expected: format!(
                "N×{}×{}, the size of the training images in {}",
                train.images.dims[1], train.images.dims[2], train.images_file
            ),
            found: test.images.dims,
        });
    }
    let mut seen = vec![false; 256];
    for &label in &train.labels.data {
        seen[label as usize] = true;
    }
    if let Some((index, &label)) = test
        .labels
        .data
        .iter()
        .enumerate()
        .find(|(_, &l)| !seen[l as usize])
    {
        return Err(DataError::UnseenClass {
            file: test.labels_file,
            index,
            label: label as usize,
            train_file: train.labels_file,
            train_classes: (0..seen.len()).filter(|&c| seen[c]).collect(),
        });
    }
    let classes = train
        .labels
        .data
        .iter()
        .max()
        .map_or(0, |&l| l as usize + 1);

    let names_path = dir.join(CLASS_NAMES_FILE);
    let class_names = if names_path.is_file() {
        Some(read_class_names(&names_path, classes)?)
    } else {
        None
    };
    Ok(IdxSet {
        train: train.into_dataset(classes),
        test: test.into_dataset(classes),
        class_names,
    })
}

/// `dir/name` if it is a file, else `dir/name.gz` if that is, else nothing.
fn locate(dir: &Path, name: &str) -> Option<PathBuf> {
    [name.to_string(), format!("{name}.gz")]
        .into_iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}

/// One image file and its label file, checked against each other, with their names for messages.
struct Pair {
    images: IdxArray,
    images_file: String,
    labels: IdxArray,
    labels_file: String,
}

impl Pair {
    /// The images as f32 in `[0, 1]`, shaped `[1, H, W]` a sample.
    fn into_dataset(self, classes: usize) -> Dataset {
        let shape = vec![1, self.images.dims[1], self.images.dims[2]];
        // Over the threads: MNIST's training images are 47 million bytes, and a serial pass here
        // is felt at the start of every run. The order of a parallel collect is the input's.
        use rayon::prelude::*;
        let inputs = self
            .images
            .data
            .par_iter()
            .map(|&b| b as f32 / 255.0)
            .collect();
        let labels = self.labels.data.iter().map(|&l| l as usize).collect();
        Dataset::new(inputs, shape, labels, classes)
    }
}

/// Reads an image file (`N×H×W`) and its label file (`N`), and checks that there is a label for
/// every image.
fn read_pair(images_path: &Path, labels_path: &Path) -> Result<Pair, DataError> {
    let images = read_idx(images_path)?;
    let images_file = images_path.display().to_string();
    expect_rank(&images, 3, "an IDX image file", &images_file)?;

    let labels = read_idx(labels_path)?;
    let labels_file = labels_path.display().to_string();
    expect_rank(&labels, 1, "an IDX label file", &labels_file)?;

    if images.dims[0] != labels.dims[0] {
        return Err(DataError::CountMismatch {
            images: images_file,
            image_count: images.dims[0],
            labels: labels_file,
            label_count: labels.dims[0],
        });
    }
    Ok(Pair {
        images,
        images_file,
        labels,
        labels_file,
    })
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

/// The names of `classes` classes from `path`: one a line, in label order, each line trimmed of
/// surrounding spaces. Blank lines at the end (an editor's final newline) are not names; a blank
/// line between names, or a count that is not `classes`, is an error saying what was expected.
pub fn read_class_names(path: &Path, classes: usize) -> Result<Vec<String>, DataError> {
    let file = path.display().to_string();
    let text = fs::read_to_string(path).map_err(|source| DataError::Io {
        action: "read",
        file: file.clone(),
        source,
    })?;
    let mut names: Vec<String> = text.lines().map(|l| l.trim().to_string()).collect();
    while names.last().is_some_and(|n| n.is_empty()) {
        names.pop();
    }
    if let Some(blank) = names.iter().position(|n| n.is_empty()) {
        return Err(DataError::BadClassNames {
            file,
            expected: "a class name on every line".to_string(),
            found: format!("line {} blank", blank + 1),
        });
    }
    if names.len() != classes {
        return Err(DataError::BadClassNames {
            file,
            expected: format!(
                "{classes} class names, one per line, as the training labels name {classes} \
                 classes"
            ),
            found: match names.len() {
                1 => "1 line".to_string(),
                n => format!("{n} lines"),
            },
        });
    }
    Ok(names)
}
