//! The runs of one model and role (the teacher; a student alone; the same student distilled) over
//! their seeds, as a row of the report's table, and the verdict on each student.

use kd::metrics::MeanStd;
use kd::ModelSpec;

use crate::diverged::{cell, over_finished, row_note};
use crate::output::markdown_table;
use crate::runs::{Metric, Role, RunResult};
use crate::verdict::{helped, verdict, Side};

/// The runs of one (model, role) over its seeds. The quality numbers are over the runs that
/// finished, in percent; the diverged ones are named in `diverged` (and in the label), never
/// averaged in.
pub struct Summary {
    pub label: String,
    pub spec: ModelSpec,
    pub role: Role,
    pub parameters: usize,
    pub bytes: u64,
    /// One per metric of the study, on the test set.
    pub test: Vec<MeanStd>,
    pub errors: MeanStd,
    /// The first metric on the validation split.
    pub validation: MeanStd,
    /// Accuracy on the training batches during the last epoch.
    pub train_accuracy: MeanStd,
    pub agreement: f64,
    pub throughput: f64,
    pub latency_us: f64,
    /// The seeds whose run diverged.
    pub diverged: Vec<u64>,
}

impl Summary {
    /// The verdict's side of this row: its first metric over the runs that finished.
    fn side(&self) -> Side<'_> {
        Side {
            finished: &self.test[0],
            diverged: &self.diverged,
        }
    }
}

/// The summary of `runs`, all of one model and role.
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
        label: format!(
            "{} {} ({}{})",
            first.role.name(),
            first.spec,
            runs.len(),
            row_note(&diverged)
        ),
        spec: first.spec.clone(),
        role: first.role,
        parameters: first.parameters,
        bytes: runs.iter().map(|r| r.checkpoint_bytes).max().unwrap_or(0),
        test: (0..first.test.len())
            .map(|m| of(&|r| 100.0 * r.test[m]))
            .collect(),
        errors: of(&|r| r.confusion.errors() as f64),
        validation: of(&|r| 100.0 * r.validation[0]),
        train_accuracy: of(&|r| {
            r.epochs
                .last()
                .map_or(f64::NAN, |e| 100.0 * e.train_accuracy)
        }),
        agreement: of(&|r| 100.0 * r.agreement).mean,
        // Speed belongs to the architecture, measured on every run, diverged or not.
        throughput: runs.iter().map(|r| r.speed.throughput).sum::<f64>() / n,
        latency_us: runs.iter().map(|r| r.speed.latency_us).sum::<f64>() / n,
        diverged,
    }
}

/// The Markdown table of the summaries: `metrics` on the test set, the first on the validation
/// split, then agreement, size and speed (`samples` names what one sample is).
pub fn table(rows: &[Summary], metrics: &[Metric], samples: &str) -> String {
    let mut headers = vec![
        "model (runs)".to_string(),
        "parameters".into(),
        "size on disk".into(),
    ];
    headers.extend(metrics.iter().map(|m| format!("test {} %", m.name)));
    headers.extend([
        "test errors".into(),
        format!("validation {} %", metrics[0].name),
        "agreement with teacher %".into(),
        format!("throughput ({samples}/s)"),
        "latency (µs)".into(),
    ]);
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut row = vec![
                r.label.clone(),
                r.parameters.to_string(),
                format!("{:.1} KiB", r.bytes as f64 / 1024.0),
            ];
            row.extend(r.test.iter().map(|m| cell(m, 2)));
            row.extend([
                cell(&r.errors, 1),
                cell(&r.validation, 2),
                if r.agreement.is_nan() {
                    "—".to_string()
                } else {
                    format!("{:.2}", r.agreement)
                },
                format!("{:.0}", r.throughput),
                format!("{:.0}", r.latency_us),
            ]);
            row
        })
        .collect();
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    markdown_table(&headers, &cells)
}

/// What distillation did for a student, by the study's first metric on the test set (`metric`
/// names it), over the runs that finished. Where it did not clearly help, the facts that may say
/// why: how small the student is beside the teacher (`teacher_parameters`), and how well it fit
/// its training batches; then `why`, the sentences `explain.rs` drew from the study's facts.
pub fn verdict_line(
    metric: &Metric,
    alone: &Summary,
    distilled: &Summary,
    teacher_parameters: usize,
    why: Option<String>,
) -> String {
    let (a, d) = (alone.side(), distilled.side());
    let what = format!("test {}", metric.name);
    let mut line = verdict(&alone.spec.to_string(), &what, a, d);
    if alone.test[0].n == 0 || distilled.test[0].n == 0 {
        return line;
    }
    line.push_str(&format!(
        " Test errors {} alone, {} distilled.",
        alone.errors.format(1),
        distilled.errors.format(1)
    ));
    if helped(a, d) {
        return line;
    }
    let share = 100.0 * alone.parameters as f64 / teacher_parameters as f64;
    line.push_str(&format!(
        " It has {} parameters ({share:.1} % of the teacher's); on its training batches it reached \
         {:.2} % alone and {:.2} % distilled.",
        alone.parameters, alone.train_accuracy.mean, distilled.train_accuracy.mean
    ));
    if let Some(why) = why {
        line.push(' ');
        line.push_str(&why);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diverged::Divergence;
    use crate::measure::Speed;
    use crate::runs::{ACCURACY, MACRO_F1};

    /// One run of `mlp:10,10` scoring `score` (a fraction) on both metrics; `diverged` marks it.
    fn run(role: Role, seed: u64, score: f64, diverged: bool) -> RunResult {
        RunResult {
            role,
            spec: "mlp:10,10".parse().unwrap(),
            seed,
            parameters: 8_070,
            epochs: Vec::new(),
            diverged: diverged.then_some(Divergence::Loss { epoch: 1, batch: 3 }),
            test: vec![score, score],
            validation: vec![score, score],
            agreement: score,
            confusion: kd::metrics::ConfusionMatrix::from_predictions(&[0], &[0], 10),
            checkpoint: None,
            checkpoint_bytes: 0,
            speed: Speed {
                throughput: 1.0,
                latency_us: 1.0,
            },
        }
    }

    fn side(role: Role, scores: [f64; 3], diverged_seed: Option<u64>) -> Summary {
        let runs: Vec<RunResult> = (0..3)
            .map(|s| run(role, s, scores[s as usize], diverged_seed == Some(s)))
            .collect();
        summarise(&runs.iter().collect::<Vec<_>>())
    }

    /// A diverged run on either side is marked in the table, left out of its row's mean (which is
    /// the finished runs' mean, by hand: (0.80 + 0.82) / 2 = 0.81), and named in the verdict.
    #[test]
    fn diverged_runs_are_marked_left_out_and_named_on_either_side() {
        // The student alone diverged at seed 2 (its broken model scored 0.10).
        let alone = side(Role::Alone, [0.80, 0.82, 0.10], Some(2));
        let distilled = side(Role::Distilled, [0.83, 0.84, 0.85], None);
        assert_eq!((alone.test[0].n, alone.diverged.clone()), (2, vec![2]));
        assert!((alone.test[0].mean - 81.0).abs() < 1e-9, "{:?}", alone.test);
        let v = verdict_line(&ACCURACY, &alone, &distilled, 400_000, None);
        assert!(v.contains("The alone run of seed 2 diverged"), "{v}");
        assert!(v.contains("81.00 ± 1.41 → 84.00 ± 1.00"), "{v}");
        assert!(v.contains("test accuracy"), "{v}");
        let t = table(&[alone, distilled], &[ACCURACY, MACRO_F1], "images");
        assert!(
            t.contains("| alone mlp:10,10 (3; seed 2 diverged, left out) |"),
            "{t}"
        );

        // The distilled student diverged at seed 0: left out, and distillation not called a help.
        let alone = side(Role::Alone, [0.80, 0.81, 0.79], None);
        let distilled = side(Role::Distilled, [0.10, 0.90, 0.92], Some(0));
        assert!((distilled.test[0].mean - 91.0).abs() < 1e-9);
        let v = verdict_line(&ACCURACY, &alone, &distilled, 400_000, None);
        assert!(v.contains("The distilled run of seed 0 diverged"), "{v}");
        assert!(!v.contains("distillation helped"), "{v}");
        let t = table(&[alone, distilled], &[ACCURACY, MACRO_F1], "images");
        assert!(
            t.contains("distilled mlp:10,10 (3; seed 0 diverged, left out)"),
            "{t}"
        );
    }

    /// The table has a column per metric, named by it, and the headline metric on the validation
    /// split; an explanation is added only where distillation did not clearly help.
    #[test]
    fn columns_follow_the_metrics_and_explanations_only_the_misses() {
        let alone = side(Role::Alone, [0.70, 0.71, 0.72], None);
        let distilled = side(Role::Distilled, [0.80, 0.81, 0.82], None);
        let t = table(&[alone, distilled], &[MACRO_F1, ACCURACY], "signals");
        let header = t.lines().next().unwrap();
        assert!(
            header.contains(
                "| test macro-F1 % | test accuracy % | test errors | validation macro-F1 % |"
            ),
            "{header}"
        );
        assert!(header.contains("throughput (signals/s)"), "{header}");
        // Ten columns: the model, then nine right-aligned numbers.
        assert_eq!(t.lines().nth(1).unwrap().matches("---:").count(), 9, "{t}");

        let (alone, distilled) = (
            side(Role::Alone, [0.70, 0.71, 0.72], None),
            side(Role::Distilled, [0.80, 0.81, 0.82], None),
        );
        let why = || Some("WHY".to_string());
        let helped = verdict_line(&MACRO_F1, &alone, &distilled, 1000, why());
        assert!(
            helped.contains("distillation helped") && !helped.contains("WHY"),
            "{helped}"
        );
        let missed = verdict_line(&MACRO_F1, &distilled, &alone, 1000, why());
        assert!(missed.ends_with(" WHY"), "{missed}");
        assert!(missed.contains("(807.0 % of the teacher's)"), "{missed}");
    }
}
