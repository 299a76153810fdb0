//! `seg_kd` end to end on the MNIST fixture (tests/fixtures/mnist), with tiny scenes and networks
//! so that it takes seconds: what is checked is the mechanics (every run reported, the figures in
//! range, the scenes written and readable), not the figures of a full run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/mnist")
}

fn run(out: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seg_kd"))
        .args(["--data-dir", data_dir().to_str().unwrap()])
        .args(["--out", out.to_str().unwrap()])
        .args(args)
        .output()
        .expect("the binary runs")
}

const TINY: [&str; 22] = [
    "--size",
    "24",
    "--scales",
    "10..16",
    "--train-scenes",
    "64",
    "--validation-scenes",
    "16",
    "--test-scenes",
    "16",
    "--teacher",
    "fcn:4,6,8",
    "--student",
    "fcn:2,4,4",
    "--teacher-epochs",
    "1",
    "--epochs",
    "1",
    "--seeds",
    "2",
    "--batch-size",
    "16",
];

#[test]
fn a_tiny_study_reports_every_run_and_writes_readable_scenes() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        dir.path(),
        &[&TINY[..], &["--kd-method", "both", "--write-scenes"]].concat(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(dir.path().join("results.json")).unwrap();
    let report: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["kd_method"], "both");
    for kind in ["alone", "distilled"] {
        let runs = report[kind].as_array().unwrap();
        assert_eq!(runs.len(), 2, "{kind}");
        for r in runs {
            let miou = r["mean_iou"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&miou), "{kind}: {miou}");
            // Every counted pixel is in the confusion: 16 test scenes of 24 × 24, minus the ignored.
            let counted: u64 = r["confusion"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .sum();
            assert!(counted > 0 && counted <= 16 * 24 * 24);
        }
    }
    // The same student initialisation alone and distilled: the same parameter count.
    assert_eq!(
        report["alone"][0]["parameters"],
        report["distilled"][0]["parameters"]
    );
    let scenes = dir.path().join("scenes");
    let labels = nn::data::read_idx(&scenes.join("test-labels-idx3-ubyte")).unwrap();
    assert_eq!(labels.dims, [16, 24, 24]);
    assert!(labels.data.iter().all(|&l| l <= 10 || l == 255));
    let images = nn::data::read_idx(&scenes.join("train-images-idx3-ubyte")).unwrap();
    assert_eq!(images.dims, [64, 24, 24]);
    for name in ["report.md", "scenes.svg"] {
        assert!(dir.path().join(name).exists(), "{name}");
    }
}

#[test]
fn bad_input_gets_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 6] = [
        (&["--size", "30"], "error: --size must be a multiple of 4"),
        (
            &["--digits", "3..1"],
            "error: --digits must be a range of at least one digit",
        ),
        (
            &["--scales", "10"],
            "error: --scales must be a range like 1..3, found \"10\"",
        ),
        (
            &["--student", "cnn:8"],
            "error: expected a model like fcn:16,32,64",
        ),
        (
            &["--alpha", "1.5"],
            "error: --alpha must be in [0, 1], found 1.5",
        ),
        (
            &["--batch-size", "64", "--train-scenes", "32"],
            "error: --batch-size must be at most --train-scenes (32), found 64",
        ),
    ];
    for (args, expected) in cases {
        let o = run(dir.path(), args);
        assert!(!o.status.success());
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.starts_with(expected), "{args:?}: {e}");
        assert_eq!(e.lines().count(), 1, "{args:?}: {e}");
    }
}
