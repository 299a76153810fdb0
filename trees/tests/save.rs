//! Saving a tree as JSON and loading it back: the same tree, and bad files refused.

use proptest::prelude::*;
use trees::{Features, Limits, Tree, TreeError};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Values drawn from the whole range of f32 (not a grid), so thresholds and leaf means are
    /// arbitrary floats: a round trip that rounded any of them would change the tree.
    #[test]
    fn save_then_load_gives_the_same_tree_and_predictions(
        (n, values, targets) in (2usize..40).prop_flat_map(|n| (
            Just(n),
            prop::collection::vec(-1e6f32..1e6, n * 3),
            prop::collection::vec(-1.0f32..1.0, n * 2),
        )),
        max_leaves in prop::option::of(1usize..12),
    ) {
        let features = Features::new(n, 3, values).unwrap();
        let limits = Limits { max_leaves, ..Limits::default() };
        let tree = Tree::fit_regressor(&features, &targets, limits).unwrap();
        let loaded = Tree::from_json(&tree.to_json()).unwrap();
        prop_assert_eq!(&loaded, &tree);
        for r in 0..n {
            prop_assert_eq!(loaded.predict(features.row(r)).unwrap(), tree.predict(features.row(r)).unwrap());
        }
    }
}

#[test]
fn a_saved_file_loads_and_replaces_the_old_one_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tree.json");
    let features = Features::new(4, 1, vec![0.0, 1.0, 2.0, 3.0]).unwrap();
    let first = Tree::fit_classifier(&features, &[0, 0, 1, 1], 2, Limits::default()).unwrap();
    first.save(&path).unwrap();
    assert_eq!(Tree::load(&path).unwrap(), first);
    let second = Tree::fit_classifier(&features, &[0, 1, 1, 1], 2, Limits::default()).unwrap();
    second.save(&path).unwrap();
    assert_eq!(Tree::load(&path).unwrap(), second);
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "no temporary file left behind");
}

/// Each bad file is refused with a message naming what was expected.
#[test]
fn bad_files_are_refused() {
    let nodes = |nodes: &str| {
        format!(
            r#"{{"format": "distillery-tree", "version": 1, "features": 2, "nodes": [{nodes}]}}"#
        )
    };
    let split = |left: i64, right: i64| {
        format!(
            r#"{{"feature": 0, "threshold": 0.5, "left": {left}, "right": {right}, "value": [0.5, 0.5]}}"#
        )
    };
    let leaf = r#"{"leaf": [1.0, 0.0]}"#;
    // The reviewer's case: one tree, but not in growth's order, so cutting it would break.
    let out_of_order = nodes(&format!(
        "{}, {}, {leaf}, {leaf}, {leaf}",
        split(1, 4),
        split(2, 3)
    ));
    let cases = [
        (
            out_of_order,
            "node 0: children at an odd index and the next",
        ),
        ("not json".to_string(), "valid JSON"),
        (
            r#"{"format": "other", "version": 1}"#.to_string(),
            "\"format\"",
        ),
        (
            r#"{"format": "distillery-tree", "version": 9, "features": 2, "nodes": []}"#
                .to_string(),
            "\"version\": 1",
        ),
        (nodes(""), "a non-empty list"),
        (
            nodes(&format!("{}, {leaf}, {leaf}", split(1, 1))),
            "children at an odd index and the next",
        ),
        (
            nodes(&format!("{}, {leaf}", split(0, 1))),
            "\"left\" between 1 and 1",
        ),
        (
            nodes(&format!("{}, {leaf}, {leaf}", split(1, 3))),
            "\"right\" between 1 and 2",
        ),
        (
            nodes(&format!(
                "{}, {}, {}, {leaf}, {leaf}",
                split(1, 2),
                split(3, 4),
                split(3, 4)
            )),
            "the child of exactly one node",
        ),
        (
            nodes(&format!("{}, {leaf}, {leaf}, {leaf}", split(1, 2))),
            "node 3: the child of exactly one node",
        ),
        (
            nodes(&format!(r#"{}, {leaf}, {{"leaf": [1.0]}}"#, split(1, 2))),
            "a value of 2 numbers",
        ),
        (
            nodes(
                r#"{"feature": 2, "threshold": 0.5, "left": 1, "right": 2, "value": [1]}, {"leaf": [1]}, {"leaf": [1]}"#,
            ),
            "\"feature\" below 2",
        ),
        (
            nodes(
                r#"{"feature": 0, "threshold": null, "left": 1, "right": 2, "value": [1]}, {"leaf": [1]}, {"leaf": [1]}"#,
            ),
            "a finite \"threshold\"",
        ),
        (nodes(r#"{"leaf": [1e300]}"#), "finite numbers"),
        (
            nodes(
                r#"{"feature": 0, "threshold": 0.5, "left": 1, "right": 2}, {"leaf": [1]}, {"leaf": [1]}"#,
            ),
            "node 0: \"value\": a non-empty list",
        ),
    ];
    for (text, expected) in cases {
        match Tree::from_json(&text) {
            Err(e @ TreeError::Malformed { .. }) => {
                let message = e.to_string();
                assert!(message.contains(expected), "{text}: {message}");
            }
            other => panic!("{text}: expected a refusal, found {other:?}"),
        }
    }
    let missing = Tree::load(std::path::Path::new("no/such/tree.json")).unwrap_err();
    assert!(matches!(missing, TreeError::Io { .. }), "{missing:?}");
}
