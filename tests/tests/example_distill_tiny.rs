//! `examples/distill_tiny.rs`, the short reading track's last stop, runs and says what it should:
//! three test accuracies (teacher, student alone, student distilled), each a finite percentage
//! above chance, the distilled student ahead of the one trained alone.
//!
//! `cargo test` builds every example of the package before it runs any test, into
//! `<target>/<profile>/examples/`, beside the `deps/` folder this test runs from; this test runs
//! that binary. (Run on its own, `cargo test --test example_distill_tiny` does not build examples:
//! the failure message says what to run first, and a binary older than its source is refused.)

use std::path::PathBuf;
use std::process::Command;

/// The example's binary, built by the same `cargo test` as this test.
fn example_binary() -> PathBuf {
    let this = std::env::current_exe().expect("the test binary's path");
    let profile = this.parent().and_then(|deps| deps.parent()).unwrap();
    let name = format!("distill_tiny{}", std::env::consts::EXE_SUFFIX);
    profile.join("examples").join(name)
}

/// The accuracy (a percentage) on the line starting with `model`, if it is there and parses.
fn accuracy(output: &str, model: &str) -> Option<f64> {
    let value = output.lines().find_map(|line| {
        let (name, value) = line.split_once("test accuracy")?;
        (name.trim() == model).then_some(value)
    })?;
    value.trim().strip_suffix('%')?.trim().parse().ok()
}

#[test]
fn distill_tiny_prints_three_accuracies_and_the_distilled_student_is_ahead() {
    let binary = example_binary();
    assert!(
        binary.is_file(),
        "{} is missing: `cargo test` builds it with the other targets; on its own, run \
         `cargo build --example distill_tiny` (with the same --release or not) first",
        binary.display()
    );
    let source = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/distill_tiny.rs");
    let modified = |path: &std::path::Path| std::fs::metadata(path).and_then(|m| m.modified());
    assert!(
        modified(&binary).unwrap() >= modified(source.as_ref()).unwrap(),
        "{} is older than its source: rebuild it (`cargo build --example distill_tiny`)",
        binary.display()
    );
    let run = Command::new(&binary).output().expect("the example starts");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "distill_tiny failed: {}\n{stdout}{}",
        run.status,
        String::from_utf8_lossy(&run.stderr)
    );
    print!("{stdout}");
    let [teacher, alone, distilled] =
        ["teacher", "student alone", "student distilled"].map(|model| {
            accuracy(&stdout, model)
                .unwrap_or_else(|| panic!("no `{model}` accuracy in:\n{stdout}"))
        });
    // Chance is 25 % with 4 classes; the classes overlap, so no model reaches 100 %.
    for value in [teacher, alone, distilled] {
        assert!(
            value.is_finite() && (25.0..100.0).contains(&value),
            "{stdout}"
        );
    }
    assert!(
        distilled > alone,
        "the distilled student should beat the one trained alone:\n{stdout}"
    );
}

#[test]
fn accuracy_is_read_from_the_line_of_its_model() {
    let output = "teacher            test accuracy 79.17 %\n\
                  student alone      test accuracy 75.30 %\n";
    assert_eq!(accuracy(output, "teacher"), Some(79.17));
    assert_eq!(accuracy(output, "student alone"), Some(75.30));
    assert_eq!(accuracy(output, "student distilled"), None);
}
