//! # study — the study driver
//!
//! Every app of Distillery runs the same study: a teacher, then each student trained alone and the
//! same student (same initialisation, same batches) distilled from the teacher, over several
//! seeds, scored on a test set and reported as mean ± std with a verdict on what distillation did.
//! This crate is that study, written once. An app says only what differs — how its data loads,
//! which loss distils, which metric judges — by implementing [`Study`]; [`run`] does the rest.
//!
//! ## Where an app plugs in
//! - [`Study::load`]: read the files, cut them to the task, [`DataSource::split`].
//! - [`Study::distilled`]: the distilled student's loss ([`KdLoss`]: a `kd::Objective`, maybe a
//!   FitNets hint). The student alone always learns from the labels alone.
//! - [`Study::metrics`]: what scores a model ([`ACCURACY`], [`MACRO_F1`]); the first judges.
//! - [`Study::config_json`], and optionally `identity`, `describe`, `teacher_json`,
//!   `extra_sections`: what the app adds to checkpoints and reports.
//! - Its flags: a `clap::Args` struct holding its preset, `#[command(flatten)]` [`StudyFlags`],
//!   and its own flags; its presets fill a [`Settings`].
//!
//! ## What the driver owns
//! [`run`] (the order of the phases) → `teacher.rs` (train, or reuse when the identity matches)
//! and `ensemble.rs` (`--teachers N`: N of them from seeds 1 to N, combined into the one teacher
//! the students learn from) → `students.rs` (seeds × alone/distilled, checkpoints) → `train.rs` (one `kd::Distiller` call
//! for every model) → `runs.rs` (scores, agreement, speed) → `summary.rs` and `verdict.rs` (the
//! table, mean ± std over the runs that finished, "helped" only beyond the noise) and
//! `explain.rs` (why it did not help, by rules over measured facts) → `report.rs` (the four
//! files) with `curves.rs` (the SVG) and `per_class.rs` (the classes distillation helped and
//! hurt). Beside them: `sweep.rs` (T and the weights on the validation split) and `tuned.rs` (the
//! choice `tune` keeps beside the teacher, which later runs use), `settings.rs` (the shared
//! flags), `data.rs` (the split),
//! `diverged.rs`, `progress.rs`, `measure.rs`, `output.rs` (atomic writes, JSON as typed), and
//! `dkd.rs` (the flags and checks of `--kd-method dkd`, shared by the apps that offer it).
//!
//! Every app also gets the block cache as its allocator (below), and the subcommands `run`,
//! `teacher`, `students`, `sweep`, `tune` and `evaluate`.
//!
//! ## A new study
//! The data, the models, the scorer — a whole app (`mnist_kd` and `signal_kd` are two more):
//!
//! ```no_run
//! use std::path::PathBuf;
//!
//! use kd::{ModelSpec, Objective, ResponseLoss};
//! use study::{About, Cli, Command, DataSource, KdLoss, Metric, Recipe, Settings, Splits, Study};
//! use study::{Ensemble, Weights, WeightsSource, MACRO_F1};
//!
//! const ABOUT: About = About {
//!     name: "fashion_kd",
//!     about: "Distillation on Fashion-MNIST.",
//!     after_help: "",
//! };
//!
//! #[derive(Clone, Copy, Debug, clap::ValueEnum)]
//! enum Preset {
//!     Default,
//! }
//!
//! /// The app's own flags; the driver's come before them.
//! #[derive(clap::Args, Debug)]
//! struct Options {
//!     /// Folder holding the Fashion-MNIST IDX files (and classes.txt).
//!     #[arg(global = true, long, default_value = "data/fashion-mnist")]
//!     data_dir: PathBuf,
//! }
//!
//! struct Fashion;
//!
//! impl Study for Fashion {
//!     fn name(&self) -> &'static str {
//!         ABOUT.name
//!     }
//!
//!     // The data: read it, cut it to the task, split it.
//!     fn load(&self, source: &DataSource) -> Result<Splits, String> {
//!         let data = nn::data::load_idx_set(source.dir).map_err(|e| e.to_string())?;
//!         let name = study::data::folder_name(source.dir);
//!         let splits = source.split(name, "images", data.train, data.test)?;
//!         match data.class_names {
//!             Some(names) => splits.with_class_names(names),
//!             None => Ok(splits),
//!         }
//!     }
//!
//!     // The scorer: macro-F1 judges (accuracy, the default, would do too).
//!     fn metrics(&self) -> &'static [Metric] {
//!         &[MACRO_F1]
//!     }
//!
//!     // How the distilled student learns: Hinton et al.'s loss at the run's weights.
//!     fn distilled(&self, _: &ModelSpec, _: &ModelSpec, _: u64, w: Weights) -> Result<KdLoss, String> {
//!         let loss = ResponseLoss::new(w.hard_weight, w.soft_weight, w.temperature);
//!         Ok(KdLoss { objective: Objective::Response(loss), hint: None })
//!     }
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     study::main(&ABOUT, |cli: &Cli<Preset, Options>, _: &Command| {
//!         // The models, and the rest of the preset; the flags override it.
//!         let spec = |s: &str| s.parse::<ModelSpec>().map_err(|e| e.to_string());
//!         let preset = Settings {
//!             preset: "Default".into(),
//!             teacher: spec("cnn:32,64,fc=128")?,
//!             teacher_recipe: Recipe::adam(4, 1e-3).cosine().shift(2),
//!             // One teacher; `--teachers N` makes it an ensemble.
//!             ensemble: Ensemble::SINGLE,
//!             students: vec![spec("mlp:100,100")?],
//!             student_recipe: Recipe::adam(10, 1e-3),
//!             batch_size: 128,
//!             weights: Weights { temperature: 4.0, hard_weight: 0.5, soft_weight: 0.5 },
//!             // `fashion_kd tune` replaces them with settings chosen on the validation split.
//!             weights_source: WeightsSource::Preset,
//!             seeds: 3,
//!             validation: 5000,
//!             train_limit: None,
//!             threads: None,
//!             data_dir: cli.options.data_dir.clone(),
//!             out: "runs/fashion".into(),
//!         };
//!         Ok((Fashion, cli.study.apply(preset)?))
//!     })
//! }
//! ```
//!
//! Non-goals: models that are not `nn::Sequential` (a student of another kind needs a second
//! path through `train.rs` and `runs.rs`); anything the `kd` library does (losses, the loop).

pub mod app;
pub mod curves;
pub mod data;
pub mod diverged;
pub mod dkd;
pub mod ensemble;
pub mod ensemble_plan;
pub mod explain;
pub mod measure;
pub mod output;
pub mod per_class;
pub mod progress;
pub mod report;
pub mod run;
pub mod runs;
pub mod settings;
pub mod students;
pub mod summary;
pub mod sweep;
pub mod teacher;
pub mod train;
pub mod tuned;
pub mod verdict;

pub use app::{DataSource, Study};
pub use data::{KnownData, Splits};
pub use dkd::{DkdFlags, DkdWeights};
pub use ensemble_plan::Ensemble;
pub use explain::WeightsSource;
pub use output::{typed, write_atomic};
pub use run::{main, run};
pub use runs::{Metric, ACCURACY, MACRO_F1};
pub use settings::{
    at_least_one, About, Cli, Command, OptimizerKind, Recipe, Settings, StudyFlags, Weights,
};
pub use summary::Summary;
pub use teacher::TeacherOutcome;
pub use train::{hint_between, KdLoss};

/// Large freed buffers are kept for the next step instead of going back to the kernel (see
/// `tensor::block_cache`). Declared here, so every app that runs a study has it.
#[global_allocator]
static ALLOCATOR: tensor::BlockCache = tensor::BlockCache::new();
