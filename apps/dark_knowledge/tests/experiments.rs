//! Each experiment end to end on the MNIST fixture (tests/fixtures/mnist: the first 5000 training
//! and 1000 test images), with a small teacher and small students so that it takes seconds. What
//! is checked is each experiment's mechanics — the transfer set lacks what it should, the
//! probabilities are distributions, the share is the share — not the paper's figures, which need
//! the full runs (docs/dark_knowledge.md).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/mnist")
}

/// Small models, 1000 of the fixture's training images held out for validation.
fn run(dir: &Path, args: &[&str]) -> Output {
    let data = data_dir();
    let dir = dir.to_str().unwrap();
    let small = [
        "--data-dir",
        data.to_str().unwrap(),
        "--validation",
        "1000",
        "--teacher",
        "cnn:8,16,fc=32",
        "--teacher-epochs",
        "2",
        "--batch-size",
        "32",
        "--student",
        "mlp:32,32",
        "--epochs",
        "2",
        "--seeds",
        "2",
        "--teacher-dir",
        dir,
        "--out",
        dir,
    ];
    Command::new(env!("CARGO_BIN_EXE_dark_knowledge"))
        .args(args)
        .args(small)
        .output()
        .expect("the binary runs")
}

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The fixture's test labels, read the way the app reads them.
fn test_labels() -> Vec<usize> {
    nn::data::load_idx_set(&data_dir()).unwrap().test.labels
}

#[test]
fn the_omitted_class_is_learnt_only_from_the_teacher() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(dir.path(), &["omit", "--class", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = json(&dir.path().join("omit-3.json"));
    // The transfer set is the training split less its threes, every other image kept.
    let counts = |key: &str| -> Vec<u64> {
        let v = r[key].as_array().unwrap();
        v.iter().map(|c| c.as_u64().unwrap()).collect()
    };
    let (transfer, split) = (
        counts("transfer_set_per_class"),
        counts("training_split_per_class"),
    );
    assert_eq!(split.iter().sum::<u64>(), 4000);
    for class in 0..10 {
        let expected = if class == 3 { 0 } else { split[class] };
        assert_eq!(transfer[class], expected, "class {class}");
    }
    assert!(split[3] > 0);
    // The student alone, which never saw a three, gets every test three wrong.
    let threes = test_labels().iter().filter(|&&l| l == 3).count() as u64;
    let students = r["students"].as_array().unwrap();
    assert_eq!(students.len(), 2);
    for run in students[0]["runs"].as_array().unwrap() {
        assert_eq!(students[0]["role"], "alone");
        assert_eq!(run["absent_test_errors"].as_u64(), Some(threes), "{run}");
    }
    for s in students {
        for run in s["runs"].as_array().unwrap() {
            let shift = run["shift"].as_f64().unwrap();
            assert!((0.0..=30.0).contains(&shift), "{run}");
            // Errors on threes are among the errors.
            let on_threes = run["absent_test_errors"].as_u64().unwrap();
            assert!(on_threes <= run["test_errors"].as_u64().unwrap(), "{run}");
        }
    }
    let report = std::fs::read_to_string(dir.path().join("omit-3.md")).unwrap();
    assert!(report.contains("dark_knowledge omit --class 3"), "{report}");

    // The second experiment reuses the teacher the first trained.
    let o = run(dir.path(), &["only", "--classes", "7,8"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("Reusing the teacher"), "{}", stderr(&o));
    let r = json(&dir.path().join("only-7-8.json"));
    assert_eq!(r["present"], serde_json::json!([7, 8]));
    assert_eq!(r["absent"], serde_json::json!([0, 1, 2, 3, 4, 5, 6, 9]));
    let transfer = r["transfer_set_per_class"].as_array().unwrap();
    let split = r["training_split_per_class"].as_array().unwrap();
    for class in 0..10 {
        let expected = if class == 7 || class == 8 {
            split[class].as_u64().unwrap()
        } else {
            0
        };
        assert_eq!(transfer[class].as_u64(), Some(expected), "class {class}");
    }
    for s in r["students"].as_array().unwrap() {
        for run in s["runs"].as_array().unwrap() {
            let shift = run["shift"].as_f64().unwrap();
            assert!((0.0..=30.0).contains(&shift), "{run}");
        }
    }
}

#[test]
fn soften_shows_distributions_that_flatten_as_the_temperature_rises() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(dir.path(), &["soften", "--images", "0,5"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = json(&dir.path().join("soften.json"));
    let images = r["images"].as_array().unwrap();
    assert_eq!(images.len(), 2);
    assert_eq!(images[1]["index"], 5);
    for image in images {
        let models = image["models"].as_array().unwrap();
        assert_eq!(models.len(), 3, "teacher, alone, distilled");
        for m in models {
            for p in m["probabilities"].as_array().unwrap() {
                let sum: f64 = p
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_f64().unwrap())
                    .sum();
                assert!((sum - 1.0).abs() < 1e-4, "{sum}");
            }
            // T = 1, 2, 4, 8, 20: the entropy never falls.
            let h: Vec<f64> = m["entropy_bits"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect();
            assert!(h.windows(2).all(|w| w[1] >= w[0] - 1e-9), "{h:?}");
        }
    }
    // One mean KL per temperature and student, each a divergence (≥ 0, finite).
    for key in ["mean_kl_alone", "mean_kl_distilled"] {
        let kl = r[key].as_array().unwrap();
        assert_eq!(kl.len(), 5, "{key}");
        for x in kl {
            let x = x.as_f64().unwrap();
            assert!(x.is_finite() && x >= 0.0, "{key}: {x}");
        }
    }
    let svg = std::fs::read_to_string(dir.path().join("soften.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("T = 20"));
}

#[test]
fn the_regulariser_trains_on_its_share_and_stops_on_validation() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(dir.path(), &["regularise", "--share", "0.1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = json(&dir.path().join("regularise.json"));
    // A tenth of the 4000 training images left after validation.
    assert_eq!(r["images"], 400);
    for targets in ["hard", "soft"] {
        let runs = r[targets].as_array().unwrap();
        assert_eq!(runs.len(), 2);
        for run in runs {
            let epochs = run["epochs"].as_array().unwrap();
            assert_eq!(epochs.len(), 2);
            // The stopping epoch is the first with the best validation accuracy (1-based).
            let validation: Vec<f64> = epochs
                .iter()
                .map(|e| e["validation"]["accuracy"].as_f64().unwrap())
                .collect();
            let best = if validation[1] > validation[0] { 2 } else { 1 };
            assert_eq!(run["stop_epoch"].as_u64(), Some(best), "{run}");
        }
    }
    assert!(dir.path().join("regularise.svg").exists());
}

/// The toy needs no data: small draws, two seeds, twice, to check that the run is reproducible.
#[test]
fn the_tree_toy_compares_equal_sizes_and_repeats_itself() {
    let dir = tempfile::tempdir().unwrap();
    let toy = |out: &Path| {
        let o = Command::new(env!("CARGO_BIN_EXE_dark_knowledge"))
            .args([
                "tree-toy",
                "--train-points",
                "400",
                "--validation-points",
                "200",
            ])
            .args(["--test-points", "500", "--seeds", "2", "--out"])
            .arg(out)
            .output()
            .expect("the binary runs");
        assert!(o.status.success(), "{}", stderr(&o));
        let mut report = json(&out.join("tree_toy.json"));
        report["command"] = Value::Null;
        report
    };
    let (first, second) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&first).unwrap();
    std::fs::create_dir_all(&second).unwrap();
    let report = toy(&first);
    assert_eq!(report, toy(&second), "the same seeds give the same report");
    let seeds = report["seeds"].as_array().unwrap();
    assert_eq!(seeds.len(), 2);
    for seed in seeds {
        let teacher = seed["teacher_test_accuracy"].as_f64().unwrap();
        assert!(teacher > 80.0, "teacher {teacher}");
        let trees = seed["trees"].as_array().unwrap();
        // Grown without limit on distinct soft targets, a regression tree ends with one training
        // point per leaf; the hard tree stops at pure leaves, far fewer on this noise.
        assert_eq!(trees[0]["size"], "grown without limit");
        assert_eq!(trees[0]["soft_leaves"], 400);
        assert!(trees[0]["hard_leaves"].as_u64().unwrap() < 400);
        for tree in &trees[1..] {
            let leaves: u64 = tree["size"]
                .as_str()
                .unwrap()
                .trim_end_matches(" leaves")
                .parse()
                .unwrap();
            // A hard tree whose leaves are all pure stops short; its rival is cut to match.
            let hard = tree["hard_leaves"].as_u64().unwrap();
            assert!(hard <= leaves, "{hard} > {leaves}");
            assert_eq!(tree["soft_leaves"].as_u64(), Some(hard));
            let t = tree["temperature"].as_f64().unwrap();
            assert!([1.0, 2.0, 4.0].contains(&t), "temperature {t}");
        }
    }
    assert!(first.join("tree_toy.svg").exists() && first.join("tree_toy.md").exists());
}

/// On the fixture (4 000 training images after validation), half of them per seed: every soft
/// tree is cut to its hard rival's leaf count, which is at most the size.
#[test]
fn the_tree_mnist_compares_trees_of_equal_size() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(dir.path(), &["tree-mnist", "--share", "0.5"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report = json(&dir.path().join("tree_mnist.json"));
    assert_eq!(report["images_per_seed"], 2000);
    let seeds = report["seeds"].as_array().unwrap();
    assert_eq!(seeds.len(), 2);
    for seed in seeds {
        let sizes: Vec<u64> = seed["leaves"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        assert_eq!(sizes, [256, 1024, 4096]);
        for kind in ["soft", "with_shifted_copies"] {
            for (pair, &size) in seed[kind].as_array().unwrap().iter().zip(&sizes) {
                let hard = pair["hard_leaves"].as_u64().unwrap();
                assert!(hard <= size, "{kind}: {hard} leaves > {size}");
                assert_eq!(pair["soft_leaves"].as_u64(), Some(hard), "{kind}");
                let t = pair["temperature"].as_f64().unwrap();
                assert!([1.0, 2.0, 4.0].contains(&t), "temperature {t}");
                for key in ["hard_test_accuracy", "soft_test_accuracy"] {
                    let a = pair[key].as_f64().unwrap();
                    assert!(a > 30.0 && a <= 100.0, "{kind} {key} {a}");
                }
            }
        }
    }
    assert!(dir.path().join("tree_mnist.md").exists());
}

#[test]
fn bad_input_gets_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 11] = [
        (
            &["tree-mnist", "--share", "0"][..],
            "error: --share must be a fraction in (0, 1], found 0",
        ),
        (
            &["tree-toy", "--train-points", "0"][..],
            "error: --train-points must be at least 1, found 0",
        ),
        (
            &["regularise", "--share", "1.5"][..],
            "error: --share must be a fraction in (0, 1], found 1.5",
        ),
        (
            &["soften", "--temperatures", "0"][..],
            "error: --temperatures must be a positive number, found 0",
        ),
        (
            &["omit", "--class", "10"][..],
            "error: --class must be a class below 10, found 10",
        ),
        (
            &["only", "--classes", "7,8,7"][..],
            "error: --classes must list each class once, found 7 twice",
        ),
        (
            &["soften", "--images", "0,1000"][..],
            "error: --images must be indices of test images, below 1000, found 1000",
        ),
        (
            &["omit", "--validation", "0"][..],
            "error: --validation must be at least 1, found 0",
        ),
        (
            &["omit", "--threads", "0"][..],
            "error: --threads must be at least 1, found 0",
        ),
        (
            &["regularise", "--soft-weight", "0.5"][..],
            "error: regularise learns from the soft targets alone",
        ),
        (
            &["omit", "--soft-weight", "1.5"][..],
            "error: --soft-weight must be in [0, 1], found 1.5",
        ),
    ];
    let data = data_dir();
    for (args, expected) in cases {
        // Only what each case needs: the data, its validation split and the folders.
        let validation: &[&str] = if args.contains(&"--validation") {
            &[]
        } else {
            &["--validation", "1000"]
        };
        let o = Command::new(env!("CARGO_BIN_EXE_dark_knowledge"))
            .args(args)
            .args(validation)
            .args(["--data-dir", data.to_str().unwrap()])
            .args(["--teacher-dir", dir.path().to_str().unwrap()])
            .args(["--out", dir.path().to_str().unwrap()])
            .output()
            .expect("the binary runs");
        assert!(!o.status.success());
        let e = stderr(&o);
        assert!(e.starts_with(expected), "{args:?}: {e}");
        assert_eq!(e.lines().count(), 1, "{e}");
    }
}
