//! `signal_kd`: distillation between 1-D CNNs on MNIST-1D (Greydanus 2020), after a published
//! study that distils a 1-D CNN heartbeat classifier (64-filter convolutions, two dense layers,
//! about 17k parameters) into one of the same form with about 4× fewer parameters, with a KL +
//! MAE soft loss and mixup, and reports macro-F1 as mean ± std.
//!
//! A teacher, then for each seed the student alone and the same student (same initialisation)
//! distilled; a table of accuracy and macro-F1 for the three, and the files to check it.
//!
//! Files: `config.rs` (flags, presets, validation) → `data.rs` (the `.npy` files) → `pipeline.rs`
//! (the phases) → `report.rs`. Progress bars, speed and the shared report pieces are in `kd_app`.

mod config;
mod data;
mod pipeline;
mod report;

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use kd::Teacher;
use kd_app::write_atomic;

use crate::config::{Cli, Command, Config};
use crate::pipeline::RunResult;
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
    if let Some(threads) = config.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .map_err(|e| format!("cannot start {threads} threads: {e}"))?;
    }
    let splits = data::load(&config)?;
    data::check_batch_size(&config, &splits)?;
    let command = cli.command.as_ref().unwrap_or(&Command::Run);
    std::fs::create_dir_all(&config.out).map_err(|e| {
        format!(
            "cannot create the output folder {}: {e}",
            config.out.display()
        )
    })?;
    eprintln!(
        "{}: {} training, {} validation, {} test signals; output in {}",
        splits.name,
        splits.train.len(),
        splits.validation.len(),
        splits.test.len(),
        config.out.display()
    );

    let mut teacher = pipeline::teacher(&config, &splits, matches!(command, Command::Students))?;
    eprintln!(
        "Teacher {} ({} parameters): test accuracy {:.2} %, macro-F1 {:.2} %",
        config.teacher,
        teacher.result.parameters,
        100.0 * teacher.result.test.accuracy,
        100.0 * teacher.result.test.macro_f1
    );
    if let Command::Teacher = command {
        return Ok(());
    }

    let teacher_model = teacher
        .model
        .take()
        .expect("the teacher phase returns its model");
    let mut teacher_for_students = Teacher::single(Box::new(teacher_model));
    let mut students: Vec<RunResult> = Vec::new();
    for seed in 0..config.seeds as u64 {
        let (alone, distilled) = pipeline::student_pair(
            &config,
            &splits,
            seed,
            &mut teacher_for_students,
            &teacher.predictions,
        )?;
        students.push(alone);
        students.push(distilled);
    }
    write_reports(
        &config,
        &splits.name,
        &teacher,
        &students,
        started.elapsed().as_secs_f64(),
    )
}

fn write_reports(
    config: &Config,
    data: &str,
    teacher: &pipeline::TeacherOutcome,
    students: &[RunResult],
    wall_seconds: f64,
) -> Result<(), String> {
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let machine = kd_app::machine();
    let by_role =
        |role: &str| -> Vec<&RunResult> { students.iter().filter(|r| r.role == role).collect() };
    let (alone, distilled) = (by_role("alone"), by_role("distilled"));
    let rows = vec![
        summarise(&[&teacher.result]),
        summarise(&alone),
        summarise(&distilled),
    ];
    let student = config.student.to_string();
    let verdict = report::verdict(&student, &rows[1], &rows[2]);
    let table = report::table(&rows);
    let mixup = config
        .mixup
        .map_or("no mixup".to_string(), |a| format!("mixup α = {a}"));
    let md = format!(
        "# signal_kd: {:?} preset ({data})\n\nCommand: `{command}`  \nMachine: {machine}  \n\
         Wall time: {:.0} s  \n\
         Teacher: {}{}, {} parameters, {} epochs; test accuracy {:.2} %, macro-F1 {:.2} %  \n\
         Student: {student}, {} parameters ({:.1}× fewer), {} epochs, batch {}, Adam lr {} (cosine), \
         {mixup} (alone and distilled alike); distilled with hard weight {}, soft weight {} on \
         T² · KL at T = {} + {} · MAE of the soft labels; {} seeds (same initialisation alone and \
         distilled); mean ± std over seeds, last epoch. Validation: {} training signals held out, \
         never trained on.\n\n{table}\n{verdict}\n",
        config.preset,
        wall_seconds,
        config.teacher,
        if teacher.reused { " (reused from its checkpoint)" } else { "" },
        rows[0].parameters,
        config.teacher_epochs,
        100.0 * teacher.result.test.accuracy,
        100.0 * teacher.result.test.macro_f1,
        rows[1].parameters,
        rows[0].parameters as f64 / rows[1].parameters as f64,
        config.epochs,
        config.batch_size,
        config.lr,
        config.hard_weight,
        config.soft_weight,
        config.temperature,
        config.mae_weight,
        config.seeds,
        config.validation,
    );
    let out = &config.out;
    write_atomic(&out.join("report.md"), &md)?;
    write_atomic(
        &out.join("results.json"),
        &report::results_json(
            config,
            data,
            &command,
            &machine,
            wall_seconds,
            teacher,
            students,
        ),
    )?;
    let mut series = Vec::new();
    if !teacher.result.epochs.is_empty() {
        series.push((
            "teacher".to_string(),
            kd_app::test_accuracy_curve(&teacher.result.epochs),
        ));
    }
    for (role, runs) in [("alone", &alone), ("distilled", &distilled)] {
        // The curves average the runs that finished, as the table does.
        let epochs: Vec<&[kd::EpochRecord]> = runs
            .iter()
            .filter(|r| r.diverged.is_none())
            .map(|r| r.epochs.as_slice())
            .collect();
        series.push((format!("{student} {role}"), kd_app::mean_curve(&epochs)));
    }
    write_atomic(
        &out.join("curves.svg"),
        &kd_app::curves_svg(
            &format!("{data}: test accuracy per epoch (students: mean over seeds)"),
            &series,
        ),
    )?;
    let mut confusion = format!(
        "# Confusion matrices (rows: true class, columns: predicted), {data}: test set\n\n\
         ## teacher {}\n\n{}\n",
        config.teacher,
        teacher.result.confusion.to_markdown()
    );
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
    println!(
        "\n{table}\n{verdict}\n\nWritten to {}: report.md, results.json, curves.svg, confusion.md, checkpoints.",
        out.display()
    );
    Ok(())
}
