//! The data a study runs on: training, validation and test sets, normalised with the training
//! set's statistics, and what a model's outputs mean. An app reads its files and cuts them to its
//! task; [`Splits::new`] does the rest the same way for every app.

use std::path::Path;

use kd::{predicted_classes, Objective};
use nn::data::Dataset;
use tensor::Tensor;

/// A published data set as an app knows it: its name, the folder its fetch script fills (and
/// checks by SHA-256), its full sizes, and what one sample is called.
#[derive(Debug, Clone, Copy)]
pub struct KnownData {
    pub name: &'static str,
    pub default_dir: &'static str,
    pub train: usize,
    pub test: usize,
    /// "images", "signals".
    pub samples: &'static str,
}

impl KnownData {
    /// What a run calls the data it loaded from `dir` (`train` and `test` samples in the files):
    /// the data set's name only for its default folder holding its full sizes; otherwise the
    /// folder's name ("data/fashion-mnist" → "fashion-mnist"). A folder named as the data set's
    /// own but holding something else (a slice, say) also gets the sizes found, e.g. "mnist (5000
    /// training, 1000 test images)": a slice is never announced as the published set.
    pub fn name_of(&self, dir: &Path, train: usize, test: usize) -> String {
        let full = (train, test) == (self.train, self.test);
        if dir == Path::new(self.default_dir) && full {
            return self.name.to_string();
        }
        let folder = folder_name(dir);
        let own_folder = Path::new(self.default_dir)
            .file_name()
            .is_some_and(|f| f.to_string_lossy().eq_ignore_ascii_case(&folder));
        if own_folder || folder.eq_ignore_ascii_case(self.name) {
            format!("{folder} ({train} training, {test} test {})", self.samples)
        } else {
            folder
        }
    }
}

/// MNIST as `scripts/fetch-mnist` leaves it: what `mnist_kd` and `dark_knowledge` read.
pub const MNIST: KnownData = KnownData {
    name: "MNIST",
    default_dir: "data/mnist",
    train: 60_000,
    test: 10_000,
    samples: "images",
};

/// The last component of `dir`, the name a user gave the data by putting it there; for "." or
/// "..", the name of the folder they stand for; failing that, `dir` as given.
pub fn folder_name(dir: &Path) -> String {
    let named = |p: &Path| p.file_name().map(|f| f.to_string_lossy().into_owned());
    named(dir)
        .or_else(|| std::fs::canonicalize(dir).ok().as_deref().and_then(named))
        .unwrap_or_else(|| dir.display().to_string())
}

/// Training, validation and test sets, normalised with the training set's statistics.
pub struct Splits {
    /// What the data is called in messages and reports ([`KnownData::name_of`]).
    pub name: String,
    /// What one sample is called ("images").
    pub samples: &'static str,
    pub train: Dataset,
    pub validation: Dataset,
    pub test: Dataset,
    /// The mean and standard deviation the inputs were normalised with.
    pub mean: f32,
    pub std: f32,
    /// Two classes read from one sigmoid output (a binary task), rather than one output a class.
    pub one_logit: bool,
    /// One name per class, in label order: the data's own ([`Splits::with_class_names`]), else
    /// the class numbers "0", "1", ….
    pub class_names: Vec<String>,
}

impl Splits {
    /// Holds `validation` samples of `train` out (the same ones for every run: a fixed seed),
    /// then normalises all three sets with the statistics of what is left for training.
    pub fn new(
        name: String,
        samples: &'static str,
        train: Dataset,
        mut test: Dataset,
        validation: usize,
    ) -> Result<Splits, String> {
        if validation >= train.len() {
            return Err(format!(
                "the validation split ({validation}) must be smaller than the training set ({})",
                train.len()
            ));
        }
        let (mut train, mut validation) = train.split_off(validation, 0x5eed);
        // Statistics from the training samples only: nothing of the test set leaks into training.
        let (mean, std) = train.mean_std();
        for set in [&mut train, &mut validation, &mut test] {
            set.normalise(mean, std);
        }
        let class_names = (0..train.classes).map(|c| c.to_string()).collect();
        Ok(Splits {
            name,
            samples,
            train,
            validation,
            test,
            mean,
            std,
            one_logit: false,
            class_names,
        })
    }

    /// The same splits with the classes called `names` (one per class, in label order).
    pub fn with_class_names(self, names: Vec<String>) -> Result<Splits, String> {
        if names.len() != self.classes() {
            return Err(format!(
                "expected {} class names, one for each class of {}, found {}",
                self.classes(),
                self.name,
                names.len()
            ));
        }
        Ok(Splits {
            class_names: names,
            ..self
        })
    }

    /// Refuses a batch larger than the training set that is left after the validation split:
    /// every epoch drops its last partial batch (`kd::TrainConfig`), so such a run would take no
    /// step and report untrained models as results. The teacher and the students train on the
    /// same split with the same batch size, so one check covers both. Called before anything
    /// trains or is written.
    pub fn check_batch_size(&self, batch_size: usize) -> Result<(), String> {
        let left = self.train.len();
        if batch_size > left {
            return Err(format!(
                "--batch-size {batch_size} is larger than the training set ({left} {} left after \
                 holding out {} for validation): no step would be trained; use a batch of at most \
                 {left}",
                self.samples,
                self.validation.len()
            ));
        }
        Ok(())
    }

    /// The shape of one sample (`[1, 28, 28]` for an image, `[1, 40]` for a signal).
    pub fn sample_shape(&self) -> &[usize] {
        &self.train.sample_shape
    }

    /// How many classes the labels name.
    pub fn classes(&self) -> usize {
        self.train.classes
    }

    /// A model's output width: one logit per class, or one for a binary task.
    pub fn outputs(&self) -> usize {
        if self.one_logit {
            1
        } else {
            self.classes()
        }
    }

    /// The loss of a model trained on the labels alone: cross-entropy, or binary cross-entropy
    /// for one logit.
    pub fn hard_objective(&self) -> Objective {
        if self.one_logit {
            Objective::BinaryHard
        } else {
            Objective::Hard {
                label_smoothing: 0.0,
            }
        }
    }

    /// The class each row of `logits` predicts.
    pub fn predictions(&self, logits: &Tensor) -> Vec<usize> {
        predicted_classes(logits, self.one_logit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_is_named_by_what_was_loaded() {
        let known = KnownData {
            name: "MNIST",
            default_dir: "data/mnist",
            train: 60_000,
            test: 10_000,
            samples: "images",
        };
        let name = |dir: &str, train, test| known.name_of(Path::new(dir), train, test);
        assert_eq!(name("data/mnist", 60_000, 10_000), "MNIST");
        assert_eq!(name("data/mnist/", 60_000, 10_000), "MNIST");
        // A slice in the default folder, or in a folder of the same name, says its sizes.
        assert_eq!(
            name("data/mnist", 5000, 1000),
            "mnist (5000 training, 1000 test images)"
        );
        assert_eq!(
            name("tests/fixtures/mnist", 5000, 1000),
            "mnist (5000 training, 1000 test images)"
        );
        assert_eq!(
            name("/x/MNIST", 5000, 1000),
            "MNIST (5000 training, 1000 test images)"
        );
        // Another data set is its folder's name, whatever its sizes.
        assert_eq!(name("data/fashion-mnist", 60_000, 10_000), "fashion-mnist");
        assert_eq!(name("/data/fashion/", 600, 100), "fashion");
    }

    #[test]
    fn a_folder_given_as_dots_is_named_by_the_folder_it_stands_for() {
        let dir = tempfile::tempdir().unwrap();
        let bars = dir.path().join("bars");
        std::fs::create_dir_all(bars.join("sub")).unwrap();
        assert_eq!(folder_name(&bars.join(".")), "bars");
        assert_eq!(folder_name(&bars.join("sub").join("..")), "bars");
    }

    /// Ten samples of one value each, `i` for sample `i`, in two classes.
    fn ramp(n: usize) -> Dataset {
        let inputs: Vec<f32> = (0..n).map(|i| i as f32).collect();
        Dataset::new(inputs, vec![1], (0..n).map(|i| i % 2).collect(), 2)
    }

    #[test]
    fn the_split_holds_out_and_normalises_by_the_training_part() {
        let s = Splits::new("ramp".into(), "values", ramp(10), ramp(4), 3).unwrap();
        assert_eq!((s.train.len(), s.validation.len(), s.test.len()), (7, 3, 4));
        // The training part has mean 0 and std 1 after normalising with its own statistics.
        let mean: f32 = s.train.inputs.iter().sum::<f32>() / 7.0;
        assert!(mean.abs() < 1e-5, "{mean}");
        // The test set went through the same affine map: (x − mean) / std.
        assert!((s.test.inputs[1] - (1.0 - s.mean) / s.std).abs() < 1e-6);
        let err = Splits::new("ramp".into(), "values", ramp(10), ramp(4), 10).err();
        assert_eq!(
            err.as_deref(),
            Some("the validation split (10) must be smaller than the training set (10)")
        );
        let err = s.check_batch_size(8).unwrap_err();
        assert!(
            err.starts_with(
                "--batch-size 8 is larger than the training set (7 values left after holding out 3"
            ),
            "{err}"
        );
        assert!(s.check_batch_size(7).is_ok());
    }
}
