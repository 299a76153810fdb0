//! The settings `tune` chose for one teacher and one set of students, kept in `tuned.json` beside
//! the teacher's checkpoint so that the runs after it use them. A choice holds only for what it was
//! measured with: the same teacher (its checkpoint identity), the same students and the same
//! student recipe; anything else and the file is ignored, with a message.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};

use crate::output::{typed, write_atomic};
use crate::settings::{recipe_text, Settings, Weights};

/// The file's name, in the output folder.
pub const FILE: &str = "tuned.json";

/// What a tuning measured it on: a choice is reused only where all of it is the same.
fn measured_with(settings: &Settings, teacher: &BTreeMap<String, String>, loss: &str) -> Value {
    let students: Vec<String> = settings.students.iter().map(|s| s.to_string()).collect();
    json!({
        "teacher": teacher,
        "loss": loss,
        "students": students,
        "student_recipe": recipe_text(&settings.student_recipe),
        "student_epochs": settings.student_recipe.epochs,
        "batch_size": settings.batch_size,
    })
}

/// A tuning's choice and what it stood on.
pub struct Choice {
    pub weights: Weights,
    /// Mean gain over the students alone, points of validation accuracy.
    pub gain: f64,
    /// The sweep's tables (every alternative measured).
    pub markdown: String,
}

/// Writes the choice into `out/tuned.json`; `loss` is the study's (`Study::loss_name`).
pub fn save(
    out: &Path,
    settings: &Settings,
    teacher: &BTreeMap<String, String>,
    loss: &str,
    choice: &Choice,
) -> Result<(), String> {
    let w = choice.weights;
    let value = json!({
        "measured_with": measured_with(settings, teacher, loss),
        "temperature": typed(w.temperature),
        "hard_weight": typed(w.hard_weight),
        "soft_weight": typed(w.soft_weight),
        "mean_validation_gain": choice.gain,
        "sweep": choice.markdown,
    });
    let text = serde_json::to_string_pretty(&value).expect("plain JSON");
    write_atomic(&out.join(FILE), &text)
}

/// The choice saved in `out/tuned.json`, if there is one for this teacher and these students.
/// A file for another configuration is reported and ignored; an unreadable one is an error.
pub fn load(
    out: &Path,
    settings: &Settings,
    teacher: &BTreeMap<String, String>,
    loss: &str,
) -> Result<Option<Choice>, String> {
    let path = out.join(FILE);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    let bad = |why: &str| {
        format!(
            "{} is not a tuning this app wrote ({why}); delete it or run tune again",
            path.display()
        )
    };
    let value: Value = serde_json::from_str(&text).map_err(|e| bad(&e.to_string()))?;
    if value.get("measured_with") != Some(&measured_with(settings, teacher, loss)) {
        eprintln!(
            "{} was tuned for another teacher, other students or another loss: not used (run \
             tune again).",
            path.display()
        );
        return Ok(None);
    }
    let number = |key: &str| {
        value
            .get(key)
            .and_then(Value::as_f64)
            .ok_or_else(|| bad(&format!("no number {key:?}")))
    };
    Ok(Some(Choice {
        weights: Weights {
            temperature: number("temperature")? as f32,
            hard_weight: number("hard_weight")? as f32,
            soft_weight: number("soft_weight")? as f32,
        },
        gain: number("mean_validation_gain")?,
        markdown: value
            .get("sweep")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    }))
}
