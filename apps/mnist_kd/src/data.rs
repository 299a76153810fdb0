//! The data of a run: MNIST loaded, cut to the task, normalised, and a validation split held out.

use kd_app::KnownData;
use nn::data::{load_mnist, Dataset};

use crate::config::Config;

/// The shape of one MNIST image: one channel of 28×28.
pub const SAMPLE_SHAPE: [usize; 3] = [1, 28, 28];

/// MNIST as `scripts/fetch-mnist` leaves it.
const MNIST: KnownData = KnownData {
    name: "MNIST",
    default_dir: "data/mnist",
    train: 60_000,
    test: 10_000,
    samples: "images",
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

/// Loads MNIST from `config.data_dir` and prepares it for `config`. A missing or corrupt file
/// comes back as the reader's message (which says what to run, or what was wrong).
pub fn load(config: &Config) -> Result<Splits, String> {
    let mnist = load_mnist(&config.data_dir).map_err(|e| e.to_string())?;
    let name = kd_app::data_name(
        &MNIST,
        &config.data_dir,
        mnist.train.len(),
        mnist.test.len(),
    );
    let (mut train, mut test) = (mnist.train, mnist.test);
    let mut validation = config.validation;
    if let Some((a, b)) = config.binary {
        let all = train.len();
        train = train.filter_classes(&[a, b]);
        test = test.filter_classes(&[a, b]);
        // The same share held out as for ten digits (5 000 of 60 000), not 5 000 of the ~12 000
        // images of two digits.
        validation = (validation * train.len()).div_ceil(all);
    }
    if let Some(n) = config.train_limit {
        train = train.take(n);
    }
    if let Some(n) = config.test_limit {
        test = test.take(n);
    }
    if validation >= train.len() {
        return Err(format!(
            "the validation split ({validation}) must be smaller than the training set ({})",
            train.len()
        ));
    }
    let (mut train, mut validation) = train.split_off(validation, 0x5eed);
    // Statistics from the training images only: nothing of the test set leaks into training.
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
            "--batch-size {} is larger than the training set ({left} images left after holding out \
             {} for validation): no step would be trained; use a batch of at most {left}",
            config.batch_size,
            splits.validation.len()
        ));
    }
    Ok(())
}

/// The output width for a task: 10 classes, or one logit for a binary task.
pub fn outputs(config: &Config) -> usize {
    if config.binary.is_some() {
        1
    } else {
        10
    }
}
