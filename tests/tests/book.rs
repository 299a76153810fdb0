//! The book (docs/book/) is verified: every exercise ends in a `cargo test` command naming the
//! test that checks it, and this test fails when a named test no longer exists where its command
//! looks for it — a renamed or deleted test breaks CI here, not a reader's afternoon.
//!
//! A command is `cargo test [--release] -p PACKAGE [--test FILE | --lib] NAME`, in a backtick span
//! or on a line of a `sh` block. Where it looks: with `--test FILE`, the package's
//! `tests/FILE.rs`; with `--lib`, the package's `src/`; with neither, both. The test exists when
//! one of those files holds `fn NAME(` (a `#[test]` function or a proptest case). Every chapter
//! must cite at least one test. (The chapters' Rust blocks are compiled as doctests: tests/src/lib.rs.)

use std::path::{Path, PathBuf};

use distillery_tests::sources::rust_files;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A `cargo test` command as a chapter cites it.
#[derive(Debug, PartialEq)]
struct Citation {
    package: String,
    /// `Some(file)` for `--test file`.
    test_file: Option<String>,
    lib_only: bool,
    name: String,
}

/// Every `cargo test` command in `markdown`: in backtick spans outside fenced blocks, and on the
/// lines of fenced blocks. Returns the parsed citations, or the command a citation could not be
/// read from.
fn citations(markdown: &str) -> Result<Vec<Citation>, String> {
    let mut commands = Vec::new();
    let mut prose = String::new();
    let mut in_fence = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            if line.trim_start().starts_with("cargo test") {
                commands.push(line.trim().to_string());
            }
        } else {
            prose.push_str(line);
            prose.push('\n');
        }
    }
    for span in prose.split('`').skip(1).step_by(2) {
        if span.trim_start().starts_with("cargo test") {
            commands.push(span.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }
    let mut out = Vec::new();
    for command in commands {
        if let Some(citation) = parse(&command)? {
            out.push(citation);
        }
    }
    Ok(out)
}

/// One command: `None` when it names no test (`cargo test --workspace --release`).
fn parse(command: &str) -> Result<Option<Citation>, String> {
    let mut words = command.split_whitespace().skip(2);
    let (mut package, mut test_file, mut lib_only, mut names) = (None, None, false, Vec::new());
    while let Some(word) = words.next() {
        match word {
            "--release" | "--workspace" => {}
            "-p" | "--package" => package = words.next().map(str::to_string),
            "--test" => test_file = words.next().map(str::to_string),
            "--lib" => lib_only = true,
            "--doc" => {}
            "--" => break,
            flag if flag.starts_with('-') => return Err(format!("{command}: unknown flag {flag}")),
            name => names.push(name.to_string()),
        }
    }
    match (names.as_slice(), package) {
        ([], _) => Ok(None),
        ([name], Some(package)) => Ok(Some(Citation {
            package,
            test_file,
            lib_only,
            name: name.clone(),
        })),
        ([_], None) => Err(format!("{command}: name the package (-p)")),
        _ => Err(format!("{command}: name one test")),
    }
}

/// The folder of each workspace package, by package name.
fn package_dir(package: &str) -> Option<PathBuf> {
    let mut members: Vec<PathBuf> = ["tensor", "autograd", "nn", "kd", "trees", "tests"]
        .iter()
        .map(|m| root().join(m))
        .collect();
    for app in std::fs::read_dir(root().join("apps")).unwrap() {
        members.push(app.unwrap().path());
    }
    members.into_iter().find(|dir| {
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap_or_default();
        manifest
            .lines()
            .find_map(|l| l.strip_prefix("name = "))
            .is_some_and(|n| n.trim_matches('"') == package)
    })
}

/// Why `citation` does not name an existing test, if it does not.
fn missing(citation: &Citation) -> Option<String> {
    let Some(dir) = package_dir(&citation.package) else {
        return Some(format!("no package {}", citation.package));
    };
    let places: Vec<PathBuf> = match (&citation.test_file, citation.lib_only) {
        (Some(file), _) => vec![dir.join("tests").join(format!("{file}.rs"))],
        (None, true) => vec![dir.join("src")],
        (None, false) => vec![dir.join("src"), dir.join("tests")],
    };
    let files: Vec<PathBuf> = places.iter().flat_map(|p| rust_files(p)).collect();
    if files.is_empty() {
        return Some(format!("nothing at {}", places[0].display()));
    }
    let wanted = format!("fn {}(", citation.name);
    let found = files
        .iter()
        .any(|f| std::fs::read_to_string(f).unwrap().contains(&wanted));
    (!found).then(|| format!("no `{wanted}` in {}", places[0].display()))
}

#[test]
fn every_test_the_book_cites_exists() {
    let mut chapters: Vec<PathBuf> = std::fs::read_dir(root().join("docs/book"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    chapters.sort();
    let mut problems = Vec::new();
    let mut total = 0;
    for chapter in &chapters {
        let name = chapter.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(chapter).unwrap();
        let cited = match citations(&text) {
            Ok(cited) => cited,
            Err(e) => {
                problems.push(format!("{name}: {e}"));
                continue;
            }
        };
        let is_chapter = name.starts_with(|c: char| c.is_ascii_digit());
        if is_chapter && cited.is_empty() {
            problems.push(format!("{name}: a chapter cites no test for its exercises"));
        }
        for citation in &cited {
            if let Some(why) = missing(citation) {
                problems.push(format!("{name}: `{}`: {why}", citation.name));
            }
        }
        println!("{name}: {} tests cited", cited.len());
        total += cited.len();
    }
    assert!(total > 0, "no chapters found in docs/book/");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn citations_are_read_from_spans_and_shell_blocks() {
    let text = "Check: `cargo test --release -p tensor --lib strides_are_row_major`.\n\
                Run `cargo test --workspace --release` for all.\n\
                ```sh\ncargo test -p kd --test losses a_loss\n```\n\
                and `cargo run --example x`.";
    let cited = citations(text).unwrap();
    assert_eq!(
        cited,
        [
            Citation {
                package: "kd".into(),
                test_file: Some("losses".into()),
                lib_only: false,
                name: "a_loss".into()
            },
            Citation {
                package: "tensor".into(),
                test_file: None,
                lib_only: true,
                name: "strides_are_row_major".into()
            },
        ]
    );
    assert!(citations("`cargo test some_test`").is_err(), "no package");
    assert!(citations("`cargo test -p kd --nocapture x`").is_err());
}

#[test]
fn a_renamed_test_is_reported() {
    let cite = |file: Option<&str>, name: &str| Citation {
        package: "autograd".into(),
        test_file: file.map(str::to_string),
        lib_only: false,
        name: name.into(),
    };
    let real = "a_second_backward_on_the_same_loss_panics";
    assert_eq!(missing(&cite(Some("backward_questions"), real)), None);
    assert_eq!(missing(&cite(None, real)), None);
    assert!(missing(&cite(Some("backward_questions"), "a_second_backward")).is_some());
    assert!(missing(&cite(Some("no_such_file"), real)).is_some());
}
