//! What a run leaves behind, in `--out`: `report.md` (the table, the verdict and the exact
//! command), `results.json` (every number, per seed and per epoch, each loss term on its own),
//! `curves.svg` (test accuracy per epoch), `confusion.md` (confusion matrices), besides the
//! checkpoints. Every file is written to a temporary name and renamed (`kd_app::write_atomic`).

use kd::metrics::MeanStd;
use kd_app::{epochs_json, markdown_table};
use serde_json::{json, Value};

use crate::config::Config;
use crate::pipeline::{RunResult, TeacherOutcome};

/// The runs of one role (the teacher, the student alone, the student distilled) over its seeds.
pub struct Summary {
    pub label: String,
    pub parameters: usize,
    pub bytes: u64,
    /// In percent.
    pub accuracy: MeanStd,
    /// In percent.
    pub macro_f1: MeanStd,
    pub validation_macro_f1: MeanStd,
    pub agreement: f64,
    pub throughput: f64,
    pub latency_us: f64,
    pub diverged: usize,
}

pub fn summarise(runs: &[&RunResult]) -> Summary {
    let first = runs[0];
    let n = runs.len() as f64;
    let of = |f: &dyn Fn(&RunResult) -> f64| {
        MeanStd::of(&runs.iter().map(|r| 100.0 * f(r)).collect::<Vec<_>>())
    };
    Summary {
        label: format!("{} {} ({})", first.role, first.spec, runs.len()),
        parameters: first.parameters,
        bytes: runs.iter().map(|r| r.checkpoint_bytes).max().unwrap_or(0),
        accuracy: of(&|r| r.test.accuracy),
        macro_f1: of(&|r| r.test.macro_f1),
        validation_macro_f1: of(&|r| r.validation.macro_f1),
        agreement: runs.iter().map(|r| 100.0 * r.agreement).sum::<f64>() / n,
        throughput: runs.iter().map(|r| r.speed.throughput).sum::<f64>() / n,
        latency_us: runs.iter().map(|r| r.speed.latency_us).sum::<f64>() / n,
        diverged: runs.iter().filter(|r| r.diverged.is_some()).count(),
    }
}

/// The Markdown table of the summaries.
pub fn table(rows: &[Summary]) -> String {
    let headers = [
        "model (runs)",
        "parameters",
        "size on disk",
        "test accuracy %",
        "test macro-F1 %",
        "validation macro-F1 %",
        "agreement with teacher %",
        "throughput (signals/s)",
        "latency (µs)",
    ];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.label.clone(),
                r.parameters.to_string(),
                format!("{:.1} KiB", r.bytes as f64 / 1024.0),
                r.accuracy.format(2),
                r.macro_f1.format(2),
                r.validation_macro_f1.format(2),
                format!("{:.2}", r.agreement),
                format!("{:.0}", r.throughput),
                format!("{:.0}", r.latency_us),
            ]
        })
        .collect();
    markdown_table(&headers, &cells)
}

fn run_json(r: &RunResult) -> Value {
    json!({
        "role": r.role,
        "model": r.spec.to_string(),
        "seed": r.seed,
        "parameters": r.parameters,
        "test_accuracy": r.test.accuracy,
        "test_macro_f1": r.test.macro_f1,
        "test_errors": r.confusion.errors(),
        "validation_accuracy": r.validation.accuracy,
        "validation_macro_f1": r.validation.macro_f1,
        "agreement_with_teacher": r.agreement,
        "diverged_at": r.diverged.map(|(e, b)| json!({"epoch": e + 1, "batch": b})),
        "throughput_samples_per_s": r.speed.throughput,
        "latency_us": r.speed.latency_us,
        "checkpoint": r.checkpoint.as_ref().map(|p| p.display().to_string()),
        "checkpoint_bytes": r.checkpoint_bytes,
        "epochs": epochs_json(&r.epochs),
    })
}

/// Everything, as JSON.
pub fn results_json(
    config: &Config,
    command: &str,
    machine: &str,
    wall_seconds: f64,
    teacher: &TeacherOutcome,
    students: &[RunResult],
) -> String {
    let value = json!({
        "command": command,
        "machine": machine,
        "wall_seconds": wall_seconds,
        "config": {
            "preset": format!("{:?}", config.preset),
            "data_dir": config.data_dir.display().to_string(),
            "teacher": config.teacher.to_string(),
            "teacher_mixup_alpha": config.teacher_mixup,
            "teacher_shift": config.teacher_shift,
            "teacher_epochs": config.teacher_epochs,
            "teacher_lr": config.teacher_lr,
            "student": config.student.to_string(),
            "epochs": config.epochs,
            "batch_size": config.batch_size,
            "lr": config.lr,
            "temperature": config.temperature,
            "hard_weight": config.hard_weight,
            "soft_weight": config.soft_weight,
            "mae_weight": config.mae_weight,
            "mixup_alpha": config.mixup,
            "seeds": config.seeds,
            "validation_samples": config.validation,
            "train_limit": config.train_limit,
        },
        "teacher": {
            "reused": teacher.reused,
            "run": run_json(&teacher.result),
        },
        "students": students.iter().map(run_json).collect::<Vec<_>>(),
    });
    serde_json::to_string_pretty(&value).expect("JSON values serialise")
}
