//! What a run leaves behind, in `--out`: `report.md` (the table and the exact command),
//! `results.json` (every number, per seed and per epoch, each loss term on its own), `curves.svg`
//! (test accuracy per epoch), `confusion.md` (confusion matrices), besides the checkpoints.
//! Every file is written to a temporary name and renamed, so an interrupted run never leaves a
//! half-written report in place of a complete earlier one.

use std::fmt::Write as _;
use std::path::Path;

use kd::metrics::MeanStd;
use kd::{EpochRecord, ModelSpec};
use serde_json::{json, Value};

use crate::config::Config;
use crate::pipeline::{RunResult, TeacherOutcome};

/// Writes `contents` to `path` through a temporary file in the same folder.
pub fn write_atomic(path: &Path, contents: &str) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, contents)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The rows of one (student, role) over its seeds.
pub struct Summary {
    pub label: String,
    pub spec: ModelSpec,
    pub parameters: usize,
    pub bytes: u64,
    pub accuracy: MeanStd,
    pub errors: MeanStd,
    pub throughput: f64,
    pub latency_us: f64,
    pub agreement: f64,
    /// Accuracy on the training batches during the last epoch, %.
    pub train_accuracy: MeanStd,
    pub diverged: usize,
}

pub fn summarise(runs: &[&RunResult]) -> Summary {
    let first = runs[0];
    let n = runs.len() as f64;
    Summary {
        label: format!("{} ({})", first.spec, first.role),
        spec: first.spec.clone(),
        parameters: first.parameters,
        bytes: runs.iter().map(|r| r.checkpoint_bytes).max().unwrap_or(0),
        accuracy: MeanStd::of(
            &runs
                .iter()
                .map(|r| 100.0 * r.test_accuracy)
                .collect::<Vec<_>>(),
        ),
        errors: MeanStd::of(
            &runs
                .iter()
                .map(|r| r.test_errors as f64)
                .collect::<Vec<_>>(),
        ),
        throughput: runs.iter().map(|r| r.speed.throughput).sum::<f64>() / n,
        latency_us: runs.iter().map(|r| r.speed.latency_us).sum::<f64>() / n,
        agreement: runs.iter().map(|r| 100.0 * r.agreement).sum::<f64>() / n,
        train_accuracy: MeanStd::of(
            &runs
                .iter()
                .map(|r| {
                    r.epochs
                        .last()
                        .map_or(f64::NAN, |e| 100.0 * e.train_accuracy)
                })
                .collect::<Vec<_>>(),
        ),
        diverged: runs.iter().filter(|r| r.diverged.is_some()).count(),
    }
}

/// The Markdown table of the summaries.
pub fn table(rows: &[Summary]) -> String {
    let mut s = String::from(
        "| model | parameters | size on disk | test accuracy % | test errors | throughput (samples/s) | latency (µs) | agreement with teacher % |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {:.1} KiB | {} | {} | {:.0} | {:.0} | {:.2} |",
            r.label,
            r.parameters,
            r.bytes as f64 / 1024.0,
            r.accuracy.format(2),
            r.errors.format(1),
            r.throughput,
            r.latency_us,
            r.agreement
        );
    }
    s
}

/// What distillation did for a student, in plain words; when it did not help, the numbers that
/// say why (how small the student is, how well it fits even the labels alone).
pub fn verdict(
    alone: &Summary,
    distilled: &Summary,
    teacher_parameters: usize,
    soft_weight: f32,
) -> String {
    let gain = distilled.accuracy.mean - alone.accuracy.mean;
    let noise = alone.accuracy.std + distilled.accuracy.std;
    let helped = gain > noise && distilled.diverged == 0;
    let what = if distilled.diverged > 0 {
        format!(
            "{} distilled run(s) diverged (non-finite loss)",
            distilled.diverged
        )
    } else if helped {
        format!(
            "distillation helped: {:+.2} points of test accuracy ({:.1} fewer errors), more than the two standard deviations combined ({noise:.2})",
            gain,
            alone.errors.mean - distilled.errors.mean
        )
    } else if gain > 0.0 {
        format!(
            "distillation did not clearly help: {gain:+.2} points, within the two standard deviations combined ({noise:.2})"
        )
    } else {
        format!(
            "distillation did not help: {gain:+.2} points of test accuracy ({:.1} more errors)",
            distilled.errors.mean - alone.errors.mean
        )
    };
    let mut line = format!("- **{}**: {what}.", alone.spec);
    if !helped {
        let share = 100.0 * alone.parameters as f64 / teacher_parameters as f64;
        line.push_str(&format!(
            " It has {} parameters ({share:.1} % of the teacher's); on its training batches it reached {:.2} % alone and {:.2} % distilled.",
            alone.parameters, alone.train_accuracy.mean, distilled.train_accuracy.mean
        ));
        if alone.train_accuracy.mean < 97.0 {
            line.push_str(&format!(
                " A student that cannot fit even the labels has no capacity left to copy the teacher's \
                 finer similarities between classes; the soft term then competes with the labels, \
                 which keep only {:.0} % of the loss at soft weight {soft_weight}. A larger student gains, \
                 and docs/mnist_sweep.md shows lower soft weights and temperatures for this one.",
                100.0 * (1.0 - soft_weight)
            ));
        }
    }
    line
}

/// Hinton, Vinyals and Dean (2015), section 3: test errors on MNIST of the 784-1200-1200-10
/// teacher (dropout, ±2-pixel jitter), the 784-800-800-10 student alone, and the same student
/// distilled at T = 20.
const HINTON_ERRORS: [(&str, f64); 3] = [
    ("teacher", 67.0),
    ("student alone", 146.0),
    ("student distilled", 74.0),
];

/// Our test errors beside the paper's, for the `hinton` preset. `rows` are the summaries in
/// report order: the teacher, then the first student alone and distilled.
pub fn beside_hinton(rows: &[Summary]) -> String {
    let mut s = String::from(
        "\n## Beside the paper\n\nHinton et al. (2015) trained far longer (their figures are after \
         convergence; ours after the preset's epochs).\n\n| model | our test errors | the paper's |\n|---|---:|---:|\n",
    );
    for ((name, paper), row) in HINTON_ERRORS.iter().zip(rows) {
        let _ = writeln!(
            s,
            "| {name}: {} | {} | {paper:.0} |",
            row.spec,
            row.errors.format(1)
        );
    }
    s
}

fn epochs_json(epochs: &[EpochRecord]) -> Value {
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
                    "seconds": e.seconds,
                })
            })
            .collect(),
    )
}

fn run_json(r: &RunResult) -> Value {
    json!({
        "role": r.role,
        "model": r.spec.to_string(),
        "seed": r.seed,
        "parameters": r.parameters,
        "test_accuracy": r.test_accuracy,
        "test_errors": r.test_errors,
        "validation_accuracy": r.validation_accuracy,
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
            "teacher": config.teacher.to_string(),
            "teacher_epochs": config.teacher_epochs,
            "students": config.students.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            "epochs": config.epochs,
            "batch_size": config.batch_size,
            "lr": config.lr,
            "optimizer": format!("{:?}", config.optimizer),
            "temperature": config.temperature,
            "hard_weight": config.hard_weight,
            "soft_weight": config.soft_weight,
            "kd_method": format!("{:?}", config.kd_method),
            "seeds": config.seeds,
            "task": config.binary.map(|(a, b)| format!("binary:{a},{b}")),
            "validation_samples": config.validation,
        },
        "teacher": {
            "reused": teacher.reused,
            "expected_calibration_error": if teacher.calibration_error.is_finite() { json!(teacher.calibration_error) } else { Value::Null },
            "run": run_json(&teacher.result),
        },
        "students": students.iter().map(run_json).collect::<Vec<_>>(),
    });
    serde_json::to_string_pretty(&value).expect("JSON values serialise")
}

/// Test accuracy per epoch: the teacher, and each student alone and distilled (mean over seeds).
pub fn curves_svg(teacher: &[EpochRecord], series: &[(String, Vec<f64>)]) -> String {
    let mut all: Vec<(String, Vec<f64>)> = Vec::new();
    if !teacher.is_empty() {
        let t = teacher
            .iter()
            .filter_map(|e| e.eval.map(|v| 100.0 * v.accuracy))
            .collect();
        all.push(("teacher".to_string(), t));
    }
    all.extend(series.iter().cloned());
    let (w, h, pad) = (720.0, 420.0, 60.0);
    let epochs = all.iter().map(|(_, v)| v.len()).max().unwrap_or(1).max(2);
    let values: Vec<f64> = all.iter().flat_map(|(_, v)| v.iter().copied()).collect();
    let low = values
        .iter()
        .copied()
        .fold(100.0f64, f64::min)
        .floor()
        .max(0.0);
    let high = 100.0;
    let x = |i: usize| pad + (w - 2.0 * pad) * i as f64 / (epochs - 1) as f64;
    let y = |v: f64| h - pad - (h - 2.0 * pad) * (v - low) / (high - low).max(1e-9);
    let colours = [
        "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
    ];
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">Test accuracy per epoch (students: mean over seeds)</text>\n",
        w / 2.0
    );
    let _ = writeln!(
        s,
        "<line x1=\"{pad}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>",
        h - pad,
        w - pad,
        h - pad
    );
    let _ = writeln!(
        s,
        "<line x1=\"{pad}\" y1=\"{pad}\" x2=\"{pad}\" y2=\"{}\" stroke=\"black\"/>",
        h - pad
    );
    for k in 0..=4 {
        let v = low + (high - low) * k as f64 / 4.0;
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{v:.1} %</text><line x1=\"{pad}\" y1=\"{:.1}\" x2=\"{}\" y2=\"{:.1}\" stroke=\"#ddd\"/>",
            pad - 6.0, y(v) + 4.0, y(v), w - pad, y(v)
        );
    }
    for i in 0..epochs {
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            x(i),
            h - pad + 18.0,
            i + 1
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">epoch</text>",
        w / 2.0,
        h - 14.0
    );
    for (k, (name, v)) in all.iter().enumerate() {
        let colour = colours[k % colours.len()];
        let points: Vec<String> = v
            .iter()
            .enumerate()
            .map(|(i, &a)| format!("{:.1},{:.1}", x(i), y(a)))
            .collect();
        let _ = writeln!(
            s,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
            points.join(" ")
        );
        let ly = pad + 16.0 * k as f64;
        let _ = writeln!(
            s,
            "<line x1=\"{}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{colour}\" stroke-width=\"2\"/><text x=\"{}\" y=\"{}\">{name}</text>",
            w - pad - 230.0, w - pad - 210.0, w - pad - 205.0, ly + 4.0
        );
    }
    s.push_str("</svg>\n");
    s
}
