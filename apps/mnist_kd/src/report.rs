//! What a run leaves behind, in `--out`: `report.md` (the table and the exact command),
//! `results.json` (every number, per seed and per epoch, each loss term on its own), `curves.svg`
//! (test accuracy per epoch), `confusion.md` (confusion matrices), besides the checkpoints.
//! Every file is written to a temporary name and renamed (`kd_app::write_atomic`), so an
//! interrupted run never leaves a half-written report in place of a complete earlier one.

use std::fmt::Write as _;

use kd::metrics::MeanStd;
use kd::ModelSpec;
use kd_app::{cell, epochs_json, over_finished, row_note, typed, Side};
use serde_json::{json, Value};

use crate::config::{Config, KdMethod};
use crate::pipeline::{RunResult, TeacherOutcome};

/// The rows of one (student, role) over its seeds. The quality numbers are over the runs that
/// finished; the diverged ones are named in `diverged` (and in the label), never averaged in.
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
        over_finished(&finished.iter().map(|r| f(r)).collect::<Vec<_>>())
    };
    let diverged: Vec<u64> = runs
        .iter()
        .filter(|r| r.diverged.is_some())
        .map(|r| r.seed)
        .collect();
    Summary {
        label: format!("{} ({}{})", first.spec, first.role, row_note(&diverged)),
        spec: first.spec.clone(),
        parameters: first.parameters,
        bytes: runs.iter().map(|r| r.checkpoint_bytes).max().unwrap_or(0),
        accuracy: of(&|r| 100.0 * r.test_accuracy),
        errors: of(&|r| r.test_errors as f64),
        // Speed belongs to the architecture, measured on every run, diverged or not.
        throughput: runs.iter().map(|r| r.speed.throughput).sum::<f64>() / n,
        latency_us: runs.iter().map(|r| r.speed.latency_us).sum::<f64>() / n,
        agreement: of(&|r| 100.0 * r.agreement).mean,
        train_accuracy: of(&|r| {
            r.epochs
                .last()
                .map_or(f64::NAN, |e| 100.0 * e.train_accuracy)
        }),
        diverged,
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
            "| {} | {} | {:.1} KiB | {} | {} | {:.0} | {:.0} | {} |",
            r.label,
            r.parameters,
            r.bytes as f64 / 1024.0,
            cell(&r.accuracy, 2),
            cell(&r.errors, 1),
            r.throughput,
            r.latency_us,
            if r.agreement.is_nan() {
                "—".to_string()
            } else {
                format!("{:.2}", r.agreement)
            }
        );
    }
    s
}

/// What distillation did for a student, in plain words, over the runs that finished (the diverged
/// ones named and left out); when it did not help, the numbers that say why (how small the
/// student is, how well it fits even the labels alone).
pub fn verdict(
    alone: &Summary,
    distilled: &Summary,
    teacher_parameters: usize,
    config: &Config,
) -> String {
    let sides = (
        Side {
            finished: &alone.accuracy,
            diverged: &alone.diverged,
        },
        Side {
            finished: &distilled.accuracy,
            diverged: &distilled.diverged,
        },
    );
    let mut line = kd_app::verdict(&alone.spec.to_string(), "test accuracy", sides.0, sides.1);
    if alone.accuracy.n == 0 || distilled.accuracy.n == 0 {
        return line;
    }
    line.push_str(&format!(
        " Test errors {} alone, {} distilled.",
        alone.errors.format(1),
        distilled.errors.format(1)
    ));
    if kd_app::helped(sides.0, sides.1) {
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
            cell(&row.errors, 1)
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
            "teacher_epochs": config.teacher_epochs,
            "students": config.students.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            "epochs": config.epochs,
            "batch_size": config.batch_size,
            "lr": typed(config.lr),
            "optimizer": format!("{:?}", config.optimizer),
            "temperature": typed(config.temperature),
            "hard_weight": typed(config.hard_weight),
            "soft_weight": typed(config.soft_weight),
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
            diverged: Vec::new(),
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

    /// One run of `mlp:10,10` with test accuracy `accuracy` (a fraction); `diverged` marks it.
    fn run(role: &'static str, seed: u64, accuracy: f64, diverged: bool) -> RunResult {
        RunResult {
            role,
            spec: "mlp:10,10".parse().unwrap(),
            seed,
            parameters: 8_070,
            epochs: Vec::new(),
            diverged: diverged.then_some(kd_app::Divergence::Loss { epoch: 1, batch: 3 }),
            test_accuracy: accuracy,
            test_errors: (1000.0 * (1.0 - accuracy)).round() as usize,
            validation_accuracy: accuracy,
            agreement: accuracy,
            confusion: kd::metrics::ConfusionMatrix::from_predictions(&[0], &[0], 10),
            checkpoint: None,
            checkpoint_bytes: 0,
            speed: kd_app::Speed {
                throughput: 1.0,
                latency_us: 1.0,
            },
        }
    }

    fn side(role: &'static str, accuracies: [f64; 3], diverged_seed: Option<u64>) -> Summary {
        let runs: Vec<RunResult> = (0..3)
            .map(|s| run(role, s, accuracies[s as usize], diverged_seed == Some(s)))
            .collect();
        summarise(&runs.iter().collect::<Vec<_>>())
    }

    /// A diverged run on either side is marked in the table, left out of its row's mean (which is
    /// the finished runs' mean, by hand: (0.80 + 0.82) / 2 = 81 %), and named in the verdict.
    #[test]
    fn diverged_runs_are_marked_left_out_and_named_on_either_side() {
        // The student alone diverged at seed 2 (its broken model scored 10 %).
        let alone = side("alone", [0.80, 0.82, 0.10], Some(2));
        let distilled = side("distilled", [0.83, 0.84, 0.85], None);
        assert_eq!((alone.accuracy.n, alone.diverged.clone()), (2, vec![2]));
        assert!(
            (alone.accuracy.mean - 81.0).abs() < 1e-9,
            "{:?}",
            alone.accuracy
        );
        let v = verdict(&alone, &distilled, 400_000, &config());
        assert!(v.contains("The alone run of seed 2 diverged"), "{v}");
        assert!(v.contains("81.00 ± 1.41 → 84.00 ± 1.00"), "{v}");
        let t = table(&[alone, distilled]);
        assert!(
            t.contains("mlp:10,10 (alone; seed 2 diverged, left out)"),
            "{t}"
        );

        // The distilled student diverged at seed 0: left out, and distillation not called a help.
        let alone = side("alone", [0.80, 0.81, 0.79], None);
        let distilled = side("distilled", [0.10, 0.90, 0.92], Some(0));
        assert!((distilled.accuracy.mean - 91.0).abs() < 1e-9);
        let v = verdict(&alone, &distilled, 400_000, &config());
        assert!(v.contains("The distilled run of seed 0 diverged"), "{v}");
        assert!(!v.contains("distillation helped"), "{v}");
        let t = table(&[alone, distilled]);
        assert!(
            t.contains("mlp:10,10 (distilled; seed 0 diverged, left out)"),
            "{t}"
        );
    }
}
