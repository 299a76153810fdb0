//! Reusing a saved teacher. Training the teacher is the longest phase of a study, and a second run
//! with the same teacher settings would only repeat it: the checkpoint's metadata records what
//! identifies the teacher (its description, epochs, data, normalisation…), and when every entry
//! matches, the saved weights are that teacher.

use std::collections::BTreeMap;
use std::path::Path;

use nn::checkpoint;
use nn::Module;

/// Loads the teacher saved at `path` into `model` when the file's metadata holds every entry of
/// `identity`, and says so. `Ok(false)`: no such teacher, train one (a message says so when a
/// teacher of another configuration is there). With `required_by = Some(app)` a missing or
/// different teacher is an error instead, naming the command that trains it.
pub fn reuse_teacher(
    path: &Path,
    identity: &BTreeMap<String, String>,
    model: &dyn Module,
    required_by: Option<&str>,
) -> Result<bool, String> {
    let saved = path.exists().then(|| checkpoint::read_metadata(path));
    let matches = match &saved {
        Some(Ok(meta)) => identity.iter().all(|(k, v)| meta.get(k) == Some(v)),
        _ => false,
    };
    if matches {
        checkpoint::load(path, model).map_err(|e| e.to_string())?;
        eprintln!(
            "Reusing the teacher saved in {} (same configuration).",
            path.display()
        );
        return Ok(true);
    }
    if let Some(app) = required_by {
        return Err(format!(
            "no teacher for this configuration in {} (run `{app} teacher` first, with the same flags)",
            path.display()
        ));
    }
    if saved.is_some() {
        eprintln!(
            "The teacher saved in {} has another configuration: training a new one.",
            path.display()
        );
    }
    Ok(false)
}
