//! Classification metrics for comparing a teacher, a student trained alone and a distilled student
//! on a test set.
//!
//! Everything here is a pure function of plain data: logits or probabilities as a [`Tensor`] of
//! shape `[N, C]` (N samples, C classes), predictions and labels as `&[usize]`. No autograd, no
//! state between calls. Counts are integers and every long sum is accumulated in `f64`, so a metric
//! over a test set of any size is exact up to the final division.
//!
//! - [`predictions`] and [`agreement`] (this file): argmax per row, and how often two models' top-1
//!   predictions coincide.
//! - [`ConfusionMatrix`] (`confusion.rs`): accuracy, per-class precision / recall / F1, macro-F1,
//!   and the table the reports print.
//! - [`expected_calibration_error`] and [`reliability_bins`] (`calibration.rs`): does a model's
//!   confidence match how often it is right?
//! - [`MeanStd`] (this file): `mean ± std` over seeds, which is how every number in a report is
//!   given.
//!
//! Conventions, stated once here and again where they apply:
//! - A ratio whose denominator is a *per-class* count that happens to be zero (the precision of a
//!   class never predicted, the recall of a class absent from the labels, F1 when precision + recall
//!   is 0) is 0, as scikit-learn's `zero_division=0` default. A report never shows NaN for one
//!   unlucky class.
//! - A ratio over an *empty set of samples* (the accuracy of an empty test set) is `0/0 = NaN`, so
//!   that a mistake upstream cannot pass for a measured ratio of 0.
//! - Inputs that are inconsistent with each other (lengths that differ, a label ≥ the number of
//!   classes, zero bins) are programming errors inside the library and panic with a message that
//!   names the function and both values.
//!
//! Non-goals: top-k accuracy, ROC/AUC, sample weights, multi-label metrics.

mod calibration;
mod confusion;

pub use calibration::{expected_calibration_error, reliability_bins, ReliabilityBin};
pub use confusion::{ClassReport, ConfusionMatrix};

use std::fmt;

use tensor::Tensor;

/// The predicted class of each sample: the argmax of each row of `logits` (`[N, C]`, C ≥ 1).
///
/// On ties the first (lowest) index wins, and a NaN beats every number (the first NaN in the row):
/// both are [`Tensor::argmax_axis`]'s rules. Softmax is monotone, so the argmax of logits and of
/// probabilities is the same; either may be passed.
#[track_caller]
pub fn predictions(logits: &Tensor) -> Vec<usize> {
    let (_, classes) = rows_and_classes("predictions", logits);
    if classes == 0 {
        panic!(
            "predictions: logits of shape {:?} have no classes to choose from",
            logits.shape()
        );
    }
    logits.argmax_axis(1)
}

/// Top-1 agreement: the fraction of samples on which two models predict the same class,
///
/// `agreement(a, b) = (1/N) · #{ i : a_i = b_i }`.
///
/// With `a` the student's predictions and `b` the teacher's this measures how faithfully the
/// student imitates the teacher, which is what distillation optimises, independently of whether
/// either is right. Symmetric, and 1 for a model with itself. Empty slices give `0/0 = NaN`.
/// Panics if the lengths differ.
#[track_caller]
pub fn agreement(a: &[usize], b: &[usize]) -> f64 {
    if a.len() != b.len() {
        panic!(
            "agreement: the two prediction slices differ in length ({} vs {})",
            a.len(),
            b.len()
        );
    }
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    same as f64 / a.len() as f64
}

/// [`agreement`] of the argmax of two `[N, C]` logit (or probability) tensors. Panics if the shapes
/// differ.
#[track_caller]
pub fn logit_agreement(a: &Tensor, b: &Tensor) -> f64 {
    if a.shape() != b.shape() {
        panic!(
            "logit_agreement: the two logit tensors differ in shape ({:?} vs {:?})",
            a.shape(),
            b.shape()
        );
    }
    agreement(&predictions(a), &predictions(b))
}

/// `[N, C]` of a rank-2 tensor; panics naming `op` otherwise.
#[track_caller]
pub(crate) fn rows_and_classes(op: &str, t: &Tensor) -> (usize, usize) {
    match *t.shape() {
        [n, c] => (n, c),
        ref other => panic!("{op}: expected a rank-2 tensor [N, C], found shape {other:?}"),
    }
}

/// The mean and sample standard deviation of a few numbers (typically one metric over a few seeds).
///
/// `mean = (1/n) Σ x_i`,  `std = sqrt( Σ (x_i − mean)² / (n − 1) )`.
///
/// The `n − 1` (Bessel's correction) makes `std²` an unbiased estimate of the variance across seeds,
/// which is what "± std" over seeds is meant to convey, and is what NumPy's `std(ddof=1)` and most
/// papers report. For `n == 1` there is no spread to estimate; `std` is then 0 (not the `0/0` the
/// formula gives), so a single run prints as `x ± 0.00` and `n` tells the reader it was one run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanStd {
    pub mean: f64,
    pub std: f64,
    pub n: usize,
}

impl MeanStd {
    /// The mean and sample standard deviation of `values`. Panics on an empty slice.
    ///
    /// Two passes (the mean first, then the squared deviations from it) rather than one pass over
    /// `Σx²` and `Σx`: the one-pass form subtracts two large nearly equal numbers when the spread is
    /// small next to the mean (97.52 ± 0.13 is exactly that case) and loses most of its digits.
    #[track_caller]
    pub fn of(values: &[f64]) -> MeanStd {
        let n = values.len();
        if n == 0 {
            panic!("MeanStd::of: no values (length 0); need at least 1");
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let std = if n == 1 {
            0.0
        } else {
            let squares: f64 = values.iter().map(|x| (x - mean) * (x - mean)).sum();
            (squares / (n - 1) as f64).sqrt()
        };
        MeanStd { mean, std, n }
    }

    /// `"mean ± std"` with `decimals` digits after the point for both, e.g. `"97.52 ± 0.13"`.
    pub fn format(&self, decimals: usize) -> String {
        format!("{:.*} ± {:.*}", decimals, self.mean, decimals, self.std)
    }
}

/// `"97.52 ± 0.13"`: two decimals unless the formatter gives a precision (`{:.3}`).
impl fmt::Display for MeanStd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format(f.precision().unwrap_or(2)))
    }
}
