//! The plain reference for [`split::best_split`](crate::split::best_split): every threshold
//! tried, both children's impurities recomputed from their definition. `O(n²·k)` per feature;
//! tests hold the sorted sweep to it.

use crate::criterion::Targets;
use crate::data::Features;
use crate::split::{midpoint, Split};

/// `n·I(parent) − n_L·I(L) − n_R·I(R)` for the split of `rows` at `x_feature ≤ threshold`, every
/// term from scratch.
pub fn decrease_at(
    features: &Features,
    targets: &Targets,
    rows: &[usize],
    feature: usize,
    threshold: f32,
) -> f64 {
    let (left, right): (Vec<usize>, Vec<usize>) = rows
        .iter()
        .partition(|&&r| features.get(r, feature) <= threshold);
    targets.impurity_from_scratch(rows)
        - targets.impurity_from_scratch(&left)
        - targets.impurity_from_scratch(&right)
}

/// The best split of `rows` on `feature` with at least `min_samples_leaf` samples per side, by
/// trying the midpoint between every pair of distinct consecutive values.
pub fn best_split_exhaustive(
    features: &Features,
    targets: &Targets,
    rows: &[usize],
    feature: usize,
    min_samples_leaf: usize,
) -> Option<Split> {
    let mut values: Vec<f32> = rows.iter().map(|&r| features.get(r, feature)).collect();
    values.sort_by(f32::total_cmp);
    values.dedup();
    let mut best: Option<Split> = None;
    for pair in values.windows(2) {
        let threshold = midpoint(pair[0], pair[1]);
        let n_left = rows
            .iter()
            .filter(|&&r| features.get(r, feature) <= threshold)
            .count();
        if n_left < min_samples_leaf || rows.len() - n_left < min_samples_leaf {
            continue;
        }
        let decrease = decrease_at(features, targets, rows, feature, threshold);
        if best.is_none_or(|b| decrease > b.decrease) {
            best = Some(Split {
                feature,
                threshold,
                decrease,
            });
        }
    }
    best
}
