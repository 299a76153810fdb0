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
//! - `tree-toy` (tree_toy.rs, on the data of toy.rs): a student that is not a network, the article
//!   the project started from: decision trees on a noisy two-class problem, grown on the hard
//!   labels or on a 128-128 network's soft targets.
//! - `tree-mnist` (tree_mnist.rs): the same on MNIST's pixels at 256, 1 024 and 4 096 leaves, and
//!   with the teacher labelling shifted copies of the images.
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
mod toy;
mod transfer;
mod tree_fit;
mod tree_mnist;
mod tree_toy;

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
    /// A tree as the student, on a noisy two-class toy problem: trees grown on the hard labels
    /// against trees grown on a 128-128 network's soft targets, without limit and at equal leaf
    /// counts; decision regions as a picture. Needs no data: the points are drawn from seeds.
    TreeToy {
        /// Training points per seed.
        #[arg(long, default_value_t = 2000)]
        train_points: usize,
        /// Validation points per seed (what the temperature and the teacher's epoch are chosen on).
        #[arg(long, default_value_t = 1000)]
        validation_points: usize,
        /// Test points per seed.
        #[arg(long, default_value_t = 10_000)]
        test_points: usize,
    },
    /// A tree as the student on MNIST: trees of 256, 1 024 and 4 096 leaves on the pixels, grown
    /// on the labels or on the teacher's soft targets, and on those plus shifted copies of the
    /// images that the teacher labels.
    TreeMnist {
        /// The share of the training split each seed's trees see (a seeded draw), in (0, 1].
        #[arg(long, default_value_t = 0.8)]
        share: f64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = study::output::command_line();
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
        Experiment::TreeToy {
            train_points,
            validation_points,
            test_points,
        } => {
            study::at_least_one("--train-points", *train_points)?;
            study::at_least_one("--validation-points", *validation_points)?;
            study::at_least_one("--test-points", *test_points)?;
            let sizes = tree_toy::Sizes {
                train: *train_points,
                validation: *validation_points,
                test: *test_points,
            };
            std::fs::create_dir_all(&flags.out).map_err(|e| {
                format!(
                    "cannot create the output folder {}: {e}",
                    flags.out.display()
                )
            })?;
            tree_toy::run(
                sizes,
                flags.seeds(5),
                flags.temperature,
                &flags.out,
                command,
            )
        }
        Experiment::TreeMnist { share } => {
            if !(*share > 0.0 && *share <= 1.0) {
                return Err(format!(
                    "--share must be a fraction in (0, 1], found {share}"
                ));
            }
            let mut lab = lab::Lab::open(flags, lab::load(flags)?)?;
            tree_mnist::run(&mut lab, *share, flags.seeds(lab::SEEDS), command)
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
