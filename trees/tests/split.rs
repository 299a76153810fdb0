//! The sorted sweep (`split::best_split`) against the exhaustive reference, and one split worked
//! by hand.

use proptest::prelude::*;
use trees::reference::{best_split_exhaustive, decrease_at};
use trees::split::{best_split, midpoint};
use trees::{Features, Targets};

/// The sweep reads `n·I` from running sums, the reference from definitions; in f64 on a few
/// dozen values of order one they agree to well within this.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
}

/// Checks one feature of one problem: both searches find a split or neither does, with the same
/// best decrease, and the sweep's claimed decrease is what its threshold really achieves.
fn agree(
    features: &Features,
    targets: &Targets,
    feature: usize,
    min_leaf: usize,
) -> Result<(), TestCaseError> {
    let rows: Vec<usize> = (0..features.rows()).collect();
    let fast = best_split(features, targets, &rows, feature, min_leaf);
    let slow = best_split_exhaustive(features, targets, &rows, feature, min_leaf);
    match (fast, slow) {
        (None, None) => {}
        (Some(f), Some(s)) => {
            prop_assert!(
                close(f.decrease, s.decrease),
                "sweep {:?} vs reference {:?}",
                f,
                s
            );
            let actual = decrease_at(features, targets, &rows, feature, f.threshold);
            prop_assert!(
                close(f.decrease, actual),
                "sweep claims {} at {}, reference finds {}",
                f.decrease,
                f.threshold,
                actual
            );
        }
        (f, s) => prop_assert!(false, "sweep {:?} vs reference {:?}", f, s),
    }
    Ok(())
}

/// Feature values on a coarse grid, so ties between samples are common.
fn problem(cols: usize) -> impl Strategy<Value = (usize, Vec<f32>)> {
    (1usize..14).prop_flat_map(move |n| {
        (
            Just(n),
            prop::collection::vec((0i32..6).prop_map(|v| v as f32 * 0.5), n * cols),
        )
    })
}

proptest! {
    #[test]
    fn gini_sweep_matches_reference(
        (n, values) in problem(2),
        classes in 1usize..4,
        seed in prop::collection::vec(0usize..100, 14),
        min_leaf in 1usize..4,
    ) {
        let labels: Vec<usize> = seed[..n].iter().map(|s| s % classes).collect();
        let features = Features::new(n, 2, values).unwrap();
        let targets = Targets::labels(&labels, classes).unwrap();
        for feature in 0..2 {
            agree(&features, &targets, feature, min_leaf)?;
        }
    }

    #[test]
    fn squared_error_sweep_matches_reference(
        (n, values) in problem(2),
        width in 1usize..4,
        ys in prop::collection::vec(0.0f32..1.0, 14 * 3),
        min_leaf in 1usize..4,
    ) {
        let features = Features::new(n, 2, values).unwrap();
        let targets = Targets::vectors(&ys[..n * width], width).unwrap();
        for feature in 0..2 {
            agree(&features, &targets, feature, min_leaf)?;
        }
    }
}

#[test]
fn gini_decrease_matches_hand_computation() {
    // x = 1, 2, 3, 4 with labels 0, 0, 1, 0. Best split x ≤ 2.5:
    //   parent: counts (3, 1), n·I = 4 − (9 + 1)/4 = 1.5
    //   left  {1, 2}: counts (2, 0), n·I = 2 − 4/2 = 0
    //   right {3, 4}: counts (1, 1), n·I = 2 − 2/2 = 1
    //   decrease = 1.5 − 0 − 1 = 0.5
    // (x ≤ 1.5 gives 1.5 − 0 − (3 − 5/3) = 1/6, and x ≤ 3.5 gives 1.5 − (3 − 5/3) − 0 = 1/6.)
    let features = Features::new(4, 1, vec![1.0, 2.0, 3.0, 4.0]).unwrap();
    let labels = [0, 0, 1, 0];
    let targets = Targets::labels(&labels, 2).unwrap();
    let split = best_split(&features, &targets, &[0, 1, 2, 3], 0, 1).unwrap();
    assert_eq!(split.threshold, 2.5);
    assert!(
        (split.decrease - 0.5).abs() < 1e-12,
        "decrease {}",
        split.decrease
    );
}

#[test]
fn squared_error_decrease_matches_hand_computation() {
    // x = 0, 1, 2 with 2-component targets (1, 0), (1, 0), (0, 1). Best split x ≤ 1.5:
    //   parent mean (2/3, 1/3); each component's squared deviations sum to
    //   2·(1/3)² + (2/3)² = 2/3, so n·I = 4/3
    //   left: both (1, 0), n·I = 0; right: one sample, n·I = 0
    //   decrease = 4/3
    let features = Features::new(3, 1, vec![0.0, 1.0, 2.0]).unwrap();
    let ys = [1.0, 0.0, 1.0, 0.0, 0.0, 1.0];
    let targets = Targets::vectors(&ys, 2).unwrap();
    let split = best_split(&features, &targets, &[0, 1, 2], 0, 1).unwrap();
    assert_eq!(split.threshold, 1.5);
    assert!(
        (split.decrease - 4.0 / 3.0).abs() < 1e-12,
        "decrease {}",
        split.decrease
    );
}

#[test]
fn midpoint_of_adjacent_floats_still_separates() {
    let low = 1.0f32;
    let high = f32::from_bits(low.to_bits() + 1);
    let t = midpoint(low, high);
    assert!(low <= t && t < high);
}

#[test]
fn no_split_when_values_equal_or_leaves_too_small() {
    let features = Features::new(3, 1, vec![5.0, 5.0, 5.0]).unwrap();
    let labels = [0, 1, 0];
    let targets = Targets::labels(&labels, 2).unwrap();
    assert_eq!(best_split(&features, &targets, &[0, 1, 2], 0, 1), None);
    let features = Features::new(3, 1, vec![1.0, 2.0, 3.0]).unwrap();
    assert_eq!(best_split(&features, &targets, &[0, 1, 2], 0, 2), None);
}
