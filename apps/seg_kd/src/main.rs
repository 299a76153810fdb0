//! `seg_kd`: distillation for segmentation, on scenes of MNIST digits.
//!
//! A fully convolutional teacher learns to label every pixel of a scene (background or which
//! digit, 11 classes); then a smaller student of the same form learns alone and distilled — from
//! the teacher's per-pixel class probabilities (`--kd-method response`), from its encoder map
//! through a 1 × 1 adapter (`feature`), or both — over several seeds, the same initialisation for
//! a seed alone and distilled. The metric is the mean IoU (the Jaccard index) over the classes;
//! pixels on digit borders carry the label 255 and count nowhere. As in `mnist_kd`: a table with
//! mean ± std over the seeds, a verdict, report.md, results.json, and a picture of test scenes.
//!
//! The pieces, one file each: scenes.rs (the data), model.rs (the networks), losses.rs (per-pixel
//! losses), train.rs (the loop), metrics.rs (IoU), picture.rs, report.rs.

mod losses;
mod metrics;
mod model;
mod picture;
mod report;
mod scenes;
mod train;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use nn::{Module, Sequential};

use crate::model::FcnSpec;
use crate::report::{ModelRun, Report};
use crate::scenes::{generate, SceneSpec, CLASSES};
use crate::train::{evaluate, fit, predict, KdMethod, Lesson, SceneSet, Schedule, TeacherOutputs};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Method {
    Response,
    Feature,
    Both,
}

/// Segmentation distillation on composite-digit scenes.
#[derive(Parser, Debug)]
#[command(
    name = "seg_kd",
    about = "Segmentation distillation on scenes of MNIST digits: per-pixel KD, feature KD, mean IoU.",
    after_help = "Fetch MNIST first with scripts/fetch-mnist. The loss of a distilled student is \
                  (1 − alpha)·CE + alpha·(distillation terms): response T²·KL per pixel, feature \
                  the mean squared error of the adapted encoder map."
)]
struct Cli {
    /// Folder holding MNIST's four IDX files (raw or .gz).
    #[arg(long, default_value = "data/mnist")]
    data_dir: PathBuf,
    /// Where report.md, results.json, scenes.svg go.
    #[arg(long, default_value = "runs/seg_kd")]
    out: PathBuf,
    /// Canvas side in pixels (a multiple of 4).
    #[arg(long, default_value_t = 48)]
    size: usize,
    /// Digits per scene, as LOW..HIGH.
    #[arg(long, default_value = "1..3")]
    digits: String,
    /// Side of a placed digit in pixels, as LOW..HIGH.
    #[arg(long, default_value = "16..28")]
    scales: String,
    #[arg(long, default_value_t = 4000)]
    train_scenes: usize,
    #[arg(long, default_value_t = 500)]
    validation_scenes: usize,
    #[arg(long, default_value_t = 1000)]
    test_scenes: usize,
    /// Also write the scenes as IDX files into OUT/scenes.
    #[arg(long)]
    write_scenes: bool,
    #[arg(long, default_value = "fcn:16,32,64")]
    teacher: String,
    #[arg(long, default_value = "fcn:8,16,32")]
    student: String,
    #[arg(long, default_value_t = 8)]
    teacher_epochs: usize,
    /// Epochs for each student.
    #[arg(long, default_value_t = 8)]
    epochs: usize,
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Adam's learning rate (chosen on the validation scenes, docs/segmentation.md).
    #[arg(long, default_value_t = 5e-3)]
    lr: f32,
    /// Seeds: each draws one student initialisation, shared alone and distilled.
    #[arg(long, default_value_t = 3)]
    seeds: usize,
    /// What the student learns from the teacher.
    #[arg(long, value_enum, default_value_t = Method::Response)]
    kd_method: Method,
    /// Distillation temperature of the per-pixel term.
    #[arg(long, default_value_t = 2.0)]
    temperature: f32,
    /// Weight of the distillation terms; the labels' cross-entropy gets 1 − alpha.
    #[arg(long, default_value_t = 0.5)]
    alpha: f32,
    /// Threads for the kernels (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = study::output::command_line();
    let result = check(&cli).and_then(|spec| {
        let mut pool = rayon::ThreadPoolBuilder::new();
        if let Some(n) = cli.threads {
            pool = pool.num_threads(n);
        }
        pool.build()
            .map_err(|e| format!("cannot start the threads: {e}"))?
            .install(|| run(&cli, &spec, &command))
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `LOW..HIGH` as two numbers.
fn range(flag: &str, text: &str) -> Result<(usize, usize), String> {
    let parsed = text
        .split_once("..")
        .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)));
    parsed.ok_or_else(|| format!("{flag} must be a range like 1..3, found {text:?}"))
}

/// Everything the command line can get wrong, before anything loads.
fn check(cli: &Cli) -> Result<SceneSpec, String> {
    let (min_digits, max_digits) = range("--digits", &cli.digits)?;
    let (min_scale, max_scale) = range("--scales", &cli.scales)?;
    if cli.size < 8 || !cli.size.is_multiple_of(4) {
        return Err(format!(
            "--size must be a multiple of 4 of at least 8 (the network halves it twice), found {}",
            cli.size
        ));
    }
    let spec = SceneSpec {
        size: cli.size,
        min_digits,
        max_digits,
        min_scale,
        max_scale,
    };
    spec.check()?;
    for (flag, n) in [
        ("--train-scenes", cli.train_scenes),
        ("--validation-scenes", cli.validation_scenes),
        ("--test-scenes", cli.test_scenes),
        ("--teacher-epochs", cli.teacher_epochs),
        ("--epochs", cli.epochs),
        ("--batch-size", cli.batch_size),
        ("--seeds", cli.seeds),
        ("--threads", cli.threads.unwrap_or(1)),
    ] {
        study::at_least_one(flag, n)?;
    }
    if cli.batch_size > cli.train_scenes {
        return Err(format!(
            "--batch-size must be at most --train-scenes ({}), found {}",
            cli.train_scenes, cli.batch_size
        ));
    }
    study::settings::check_positive("--temperature", cli.temperature)?;
    study::settings::check_unit("--alpha", cli.alpha)?;
    study::settings::check_positive("--lr", cli.lr)?;
    cli.teacher.parse::<FcnSpec>()?;
    cli.student.parse::<FcnSpec>()?;
    Ok(spec)
}

fn parameters(model: &Sequential) -> usize {
    model
        .parameters()
        .iter()
        .map(|(_, v)| v.value().numel())
        .sum()
}

/// Trains (or scores) one model and records what the report needs.
fn scored(
    model: &mut Sequential,
    test: &SceneSet,
    batch: usize,
    epochs: Vec<train::Epoch>,
) -> ModelRun {
    let start = Instant::now();
    let confusion = evaluate(model, test, batch);
    let scenes_per_second = test.len() as f64 / start.elapsed().as_secs_f64();
    ModelRun {
        confusion,
        epochs,
        parameters: parameters(model),
        scenes_per_second,
    }
}

fn run(cli: &Cli, spec: &SceneSpec, command: &str) -> Result<(), String> {
    let teacher_spec: FcnSpec = cli.teacher.parse()?;
    let student_spec: FcnSpec = cli.student.parse()?;
    let method = match cli.kd_method {
        Method::Response => KdMethod::Response,
        Method::Feature => KdMethod::Feature,
        Method::Both => KdMethod::Both,
    };
    let mnist = nn::data::load_mnist(&cli.data_dir).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&cli.out)
        .map_err(|e| format!("cannot create the output folder {}: {e}", cli.out.display()))?;
    eprintln!("Drawing the scenes…");
    // Training and validation scenes from the training images (different seeds: different
    // scenes, though a digit image may appear in both), test scenes from the test images.
    let train_scenes = generate(&mnist.train, cli.train_scenes, spec, 1);
    let validation_scenes = generate(&mnist.train, cli.validation_scenes, spec, 2);
    let test_scenes = generate(&mnist.test, cli.test_scenes, spec, 3);
    if cli.write_scenes {
        let dir = cli.out.join("scenes");
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        train_scenes.write_idx(&dir, "train")?;
        validation_scenes.write_idx(&dir, "validation")?;
        test_scenes.write_idx(&dir, "test")?;
    }
    let n = train_scenes.pixels.len() as f64;
    let mean = train_scenes
        .pixels
        .iter()
        .map(|&p| f64::from(p))
        .sum::<f64>()
        / n;
    let var = train_scenes
        .pixels
        .iter()
        .map(|&p| (f64::from(p) - mean).powi(2))
        .sum::<f64>()
        / n;
    let (mean, std) = (mean as f32, (var.sqrt() as f32).max(1e-6));
    let train_set = SceneSet::new(&train_scenes, mean, std);
    let validation = SceneSet::new(&validation_scenes, mean, std);
    let test = SceneSet::new(&test_scenes, mean, std);
    let batch = cli.batch_size;

    let schedule = |epochs, seed| Schedule {
        epochs,
        batch_size: batch,
        lr: cli.lr,
        seed,
    };
    let mut teacher = teacher_spec.build(CLASSES, 1);
    let epochs = fit(
        &mut teacher,
        &train_set,
        &validation,
        None,
        schedule(cli.teacher_epochs, 1),
        &format!("teacher {teacher_spec}"),
    )?;
    let teacher_run = scored(&mut teacher, &test, batch, epochs);
    eprintln!(
        "Teacher {teacher_spec}: test mean IoU {:.2} %",
        100.0 * teacher_run.confusion.mean_iou()
    );
    let outputs = TeacherOutputs::of(&mut teacher, &train_set, batch);

    let mut alone = Vec::new();
    let mut distilled = Vec::new();
    let mut examples = None;
    for seed in 0..cli.seeds as u64 {
        let mut model = student_spec.build(CLASSES, 1000 + seed);
        let epochs = fit(
            &mut model,
            &train_set,
            &validation,
            None,
            schedule(cli.epochs, seed),
            &format!("{student_spec} alone seed {seed}"),
        )?;
        let alone_model_run = scored(&mut model, &test, batch, epochs);
        let alone_predictions = predict(&mut model, &test, batch);
        alone.push(alone_model_run);

        let mut model = student_spec.build(CLASSES, 1000 + seed);
        let lesson = Lesson::new(
            &outputs,
            method,
            cli.temperature,
            cli.alpha,
            (
                student_spec.encoder_channels(),
                teacher_spec.encoder_channels(),
            ),
            2000 + seed,
        );
        let epochs = fit(
            &mut model,
            &train_set,
            &validation,
            Some(lesson),
            schedule(cli.epochs, seed),
            &format!("{student_spec} distilled seed {seed}"),
        )?;
        distilled.push(scored(&mut model, &test, batch, epochs));
        if examples.is_none() {
            examples = Some((
                predict(&mut teacher, &test, batch),
                alone_predictions,
                predict(&mut model, &test, batch),
            ));
        }
    }
    let report = Report {
        command,
        spec,
        scenes: (cli.train_scenes, cli.validation_scenes, cli.test_scenes),
        teacher_spec,
        student_spec,
        method,
        temperature: cli.temperature,
        alpha: cli.alpha,
        teacher: teacher_run,
        alone,
        distilled,
    };
    report.write(&cli.out, &test_scenes, examples.as_ref())
}
