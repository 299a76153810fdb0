//! What every experiment shares: MNIST split as `mnist_kd` splits it, the teacher of `mnist_kd`'s
//! default study, and one function that trains a student alone or distilled, the way the study
//! driver trains every model.
//!
//! The teacher is `mnist_kd`'s so that the experiments explain the main job's result, and so that
//! it is trained once: the data, the split, the normalisation, the model and its recipe are the
//! same as `mnist_kd`'s default preset, so the checkpoint identity matches and the driver's
//! `TeacherPlan` reuses the teacher `mnist_kd` saved (or saves the one it trains where `mnist_kd`
//! will reuse it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kd::{FitOutcome, ModelSpec, Objective, ResponseLoss, Teacher};
use nn::data::{load_idx_set, Dataset};
use nn::{checkpoint, Sequential};
use study::data::{Splits, MNIST};
use study::runs::scores_text;
use study::teacher::{data_identity, TeacherPlan};
use study::train::{build, train, train_config, EvalOn};
use study::{DataSource, KdLoss, Recipe, TeacherOutcome, Weights, ACCURACY};
/// `mnist_kd`'s default teacher: keep these equal to its preset (apps/mnist_kd/src/main.rs, a
/// binary this crate cannot import), or its saved teacher is not reused: a new one is trained
/// into `--out` instead, which costs minutes but gives no wrong result.
const TEACHER: &str = "cnn:32,64,fc=128,bn,dropout=0.3";
const TEACHER_EPOCHS: usize = 15;
const TEACHER_PATIENCE: usize = 3;
const TEACHER_BATCH: usize = 128;
/// `mnist_kd`'s soft weight and temperature, chosen on the validation split
/// (docs/mnist_sweep.md).
const SOFT_WEIGHT: f32 = 0.9;
/// Seeds per experiment unless `--seeds` says otherwise.
pub const SEEDS: usize = 3;
pub const MNIST_KD_TEMPERATURE: f32 = 2.0;

/// The flags every experiment has.
#[derive(clap::Args, Debug, Clone)]
pub struct LabFlags {
    /// Folder holding MNIST's four IDX files (raw or .gz).
    #[arg(global = true, long, default_value = "data/mnist")]
    pub data_dir: PathBuf,
    /// The folder of mnist_kd's study whose teacher.safetensors is reused; the teacher is trained
    /// and saved there when it holds none of this configuration.
    #[arg(global = true, long, default_value = "runs/default")]
    pub teacher_dir: PathBuf,
    /// The teacher, as a model description (default: mnist_kd's default teacher).
    #[arg(global = true, long, default_value = TEACHER)]
    pub teacher: String,
    /// Epochs for the teacher (it keeps its best epoch on the validation split).
    #[arg(global = true, long, default_value_t = TEACHER_EPOCHS)]
    pub teacher_epochs: usize,
    /// A student, as a model description; repeat for several (default: the experiment's).
    #[arg(global = true, long)]
    pub student: Vec<String>,
    /// Epochs for each student (default: the experiment's).
    #[arg(global = true, long)]
    pub epochs: Option<usize>,
    /// Seeds per student: each seed draws one initialisation, shared by the student alone and
    /// distilled (default: 3; 5 for the tree toy, whose runs take seconds).
    #[arg(global = true, long)]
    pub seeds: Option<usize>,
    /// Distillation temperature (default: the experiment's, chosen on the validation split:
    /// mnist_kd's 2 for soften and regularise, 20 for omit and only).
    #[arg(global = true, long)]
    pub temperature: Option<f32>,
    /// Weight of the teacher's term; the labels' is one minus it (default: mnist_kd's, 0.9).
    /// `regularise` learns from the soft targets alone and refuses it.
    #[arg(global = true, long)]
    pub soft_weight: Option<f32>,
    /// Training batch size.
    #[arg(global = true, long, default_value_t = 128)]
    pub batch_size: usize,
    /// Training images held out for validation (what every choice is made on).
    #[arg(global = true, long, default_value_t = 5000)]
    pub validation: usize,
    /// Keep only the first this many training images (before the validation split).
    #[arg(global = true, long)]
    pub train_limit: Option<usize>,
    /// Keep only the first this many test images.
    #[arg(global = true, long)]
    pub test_limit: Option<usize>,
    /// Threads for the kernels (default: all cores).
    #[arg(global = true, long)]
    pub threads: Option<usize>,
    /// Where the reports go.
    #[arg(global = true, long, default_value = "runs/dark_knowledge")]
    pub out: PathBuf,
}

impl LabFlags {
    /// Refuses what cannot run, before anything is loaded.
    pub fn check(&self) -> Result<(), String> {
        study::at_least_one("--seeds", self.seeds.unwrap_or(1))?;
        study::at_least_one("--teacher-epochs", self.teacher_epochs)?;
        study::at_least_one("--batch-size", self.batch_size)?;
        study::at_least_one("--epochs", self.epochs.unwrap_or(1))?;
        study::at_least_one("--test-limit", self.test_limit.unwrap_or(1))?;
        study::settings::check_positive("--temperature", self.temperature.unwrap_or(1.0))?;
        study::settings::check_unit("--soft-weight", self.soft_weight.unwrap_or(SOFT_WEIGHT))?;
        study::at_least_one("--validation", self.validation)?;
        study::at_least_one("--threads", self.threads.unwrap_or(1))?;
        parse_spec(&self.teacher)?;
        for s in &self.student {
            parse_spec(s)?;
        }
        Ok(())
    }

    /// `--seeds`, else the experiment's `default`.
    pub fn seeds(&self, default: usize) -> usize {
        self.seeds.unwrap_or(default)
    }

    /// The students given with `--student`, else `default`.
    pub fn students(&self, default: &[&str]) -> Result<Vec<ModelSpec>, String> {
        if self.student.is_empty() {
            default.iter().map(|s| parse_spec(s)).collect()
        } else {
            self.student.iter().map(|s| parse_spec(s)).collect()
        }
    }

    /// The distillation loss's numbers: the temperature (`--temperature`, else the experiment's
    /// `default_temperature`) and the two weights.
    pub fn weights(&self, default_temperature: f32) -> Weights {
        let soft_weight = self.soft_weight.unwrap_or(SOFT_WEIGHT);
        Weights {
            temperature: self.temperature.unwrap_or(default_temperature),
            hard_weight: study::settings::complement(soft_weight),
            soft_weight,
        }
    }

    /// The one student of an experiment that trains one (`soften`, `regularise`): `--student`
    /// given once, else `default`.
    pub fn one_student(&self, default: &str) -> Result<ModelSpec, String> {
        match self.student.len() {
            0 => parse_spec(default),
            1 => parse_spec(&self.student[0]),
            n => Err(format!(
                "this experiment trains one student: expected --student at most once, found it \
                 {n} times"
            )),
        }
    }
}

/// Whether `path` holds a checkpoint whose metadata differs from `identity` somewhere.
fn holds_another(path: &Path, identity: &BTreeMap<String, String>) -> bool {
    match checkpoint::read_metadata(path) {
        Ok(meta) => identity.iter().any(|(k, v)| meta.get(k) != Some(v)),
        Err(_) => path.exists(),
    }
}

fn parse_spec(text: &str) -> Result<ModelSpec, String> {
    text.parse::<ModelSpec>().map_err(|e| e.to_string())
}

/// Runs `f` on a thread of a pool of `threads` threads (all cores when `None`), as the study
/// driver runs a study: kernels started from inside the pool share their work without handing it
/// over (see `study::run`).
pub fn on_pool<T: Send>(
    threads: Option<usize>,
    f: impl FnOnce() -> Result<T, String> + Send,
) -> Result<T, String> {
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        pool = pool.num_threads(n);
    }
    pool.build()
        .map_err(|e| format!("cannot start the threads: {e}"))?
        .install(f)
}

/// The data, the teacher, and the settings of an experiment.
pub struct Lab {
    pub flags: LabFlags,
    pub splits: Splits,
    pub teacher: Teacher,
    pub teacher_spec: ModelSpec,
    pub teacher_outcome: TeacherOutcome,
}

/// MNIST, split as `mnist_kd` splits it (the teacher's identity includes the split).
pub fn load(flags: &LabFlags) -> Result<Splits, String> {
    let set = load_idx_set(&flags.data_dir).map_err(|e| e.to_string())?;
    let name = MNIST.name_of(&flags.data_dir, set.train.len(), set.test.len());
    let test = match flags.test_limit {
        Some(n) => set.test.take(n),
        None => set.test,
    };
    let source = DataSource {
        dir: &flags.data_dir,
        train_limit: flags.train_limit,
        validation: flags.validation,
    };
    let splits = source.split(name, MNIST.samples, set.train, test)?;
    splits.check_batch_size(flags.batch_size)?;
    Ok(splits)
}

impl Lab {
    /// Trains or reuses the teacher for `splits` ([`load`]).
    pub fn open(flags: &LabFlags, splits: Splits) -> Result<Lab, String> {
        let teacher_spec = parse_spec(&flags.teacher)?;
        std::fs::create_dir_all(&flags.out).map_err(|e| {
            format!(
                "cannot create the output folder {}: {e}",
                flags.out.display()
            )
        })?;
        let recipe = Recipe::adam(flags.teacher_epochs, 1e-3)
            .cosine()
            .shift(2)
            .patience(TEACHER_PATIENCE);
        std::fs::create_dir_all(&flags.teacher_dir).map_err(|e| {
            format!(
                "cannot create the teacher's folder {}: {e}",
                flags.teacher_dir.display()
            )
        })?;
        let mut plan = TeacherPlan {
            spec: &teacher_spec,
            recipe: &recipe,
            batch_size: TEACHER_BATCH,
            // mnist_kd's one teacher (an ensemble's first member) is drawn from seed 1.
            seed: 1,
            path: flags.teacher_dir.join("teacher.safetensors"),
        };
        // mnist_kd's identity for its ten-class task, so that the two share one teacher.
        let app = BTreeMap::from([("task".to_string(), "None".to_string())]);
        let identity = plan.identity(&splits, &data_identity(&splits, &app));
        // Another teacher saved there is mnist_kd's, which its reports describe: a teacher of
        // this configuration is trained into --out rather than over it.
        if holds_another(&plan.path, &identity) {
            plan.path = flags.out.join("teacher.safetensors");
        }
        let (model, outcome) = plan.train_or_reuse(&splits, &identity, &[ACCURACY], None)?;
        eprintln!(
            "Teacher {teacher_spec}: {} ({} errors)",
            scores_text(&[ACCURACY], &outcome.result.test),
            outcome.result.confusion.errors()
        );
        Ok(Lab {
            flags: flags.clone(),
            splits,
            teacher: Teacher::single(Box::new(model)),
            teacher_spec,
            teacher_outcome: outcome,
        })
    }

    /// Trains `spec` from the initialisation of `seed` (the study driver's: the same weights as
    /// `mnist_kd`'s student of that seed) on `train`, for `epochs` at Adam's 10⁻³ (`mnist_kd`'s
    /// student recipe): on the labels alone, or distilled from the teacher at `weights` when
    /// given. `transfer`: the lab's splits with the experiment's training set
    /// ([`Lab::with_train`]), or `None` for the lab's own (no copy of the training set); the
    /// validation split and the test set are scored after every epoch.
    pub fn student(
        &mut self,
        spec: &ModelSpec,
        seed: u64,
        transfer: Option<&Splits>,
        epochs: usize,
        weights: Option<Weights>,
    ) -> Result<(Sequential, FitOutcome), String> {
        // Borrows of two fields: the splits read, the teacher (its cache) written.
        let splits = transfer.unwrap_or(&self.splits);
        let mut model = build(spec, splits, 1000 + seed)?;
        let recipe = Recipe::adam(epochs, 1e-3);
        let config = train_config(&recipe, self.flags.batch_size, seed);
        splits.check_batch_size(self.flags.batch_size)?;
        let role = if weights.is_some() {
            "distilled"
        } else {
            "alone"
        };
        let lesson = weights.map(|w| {
            let loss = ResponseLoss::new(w.hard_weight, w.soft_weight, w.temperature);
            let loss = KdLoss {
                objective: Objective::Response(loss),
                hint: None,
            };
            (&mut self.teacher, loss)
        });
        let label = format!("{spec} {role} seed {seed}");
        let outcome = train(
            &mut model,
            lesson,
            &recipe,
            config,
            splits,
            EvalOn::Test,
            &label,
        );
        if let Some((epoch, batch)) = outcome.diverged {
            return Err(format!(
                "{label}: the loss became non-finite at epoch {}, batch {batch}; try a smaller \
                 --temperature or fewer epochs",
                epoch + 1
            ));
        }
        Ok((model, outcome))
    }

    /// The splits with `train` as the training set (a transfer set, a share): the validation
    /// split, the test set and the normalisation stay the teacher's.
    pub fn with_train(&self, train: Dataset) -> Splits {
        let s = &self.splits;
        Splits {
            name: s.name.clone(),
            samples: s.samples,
            train,
            validation: s.validation.clone(),
            test: s.test.clone(),
            mean: s.mean,
            std: s.std,
            one_logit: false,
            class_names: s.class_names.clone(),
        }
    }
}
