//! The tree workloads: fitting a 4 096-leaf tree on MNIST's first 55 000 training images (784
//! pixels in `[0, 1]`), the fit of the tree-student experiment (`apps/tree_kd`).
//!
//! - `tree_fit_classification`: a Gini tree on the labels;
//! - `tree_fit_regression`: a squared-error tree on ten-class probability vectors.
//!
//! The regression targets are not a teacher's (the bench trains no network); they are the labels
//! softened by a fixed formula that `scripts/bench-trees-vs-sklearn` repeats exactly, so that
//! scikit-learn fits the very same problem:
//!
//! ```text
//! target[r][c] = 0.9 · [c = label_r] + 0.1 · w(r, c) / Σ_c' w(r, c'),   w(r, c) = 1 + (7r + 13c) mod 10
//! ```
//!
//! Both need MNIST in `data/mnist` (`scripts/fetch-mnist`); the unit is seconds per fit.

use std::path::Path;

use trees::{Features, Limits, Tree};

/// Where the tree workloads read MNIST from, relative to the repository root.
pub const MNIST_DIR: &str = "data/mnist";

/// The training images the trees are fitted on: MNIST's training split as the apps make it.
const ROWS: usize = 55_000;
const LEAVES: usize = 4_096;
const CLASSES: usize = 10;

/// The fit's inputs, loaded once per workload.
pub struct TreeProblem {
    pub features: Features,
    pub labels: Vec<usize>,
    pub soft_targets: Vec<f32>,
}

/// Loads the problem, or says why it cannot.
pub fn problem() -> Result<TreeProblem, String> {
    let mnist = nn::data::load_mnist(Path::new(MNIST_DIR))
        .map_err(|e| format!("{e} (the tree workloads need MNIST: run scripts/fetch-mnist)"))?;
    let train = mnist.train;
    let pixels: usize = train.sample_shape.iter().product();
    let features = Features::new(ROWS, pixels, train.inputs[..ROWS * pixels].to_vec())
        .map_err(|e| e.to_string())?;
    let labels = train.labels[..ROWS].to_vec();
    let soft_targets = soft_targets(&labels);
    Ok(TreeProblem {
        features,
        labels,
        soft_targets,
    })
}

/// The formula of the module's documentation.
pub fn soft_targets(labels: &[usize]) -> Vec<f32> {
    let mut targets = Vec::with_capacity(labels.len() * CLASSES);
    for (r, &label) in labels.iter().enumerate() {
        let weights: Vec<f64> = (0..CLASSES)
            .map(|c| 1.0 + ((7 * r + 13 * c) % 10) as f64)
            .collect();
        let total: f64 = weights.iter().sum();
        for (c, w) in weights.iter().enumerate() {
            let hard = if c == label { 0.9 } else { 0.0 };
            targets.push((hard + 0.1 * w / total) as f32);
        }
    }
    targets
}

fn limits() -> Limits {
    Limits {
        max_leaves: Some(LEAVES),
        ..Limits::default()
    }
}

/// One classification fit.
pub fn fit_classification(p: &TreeProblem) -> Tree {
    Tree::fit_classifier(&p.features, &p.labels, CLASSES, limits()).expect("checked inputs")
}

/// One regression fit.
pub fn fit_regression(p: &TreeProblem) -> Tree {
    Tree::fit_regressor(&p.features, &p.soft_targets, limits()).expect("checked inputs")
}
