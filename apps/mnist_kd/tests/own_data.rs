//! The app on data of one's own: a tiny synthetic image set in IDX files of another size than
//! MNIST's (10 × 12 pixels, 3 classes, with their names in classes.txt), generated here into a
//! temporary folder. A whole run goes through teacher and students and names the data by its
//! folder, the classes by their names; inconsistent files each give one line saying what was
//! expected and what was found, and no panic.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use nn::data::write_idx_u8;

const HEIGHT: usize = 10;
const WIDTH: usize = 12;
const CLASS_NAMES: [&str; 3] = ["top bar", "middle bar", "bottom bar"];
const TRAIN: usize = 300;
const TEST: usize = 90;

/// A reproducible stream of bytes (a 64-bit LCG, Knuth's MMIX constants; the top byte is used):
/// no generator crate needed, and the same images on every machine.
struct Noise(u64);

impl Noise {
    fn byte(&mut self) -> u8 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 56) as u8
    }
}

/// `n` images with labels `i % 3`: class c is a horizontal bar two rows high at row 1 + 3c, a
/// little brighter than noise that covers the whole image, so that the classes overlap a little
/// and no model is perfect.
fn images(n: usize, noise: &mut Noise) -> (Vec<u8>, Vec<u8>) {
    let mut pixels = Vec::with_capacity(n * HEIGHT * WIDTH);
    let labels: Vec<u8> = (0..n).map(|i| (i % 3) as u8).collect();
    for &label in &labels {
        let bar = 1 + 3 * label as usize;
        for row in 0..HEIGHT {
            for _ in 0..WIDTH {
                let background = noise.byte() / 2;
                let lit = row == bar || row == bar + 1;
                pixels.push(if lit {
                    background.saturating_add(70)
                } else {
                    background
                });
            }
        }
    }
    (pixels, labels)
}

/// Writes the four raw IDX files and classes.txt into a folder `bars` under `root`.
fn write_bars(root: &Path) -> PathBuf {
    let dir = root.join("bars");
    std::fs::create_dir_all(&dir).unwrap();
    let mut noise = Noise(18);
    for (prefix, n) in [("train", TRAIN), ("t10k", TEST)] {
        let (pixels, labels) = images(n, &mut noise);
        let path = |kind: &str, rank: usize| dir.join(format!("{prefix}-{kind}-idx{rank}-ubyte"));
        write_idx_u8(&path("images", 3), &[n, HEIGHT, WIDTH], &pixels).unwrap();
        write_idx_u8(&path("labels", 1), &[n], &labels).unwrap();
    }
    std::fs::write(dir.join("classes.txt"), CLASS_NAMES.join("\n") + "\n").unwrap();
    dir
}

/// Small models for 10 × 12 inputs, a few epochs, small batches: a run of seconds.
const SMALL: [&str; 18] = [
    "--preset",
    "quick",
    "--teacher",
    "cnn:4,fc=8",
    "--teacher-epochs",
    "8",
    // Shifts of up to 2 rows would move one class's bar onto another's.
    "--teacher-shift",
    "0",
    "--student",
    "mlp:8",
    "--epochs",
    "8",
    "--seeds",
    "2",
    "--validation",
    "60",
    "--batch-size",
    "16",
];

fn mnist_kd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mnist_kd"))
        .args(SMALL)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn a_synthetic_set_of_another_size_runs_end_to_end() {
    let root = tempfile::tempdir().unwrap();
    let data = write_bars(root.path());
    let out = root.path().join("out");
    let (data, out_dir) = (data.to_str().unwrap(), out.to_str().unwrap());
    // Teacher, then tuning on the validation split, then the students with what tuning chose.
    let tune = mnist_kd(&["tune", "--data-dir", data, "--out", out_dir]);
    assert!(tune.status.success(), "{}", stderr(&tune));
    assert!(out.join("tuned.json").exists());
    let run = mnist_kd(&["--data-dir", data, "--out", out_dir]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("Reusing the teacher"),
        "the run reuses the teacher tune trained: {}",
        stderr(&run)
    );
    // 300 training images less 60 held out.
    assert!(
        stderr(&run).contains("bars: 240 training, 60 validation, 90 test images"),
        "{}",
        stderr(&run)
    );

    let report = read(&out.join("report.md"));
    assert!(report.contains("Data: bars: 240 training"), "{report}");
    assert!(
        report.contains("chosen on the validation split by `mnist_kd tune`"),
        "{report}"
    );
    assert!(!report.contains("MNIST"), "{report}");
    let results: serde_json::Value =
        serde_json::from_str(&read(&out.join("results.json"))).unwrap();
    assert_eq!(results["config"]["data"], "bars");
    assert_eq!(results["students"].as_array().unwrap().len(), 4);
    assert!(
        results["teacher"]["run"]["test_accuracy"].as_f64().unwrap() > 0.6,
        "the bars are visible through the noise: {}",
        results["teacher"]["run"]
    );

    // Three classes, called by their names, in every confusion matrix.
    let confusion = read(&out.join("confusion.md"));
    assert!(confusion.contains("bars: test set"), "{confusion}");
    let header = "| true \\ pred | top bar | middle bar | bottom bar |";
    // The teacher, and the student alone and distilled of seed 0.
    assert_eq!(confusion.matches(header).count(), 3, "{confusion}");
    assert!(confusion.contains("| middle bar | "), "{confusion}");

    // The per-class effect: the section, the student, and a table that names classes. The run
    // is deterministic, and with this noise the two roles differ on some class.
    assert!(
        report.contains("## Per class: what distillation changed"),
        "{report}"
    );
    let per_class = &report[report.find("### mlp:8").expect("the student's section")..];
    assert!(
        per_class.contains("| class | test samples | errors alone | errors distilled | change |"),
        "{per_class}"
    );
    assert!(
        CLASS_NAMES
            .iter()
            .any(|name| per_class.contains(&format!("| {name} | 30 |"))),
        "{per_class}"
    );

    // The name given wins over the folder's; the teacher is the same one, reused.
    let named = mnist_kd(&[
        "teacher",
        "--data-dir",
        data,
        "--out",
        out_dir,
        "--name",
        "Bars",
    ]);
    assert!(named.status.success(), "{}", stderr(&named));
    assert!(
        stderr(&named).contains("Bars: 240 training"),
        "{}",
        stderr(&named)
    );

    // A binary task on two of the three classes works; one naming a fourth class does not.
    let binary = mnist_kd(&[
        "teacher",
        "--data-dir",
        data,
        "--out",
        out_dir,
        "--task",
        "binary:0,2",
    ]);
    assert!(binary.status.success(), "{}", stderr(&binary));
    assert_one_line_error(
        &mnist_kd(&["--data-dir", data, "--out", out_dir, "--task", "binary:0,3"]),
        &format!(
            "--task binary:0,3: expected two classes below 3, as the training labels in {data} \
             name 3 classes, found 3"
        ),
    );
    // Names given on the command line must name every class too.
    assert_one_line_error(
        &mnist_kd(&["--data-dir", data, "--out", out_dir, "--class-names", "a,b"]),
        &format!(
            "--class-names: expected 3 names, as the training labels in {data} name 3 classes, \
             found 2"
        ),
    );
}

/// A failed run: a non-zero exit, and on stderr exactly `error: {message}` on one line — no panic,
/// no backtrace.
#[track_caller]
fn assert_one_line_error(o: &Output, message: &str) {
    let err = stderr(o);
    assert!(!o.status.success(), "should fail: {err}");
    assert_eq!(err.trim_end(), format!("error: {message}"));
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
}

/// The synthetic set with one file replaced by `break_it`, run; the data folder is returned with
/// the run so that a test can name its files.
fn run_broken(break_it: impl FnOnce(&Path)) -> (tempfile::TempDir, PathBuf, Output) {
    let root = tempfile::tempdir().unwrap();
    let data = write_bars(root.path());
    break_it(&data);
    let out = root.path().join("out");
    let o = mnist_kd(&[
        "--data-dir",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!out.join("report.md").exists(), "nothing is written");
    (root, data, o)
}

#[test]
fn test_images_of_another_size_than_the_training_images() {
    let (_root, data, o) = run_broken(|dir| {
        let path = dir.join("t10k-images-idx3-ubyte");
        write_idx_u8(&path, &[TEST, WIDTH, HEIGHT], &[0; TEST * WIDTH * HEIGHT]).unwrap();
    });
    assert_one_line_error(
        &o,
        &format!(
            "{}: expected dimensions N×10×12, the size of the training images in {}, found \
             90×12×10",
            data.join("t10k-images-idx3-ubyte").display(),
            data.join("train-images-idx3-ubyte").display()
        ),
    );
}

#[test]
fn a_test_class_the_training_set_never_shows() {
    let (_root, data, o) = run_broken(|dir| {
        let mut labels = vec![0; TEST];
        labels[7] = 3;
        write_idx_u8(&dir.join("t10k-labels-idx1-ubyte"), &[TEST], &labels).unwrap();
    });
    assert_one_line_error(
        &o,
        &format!(
            "{}: label 3 of sample 7 is a class the training set never shows: expected one of \
             the training labels in {} (0 to 2), found 3",
            data.join("t10k-labels-idx1-ubyte").display(),
            data.join("train-labels-idx1-ubyte").display()
        ),
    );
}

#[test]
fn a_class_names_file_of_the_wrong_length() {
    let (_root, data, o) = run_broken(|dir| {
        std::fs::write(dir.join("classes.txt"), "top\nmiddle\nbottom\nside\n").unwrap();
    });
    assert_one_line_error(
        &o,
        &format!(
            "{}: expected 3 class names, one per line, as the training labels name 3 classes, \
             found 4 lines",
            data.join("classes.txt").display()
        ),
    );
}

#[test]
fn fewer_labels_than_images() {
    let (_root, data, o) = run_broken(|dir| {
        let labels: Vec<u8> = (0..TRAIN - 1).map(|i| (i % 3) as u8).collect();
        write_idx_u8(&dir.join("train-labels-idx1-ubyte"), &[TRAIN - 1], &labels).unwrap();
    });
    assert_one_line_error(
        &o,
        &format!(
            "{}: expected 300 labels, one for each image in {}, found 299",
            data.join("train-labels-idx1-ubyte").display(),
            data.join("train-images-idx3-ubyte").display()
        ),
    );
}
