//! `signal_kd`: distillation between 1-D CNNs on MNIST-1D (Greydanus 2020), after a published
//! study that distils a 1-D CNN heartbeat classifier (64-filter convolutions, two dense layers,
//! about 17k parameters) into one of the same form with about a quarter of the parameters, with a
//! KL + MAE soft loss and mixup, and reports macro-F1 as mean ± std.
//!
//! The study itself — teacher, seeds, pairs, reports — is the driver's (`apps/study`). What is
//! this study's is here: the `.npy` files (`data.rs`), the presets, 1-D CNNs only, the soft loss
//! (KL + MAE on the soft labels, or DKD with `--kd-method dkd`), and macro-F1 as the metric that
//! judges.

mod data;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use kd::spec::Kind;
use kd::{ModelSpec, Objective, ResponseLoss, SoftLoss};
use serde_json::{json, Map, Value};
use study::explain::WeightsSource;
use study::{
    About, Cli, Command, DataSource, DkdFlags, DkdWeights, Ensemble, KdLoss, Metric, Recipe,
    Settings, Splits, Study, Weights, ACCURACY, MACRO_F1,
};

const ABOUT: About = About {
    name: "signal_kd",
    about: "Knowledge distillation between 1-D CNNs on MNIST-1D: train a teacher, then a 4× \
            smaller student alone and distilled (KL at temperature T + MAE on the soft labels; \
            mixup for the teacher, and for the students with --mixup), over several seeds; \
            report accuracy and macro-F1 as mean ± std.",
    after_help: "With no subcommand, runs the whole study with the default preset. Generate \
                 the data first with scripts/fetch-mnist1d.",
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Preset {
    /// A smoke run of about a minute: fewer epochs, 2 seeds.
    Quick,
    /// The study: 5 seeds (a few minutes on 2 cores).
    Default,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum KdMethod {
    /// KL at temperature T (Hinton et al.), plus the MAE of the soft labels (--mae-weight).
    Response,
    /// Decoupled KD (Zhao et al. 2022): the KL split into the target class against the rest
    /// (TCKD) and the rest among themselves (NCKD), weighted apart (--dkd-target-weight,
    /// --dkd-non-target-weight); no MAE term.
    Dkd,
}

/// DKD's non-target weight β when --dkd-non-target-weight is not given: chosen on MNIST-1D's
/// validation split at the default preset's T and weights (docs/dark_knowledge.md, section 5).
const DKD_NON_TARGET_WEIGHT: f32 = 0.25;

/// The flags that are this study's (the driver's come before them).
#[derive(clap::Args, Debug)]
struct Options {
    /// What the distilled student learns from the teacher's outputs.
    #[arg(global = true, long, value_enum)]
    kd_method: Option<KdMethod>,
    /// Weight of the mean absolute error between the soft labels, added to the KL term
    /// (0: KL alone).
    #[arg(global = true, long)]
    mae_weight: Option<f32>,
    /// Folder holding the four MNIST-1D .npy files.
    #[arg(global = true, long, default_value = "data/mnist1d")]
    data_dir: PathBuf,
    #[command(flatten)]
    dkd: DkdFlags,
}

/// What is this study's in a run, besides the driver's settings.
struct Signals {
    mae_weight: f32,
    /// DKD's two weights, with `--kd-method dkd` (which has no MAE term).
    dkd: Option<DkdWeights>,
}

fn main() -> ExitCode {
    study::main(&ABOUT, resolve)
}

/// The preset's settings, overridden by the flags; every value checked. The choices are
/// explained, with the sweep they come from, in docs/mnist1d.md.
fn resolve(cli: &Cli<Preset, Options>, _: &Command) -> Result<(Signals, Settings), String> {
    let spec = |s: &str| s.parse::<ModelSpec>().expect("preset specs parse");
    let (teacher_epochs, epochs, seeds, out) = match cli.preset {
        Preset::Default => (80, 40, 5, "runs/signal-default"),
        Preset::Quick => (20, 12, 2, "runs/signal-quick"),
    };
    let preset = Settings {
        preset: format!("{:?}", cli.preset),
        // 17 286 parameters: conv k5 64 → pool → conv k5 32 → pool → dense 20 → dense 10.
        teacher: spec("cnn1d:64,32,fc=20"),
        // Mixup lifts the teacher by several points of test accuracy (docs/mnist1d.md).
        teacher_recipe: Recipe::adam(teacher_epochs, 3e-3).cosine().mixup(0.4),
        // 4 138 parameters (about a quarter of the teacher's): the same form with 16, 16 and 16.
        ensemble: Ensemble::SINGLE,
        students: vec![spec("cnn1d:16,16,fc=16")],
        // No mixup for the students by default (validation sweep in docs/mnist1d.md);
        // `--mixup 0.4` gives the article's recipe, to both students alike.
        student_recipe: Recipe::adam(epochs, 3e-3).cosine(),
        batch_size: 100,
        weights: Weights {
            temperature: 4.0,
            hard_weight: 0.5,
            soft_weight: 0.5,
        },
        weights_source: WeightsSource::Preset,
        seeds,
        validation: 500,
        train_limit: None,
        threads: None,
        data_dir: cli.options.data_dir.clone(),
        out: PathBuf::from(out),
    };
    let settings = cli.study.apply(preset)?;
    // The signals are [1, 40]: every model is a 1-D CNN.
    let models = [("--teacher", &settings.teacher)]
        .into_iter()
        .chain(settings.students.iter().map(|s| ("--student", s)));
    for (flag, spec) in models {
        if spec.kind != Kind::Cnn1d {
            return Err(format!(
                "{flag} must be a 1-D CNN, cnn1d:C1,…[,fc=N], found {:?}",
                spec.to_string()
            ));
        }
    }
    let o = &cli.options;
    let dkd_method = o.kd_method == Some(KdMethod::Dkd);
    // The signals have ten classes and one logit each: never a one-logit task.
    let dkd = o
        .dkd
        .resolve(dkd_method, DKD_NON_TARGET_WEIGHT, &settings, false)?;
    if dkd_method && o.mae_weight.is_some() {
        return Err(
            "--mae-weight adds to the KL of --kd-method response; DKD replaces that KL and has \
             no MAE term: drop --mae-weight, or use --kd-method response"
                .into(),
        );
    }
    let mae_weight = if dkd_method {
        0.0
    } else {
        o.mae_weight.unwrap_or(1.0)
    };
    if !(mae_weight >= 0.0 && mae_weight.is_finite()) {
        return Err(format!(
            "--mae-weight must be a number ≥ 0, found {mae_weight}"
        ));
    }
    Ok((Signals { mae_weight, dkd }, settings))
}

impl Study for Signals {
    fn name(&self) -> &'static str {
        ABOUT.name
    }

    fn load(&self, source: &DataSource) -> Result<Splits, String> {
        let (name, train, test) = data::read(source.dir)?;
        source.split(name, data::MNIST1D.samples, train, test)
    }

    /// Macro-F1 judges: a class the student neglects costs as much as any other.
    fn metrics(&self) -> &'static [Metric] {
        &[MACRO_F1, ACCURACY]
    }

    /// KL at temperature T, plus the MAE between the soft labels when its weight is not 0; or DKD.
    fn distilled(
        &self,
        _: &ModelSpec,
        _: &ModelSpec,
        _: u64,
        w: Weights,
    ) -> Result<KdLoss, String> {
        if let Some(dkd) = self.dkd {
            return Ok(KdLoss {
                objective: Objective::Dkd(dkd.loss(w)),
                hint: None,
            });
        }
        let mut loss = ResponseLoss::new(w.hard_weight, w.soft_weight, w.temperature);
        if self.mae_weight > 0.0 {
            loss = loss.with_soft_loss(SoftLoss::KlL1 {
                l1_weight: self.mae_weight,
            });
        }
        Ok(KdLoss {
            objective: Objective::Response(loss),
            hint: None,
        })
    }

    fn config_json(&self, s: &Settings) -> Map<String, Value> {
        let typed = study::typed;
        // One student is written as one description, as results.json has always had it.
        let students: Vec<String> = s.students.iter().map(|m| m.to_string()).collect();
        let student = match students.as_slice() {
            [one] => json!(one),
            _ => json!(students),
        };
        let (teacher, students) = (&s.teacher_recipe, &s.student_recipe);
        let config = json!({
            "student": student,
            "teacher_mixup_alpha": teacher.mixup.map(typed),
            "teacher_shift": teacher.shift,
            "teacher_lr": typed(teacher.lr),
            "mae_weight": typed(self.mae_weight),
            "kd_method": if self.dkd.is_some() { "Dkd" } else { "Response" },
            "dkd": self.dkd.map(|d| d.json()),
            "mixup_alpha": students.mixup.map(typed),
            "train_limit": s.train_limit,
        });
        config.as_object().expect("an object").clone()
    }

    fn identity(&self) -> BTreeMap<String, String> {
        BTreeMap::from([("data".to_string(), "mnist1d".to_string())])
    }

    fn describe(&self, _: &study::TeacherOutcome) -> Vec<String> {
        match self.dkd {
            Some(_) => vec![format!("Distillation method: {}", self.loss_name())],
            None => vec![format!("Soft term: {}", self.loss_name())],
        }
    }

    fn loss_name(&self) -> String {
        match self.dkd {
            Some(dkd) => dkd.describe(),
            None => format!("T² · KL + {} · MAE of the soft labels", self.mae_weight),
        }
    }
}
