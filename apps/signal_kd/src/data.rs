//! The data of a run: MNIST-1D's four `.npy` files (written by `scripts/fetch-mnist1d`, format in
//! docs/mnist1d.md) read and checked against each other. (The generator already scales the whole
//! set to mean 0, std 1, test set included; the driver's split normalises again from the training
//! part alone, which costs nothing and keeps the rule.)

use std::path::Path;

use nn::data::{read_npy, Dataset, NpyArray};
use study::KnownData;

/// One signal: one channel of 40 samples (a batch is then `[B, 1, 40]`, what `Conv1d` takes).
pub const SAMPLE_SHAPE: [usize; 2] = [1, 40];

/// MNIST-1D's ten classes (the digits whose 1-D templates the signals are made from).
pub const CLASSES: usize = 10;

/// MNIST-1D as `scripts/fetch-mnist1d` generates it.
pub const MNIST1D: KnownData = KnownData {
    name: "MNIST-1D",
    default_dir: "data/mnist1d",
    train: 4000,
    test: 1000,
    samples: "signals",
};

/// MNIST-1D's training and test sets from `dir`, and what the run calls them. A missing folder
/// or file says what to run; a file of the wrong shape or type says what was expected and what
/// was found.
pub fn read(dir: &Path) -> Result<(String, Dataset, Dataset), String> {
    let names = ["x_train.npy", "y_train.npy", "x_test.npy", "y_test.npy"];
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| !dir.join(n).is_file())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{}: missing MNIST-1D files {}; run scripts/fetch-mnist1d to generate them, or point \
             --data-dir at a folder that holds them",
            dir.display(),
            missing.join(", ")
        ));
    }
    let train = split(dir, "x_train.npy", "y_train.npy")?;
    let test = split(dir, "x_test.npy", "y_test.npy")?;
    Ok((MNIST1D.name_of(dir, train.len(), test.len()), train, test))
}

/// One split: signals `[N, 40]` and labels `[N]` in `0..10`.
fn split(dir: &Path, inputs: &str, labels: &str) -> Result<Dataset, String> {
    let (xp, yp) = (dir.join(inputs), dir.join(labels));
    let x: NpyArray<f32> = read_npy(&xp).map_err(|e| e.to_string())?;
    let y: NpyArray<i64> = read_npy(&yp).map_err(|e| e.to_string())?;
    let length = SAMPLE_SHAPE[1];
    if x.shape.len() != 2 || x.shape[1] != length {
        return Err(format!(
            "{}: expected signals of shape [N, {length}], found {:?}",
            xp.display(),
            x.shape
        ));
    }
    if y.shape != [x.shape[0]] {
        return Err(format!(
            "{}: expected {} labels (one per signal of {}), found shape {:?}",
            yp.display(),
            x.shape[0],
            xp.display(),
            y.shape
        ));
    }
    let mut classes = Vec::with_capacity(y.data.len());
    for (i, &label) in y.data.iter().enumerate() {
        if !(0..CLASSES as i64).contains(&label) {
            return Err(format!(
                "{}: label {label} of signal {i} is out of range: expected a class below {CLASSES}",
                yp.display()
            ));
        }
        classes.push(label as usize);
    }
    Ok(Dataset::new(
        x.data,
        SAMPLE_SHAPE.to_vec(),
        classes,
        CLASSES,
    ))
}
