//! The validation sweep: which temperature and weights a study's presets use, chosen on held-out
//! training samples — never on the test set, which would make the reported test score an
//! optimistic, tuned number rather than an estimate.
//!
//! For each student and seed: the student alone once, then the same initialisation distilled at
//! every (temperature, soft weight) of the grid, with hard weight = 1 − soft weight. Every run is
//! scored on the validation split (never trained on) by its accuracy after the last epoch. The
//! result is `sweep.md` (a table per student, best first) and `sweep.json` in the output folder.

use std::fmt::Write as _;
use std::path::Path;

use kd::metrics::MeanStd;
use kd::{ModelSpec, Teacher};
use serde_json::json;

use crate::app::Study;
use crate::data::Splits;
use crate::ensemble_plan::combine_name;
use crate::output::{typed, write_atomic};
use crate::settings::{complement, recipe_text, Settings, Weights};
use crate::train::{build, train, train_config, EvalOn};

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

/// What a sweep found: its Markdown (sweep.md) and the setting with the largest mean gain.
pub struct Swept {
    pub markdown: String,
    /// `(temperature, soft weight)` and its gain in points of validation accuracy over the
    /// students alone, averaged over the students; `None` when no setting finished everywhere.
    pub best: Option<((f32, f32), f64)>,
}

/// Runs the sweep and writes its files.
pub fn sweep(
    study: &dyn Study,
    settings: &Settings,
    splits: &Splits,
    teacher: &mut Teacher,
    grid: &Grid,
) -> Result<Swept, String> {
    let recipe = &settings.student_recipe;
    let mut cells: Vec<Cell> = Vec::new();
    for spec in &settings.students {
        let first = cells.len();
        let settings_of_grid = grid
            .temperatures
            .iter()
            .flat_map(|&t| grid.soft_weights.iter().map(move |&w| Some((t, w))));
        for setting in std::iter::once(None).chain(settings_of_grid) {
            cells.push(Cell {
                spec: spec.clone(),
                setting,
                accuracies: Vec::new(),
                diverged: 0,
            });
        }
        for seed in 0..settings.seeds as u64 {
            for cell in &mut cells[first..] {
                let (label, lesson) = match cell.setting {
                    None => (format!("{spec} alone seed {seed}"), None),
                    Some((t, w)) => {
                        let weights = Weights {
                            temperature: t,
                            hard_weight: complement(w),
                            soft_weight: w,
                        };
                        let loss = study.distilled(spec, &settings.teacher, seed, weights)?;
                        (
                            format!("{spec} T={t} soft={w} seed {seed}"),
                            Some((&mut *teacher, loss)),
                        )
                    }
                };
                let mut model = build(spec, splits, 1000 + seed)?;
                let config = train_config(recipe, settings.batch_size, seed);
                let outcome = train(
                    &mut model,
                    lesson,
                    recipe,
                    config,
                    splits,
                    EvalOn::Validation,
                    &label,
                );
                match (outcome.diverged, outcome.epochs.last().and_then(|e| e.eval)) {
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
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let header = format!(
        "# {} sweep (validation split, never the test set)\n\n\
         Command: `{command}`  \nTeacher: {}; students: {} epochs, batch {}, {}; {} seed(s); \
         temperatures {:?}, soft weights {:?} (hard weight = 1 − soft weight).  \n\
         Validation accuracy of the last epoch, mean ± std over seeds; \"gain\" is against the same \
         student alone.\n",
        study.name(),
        settings.ensemble.describe(&settings.teacher),
        recipe.epochs,
        settings.batch_size,
        recipe_text(recipe),
        settings.seeds,
        grid.temperatures,
        grid.soft_weights,
    );
    let md = markdown(&header, &settings.students, &cells);
    write_atomic(&settings.out.join("sweep.md"), &md)?;
    let json = json!({
        "command": command,
        "validation_samples": splits.validation.len(),
        "epochs": recipe.epochs,
        "seeds": settings.seeds,
        "teacher": settings.teacher.to_string(),
        "teachers": settings.ensemble.members,
        "ensemble": combine_name(settings.ensemble.combine),
        "cells": cells.iter().map(|c| json!({
            "student": c.spec.to_string(),
            "temperature": c.setting.map(|s| typed(s.0)),
            "soft_weight": c.setting.map(|s| typed(s.1)),
            "validation_accuracy_per_seed": c.accuracies,
            "diverged_runs": c.diverged,
        })).collect::<Vec<_>>(),
    });
    write_json(&settings.out.join("sweep.json"), &json)?;
    Ok(Swept {
        markdown: md,
        best: best_setting(&settings.students, &cells),
    })
}

/// The setting with the largest gain over each student alone (validation accuracy, mean over the
/// seeds), averaged over the students; a setting with a diverged run, or one a student could not
/// be compared on, is never chosen. Ties go to the first in the grid's order.
fn best_setting(students: &[ModelSpec], cells: &[Cell]) -> Option<((f32, f32), f64)> {
    let mut best: Option<((f32, f32), f64)> = None;
    let settings: Vec<(f32, f32)> = cells.iter().filter_map(|c| c.setting).collect();
    for setting in settings {
        let mut gains = Vec::new();
        for spec in students {
            let mine = |s: Option<(f32, f32)>| {
                cells
                    .iter()
                    .find(|c| c.spec == *spec && c.setting == s)
                    .filter(|c| c.diverged == 0 && !c.accuracies.is_empty())
            };
            if let (Some(alone), Some(cell)) = (mine(None), mine(Some(setting))) {
                gains.push(cell.summary().mean - alone.summary().mean);
            }
        }
        if gains.len() < students.len() {
            continue;
        }
        let gain = gains.iter().sum::<f64>() / gains.len() as f64;
        if best.is_none_or(|(_, g)| gain > g) {
            best = Some((setting, gain));
        }
    }
    best
}

fn write_json(path: &Path, value: &serde_json::Value) -> Result<(), String> {
    write_atomic(
        path,
        &serde_json::to_string_pretty(value).expect("plain JSON"),
    )
}

/// The mean for ranking; a setting with no finished run ranks below every other.
fn mean_or_lowest(c: &Cell) -> f64 {
    if c.accuracies.is_empty() {
        f64::NEG_INFINITY
    } else {
        c.summary().mean
    }
}

/// `header`, then a table per student, best setting first.
fn markdown(header: &str, students: &[ModelSpec], cells: &[Cell]) -> String {
    let mut s = header.to_string();
    for spec in students {
        let mine: Vec<&Cell> = cells.iter().filter(|c| c.spec == *spec).collect();
        let alone = mine
            .iter()
            .find(|c| c.setting.is_none())
            .filter(|c| !c.accuracies.is_empty())
            .map(|c| c.summary());
        // Best first; a setting with any diverged run goes last, whatever its survivors scored:
        // an unstable setting is not a candidate for a default.
        let mut rows: Vec<&&Cell> = mine.iter().collect();
        rows.sort_by(|a, b| {
            (a.diverged > 0).cmp(&(b.diverged > 0)).then(
                mean_or_lowest(b)
                    .partial_cmp(&mean_or_lowest(a))
                    .unwrap_or(std::cmp::Ordering::Equal),
            )
        });
        let _ = write!(
            s,
            "\n## {spec}\n\n| T | soft weight | hard weight | validation accuracy % | gain (points) | runs |\n|---:|---:|---:|---:|---:|---:|\n"
        );
        for c in rows {
            let (accuracy, gain) = if c.accuracies.is_empty() {
                ("—".to_string(), "—".to_string())
            } else {
                let m = c.summary();
                let gain =
                    alone.map_or(String::from("—"), |a| format!("{:+.2}", m.mean - a.mean));
                (m.format(2), gain)
            };
            let (t, w, h) = match c.setting {
                None => ("alone".into(), "—".into(), "1".into()),
                Some((t, w)) => (t.to_string(), w.to_string(), format!("{:.2}", 1.0 - w)),
            };
            let runs = c.accuracies.len() + c.diverged;
            let survived = if c.diverged > 0 {
                format!("{} of {runs} ({} diverged)", c.accuracies.len(), c.diverged)
            } else {
                runs.to_string()
            };
            let _ = writeln!(s, "| {t} | {w} | {h} | {accuracy} | {gain} | {survived} |");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The best setting has the largest gain averaged over the students, skips settings with a
    /// diverged run, and ties go to the first in the grid.
    #[test]
    fn the_best_setting_has_the_largest_mean_gain() {
        let (a, b): (ModelSpec, ModelSpec) = ("mlp:8".parse().unwrap(), "mlp:4".parse().unwrap());
        let cell = |spec: &ModelSpec, setting, accuracy: f64, diverged| Cell {
            spec: spec.clone(),
            setting,
            accuracies: vec![accuracy],
            diverged,
        };
        let cells = vec![
            cell(&a, None, 90.0, 0),
            cell(&a, Some((2.0, 0.5)), 91.0, 0), // +1
            cell(&a, Some((4.0, 0.9)), 93.0, 0), // +3
            cell(&a, Some((8.0, 0.9)), 99.0, 1), // diverged once: never chosen
            cell(&b, None, 80.0, 0),
            cell(&b, Some((2.0, 0.5)), 82.0, 0), // +2 → mean +1.5
            cell(&b, Some((4.0, 0.9)), 79.0, 0), // −1 → mean +1.0
            cell(&b, Some((8.0, 0.9)), 99.0, 0),
        ];
        let best = best_setting(&[a.clone(), b.clone()], &cells).unwrap();
        assert_eq!(best.0, (2.0, 0.5));
        assert!((best.1 - 1.5).abs() < 1e-12);
        // One student: +3 at T = 4 wins.
        assert_eq!(best_setting(&[a], &cells).unwrap().0, (4.0, 0.9));
    }

    /// A setting where 2 of 3 seeds diverged must not be ranked on its one surviving seed above
    /// settings that survived every seed, and its row must say how many runs it stands on.
    #[test]
    fn a_row_averaging_fewer_seeds_says_so_and_ranks_last() {
        let spec: ModelSpec = "mlp:32,32".parse().unwrap();
        let cell = |setting, accuracies: Vec<f64>, diverged| Cell {
            spec: spec.clone(),
            setting,
            accuracies,
            diverged,
        };
        let cells = vec![
            cell(None, vec![90.0, 90.5, 91.0], 0),
            cell(Some((4.0, 0.9)), vec![92.0, 92.5, 93.0], 0),
            cell(Some((8.0, 0.9)), vec![95.0], 2),
        ];
        let md = markdown("# sweep\n", std::slice::from_ref(&spec), &cells);
        let top = md
            .lines()
            .find(|l| l.starts_with("| 8 |"))
            .expect("a row for T = 8");
        assert!(
            top.contains("1 of 3"),
            "the T = 8 row hides that 2 seeds diverged:\n{md}"
        );
        let rows: Vec<&str> = md
            .lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| T"))
            .collect();
        assert!(
            rows.last().unwrap().starts_with("| 8 |"),
            "the unstable setting ranks last:\n{md}"
        );
        assert!(rows[0].starts_with("| 4 |"), "{md}");
        assert!(
            rows[0].contains("| 0.10 |"),
            "hard weight printed with two decimals:\n{md}"
        );
        // By hand: 92.5 − 90.5.
        assert!(rows[0].contains("| +2.00 |"), "{md}");
    }
}
