//! The validation sweep: which student, temperature and weights the default run uses, chosen on
//! held-out training images — never on the test set, which would make the reported test accuracy
//! an optimistic, tuned number rather than an estimate.
//!
//! For each student and seed: the student alone once, then the same initialisation distilled at
//! every (temperature, soft weight) of the grid, with hard weight = 1 − soft weight. Every run is
//! scored on the validation split (5 000 of the 60 000 training images, never trained on). The
//! result is `sweep.md` (a table per student, best first) and `sweep.json` in `--out`.

use std::fmt::Write as _;

use kd::metrics::MeanStd;
use kd::{ModelSpec, Teacher};
use kd_app::write_atomic;
use serde_json::json;

use crate::config::Config;
use crate::data::Splits;
use crate::pipeline::{train_student, EvalOn};

/// The grid of distillation settings.
pub struct Grid {
    pub temperatures: Vec<f32>,
    pub soft_weights: Vec<f32>,
}

/// One setting's validation accuracies over the seeds (`None` for the student alone).
struct Cell {
    spec: ModelSpec,
    setting: Option<(f32, f32)>,
    accuracies: Vec<f64>,
    diverged: usize,
}

impl Cell {
    fn summary(&self) -> MeanStd {
        MeanStd::of(&self.accuracies)
    }
}

/// Runs the sweep and writes its files; returns the Markdown.
pub fn run(
    config: &Config,
    splits: &Splits,
    teacher: &mut Teacher,
    grid: &Grid,
) -> Result<String, String> {
    let mut cells: Vec<Cell> = Vec::new();
    for spec in &config.students {
        let first = cells.len();
        cells.push(Cell {
            spec: spec.clone(),
            setting: None,
            accuracies: Vec::new(),
            diverged: 0,
        });
        for &t in &grid.temperatures {
            for &w in &grid.soft_weights {
                cells.push(Cell {
                    spec: spec.clone(),
                    setting: Some((t, w)),
                    accuracies: Vec::new(),
                    diverged: 0,
                });
            }
        }
        for seed in 0..config.seeds as u64 {
            for cell in &mut cells[first..] {
                let mut c = config.clone();
                let label = match cell.setting {
                    None => format!("{spec} alone seed {seed}"),
                    Some((t, w)) => {
                        c.temperature = t;
                        c.soft_weight = w;
                        c.hard_weight = 1.0 - w;
                        format!("{spec} T={t} soft={w} seed {seed}")
                    }
                };
                let (_, outcome) = train_student(
                    &c,
                    splits,
                    spec,
                    seed,
                    cell.setting.is_some().then_some(&mut *teacher),
                    &config.teacher,
                    EvalOn::Validation,
                    &label,
                )?;
                let last = outcome.epochs.last().and_then(|e| e.eval);
                match (outcome.diverged, last) {
                    (None, Some(eval)) => {
                        eprintln!(
                            "{label}: validation accuracy {:.2} %",
                            100.0 * eval.accuracy
                        );
                        cell.accuracies.push(100.0 * eval.accuracy);
                    }
                    _ => {
                        eprintln!("{label}: diverged");
                        cell.diverged += 1;
                    }
                }
            }
        }
    }
    let md = markdown(config, grid, &cells);
    write_atomic(&config.out.join("sweep.md"), &md)?;
    let json = json!({
        "command": std::env::args().collect::<Vec<_>>().join(" "),
        "validation_samples": splits.validation.len(),
        "epochs": config.epochs,
        "seeds": config.seeds,
        "teacher": config.teacher.to_string(),
        "cells": cells.iter().map(|c| json!({
            "student": c.spec.to_string(),
            "temperature": c.setting.map(|s| s.0),
            "soft_weight": c.setting.map(|s| s.1),
            "validation_accuracy_per_seed": c.accuracies,
            "diverged_runs": c.diverged,
        })).collect::<Vec<_>>(),
    });
    write_atomic(
        &config.out.join("sweep.json"),
        &serde_json::to_string_pretty(&json).expect("plain JSON"),
    )?;
    Ok(md)
}

fn markdown(config: &Config, grid: &Grid, cells: &[Cell]) -> String {
    let mut s = format!(
        "# mnist_kd sweep (validation split, never the test set)\n\n\
         Command: `{}`  \nTeacher: {}; students: {} epochs, batch {}, {:?} lr {}; {} seed(s); \
         temperatures {:?}, soft weights {:?} (hard weight = 1 − soft weight).  \n\
         Validation accuracy of the last epoch, mean ± std over seeds; \"gain\" is against the same \
         student alone.\n",
        std::env::args().collect::<Vec<_>>().join(" "),
        config.teacher,
        config.epochs,
        config.batch_size,
        config.optimizer,
        config.lr,
        config.seeds,
        grid.temperatures,
        grid.soft_weights,
    );
    for spec in &config.students {
        let mine: Vec<&Cell> = cells.iter().filter(|c| c.spec == *spec).collect();
        let alone = mine
            .iter()
            .find(|c| c.setting.is_none())
            .filter(|c| !c.accuracies.is_empty())
            .map(|c| c.summary());
        let mut rows: Vec<&&Cell> = mine.iter().filter(|c| !c.accuracies.is_empty()).collect();
        rows.sort_by(|a, b| b.summary().mean.total_cmp(&a.summary().mean));
        let _ = write!(
            s,
            "\n## {spec}\n\n| T | soft weight | hard weight | validation accuracy % | gain (points) |\n|---:|---:|---:|---:|---:|\n"
        );
        for c in rows {
            let m = c.summary();
            let gain = alone.map_or(String::from("—"), |a| format!("{:+.2}", m.mean - a.mean));
            let (t, w, h) = match c.setting {
                None => ("alone".into(), "—".into(), "1".into()),
                Some((t, w)) => (t.to_string(), w.to_string(), format!("{}", 1.0 - w)),
            };
            let _ = writeln!(s, "| {t} | {w} | {h} | {} | {gain} |", m.format(2));
        }
        for c in mine.iter().filter(|c| c.diverged > 0) {
            let _ = writeln!(
                s,
                "\n{} run(s) at {:?} diverged (non-finite loss).",
                c.diverged, c.setting
            );
        }
    }
    s
}
