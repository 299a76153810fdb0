//! Comments say why and state invariants; measurements live in docs/performance.md (the policy is
//! docs/COMMENTS.md). This test enforces the second half on every comment (`//`, `///`, `//!`) in
//! the workspace's `src` folders: no timing, throughput, percentage, speedup or "was x, now y"
//! figure. A number in a comment is wrong the day the code around it changes; in
//! docs/performance.md it carries its date, machine and command.
//!
//! What counts as a measurement figure (see [`measurement`]):
//! - a number followed by a unit of time or throughput: `ns`, `us`, `µs`, `ms`, `s`, `min`,
//!   `GFLOP/s`, `GFLOPS`, `GB/s`, `MB/s`, `samples/s`;
//! - a number followed by `%`;
//! - a speedup, a number followed by `×` or `x` that does not start a product of sizes
//!   (`3× faster`, `2x`, but not `1 × 1`, `6×16`, `2 × KC` or `4 × n`);
//! - a change: a number, then `→` or `->`, then a number, one of the two with decimals
//!   (`9.4 → 3.4`; `784 → 800` is a layer's sizes);
//! - a table row (`| … |`) holding a number with decimals (`| 83.9 / 74.3 |`).
//!
//! Text in backticks is left out: it is code or a formula (`[N, C] → [N]`), not a figure. A number
//! that is part of a name (`f32`, `avx512`, `sgemm_256`) is not a number.

use std::path::Path;

use distillery_tests::sources::{crate_sources, rust_files};

/// The comment on a line of Rust, if any: the whole line when it starts with `//`, or what follows
/// a ` // ` after code. (A `//` inside a string such as `"http://…"` has no space before it.)
fn comment(line: &str) -> Option<&str> {
    let trimmed = line.trim_start();
    if let Some(rest) = trimmed.strip_prefix("//") {
        return Some(rest);
    }
    line.find(" // ").map(|i| &line[i + 4..])
}

/// `text` without its backtick spans (code and formulas).
fn prose(text: &str) -> String {
    text.split('`').step_by(2).collect::<Vec<_>>().join(" ")
}

/// Units that make a number a time or a throughput.
const UNITS: [&str; 15] = [
    "GFLOP/s",
    "seconds",
    "minutes",
    "hours",
    "GFLOPS",
    "GB/s",
    "MB/s",
    "samples/s",
    "min",
    "µs",
    "us",
    "ms",
    "ns",
    "s",
    "%",
];

/// Spaces a figure may have inside it or before its unit: ordinary, no-break and thin spaces.
fn is_space(c: char) -> bool {
    c == ' ' || c == '\u{a0}' || c == '\u{202f}' || c == '\u{2009}'
}

/// Why `text` (one comment) holds a measurement figure, or `None` when it holds none.
fn measurement(text: &str) -> Option<String> {
    let table_row = text.trim_start_matches(['/', '!', ' ']).starts_with('|');
    if table_row {
        if let Some(figure) = decimal(&prose(text)) {
            return Some(format!("{figure} in a table row"));
        }
    }
    let chars: Vec<char> = prose(text).chars().collect();
    let at = |i: usize| chars.get(i).copied();
    let rest = |i: usize| chars[i.min(chars.len())..].iter().collect::<String>();
    let mut i = 0;
    while i < chars.len() {
        let starts_number = chars[i].is_ascii_digit()
            && !i
                .checked_sub(1)
                .and_then(at)
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.');
        if !starts_number {
            i += 1;
            continue;
        }
        // The number: digits, a decimal point, and digit groups after a space ("1 000 000").
        let start = i;
        while let Some(c) = at(i) {
            let grouped = is_space(c)
                && (1..=3).all(|k| at(i + k).is_some_and(|d| d.is_ascii_digit()))
                && !at(i + 4).is_some_and(|d| d.is_ascii_digit());
            if c.is_ascii_digit() || (c == '.' && at(i + 1).is_some_and(|d| d.is_ascii_digit())) {
                i += 1;
            } else if grouped {
                i += 4;
            } else {
                break;
            }
        }
        // A number glued to letters is a name or a literal (`0x1f`, `2nd`, `3d`), except for a
        // unit or a speedup written without a space.
        let number: String = chars[start..i].iter().collect();
        let mut j = i;
        while at(j).is_some_and(is_space) {
            j += 1;
        }
        let after = rest(j);
        for unit in UNITS {
            if let Some(tail) = after.strip_prefix(unit) {
                let ends = tail.chars().next().is_none_or(|c| !c.is_alphanumeric());
                // `4 s` is a time, `the 3s` a digit's plural.
                let spaced = unit != "s" || j > i;
                if ends && spaced {
                    return Some(format!("{number} {unit}"));
                }
            }
        }
        if let Some(tail) = after.strip_prefix('×').or_else(|| after.strip_prefix('x')) {
            if is_speedup(tail) {
                return Some(format!("{number}×, a speedup"));
            }
        }
        if let Some(tail) = after.strip_prefix('→').or_else(|| after.strip_prefix("->")) {
            // Both sides numbers, one of them with decimals: `784 → 800` is a layer's sizes.
            let next: String = tail
                .trim_start_matches(is_space)
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            if !next.is_empty() && (number.contains('.') || next.contains('.')) {
                return Some(format!("{number} → {next}, a before and after"));
            }
        }
        i = i.max(start + 1);
    }
    None
}

/// The first number with decimals (`83.9`) in `text`, not part of a name or a version.
fn decimal(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    for i in 0..chars.len() {
        let free = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '.');
        if !(free && chars[i].is_ascii_digit()) {
            continue;
        }
        let figure: String = chars[i..]
            .iter()
            .take_while(|c| c.is_ascii_digit() || **c == '.')
            .collect();
        let parts: Vec<&str> = figure.split('.').collect();
        if parts.len() == 2 && !parts[1].is_empty() {
            return Some(figure);
        }
    }
    None
}

/// After `N×` (or `Nx`): a speedup, unless a factor of a product follows: a number (`6×16`,
/// `1 × 1`, and so also `0x1f`), a single letter (`4 × n`), a name in capitals (`2 × KC`) or a
/// bracket (`2 × (KH + 1)`).
fn is_speedup(tail: &str) -> bool {
    let factor = tail.trim_start_matches(is_space);
    if factor.starts_with(['(', '[', '⌈', '⌊', '…']) {
        return false;
    }
    let word: String = factor
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    let Some(first) = word.chars().next() else {
        return true; // `2×` at the end, or before punctuation
    };
    !(first.is_ascii_digit() || word.chars().count() == 1 || first.is_uppercase())
}

#[test]
fn no_comment_in_src_holds_a_measurement() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found = Vec::new();
    for dir in crate_sources() {
        for path in rust_files(&dir) {
            let text = std::fs::read_to_string(&path).unwrap();
            for (n, line) in text.lines().enumerate() {
                if let Some(why) = comment(line).and_then(measurement) {
                    let shown = path.strip_prefix(&root).unwrap_or(&path).display();
                    found.push(format!("{shown}:{}: {why}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "{} comment lines hold measurements; move the figures to docs/performance.md (with \
         date, machine and command) and say why in the comment (docs/COMMENTS.md):\n{}",
        found.len(),
        found.join("\n")
    );
}

/// The matcher on planted lines: each of these must be caught…
#[test]
fn the_matcher_catches_measurements() {
    let must_fail = [
        "// it was 9.4 % of a `cnn_train` step, this is 3.4 %.",
        "/// sgemm_256 38.8 → 39.2 GFLOP/s",
        "//! about 20 µs of work",
        "// takes 3 ms per batch",
        "// 0.89 -> 0.97 on one thread",
        "// 3 min 44 s before the threading",
        "// went from 3.3 ms to 0.26 ms",
        "// a 2.5× speedup",
        "// 3x faster than the scalar path",
        "// about 10% of the step",
        "// 1 363 samples/s",
        "let x = 1; // 12 ns per call",
        "// ran in 4 s on the laptop",
        "// reads at 19 GB/s",
        "// 1363 → 1371 samples/s",
        "// `mlp_train` 21.3 → 22.0 MiB",
        "//! | square | 256×256×256 | 83.9 / 74.3 | 1.13, 1.02 |",
    ];
    for line in must_fail {
        assert!(
            comment(line).and_then(measurement).is_some(),
            "not caught: {line}"
        );
    }
}

/// …and each of these must pass: sizes, shapes, counts, names and formulas.
#[test]
fn the_matcher_lets_sizes_counts_and_formulas_pass() {
    let must_pass = [
        "// a 1 × 1 convolution needs no im2col",
        "/// images `[N, C, H, W]` → `[N, O, OH, OW]`",
        "// with 2 threads the rows split in two bands",
        "// a 6×16 tile of FMAs",
        "// KC = 256 floats of depth, 2 × KC in all",
        "// 4 × n outputs",
        "//! the f32 and avx512 kernels, and sgemm_256",
        "// 0x1f is the mask",
        "// blocks of 1 024 values",
        "// in the 2nd pass",
        "// layers 784-800-800-10",
        "// the `24×24 → 12×12` pool",
        "// seeds 1, 2 and 3; T = 4",
        "// 3 samples per class",
        "// a 3-D tensor",
        "let url = \"http://example.com/3 ms\";",
        "// (a·b) / s + 1 cells",
        "// 10⁷ copies of 0.1f32",
        "// 2 × (KH + 1) rows",
        "/// conv 1→32 3×3 → ReLU, dense 9216→128",
        "//! 784 → 800 → 800 → classes",
        "//! the 3s, or only the 7s and 8s",
        "//! | level | file | lanes |",
        "//! | [`Level::Scalar`] | [`scalar`] | 1 | plain loops |",
        "/// an ensemble of 3 × … (probabilities",
    ];
    for line in must_pass {
        assert_eq!(
            comment(line).and_then(measurement),
            None,
            "false positive: {line}"
        );
    }
}
