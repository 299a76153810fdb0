//! The driver: one study, from the command line to the report files, the same for every app.
//!
//! 1. Check what can be checked before anything is loaded; start the thread pool.
//! 2. Load the app's data and split it; create the output folder.
//! 3. The teacher: train it, or reuse the saved one when its identity matches, and say which;
//!    for an ensemble (`--teachers N`), each member in turn, then the ensemble scored as one.
//! 4. For each student and seed, the student alone and the same student distilled.
//! 5. The reports.
//!
//! `teacher`, `students`, `sweep` and `evaluate` stop after, or branch off, a step of that list.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use kd::{evaluate, ModelSpec};
use nn::checkpoint;
use nn::Module;

use crate::app::{DataSource, Study};
use crate::data::Splits;
use crate::ensemble::assemble;
use crate::ensemble_plan::{combine_name, Ensemble};
use crate::explain::WeightsSource;
use crate::report::{write_reports, Outcome};
use crate::runs::scores_text;
use crate::settings::{
    at_least_one, check_positive, check_unit, complement, parse, About, Cli, Command, Settings,
    Weights,
};
use crate::students::StudentPlan;
use crate::sweep::{sweep, Grid};
use crate::teacher::{data_identity, TeacherPlan};
use crate::train::build;
use crate::tuned;

/// An app's whole `main`: parses its command line (`about`, its presets `P` and its own options
/// `O`), lets the app turn it into its study and settings (`resolve`, which may refuse a
/// combination with the command), and runs it. An error ends the program with one line and a
/// failure code.
pub fn main<P, O, S>(
    about: &About,
    resolve: impl FnOnce(&Cli<P, O>, &Command) -> Result<(S, Settings), String>,
) -> ExitCode
where
    P: clap::ValueEnum + Clone + Send + Sync + 'static,
    O: clap::Args,
    S: Study,
{
    let cli = parse::<P, O>(about);
    let command = cli.command.clone().unwrap_or(Command::Run);
    let result =
        resolve(&cli, &command).and_then(|(study, settings)| run(&study, &settings, &command));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `command` of `study` with `settings`.
pub fn run(study: &dyn Study, settings: &Settings, command: &Command) -> Result<(), String> {
    let started = Instant::now();
    if let Command::Sweep {
        temperatures,
        soft_weights,
    }
    | Command::Tune {
        temperatures,
        soft_weights,
        ..
    } = command
    {
        temperatures
            .iter()
            .try_for_each(|&t| check_positive("--temperatures", t))?;
        soft_weights
            .iter()
            .try_for_each(|&w| check_unit("--soft-weights", w))?;
    }
    if let Command::Tune { tune_seeds, .. } = command {
        at_least_one("--tune-seeds", *tune_seeds)?;
    }
    // The whole study runs on one of the pool's threads, not on the main thread: a parallel kernel
    // started from outside the pool hands its work over and sleeps until a worker has done it, a
    // cost paid by every one of the thousands of kernels of a training run, while one started
    // from a worker runs part of the work itself and lets the other threads steal the rest (see
    // docs/performance.md). The results are the same bits either way.
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(threads) = settings.threads {
        pool = pool.num_threads(threads);
    }
    let pool = pool
        .build()
        .map_err(|e| format!("cannot start the threads: {e}"))?;
    pool.install(|| run_on_pool(study, settings, command, started))
}

/// [`run`], on a thread of the study's pool.
fn run_on_pool(
    study: &dyn Study,
    settings: &Settings,
    command: &Command,
    started: Instant,
) -> Result<(), String> {
    let splits = study.load(&DataSource {
        dir: &settings.data_dir,
        train_limit: settings.train_limit,
        validation: settings.validation,
    })?;
    if splits.one_logit
        && (settings.student_recipe.mixup.is_some() || settings.teacher_recipe.mixup.is_some())
    {
        return Err("mixup mixes the labels of classes, and a task of one logit has none to mix: use --mixup 0 and --teacher-mixup 0".into());
    }
    if let Command::Evaluate { checkpoint } = command {
        println!(
            "{}",
            evaluate_checkpoint(checkpoint, &splits, study.name())?
        );
        return Ok(());
    }
    // Every other command trains.
    splits.check_batch_size(settings.batch_size)?;
    let out = &settings.out;
    std::fs::create_dir_all(out)
        .map_err(|e| format!("cannot create the output folder {}: {e}", out.display()))?;
    eprintln!(
        "{}: {} training, {} validation, {} test {}; output in {}",
        splits.name,
        splits.train.len(),
        splits.validation.len(),
        splits.test.len(),
        splits.samples,
        out.display()
    );

    let data = data_identity(&splits, &study.identity());
    let ensemble = settings.ensemble;
    let plan = |seed| TeacherPlan {
        spec: &settings.teacher,
        recipe: &settings.teacher_recipe,
        batch_size: settings.batch_size,
        seed,
        path: Ensemble::member_path(out, seed),
    };
    let required_by = matches!(command, Command::Students).then_some(study.name());
    let mut trained = Vec::new();
    for seed in ensemble.seeds() {
        let plan = plan(seed);
        let identity = plan.identity(&splits, &data);
        let (model, outcome) =
            plan.train_or_reuse(&splits, &identity, study.metrics(), required_by)?;
        let name = match ensemble.members {
            1 => "Teacher".to_string(),
            n => format!("Teacher {seed} of {n} (seed {seed})"),
        };
        eprintln!(
            "{name} {} ({} parameters): {} ({} errors)",
            settings.teacher,
            outcome.result.parameters,
            scores_text(study.metrics(), &outcome.result.test),
            outcome.result.confusion.errors()
        );
        trained.push((model, outcome));
    }
    // What a tuning is kept for: the teacher the students learn from.
    let identity = ensemble.identity(&plan(1).identity(&splits, &data));

    // Settings tuned on this data for this teacher and these students, unless the command line
    // gave its own. Only the runs that train students use them (and an ensemble's soft targets,
    // measured below, depend on the temperature).
    let mut settings = settings.clone();
    let mut tuning = None;
    let trains_students = matches!(command, Command::Run | Command::Students);
    if trains_students && settings.weights_source == WeightsSource::Preset {
        if let Some(choice) = tuned::load(out, &settings, &identity, &study.loss_name())? {
            settings.weights = choice.weights;
            settings.weights_source =
                WeightsSource::Tuned(out.join(tuned::FILE).display().to_string());
            tuning = Some(choice);
        }
    }
    let settings = &settings;

    let (mut teacher_model, teachers) = assemble(
        trained,
        ensemble.combine,
        &splits,
        study.metrics(),
        settings.weights.temperature,
    );
    if let Some(e) = &teachers.ensemble {
        eprintln!(
            "The ensemble of the {} teachers ({} averaged): {} ({} errors)",
            ensemble.members,
            combine_name(ensemble.combine),
            scores_text(study.metrics(), &e.result.test),
            e.result.confusion.errors()
        );
    }
    match command {
        Command::Teacher => return Ok(()),
        Command::Sweep {
            temperatures,
            soft_weights,
        } => {
            let grid = Grid {
                temperatures: temperatures.clone(),
                soft_weights: soft_weights.clone(),
            };
            let swept = sweep(study, settings, &splits, &mut teacher_model, &grid)?;
            println!(
                "\n{}\nWritten to {}: sweep.md, sweep.json.",
                swept.markdown,
                out.display()
            );
            return Ok(());
        }
        Command::Tune {
            temperatures,
            soft_weights,
            tune_seeds,
        } => {
            let grid = Grid {
                temperatures: temperatures.clone(),
                soft_weights: soft_weights.clone(),
            };
            // The study's settings with the tuning's seeds (the study's are for the final runs).
            let tuning_settings = Settings {
                seeds: *tune_seeds,
                ..settings.clone()
            };
            let settings_tried = temperatures.len() * soft_weights.len();
            let runs = settings.students.len() * (1 + settings_tried) * tune_seeds;
            eprintln!(
                "Tuning: {runs} runs of {} epochs ({} student(s) × (alone + {settings_tried} \
                 settings) × {tune_seeds} seed(s)), scored on the validation split.",
                settings.student_recipe.epochs,
                settings.students.len()
            );
            let swept = sweep(study, &tuning_settings, &splits, &mut teacher_model, &grid)?;
            let ((temperature, soft_weight), gain) = swept.best.ok_or(
                "no setting of the grid finished for every student without diverging: nothing to \
                 choose (try smaller temperatures or a lower --lr)",
            )?;
            let choice = tuned::Choice {
                weights: Weights {
                    temperature,
                    hard_weight: complement(soft_weight),
                    soft_weight,
                },
                gain,
                markdown: swept.markdown,
            };
            tuned::save(out, settings, &identity, &study.loss_name(), &choice)?;
            println!(
                "\n{}\nChosen on the validation split: T = {temperature}, soft weight \
                 {soft_weight}, hard weight {} (mean gain {gain:+.2} points over the students \
                 alone). Saved in {}; the runs after this one use it.",
                choice.markdown,
                choice.weights.hard_weight,
                out.join(tuned::FILE).display()
            );
            return Ok(());
        }
        _ => {}
    }

    let students = StudentPlan {
        recipe: &settings.student_recipe,
        batch_size: settings.batch_size,
        splits: &splits,
        metrics: study.metrics(),
        out,
        data: &data,
    };
    let mut runs = Vec::new();
    for spec in &settings.students {
        for seed in 0..settings.seeds as u64 {
            let loss = study.distilled(spec, &settings.teacher, seed, settings.weights)?;
            runs.extend(students.pair(
                spec,
                seed,
                &mut teacher_model,
                &teachers.taught_by().predictions,
                loss,
            )?);
        }
    }
    let outcome = Outcome {
        teachers: &teachers,
        tuning: tuning.as_ref(),
        students: &runs,
        wall_seconds: started.elapsed().as_secs_f64(),
    };
    write_reports(study, settings, &splits, outcome)
}

/// The evaluate command: rebuilds the model from the checkpoint's description and tests it.
fn evaluate_checkpoint(path: &Path, splits: &Splits, app: &str) -> Result<String, String> {
    let meta = checkpoint::read_metadata(path).map_err(|e| e.to_string())?;
    let wanted = splits.outputs().to_string();
    if meta.get("outputs") != Some(&wanted) {
        return Err(format!(
            "{}: written for a model with {} output(s), this task needs {wanted}",
            path.display(),
            meta.get("outputs")
                .map_or("an unknown number of", |s| s.as_str())
        ));
    }
    let spec: ModelSpec = meta
        .get("spec")
        .ok_or_else(|| {
            format!(
                "{}: no model description (\"spec\") in its metadata: not written by {app}",
                path.display()
            )
        })?
        .parse()
        .map_err(|e: kd::SpecError| e.to_string())?;
    let mut model = build(&spec, splits, 0)?;
    checkpoint::load(path, &model).map_err(|e| e.to_string())?;
    let eval = evaluate(&mut model, &splits.test, 1000, splits.one_logit);
    Ok(format!(
        "{}: {spec}, {} parameters: test accuracy {:.2} % ({} errors of {})",
        path.display(),
        model.num_parameters(),
        100.0 * eval.accuracy,
        eval.errors,
        eval.samples
    ))
}
