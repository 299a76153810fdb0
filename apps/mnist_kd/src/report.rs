//! What a run leaves behind, in `--out`: `report.md` (the table and the exact command),
//! `results.json` (every number, per seed and per epoch, each loss term on its own), `curves.svg`
//! (test accuracy per epoch), `confusion.md` (confusion matrices), besides the checkpoints.
//! Every file is written to a temporary name and renamed (`kd_app::write_atomic`), so an
//! interrupted run never leaves a half-written report in place of a complete earlier one.

use std::fmt::Write as _;

use kd::metrics::MeanStd;
use kd::ModelSpec;
use kd_app::epochs_json;
use serde_json::{json, Value};

use crate::config::{Config, KdMethod};
use crate::pipeline::{RunResult, TeacherOutcome};

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
    config: &Config,
) -> String {
    let mut line = kd_app::verdict(
        &alone.spec.to_string(),
        "test accuracy",
        &alone.accuracy,
        &distilled.accuracy,
        distilled.diverged,
    );
    line.push_str(&format!(
        " Test errors {} alone, {} distilled.",
        alone.errors.format(1),
        distilled.errors.format(1)
    ));
    if kd_app::helped(&alone.accuracy, &distilled.accuracy, distilled.diverged) {
        return line;
    }
    let share = 100.0 * alone.parameters as f64 / teacher_parameters as f64;
    line.push_str(&format!(
        " It has {} parameters ({share:.1} % of the teacher's); on its training batches it reached \
         {:.2} % alone and {:.2} % distilled.",
        alone.parameters, alone.train_accuracy.mean, distilled.train_accuracy.mean
    ));
    let response = config.kd_method != KdMethod::Feature;
    if alone.train_accuracy.mean < 97.0 && response {
        let label_share = 100.0 * config.hard_weight / (config.hard_weight + config.soft_weight);
        line.push_str(&format!(
            " A student that cannot fit even the labels has little capacity left to copy the \
             teacher's finer similarities between classes, and the soft term competes with the \
             labels, which carry {label_share:.0} % of the loss's weight here (T = {}). \
             docs/mnist_sweep.md shows how this student fares at other temperatures and weights.",
            config.temperature
        ));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(accuracy: f64, train_accuracy: f64) -> Summary {
        let m = |mean| MeanStd {
            mean,
            std: 0.5,
            n: 3,
        };
        Summary {
            label: "s".into(),
            spec: "mlp:10,10".parse().unwrap(),
            parameters: 8_070,
            bytes: 0,
            accuracy: m(accuracy),
            errors: m(100.0 - accuracy),
            throughput: 0.0,
            latency_us: 0.0,
            agreement: 0.0,
            train_accuracy: m(train_accuracy),
            diverged: 0,
        }
    }

    fn config() -> Config {
        let cli = <crate::config::Cli as clap::Parser>::parse_from(["mnist_kd"]);
        Config::from_options(&cli.options).expect("the default configuration")
    }

    /// A verdict must not send readers to a file that is not there.
    #[test]
    fn verdict_cites_only_docs_that_exist() {
        let v = verdict(
            &summary(90.0, 92.0),
            &summary(89.0, 91.0),
            400_000,
            &config(),
        );
        assert!(v.contains("docs/"), "the explanation cites the sweep: {v}");
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for word in v.split_whitespace() {
            let word = word.trim_end_matches(['.', ',', ';']);
            if word.starts_with("docs/") {
                assert!(root.join(word).exists(), "{word} is cited but missing: {v}");
            }
        }
    }
}
