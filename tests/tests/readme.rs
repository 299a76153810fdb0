//! README.md's Rust cannot go stale: every `rust` block in it must be an excerpt of a doc example
//! that rustdoc compiles (`cargo test --doc`), and every other fenced block must say what it is
//! (`sh`, `text`), so that nothing in the README looks like code that was never compiled.
//!
//! An excerpt: the block's lines, trimmed, in order, each found in the same doc example (its
//! hidden `# ` lines included), skipping blank lines and comment lines holding `…`, which mark
//! what the README leaves out. The README's "Writing a new study" block, for instance, is an
//! excerpt of the whole app in `apps/study/src/lib.rs`'s documentation.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The fenced blocks of a Markdown text: (language tag, lines).
fn fenced_blocks(markdown: &str) -> Vec<(String, Vec<String>)> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, Vec<String>)> = None;
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        match (&mut open, trimmed.strip_prefix("```")) {
            (None, Some(tag)) => open = Some((tag.trim().to_string(), Vec::new())),
            (Some(_), Some(_)) => blocks.push(open.take().unwrap()),
            (Some((_, lines)), None) => lines.push(line.to_string()),
            (None, None) => {}
        }
    }
    blocks
}

/// Whether rustdoc compiles a doc block with this tag.
fn compiled(tag: &str) -> bool {
    let words: Vec<&str> = tag.split(',').map(str::trim).collect();
    let rust = words
        .iter()
        .all(|w| ["", "rust", "no_run", "should_panic"].contains(w) || w.starts_with("edition"));
    rust && !words.contains(&"ignore")
}

/// The compiled doc examples of every `src` file in the workspace, each as its lines, with the
/// doc-comment markers and rustdoc's hidden-line `# ` removed.
fn doc_examples() -> Vec<Vec<String>> {
    let mut files = Vec::new();
    let mut stack = vec![root()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy();
            if path.is_dir() && !name.starts_with('.') && name != "target" && name != "fixtures" {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs")
                && path.components().any(|c| c.as_os_str() == "src")
            {
                files.push(path);
            }
        }
    }
    let mut examples = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let docs: String = text
            .lines()
            .filter_map(|l| {
                let l = l.trim_start();
                l.strip_prefix("//!").or_else(|| l.strip_prefix("///"))
            })
            .map(|l| format!("{}\n", l.strip_prefix(' ').unwrap_or(l)))
            .collect();
        for (tag, lines) in fenced_blocks(&docs) {
            if compiled(&tag) {
                let unhidden = |l: &String| {
                    let t = l.trim();
                    t.strip_prefix("# ").unwrap_or(t).to_string()
                };
                examples.push(lines.iter().map(unhidden).collect());
            }
        }
    }
    examples
}

/// Lines an excerpt does not need to match: blank ones, and comments marking a gap (`// …`).
fn left_out(line: &str) -> bool {
    line.is_empty() || (line.starts_with("//") && line.contains('…'))
}

/// The first of `excerpt`'s lines (blank lines and `…` comments left out) that does not appear
/// in `example` after the ones before it, with how many did; `None` when all do.
fn first_unmatched(excerpt: &[String], example: &[String]) -> Option<(usize, String)> {
    let mut rest = example.iter();
    excerpt
        .iter()
        .map(|l| l.trim())
        .filter(|l| !left_out(l))
        .enumerate()
        .find(|(_, line)| !rest.any(|e| e == line))
        .map(|(i, line)| (i, line.to_string()))
}

fn is_excerpt(excerpt: &[String], example: &[String]) -> bool {
    first_unmatched(excerpt, example).is_none()
}

#[test]
fn readme_rust_blocks_are_excerpts_of_compiled_doc_examples() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let examples = doc_examples();
    let mut rust_blocks = 0;
    for (tag, lines) in fenced_blocks(&readme) {
        let first = lines.first().cloned().unwrap_or_default();
        assert!(
            !tag.is_empty(),
            "README.md: a fenced block without a language (```sh, ```text, ```rust) starts `{first}`"
        );
        if tag != "rust" {
            continue;
        }
        rust_blocks += 1;
        let closest = examples
            .iter()
            .map(|e| first_unmatched(&lines, e))
            .min_by_key(|m| m.as_ref().map(|(i, _)| usize::MAX - i))
            .flatten();
        if let Some((_, line)) = closest {
            panic!(
                "README.md: the rust block starting `{first}` is not an excerpt of any compiled \
                 doc example; in the closest, `{line}` is missing after the lines before it. Make \
                 it match the example it was taken from, or mark what it leaves out with `// …`"
            );
        }
    }
    println!(
        "{rust_blocks} rust blocks in README.md, checked against {} doc examples",
        examples.len()
    );
}

#[test]
fn an_excerpt_keeps_the_order_and_may_leave_out_lines() {
    let example: Vec<String> = ["fn main() {", "let a = 1;", "let b = 2;", "}"]
        .map(String::from)
        .to_vec();
    let lines = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(is_excerpt(
        &lines(&["fn main() {", "    // …", "    let b = 2;"]),
        &example
    ));
    assert!(!is_excerpt(&lines(&["let b = 2;", "let a = 1;"]), &example));
    assert!(!is_excerpt(&lines(&["let a = 3;"]), &example));
    assert!(compiled("") && compiled("rust") && compiled("no_run"));
    assert!(!compiled("text") && !compiled("rust,ignore") && !compiled("sh"));
}
