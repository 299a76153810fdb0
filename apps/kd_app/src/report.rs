//! The pieces of a run's report that do not depend on the data set: files written atomically, the
//! Markdown table of mean ± std rows, a plain verdict on what distillation did, per-epoch records as
//! JSON, and a line naming the machine.

use std::fmt::Write as _;
use std::path::Path;

use kd::metrics::MeanStd;
use kd::EpochRecord;
use serde_json::{json, Value};

/// Writes `contents` to `path` through a temporary file in the same folder, then renames it: an
/// interrupted run never leaves a half-written report in place of a complete earlier one.
pub fn write_atomic(path: &Path, contents: &str) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, contents)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// A Markdown table: `headers`, then one line per row. The first column (the model) is
/// left-aligned, every other one (numbers, mean ± std) right-aligned.
///
/// Panics if a row does not have one cell per header (a bug in the caller, not bad input).
pub fn markdown_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut s = format!("| {} |\n|---|", headers.join(" | "));
    s.push_str(&"---:|".repeat(headers.len().saturating_sub(1)));
    s.push('\n');
    for row in rows {
        assert_eq!(
            row.len(),
            headers.len(),
            "markdown_table: a row of {} cells under {} headers",
            row.len(),
            headers.len()
        );
        let _ = writeln!(s, "| {} |", row.join(" | "));
    }
    s
}

/// One side of the comparison (the student alone, or distilled): the metric over the runs that
/// finished, and the seeds of the runs that diverged (left out of the metric).
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    pub finished: &'a MeanStd,
    pub diverged: &'a [u64],
}

/// Whether distillation clearly helped: no distilled run diverged, both sides have a spread to
/// judge by (at least two finished runs each), and the mean gain is larger than the two standard
/// deviations combined.
pub fn helped(alone: Side, distilled: Side) -> bool {
    let (a, d) = (alone.finished, distilled.finished);
    distilled.diverged.is_empty() && a.n >= 2 && d.n >= 2 && d.mean - a.mean > a.std + d.std
}

/// One plain sentence on what distillation did for a student: `metric` (e.g. "test accuracy",
/// "macro-F1") in points, mean ± std over the runs that finished, alone and distilled. "Helped"
/// only as [`helped`] says; one finished run on a side is said to be too few to judge; then each
/// side's diverged runs are named as left out.
pub fn verdict(student: &str, metric: &str, alone: Side, distilled: Side) -> String {
    let (a, d) = (alone.finished, distilled.finished);
    let gain = d.mean - a.mean;
    let noise = a.std + d.std;
    let numbers = format!("({} → {})", a.format(2), d.format(2));
    let what = if a.n == 0 || d.n == 0 {
        let side = match (a.n, d.n) {
            (0, 0) => "alone or distilled",
            (0, _) => "alone",
            _ => "distilled",
        };
        format!("nothing to compare: no run {side} finished")
    } else if a.n < 2 || d.n < 2 {
        format!(
            "{gain:+.2} points of {metric} {numbers}, with one finished run on a side: no spread \
             to judge by (use at least 2 seeds)"
        )
    } else if helped(alone, distilled) {
        format!(
            "distillation helped: {gain:+.2} points of {metric} {numbers}, more than the two \
             standard deviations combined ({noise:.2})"
        )
    } else if gain > noise {
        format!(
            "{gain:+.2} points of {metric} {numbers} over the runs that finished, more than the \
             two standard deviations combined ({noise:.2}), but not called a help while a \
             distilled run diverged"
        )
    } else if gain > 0.0 {
        format!(
            "distillation did not clearly help: {gain:+.2} points of {metric} {numbers}, within \
             the two standard deviations combined ({noise:.2})"
        )
    } else {
        format!("distillation did not help: {gain:+.2} points of {metric} {numbers}")
    };
    let mut line = format!("- **{student}**: {what}.");
    for (side, role) in [(alone, "alone"), (distilled, "distilled")] {
        let (runs, verb) = match side.diverged.len() {
            0 => continue,
            1 => ("run", "is"),
            _ => ("runs", "are"),
        };
        let seeds = crate::diverged::seeds_text(side.diverged);
        line.push_str(&format!(
            " The {role} {runs} of {seeds} diverged (non-finite loss or outputs) and {verb} left \
             out."
        ));
    }
    line
}

/// A published data set as an app knows it: its name, the folder its fetch script fills (and checks
/// by SHA-256), its full sizes, and what one sample is called.
#[derive(Debug, Clone, Copy)]
pub struct KnownData {
    pub name: &'static str,
    pub default_dir: &'static str,
    pub train: usize,
    pub test: usize,
    /// "images", "signals".
    pub samples: &'static str,
}

/// What a run calls the data it loaded from `dir` (`train` and `test` samples in the files): the
/// data set's name only for its default folder holding its full sizes; otherwise the folder as
/// given and the sizes found, e.g. "tests/fixtures/mnist (5000 training, 1000 test images)". A
/// slice, or another data set in the same format, is never announced as the published one.
pub fn data_name(known: &KnownData, dir: &Path, train: usize, test: usize) -> String {
    if dir == Path::new(known.default_dir) && (train, test) == (known.train, known.test) {
        known.name.to_string()
    } else {
        format!(
            "{} ({train} training, {test} test {})",
            dir.display(),
            known.samples
        )
    }
}

/// Checks that a weight given on the command line (`flag`) lies in [0, 1].
pub fn check_unit(flag: &str, value: f32) -> Result<(), String> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(format!("{flag} must be in [0, 1], found {value}"))
    }
}

/// Checks that a temperature given on the command line (`flag`) is a positive number.
pub fn check_temperature(flag: &str, t: f32) -> Result<(), String> {
    if t > 0.0 && t.is_finite() {
        Ok(())
    } else {
        Err(format!("{flag} must be a positive number, found {t}"))
    }
}

/// An f32 setting as JSON, as a person typed it: the shortest decimal that reads back as the same
/// f32 (what `Display` prints), not the f32 widened to f64, which shows its binary rounding
/// (`0.1f32 as f64` is 0.10000000149011612). Not finite: `null`, as JSON has no NaN.
pub fn typed(x: f32) -> Value {
    let shortest: f64 = x
        .to_string()
        .parse()
        .expect("an f32's Display text parses as f64");
    json!(shortest)
}

/// Every epoch's record: learning rate, each loss term on its own, training accuracy, the
/// evaluations after the epoch (the test set's, for the record; the validation split's, which is
/// what a schedule sees), seconds.
pub fn epochs_json(epochs: &[EpochRecord]) -> Value {
    Value::Array(
        epochs
            .iter()
            .map(|e| {
                json!({
                    "epoch": e.epoch + 1,
                    "lr": typed(e.lr),
                    "train_loss": {"total": e.train_loss.total, "hard": e.train_loss.hard,
                                   "soft": e.train_loss.soft, "hint": e.train_loss.hint},
                    "train_accuracy": e.train_accuracy,
                    "test": e.eval.map(|v| json!({"accuracy": v.accuracy, "loss": v.loss, "errors": v.errors})),
                    "validation": e.validation.map(|v| json!({"accuracy": v.accuracy, "loss": v.loss, "errors": v.errors})),
                    "seconds": e.seconds,
                })
            })
            .collect(),
    )
}

/// The CPU, from /proc/cpuinfo, and the number of threads the kernels run on.
pub fn machine() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    let threads = rayon::current_num_threads();
    format!("{model}, {threads} thread(s)")
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
        let name = |dir: &str, train, test| data_name(&known, Path::new(dir), train, test);
        assert_eq!(name("data/mnist", 60_000, 10_000), "MNIST");
        assert_eq!(name("data/mnist/", 60_000, 10_000), "MNIST");
        assert_eq!(
            name("data/mnist", 5000, 1000),
            "data/mnist (5000 training, 1000 test images)"
        );
        assert_eq!(
            name("/data/fashion", 60_000, 10_000),
            "/data/fashion (60000 training, 10000 test images)"
        );
    }

    #[test]
    fn settings_are_written_as_typed() {
        assert_eq!(typed(0.1).to_string(), "0.1");
        assert_eq!(typed(1e-3).to_string(), "0.001");
        assert_eq!(typed(0.9).to_string(), "0.9");
        assert_eq!(typed(2.0).to_string(), "2.0");
        // 1 − 0.9 in f32 is not 0.1: the value the run used is written, at its shortest.
        assert_eq!(typed(1.0 - 0.9f32).to_string(), "0.100000024");
        assert_eq!(typed(f32::NAN), Value::Null);
        // The widening this replaces, for the record.
        assert_eq!(json!(0.1f32).to_string(), "0.10000000149011612");
    }

    #[test]
    fn table_aligns_numbers_right_and_checks_row_width() {
        let t = markdown_table(&["model", "acc"], &[vec!["a".into(), "1.00 ± 0.00".into()]]);
        assert_eq!(t, "| model | acc |\n|---|---:|\n| a | 1.00 ± 0.00 |\n");
        let wrong = std::panic::catch_unwind(|| markdown_table(&["a", "b"], &[vec!["x".into()]]));
        assert!(wrong.is_err());
    }

    const NONE: &[u64] = &[];

    fn side<'a>(finished: &'a MeanStd, diverged: &'a [u64]) -> Side<'a> {
        Side { finished, diverged }
    }

    #[test]
    fn verdict_says_helped_only_beyond_both_stds() {
        let m = |mean, std| MeanStd { mean, std, n: 5 };
        let v = |a: MeanStd, d: MeanStd| verdict("s", "macro-F1", side(&a, NONE), side(&d, NONE));
        // Gains by hand: 3.0 > 1.0 + 1.0; 1.5 < 2.0; −1.0.
        assert!(v(m(80.0, 1.0), m(83.0, 1.0)).contains("helped: +3.00"));
        assert!(v(m(80.0, 1.0), m(81.5, 1.0)).contains("did not clearly help"));
        assert!(v(m(80.0, 1.0), m(79.0, 1.0)).contains("did not help: -1.00"));
    }

    /// A diverged run on either side is named, left out, and does not move the numbers: the
    /// verdict is over the runs that finished (the summaries' `MeanStd` holds only those).
    #[test]
    fn diverged_runs_on_either_side_are_named_and_left_out() {
        let finished = |mean, n| MeanStd { mean, std: 1.0, n };
        // The student alone: seed 2 of 3 diverged; the two finished alone runs average 80.
        let alone = finished(80.0, 2);
        let distilled = finished(83.0, 3);
        let v = verdict("s", "accuracy", side(&alone, &[2]), side(&distilled, NONE));
        assert!(v.contains("The alone run of seed 2 diverged"), "{v}");
        assert!(v.contains("and is left out"), "{v}");
        assert!(v.contains("(80.00 ± 1.00 → 83.00 ± 1.00)"), "{v}");
        // A diverged baseline does not stop a clear gain from being called one.
        assert!(v.contains("distillation helped: +3.00"), "{v}");

        // Distilled: seeds 0 and 1 of 4 diverged. The finished runs gain 3 points, but a method
        // that made runs diverge is not called a help.
        let alone = finished(80.0, 4);
        let distilled = finished(83.0, 2);
        let v = verdict(
            "s",
            "accuracy",
            side(&alone, NONE),
            side(&distilled, &[0, 1]),
        );
        assert!(
            v.contains("The distilled runs of seeds 0 and 1 diverged"),
            "{v}"
        );
        assert!(v.contains("and are left out"), "{v}");
        assert!(!v.contains("distillation helped"), "{v}");
        assert!(
            v.contains("not called a help while a distilled run diverged"),
            "{v}"
        );
        assert!(!helped(side(&alone, NONE), side(&distilled, &[0, 1])));

        // Every run of one side diverged: nothing to compare, and no NaN in the sentence.
        let none = crate::diverged::over_finished(&[]);
        let v = verdict("s", "accuracy", side(&alone, NONE), side(&none, &[0, 1]));
        assert!(
            v.contains("nothing to compare: no run distilled finished"),
            "{v}"
        );
        assert!(!v.contains("NaN"), "{v}");
    }

    /// With one seed there is no spread (`MeanStd` gives std 0 for n = 1), so "more than the two
    /// standard deviations combined (0.00)" would be true of any gain, even 0.01 points: one run
    /// must not be called evidence that distillation helped.
    #[test]
    fn one_seed_is_not_called_a_clear_help() {
        let one = |mean| MeanStd {
            mean,
            std: 0.0,
            n: 1,
        };
        let (a, d) = (one(80.00), one(80.01));
        let v = verdict("s", "macro-F1", side(&a, NONE), side(&d, NONE));
        assert!(!v.contains("distillation helped"), "{v}");
        assert!(v.contains("no spread to judge by"), "{v}");
        let (a, d) = (one(80.0), one(90.0));
        assert!(!helped(side(&a, NONE), side(&d, NONE)));
    }
}
