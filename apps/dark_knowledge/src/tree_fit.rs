//! What both tree experiments do with a tree: fit it on hard labels or on a teacher's soft
//! targets, score it, and choose the soft targets' temperature on the validation split.
//!
//! Trees are compared leaf count for leaf count. Growth is best-first, so one fit grown to the
//! largest size gives every smaller one (`Tree::with_leaves`); a hard-label tree can stop short of
//! a size when every leaf is pure, and its soft-target rival is then cut to the same count.

use kd::soft_targets;
use nn::data::Dataset;
use tensor::Tensor;
use trees::{Features, Limits, Tree};

/// A data set's inputs as the trees' feature matrix (one row per sample, one feature per value).
pub fn features(data: &Dataset) -> Result<Features, String> {
    let per_sample: usize = data.sample_shape.iter().product();
    Features::new(data.len(), per_sample, data.inputs.clone()).map_err(|e| e.to_string())
}

/// The tree on the labels (Gini), grown to at most `leaves` leaves (`None`: until pure).
pub fn hard_tree(
    features: &Features,
    data: &Dataset,
    leaves: Option<usize>,
) -> Result<Tree, String> {
    let limits = Limits {
        max_leaves: leaves,
        ..Limits::default()
    };
    Tree::fit_classifier(features, &data.labels, data.classes, limits).map_err(|e| e.to_string())
}

/// The tree on the teacher's probabilities at `temperature` (squared error), `teacher_logits`
/// one row per sample of `features`.
pub fn soft_tree(
    features: &Features,
    teacher_logits: &Tensor,
    temperature: f32,
    leaves: Option<usize>,
) -> Result<Tree, String> {
    let targets = soft_targets(teacher_logits, temperature);
    let limits = Limits {
        max_leaves: leaves,
        ..Limits::default()
    };
    Tree::fit_regressor(features, targets.data(), limits).map_err(|e| e.to_string())
}

/// Accuracy (%) of `tree` on `data`: the class of the largest component of a sample's leaf.
pub fn accuracy(tree: &Tree, data: &Dataset) -> Result<f64, String> {
    let per_sample: usize = data.sample_shape.iter().product();
    let mut right = 0;
    for (row, &label) in data.inputs.chunks_exact(per_sample).zip(&data.labels) {
        if tree.predict_class(row).map_err(|e| e.to_string())? == label {
            right += 1;
        }
    }
    Ok(100.0 * right as f64 / data.len() as f64)
}

/// The index of the best of `scores`: the highest, the first of equals (candidates are listed in
/// the order to prefer among equals).
pub fn best_index(scores: &[f64]) -> usize {
    let mut best = 0;
    for (i, &s) in scores.iter().enumerate() {
        if s > scores[best] {
            best = i;
        }
    }
    best
}

/// One size of tree on one seed: the hard-label tree and the soft-target tree cut to the same
/// number of leaves, the soft tree's temperature chosen on validation.
#[derive(Debug, Clone, Copy)]
pub struct Pair {
    pub hard_leaves: usize,
    pub soft_leaves: usize,
    pub hard_test: f64,
    pub soft_test: f64,
    pub temperature: f32,
}

/// Compares at `size` leaves (`None`: as grown, each tree to its own count): `hard` and each of
/// `soft` (one grown tree per candidate temperature in `temperatures`) cut to the size; the
/// temperature kept is the one whose cut tree scores best on `validation`.
pub fn compare(
    hard: &Tree,
    soft: &[Tree],
    temperatures: &[f32],
    size: Option<usize>,
    validation: &Dataset,
    test: &Dataset,
) -> Result<Pair, String> {
    let cut = |tree: &Tree, leaves: usize| tree.with_leaves(leaves).map_err(|e| e.to_string());
    let hard = match size {
        Some(leaves) => cut(hard, leaves)?,
        None => hard.clone(),
    };
    let soft: Vec<Tree> = match size {
        // The hard tree may have stopped short of `leaves`: equal counts, not equal budgets.
        Some(_) => soft
            .iter()
            .map(|t| cut(t, hard.leaves()))
            .collect::<Result<_, _>>()?,
        None => soft.to_vec(),
    };
    let on_validation: Vec<f64> = soft
        .iter()
        .map(|t| accuracy(t, validation))
        .collect::<Result<_, _>>()?;
    let chosen = best_index(&on_validation);
    Ok(Pair {
        hard_leaves: hard.leaves(),
        soft_leaves: soft[chosen].leaves(),
        hard_test: accuracy(&hard, test)?,
        soft_test: accuracy(&soft[chosen], test)?,
        temperature: temperatures[chosen],
    })
}
