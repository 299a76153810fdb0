//! # kd_app — what the distillation apps share that is not machine learning
//!
//! `mnist_kd` (images) and `signal_kd` (1-D signals) run the same study: a teacher, then a student
//! alone and distilled over several seeds, reported as mean ± std. The learning is in `kd`; what
//! is left, and would otherwise be copied between the apps, is here:
//!
//! - [`progress`]: a progress bar drawn from the `Distiller`'s [`kd::Event`]s.
//! - [`measure`]: inference speed (throughput in large batches, latency of one sample).
//! - [`report`]: files written atomically, the Markdown table of mean ± std rows, a plain verdict,
//!   per-epoch records as JSON, the machine a run ran on.
//! - [`curves`]: the SVG of a metric per epoch, one line per model.
//! - [`diverged`]: runs whose loss or outputs became non-finite, shown and left out of the means.
//! - [`saved`]: reusing a saved teacher when its configuration matches.
//!
//! Non-goals: flags and presets (each app has its own), anything that trains or evaluates.

pub mod curves;
pub mod diverged;
pub mod measure;
pub mod progress;
pub mod report;
pub mod saved;

pub use curves::{curves_svg, mean_curve, test_accuracy_curve};
pub use diverged::{cell, over_finished, row_note, Divergence};
pub use measure::{speed, Speed};
pub use progress::Bar;
pub use report::{
    check_temperature, check_unit, data_name, epochs_json, helped, machine, markdown_table, typed,
    verdict, write_atomic, KnownData, Side,
};
pub use saved::reuse_teacher;
