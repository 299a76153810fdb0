//! The data of a run: MNIST-1D's four `.npy` files (written by `scripts/fetch-mnist1d`, format in
//! docs/mnist1d.md) read, checked against each other, a validation split held out, normalised.

use std::path::Path;

use kd_app::KnownData;
use nn::data::{read_npy, Dataset, NpyArray};

use crate::config::Config;

/// One signal: one channel of 40 samples (a batch is then `[B, 1, 40]`, what `Conv1d` takes).
pub const SAMPLE_SHAPE: [usize; 2] = [1, 40];

/// MNIST-1D's ten classes (the digits whose 1-D templates the signals are made from).
pub const CLASSES: usize = 10;

/// MNIST-1D as `scripts/fetch-mnist1d` generates it.
const MNIST1D: KnownData = KnownData {
    name: "MNIST-1D",
    default_dir: "data/mnist1d",
    train: 4000,
    test: 1000,
    samples: "signals",
};

/// Training, validation and test sets, normalised with the training set's statistics.
pub struct Splits {
    /// What the data is called in messages and reports ([`kd_app::data_name`]).
    pub name: String,
    pub train: Dataset,
    pub validation: Dataset,
    pub test: Dataset,
    /// The mean and standard deviation the inputs were normalised with.
    pub mean: f32,
    pub std: f32,
}

/// Loads MNIST-1D from `config.data_dir` and prepares it. A missing folder or file says what to
/// run; a file of the wrong shape or type says what was expected and what was found.
pub fn load(config: &Config) -> Result<Splits, String> {
    let dir = &config.data_dir;
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
    let mut train = split(dir, "x_train.npy", "y_train.npy")?;
    let mut test = split(dir, "x_test.npy", "y_test.npy")?;
    let name = kd_app::data_name(&MNIST1D, dir, train.len(), test.len());
    if let Some(n) = config.train_limit {
        train = train.take(n);
    }
    if config.validation >= train.len() {
        return Err(format!(
            "the validation split ({}) must be smaller than the training set ({})",
            config.validation,
            train.len()
        ));
    }
    let (mut train, mut validation) = train.split_off(config.validation, 0x5eed);
    // Statistics from the training signals only: nothing of the test set leaks into training.
    // (The generator already scales the whole set to mean 0, std 1, test set included; doing it
    // again from the training part alone costs nothing and keeps the rule.)
    let (mean, std) = train.mean_std();
    for set in [&mut train, &mut validation, &mut test] {
        set.normalise(mean, std);
    }
    Ok(Splits {
        name,
        train,
        validation,
        test,
        mean,
        std,
    })
}

/// Refuses a batch larger than the training set that is left after the validation split: every
/// epoch drops its last partial batch (`kd::TrainConfig`), so such a run would take no step and
/// report untrained models as results. The teacher and the students train on the same split with
/// the same batch size, so one check covers both. Called before anything trains or is written.
pub fn check_batch_size(config: &Config, splits: &Splits) -> Result<(), String> {
    let left = splits.train.len();
    if config.batch_size > left {
        return Err(format!(
            "--batch-size {} is larger than the training set ({left} signals left after holding \
             out {} for validation): no step would be trained; use a batch of at most {left}",
            config.batch_size,
            splits.validation.len()
        ));
    }
    Ok(())
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
