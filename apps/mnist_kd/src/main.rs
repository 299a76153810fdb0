//! `mnist_kd`: the main job. A teacher CNN, then each student trained alone and the same student
//! (same initialisation) distilled from the teacher, over several seeds, on MNIST or any image set
//! in its IDX format (Fashion-MNIST, or one's own); a table of what distillation did, and the files
//! to check it.
//!
//! The study itself — teacher, seeds, pairs, reports, sweep — is the driver's (`apps/study`).
//! What is this app's is here: the IDX files (image size, classes and their names, the data's
//! name) and the two-class task, the presets (chosen on MNIST), the choice between distilling the
//! outputs (Hinton et al.), a hidden layer (FitNets) and the outputs decoupled (DKD), and the
//! comparison with Hinton et al.'s MNIST figures.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::ValueEnum;
use kd::{BinaryLoss, ModelSpec, Objective, ResponseLoss};
use nn::data::load_idx_set;
use serde_json::{json, Map, Value};
use study::data::MNIST;
use study::diverged::cell;
use study::explain::WeightsSource;
use study::{
    at_least_one, hint_between, About, Cli, Command, DataSource, DkdFlags, DkdWeights, Ensemble,
    KdLoss, Recipe, Settings, Splits, Study, Summary, TeacherOutcome, Weights,
};

mod serve;

const ABOUT: About = About {
    name: "mnist_kd",
    about: "Knowledge distillation on MNIST or any image set in its IDX format: train a teacher \
            CNN, then the same student alone and distilled from the teacher, over several seeds, \
            and report what distillation did.",
    after_help: "With no subcommand, runs the whole study with the default preset on data/mnist. \
                 Fetch MNIST first with scripts/fetch-mnist (Fashion-MNIST with \
                 scripts/fetch-fashion-mnist), or point --data-dir at a folder of one's own: the \
                 four IDX files under MNIST's names (train-images-idx3-ubyte, \
                 train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte; raw or \
                 .gz) and optionally classes.txt, one class name per line. After a run, \
                 `mnist_kd serve` opens a local page to draw digits on and watch the teacher and \
                 the students answer (`mnist_kd serve --help`).",
};
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Preset {
    /// A smoke run of seconds to a minute: small subsets, two teacher epochs, 2 seeds.
    Quick,
    /// The default study: a CNN teacher with batch norm that keeps its best epoch on validation,
    /// two MLP students, 3 seeds (README.md gives how long it takes).
    Default,
    /// Hinton et al. 2015's MNIST setting: MLP teacher 1200-1200 with dropout and ±2-pixel
    /// jitter, MLP student 800-800 without regularisation, T = 20.
    Hinton,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum KdMethod {
    /// Learn from the teacher's softened outputs (Hinton et al.).
    Response,
    /// Learn from the teacher's last hidden features through an adapter (FitNets), plus labels.
    Feature,
    /// Both.
    Both,
    /// Decoupled KD (Zhao et al. 2022): the outputs' KL split into the target class against the
    /// rest (TCKD) and the rest among themselves (NCKD), weighted apart (--dkd-target-weight,
    /// --dkd-non-target-weight).
    Dkd,
}

/// DKD's non-target weight β when --dkd-non-target-weight is not given: chosen on MNIST's
/// validation split at the default preset's T and weights (docs/dark_knowledge.md, section 5).
const DKD_NON_TARGET_WEIGHT: f32 = 0.25;

/// The flags that are this app's (the driver's come before them).
#[derive(clap::Args, Debug)]
struct Options {
    /// What the distilled student learns from the teacher.
    #[arg(global = true, long, value_enum)]
    kd_method: Option<KdMethod>,
    /// Keep only the first this many test images.
    #[arg(global = true, long)]
    test_limit: Option<usize>,
    /// Folder holding the four IDX files under MNIST's names, raw or .gz, and optionally
    /// classes.txt (one class name per line). Image size and classes come from the files.
    #[arg(global = true, long, default_value = "data/mnist")]
    data_dir: PathBuf,
    /// What reports call the data (default: the data folder's name; "MNIST" for the full MNIST in
    /// data/mnist).
    #[arg(global = true, long)]
    name: Option<String>,
    /// The classes' names in label order, comma-separated (default: the data folder's
    /// classes.txt, else the class numbers).
    #[arg(global = true, long, value_delimiter = ',')]
    class_names: Option<Vec<String>>,
    /// `binary:A,B`: only classes A and B, one sigmoid output, binary cross-entropy and binary
    /// distillation.
    #[arg(global = true, long)]
    task: Option<String>,
    #[command(flatten)]
    dkd: DkdFlags,
}

/// What is this app's in a run, besides the driver's settings.
struct Mnist {
    kd_method: KdMethod,
    test_limit: Option<usize>,
    /// What reports call the data, if given (`--name`).
    name: Option<String>,
    /// The classes' names, if given (`--class-names`): they win over the folder's classes.txt.
    class_names: Option<Vec<String>>,
    /// `Some((a, b))` for a two-class binary task.
    binary: Option<(usize, usize)>,
    /// Whether to set the results beside Hinton et al.'s.
    beside_hinton: bool,
    /// DKD's two weights, with `--kd-method dkd`.
    dkd: Option<DkdWeights>,
}

fn main() -> ExitCode {
    // `serve` is this app's own command, not one of the study driver's: it trains nothing, it
    // shows what a run saved.
    let mut args = std::env::args_os();
    if args.nth(1).is_some_and(|first| first == "serve") {
        return serve::main(std::env::args_os().skip(1));
    }
    study::main(&ABOUT, resolve)
}

/// The preset's settings, overridden by the flags; every value checked.
fn resolve(cli: &Cli<Preset, Options>, command: &Command) -> Result<(Mnist, Settings), String> {
    let spec = |s: &str| s.parse::<ModelSpec>().expect("preset specs parse");
    // The teacher keeps its best epoch on the validation split (`patience`): on data harder than
    // MNIST it needs more epochs than MNIST does, and the best epoch guards against too many.
    type Plan<'a> = (&'a str, usize, Option<usize>, &'a [&'a str], usize);
    let (teacher, teacher_epochs, patience, students, epochs): Plan = match cli.preset {
        Preset::Default => (
            "cnn:32,64,fc=128,bn,dropout=0.3",
            15,
            Some(3),
            &["mlp:100,100", "mlp:10,10"],
            10,
        ),
        Preset::Quick => ("cnn:8,16,fc=32", 2, Some(1), &["mlp:32,32"], 5),
        Preset::Hinton => ("mlp:1200,1200,dropout=0.5", 20, None, &["mlp:800,800"], 20),
    };
    // The quick preset takes small subsets, so that a run takes seconds.
    let quick = cli.preset == Preset::Quick;
    let preset = Settings {
        preset: format!("{:?}", cli.preset),
        teacher: spec(teacher),
        // ±2-pixel jitter: Hinton et al.'s, and it helps every teacher here.
        teacher_recipe: Recipe {
            patience,
            ..Recipe::adam(teacher_epochs, 1e-3).cosine().shift(2)
        },
        ensemble: Ensemble::SINGLE,
        students: students.iter().map(|s| spec(s)).collect(),
        student_recipe: Recipe::adam(epochs, 1e-3),
        batch_size: 128,
        // Chosen on the validation split (docs/mnist_sweep.md); the paper's T for its preset.
        weights: Weights {
            temperature: if cli.preset == Preset::Hinton {
                20.0
            } else {
                2.0
            },
            hard_weight: 0.1,
            soft_weight: 0.9,
        },
        weights_source: WeightsSource::Preset,
        seeds: if quick { 2 } else { 3 },
        validation: if quick { 2000 } else { 5000 },
        train_limit: quick.then_some(12000),
        threads: None,
        data_dir: cli.options.data_dir.clone(),
        out: PathBuf::from("runs").join(format!("{:?}", cli.preset).to_lowercase()),
    };
    let o = &cli.options;
    let settings = cli.study.apply(preset)?;
    let binary = o.task.as_deref().map(parse_binary_task).transpose()?;
    let kd_method = o.kd_method.unwrap_or(KdMethod::Response);
    let dkd = o.dkd.resolve(
        kd_method == KdMethod::Dkd,
        DKD_NON_TARGET_WEIGHT,
        &settings,
        binary.is_some(),
    )?;
    let mnist = Mnist {
        kd_method,
        test_limit: o.test_limit.or(quick.then_some(2000)),
        name: o.name.clone(),
        class_names: o
            .class_names
            .as_deref()
            .map(parse_class_names)
            .transpose()?,
        binary,
        // The paper's figures are MNIST's: another data set is not set beside them.
        beside_hinton: cli.preset == Preset::Hinton && o.data_dir == Path::new(MNIST.default_dir),
        dkd,
    };
    at_least_one("--test-limit", mnist.test_limit.unwrap_or(1))?;
    if matches!(command, Command::Sweep { .. }) && mnist.kd_method == KdMethod::Feature {
        return Err(
            "the sweep varies the temperature and the soft weight, which --kd-method \
                    feature does not use; use response or both"
                .into(),
        );
    }
    Ok((mnist, settings))
}

/// `binary:4,9` → `(4, 9)`. Whether the data has such classes is checked when it is loaded.
fn parse_binary_task(task: &str) -> Result<(usize, usize), String> {
    let bad =
        || format!("--task must be binary:A,B with two different class numbers, found {task:?}");
    let classes = task.strip_prefix("binary:").ok_or_else(bad)?;
    let (a, b) = classes.split_once(',').ok_or_else(bad)?;
    let (a, b): (usize, usize) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
    if a == b {
        return Err(bad());
    }
    Ok((a, b))
}

/// The names given to `--class-names`, trimmed; none may be empty.
fn parse_class_names(names: &[String]) -> Result<Vec<String>, String> {
    let names: Vec<String> = names.iter().map(|n| n.trim().to_string()).collect();
    match names.iter().position(|n| n.is_empty()) {
        Some(i) => Err(format!(
            "--class-names: expected a name between every two commas, found name {} empty",
            i + 1
        )),
        None => Ok(names),
    }
}

impl Study for Mnist {
    fn name(&self) -> &'static str {
        ABOUT.name
    }

    /// The IDX files, named, cut to the task. A missing or inconsistent file comes back as the
    /// reader's message (which says what to run, or what was expected and found).
    fn load(&self, source: &DataSource) -> Result<Splits, String> {
        let set = load_idx_set(source.dir).map_err(|e| e.to_string())?;
        let classes = set.train.classes;
        let dir = source.dir.display();
        let mut class_names = match (&self.class_names, set.class_names) {
            (Some(given), _) if given.len() != classes => {
                return Err(format!(
                    "--class-names: expected {classes} names, as the training labels in {dir} \
                     name {classes} classes, found {}",
                    given.len()
                ))
            }
            (Some(given), _) => given.clone(),
            (None, Some(from_file)) => from_file,
            (None, None) => (0..classes).map(|c| c.to_string()).collect(),
        };
        let name = match &self.name {
            Some(name) => name.clone(),
            None => MNIST.name_of(source.dir, set.train.len(), set.test.len()),
        };
        let (mut train, mut test) = (set.train, set.test);
        let mut validation = source.validation;
        if let Some((a, b)) = self.binary {
            if a.max(b) >= classes {
                return Err(format!(
                    "--task binary:{a},{b}: expected two classes below {classes}, as the \
                     training labels in {dir} name {classes} classes, found {}",
                    a.max(b)
                ));
            }
            let all = train.len();
            train = train.filter_classes(&[a, b]);
            test = test.filter_classes(&[a, b]);
            class_names = vec![class_names[a].clone(), class_names[b].clone()];
            // The same share held out as for all the classes (5 000 of MNIST's 60 000), not
            // 5 000 of the ~12 000 images of two digits.
            validation = (validation * train.len()).div_ceil(all);
        }
        if let Some(n) = self.test_limit {
            test = test.take(n);
        }
        let source = DataSource {
            validation,
            ..*source
        };
        let mut splits = source
            .split(name, MNIST.samples, train, test)?
            .with_class_names(class_names)?;
        splits.one_logit = self.binary.is_some();
        Ok(splits)
    }

    fn distilled(
        &self,
        student: &ModelSpec,
        teacher: &ModelSpec,
        seed: u64,
        w: Weights,
    ) -> Result<KdLoss, String> {
        let objective = match (self.kd_method, self.binary) {
            // `resolve` refused DKD on a binary task, and set its weights.
            (KdMethod::Dkd, _) => {
                let dkd = self.dkd.expect("resolve sets DKD's weights");
                Objective::Dkd(dkd.loss(w))
            }
            (KdMethod::Feature, None) => Objective::Hard {
                label_smoothing: 0.0,
            },
            (KdMethod::Feature, Some(_)) => Objective::BinaryHard,
            (_, None) => Objective::Response(ResponseLoss::new(
                w.hard_weight,
                w.soft_weight,
                w.temperature,
            )),
            (_, Some(_)) => {
                Objective::Binary(BinaryLoss::new(w.hard_weight, w.soft_weight, w.temperature))
            }
        };
        // A hint weighs as much as the labels: FitNets' stage-wise training is not reproduced.
        let hint = match self.kd_method {
            KdMethod::Response | KdMethod::Dkd => None,
            _ => Some(hint_between(student, teacher, seed, 1.0)?),
        };
        Ok(KdLoss { objective, hint })
    }

    fn config_json(&self, settings: &Settings) -> Map<String, Value> {
        let students: Vec<String> = settings.students.iter().map(|s| s.to_string()).collect();
        let config = json!({
            "students": students,
            "optimizer": format!("{:?}", settings.student_recipe.optimizer),
            "kd_method": format!("{:?}", self.kd_method),
            "task": self.binary.map(|(a, b)| format!("binary:{a},{b}")),
            "dkd": self.dkd.map(|d| d.json()),
        });
        config.as_object().expect("an object").clone()
    }

    fn identity(&self) -> BTreeMap<String, String> {
        BTreeMap::from([("task".to_string(), format!("{:?}", self.binary))])
    }

    fn describe(&self, teacher: &TeacherOutcome) -> Vec<String> {
        let task = match self.binary {
            None => format!(
                "Teacher's expected calibration error on the test set: {:.4}",
                teacher.calibration_error
            ),
            Some((a, b)) => format!("Binary task: {a} against {b}, one sigmoid output"),
        };
        vec![task, format!("Distillation method: {}", self.loss_name())]
    }

    fn loss_name(&self) -> String {
        match self.dkd {
            Some(dkd) => dkd.describe(),
            None => format!("{:?}", self.kd_method),
        }
    }

    fn teacher_json(&self, teacher: &TeacherOutcome) -> Map<String, Value> {
        let ece = teacher.calibration_error;
        let ece = if ece.is_finite() {
            json!(ece)
        } else {
            Value::Null
        };
        Map::from_iter([("expected_calibration_error".to_string(), ece)])
    }

    /// Our test errors beside Hinton, Vinyals and Dean (2015), section 3, for the `hinton`
    /// preset: the 784-1200-1200-10 teacher (dropout, ±2-pixel jitter), the 784-800-800-10
    /// student alone, and the same student distilled at T = 20.
    fn extra_sections(&self, rows: &[Summary]) -> String {
        if !self.beside_hinton || self.binary.is_some() {
            return String::new();
        }
        let paper = [
            ("teacher", 67.0),
            ("student alone", 146.0),
            ("student distilled", 74.0),
        ];
        let mut s = String::from(
            "\n## Beside the paper\n\nHinton et al. (2015) trained far longer (their figures are \
             after convergence; ours after the preset's epochs).\n\n\
             | model | our test errors | the paper's |\n|---|---:|---:|\n",
        );
        for ((name, errors), row) in paper.iter().zip(rows) {
            let ours = cell(&row.errors, 1);
            let _ = writeln!(s, "| {name}: {} | {ours} | {errors:.0} |", row.spec);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Any two different class numbers parse; whether the data has them is checked on loading.
    #[test]
    fn a_binary_task_names_two_different_classes() {
        assert_eq!(parse_binary_task("binary:4,9"), Ok((4, 9)));
        assert_eq!(parse_binary_task("binary:12,0"), Ok((12, 0)));
        for bad in ["binary:3,3", "binary:3", "4,9", "binary:a,b"] {
            let err = parse_binary_task(bad).unwrap_err();
            assert!(err.contains("two different class numbers"), "{err}");
        }
    }

    #[test]
    fn class_names_are_trimmed_and_none_is_empty() {
        let given = |names: &[&str]| {
            parse_class_names(&names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
        };
        assert_eq!(
            given(&["cat", " dog "]),
            Ok(vec!["cat".into(), "dog".into()])
        );
        assert_eq!(
            given(&["cat", " ", "dog"]),
            Err(
                "--class-names: expected a name between every two commas, found name 2 empty"
                    .into()
            )
        );
    }
}
