//! The models of one run, as the page shows them: every checkpoint `mnist_kd` wrote in the run's
//! folder, rebuilt from the description its metadata keeps, with the test accuracy the run
//! measured (from its `results.json`).
//!
//! A model is a graph of `Var`s, and a `Var` is single-threaded by design (`Rc`, see autograd):
//! so the checkpoints are read once into a [`RunModels`], which says what there is, and each
//! thread that answers requests builds its own copy ([`RunModels::load`]).

use std::path::{Path, PathBuf};

use autograd::{no_grad, Var};
use kd::ModelSpec;
use nn::checkpoint;
use nn::{Module, Sequential};
use serde_json::Value;
use tensor::Tensor;

/// What one image is: MNIST's 28 × 28 grey pixels, one channel.
pub const SIDE: usize = 28;
pub const PIXELS: usize = SIDE * SIDE;

/// What a model was in its run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Teacher,
    /// A student trained on the labels alone.
    Alone,
    /// The same student, from the same initial weights, distilled from the teacher.
    Distilled,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Teacher => "teacher",
            Role::Alone => "alone",
            Role::Distilled => "distilled",
        }
    }
}

/// One checkpoint of the run, described.
#[derive(Debug, Clone)]
pub struct ModelInfo {
    /// The file's stem ("teacher", "student-mlp_100_100-alone"): what `POST /predict` names.
    pub id: String,
    pub role: Role,
    pub spec: ModelSpec,
    pub classes: usize,
    pub parameters: usize,
    /// The test accuracy `results.json` gives for this checkpoint, if it is there.
    pub test_accuracy: Option<f64>,
    /// The training pixels' mean and standard deviation: a model sees `(p − mean) / std`.
    pub mean: f32,
    pub std: f32,
    path: PathBuf,
}

/// The run's models, in the page's order: the teacher, then each student alone and distilled.
pub struct RunModels {
    pub dir: PathBuf,
    pub models: Vec<ModelInfo>,
    /// The temperature the students were distilled at, from `results.json`.
    pub temperature: Option<f64>,
    /// The data folder the run was trained on, from `results.json`.
    pub data_dir: Option<PathBuf>,
    /// How many teachers the students learned from: more than one for an ensemble, of which the
    /// page shows the first (`teacher.safetensors`; the others are `teacher-k.safetensors`).
    pub teachers_in_ensemble: usize,
}

impl RunModels {
    /// Reads the run folder `dir`: `teacher.safetensors` and every `student-*.safetensors`, each
    /// checked by building it once. An error says what was expected and what was found.
    pub fn open(dir: &Path) -> Result<RunModels, String> {
        let shown = dir.display();
        let entries = std::fs::read_dir(dir).map_err(|e| {
            format!(
                "cannot read the run folder {shown}: {e}; run `mnist_kd` first (it writes \
                 runs/default), or give the folder of a run with --run"
            )
        })?;
        let files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        let name = |p: &PathBuf| {
            p.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_string()
        };
        let teachers_in_ensemble = 1 + files
            .iter()
            .filter(|p| name(p).starts_with("teacher-") && name(p).ends_with(".safetensors"))
            .count();
        let mut paths: Vec<PathBuf> = files
            .into_iter()
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                name.ends_with(".safetensors")
                    && (name == "teacher.safetensors" || name.starts_with("student-"))
            })
            .collect();
        paths.sort();
        if !paths.iter().any(|p| p.ends_with("teacher.safetensors")) {
            return Err(format!(
                "{shown}: expected teacher.safetensors and the students' checkpoints that \
                 `mnist_kd` writes, found no teacher.safetensors"
            ));
        }
        let results = read_results(dir)?;
        let mut models = paths
            .iter()
            .map(|p| describe(p, results.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        // The teacher first; then the students by size (largest first), alone before distilled.
        models.sort_by_key(|m| {
            (
                m.role != Role::Teacher,
                std::cmp::Reverse(m.parameters),
                m.spec.to_string(),
                m.role == Role::Distilled,
            )
        });
        let classes = models[0].classes;
        if let Some(other) = models.iter().find(|m| m.classes != classes) {
            return Err(format!(
                "{}: expected {classes} outputs as the teacher has, found {}",
                other.path.display(),
                other.classes
            ));
        }
        let temperature = results
            .as_ref()
            .and_then(|r| r.pointer("/config/temperature"))
            .and_then(Value::as_f64);
        let data_dir = results
            .as_ref()
            .and_then(|r| r.pointer("/config/data_dir"))
            .and_then(Value::as_str)
            .map(PathBuf::from);
        Ok(RunModels {
            dir: dir.to_path_buf(),
            models,
            temperature,
            data_dir,
            teachers_in_ensemble,
        })
    }

    pub fn classes(&self) -> usize {
        self.models[0].classes
    }

    /// The index of the model called `id`.
    pub fn find(&self, id: &str) -> Option<usize> {
        self.models.iter().position(|m| m.id == id)
    }

    /// One thread's own copy of every model, in evaluation mode.
    pub fn load(&self) -> Result<Loaded, String> {
        let models = self
            .models
            .iter()
            .map(|m| build_and_load(&m.path, &m.spec, m.classes))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Loaded { models })
    }
}

/// Every model of a run, built and loaded, for one thread.
pub struct Loaded {
    models: Vec<Sequential>,
}

impl Loaded {
    /// The logits of model `index` (of [`RunModels::models`]) for `n` images of [`PIXELS`]
    /// values in [0, 1] each (ink 1, background 0, row by row), normalised as its training data
    /// was: `[n, classes]`.
    pub fn logits(&mut self, info: &ModelInfo, index: usize, images: &[f32]) -> Tensor {
        let n = images.len() / PIXELS;
        let inputs: Vec<f32> = images.iter().map(|&p| (p - info.mean) / info.std).collect();
        let inputs = Tensor::from_vec(inputs, &[n, 1, SIDE, SIDE]).expect("n whole images");
        let model = &mut self.models[index];
        no_grad(|| model.forward(&Var::constant(inputs)).value().clone())
    }
}

/// The run's `results.json`, if it has one (the page then shows no accuracies).
fn read_results(dir: &Path) -> Result<Option<Value>, String> {
    let path = dir.join("results.json");
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| format!("{}: not the JSON `mnist_kd` writes: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// The checkpoint at `path`, described from its metadata and checked by loading it once.
fn describe(path: &Path, results: Option<&Value>) -> Result<ModelInfo, String> {
    let shown = path.display();
    let meta = checkpoint::read_metadata(path).map_err(|e| e.to_string())?;
    let field = |key: &str| {
        meta.get(key).ok_or_else(|| {
            format!("{shown}: no \"{key}\" in its metadata: not a checkpoint `mnist_kd` wrote")
        })
    };
    let spec: ModelSpec = field("spec")?
        .parse()
        .map_err(|e: kd::SpecError| format!("{shown}: {}", e.0))?;
    let classes: usize = field("outputs")?
        .parse()
        .map_err(|_| format!("{shown}: \"outputs\" is not a count"))?;
    if classes < 2 {
        return Err(format!(
            "{shown}: expected a model with one output per class, found {classes} output (a \
             binary task): the page shows distributions over classes"
        ));
    }
    let (mean, std) = parse_normalisation(field("normalisation")?)
        .ok_or_else(|| format!("{shown}: \"normalisation\" is not two numbers, the second > 0"))?;
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .expect("the folder listing kept UTF-8 names")
        .to_string();
    let role = match (stem.as_str(), meta.get("role").map(String::as_str)) {
        ("teacher", _) => Role::Teacher,
        (_, Some("alone")) => Role::Alone,
        (_, Some("distilled")) => Role::Distilled,
        (_, role) => {
            return Err(format!(
                "{shown}: expected the role \"alone\" or \"distilled\" in its metadata, found \
                 {role:?}"
            ))
        }
    };
    let model = build_and_load(path, &spec, classes)?;
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    Ok(ModelInfo {
        test_accuracy: results.and_then(|r| test_accuracy(r, file_name)),
        id: stem,
        role,
        spec,
        classes,
        parameters: model.num_parameters(),
        mean,
        std,
        path: path.to_path_buf(),
    })
}

/// "0.1307 0.3081" → (0.1307, 0.3081).
fn parse_normalisation(text: &str) -> Option<(f32, f32)> {
    let mut parts = text.split_whitespace().map(str::parse::<f32>);
    let (mean, std) = (parts.next()?.ok()?, parts.next()?.ok()?);
    (parts.next().is_none() && mean.is_finite() && std.is_finite() && std > 0.0)
        .then_some((mean, std))
}

/// The model described by `spec` with the weights of `path`, in evaluation mode.
fn build_and_load(path: &Path, spec: &ModelSpec, classes: usize) -> Result<Sequential, String> {
    let mut model = spec
        .build(&[1, SIDE, SIDE], classes, 0)
        .map_err(|e| format!("{}: {}", path.display(), e.0))?;
    checkpoint::load(path, &model).map_err(|e| {
        format!("{e} (the page takes models of {SIDE} × {SIDE} one-channel images)")
    })?;
    model.set_training(false);
    Ok(model)
}

/// The test accuracy `results.json` records for the checkpoint named `file_name`: the teacher's
/// run, or the student run that wrote it.
fn test_accuracy(results: &Value, file_name: &str) -> Option<f64> {
    let teacher = results.pointer("/teacher/run").into_iter();
    let students = results
        .get("students")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    teacher
        .chain(students)
        .find(|run| {
            run.get("checkpoint")
                .and_then(Value::as_str)
                .is_some_and(|c| {
                    Path::new(c).file_name().and_then(|n| n.to_str()) == Some(file_name)
                })
        })
        .and_then(|run| run.get("test_accuracy"))
        .and_then(Value::as_f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_is_two_numbers_the_second_positive() {
        assert_eq!(parse_normalisation("0.5 0.25"), Some((0.5, 0.25)));
        for bad in ["0.5", "0.5 0", "0.5 -1", "a b", "0.5 0.25 1", "NaN 1"] {
            assert_eq!(parse_normalisation(bad), None, "{bad}");
        }
    }

    #[test]
    fn test_accuracy_is_found_by_the_checkpoint_file_name() {
        let results = serde_json::json!({
            "teacher": {"run": {"checkpoint": "runs/x/teacher.safetensors", "test_accuracy": 0.99}},
            "students": [
                {"checkpoint": null, "test_accuracy": 0.5},
                {"checkpoint": "elsewhere/student-mlp_10_10-alone.safetensors", "test_accuracy": 0.93}
            ]
        });
        assert_eq!(test_accuracy(&results, "teacher.safetensors"), Some(0.99));
        assert_eq!(
            test_accuracy(&results, "student-mlp_10_10-alone.safetensors"),
            Some(0.93)
        );
        assert_eq!(
            test_accuracy(&results, "student-mlp_10_10-distilled.safetensors"),
            None
        );
    }
}
