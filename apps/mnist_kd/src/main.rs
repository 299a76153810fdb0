//! `mnist_kd`: the main job. A teacher CNN, then each student trained alone and the same student
//! (same initialisation) distilled from the teacher, over several seeds, on real MNIST; a table of
//! what distillation did, and the files to check it (see `report.rs`).
//!
//! Files: `config.rs` (flags, presets, validation) → `data.rs` → `pipeline.rs` (the phases) →
//! `sweep.rs` (choosing T and the weights on the validation split) → `report.rs`. Progress bars,
//! speed measurement and the report's generic pieces are shared with `signal_kd` in `apps/kd_app`.

mod config;
mod data;
mod pipeline;
mod report;
mod sweep;

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use kd::Teacher;

use crate::config::{Cli, Command, Config, Preset};
use crate::pipeline::RunResult;
use kd_app::{machine, mean_curve, test_accuracy_curve, write_atomic};

use crate::report::summarise;

/// Large freed buffers are kept for the next step instead of going back to the kernel (see
/// `tensor::block_cache`).
#[global_allocator]
static ALLOCATOR: tensor::BlockCache = tensor::BlockCache::new();

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<(), String> {
    let started = Instant::now();
    let config = Config::from_options(&cli.options)?;
    let command = cli.command.as_ref().unwrap_or(&Command::Run);
    if let Command::Sweep {
        temperatures,
        soft_weights,
    } = command
    {
        // Checked before anything is loaded or trained.
        if config.kd_method == config::KdMethod::Feature {
            return Err("the sweep varies the temperature and the soft weight, which --kd-method feature does not use; use response or both".into());
        }
        temperatures
            .iter()
            .try_for_each(|&t| kd_app::check_temperature("--temperatures", t))?;
        soft_weights
            .iter()
            .try_for_each(|&w| kd_app::check_unit("--soft-weights", w))?;
    }
    if let Some(threads) = config.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .map_err(|e| format!("cannot start {threads} threads: {e}"))?;
    }
    let splits = data::load(&config)?;
    if let Command::Evaluate { checkpoint } = command {
        println!(
            "{}",
            pipeline::evaluate_checkpoint(checkpoint, &config, &splits)?
        );
        return Ok(());
    }
    // Every other command trains.
    data::check_batch_size(&config, &splits)?;
    std::fs::create_dir_all(&config.out).map_err(|e| {
        format!(
            "cannot create the output folder {}: {e}",
            config.out.display()
        )
    })?;
    eprintln!(
        "{}: {} training, {} validation, {} test images; output in {}",
        splits.name,
        splits.train.len(),
        splits.validation.len(),
        splits.test.len(),
        config.out.display()
    );

    let teacher = pipeline::teacher(&config, &splits, matches!(command, Command::Students))?;
    eprintln!(
        "Teacher {}: test accuracy {:.2} % ({} errors)",
        config.teacher,
        100.0 * teacher.result.test_accuracy,
        teacher.result.test_errors
    );
    if let Command::Teacher = command {
        return Ok(());
    }

    if let Command::Sweep {
        temperatures,
        soft_weights,
    } = command
    {
        let grid = sweep::Grid {
            temperatures: temperatures.clone(),
            soft_weights: soft_weights.clone(),
        };
        let mut teacher = teacher;
        let model = teacher
            .model
            .take()
            .expect("the teacher phase returns its model");
        let md = sweep::run(
            &config,
            &splits,
            &mut Teacher::single(Box::new(model)),
            &grid,
        )?;
        println!(
            "\n{md}\nWritten to {}: sweep.md, sweep.json.",
            config.out.display()
        );
        return Ok(());
    }
    let mut teacher = teacher;
    let teacher_model = teacher
        .model
        .take()
        .expect("the teacher phase returns its model");
    let mut teacher_for_students = Teacher::single(Box::new(teacher_model));
    let mut students: Vec<RunResult> = Vec::new();
    for spec in &config.students {
        for seed in 0..config.seeds as u64 {
            let (alone, distilled) = pipeline::student_pair(
                &config,
                &splits,
                spec,
                seed,
                &mut teacher_for_students,
                &config.teacher,
                &teacher.predictions,
            )?;
            students.push(alone);
            students.push(distilled);
        }
    }
    write_reports(
        &config,
        &splits,
        &teacher,
        &students,
        started.elapsed().as_secs_f64(),
    )
}

fn write_reports(
    config: &Config,
    splits: &data::Splits,
    teacher: &pipeline::TeacherOutcome,
    students: &[RunResult],
    wall_seconds: f64,
) -> Result<(), String> {
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let machine = machine();
    let mut rows = vec![summarise(&[&teacher.result])];
    let mut verdicts = Vec::new();
    let mut series = Vec::new();
    if !teacher.result.epochs.is_empty() {
        series.push((
            "teacher".to_string(),
            test_accuracy_curve(&teacher.result.epochs),
        ));
    }
    for spec in &config.students {
        let mut pair = Vec::new();
        for role in ["alone", "distilled"] {
            let runs: Vec<&RunResult> = students
                .iter()
                .filter(|r| r.spec == *spec && r.role == role)
                .collect();
            // The curves average the runs that finished, as the table does.
            let epochs: Vec<&[kd::EpochRecord]> = runs
                .iter()
                .filter(|r| r.diverged.is_none())
                .map(|r| r.epochs.as_slice())
                .collect();
            series.push((format!("{spec} {role}"), mean_curve(&epochs)));
            pair.push(summarise(&runs));
        }
        verdicts.push(report::verdict(
            &pair[0],
            &pair[1],
            teacher.result.parameters,
            config,
        ));
        rows.extend(pair);
    }
    let table = report::table(&rows);
    let mut md = format!(
        "# mnist_kd: {:?} preset\n\nCommand: `{command}`  \nMachine: {machine}  \nWall time: {:.0} s  \n\
         Data: {}: {} training images ({} more held out for validation), {} test images  \n\
         Teacher: {}{}, test accuracy {:.2} %, {}  \n\
         Students: {} epochs, batch {}, {:?} lr {}, T = {}, hard weight {}, soft weight {}, method {:?}, {} seeds \
         (same initialisation alone and distilled); mean ± std over seeds, last epoch.\n\n{table}\n",
        config.preset,
        wall_seconds,
        splits.name,
        splits.train.len(),
        splits.validation.len(),
        splits.test.len(),
        config.teacher,
        if teacher.reused { " (reused from its checkpoint)" } else { "" },
        100.0 * teacher.result.test_accuracy,
        match config.binary {
            None => format!("expected calibration error {:.4}", teacher.calibration_error),
            Some((a, b)) => format!("task: {a} against {b}, one sigmoid output"),
        },
        config.epochs,
        config.batch_size,
        config.optimizer,
        config.lr,
        config.temperature,
        config.hard_weight,
        config.soft_weight,
        config.kd_method,
        config.seeds,
    );
    md.push_str(&verdicts.join("\n"));
    md.push('\n');
    if config.preset == Preset::Hinton && config.binary.is_none() {
        let paper = report::beside_hinton(&rows);
        md.push_str(&paper);
        println!("{paper}");
    }
    let out = &config.out;
    write_atomic(&out.join("report.md"), &md)?;
    write_atomic(
        &out.join("results.json"),
        &report::results_json(
            config,
            &splits.name,
            &command,
            &machine,
            wall_seconds,
            teacher,
            students,
        ),
    )?;
    write_atomic(
        &out.join("curves.svg"),
        &kd_app::curves_svg(
            "Test accuracy per epoch (students: mean over seeds)",
            &series,
        ),
    )?;
    let mut confusion = format!("# Confusion matrices (rows: true class, columns: predicted), test set\n\n## teacher {}\n\n{}\n", config.teacher, teacher.result.confusion.to_markdown());
    for r in students.iter().filter(|r| r.seed == 0) {
        confusion.push_str(&format!(
            "\n## {} {} (seed 0{})\n\n{}\n",
            r.spec,
            r.role,
            if r.diverged.is_some() {
                ", diverged"
            } else {
                ""
            },
            r.confusion.to_markdown()
        ));
    }
    write_atomic(&out.join("confusion.md"), &confusion)?;
    println!("\n{table}\n{}\n\nWritten to {}: report.md, results.json, curves.svg, confusion.md, checkpoints.", verdicts.join("\n"), out.display());
    Ok(())
}
