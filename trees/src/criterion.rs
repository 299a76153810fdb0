//! What a tree fits, and how impure a set of samples is with respect to it.
//!
//! Both criteria are written as `n·I`, the node's size times its impurity, because the decrease
//! of a split is then a plain difference of such terms:
//!
//! ```text
//! decrease = n·I(parent) − n_L·I(L) − n_R·I(R)
//! ```
//!
//! - **Squared error**, for target vectors of `k` components (a teacher's probabilities, say):
//!   the mean squared distance to the node's mean vector, summed over the components,
//!   `I = (1/n) Σ_i Σ_j (y_ij − ȳ_j)²`, so with `S_j = Σ_i y_ij`:
//!   `n·I = Σ_i Σ_j y_ij² − Σ_j S_j² / n`.
//! - **Gini**, for class labels, with `p_c` the fraction of the node in class `c`:
//!   `I = 1 − Σ_c p_c²`, so with counts `n_c`: `n·I = n − Σ_c n_c² / n`.
//!
//! Gini is squared error on one-hot vectors: a one-hot `y` has `Σ_j y_j² = 1` and `S_c = n_c`,
//! so the second formula is the first. Better still, the first term, `Σ_i Σ_j y_ij²`, is a sum
//! over samples, so it is the same for a parent as for its two children together and cancels in
//! the decrease:
//!
//! ```text
//! decrease = Σ_j S_Lj² / n_L + Σ_j S_Rj² / n_R − Σ_j S_j² / n
//! ```
//!
//! So a split search needs one running sum per component (per class: a count), and scores a
//! split by the [`proxy`](Targets::proxy) `Σ_j S_j² / n` of each side, without revisiting the
//! samples.

use crate::data::check_finite;
use crate::error::TreeError;

/// The targets a tree is fitted on: one per sample.
#[derive(Debug, Clone, Copy)]
pub enum Targets<'a> {
    /// Class labels in `0..classes`, scored by Gini impurity.
    Labels { labels: &'a [usize], classes: usize },
    /// Vectors of `width` components, row-major (`values[r · width + j]`), scored by squared error.
    Vectors { values: &'a [f32], width: usize },
}

impl<'a> Targets<'a> {
    /// Class labels, checked: at least one class, every label below `classes`.
    pub fn labels(labels: &'a [usize], classes: usize) -> Result<Self, TreeError> {
        if classes == 0 {
            return Err(TreeError::Empty { what: "classes" });
        }
        if labels.is_empty() {
            return Err(TreeError::Empty { what: "labels" });
        }
        if let Some(row) = labels.iter().position(|&l| l >= classes) {
            return Err(TreeError::LabelOutOfRange {
                row,
                label: labels[row],
                classes,
            });
        }
        Ok(Targets::Labels { labels, classes })
    }

    /// Target vectors of `width` components, checked: non-empty, a whole number of vectors,
    /// every value finite.
    pub fn vectors(values: &'a [f32], width: usize) -> Result<Self, TreeError> {
        if width == 0 {
            return Err(TreeError::Empty {
                what: "target width",
            });
        }
        if values.is_empty() {
            return Err(TreeError::Empty { what: "targets" });
        }
        if !values.len().is_multiple_of(width) {
            return Err(TreeError::LengthMismatch {
                what: "targets (a multiple of the width)",
                expected: values.len() / width * width + width,
                found: values.len(),
            });
        }
        check_finite("targets", values)?;
        Ok(Targets::Vectors { values, width })
    }

    /// Number of samples.
    pub fn rows(&self) -> usize {
        match *self {
            Targets::Labels { labels, .. } => labels.len(),
            Targets::Vectors { values, width } => values.len() / width,
        }
    }

    /// Length of a leaf's value: the number of classes, or the vectors' width.
    pub fn width(&self) -> usize {
        match *self {
            Targets::Labels { classes, .. } => classes,
            Targets::Vectors { width, .. } => width,
        }
    }

    /// Adds sample `row` to the running sums `sums` (one per component; per class, a count).
    pub fn add(&self, row: usize, sums: &mut [f64]) {
        match *self {
            Targets::Labels { labels, .. } => sums[labels[row]] += 1.0,
            Targets::Vectors { values, width } => {
                for (s, &y) in sums.iter_mut().zip(&values[row * width..(row + 1) * width]) {
                    *s += f64::from(y);
                }
            }
        }
    }

    /// `Σ_j S_j² / n`: the part of `n·I` that differs between splits (see the module's
    /// documentation), from the running sums of `n` samples; 0 for no samples.
    pub fn proxy(sums: &[f64], n: usize) -> f64 {
        if n == 0 {
            return 0.0;
        }
        sums.iter().map(|s| s * s).sum::<f64>() / n as f64
    }

    /// `n·I` of the samples `rows` computed from its definition: class fractions for Gini,
    /// deviations from the mean for squared error (two passes, so a node whose vectors are all
    /// equal scores exactly zero, which the running sums cannot promise).
    pub fn impurity_from_scratch(&self, rows: &[usize]) -> f64 {
        if rows.is_empty() {
            return 0.0;
        }
        let n = rows.len() as f64;
        let mean = self.mean(rows);
        match *self {
            Targets::Labels { .. } => n * (1.0 - mean.iter().map(|p| p * p).sum::<f64>()),
            Targets::Vectors { values, width } => rows
                .iter()
                .map(|&r| {
                    let y = &values[r * width..(r + 1) * width];
                    y.iter()
                        .zip(&mean)
                        .map(|(&y, m)| (f64::from(y) - m).powi(2))
                        .sum::<f64>()
                })
                .sum(),
        }
    }

    /// Whether every sample in `rows` has the same target, so no split can lower the impurity.
    pub fn is_pure(&self, rows: &[usize]) -> bool {
        match *self {
            Targets::Labels { labels, .. } => rows.iter().all(|&r| labels[r] == labels[rows[0]]),
            Targets::Vectors { values, width } => {
                let first = &values[rows[0] * width..(rows[0] + 1) * width];
                rows.iter()
                    .all(|&r| &values[r * width..(r + 1) * width] == first)
            }
        }
    }

    /// The mean target of `rows`: class frequencies for labels, the mean vector otherwise.
    /// This is what a leaf predicts.
    pub fn mean(&self, rows: &[usize]) -> Vec<f64> {
        let mut sums = vec![0.0; self.width()];
        for &r in rows {
            self.add(r, &mut sums);
        }
        let n = rows.len() as f64;
        sums.iter_mut().for_each(|s| *s /= n);
        sums
    }
}
