//! Calibration: does a model's confidence match how often it is right?
//!
//! A model is *calibrated* when, among the samples on which it reports confidence 0.8 (its largest
//! probability), a fraction 0.8 are classified correctly. Distillation is often credited with
//! better calibrated students (the teacher's soft targets discourage over-confident one-hot outputs), so
//! the reports measure it.
//!
//! Samples are grouped into `B` equal-width bins by confidence `conf_i = max_k p_ik`; bin `b`
//! (`0 ≤ b < B`) holds the samples with `conf_i ∈ (b/B, (b+1)/B]`, half-open on the left so that
//! confidence exactly 1 falls in the last bin and a bin edge such as 0.5 falls in the bin *below*
//! it. For a bin `S_b`:
//!
//! ```text
//! acc(b)  = (1/|S_b|) Σ_{i∈S_b} [argmax_k p_ik = y_i]
//! conf(b) = (1/|S_b|) Σ_{i∈S_b} conf_i
//! ECE     = Σ_b (|S_b| / N) · |acc(b) − conf(b)|        (Guo et al. 2017, eq. 3)
//! ```
//!
//! ECE is the average gap between confidence and accuracy, weighted by how many samples see it:
//! 0 for a perfectly calibrated model, at most 1. It depends on `B` (15 is Guo et al.'s choice);
//! compare ECEs only at the same `B`.

use tensor::Tensor;

use super::rows_and_classes;

/// One bin of a reliability diagram: the samples whose confidence lies in `(lower, upper]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReliabilityBin {
    /// `b / B`, excluded from the bin (except that a confidence of exactly 0 goes to bin 0).
    pub lower: f64,
    /// `(b + 1) / B`, included in the bin.
    pub upper: f64,
    /// How many samples fell in the bin.
    pub count: u64,
    /// The fraction of them classified correctly; 0 for an empty bin (check `count`).
    pub accuracy: f64,
    /// Their mean confidence; 0 for an empty bin (check `count`).
    pub confidence: f64,
}

/// How far a row of `probabilities` may sum from 1 before it is taken for logits passed by mistake.
/// A softmax in `f32` rounds each of the C terms and the sum by about 2⁻²⁴ relative, so its rows
/// are within a few `C·6e-8` of 1: 1e-3 leaves room for thousands of classes.
const ROW_SUM_TOLERANCE: f32 = 1e-3;

/// All `bins` bins of the reliability diagram of `probabilities` (`[N, C]`, rows summing to 1)
/// against `labels`, in order of confidence, empty ones included. See the module doc.
///
/// The prediction is the argmax of each row (first on ties), its confidence the max.
///
/// Panics if `bins == 0`, if `labels.len() != N`, if a label is `≥ C`, or if a row is not a
/// probability distribution (entries outside [0, 1] or a sum off 1 by more than 1e-3; logits passed
/// by mistake are the usual cause).
#[track_caller]
pub fn reliability_bins(
    probabilities: &Tensor,
    labels: &[usize],
    bins: usize,
) -> Vec<ReliabilityBin> {
    const OP: &str = "reliability_bins";
    let (n, classes) = rows_and_classes(OP, probabilities);
    if bins == 0 {
        panic!("{OP}: bins must be at least 1, found 0");
    }
    if labels.len() != n {
        panic!(
            "{OP}: {n} rows of probabilities but {} labels",
            labels.len()
        );
    }
    if classes == 0 && n > 0 {
        panic!("{OP}: probabilities of shape [{n}, 0] have no classes");
    }

    // Per bin: sample count, correct count, Σ confidence (f64: N may be large).
    let mut count = vec![0u64; bins];
    let mut correct = vec![0u64; bins];
    let mut confidence_sum = vec![0.0f64; bins];
    let rows = probabilities.data().chunks_exact(classes.max(1)).take(n);
    for (i, (row, &label)) in rows.zip(labels).enumerate() {
        if label >= classes {
            panic!("{OP}: label {label} at sample {i} is out of range for {classes} classes");
        }
        check_distribution(OP, i, row);
        let (predicted, confidence) = argmax(row);
        let b = bin_of(confidence, bins);
        count[b] += 1;
        correct[b] += u64::from(predicted == label);
        confidence_sum[b] += f64::from(confidence);
    }

    (0..bins)
        .map(|b| {
            let (accuracy, confidence) = if count[b] == 0 {
                (0.0, 0.0)
            } else {
                let k = count[b] as f64;
                (correct[b] as f64 / k, confidence_sum[b] / k)
            };
            ReliabilityBin {
                lower: b as f64 / bins as f64,
                upper: (b + 1) as f64 / bins as f64,
                count: count[b],
                accuracy,
                confidence,
            }
        })
        .collect()
}

/// Expected calibration error over `bins` equal-width confidence bins:
///
/// `ECE = Σ_b (|S_b| / N) · |acc(b) − conf(b)|`, with bin `b` covering confidences in
/// `(b/B, (b+1)/B]` (Guo et al. 2017, "On Calibration of Modern Neural Networks").
///
/// `probabilities` is `[N, C]` with rows summing to 1 (apply the softmax first, at temperature 1
/// unless the temperature's effect on calibration is what is measured). 0 means confidence matches
/// accuracy in every bin; an over-confident model (confidence 0.99, right with frequency 0.7)
/// scores near the gap, 0.29. An empty set gives `0/0 = NaN`. Panics as [`reliability_bins`].
#[track_caller]
pub fn expected_calibration_error(probabilities: &Tensor, labels: &[usize], bins: usize) -> f64 {
    let diagram = reliability_bins(probabilities, labels, bins);
    let n = labels.len() as f64;
    // Empty bins have weight 0 and contribute nothing, whatever their (zeroed) accuracy.
    diagram
        .iter()
        .map(|bin| bin.count as f64 / n * (bin.accuracy - bin.confidence).abs())
        .sum()
}

/// The bin of a confidence `c ∈ [0, 1]`: `b` with `b/B < c ≤ (b+1)/B`, i.e. `⌈c·B⌉ − 1`.
///
/// `c` is an `f32` (24-bit significand) and `B` an integer, so `c·B` in `f64` is exact for
/// `B < 2²⁹`: the comparison with the edges is decided on the exact value of `c`, never by a
/// rounding in the product. (`0.8f32` is slightly above 0.8, so it lands in (0.8, 0.9] with 10 bins:
/// that is its true value, not an error.) `c = 0` goes to bin 0, the only place it can go.
fn bin_of(c: f32, bins: usize) -> usize {
    let scaled = (f64::from(c) * bins as f64).ceil() as usize;
    scaled.clamp(1, bins) - 1
}

/// The index and value of the largest entry of a row, the first on ties.
fn argmax(row: &[f32]) -> (usize, f32) {
    let mut best = (0, row[0]);
    for (k, &v) in row.iter().enumerate().skip(1) {
        if v > best.1 {
            best = (k, v);
        }
    }
    best
}

#[track_caller]
fn check_distribution(op: &str, i: usize, row: &[f32]) {
    if let Some(&bad) = row.iter().find(|v| !(0.0..=1.0).contains(*v)) {
        panic!("{op}: row {i} has the entry {bad}, outside [0, 1]; expected probabilities (apply softmax to logits first)");
    }
    let sum: f32 = row.iter().sum();
    if (sum - 1.0).abs() > ROW_SUM_TOLERANCE {
        panic!("{op}: row {i} sums to {sum}, expected 1 within {ROW_SUM_TOLERANCE}; expected probabilities (apply softmax to logits first)");
    }
}
