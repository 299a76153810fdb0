//! The best threshold split of a node on one feature, found by sorted order.
//!
//! A split sends a sample left when `x_f ≤ threshold` and right otherwise. Only the order of the
//! values matters, so sort the node's samples by `x_f` once and sweep from left to right: after
//! the first `i` samples, the left child is exactly those `i`, and its statistics grow by one
//! sample per step while the right child's are the node's minus the left's. Each step scores its
//! split in `O(k)` (see [`Targets::weighted_impurity`]), so one feature costs `O(n log n)` for the
//! sort and `O(n·k)` for the sweep, against `O(n²·k)` for the exhaustive search in
//! [`reference`](crate::reference).
//!
//! A threshold can only fall between two *distinct* consecutive values; it is put at their
//! midpoint, which leaves the most room on both sides for samples not seen in training.

use crate::criterion::Targets;
use crate::data::Features;

/// One split of a node: where, and how much impurity it removes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Split {
    /// The feature tested.
    pub feature: usize,
    /// Samples with `x_feature ≤ threshold` go left.
    pub threshold: f32,
    /// `n·I(parent) − n_L·I(L) − n_R·I(R)`.
    pub decrease: f64,
}

impl Split {
    /// Whether `self` is a better split than `other`: larger decrease, then lower feature, then
    /// lower threshold. A total order, so the best of many splits is the same whichever order
    /// they are compared in (and so whatever the number of threads comparing them).
    pub fn beats(&self, other: &Split) -> bool {
        self.decrease
            .total_cmp(&other.decrease)
            .then(other.feature.cmp(&self.feature))
            .then(other.threshold.total_cmp(&self.threshold))
            .is_gt()
    }
}

/// The midpoint of `low < high`, as an `f32` that still separates them: `low ≤ t < high`.
/// Halfway between two adjacent floats rounds to one of them; if it rounds to `high`, `high` would
/// go left, so fall back to `low`.
pub fn midpoint(low: f32, high: f32) -> f32 {
    let mid = ((f64::from(low) + f64::from(high)) / 2.0) as f32;
    if mid < high {
        mid
    } else {
        low
    }
}

/// The best split of the samples `rows` on `feature` that leaves at least `min_samples_leaf`
/// samples on each side, or `None` if there is none (all values equal, or too few samples).
/// Among equal decreases the lowest threshold wins.
pub fn best_split(
    features: &Features,
    targets: &Targets,
    rows: &[usize],
    feature: usize,
    min_samples_leaf: usize,
) -> Option<Split> {
    let mut sorted: Vec<(f32, usize)> = rows
        .iter()
        .map(|&r| (features.get(r, feature), r))
        .collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));

    let n = sorted.len();
    let mut total = vec![0.0; targets.stats_len()];
    for &(_, r) in &sorted {
        targets.add(r, &mut total);
    }
    let parent = targets.weighted_impurity(&total, n);

    let mut left = vec![0.0; targets.stats_len()];
    let mut right = vec![0.0; targets.stats_len()];
    let mut best: Option<Split> = None;
    // After adding sample i, the left child is sorted[..=i] and the right child the rest.
    for i in 0..n.saturating_sub(1) {
        targets.add(sorted[i].1, &mut left);
        let (low, high) = (sorted[i].0, sorted[i + 1].0);
        let n_left = i + 1;
        if low == high || n_left < min_samples_leaf || n - n_left < min_samples_leaf {
            continue;
        }
        for ((r, t), l) in right.iter_mut().zip(&total).zip(&left) {
            *r = t - l;
        }
        let decrease = parent
            - targets.weighted_impurity(&left, n_left)
            - targets.weighted_impurity(&right, n - n_left);
        // Strictly greater: the sweep runs by increasing threshold, so ties keep the lowest.
        if best.is_none_or(|b| decrease > b.decrease) {
            best = Some(Split {
                feature,
                threshold: midpoint(low, high),
                decrease,
            });
        }
    }
    best
}
