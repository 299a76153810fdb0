//! Growth, limits, invariances and determinism of `Tree`.

use proptest::prelude::*;
use trees::{Features, Limits, Tree, TreeError};

/// Rows on a 4 × 4 × 4 grid (so samples repeat values), and a label that is a function of the row,
/// so equal rows always carry equal labels and the problem is separable.
fn separable() -> impl Strategy<Value = (usize, Vec<f32>, Vec<usize>)> {
    (1usize..40, any::<u64>()).prop_flat_map(|(n, salt)| {
        prop::collection::vec(0u8..4, n * 3).prop_map(move |grid| {
            let values: Vec<f32> = grid.iter().map(|&v| f32::from(v)).collect();
            let labels = grid
                .chunks(3)
                .map(|r| {
                    let key = u64::from(r[0]) * 16 + u64::from(r[1]) * 4 + u64::from(r[2]);
                    ((key ^ salt).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 61) as usize % 3
                })
                .collect();
            (n, values, labels)
        })
    })
}

/// xorshift64 from `seed`: enough spread for test data, and no dependency.
fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut state = seed | 1;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

fn training_counts(tree: &Tree, features: &Features) -> Vec<usize> {
    let mut counts = vec![0; tree.nodes().len()];
    for r in 0..features.rows() {
        counts[tree.leaf_of(features.row(r)).unwrap()] += 1;
    }
    counts
}

proptest! {
    #[test]
    fn separable_problem_is_fitted_exactly((n, values, labels) in separable()) {
        let features = Features::new(n, 3, values).unwrap();
        let tree = Tree::fit_classifier(&features, &labels, 3, Limits::default()).unwrap();
        for (r, &label) in labels.iter().enumerate() {
            prop_assert_eq!(tree.predict_class(features.row(r)).unwrap(), label, "row {}", r);
        }
    }

    #[test]
    fn limits_are_respected(
        (n, values, labels) in separable(),
        max_depth in prop::option::of(1usize..5),
        min_samples_leaf in 1usize..6,
        max_leaves in prop::option::of(1usize..8),
    ) {
        let features = Features::new(n, 3, values).unwrap();
        let limits = Limits { max_depth, min_samples_leaf, max_leaves };
        let tree = Tree::fit_classifier(&features, &labels, 3, limits).unwrap();
        if let Some(max) = max_depth {
            prop_assert!(tree.depth() <= max, "depth {} > {}", tree.depth(), max);
        }
        if let Some(max) = max_leaves {
            prop_assert!(tree.leaves() <= max, "leaves {} > {}", tree.leaves(), max);
        }
        // The root alone may hold fewer than min_samples_leaf samples: it is never split then.
        let counts = training_counts(&tree, &features);
        for (node, &count) in counts.iter().enumerate() {
            if matches!(tree.nodes()[node], trees::Node::Leaf { .. }) && tree.leaves() > 1 {
                prop_assert!(count >= min_samples_leaf, "leaf {} holds {} < {}", node, count, min_samples_leaf);
            }
        }
    }

    /// Features and targets drawn from a seed (not shrunk towards ties): distinct partitions then
    /// never tie in decrease, and a tie between features, broken by feature index, which a
    /// permutation changes, could only be between features inducing the same partition, which
    /// predict the same on the training rows.
    #[test]
    fn permuting_features_leaves_predictions_unchanged(
        n in 2usize..30,
        seed in any::<u64>(),
        max_leaves in 1usize..8,
        perm in Just([0usize, 1, 2, 3]).prop_shuffle(),
    ) {
        let mut bits = xorshift(seed);
        let mut uniform = move || (bits() >> 40) as f32 / (1u64 << 24) as f32;
        let values: Vec<f32> = (0..n * 4).map(|_| uniform()).collect();
        let targets: Vec<f32> = (0..n * 2).map(|_| uniform()).collect();
        let limits = Limits { max_leaves: Some(max_leaves), ..Limits::default() };
        let permute = |row: &[f32]| -> Vec<f32> { perm.iter().map(|&c| row[c]).collect() };
        let original = Features::new(n, 4, values.clone()).unwrap();
        let permuted = Features::new(n, 4, values.chunks(4).flat_map(permute).collect()).unwrap();
        let a = Tree::fit_regressor(&original, &targets, limits).unwrap();
        let b = Tree::fit_regressor(&permuted, &targets, limits).unwrap();
        prop_assert_eq!(a.leaves(), b.leaves());
        for row in values.chunks(4) {
            prop_assert_eq!(a.predict(row).unwrap(), b.predict(&permute(row)).unwrap());
        }
    }

    /// Large enough (1 500 rows × 24 features) that the feature search and the partitions are
    /// split into several parallel tasks; values on a grid, so equal decreases are common and the
    /// tie-break has to decide.
    #[test]
    fn same_tree_on_one_and_three_threads(seed in any::<u64>(), max_leaves in 1usize..60) {
        let (n, cols) = (1_500, 24);
        let mut bits = xorshift(seed);
        // Eight values, so that ties are common.
        let mut grid = move || (bits() >> 61) as f32;
        let values: Vec<f32> = (0..n * cols).map(|_| grid()).collect();
        let targets: Vec<f32> = (0..n * 3).map(|_| grid() / 8.0).collect();
        let features = Features::new(n, cols, values).unwrap();
        let limits = Limits { max_leaves: Some(max_leaves), ..Limits::default() };
        let fit = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| Tree::fit_regressor(&features, &targets, limits).unwrap())
        };
        prop_assert_eq!(fit(1), fit(3));
    }
}

#[test]
fn leaves_hold_class_frequencies_and_argmax_takes_the_first_of_equals() {
    // One feature that cannot be split: the root leaf holds labels 0, 1, 1, 0 → (0.5, 0.5).
    let features = Features::new(4, 1, vec![2.0; 4]).unwrap();
    let tree = Tree::fit_classifier(&features, &[0, 1, 1, 0], 2, Limits::default()).unwrap();
    assert_eq!(tree.leaves(), 1);
    assert_eq!(tree.predict(&[2.0]).unwrap(), &[0.5, 0.5]);
    assert_eq!(tree.predict_class(&[2.0]).unwrap(), 0);
}

#[test]
fn best_first_makes_the_largest_decrease_first() {
    // x = 0..8 with labels 0 0 0 0 | 1 1 0 1, by hand:
    //   root counts (5, 3): n·I = 8 − (25 + 9)/8 = 3.75. Best split x ≤ 3.5: left pure (0),
    //   right counts (1, 3): 4 − (1 + 9)/4 = 1.5; decrease 2.25 (x ≤ 4.5 gives 0.82).
    //   The left leaf is pure, so the third leaf comes from the right one: x ≤ 5.5 leaves {4, 5}
    //   pure and {6, 7} = (1, 1), decrease 1.5 − 0 − 1 = 0.5, beating x ≤ 6.5 (1.5 − 4/3 = 1/6)
    //   and x ≤ 4.5 (1.5 − 0 − (3 − 5/3) = 1/6).
    let features = Features::new(8, 1, (0..8).map(|i| i as f32).collect()).unwrap();
    let labels = [0, 0, 0, 0, 1, 1, 0, 1];
    let limits = Limits {
        max_leaves: Some(3),
        ..Limits::default()
    };
    let tree = Tree::fit_classifier(&features, &labels, 2, limits).unwrap();
    assert_eq!(tree.leaves(), 3);
    let thresholds: Vec<f32> = tree
        .nodes()
        .iter()
        .filter_map(|n| match n {
            trees::Node::Internal { threshold, .. } => Some(*threshold),
            trees::Node::Leaf { .. } => None,
        })
        .collect();
    assert_eq!(thresholds, [3.5, 5.5]);
}

#[test]
fn bad_input_is_an_error() {
    let features = Features::new(2, 1, vec![0.0, 1.0]).unwrap();
    let zero_depth = Limits {
        max_depth: Some(0),
        ..Limits::default()
    };
    assert_eq!(
        Tree::fit_classifier(&features, &[0, 1], 2, zero_depth).unwrap_err(),
        TreeError::ZeroLimit { name: "max_depth" }
    );
    let zero_leaf = Limits {
        min_samples_leaf: 0,
        ..Limits::default()
    };
    assert!(Tree::fit_classifier(&features, &[0, 1], 2, zero_leaf).is_err());
    let zero_leaves = Limits {
        max_leaves: Some(0),
        ..Limits::default()
    };
    assert!(Tree::fit_classifier(&features, &[0, 1], 2, zero_leaves).is_err());
    assert!(matches!(
        Tree::fit_classifier(&features, &[0, 1, 1], 2, Limits::default()),
        Err(TreeError::LengthMismatch {
            expected: 2,
            found: 3,
            ..
        })
    ));
    assert!(Tree::fit_regressor(&features, &[0.0, 1.0, 2.0], Limits::default()).is_err());
    let tree = Tree::fit_regressor(&features, &[0.0, 1.0, 2.0, 3.0], Limits::default()).unwrap();
    assert_eq!(tree.predict(&[1.0]).unwrap(), &[2.0, 3.0]);
    assert!(matches!(
        tree.predict(&[1.0, 2.0]),
        Err(TreeError::LengthMismatch {
            expected: 1,
            found: 2,
            ..
        })
    ));
    assert!(matches!(
        tree.predict(&[f32::NAN]),
        Err(TreeError::NotFinite { .. })
    ));
}

#[test]
fn tree_prints_as_indented_text() {
    // Labels 0 0 1 1 on x = 0..4: one split at 1.5, two pure leaves.
    let features = Features::new(4, 1, vec![0.0, 1.0, 2.0, 3.0]).unwrap();
    let tree = Tree::fit_classifier(&features, &[0, 0, 1, 1], 2, Limits::default()).unwrap();
    assert_eq!(
        tree.to_string(),
        "feature 0 ≤ 1.5 ?\n  leaf [1.0, 0.0]\n  leaf [0.0, 1.0]\n"
    );
}

proptest! {
    /// One fit cut back to `k` leaves is the fit stopped at `k` leaves, for every `k`.
    #[test]
    fn a_tree_cut_to_fewer_leaves_is_the_tree_grown_to_them(
        n in 2usize..60,
        seed in any::<u64>(),
        cut in 1usize..20,
    ) {
        let mut bits = xorshift(seed);
        // Eight values, so that ties are common.
        let mut grid = move || (bits() >> 61) as f32;
        let values: Vec<f32> = (0..n * 3).map(|_| grid()).collect();
        let targets: Vec<f32> = (0..n * 2).map(|_| grid()).collect();
        let features = Features::new(n, 3, values).unwrap();
        let full = Tree::fit_regressor(&features, &targets, Limits::default()).unwrap();
        let limits = Limits { max_leaves: Some(cut), ..Limits::default() };
        let grown = Tree::fit_regressor(&features, &targets, limits).unwrap();
        prop_assert_eq!(full.with_leaves(cut).unwrap(), grown);
    }
}
