//! What a run writes, apart from what it says: files written atomically, settings in JSON as they
//! were typed, per-epoch records as JSON, Markdown tables, and a line naming the machine.

use std::fmt::Write as _;
use std::path::Path;

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

/// An f32 setting as JSON, as a person typed it: the shortest decimal that reads back as the same
/// f32 (what `Display` prints), not the f32 widened to f64, which shows its binary rounding
/// (`0.1f32 as f64` is 0.10000000149011612). Not finite: `null`, as JSON has no NaN.
pub fn typed(x: f32) -> Value {
    json!(as_typed(x))
}

/// The f64 of the shortest decimal that reads back as `x` (see [`typed`]): `as_typed(0.1)` is
/// 0.1, not 0.10000000149011612.
pub fn as_typed(x: f32) -> f64 {
    x.to_string()
        .parse()
        .expect("an f32's Display text parses as f64")
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

/// The command as typed (program name without its folder), printed above each table so that
/// every number in a report says how to reproduce it.
pub fn command_line() -> String {
    let mut args = std::env::args();
    let program = args.next().unwrap_or_default();
    let program = std::path::Path::new(&program)
        .file_name()
        .map_or(program.clone(), |f| f.to_string_lossy().into_owned());
    std::iter::once(program)
        .chain(args.map(|a| if a.contains(' ') { format!("'{a}'") } else { a }))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
