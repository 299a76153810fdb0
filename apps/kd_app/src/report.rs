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

/// Whether distillation clearly helped: no distilled run diverged, both sides have a spread to
/// judge by (at least two seeds each), and the mean gain is larger than the two standard
/// deviations combined.
pub fn helped(alone: &MeanStd, distilled: &MeanStd, diverged: usize) -> bool {
    diverged == 0
        && alone.n >= 2
        && distilled.n >= 2
        && distilled.mean - alone.mean > alone.std + distilled.std
}

/// One plain sentence on what distillation did for a student: `metric` (e.g. "test accuracy",
/// "macro-F1") in points, mean ± std over seeds alone and distilled. "Helped" only as [`helped`]
/// says; `diverged` distilled runs are named first, and one seed is said to be too few to judge.
pub fn verdict(
    student: &str,
    metric: &str,
    alone: &MeanStd,
    distilled: &MeanStd,
    diverged: usize,
) -> String {
    let gain = distilled.mean - alone.mean;
    let noise = alone.std + distilled.std;
    let numbers = format!("({} → {})", alone.format(2), distilled.format(2));
    let what = if diverged > 0 {
        format!("{diverged} distilled run(s) diverged (non-finite loss)")
    } else if alone.n < 2 || distilled.n < 2 {
        format!(
            "{gain:+.2} points of {metric} {numbers}, from one run each: no spread to judge by \
             (use at least 2 seeds)"
        )
    } else if helped(alone, distilled, diverged) {
        format!(
            "distillation helped: {gain:+.2} points of {metric} {numbers}, more than the two \
             standard deviations combined ({noise:.2})"
        )
    } else if gain > 0.0 {
        format!(
            "distillation did not clearly help: {gain:+.2} points of {metric} {numbers}, within \
             the two standard deviations combined ({noise:.2})"
        )
    } else {
        format!("distillation did not help: {gain:+.2} points of {metric} {numbers}")
    };
    format!("- **{student}**: {what}.")
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
                    "lr": e.lr,
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
    fn table_aligns_numbers_right_and_checks_row_width() {
        let t = markdown_table(&["model", "acc"], &[vec!["a".into(), "1.00 ± 0.00".into()]]);
        assert_eq!(t, "| model | acc |\n|---|---:|\n| a | 1.00 ± 0.00 |\n");
        let wrong = std::panic::catch_unwind(|| markdown_table(&["a", "b"], &[vec!["x".into()]]));
        assert!(wrong.is_err());
    }

    #[test]
    fn verdict_says_helped_only_beyond_both_stds() {
        let m = |mean, std| MeanStd { mean, std, n: 5 };
        // Gains by hand: 3.0 > 1.0 + 1.0; 1.5 < 2.0; −1.0.
        assert!(verdict("s", "macro-F1", &m(80.0, 1.0), &m(83.0, 1.0), 0).contains("helped: +3.00"));
        assert!(verdict("s", "macro-F1", &m(80.0, 1.0), &m(81.5, 1.0), 0)
            .contains("did not clearly help"));
        assert!(verdict("s", "macro-F1", &m(80.0, 1.0), &m(79.0, 1.0), 0)
            .contains("did not help: -1.00"));
        assert!(verdict("s", "macro-F1", &m(80.0, 1.0), &m(90.0, 1.0), 2)
            .contains("2 distilled run(s) diverged"));
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
        let v = verdict("s", "macro-F1", &one(80.00), &one(80.01), 0);
        assert!(!v.contains("distillation helped"), "{v}");
        assert!(v.contains("no spread to judge by"), "{v}");
        assert!(!helped(&one(80.0), &one(90.0), 0));
    }
}
