//! What a run leaves behind, in `--out`: `report.md` (the table, the verdict and the exact
//! command), `results.json` (every number, per seed and per epoch, each loss term on its own),
//! `curves.svg` (test accuracy per epoch), `confusion.md` (confusion matrices), besides the
//! checkpoints. Every file is written to a temporary name and renamed (`kd_app::write_atomic`).

use kd::metrics::MeanStd;
use kd_app::{cell, epochs_json, markdown_table, over_finished, row_note, typed, Side};
use serde_json::{json, Value};

use crate::config::Config;
use crate::pipeline::{RunResult, TeacherOutcome};

/// The runs of one role (the teacher, the student alone, the student distilled) over its seeds.
/// The quality numbers are over the runs that finished; the diverged ones are named in `diverged`
/// (and in the label), never averaged in.
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
    /// The seeds whose run diverged.
    pub diverged: Vec<u64>,
}

pub fn summarise(runs: &[&RunResult]) -> Summary {
    let first = runs[0];
    let n = runs.len() as f64;
    let finished: Vec<&RunResult> = runs
        .iter()
        .copied()
        .filter(|r| r.diverged.is_none())
        .collect();
    let of = |f: &dyn Fn(&RunResult) -> f64| {
        over_finished(&finished.iter().map(|r| 100.0 * f(r)).collect::<Vec<_>>())
    };
    let diverged: Vec<u64> = runs
        .iter()
        .filter(|r| r.diverged.is_some())
        .map(|r| r.seed)
        .collect();
    Summary {
        label: format!(
            "{} {} ({}{})",
            first.role,
            first.spec,
            runs.len(),
            row_note(&diverged)
        ),
        parameters: first.parameters,
        bytes: runs.iter().map(|r| r.checkpoint_bytes).max().unwrap_or(0),
        accuracy: of(&|r| r.test.accuracy),
        macro_f1: of(&|r| r.test.macro_f1),
        validation_macro_f1: of(&|r| r.validation.macro_f1),
        agreement: of(&|r| r.agreement).mean,
        // Speed belongs to the architecture, measured on every run, diverged or not.
        throughput: runs.iter().map(|r| r.speed.throughput).sum::<f64>() / n,
        latency_us: runs.iter().map(|r| r.speed.latency_us).sum::<f64>() / n,
        diverged,
    }
}

/// What distillation did for the student, by test macro-F1 over the runs that finished (the
/// diverged ones named and left out).
pub fn verdict(student: &str, alone: &Summary, distilled: &Summary) -> String {
    kd_app::verdict(
        student,
        "test macro-F1",
        Side {
            finished: &alone.macro_f1,
            diverged: &alone.diverged,
        },
        Side {
            finished: &distilled.macro_f1,
            diverged: &distilled.diverged,
        },
    )
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
                cell(&r.accuracy, 2),
                cell(&r.macro_f1, 2),
                cell(&r.validation_macro_f1, 2),
                if r.agreement.is_nan() {
                    "—".to_string()
                } else {
                    format!("{:.2}", r.agreement)
                },
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
        "diverged": r.diverged.map(kd_app::Divergence::json),
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
    data: &str,
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
            "data": data,
            "data_dir": config.data_dir.display().to_string(),
            "teacher": config.teacher.to_string(),
            "teacher_mixup_alpha": config.teacher_mixup.map(typed),
            "teacher_shift": config.teacher_shift,
            "teacher_epochs": config.teacher_epochs,
            "teacher_lr": typed(config.teacher_lr),
            "student": config.student.to_string(),
            "epochs": config.epochs,
            "batch_size": config.batch_size,
            "lr": typed(config.lr),
            "temperature": typed(config.temperature),
            "hard_weight": typed(config.hard_weight),
            "soft_weight": typed(config.soft_weight),
            "mae_weight": typed(config.mae_weight),
            "mixup_alpha": config.mixup.map(typed),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Scores;

    fn run(role: &'static str, seed: u64, macro_f1: f64, diverged: bool) -> RunResult {
        let scores = Scores {
            accuracy: macro_f1,
            macro_f1,
        };
        RunResult {
            role,
            spec: "cnn1d:8,8,fc=8".parse().unwrap(),
            seed,
            parameters: 1_114,
            epochs: Vec::new(),
            diverged: diverged.then_some(kd_app::Divergence::Outputs),
            test: scores,
            validation: scores,
            agreement: macro_f1,
            confusion: kd::metrics::ConfusionMatrix::from_predictions(&[0], &[0], 10),
            checkpoint: None,
            checkpoint_bytes: 0,
            speed: kd_app::Speed {
                throughput: 1.0,
                latency_us: 1.0,
            },
        }
    }

    fn side(role: &'static str, f1: [f64; 3], diverged_seed: Option<u64>) -> Summary {
        let runs: Vec<RunResult> = (0..3)
            .map(|s| run(role, s, f1[s as usize], diverged_seed == Some(s)))
            .collect();
        summarise(&runs.iter().collect::<Vec<_>>())
    }

    /// A diverged run on either side is marked in the table, left out of its row's mean (by hand:
    /// (0.70 + 0.72) / 2 = 71 %), and named in the verdict.
    #[test]
    fn diverged_runs_are_marked_left_out_and_named_on_either_side() {
        let alone = side("alone", [0.70, 0.72, 0.02], Some(2));
        let distilled = side("distilled", [0.80, 0.81, 0.82], None);
        assert!(
            (alone.macro_f1.mean - 71.0).abs() < 1e-9,
            "{:?}",
            alone.macro_f1
        );
        let v = verdict("s", &alone, &distilled);
        assert!(v.contains("The alone run of seed 2 diverged"), "{v}");
        assert!(v.contains("71.00 ± 1.41 → 81.00 ± 1.00"), "{v}");
        let t = table(&[alone, distilled]);
        assert!(
            t.contains("alone cnn1d:8,8,fc=8 (3; seed 2 diverged, left out)"),
            "{t}"
        );

        let alone = side("alone", [0.70, 0.71, 0.69], None);
        let distilled = side("distilled", [0.80, 0.02, 0.82], Some(1));
        let v = verdict("s", &alone, &distilled);
        assert!(v.contains("The distilled run of seed 1 diverged"), "{v}");
        assert!(!v.contains("distillation helped"), "{v}");
        assert!(table(&[alone, distilled]).contains("(3; seed 1 diverged, left out)"));
    }
}
