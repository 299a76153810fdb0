//! The best threshold split of a node on one feature, found by sorted order.
//!
//! A split sends a sample left when `x_f ≤ threshold` and right otherwise. Only the order of the
//! values matters, so take the node's samples sorted by `x_f` and sweep through them: with the
//! last `i` samples on the right, the right child is exactly those `i`, its running sums grow by
//! one sample per step, and the left child's are the node's minus the right's. A split is scored
//! from those sums in `O(k)` (see [`Targets::proxy`]), and only where the value changes, so one
//! feature costs `O(n·k)` for the sweep, against `O(n²·k)` for the exhaustive search in
//! [`reference`](crate::reference).
//!
//! A threshold can only fall between two *distinct* consecutive values; it is put at their
//! midpoint, which leaves the most room on both sides for samples not seen in training.
//!
//! [`best_split`] sorts the node's samples itself. A growing tree does not: it keeps every
//! feature's samples sorted once for the whole fit ([`columns`](crate::columns)) and calls
//! [`sweep`] on a node's part of each.

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

/// One sample as seen through one feature: its value and its row in the data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry {
    pub value: f32,
    pub row: u32,
}

/// The best split of the samples `rows` on `feature` that leaves at least `min_samples_leaf`
/// samples on each side, or `None` if there is none (all values equal, or too few samples).
/// Among equal decreases the lowest threshold wins. Sorts `rows` by the feature, then [`sweep`]s.
pub fn best_split(
    features: &Features,
    targets: &Targets,
    rows: &[usize],
    feature: usize,
    min_samples_leaf: usize,
) -> Option<Split> {
    let mut sorted: Vec<Entry> = rows
        .iter()
        .map(|&r| Entry {
            value: features.get(r, feature),
            row: r as u32,
        })
        .collect();
    sorted.sort_by(|a, b| a.value.total_cmp(&b.value));
    let mut sums = vec![0.0; targets.width()];
    for &r in rows {
        targets.add(r, &mut sums);
    }
    sweep(&sorted, targets, &sums, feature, min_samples_leaf)
}

/// The best split of a node whose samples on `feature` are `sorted` (increasing value), with
/// `sums` the node's running sums (see [`Targets::add`]); `None` as for [`best_split`].
pub fn sweep(
    sorted: &[Entry],
    targets: &Targets,
    sums: &[f64],
    feature: usize,
    min_samples_leaf: usize,
) -> Option<Split> {
    // One loop per kind of target, so that adding a sample is inlined into it.
    match *targets {
        Targets::Labels { labels, .. } => {
            sweep_with(sorted, sums, feature, min_samples_leaf, |row, acc| {
                acc[labels[row]] += 1.0
            })
        }
        Targets::Vectors { values, width } => {
            sweep_with(sorted, sums, feature, min_samples_leaf, |row, acc| {
                for (a, &y) in acc.iter_mut().zip(&values[row * width..(row + 1) * width]) {
                    *a += f64::from(y);
                }
            })
        }
    }
}

/// [`sweep`], with `add(row, acc)` adding one sample to running sums.
///
/// The sweep runs from the largest value down, growing the *right* child, and stops before the
/// run of the lowest value: the left child is the node minus the right, and the last split it
/// scores puts that whole run on the left. Only the samples above the lowest value are visited,
/// which on image data, whose pixels are mostly the background value, is a small part of the node.
fn sweep_with(
    sorted: &[Entry],
    sums: &[f64],
    feature: usize,
    min_samples_leaf: usize,
    add: impl Fn(usize, &mut [f64]),
) -> Option<Split> {
    let n = sorted.len();
    let lowest = sorted.first()?.value;
    if n < 2 || lowest == sorted[n - 1].value {
        return None;
    }
    let parent = Targets::proxy(sums, n);
    let mut left = vec![0.0; sums.len()];
    let mut right = vec![0.0; sums.len()];
    let mut best: Option<Split> = None;
    // After adding sample i, the right child is sorted[i..] and the left child sorted[..i].
    for i in (1..n).rev() {
        add(sorted[i].row as usize, &mut right);
        let (n_left, n_right) = (i, n - i);
        if n_left < min_samples_leaf {
            break;
        }
        let (low, high) = (sorted[i - 1].value, sorted[i].value);
        // Below this boundary every value is the lowest: no further threshold exists.
        let last = low == lowest && low != high;
        if low == high || n_right < min_samples_leaf {
            if last {
                break;
            }
            continue;
        }
        for ((l, t), r) in left.iter_mut().zip(sums).zip(&right) {
            *l = t - r;
        }
        let decrease = Targets::proxy(&left, n_left) + Targets::proxy(&right, n_right) - parent;
        // `>=`: the sweep runs by decreasing threshold, so among equals the lowest is kept.
        if best.is_none_or(|b| decrease >= b.decrease) {
            best = Some(Split {
                feature,
                threshold: midpoint(low, high),
                decrease,
            });
        }
        if last {
            break;
        }
    }
    best
}
