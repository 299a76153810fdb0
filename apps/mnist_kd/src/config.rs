//! What a run does: the command-line flags, the presets they start from, and their validation.
//!
//! A preset fills every setting; flags given on the command line override it. Values a user can get
//! wrong (a temperature ≤ 0, a weight outside [0, 1], a model description that does not parse) are
//! refused here, before anything is trained or written, with one line saying what was expected.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use kd::ModelSpec;
use kd_app::{check_temperature, check_unit};

#[derive(Parser, Debug)]
#[command(
    name = "mnist_kd",
    about = "Knowledge distillation on MNIST: train a teacher CNN, then the same student alone and \
             distilled from the teacher, over several seeds, and report what distillation did.",
    after_help = "With no subcommand, runs the whole pipeline with the default preset. \
                  Fetch the data first with scripts/fetch-mnist."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub options: Options,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// The whole pipeline: teacher (or the saved one), then students alone and distilled.
    Run,
    /// Train (or reuse) and save the teacher only.
    Teacher,
    /// Train students only, from the teacher saved in --out (fails if there is none).
    Students,
    /// Choose the distillation settings on the validation split: each student alone, then
    /// distilled at every temperature × soft weight (hard weight = 1 − soft). Writes sweep.md.
    Sweep {
        /// Temperatures to try, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1,2,4,8")]
        temperatures: Vec<f32>,
        /// Soft weights to try, comma-separated, each in [0, 1].
        #[arg(long, value_delimiter = ',', default_value = "0.5,0.9")]
        soft_weights: Vec<f32>,
    },
    /// Evaluate a saved checkpoint on the test set (the architecture is read from the file).
    Evaluate {
        /// A .safetensors checkpoint written by mnist_kd.
        checkpoint: PathBuf,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Preset {
    /// A smoke run of seconds to a minute: small subsets, two teacher epochs, 2 seeds.
    Quick,
    /// The default study (about 5 minutes on 2 idle cores).
    Default,
    /// Hinton et al. 2015's MNIST setting: MLP teacher 1200-1200 with dropout and ±2-pixel
    /// jitter, MLP student 800-800 without regularisation, T = 20.
    Hinton,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OptimizerKind {
    /// Adam (β = 0.9, 0.999).
    Adam,
    /// SGD with momentum 0.9.
    Sgd,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KdMethod {
    /// Learn from the teacher's softened outputs (Hinton et al.).
    Response,
    /// Learn from the teacher's last hidden features through an adapter (FitNets), plus labels.
    Feature,
    /// Both.
    Both,
}

#[derive(clap::Args, Debug, Clone)]
pub struct Options {
    /// Start from this preset; the flags below override it.
    #[arg(global = true, long, value_enum, default_value_t = Preset::Default)]
    pub preset: Preset,
    /// The teacher, e.g. cnn:32,64,fc=128,dropout=0.3 or mlp:1200,1200,dropout=0.5.
    #[arg(global = true, long)]
    pub teacher: Option<String>,
    /// A student, e.g. mlp:100,100; repeat the flag for several (each gets its own rows).
    #[arg(global = true, long)]
    pub student: Vec<String>,
    /// Epochs for each student.
    #[arg(global = true, long)]
    pub epochs: Option<usize>,
    /// Epochs for the teacher.
    #[arg(global = true, long)]
    pub teacher_epochs: Option<usize>,
    #[arg(global = true, long)]
    pub batch_size: Option<usize>,
    /// Learning rate of the students (the teacher uses the preset's).
    #[arg(global = true, long)]
    pub lr: Option<f32>,
    #[arg(global = true, long, value_enum)]
    pub optimizer: Option<OptimizerKind>,
    /// Distillation temperature T (> 0): the teacher's logits are divided by T before the softmax.
    #[arg(global = true, long)]
    pub temperature: Option<f32>,
    /// Weight of the hard-label cross-entropy term, in [0, 1].
    #[arg(global = true, long)]
    pub hard_weight: Option<f32>,
    /// Weight of the soft (teacher) term, in [0, 1]; it is multiplied by T² internally.
    #[arg(global = true, long)]
    pub soft_weight: Option<f32>,
    /// For familiarity with PyTorch code: α weighs the SOFT term, i.e. soft weight = α and hard
    /// weight = 1 − α (Keras's distiller uses the opposite convention). Conflicts with the two
    /// weight flags.
    #[arg(global = true, long, conflicts_with_all = ["hard_weight", "soft_weight"])]
    pub alpha: Option<f32>,
    #[arg(global = true, long, value_enum)]
    pub kd_method: Option<KdMethod>,
    /// Number of seeds for the students (mean ± std over them).
    #[arg(global = true, long)]
    pub seeds: Option<usize>,
    /// Training images held out for validation (never trained on; what the sweep chooses by).
    #[arg(global = true, long)]
    pub validation: Option<usize>,
    /// Keep only the first this many training images (before the validation split).
    #[arg(global = true, long)]
    pub train_limit: Option<usize>,
    /// Keep only the first this many test images.
    #[arg(global = true, long)]
    pub test_limit: Option<usize>,
    /// Threads for the kernels (default: all cores).
    #[arg(global = true, long)]
    pub threads: Option<usize>,
    /// Folder holding the MNIST files, raw or .gz.
    #[arg(global = true, long, default_value = "data/mnist")]
    pub data_dir: PathBuf,
    /// Output folder (default: runs/<preset>).
    #[arg(global = true, long)]
    pub out: Option<PathBuf>,
    /// `binary:A,B`: only digits A and B, one sigmoid output, binary cross-entropy and binary
    /// distillation.
    #[arg(global = true, long)]
    pub task: Option<String>,
}

/// Everything a run needs, resolved from a preset and the flags, and validated.
#[derive(Debug, Clone)]
pub struct Config {
    pub preset: Preset,
    pub teacher: ModelSpec,
    pub teacher_epochs: usize,
    pub teacher_lr: f32,
    pub teacher_shift: usize,
    pub students: Vec<ModelSpec>,
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f32,
    pub optimizer: OptimizerKind,
    pub temperature: f32,
    pub hard_weight: f32,
    pub soft_weight: f32,
    pub kd_method: KdMethod,
    pub hint_weight: f32,
    pub seeds: usize,
    pub threads: Option<usize>,
    pub data_dir: PathBuf,
    pub out: PathBuf,
    /// Keep only the first this many training images (quick runs).
    pub train_limit: Option<usize>,
    /// Keep only the first this many test images (quick runs).
    pub test_limit: Option<usize>,
    /// Training images held out for validation (never trained on; the test set is never used to
    /// choose anything). A binary task holds out the same share of its two digits' images.
    pub validation: usize,
    /// `Some((a, b))` for a two-digit binary task.
    pub binary: Option<(usize, usize)>,
}

impl Config {
    fn preset(preset: Preset) -> Config {
        let spec = |s: &str| s.parse::<ModelSpec>().expect("preset specs parse");
        let base = Config {
            preset,
            teacher: spec("cnn:32,64,fc=128,dropout=0.3"),
            teacher_epochs: 4,
            teacher_lr: 1e-3,
            teacher_shift: 2,
            students: vec![spec("mlp:100,100"), spec("mlp:10,10")],
            epochs: 10,
            batch_size: 128,
            lr: 1e-3,
            optimizer: OptimizerKind::Adam,
            // Chosen on the validation split: docs/mnist_sweep.md.
            temperature: 2.0,
            hard_weight: 0.1,
            soft_weight: 0.9,
            kd_method: KdMethod::Response,
            hint_weight: 1.0,
            seeds: 3,
            threads: None,
            data_dir: PathBuf::from("data/mnist"),
            out: PathBuf::from("runs/default"),
            train_limit: None,
            test_limit: None,
            validation: 5000,
            binary: None,
        };
        match preset {
            Preset::Default => base,
            Preset::Quick => Config {
                teacher: spec("cnn:8,16,fc=32"),
                teacher_epochs: 2,
                students: vec![spec("mlp:32,32")],
                epochs: 5,
                seeds: 2,
                out: PathBuf::from("runs/quick"),
                train_limit: Some(12000),
                test_limit: Some(2000),
                validation: 2000,
                ..base
            },
            Preset::Hinton => Config {
                teacher: spec("mlp:1200,1200,dropout=0.5"),
                teacher_epochs: 20,
                students: vec![spec("mlp:800,800")],
                epochs: 20,
                temperature: 20.0,
                out: PathBuf::from("runs/hinton"),
                ..base
            },
        }
    }

    /// The preset overridden by the flags; every value checked.
    pub fn from_options(o: &Options) -> Result<Config, String> {
        let mut c = Config::preset(o.preset);
        let parse = |s: &str| s.parse::<ModelSpec>().map_err(|e| e.to_string());
        if let Some(t) = &o.teacher {
            c.teacher = parse(t)?;
        }
        if !o.student.is_empty() {
            c.students = o
                .student
                .iter()
                .map(|s| parse(s))
                .collect::<Result<_, _>>()?;
        }
        c.epochs = o.epochs.unwrap_or(c.epochs);
        c.teacher_epochs = o.teacher_epochs.unwrap_or(c.teacher_epochs);
        c.batch_size = o.batch_size.unwrap_or(c.batch_size);
        c.lr = o.lr.unwrap_or(c.lr);
        c.optimizer = o.optimizer.unwrap_or(c.optimizer);
        c.temperature = o.temperature.unwrap_or(c.temperature);
        if let Some(alpha) = o.alpha {
            check_unit("--alpha", alpha)?;
            c.soft_weight = alpha;
            c.hard_weight = 1.0 - alpha;
        }
        c.hard_weight = o.hard_weight.unwrap_or(c.hard_weight);
        c.soft_weight = o.soft_weight.unwrap_or(c.soft_weight);
        c.kd_method = o.kd_method.unwrap_or(c.kd_method);
        c.seeds = o.seeds.unwrap_or(c.seeds);
        c.validation = o.validation.unwrap_or(c.validation);
        c.train_limit = o.train_limit.or(c.train_limit);
        c.test_limit = o.test_limit.or(c.test_limit);
        c.threads = o.threads.or(c.threads);
        c.data_dir = o.data_dir.clone();
        if let Some(out) = &o.out {
            c.out = out.clone();
        }
        if let Some(task) = &o.task {
            c.binary = Some(parse_binary_task(task)?);
        }
        c.validate()?;
        Ok(c)
    }

    fn validate(&self) -> Result<(), String> {
        check_temperature("--temperature", self.temperature)?;
        check_unit("--hard-weight", self.hard_weight)?;
        check_unit("--soft-weight", self.soft_weight)?;
        for (flag, value) in [
            ("--epochs", self.epochs),
            ("--teacher-epochs", self.teacher_epochs),
            ("--batch-size", self.batch_size),
            ("--seeds", self.seeds),
            ("--validation", self.validation),
            ("--test-limit", self.test_limit.unwrap_or(1)),
        ] {
            if value == 0 {
                return Err(format!("{flag} must be at least 1, found 0"));
            }
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(format!("--lr must be a positive number, found {}", self.lr));
        }
        if self.threads == Some(0) {
            return Err("--threads must be at least 1, found 0".to_string());
        }
        Ok(())
    }
}

/// `binary:4,9` → `(4, 9)`.
fn parse_binary_task(task: &str) -> Result<(usize, usize), String> {
    let bad = || format!("--task must be binary:A,B with two different digits 0–9, found {task:?}");
    let digits = task.strip_prefix("binary:").ok_or_else(bad)?;
    let (a, b) = digits.split_once(',').ok_or_else(bad)?;
    let (a, b): (usize, usize) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
    if a > 9 || b > 9 || a == b {
        return Err(bad());
    }
    Ok((a, b))
}
