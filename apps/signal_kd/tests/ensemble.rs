//! `--teachers N` end to end on the MNIST-1D fixture: a study with one teacher, then the same study
//! with an ensemble of two in the same folder. The first member is the one teacher, reused from
//! its file; the second is trained from seed 2 and saved beside it; the students alone are the
//! same runs as before (same seeds), the distilled ones learn from the ensemble; each member is
//! reused by its own identity.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/mnist1d")
}

fn signal_kd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_signal_kd"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn results(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap()
}

/// The bytes after a safetensors file's header: its tensors, without the metadata.
fn tensors(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    let header = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    bytes[8 + header..].to_vec()
}

/// A small, fast study (as in pipeline.rs): a 4.1k-parameter teacher for 20 epochs, a 1.1k
/// student for 10, two seeds.
const SMALL: [&str; 16] = [
    "--preset",
    "quick",
    "--validation",
    "300",
    "--teacher",
    "cnn1d:16,16,fc=16",
    "--teacher-epochs",
    "20",
    "--teacher-mixup",
    "0",
    "--student",
    "cnn1d:8,8,fc=8",
    "--epochs",
    "10",
    "--seeds",
    "2",
];

#[test]
fn an_ensemble_reuses_the_one_teacher_as_its_first_member_and_teaches_the_students() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path();
    let data = data_dir();
    let mut args = SMALL.to_vec();
    args.extend(["--data-dir", data.to_str().unwrap()]);
    args.extend(["--out", dir.to_str().unwrap()]);
    let with = |extra: &[&'static str]| -> Vec<&str> {
        extra.iter().copied().chain(args.iter().copied()).collect()
    };

    let one = signal_kd(&with(&["--teachers", "1"]));
    assert!(one.status.success(), "{}", stderr(&one));
    let one = results(dir);
    assert!(
        one["teacher"].get("members").is_none(),
        "{}",
        one["teacher"]
    );

    let two = signal_kd(&with(&["--teachers", "2"]));
    assert!(two.status.success(), "{}", stderr(&two));
    let first = dir.join("teacher.safetensors");
    let second = dir.join("teacher-2.safetensors");
    let log = stderr(&two);
    assert!(
        log.contains(&format!("Reusing the teacher saved in {}", first.display())),
        "{log}"
    );
    assert!(
        !log.contains(&format!("saved in {}", second.display())),
        "{log}"
    );
    assert_ne!(
        tensors(&first),
        tensors(&second),
        "seed 2 trained seed 1's weights"
    );

    let two = results(dir);
    let teacher = &two["teacher"];
    assert_eq!(teacher["ensemble"]["members"], 2);
    assert_eq!(teacher["ensemble"]["combine"], "probabilities");
    assert_eq!(two["config"]["teachers"], 2);
    let members = teacher["members"].as_array().unwrap();
    assert_eq!(members.len(), 2);
    // Member 1 is the one teacher: the same scores, reused.
    for key in [
        "test_accuracy",
        "test_macro_f1",
        "test_errors",
        "parameters",
    ] {
        assert_eq!(members[0]["run"][key], one["teacher"]["run"][key], "{key}");
    }
    assert_eq!(members[0]["reused"], true);
    assert_eq!(members[1]["reused"], false);
    assert_eq!(members[0]["run"]["seed"], 1);
    assert_eq!(members[1]["run"]["seed"], 2);
    // The ensemble has no seed of its own, and both members' parameters.
    assert!(teacher["run"].get("seed").is_none(), "{}", teacher["run"]);
    assert_eq!(
        teacher["run"]["parameters"],
        2 * members[0]["run"]["parameters"].as_u64().unwrap()
    );

    // The students alone are the same runs as with one teacher; the distilled ones learned
    // from another teacher.
    let students = |r: &Value, role: &str| -> Vec<Value> {
        r["students"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["role"] == role)
            .map(|s| {
                // What the run learned, epoch by epoch (not its timings).
                let losses: Vec<&Value> = s["epochs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| &e["train_loss"])
                    .collect();
                serde_json::json!([s["seed"], s["test_errors"], s["test_macro_f1"], losses])
            })
            .collect()
    };
    assert_eq!(students(&one, "alone"), students(&two, "alone"));
    assert_ne!(students(&one, "distilled"), students(&two, "distilled"));

    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    for line in [
        "Teacher: an ensemble of 2 × cnn1d:16,16,fc=16, trained from seeds 1 to 2",
        "Teacher 2 of 2 (seed 2):",
        "| teacher cnn1d:16,16,fc=16 (2) |",
        "| ensemble of 2 × cnn1d:16,16,fc=16 (probabilities averaged) |",
    ] {
        assert!(report.contains(line), "{line:?} not in\n{report}");
    }

    // Both members are found again by their identity, and make the same ensemble.
    let again = signal_kd(&with(&["students", "--teachers", "2"]));
    assert!(again.status.success(), "{}", stderr(&again));
    let log = stderr(&again);
    for path in [&first, &second] {
        let reused = format!("Reusing the teacher saved in {}", path.display());
        assert!(log.contains(&reused), "{log}");
    }
    let ensemble = &results(dir)["teacher"]["run"];
    for key in [
        "test_accuracy",
        "test_macro_f1",
        "test_errors",
        "validation_macro_f1",
    ] {
        assert_eq!(ensemble[key], two["teacher"]["run"][key], "{key}");
    }

    // Member 2's file holding member 1 (seed 1) is not member 2.
    std::fs::copy(&first, &second).unwrap();
    let wrong = signal_kd(&with(&["students", "--teachers", "2"]));
    assert!(!wrong.status.success());
    let expected = format!("no teacher for this configuration in {}", second.display());
    assert!(stderr(&wrong).contains(&expected), "{}", stderr(&wrong));
}

#[test]
fn an_unknown_way_to_combine_is_refused_with_the_known_ones() {
    let o = signal_kd(&["--teachers", "3", "--ensemble", "mean"]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("mean") && err.contains("probabilities") && err.contains("logits"),
        "{err}"
    );
}
