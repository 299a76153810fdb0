//! The two reading tracks of docs/READING.md, checked so that they cannot drift from the code.
//!
//! **The short track** (from a `Tensor` to a distilled student) is a numbered list of files, or
//! `file:first-last` line ranges. This test counts its lines, prints the count, and fails when it
//! is above [`SHORT_TRACK_LIMIT`], when a listed file is missing, or when a range no longer falls
//! on whole items: its first line must open an item (not indented, after a blank line or at the
//! top of the file) and its last line must close one (followed by a blank line or the end of the
//! file), so that code moving in the file shows up here rather than as a range that silently
//! points at something else. The track must end in `examples/distill_tiny.rs`, itself at most
//! [`EXAMPLE_LIMIT`] lines.
//!
//! **The performance track** lists files and folders; each must exist (its count is printed too).
//!
//! `cargo test --release -p distillery-tests --test reading_tracks -- --nocapture` shows the counts.

use std::path::{Path, PathBuf};

/// The most lines of code the short track may ask a reader to read.
const SHORT_TRACK_LIMIT: usize = 4_000;
/// The most lines of `examples/distill_tiny.rs`: one screen or two.
const EXAMPLE_LIMIT: usize = 80;
/// The short track's last stop.
const EXAMPLE: &str = "examples/distill_tiny.rs";

/// One entry of a track: a path (file or folder) relative to the repository, and maybe a range.
#[derive(Debug, PartialEq)]
struct Entry {
    path: String,
    /// `(first, last)`, both 1-based and included.
    lines: Option<(usize, usize)>,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The lines of the section whose heading (`## …`) starts with `heading`, up to the next `## `.
fn section<'a>(markdown: &'a str, heading: &str) -> Vec<&'a str> {
    let mut lines = markdown.lines().skip_while(|l| !l.starts_with(heading));
    assert!(
        lines.next().is_some(),
        "docs/READING.md has no section {heading:?}"
    );
    lines.take_while(|l| !l.starts_with("## ")).collect()
}

/// The entries of a section: every numbered item (`12. `) that opens with a path in backticks,
/// `path` or `path:first-last`.
fn entries(section: &[&str]) -> Vec<Entry> {
    let mut out = Vec::new();
    for line in section {
        let Some((number, rest)) = line.trim_start().split_once(". `") else {
            continue;
        };
        if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let spec = rest.split('`').next().unwrap_or_default();
        let entry = match spec.split_once(':') {
            None => Entry {
                path: spec.to_string(),
                lines: None,
            },
            Some((path, range)) => {
                let (first, last) = range
                    .split_once('-')
                    .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
                    .unwrap_or_else(|| panic!("{spec:?}: a range is written `first-last`"));
                Entry {
                    path: path.to_string(),
                    lines: Some((first, last)),
                }
            }
        };
        out.push(entry);
    }
    out
}

/// Why `lines[first..=last]` (1-based) does not cover whole items, if it does not.
fn range_problem(lines: &[&str], first: usize, last: usize) -> Option<String> {
    if first == 0 || first > last || last > lines.len() {
        return Some(format!("the file has {} lines", lines.len()));
    }
    let opens = |i: usize| {
        let line = lines[i - 1];
        !line.trim().is_empty()
            && !line.starts_with(char::is_whitespace)
            && (i == 1 || lines[i - 2].trim().is_empty())
    };
    let closes = |i: usize| {
        !lines[i - 1].trim().is_empty() && (i == lines.len() || lines[i].trim().is_empty())
    };
    if !opens(first) {
        return Some(format!("line {first} does not open an item"));
    }
    if !closes(last) {
        return Some(format!("line {last} does not close an item"));
    }
    None
}

/// The lines of every file under `path` (a file, or a folder searched recursively).
fn lines_under(path: &Path) -> usize {
    if path.is_file() {
        return std::fs::read_to_string(path).unwrap().lines().count();
    }
    std::fs::read_dir(path)
        .unwrap()
        .map(|e| lines_under(&e.unwrap().path()))
        .sum()
}

/// The lines an entry asks a reader to read; panics naming the entry when it is wrong.
fn count(entry: &Entry) -> usize {
    let path = root().join(&entry.path);
    assert!(
        path.exists(),
        "docs/READING.md lists {}, which does not exist",
        entry.path
    );
    let Some((first, last)) = entry.lines else {
        return lines_under(&path);
    };
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    if let Some(problem) = range_problem(&lines, first, last) {
        panic!(
            "docs/READING.md lists {}:{first}-{last}, but {problem}: update the range",
            entry.path
        );
    }
    last - first + 1
}

fn reading() -> String {
    std::fs::read_to_string(root().join("docs/READING.md")).unwrap()
}

#[test]
fn the_short_track_is_at_most_4000_lines_and_ends_in_the_example() {
    let doc = reading();
    let track = entries(&section(&doc, "## The short track"));
    let mut total = 0;
    for entry in &track {
        let n = count(entry);
        total += n;
        let range = entry
            .lines
            .map(|(a, b)| format!(":{a}-{b}"))
            .unwrap_or_default();
        println!("{n:>6}  {}{range}", entry.path);
    }
    println!(
        "{total:>6}  lines in the short track ({} entries)",
        track.len()
    );
    assert!(
        total <= SHORT_TRACK_LIMIT,
        "the short track is {total} lines, more than {SHORT_TRACK_LIMIT}: shorten it"
    );
    let last = track.last().expect("the short track lists files");
    assert_eq!(last.path, EXAMPLE, "the short track ends in the example");
    let example = count(last);
    assert!(
        example <= EXAMPLE_LIMIT,
        "{EXAMPLE} is {example} lines, more than {EXAMPLE_LIMIT}"
    );
}

#[test]
fn every_entry_of_the_performance_track_exists() {
    let doc = reading();
    let track = entries(&section(&doc, "## The performance track"));
    assert!(!track.is_empty(), "the performance track lists files");
    let total: usize = track.iter().map(count).sum();
    println!(
        "{total:>6}  lines in the performance track ({} entries)",
        track.len()
    );
}

#[test]
fn the_parser_reads_files_ranges_and_nothing_else() {
    let doc = "# Title\n## The short track\n\n1. `a/b.rs` — one\n   `c.rs` is not an entry\n\
               12. `d.rs:3-9` — two\n- `e.rs` a bullet\n## Next\n3. `f.rs`\n";
    let track = entries(&section(doc, "## The short track"));
    assert_eq!(
        track,
        [
            Entry {
                path: "a/b.rs".into(),
                lines: None
            },
            Entry {
                path: "d.rs".into(),
                lines: Some((3, 9))
            },
        ]
    );
}

#[test]
fn a_range_must_fall_on_whole_items() {
    let file = ["//! doc", "", "fn a() {", "    1", "}", "", "fn b() {}"];
    assert_eq!(range_problem(&file, 1, 5), None);
    assert_eq!(range_problem(&file, 3, 7), None);
    assert!(range_problem(&file, 4, 5)
        .unwrap()
        .contains("line 4 does not open"));
    assert!(range_problem(&file, 3, 4)
        .unwrap()
        .contains("line 4 does not close"));
    assert!(range_problem(&file, 1, 8).unwrap().contains("7 lines"));
}
