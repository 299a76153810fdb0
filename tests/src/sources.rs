//! The workspace's Rust sources, for the tests that read code as text (the import-loop check, the
//! comment policy, the book's cited tests).

use std::path::{Path, PathBuf};

/// The repository's root folder.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every crate's `src` folder: the library crates, then each app's.
pub fn crate_sources() -> Vec<PathBuf> {
    let root = root();
    let mut dirs: Vec<PathBuf> = ["tensor", "autograd", "nn", "kd", "trees"]
        .iter()
        .map(|c| root.join(c).join("src"))
        .filter(|d| d.is_dir())
        .collect();
    let mut apps: Vec<PathBuf> = std::fs::read_dir(root.join("apps"))
        .expect("the apps folder")
        .map(|app| app.expect("a readable entry").path().join("src"))
        .filter(|src| src.is_dir())
        .collect();
    apps.sort();
    dirs.extend(apps);
    dirs
}

/// Every `.rs` file at or under `path` (the file itself if it is one), sorted; none if `path` is
/// neither.
pub fn rust_files(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut out = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let p = entry.expect("a readable entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
