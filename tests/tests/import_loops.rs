//! Dependencies point one way, between crates (Cargo enforces it) and between the files of one
//! crate (this test does). A file that uses another which uses it back cannot be read on its own:
//! a reader has to hold both in mind at once. So no file of a crate may reach itself through its
//! `use crate::…`, `use super::…` and `crate::…`/`super::…` paths, directly or through others.
//!
//! The source is read as text: `use` lists are expanded (`use super::{a, b::c}`), comments and
//! the `#[cfg(test)] mod tests` at the end of a file are left out (a test module may use anything
//! of its file), and each path goes to the longest module it names. A module's own children
//! (`mod x;`, `pub use x::…`) are not edges: a parent lists its parts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use distillery_tests::sources::crate_sources;

/// Every `.rs` file under `src`, by module path ("" for lib.rs or main.rs, "gemm" for gemm/mod.rs,
/// "gemm::nest" for gemm/nest.rs).
fn modules(src: &Path) -> BTreeMap<String, PathBuf> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(src).unwrap().with_extension("");
                let mut parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if matches!(
                    parts.last().map(String::as_str),
                    Some("mod" | "lib" | "main")
                ) {
                    parts.pop();
                }
                out.insert(parts.join("::"), path);
            }
        }
    }
    out
}

/// The text that counts: no comments, no trailing test module.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e`.
fn expand(path: &str) -> Vec<String> {
    let Some(open) = path.find('{') else {
        return vec![path.to_string()];
    };
    let (prefix, inner) = (&path[..open], &path[open + 1..path.len() - 1]);
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, ch) in inner.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .flat_map(|p| expand(&format!("{prefix}{p}")))
        .collect()
}

/// The modules of `all` that the file of module `me` uses.
fn uses(me: &str, text: &str, all: &BTreeMap<String, PathBuf>) -> BTreeSet<String> {
    let text = code(text);
    let mut paths: Vec<String> = Vec::new();
    for statement in text.split(';') {
        if let Some(rest) = statement.trim_start().strip_prefix("use ").or_else(|| {
            statement
                .trim_start()
                .strip_prefix("pub use ")
                .or_else(|| statement.trim_start().strip_prefix("pub(crate) use "))
        }) {
            let flat: String = rest.chars().filter(|c| !c.is_whitespace()).collect();
            paths.extend(expand(&flat));
        }
    }
    // Paths written in place: `crate::matmul::check_lengths(…)`.
    for word in text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')) {
        if word.starts_with("crate::") || word.starts_with("super::") {
            paths.push(word.to_string());
        }
    }
    let here: Vec<&str> = if me.is_empty() {
        Vec::new()
    } else {
        me.split("::").collect()
    };
    let mut found = BTreeSet::new();
    for p in paths {
        let segments: Vec<&str> = p.split("::").filter(|s| !s.is_empty()).collect();
        let absolute: Vec<&str> = match segments.first() {
            Some(&"crate") => segments[1..].to_vec(),
            Some(&"super") => {
                let ups = segments.iter().take_while(|s| **s == "super").count();
                let base = &here[..here.len().saturating_sub(ups)];
                base.iter().chain(&segments[ups..]).copied().collect()
            }
            _ => continue,
        };
        // The longest module the path names (the rest is an item inside it).
        let module = (1..=absolute.len())
            .rev()
            .map(|i| absolute[..i].join("::"))
            .find(|m| all.contains_key(m));
        if let Some(m) = module {
            // A parent's own children are its parts, not a dependency.
            let is_child = m.starts_with(&format!("{me}::")) || (me.is_empty() && !m.is_empty());
            if m != me && !is_child {
                found.insert(m);
            }
        }
    }
    found
}

/// The loops of `graph`: its strongly connected components of more than one module (Tarjan).
fn loops(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        for w in &s.graph[v] {
            if !s.index.contains_key(w.as_str()) {
                visit(s, w);
                let lw = s.low[w.as_str()];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.stack.contains(&w.as_str()) {
                let iw = s.index[w.as_str()];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                component.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.found
}

fn graph_of(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let all = modules(src);
    all.iter()
        .map(|(m, path)| {
            let text = std::fs::read_to_string(path).unwrap();
            (m.clone(), uses(m, &text, &all))
        })
        .collect()
}

#[test]
fn no_file_of_a_crate_reaches_itself_through_its_imports() {
    let mut found = Vec::new();
    for src in crate_sources() {
        for component in loops(&graph_of(&src)) {
            found.push(format!("{}: {}", src.display(), component.join(" ↔ ")));
        }
    }
    assert!(found.is_empty(), "import loops:\n{}", found.join("\n"));
}

/// The checker sees a loop of two files, one of three through a `use` list, and a path written in
/// place; and it does not count a parent listing its children.
#[test]
fn the_checker_finds_loops_written_every_way() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    let write = |name: &str, text: &str| {
        let path = src.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("lib.rs", "mod a;\nmod b;\nmod c;\nmod p;\npub use a::A;\n");
    write("a.rs", "use crate::b::B;\npub struct A;\n");
    write("b.rs", "use crate::{c::C, a};\npub struct B;\n");
    write("c.rs", "pub fn f() { crate::a::g(); }\npub struct C;\n");
    write("p/mod.rs", "mod q;\npub use q::Q;\nuse self::q::Q as R;\n");
    write(
        "p/q.rs",
        "use super::super::a::A;\npub struct Q;\n#[cfg(test)]\nmod tests {\n use crate::p::q;\n}\n",
    );
    let graph = graph_of(src);
    assert_eq!(graph["p::q"], BTreeSet::from(["a".to_string()]));
    assert!(graph["p"].is_empty(), "{:?}", graph["p"]);
    let found = loops(&graph);
    assert_eq!(found, vec![vec!["a", "b", "c"]]);
}
