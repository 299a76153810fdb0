//! `dark_knowledge`: why distillation works, shown with the MNIST experiments of Hinton, Vinyals
//! and Dean (2015), "Distilling the Knowledge in a Neural Network", section 3 and 5.
//!
//! A trained classifier's small probabilities for the wrong classes — this 2 looks a little like a
//! 3 and not at all like a 7 — are knowledge the labels do not hold. Each subcommand is one
//! experiment that makes it visible, in a file of its own:
//!
//! - `soften` (soften.rs): the teacher's probabilities at T = 1 … 20 for a few test images, beside
//!   the student trained alone and the same student distilled.
//! - `omit` (transfer.rs): the students learn from a transfer set with no example of one digit;
//!   the distilled one still recognises it, more so once that class's output bias is raised.
//! - `only` (transfer.rs): a transfer set of two digits only (7s and 8s in the paper).
//! - `regularise` (regulariser.rs): a small share of the training set (`--share`), hard labels
//!   against the soft targets of a teacher trained on all of it.
//!
//! Every experiment distils from the teacher of `mnist_kd`'s default study (lab.rs): the one it
//! saved in `runs/default` is reused, or trained there once. Students train as the study driver
//! trains them (`study::train`); every choice (a bias shift, an early-stopping epoch) is made on
//! the validation split, never on the test set.

mod bias;
mod lab;
mod regulariser;
mod soften;
mod svg;
mod transfer;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::lab::LabFlags;

#[derive(Parser, Debug)]
#[command(
    name = "dark_knowledge",
    about = "Why distillation works: Hinton et al.'s dark-knowledge experiments on MNIST.",
    after_help = "Each experiment distils from the teacher of mnist_kd's default study, reused \
                  from runs/default/teacher.safetensors or trained there once. Fetch MNIST first \
                  with scripts/fetch-mnist. docs/dark_knowledge.md shows the results beside the \
                  paper's."
)]
struct Cli {
    #[command(subcommand)]
    experiment: Experiment,
    #[command(flatten)]
    lab: LabFlags,
}

#[derive(Subcommand, Debug, Clone)]
enum Experiment {
    /// The temperature view: the teacher's probabilities at several temperatures for chosen test
    /// images, with their entropy, beside the student alone and distilled.
    Soften {
        /// Test images to show, by index (default: image 0 and the three correctly classified
        /// test images with the largest second-best probability under the teacher).
        #[arg(long, value_delimiter = ',')]
        images: Vec<usize>,
        /// Temperatures to show.
        #[arg(long, value_delimiter = ',', default_value = "1,2,4,8,20")]
        temperatures: Vec<f32>,
    },
    /// The omitted class: the students learn from a transfer set without any example of one
    /// class; then that class's output bias is raised by a value chosen on the validation split.
    Omit {
        /// The class left out of the transfer set.
        #[arg(long, default_value_t = 3)]
        class: usize,
    },
    /// A transfer set of a few classes only; then the other classes' output biases are raised
    /// (the same as lowering these classes' biases) by a value chosen on the validation split.
    Only {
        /// The classes the transfer set keeps.
        #[arg(long, value_delimiter = ',', default_value = "7,8")]
        classes: Vec<usize>,
    },
    /// Soft targets as a regulariser: a small share of the training set, learnt from the hard
    /// labels or from the soft targets of a teacher trained on all of it; accuracy per epoch.
    Regularise {
        /// The share of the training split the students see, in (0, 1].
        #[arg(long, default_value_t = 0.03)]
        share: f64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = command_line();
    // Everything the command line can get wrong is checked before the threads start and the
    // data loads.
    let result = cli
        .lab
        .check()
        .and_then(|()| lab::on_pool(cli.lab.threads, || run(&cli, &command)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The command as typed (program name without its folder), printed above each table so that
/// every number in a report says how to reproduce it.
fn command_line() -> String {
    let mut args = std::env::args();
    let program = args.next().unwrap_or_default();
    let program = std::path::Path::new(&program)
        .file_name()
        .map_or(program.clone(), |f| f.to_string_lossy().into_owned());
    std::iter::once(program)
        .chain(args.map(|a| if a.contains(' ') { format!("'{a}'") } else { a }))
        .collect::<Vec<_>>()
        .join(" ")
}

fn run(cli: &Cli, command: &str) -> Result<(), String> {
    let flags = &cli.lab;
    match &cli.experiment {
        Experiment::Soften {
            images,
            temperatures,
        } => {
            for &t in temperatures {
                study::settings::check_positive("--temperatures", t)?;
            }
            let spec = flags.one_student(soften::STUDENT)?;
            let splits = lab::load(flags)?;
            let test = splits.test.len();
            if let Some(&i) = images.iter().find(|&&i| i >= test) {
                return Err(format!(
                    "--images must be indices of test images, below {test}, found {i}"
                ));
            }
            let mut lab = lab::Lab::open(flags, splits)?;
            soften::run(&mut lab, &spec, images, temperatures, command)
        }
        Experiment::Omit { class } => {
            let splits = lab::load(flags)?;
            let plan = transfer::Plan::omit(*class, splits.classes())?;
            let mut lab = lab::Lab::open(flags, splits)?;
            transfer::run(&mut lab, &plan, command)
        }
        Experiment::Only { classes } => {
            let splits = lab::load(flags)?;
            let plan = transfer::Plan::only(classes, splits.classes())?;
            let mut lab = lab::Lab::open(flags, splits)?;
            transfer::run(&mut lab, &plan, command)
        }
        Experiment::Regularise { share } => {
            if !(*share > 0.0 && *share <= 1.0) {
                return Err(format!(
                    "--share must be a fraction in (0, 1], found {share}"
                ));
            }
            if let Some(w) = flags.soft_weight {
                return Err(format!(
                    "regularise learns from the soft targets alone (soft weight 1) or the labels \
                     alone: --soft-weight must not be given, found {w}"
                ));
            }
            let spec = flags.one_student(regulariser::STUDENT)?;
            let mut lab = lab::Lab::open(flags, lab::load(flags)?)?;
            regulariser::run(&mut lab, &spec, *share, command)
        }
    }
}
