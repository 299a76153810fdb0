//! The settings every study has, and the command line that overrides them.
//!
//! An app's preset fills a [`Settings`]; the flags given on the command line ([`StudyFlags`]) then
//! override it. The flags are declared once, here, and each app flattens them into its own command
//! line (`#[command(flatten)]`), so every app lists them in the same order with the same help.
//! Values a user can get wrong (a temperature ≤ 0, a weight outside [0, 1], a model description
//! that does not parse) are refused before anything is loaded, trained or written, with one line
//! saying what was expected.

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Parser, Subcommand, ValueEnum};
use kd::ModelSpec;

use crate::ensemble_plan::{combine_named, Ensemble, COMBINE_NAMES};
use crate::explain::WeightsSource;
use crate::output::as_typed;

/// An app's command line: a subcommand (the whole study when none is given), the preset (`P`,
/// the app's list, which has a `default`), the flags every study has, then the app's own (`O`).
#[derive(Parser, Debug)]
pub struct Cli<P, O>
where
    P: ValueEnum + Clone + Send + Sync + 'static,
    O: clap::Args,
{
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Start from this preset; the flags below override it.
    #[arg(
        global = true,
        long,
        value_parser = clap::builder::EnumValueParser::<P>::new(),
        default_value = "default"
    )]
    pub preset: P,
    #[command(flatten)]
    pub study: StudyFlags,
    #[command(flatten)]
    pub options: O,
}

/// What a run does. Every app has all of them: they are the driver's.
#[derive(Subcommand, Debug, Clone)]
pub enum Command {
    /// The whole study: teacher (or the saved one), then each student alone and distilled.
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
    /// Choose the temperature and the weights for this data: the sweep above on the validation
    /// split, then the setting with the largest mean gain over the students is saved in
    /// tuned.json beside the teacher, and later runs with the same teacher and students use it
    /// (unless T or a weight is given on the command line). Budget: each student alone and at
    /// every temperature × soft weight, once per tuning seed, each for the students' epochs.
    Tune {
        /// Temperatures to try, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1,2,4,8")]
        temperatures: Vec<f32>,
        /// Soft weights to try, comma-separated, each in [0, 1].
        #[arg(long, value_delimiter = ',', default_value = "0.5,0.9")]
        soft_weights: Vec<f32>,
        /// Seeds per setting (the study's --seeds is for the final runs).
        #[arg(long, default_value_t = 1)]
        tune_seeds: usize,
    },
    /// Evaluate a saved checkpoint on the test set (the architecture is read from the file).
    Evaluate {
        /// A .safetensors checkpoint written by this app.
        checkpoint: PathBuf,
    },
}

/// An app's command line: its name, what it does, and what `--help` says last.
pub struct About {
    pub name: &'static str,
    pub about: &'static str,
    pub after_help: &'static str,
}

/// Parses the command line of the app `about` describes.
pub fn parse<P, O>(about: &About) -> Cli<P, O>
where
    P: ValueEnum + Clone + Send + Sync + 'static,
    O: clap::Args,
{
    use clap::{CommandFactory, FromArgMatches};
    let matches = Cli::<P, O>::command()
        .name(about.name)
        .bin_name(about.name)
        .about(about.about)
        .after_help(about.after_help)
        .get_matches();
    Cli::<P, O>::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OptimizerKind {
    /// Adam (β = 0.9, 0.999).
    Adam,
    /// SGD with momentum 0.9.
    Sgd,
}

/// How one model trains. The teacher has its recipe, the students theirs; a student alone and the
/// same student distilled always share it, so that only the loss differs between them.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipe {
    pub epochs: usize,
    pub lr: f32,
    pub optimizer: OptimizerKind,
    /// A cosine decay of the rate to a twentieth over the epochs, else a constant rate. With the
    /// decay the last epochs settle instead of bouncing, and the last epoch is the one reported.
    pub cosine: bool,
    /// Largest random shift of a training sample, in pixels or signal steps (0: none).
    pub shift: usize,
    /// Mixup's α (`None`: no mixup).
    pub mixup: Option<f32>,
    /// Keep the epoch that scored best on the validation split rather than the last, and stop
    /// after this many epochs without a better one (`None`: the last epoch; every epoch runs).
    /// On data where the rate and the epochs were not tuned, the best epoch guards against both
    /// too few epochs (train long, keep the best) and too many (stop, keep the best).
    pub patience: Option<usize>,
}

impl Recipe {
    /// Adam at a constant rate, no shift, no mixup: where every recipe starts.
    pub fn adam(epochs: usize, lr: f32) -> Recipe {
        Recipe {
            epochs,
            lr,
            optimizer: OptimizerKind::Adam,
            cosine: false,
            shift: 0,
            mixup: None,
            patience: None,
        }
    }

    /// With a cosine decay of the rate to a twentieth.
    pub fn cosine(self) -> Recipe {
        Recipe {
            cosine: true,
            ..self
        }
    }

    /// With random shifts of up to `shift` pixels or signal steps.
    pub fn shift(self, shift: usize) -> Recipe {
        Recipe { shift, ..self }
    }

    /// Keeping the best epoch on the validation split, stopping after `patience` epochs without a
    /// better one.
    pub fn patience(self, patience: usize) -> Recipe {
        Recipe {
            patience: Some(patience),
            ..self
        }
    }

    /// With mixup at `alpha`.
    pub fn mixup(self, alpha: f32) -> Recipe {
        Recipe {
            mixup: Some(alpha),
            ..self
        }
    }
}

/// How a model trained, in words: "Adam lr 0.001 (cosine decay to a twentieth), shifts up to 2".
pub fn recipe_text(r: &Recipe) -> String {
    let mut text = format!(
        "{} lr {}",
        match r.optimizer {
            OptimizerKind::Adam => "Adam",
            OptimizerKind::Sgd => "SGD (momentum 0.9)",
        },
        r.lr
    );
    if r.cosine {
        text.push_str(" (cosine decay to a twentieth)");
    }
    if r.shift > 0 {
        text.push_str(&format!(", random shifts up to {}", r.shift));
    }
    if let Some(alpha) = r.mixup {
        text.push_str(&format!(", mixup α = {alpha}"));
    }
    text
}

/// The numbers of the distillation loss: the temperature that divides the teacher's logits before
/// the softmax, and the weights of the label term and of the teacher's term.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    pub temperature: f32,
    pub hard_weight: f32,
    pub soft_weight: f32,
}

/// Everything the driver needs to run a study, resolved from a preset and the flags.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The preset's name ("Quick"), as reports and results.json call it.
    pub preset: String,
    pub teacher: ModelSpec,
    pub teacher_recipe: Recipe,
    /// One teacher, or several of `teacher` and `teacher_recipe` from different seeds, combined.
    pub ensemble: Ensemble,
    /// Each gets its own rows in the table and its own panel in curves.svg.
    pub students: Vec<ModelSpec>,
    pub student_recipe: Recipe,
    /// The teacher's and the students' (one check covers both: `Splits::check_batch_size`).
    pub batch_size: usize,
    pub weights: Weights,
    /// Where `weights` came from (the explanations say whether they were chosen on this data).
    pub weights_source: WeightsSource,
    pub seeds: usize,
    /// Training samples held out for validation: never trained on, what the sweep chooses by.
    /// The test set chooses nothing.
    pub validation: usize,
    /// Keep only the first this many training samples (before the validation split).
    pub train_limit: Option<usize>,
    /// Threads for the kernels (`None`: all cores).
    pub threads: Option<usize>,
    pub data_dir: PathBuf,
    pub out: PathBuf,
}

/// The flags every study has. `None` or empty: the preset's value.
#[derive(clap::Args, Debug, Clone)]
pub struct StudyFlags {
    /// The teacher, as a model description: e.g. cnn:32,64,fc=128,dropout=0.3, mlp:1200,1200 or
    /// cnn1d:64,32,fc=20.
    #[arg(global = true, long)]
    pub teacher: Option<String>,
    /// Teachers the students learn from: N of the same description and recipe, trained from
    /// seeds 1 to N (saved as teacher.safetensors, teacher-2.safetensors…) and combined as
    /// --ensemble says. 1: one teacher.
    #[arg(global = true, long)]
    pub teachers: Option<usize>,
    /// How the teachers of an ensemble are combined: `probabilities` averages their softened
    /// probabilities (Hinton et al.'s ensemble), `logits` averages their logits.
    #[arg(
        global = true,
        long,
        value_parser = PossibleValuesParser::new(COMBINE_NAMES.map(|(n, _)| n))
            .map(combine_named)
    )]
    pub ensemble: Option<kd::Combine>,
    /// A student, in the same form; repeat the flag for several (each gets its own rows).
    #[arg(global = true, long)]
    pub student: Vec<String>,
    /// Epochs for each student.
    #[arg(global = true, long)]
    pub epochs: Option<usize>,
    /// Epochs for the teacher.
    #[arg(global = true, long)]
    pub teacher_epochs: Option<usize>,
    /// Training batch size, for the teacher and the students.
    #[arg(global = true, long)]
    pub batch_size: Option<usize>,
    /// Learning rate of the students (the teacher's is --teacher-lr).
    #[arg(global = true, long)]
    pub lr: Option<f32>,
    /// The students' optimizer (the teacher trains with Adam).
    #[arg(global = true, long, value_enum)]
    pub optimizer: Option<OptimizerKind>,
    /// Learning rate of the teacher (Adam, cosine decay to a twentieth).
    #[arg(global = true, long)]
    pub teacher_lr: Option<f32>,
    /// Largest random shift of the teacher's training samples, in pixels or signal steps (0:
    /// none).
    #[arg(global = true, long)]
    pub teacher_shift: Option<usize>,
    /// Keep the teacher's best epoch on the validation split (accuracy, ties to the lower loss)
    /// and stop after this many epochs without a better one (0: keep the last epoch, run all).
    #[arg(global = true, long)]
    pub teacher_patience: Option<usize>,
    /// Mixup's α for the teacher (0: no mixup).
    #[arg(global = true, long)]
    pub teacher_mixup: Option<f32>,
    /// Mixup's α for the students, alone and distilled alike (0: no mixup).
    #[arg(global = true, long)]
    pub mixup: Option<f32>,
    /// Distillation temperature T (> 0): the teacher's logits are divided by T before the softmax.
    #[arg(global = true, long)]
    pub temperature: Option<f32>,
    /// Weight of the hard-label cross-entropy term, in [0, 1].
    #[arg(global = true, long)]
    pub hard_weight: Option<f32>,
    /// Weight of the soft (teacher) term, in [0, 1]; its KL part is multiplied by T² internally.
    #[arg(global = true, long)]
    pub soft_weight: Option<f32>,
    /// For familiarity with PyTorch code: α weighs the SOFT term, i.e. soft weight = α and hard
    /// weight = 1 − α (Keras's distiller uses the opposite convention). Conflicts with the two
    /// weight flags.
    #[arg(global = true, long, conflicts_with_all = ["hard_weight", "soft_weight"])]
    pub alpha: Option<f32>,
    /// Number of seeds for the students (mean ± std over them).
    #[arg(global = true, long)]
    pub seeds: Option<usize>,
    /// Training samples held out for validation (never trained on; what the sweep chooses by).
    #[arg(global = true, long)]
    pub validation: Option<usize>,
    /// Keep only the first this many training samples (before the validation split).
    #[arg(global = true, long)]
    pub train_limit: Option<usize>,
    /// Threads for the kernels (default: all cores).
    #[arg(global = true, long)]
    pub threads: Option<usize>,
    /// Output folder (default: the preset's, under runs/).
    #[arg(global = true, long)]
    pub out: Option<PathBuf>,
}

impl StudyFlags {
    /// `settings` (the preset's) overridden by the flags given; every value checked.
    pub fn apply(&self, mut s: Settings) -> Result<Settings, String> {
        let parse = |text: &str| text.parse::<ModelSpec>().map_err(|e| e.to_string());
        if let Some(t) = &self.teacher {
            s.teacher = parse(t)?;
        }
        if !self.student.is_empty() {
            s.students = self
                .student
                .iter()
                .map(|t| parse(t))
                .collect::<Result<_, _>>()?;
        }
        s.ensemble.members = self.teachers.unwrap_or(s.ensemble.members);
        s.ensemble.combine = self.ensemble.unwrap_or(s.ensemble.combine);
        let (teacher, student) = (&mut s.teacher_recipe, &mut s.student_recipe);
        student.epochs = self.epochs.unwrap_or(student.epochs);
        student.lr = self.lr.unwrap_or(student.lr);
        student.optimizer = self.optimizer.unwrap_or(student.optimizer);
        teacher.epochs = self.teacher_epochs.unwrap_or(teacher.epochs);
        teacher.lr = self.teacher_lr.unwrap_or(teacher.lr);
        teacher.shift = self.teacher_shift.unwrap_or(teacher.shift);
        if let Some(p) = self.teacher_patience {
            teacher.patience = (p > 0).then_some(p);
        }
        if let Some(alpha) = self.teacher_mixup {
            teacher.mixup = mixup_alpha("--teacher-mixup", alpha)?;
        }
        if let Some(alpha) = self.mixup {
            student.mixup = mixup_alpha("--mixup", alpha)?;
        }
        let w = &mut s.weights;
        let given = [
            self.temperature,
            self.alpha,
            self.hard_weight,
            self.soft_weight,
        ];
        if given.iter().any(Option::is_some) {
            s.weights_source = WeightsSource::CommandLine;
        }
        w.temperature = self.temperature.unwrap_or(w.temperature);
        if let Some(alpha) = self.alpha {
            check_unit("--alpha", alpha)?;
            w.soft_weight = alpha;
            w.hard_weight = complement(alpha);
        }
        w.hard_weight = self.hard_weight.unwrap_or(w.hard_weight);
        w.soft_weight = self.soft_weight.unwrap_or(w.soft_weight);
        s.batch_size = self.batch_size.unwrap_or(s.batch_size);
        s.seeds = self.seeds.unwrap_or(s.seeds);
        s.validation = self.validation.unwrap_or(s.validation);
        s.train_limit = self.train_limit.or(s.train_limit);
        s.threads = self.threads.or(s.threads);
        if let Some(out) = &self.out {
            s.out = out.clone();
        }
        s.check()?;
        Ok(s)
    }
}

impl Settings {
    fn check(&self) -> Result<(), String> {
        check_positive("--temperature", self.weights.temperature)?;
        check_unit("--hard-weight", self.weights.hard_weight)?;
        check_unit("--soft-weight", self.weights.soft_weight)?;
        for (flag, value) in [
            ("--epochs", self.student_recipe.epochs),
            ("--teacher-epochs", self.teacher_recipe.epochs),
            ("--teachers", self.ensemble.members),
            ("--batch-size", self.batch_size),
            ("--seeds", self.seeds),
            ("--validation", self.validation),
            ("--threads", self.threads.unwrap_or(1)),
        ] {
            at_least_one(flag, value)?;
        }
        check_positive("--lr", self.student_recipe.lr)?;
        check_positive("--teacher-lr", self.teacher_recipe.lr)
    }
}

/// `Ok` when `ok`, else the one line that says so: "{flag} must be {expected}, found {found}".
fn require(
    ok: bool,
    flag: &str,
    expected: &str,
    found: impl std::fmt::Display,
) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("{flag} must be {expected}, found {found}"))
    }
}

/// `1 − w` as a person writes it: `complement(0.9)` is `0.1`, where `1.0 - 0.9` in `f32` is
/// 0.100000024 (the nearest `f32` to the decimal result, not the difference of the two `f32`s).
pub fn complement(w: f32) -> f32 {
    (1.0 - as_typed(w)) as f32
}

/// Checks that a count given on the command line (`flag`) is at least 1.
pub fn at_least_one(flag: &str, value: usize) -> Result<(), String> {
    require(value > 0, flag, "at least 1", value)
}

/// Checks that a weight given on the command line (`flag`) lies in [0, 1].
pub fn check_unit(flag: &str, value: f32) -> Result<(), String> {
    require((0.0..=1.0).contains(&value), flag, "in [0, 1]", value)
}

/// Checks that a temperature or a rate given on the command line (`flag`) is a positive number.
pub fn check_positive(flag: &str, value: f32) -> Result<(), String> {
    require(
        value > 0.0 && value.is_finite(),
        flag,
        "a positive number",
        value,
    )
}

/// Mixup's α from a flag: 0 turns mixup off.
fn mixup_alpha(flag: &str, alpha: f32) -> Result<Option<f32>, String> {
    let valid = alpha >= 0.0 && alpha.is_finite();
    require(valid, flag, "a number ≥ 0 (0 turns mixup off)", alpha)?;
    Ok((alpha > 0.0).then_some(alpha))
}

#[cfg(test)]
mod tests {
    use super::complement;

    #[test]
    fn the_complement_of_a_weight_is_the_decimal_one() {
        assert_eq!(complement(0.9), 0.1);
        assert_eq!(complement(0.5), 0.5);
        assert_eq!(complement(0.0), 1.0);
        assert_eq!(complement(1.0), 0.0);
        assert_eq!(complement(0.7), 0.3);
        assert_ne!(1.0f32 - 0.9, 0.1, "the plain difference is not 0.1");
    }
}
