//! Where an app plugs in: the [`Study`] trait. The driver (`run`) asks an app only what
//! differs between studies; everything else — the teacher, the seeds, the pairs, the reports — is
//! the driver's, the same for every app.

use std::collections::BTreeMap;
use std::path::Path;

use kd::ModelSpec;
use nn::data::Dataset;
use serde_json::{Map, Value};

use crate::data::Splits;
use crate::runs::{Metric, ACCURACY};
use crate::settings::{Settings, Weights};
use crate::summary::Summary;
use crate::teacher::TeacherOutcome;
use crate::train::KdLoss;

/// Where the data is and how much of it a run takes: what [`Study::load`] is given.
pub struct DataSource<'a> {
    pub dir: &'a Path,
    /// Keep only the first this many training samples (before the validation split).
    pub train_limit: Option<usize>,
    /// Training samples to hold out for validation.
    pub validation: usize,
}

impl DataSource<'_> {
    /// The training set cut to `train_limit`, then split ([`Splits::new`]). `name` is what the
    /// data is called (`KnownData::name_of`), `samples` what one sample is.
    pub fn split(
        &self,
        name: String,
        samples: &'static str,
        train: Dataset,
        test: Dataset,
    ) -> Result<Splits, String> {
        let train = match self.train_limit {
            Some(n) => train.take(n),
            None => train,
        };
        Splits::new(name, samples, train, test, self.validation)
    }
}

/// What an app says about its study. (`Sync`: the driver runs the study on a thread of its own
/// pool, see `run`.) Three methods are needed — its name, its data, how a student
/// is distilled — and the rest have defaults; the crate's documentation shows a whole app.
pub trait Study: Sync {
    /// The app's binary ("mnist_kd"): report titles, and messages that name a command to run.
    fn name(&self) -> &'static str;

    /// Reads the data from `source.dir`, cuts it to the task, and splits it
    /// ([`DataSource::split`]). A missing or corrupt file is an error that says what to run or
    /// what was wrong.
    fn load(&self, source: &DataSource) -> Result<Splits, String>;

    /// The scores every model gets, on the test set and the validation split; the verdict and the
    /// sweep judge by the first.
    fn metrics(&self) -> &'static [Metric] {
        &[ACCURACY]
    }

    /// How `student` learns from the teacher `teacher` at `weights`: the loss, and a hint if the
    /// method uses one (`seed` draws its adapter). The student alone always learns from the
    /// labels alone.
    fn distilled(
        &self,
        student: &ModelSpec,
        teacher: &ModelSpec,
        seed: u64,
        weights: Weights,
    ) -> Result<KdLoss, String>;

    /// How the distilled student learns, in a few words ("Response", "DKD (α = 1, β = 0.25)"): a
    /// tuning measured with one loss is not reused for another (tuned.rs).
    fn loss_name(&self) -> String {
        "Response".into()
    }

    /// The app's own settings, as results.json's "config" records them beside the driver's.
    fn config_json(&self, _settings: &Settings) -> Map<String, Value> {
        Map::new()
    }

    /// Entries every checkpoint's metadata carries to name the data and the task; a saved teacher
    /// is reused only where they match.
    fn identity(&self) -> BTreeMap<String, String> {
        BTreeMap::new()
    }

    /// Lines for report.md's header on what the driver does not know: the loss, the task.
    /// `teacher` is the one the students learn from (the ensemble, for an ensemble).
    fn describe(&self, _teacher: &TeacherOutcome) -> Vec<String> {
        Vec::new()
    }

    /// Entries beside "run" in results.json's "teacher".
    fn teacher_json(&self, _teacher: &TeacherOutcome) -> Map<String, Value> {
        Map::new()
    }

    /// Sections of report.md after the verdicts (the summaries in table order: the teacher, then
    /// each student alone and distilled; for an ensemble, its members' row stands for the
    /// teacher, the ensemble's own row left out); also printed.
    fn extra_sections(&self, _rows: &[Summary]) -> String {
        String::new()
    }
}
