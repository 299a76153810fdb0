//! The app end to end on real MNIST-1D signals: the fixture in tests/fixtures/mnist1d (the first 2000
//! training and 500 test signals, kept in the repository, so these tests need nothing generated and
//! see the same bytes everywhere). A small teacher and student for a few epochs write every report
//! file with sane numbers, a second run reuses the teacher, and bad input gives one clear line and a
//! non-zero exit code.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

fn assert_fraction(value: &serde_json::Value, low: f64, what: &str) {
    let v = value
        .as_f64()
        .unwrap_or_else(|| panic!("{what} is not a number: {value}"));
    assert!(
        (low..=1.0).contains(&v),
        "{what} = {v}, expected in [{low}, 1]"
    );
}

/// A small, fast configuration: the fixture's 2000 training signals (1700 after the validation split), a
/// teacher of about 4.1k parameters for 20 epochs (no mixup: it learns faster), a student of
/// about 1.1k for 10.
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
fn small_run_end_to_end_then_bad_input() {
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().to_str().unwrap();
    let data = data_dir();
    let data = data.to_str().unwrap();
    let mut args = SMALL.to_vec();
    args.extend(["--data-dir", data, "--out", out_dir]);
    let first = signal_kd(&args);
    assert!(first.status.success(), "{}", stderr(&first));
    for file in [
        "report.md",
        "results.json",
        "curves.svg",
        "confusion.md",
        "teacher.safetensors",
        "student-cnn1d_8_8_fc_8-alone.safetensors",
        "student-cnn1d_8_8_fc_8-distilled.safetensors",
    ] {
        assert!(out.path().join(file).exists(), "{file} was not written");
    }
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("results.json")).unwrap())
            .unwrap();
    // Chance is 10 %; this teacher reached 57.6 % accuracy and 57.3 % macro-F1 on the fixture when
    // the test was written (the run is deterministic), so 40 % / 35 % catch a pipeline that does not
    // learn.
    let teacher = &results["teacher"]["run"];
    assert_fraction(&teacher["test_accuracy"], 0.4, "teacher accuracy");
    assert_fraction(&teacher["test_macro_f1"], 0.35, "teacher macro-F1");
    // By hand: 16·1·5+16 + 16·16·5+16 + (16·10)·16+16 + 16·10+10 (length 40 → 20 → 10).
    assert_eq!(teacher["parameters"], 4_138);
    let students = results["students"].as_array().unwrap();
    assert_eq!(students.len(), 4, "2 seeds × (alone, distilled)");
    for s in students {
        // A 10-epoch, 1.1k-parameter student is weak but above chance (10 %): 22–30 % observed.
        assert_fraction(&s["test_accuracy"], 0.15, "student accuracy");
        // A model that always predicts one class scores macro-F1 = (2·0.1/1.1)/10 ≈ 0.018: 0.05
        // catches that collapse while leaving room for a weak student's uneven classes.
        assert_fraction(&s["test_macro_f1"], 0.05, "student macro-F1");
        assert_fraction(&s["validation_macro_f1"], 0.05, "validation macro-F1");
        let epochs = s["epochs"].as_array().unwrap();
        assert_eq!(epochs.len(), 10);
        assert!(epochs[0]["train_loss"]["hard"].as_f64().unwrap() > 0.0);
        // The validation split is scored after every epoch (it is what a schedule may see).
        assert!(epochs[0]["validation"]["loss"].as_f64().unwrap() > 0.0);
    }
    let distilled = &students[1];
    assert_eq!(distilled["role"], "distilled");
    assert!(
        distilled["epochs"][0]["train_loss"]["soft"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    let report = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(report.contains("test macro-F1 %") && report.contains("distillation"));
    let svg = std::fs::read_to_string(out.path().join("curves.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("polyline"));
    // The settings as typed (the preset's 3e-3), not f32s widened to f64 (0.003000000026077032).
    let config = &results["config"];
    assert_eq!(config["lr"], 0.003, "{config}");
    assert_eq!(config["teacher_lr"], 0.003, "{config}");
    assert_eq!(students[0]["epochs"][0]["lr"], 0.003);
    // A slice of MNIST-1D in another folder is named by its folder and sizes, never announced as
    // MNIST-1D.
    let fixture = "mnist1d (2000 training, 500 test signals)";
    assert!(
        stderr(&first).contains(&format!("{fixture}: 1700 training, 300 validation")),
        "{}",
        stderr(&first)
    );
    assert!(report.contains(&format!("({fixture})")), "{report}");
    assert!(!report.contains("MNIST-1D"), "{report}");
    assert_eq!(config["data"], fixture);

    // A second run finds the same teacher and says so.
    let mut again = vec!["students"];
    again.extend(&args);
    let students_only = signal_kd(&again);
    assert!(students_only.status.success(), "{}", stderr(&students_only));
    assert!(stderr(&students_only).contains("Reusing the teacher"));

    // Bad input: one line, failure, earlier results untouched.
    let report_now = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    let bad_runs: [(&[&str], &str); 7] = [
        (
            &["--data-dir", "/nonexistent/mnist1d"],
            "scripts/fetch-mnist1d",
        ),
        (
            &["--temperature", "0"],
            "--temperature must be a positive number",
        ),
        (&["--student", "mlp:10"], "--student must be a 1-D CNN"),
        (&["--mixup=-1"], "--mixup must be a number ≥ 0"),
        (
            &["--teachers", "0"],
            "--teachers must be at least 1, found 0",
        ),
        // Batches larger than what is left for training after the validation split (2000 − 300
        // signals; 350 − 300 under a limit) would train no step and report untrained models.
        (
            &["--validation", "300", "--batch-size", "1701"],
            "--batch-size 1701 is larger than the training set (1700 signals",
        ),
        (
            &["--validation", "300", "--train-limit", "350"],
            "--batch-size 100 is larger than the training set (50 signals",
        ),
    ];
    for (args, expected) in bad_runs {
        let mut all = vec!["--preset", "quick", "--out", out_dir];
        if !args.contains(&"--data-dir") {
            all.extend(["--data-dir", data]);
        }
        all.extend_from_slice(args);
        let o = signal_kd(&all);
        assert!(!o.status.success(), "{args:?} should fail");
        let err = stderr(&o);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert_eq!(
            err.trim().lines().count(),
            1,
            "{args:?}: one line, got {err}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(out.path().join("report.md")).unwrap(),
        report_now
    );

    // A truncated .npy file: the reader's message, naming the file.
    let broken = tempfile::tempdir().unwrap();
    for name in ["x_train.npy", "y_train.npy", "x_test.npy", "y_test.npy"] {
        std::fs::copy(data_dir().join(name), broken.path().join(name)).unwrap();
    }
    let x_test = broken.path().join("x_test.npy");
    let bytes = std::fs::read(&x_test).unwrap();
    std::fs::write(&x_test, &bytes[..bytes.len() / 2]).unwrap();
    let o = signal_kd(&[
        "--preset",
        "quick",
        "--data-dir",
        broken.path().to_str().unwrap(),
        "--out",
        out_dir,
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("x_test.npy: expected"),
        "{}",
        stderr(&o)
    );
}
