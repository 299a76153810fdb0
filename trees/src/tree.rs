//! A decision tree grown best-first.
//!
//! Depth-first growth (CART as usually written) splits every node it can, so the tree it would
//! stop at after `L` leaves depends on the order it visits nodes. Best-first growth keeps the
//! splittable leaves in a priority queue keyed by the impurity decrease of their best split, and
//! always makes the largest one next: stopped at `max_leaves` it gives, for that leaf count, the
//! tree made of the largest greedy decreases. That is what lets trees fitted on hard labels and on a
//! teacher's soft targets be compared leaf count for leaf count.
//!
//! A leaf is split whenever it is impure and some split respects the limits, even one of zero
//! decrease (no single split helps on XOR-like data, yet two do); so with no limits a tree fits
//! any training set whose equal feature rows have equal targets.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::ops::Range;

use rayon::prelude::*;

use crate::columns::{columns_per_task, SortedColumns};
use crate::criterion::Targets;
use crate::data::{check_finite, Features};
use crate::error::TreeError;
use crate::split::{sweep, Split};

/// When to stop growing. `None` means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The deepest a leaf may be; the root is at depth 0.
    pub max_depth: Option<usize>,
    /// The fewest training samples a leaf may hold.
    pub min_samples_leaf: usize,
    /// The most leaves the tree may have.
    pub max_leaves: Option<usize>,
}

impl Default for Limits {
    /// No limits: grow until every leaf is pure or cannot be split.
    fn default() -> Self {
        Limits {
            max_depth: None,
            min_samples_leaf: 1,
            max_leaves: None,
        }
    }
}

impl Limits {
    /// Fails on a limit of zero: a depth of zero would forbid any split (say `max_leaves: 1` for
    /// that), and no tree has zero leaves or leaves of zero samples.
    pub fn check(&self) -> Result<(), TreeError> {
        if self.max_depth == Some(0) {
            return Err(TreeError::ZeroLimit { name: "max_depth" });
        }
        if self.min_samples_leaf == 0 {
            return Err(TreeError::ZeroLimit {
                name: "min_samples_leaf",
            });
        }
        if self.max_leaves == Some(0) {
            return Err(TreeError::ZeroLimit { name: "max_leaves" });
        }
        Ok(())
    }
}

/// A node of the tree, stored in one vector; children are indices into it. Every node keeps
/// the mean target of its training samples as `value`: a leaf predicts it, and an internal node
/// keeps it so that the tree can be cut back to fewer leaves ([`Tree::with_leaves`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// Predicts `value`.
    Leaf { value: Vec<f32> },
    /// Sends a sample to `left` when `x_feature ≤ threshold`, to `right` otherwise.
    Internal {
        feature: usize,
        threshold: f32,
        left: usize,
        right: usize,
        value: Vec<f32>,
    },
}

impl Node {
    /// The mean target of the node's training samples.
    pub fn value(&self) -> &[f32] {
        match self {
            Node::Leaf { value } | Node::Internal { value, .. } => value,
        }
    }
}

/// A fitted decision tree. The root is `nodes[0]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    cols: usize,
    nodes: Vec<Node>,
}

/// A leaf waiting in the queue, with the split it would make.
struct Candidate {
    split: Split,
    node: usize,
    depth: usize,
    /// The leaf's range in every sorted column.
    range: Range<usize>,
}

impl Ord for Candidate {
    /// Larger decrease first; among equal ones the older leaf (lower index), so the order of
    /// growth does not depend on how the heap happens to break ties.
    fn cmp(&self, other: &Self) -> Ordering {
        self.split
            .decrease
            .total_cmp(&other.split.decrease)
            .then(other.node.cmp(&self.node))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Candidate {}

impl Tree {
    /// Fits class labels in `0..classes` (Gini impurity); each leaf stores its class frequencies.
    pub fn fit_classifier(
        features: &Features,
        labels: &[usize],
        classes: usize,
        limits: Limits,
    ) -> Result<Tree, TreeError> {
        Tree::fit(features, Targets::labels(labels, classes)?, limits)
    }

    /// Fits target vectors, `features.rows() × k` row-major (squared error); each leaf stores its
    /// mean vector. `k` is read from the length.
    pub fn fit_regressor(
        features: &Features,
        targets: &[f32],
        limits: Limits,
    ) -> Result<Tree, TreeError> {
        if !targets.len().is_multiple_of(features.rows()) {
            return Err(TreeError::LengthMismatch {
                what: "targets (a multiple of the feature rows)",
                expected: (targets.len() / features.rows() + 1) * features.rows(),
                found: targets.len(),
            });
        }
        Tree::fit(
            features,
            Targets::vectors(targets, targets.len() / features.rows())?,
            limits,
        )
    }

    /// Grows a tree on any [`Targets`], best-first (see the module's documentation).
    pub fn fit(features: &Features, targets: Targets, limits: Limits) -> Result<Tree, TreeError> {
        limits.check()?;
        if targets.rows() != features.rows() {
            return Err(TreeError::LengthMismatch {
                what: "targets (one per feature row)",
                expected: features.rows(),
                found: targets.rows(),
            });
        }
        let mut columns = SortedColumns::new(features);
        let all: Vec<usize> = (0..features.rows()).collect();
        let mut tree = Tree {
            cols: features.cols(),
            nodes: vec![leaf(&targets, &all)],
        };
        let mut queue = BinaryHeap::new();
        queue.extend(candidate(&columns, &targets, &limits, 0, 0, 0..all.len()));
        let mut leaves = 1;
        while let Some(c) = queue.pop() {
            if limits.max_leaves.is_some_and(|max| leaves >= max) {
                break;
            }
            let boundary = columns.split(c.range.clone(), c.split.feature, c.split.threshold);
            let (left, right) = (tree.nodes.len(), tree.nodes.len() + 1);
            for range in [c.range.start..boundary, boundary..c.range.end] {
                tree.nodes.push(leaf(&targets, &columns.rows_of(range)));
            }
            let value = tree.nodes[c.node].value().to_vec();
            tree.nodes[c.node] = Node::Internal {
                feature: c.split.feature,
                threshold: c.split.threshold,
                left,
                right,
                value,
            };
            leaves += 1;
            for (node, range) in [
                (left, c.range.start..boundary),
                (right, boundary..c.range.end),
            ] {
                queue.extend(candidate(
                    &columns,
                    &targets,
                    &limits,
                    node,
                    c.depth + 1,
                    range,
                ));
            }
        }
        Ok(tree)
    }

    /// A tree from nodes already checked to form one (see [`save`](crate::save)).
    pub(crate) fn from_parts(cols: usize, nodes: Vec<Node>) -> Tree {
        Tree { cols, nodes }
    }

    /// Number of features a row to predict must have.
    pub fn features(&self) -> usize {
        self.cols
    }

    /// The nodes, root first.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Number of leaves.
    pub fn leaves(&self) -> usize {
        self.nodes
            .iter()
            .filter(|n| matches!(n, Node::Leaf { .. }))
            .count()
    }

    /// Depth of the deepest leaf (0 for a tree of one leaf).
    pub fn depth(&self) -> usize {
        let mut deepest = 0;
        let mut stack = vec![(0, 0)];
        while let Some((node, depth)) = stack.pop() {
            match self.nodes[node] {
                Node::Leaf { .. } => deepest = deepest.max(depth),
                Node::Internal { left, right, .. } => {
                    stack.extend([(left, depth + 1), (right, depth + 1)])
                }
            }
        }
        deepest
    }

    /// The index (into [`nodes`](Tree::nodes)) of the leaf that `row` falls in. Fails unless
    /// `row` has one finite value per feature.
    pub fn leaf_of(&self, row: &[f32]) -> Result<usize, TreeError> {
        if row.len() != self.cols {
            return Err(TreeError::LengthMismatch {
                what: "row to predict",
                expected: self.cols,
                found: row.len(),
            });
        }
        check_finite("row to predict", row)?;
        let mut node = 0;
        while let Node::Internal {
            feature,
            threshold,
            left,
            right,
            ..
        } = self.nodes[node]
        {
            node = if row[feature] <= threshold {
                left
            } else {
                right
            };
        }
        Ok(node)
    }

    /// The mean target vector (class frequencies for a classifier) of `row`'s leaf.
    pub fn predict(&self, row: &[f32]) -> Result<&[f32], TreeError> {
        Ok(self.nodes[self.leaf_of(row)?].value())
    }

    /// The tree that growth would have stopped at with `leaves` leaves (`max_leaves`), cut from
    /// this one: the same for every `leaves` up to this tree's count, so one fit gives every
    /// smaller size.
    ///
    /// Best-first growth appends the two children of its `k`-th split (from 1) as nodes
    /// `2k − 1` and `2k`; stopping after `leaves − 1` splits keeps the nodes before `2·leaves − 1`,
    /// and a kept node whose children are not kept becomes a leaf predicting its own value.
    /// This reads that order, which [`fit`](Tree::fit) makes and [`load`](Tree::load) checks.
    pub fn with_leaves(&self, leaves: usize) -> Result<Tree, TreeError> {
        if leaves == 0 {
            return Err(TreeError::ZeroLimit { name: "leaves" });
        }
        let kept = leaves
            .saturating_mul(2)
            .saturating_sub(1)
            .min(self.nodes.len());
        let nodes = self.nodes[..kept]
            .iter()
            .map(|node| match node {
                Node::Internal {
                    left, right, value, ..
                } if *left >= kept || *right >= kept => Node::Leaf {
                    value: value.clone(),
                },
                other => other.clone(),
            })
            .collect();
        Ok(Tree {
            cols: self.cols,
            nodes,
        })
    }

    /// The index of the largest component of [`predict`](Tree::predict), the first of equals.
    pub fn predict_class(&self, row: &[f32]) -> Result<usize, TreeError> {
        let value = self.predict(row)?;
        let mut best = 0;
        for (i, &v) in value.iter().enumerate() {
            if v > value[best] {
                best = i;
            }
        }
        Ok(best)
    }
}

/// A leaf predicting the mean target of `rows`.
fn leaf(targets: &Targets, rows: &[usize]) -> Node {
    Node::Leaf {
        value: targets.mean(rows).into_iter().map(|v| v as f32).collect(),
    }
}

/// The leaf `node` (owning `range` of the sorted columns, at `depth`) as a candidate for
/// splitting, or `None` if the limits forbid splitting it, it is pure, or no feature separates
/// its samples.
fn candidate(
    columns: &SortedColumns,
    targets: &Targets,
    limits: &Limits,
    node: usize,
    depth: usize,
    range: Range<usize>,
) -> Option<Candidate> {
    let rows = columns.rows_of(range.clone());
    if limits.max_depth.is_some_and(|max| depth >= max)
        || rows.len() < 2 * limits.min_samples_leaf
        || targets.is_pure(&rows)
    {
        return None;
    }
    let mut sums = vec![0.0; targets.width()];
    for &r in &rows {
        targets.add(r, &mut sums);
    }
    // Features are searched in parallel; `beats` is a total order, so the reduction picks the same
    // split however rayon groups the comparisons.
    let cols = columns.cols();
    let split = (0..cols)
        .into_par_iter()
        .with_min_len(columns_per_task(rows.len()))
        .filter_map(|f| {
            let sorted = columns.column(f, range.clone());
            sweep(sorted, targets, &sums, f, limits.min_samples_leaf)
        })
        .reduce_with(|a, b| if a.beats(&b) { a } else { b })?;
    Some(Candidate {
        split,
        node,
        depth,
        range,
    })
}
