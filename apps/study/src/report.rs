//! What a study leaves behind, in its output folder: `report.md` (the table, the verdicts and the
//! exact command), `results.json` (every number, per seed and per epoch, each loss term on its
//! own), `curves.svg` (test accuracy per epoch, `curves.rs`), `confusion.md` (confusion
//! matrices), besides the checkpoints. Every file is written to a temporary name and renamed
//! (`write_atomic`), so an interrupted run never leaves a half-written report in place of a
//! complete earlier one.

use kd::Combine;
use serde_json::{json, Value};

use crate::app::Study;
use crate::curves::{curves_svg, Band, Chart, Panel};
use crate::data::Splits;
use crate::ensemble::Teachers;
use crate::ensemble_plan::combine_name;
use crate::explain::{explain, soft_target_entropy, Facts, WeightsSource};
use crate::output::{epochs_json, machine, typed, write_atomic};
use crate::per_class;
use crate::runs::{scores_text, Metric, Role, RunResult};
use crate::settings::{recipe_text, Settings};
use crate::summary::{summarise, table, verdict_line, Summary};
use crate::teacher::{KeptEpoch, TeacherOutcome};
use crate::tuned::Choice;

/// What a study measured: the teacher (or the ensemble and its members), every student run, and
/// how long it all took.
pub struct Outcome<'a> {
    pub teachers: &'a Teachers,
    /// The tuning the distilled runs used (`tune`), if any.
    pub tuning: Option<&'a Choice>,
    pub students: &'a [RunResult],
    pub wall_seconds: f64,
}

/// Writes the four report files into `settings.out` and prints the table and the verdicts.
pub fn write_reports(
    study: &dyn Study,
    settings: &Settings,
    splits: &Splits,
    outcome: Outcome,
) -> Result<(), String> {
    let metrics = study.metrics();
    let teacher = outcome.teachers.taught_by();
    let mut rows = vec![members_row(outcome.teachers)];
    let mut verdicts = Vec::new();
    let mut panels = Vec::new();
    for spec in &settings.students {
        let runs = |role: Role| -> Vec<&RunResult> {
            outcome
                .students
                .iter()
                .filter(|r| r.spec == *spec && r.role == role)
                .collect()
        };
        let (alone, distilled) = (runs(Role::Alone), runs(Role::Distilled));
        let (a, d) = (summarise(&alone), summarise(&distilled));
        let facts = Facts {
            teacher_validation: 100.0 * teacher.result.validation[0],
            alone_validation: a.validation.mean,
            train_alone: a.train_accuracy.mean,
            train_distilled: d.train_accuracy.mean,
            soft_entropy: soft_target_entropy(
                &teacher.validation_logits,
                settings.weights.temperature,
            ),
            temperature: settings.weights.temperature,
            source: settings.weights_source.clone(),
            app: study.name().to_string(),
        };
        let why = explain(&facts);
        verdicts.push(verdict_line(
            &metrics[0],
            &a,
            &d,
            teacher.result.parameters,
            Some(why),
        ));
        panels.push(Panel {
            title: spec.to_string(),
            alone: finished_band(&alone),
            distilled: finished_band(&distilled),
        });
        rows.extend([a, d]);
    }
    let mut extra = study.extra_sections(&rows);
    if let Some(ensemble) = ensemble_row(outcome.teachers) {
        rows.insert(1, ensemble);
    }
    let table = table(&rows, metrics, splits.samples);
    if let Some(tuning) = outcome.tuning {
        extra.push_str(&tuning_section(tuning));
    }
    let record = Record {
        study,
        settings,
        splits,
        outcome: &outcome,
        command: std::env::args().collect::<Vec<_>>().join(" "),
        machine: machine(),
    };
    let mut md = record.header();
    md.push_str(&format!("\n{table}\n{}\n{extra}", verdicts.join("\n")));
    md.push_str(&per_class::section(
        &settings.students,
        outcome.students,
        &splits.class_names,
    ));
    let out = &settings.out;
    write_atomic(&out.join("report.md"), &md)?;
    write_atomic(&out.join("results.json"), &record.results_json())?;
    let chart = Chart {
        title: format!(
            "{}: test accuracy per epoch (mean ± 1 std over the seeds that finished)",
            splits.name
        ),
        panels,
        teacher: 100.0 * teacher.result.confusion.accuracy(),
    };
    write_atomic(&out.join("curves.svg"), &curves_svg(&chart))?;
    write_atomic(
        &out.join("confusion.md"),
        &confusion_md(
            &splits.name,
            &splits.class_names,
            &settings.ensemble.describe(&settings.teacher),
            &teacher.result,
            outcome.students,
        ),
    )?;
    println!(
        "\n{table}\n{}\n{extra}\nWritten to {}: report.md, results.json, curves.svg, confusion.md, \
         checkpoints.",
        verdicts.join("\n"),
        out.display()
    );
    Ok(())
}

/// The table's first row: the teacher, or an ensemble's members over their seeds (each one
/// teacher, so the row says what one teacher scores).
fn members_row(teachers: &Teachers) -> Summary {
    let members: Vec<&RunResult> = teachers.members.iter().map(|m| &m.result).collect();
    summarise(&members)
}

/// An ensemble's row, after its members': the teacher the students learn from, scored as one
/// model. `None` for one teacher.
fn ensemble_row(teachers: &Teachers) -> Option<Summary> {
    let ensemble = teachers.ensemble.as_ref()?;
    let mut row = summarise(&[&ensemble.result]);
    row.label = format!(
        "ensemble of {} × {} ({} averaged)",
        teachers.members.len(),
        ensemble.result.spec,
        combine_name(teachers.combine)
    );
    Some(row)
}

/// The curves average the runs that finished, as the table does.
fn finished_band(runs: &[&RunResult]) -> Band {
    let epochs: Vec<&[kd::EpochRecord]> = runs
        .iter()
        .filter(|r| r.diverged.is_none())
        .map(|r| r.epochs.as_slice())
        .collect();
    Band::test_accuracy(&epochs)
}

/// Everything the files that describe a study are written from.
struct Record<'a> {
    study: &'a dyn Study,
    settings: &'a Settings,
    splits: &'a Splits,
    outcome: &'a Outcome<'a>,
    /// The command line, as typed.
    command: String,
    machine: String,
}

impl Record<'_> {
    /// report.md's title and settings, before the table.
    fn header(&self) -> String {
        let (study, s, splits, outcome) = (self.study, self.settings, self.splits, self.outcome);
        let (command, machine) = (&self.command, &self.machine);
        let teacher = outcome.teachers.taught_by();
        let w = &s.weights;
        let mut lines = vec![
            format!("Command: `{command}`"),
            format!("Machine: {machine}"),
            format!("Wall time: {:.0} s", outcome.wall_seconds),
            format!(
            "Data: {}: {} training {samples} ({} more held out for validation, never trained on), \
             {} test {samples}",
            splits.name,
            splits.train.len(),
            splits.validation.len(),
            splits.test.len(),
            samples = splits.samples
        ),
        ];
        lines.extend(teacher_lines(s, outcome.teachers, study.metrics()));
        lines.extend([
            format!(
                "Students: {} epochs, batch {}, {}; {} seeds (the same initialisation alone and \
             distilled); mean ± std over the seeds, last epoch",
                s.student_recipe.epochs,
                s.batch_size,
                recipe_text(&s.student_recipe),
                s.seeds
            ),
            format!(
                "Distilled: T = {}, hard weight {}, soft weight {} ({})",
                w.temperature,
                w.hard_weight,
                w.soft_weight,
                match &s.weights_source {
                    WeightsSource::Preset => "the preset's, not tuned on this data".to_string(),
                    WeightsSource::CommandLine => "given on the command line".to_string(),
                    WeightsSource::Tuned(file) => format!(
                        "chosen on the validation split by `{} tune`, {file}; every alternative \
                         it measured is under *Tuning* below",
                        study.name()
                    ),
                }
            ),
        ]);
        lines.extend(study.describe(teacher));
        format!(
            "# {}: {} preset ({})\n\n{}\n",
            study.name(),
            s.preset,
            splits.name,
            lines.join("  \n")
        )
    }

    /// Everything, as JSON: the settings (the driver's and the app's), the teacher, every student
    /// run.
    fn results_json(&self) -> String {
        let (study, s, splits, outcome) = (self.study, self.settings, self.splits, self.outcome);
        let (command, machine) = (&self.command, &self.machine);
        let mut config = json!({
            "preset": s.preset,
            "data": splits.name,
            "data_dir": s.data_dir.display().to_string(),
            "teacher": s.teacher.to_string(),
            "teacher_epochs": s.teacher_recipe.epochs,
            "epochs": s.student_recipe.epochs,
            "batch_size": s.batch_size,
            "lr": typed(s.student_recipe.lr),
            "temperature": typed(s.weights.temperature),
            "hard_weight": typed(s.weights.hard_weight),
            "soft_weight": typed(s.weights.soft_weight),
            "weights_from": match &s.weights_source {
                WeightsSource::Preset => "preset".to_string(),
                WeightsSource::CommandLine => "command line".to_string(),
                WeightsSource::Tuned(file) => format!("tuned: {file}"),
            },
            "teacher_patience": s.teacher_recipe.patience,
            "teachers": s.ensemble.members,
            "ensemble": combine_name(s.ensemble.combine),
            "seeds": s.seeds,
            "validation_samples": s.validation,
        });
        config
            .as_object_mut()
            .expect("an object")
            .extend(study.config_json(s));
        let metrics = study.metrics();
        let teachers = outcome.teachers;
        let mut teacher = study.teacher_json(teachers.taught_by());
        teacher.extend(teacher_json(teachers.taught_by(), metrics));
        if teachers.ensemble.is_some() {
            // The ensemble has no seed of its own: its members' are theirs.
            let run = teacher["run"].as_object_mut().expect("an object");
            run.remove("seed");
            teacher.insert(
                "ensemble".into(),
                json!({
                    "members": teachers.members.len(),
                    "combine": combine_name(teachers.combine),
                }),
            );
            let members: Vec<Value> = teachers
                .members
                .iter()
                .map(|m| Value::Object(teacher_json(m, metrics)))
                .collect();
            teacher.insert("members".into(), Value::Array(members));
        }
        let value = json!({
            "command": command,
            "machine": machine,
            "wall_seconds": outcome.wall_seconds,
            "config": config,
            "teacher": teacher,
            "students": outcome.students.iter().map(|r| run_json(r, metrics)).collect::<Vec<_>>(),
        });
        serde_json::to_string_pretty(&value).expect("JSON values serialise")
    }
}

/// One teacher (a member, or the ensemble) as results.json's "teacher" records it: reused or
/// trained, the epoch kept, and its run.
fn teacher_json(t: &TeacherOutcome, metrics: &[Metric]) -> serde_json::Map<String, Value> {
    let kept = t.kept.map(|k| {
        json!({
            "kept_epoch": k.kept,
            "epochs_run": k.run,
            "validation_accuracy_kept": k.validation_kept,
            "validation_accuracy_last": k.validation_last,
            "test_accuracy_last": k.test_last,
        })
    });
    serde_json::Map::from_iter([
        ("reused".to_string(), json!(t.reused)),
        ("best_on_validation".to_string(), json!(kept)),
        ("run".to_string(), run_json(&t.result, metrics)),
    ])
}

/// report.md's lines on the teacher. One teacher: one line. An ensemble: a line on the ensemble,
/// then one per member.
fn teacher_lines(s: &Settings, teachers: &Teachers, metrics: &[Metric]) -> Vec<String> {
    let Some(ensemble) = &teachers.ensemble else {
        let teacher = &teachers.members[0];
        return vec![format!(
            "Teacher: {}{}, {} parameters, {}, {}; {}",
            s.teacher,
            if teacher.reused {
                " (reused from its checkpoint)"
            } else {
                ""
            },
            teacher.result.parameters,
            epochs_text(s.teacher_recipe.epochs, teacher.kept),
            recipe_text(&s.teacher_recipe),
            scores_text(metrics, &teacher.result.test)
        )];
    };
    let n = teachers.members.len();
    let how = match teachers.combine {
        Combine::Probabilities => {
            "the members' softened probabilities averaged at each temperature (Hinton et al.'s \
             ensemble)"
        }
        Combine::Logits => "the members' logits averaged, then softened",
    };
    let mut lines = vec![format!(
        "Teacher: an ensemble of {n} × {}, trained from seeds 1 to {n} with the same recipe ({}); \
         {how}; {} parameters in all; the ensemble, predicting the class of its largest combined \
         output: {}",
        s.teacher,
        recipe_text(&s.teacher_recipe),
        ensemble.result.parameters,
        scores_text(metrics, &ensemble.result.test)
    )];
    for member in &teachers.members {
        lines.push(format!(
            "Teacher {} of {n} (seed {}{}): {}; {}; agreement with the ensemble {:.2} %",
            member.result.seed,
            member.result.seed,
            if member.reused {
                ", reused from its checkpoint"
            } else {
                ""
            },
            epochs_text(s.teacher_recipe.epochs, member.kept),
            scores_text(metrics, &member.result.test),
            100.0 * member.result.agreement
        ));
    }
    lines
}

/// One run as JSON: its scores on both sets, its divergence, speed, checkpoint and epochs.
fn run_json(r: &RunResult, metrics: &[Metric]) -> Value {
    let mut value = json!({
        "role": r.role.name(),
        "model": r.spec.to_string(),
        "seed": r.seed,
        "parameters": r.parameters,
        "test_errors": r.confusion.errors(),
        "agreement_with_teacher": r.agreement,
        "diverged": r.diverged.map(crate::diverged::Divergence::json),
        "throughput_samples_per_s": r.speed.throughput,
        "latency_us": r.speed.latency_us,
        "checkpoint": r.checkpoint.as_ref().map(|p| p.display().to_string()),
        "checkpoint_bytes": r.checkpoint_bytes,
        "epochs": epochs_json(&r.epochs),
    });
    for (m, (test, validation)) in metrics.iter().zip(r.test.iter().zip(&r.validation)) {
        value[format!("test_{}", m.key)] = json!(test);
        value[format!("validation_{}", m.key)] = json!(validation);
    }
    value
}

/// The confusion matrices on the test set: the teacher's (`teacher_name`: the ensemble, for an
/// ensemble), and each student's of seed 0, the classes called by their names.
fn confusion_md(
    data: &str,
    names: &[String],
    teacher_name: &str,
    teacher: &RunResult,
    students: &[RunResult],
) -> String {
    let mut md = format!(
        "# Confusion matrices (rows: true class, columns: predicted), {data}: test set\n\n\
         ## teacher {teacher_name}\n\n{}\n",
        teacher.confusion.to_markdown_with(names)
    );
    for r in students.iter().filter(|r| r.seed == 0) {
        md.push_str(&format!(
            "\n## {} {} (seed 0{})\n\n{}\n",
            r.spec,
            r.role.name(),
            if r.diverged.is_some() {
                ", diverged"
            } else {
                ""
            },
            r.confusion.to_markdown_with(names)
        ));
    }
    md
}

/// The teacher's epochs as report.md states them: planned, and with a kept best epoch which one,
/// beside the last (each labelled).
fn epochs_text(planned: usize, kept: Option<KeptEpoch>) -> String {
    match kept {
        None => format!("{planned} epochs (the last kept)"),
        Some(k) if k.kept == k.run => format!(
            "{} epochs of at most {planned}; the last was also the best on validation ({:.2} %) \
             and is the one kept",
            k.run, k.validation_kept
        ),
        Some(k) => format!(
            "best epoch on validation kept: epoch {} of {} run (at most {planned}; validation \
             accuracy {:.2} %); the last epoch, {}: validation {:.2} %, test {:.2} %",
            k.kept, k.run, k.validation_kept, k.run, k.validation_last, k.test_last
        ),
    }
}

/// report.md's section on the tuning a run used: what was chosen, and every alternative measured
/// (the sweep's tables, without their title).
fn tuning_section(tuning: &Choice) -> String {
    let tables = tuning
        .markdown
        .split_once('\n')
        .map_or("", |(_title, rest)| rest);
    let beat = if tuning.gain > 0.0 {
        ""
    } else {
        " No setting of the grid beat the students alone on the validation split."
    };
    format!(
        "\n## Tuning (validation split)\n\nChosen: T = {}, soft weight {}, hard weight {}: the \
         largest gain over the students alone, averaged over the students ({:+.2} points of \
         validation accuracy).{beat}\n{tables}",
        tuning.weights.temperature,
        tuning.weights.soft_weight,
        tuning.weights.hard_weight,
        tuning.gain
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kept epoch and the last are each labelled; one phrase when they are the same epoch.
    #[test]
    fn the_teachers_epochs_say_which_was_kept_and_which_was_last() {
        let kept = |kept, run| KeptEpoch {
            kept,
            run,
            validation_kept: 99.4,
            validation_last: 99.32,
            test_last: 99.46,
        };
        assert_eq!(epochs_text(4, None), "4 epochs (the last kept)");
        let earlier = epochs_text(15, Some(kept(9, 12)));
        assert!(
            earlier.contains("best epoch on validation kept: epoch 9 of 12 run (at most 15")
                && earlier.contains("the last epoch, 12: validation 99.32 %, test 99.46 %"),
            "{earlier}"
        );
        let last = epochs_text(15, Some(kept(15, 15)));
        assert!(
            last.contains(
                "15 epochs of at most 15; the last was also the best on validation (99.40 %)"
            ),
            "{last}"
        );
    }
}
