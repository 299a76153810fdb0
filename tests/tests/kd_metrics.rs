//! The `kd` metrics: a hand-worked 3-class confusion matrix (counts, precision / recall / F1,
//! macro-F1, the printed tables), macro-F1 and ECE against naive per-sample references written
//! differently, the zero-division conventions, calibration bin edges, top-1 agreement, mean ± std,
//! and the panics on inconsistent input.

use distillery_tests::distributions;
use kd::metrics::{
    agreement, expected_calibration_error, logit_agreement, predictions, reliability_bins,
    ConfusionMatrix, MeanStd,
};
use proptest::prelude::*;
use tensor::Tensor;

/// Ratios of small integers in f64 agree with hand fractions to a few ulps; 1e-12 is far above
/// that and far below any real mistake.
const EXACT: f64 = 1e-12;

fn close(actual: f64, expected: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= EXACT,
        "{what}: got {actual}, expected {expected}"
    );
}

fn tensor(data: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_vec(data.to_vec(), shape).expect("literal matches its shape")
}

// ----- the hand-worked 3-class example ----------------------------------------------------------

/// Nine samples whose confusion matrix (row = true, column = predicted) is
///
/// ```text
///            pred 0  pred 1  pred 2   support
/// true 0       2       0       0        2
/// true 1       1       2       1        4
/// true 2       0       1       2        3
/// predicted    3       3       3
/// ```
fn hand_matrix() -> ConfusionMatrix {
    let labels = [0, 1, 2, 1, 0, 1, 2, 1, 2];
    let predicted = [0, 0, 1, 1, 0, 2, 2, 1, 2];
    ConfusionMatrix::from_predictions(&predicted, &labels, 3)
}

#[test]
fn hand_worked_counts() {
    let m = hand_matrix();
    let expected = [[2, 0, 0], [1, 2, 1], [0, 1, 2]];
    for (t, row) in expected.iter().enumerate() {
        for (p, &n) in row.iter().enumerate() {
            assert_eq!(m.count(t, p), n, "count({t}, {p})");
        }
    }
    assert_eq!(m.classes(), 3);
    assert_eq!(m.total(), 9);
    // Trace 2 + 2 + 2.
    assert_eq!(m.correct(), 6);
    assert_eq!(m.errors(), 3);
    close(m.accuracy(), 6.0 / 9.0, "accuracy");
}

#[test]
fn hand_worked_precision_recall_f1() {
    let m = hand_matrix();
    // By hand from the matrix in `hand_matrix`, F1 = 2PR/(P+R):
    // class 0: TP 2, FP 1, FN 0 → P 2/3, R 1,   F1 (4/3)/(5/3) = 4/5
    // class 1: TP 2, FP 1, FN 2 → P 2/3, R 1/2, F1 (2/3)/(7/6) = 4/7
    // class 2: TP 2, FP 1, FN 1 → P 2/3, R 2/3, F1 2/3
    let expected = [
        (2.0 / 3.0, 1.0, 0.8, 2),
        (2.0 / 3.0, 0.5, 4.0 / 7.0, 4),
        (2.0 / 3.0, 2.0 / 3.0, 2.0 / 3.0, 3),
    ];
    let reports = m.per_class();
    assert_eq!(reports.len(), 3);
    for (c, &(p, r, f1, support)) in expected.iter().enumerate() {
        close(m.precision(c), p, &format!("precision({c})"));
        close(m.recall(c), r, &format!("recall({c})"));
        close(m.f1(c), f1, &format!("f1({c})"));
        assert_eq!(m.support(c), support, "support({c})");
        assert_eq!(m.predicted_count(c), 3, "predicted_count({c})");
        let report = reports[c];
        assert_eq!(report.class, c);
        assert_eq!(report.support, support);
        close(report.precision, p, "report precision");
        close(report.recall, r, "report recall");
        close(report.f1, f1, "report f1");
    }
    // (4/5 + 4/7 + 2/3) / 3 = (84 + 60 + 70) / 105 / 3 = 214/315 ≈ 0.6794.
    close(m.macro_f1(), 214.0 / 315.0, "macro_f1");
}

#[test]
fn hand_worked_tables() {
    let m = hand_matrix();
    // Written by hand: each column is 1 digit + 2 spaces wide; the corner label is 9 wide.
    let text = "\
true\\pred  0  1  2
        0  2  0  0
        1  1  2  1
        2  0  1  2";
    assert_eq!(m.to_string(), text);
    let markdown = "\
| true \\ pred | 0 | 1 | 2 |
|---:|---:|---:|---:|
| 0 | 2 | 0 | 0 |
| 1 | 1 | 2 | 1 |
| 2 | 0 | 1 | 2 |
";
    assert_eq!(m.to_markdown(), markdown);
    // The same counts under names; a `|` inside a name is escaped so the row keeps its cells.
    let named = "\
| true \\ pred | cat | dog | a\\|b |
|---:|---:|---:|---:|
| cat | 2 | 0 | 0 |
| dog | 1 | 2 | 1 |
| a\\|b | 0 | 1 | 2 |
";
    assert_eq!(m.to_markdown_with(&["cat", "dog", "a|b"]), named);
}

#[test]
#[should_panic(expected = "to_markdown_with: 2 names for 3 classes")]
fn a_name_for_every_class() {
    hand_matrix().to_markdown_with(&["cat", "dog"]);
}

#[test]
fn table_columns_widen_for_large_counts_and_many_classes() {
    // 11 classes (index 10 has 2 digits) and a count of 1234 (4 digits): every column 4 + 2 wide.
    let mut labels = vec![3; 1234];
    labels.push(10);
    let mut predicted = vec![3; 1234];
    predicted.push(0);
    let m = ConfusionMatrix::from_predictions(&predicted, &labels, 11);
    let text = m.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 12, "header + one row per class:\n{text}");
    for line in &lines {
        assert_eq!(line.len(), 9 + 11 * 6, "every line equally wide:\n{text}");
    }
    let zeros = |k: usize| "     0".repeat(k);
    assert_eq!(lines[4], format!("        3{}  1234{}", zeros(3), zeros(7)));
    assert_eq!(lines[11], format!("       10     1{}", zeros(10)));
}

// ----- conventions ------------------------------------------------------------------------------

#[test]
fn perfect_predictions() {
    let labels = [0, 1, 2, 2, 1, 0, 3];
    let m = ConfusionMatrix::from_predictions(&labels, &labels, 4);
    assert_eq!(m.errors(), 0);
    assert_eq!(m.accuracy(), 1.0);
    assert_eq!(m.macro_f1(), 1.0);
    for r in m.per_class() {
        assert_eq!((r.precision, r.recall, r.f1), (1.0, 1.0, 1.0), "{r:?}");
    }
}

#[test]
fn class_never_predicted_has_precision_zero_not_nan() {
    // Class 2 occurs twice and is never predicted: TP 0, FP 0, FN 2 → P 0/0 := 0, R 0, F1 0.
    let labels = [0, 1, 2, 2];
    let predicted = [0, 1, 0, 1];
    let m = ConfusionMatrix::from_predictions(&predicted, &labels, 3);
    assert_eq!(m.predicted_count(2), 0);
    assert_eq!(m.precision(2), 0.0);
    assert_eq!(m.recall(2), 0.0);
    assert_eq!(m.f1(2), 0.0);
    // Classes 0 and 1: TP 1, FP 1, FN 0 → P 1/2, R 1, F1 2/3; macro (2/3 + 2/3 + 0) / 3 = 4/9.
    close(m.macro_f1(), 4.0 / 9.0, "macro_f1");
    assert!(m.per_class().iter().all(|r| !r.f1.is_nan()));
}

#[test]
fn class_absent_everywhere_still_counts_in_macro_f1() {
    // Perfect on classes 0 and 1, class 2 neither present nor predicted: F1 0 by convention, so
    // macro-F1 over all 3 classes is (1 + 1 + 0) / 3 = 2/3, not 1.
    let labels = [0, 1, 1, 0];
    let m = ConfusionMatrix::from_predictions(&labels, &labels, 3);
    assert_eq!(m.accuracy(), 1.0);
    assert_eq!(m.f1(2), 0.0);
    close(m.macro_f1(), 2.0 / 3.0, "macro_f1");
}

#[test]
fn empty_set_has_nan_accuracy() {
    let m = ConfusionMatrix::new(2);
    assert_eq!(m.total(), 0);
    assert!(m.accuracy().is_nan());
    assert_eq!(m.macro_f1(), 0.0);
    assert!(agreement(&[], &[]).is_nan());
}

#[test]
fn batches_add_up_to_the_whole() {
    let m = hand_matrix();
    let labels = [0, 1, 2, 1, 0, 1, 2, 1, 2];
    let predicted = [0, 0, 1, 1, 0, 2, 2, 1, 2];
    let mut batched = ConfusionMatrix::new(3);
    batched.add(&predicted[..4], &labels[..4]);
    batched.add(&predicted[4..], &labels[4..]);
    assert_eq!(batched, m);
}

#[test]
fn from_logits_uses_the_argmax() {
    // Rows' argmax: 1, 0, 0 (the tie in row 2 goes to the first index); labels 1, 1, 1.
    let logits = tensor(&[0.1, 2.0, 5.0, -1.0, 3.0, 3.0], &[3, 2]);
    let m = ConfusionMatrix::from_logits(&logits, &[1, 1, 1]);
    assert_eq!(m.count(1, 1), 1);
    assert_eq!(m.count(1, 0), 2);
    assert_eq!(m.total(), 3);
}

// ----- cross-check against a naive reference ------------------------------------------------------

/// Macro-F1 the long way: for each class, walk the samples and count TP / FP / FN, then
/// `2PR/(P+R)` from the ratios (the library uses `2TP/(2TP+FP+FN)` from the matrix).
fn naive_macro_f1(predicted: &[usize], labels: &[usize], classes: usize) -> f64 {
    let mut total = 0.0;
    for c in 0..classes {
        let (mut tp, mut fp, mut fn_) = (0u32, 0u32, 0u32);
        for (&p, &t) in predicted.iter().zip(labels) {
            if p == c && t == c {
                tp += 1;
            } else if p == c {
                fp += 1;
            } else if t == c {
                fn_ += 1;
            }
        }
        let precision = if tp + fp == 0 {
            0.0
        } else {
            f64::from(tp) / f64::from(tp + fp)
        };
        let recall = if tp + fn_ == 0 {
            0.0
        } else {
            f64::from(tp) / f64::from(tp + fn_)
        };
        if precision + recall > 0.0 {
            total += 2.0 * precision * recall / (precision + recall);
        }
    }
    total / classes as f64
}

/// ECE the long way: place each sample by comparing its confidence with the bin edges, then
/// `Σ_b |correct_b − Σ conf_b| / N` (the same as `Σ_b |S_b|/N · |acc − conf|` with the `|S_b|`
/// cancelled).
fn naive_ece(probabilities: &Tensor, labels: &[usize], bins: usize) -> f64 {
    let classes = probabilities.shape()[1];
    let mut gap = vec![0.0f64; bins];
    for (row, &label) in probabilities.data().chunks(classes).zip(labels) {
        let confidence = row.iter().copied().fold(f32::MIN, f32::max);
        let predicted = row.iter().position(|&v| v == confidence).unwrap();
        let c = f64::from(confidence);
        let b = (0..bins)
            .find(|&b| (b as f64 / bins as f64) < c && c <= (b + 1) as f64 / bins as f64)
            .unwrap();
        gap[b] += if predicted == label { 1.0 } else { 0.0 } - c;
    }
    gap.iter().map(|g| g.abs()).sum::<f64>() / labels.len() as f64
}

fn labelled_predictions() -> impl Strategy<Value = (usize, Vec<(usize, usize)>)> {
    (1usize..7).prop_flat_map(|c| (Just(c), prop::collection::vec((0..c, 0..c), 0..80)))
}

proptest! {
    #[test]
    fn macro_f1_matches_naive((classes, pairs) in labelled_predictions()) {
        let (predicted, labels): (Vec<usize>, Vec<usize>) = pairs.into_iter().unzip();
        let m = ConfusionMatrix::from_predictions(&predicted, &labels, classes);
        let naive = naive_macro_f1(&predicted, &labels, classes);
        prop_assert!((m.macro_f1() - naive).abs() <= EXACT, "{} vs naive {naive}\n{m}", m.macro_f1());
        let right = predicted.iter().zip(&labels).filter(|(p, t)| p == t).count();
        prop_assert_eq!(m.correct(), right as u64);
        prop_assert_eq!(m.total(), labels.len() as u64);
        let support: u64 = m.per_class().iter().map(|r| r.support).sum();
        prop_assert_eq!(support, m.total());
        for r in m.per_class() {
            prop_assert!((0.0..=1.0).contains(&r.f1) && r.f1 <= r.precision.max(r.recall), "{:?}", r);
        }
    }

    #[test]
    fn ece_matches_naive(
        rows in 1usize..60,
        classes in 2usize..6,
        bins in 1usize..20,
        seed in any::<u64>(),
        label_seed in prop::collection::vec(any::<usize>(), 60),
    ) {
        let probabilities = distributions(rows, classes, seed);
        let labels: Vec<usize> = label_seed[..rows].iter().map(|l| l % classes).collect();
        let ece = expected_calibration_error(&probabilities, &labels, bins);
        let naive = naive_ece(&probabilities, &labels, bins);
        prop_assert!((ece - naive).abs() <= EXACT, "{ece} vs naive {naive}");
        prop_assert!((0.0..=1.0).contains(&ece));
        let diagram = reliability_bins(&probabilities, &labels, bins);
        prop_assert_eq!(diagram.iter().map(|b| b.count).sum::<u64>(), rows as u64);
    }

    #[test]
    fn agreement_is_symmetric_and_one_with_itself(
        pairs in prop::collection::vec((0usize..4, 0usize..4), 1..50),
    ) {
        let (a, b): (Vec<usize>, Vec<usize>) = pairs.into_iter().unzip();
        prop_assert_eq!(agreement(&a, &b), agreement(&b, &a));
        prop_assert_eq!(agreement(&a, &a), 1.0);
        let differ = a.iter().zip(&b).filter(|(x, y)| x != y).count();
        prop_assert!((agreement(&a, &b) - (1.0 - differ as f64 / a.len() as f64)).abs() <= EXACT);
    }
}

// ----- calibration --------------------------------------------------------------------------------

#[test]
fn perfectly_calibrated_has_zero_ece() {
    // Five bins. Four samples at confidence 0.75 (bin (0.6, 0.8]) with 3 right: acc 0.75 = conf.
    // Two samples at confidence 0.5 (bin (0.4, 0.6]) with 1 right: acc 0.5 = conf. All values are
    // exact in binary, so the ECE is exactly 0.
    let probabilities = tensor(
        &[
            0.75, 0.25, //
            0.75, 0.25, //
            0.25, 0.75, //
            0.25, 0.75, //
            0.5, 0.5, // tie: predicts 0
            0.5, 0.5,
        ],
        &[6, 2],
    );
    let labels = [0, 0, 1, 0, 0, 1];
    assert_eq!(expected_calibration_error(&probabilities, &labels, 5), 0.0);
    let diagram = reliability_bins(&probabilities, &labels, 5);
    assert_eq!(diagram[3].count, 4);
    assert_eq!((diagram[3].accuracy, diagram[3].confidence), (0.75, 0.75));
    assert_eq!(diagram[2].count, 2);
    assert_eq!((diagram[2].accuracy, diagram[2].confidence), (0.5, 0.5));
}

#[test]
fn overconfident_ece_hand_value() {
    // Four bins of width 1/4. Four samples at confidence 1.0 (bin (0.75, 1]) with 2 right: gap
    // |0.5 − 1| = 0.5. Four at confidence 0.625 (bin (0.5, 0.75]) with 1 right: gap |0.25 − 0.625|
    // = 0.375. By hand: ECE = 4/8 · 0.5 + 4/8 · 0.375 = 0.4375.
    let probabilities = tensor(
        &[
            1.0, 0.0, 0.0, //
            1.0, 0.0, 0.0, //
            0.0, 1.0, 0.0, //
            0.0, 1.0, 0.0, //
            0.625, 0.25, 0.125, //
            0.625, 0.25, 0.125, //
            0.125, 0.25, 0.625, //
            0.25, 0.625, 0.125,
        ],
        &[8, 3],
    );
    let labels = [0, 2, 1, 0, 0, 1, 0, 2];
    close(
        expected_calibration_error(&probabilities, &labels, 4),
        0.4375,
        "ece",
    );
    let diagram = reliability_bins(&probabilities, &labels, 4);
    let counts: Vec<u64> = diagram.iter().map(|b| b.count).collect();
    assert_eq!(counts, [0, 0, 4, 4]);
    assert_eq!((diagram[3].accuracy, diagram[3].confidence), (0.5, 1.0));
    assert_eq!((diagram[2].accuracy, diagram[2].confidence), (0.25, 0.625));
    // Empty bins report zeros, and their edges are b/4 and (b+1)/4.
    assert_eq!(
        (diagram[0].lower, diagram[0].upper, diagram[0].accuracy),
        (0.0, 0.25, 0.0)
    );
    assert_eq!((diagram[3].lower, diagram[3].upper), (0.75, 1.0));
}

#[test]
fn bin_edges_fall_in_the_lower_bin() {
    // Two bins (0, 0.5] and (0.5, 1]: confidence exactly 0.5 goes to bin 0, exactly 1.0 to bin 1,
    // and 0.5 + 2⁻²³ (just above the edge, exact in f32, as is 0.5 − 2⁻²³) to bin 1.
    let above_half = 0.5 + f32::EPSILON;
    let probabilities = tensor(&[0.5, 0.5, 1.0, 0.0, above_half, 1.0 - above_half], &[3, 2]);
    let diagram = reliability_bins(&probabilities, &[0, 0, 0], 2);
    assert_eq!(diagram[0].count, 1, "{diagram:?}");
    assert_eq!(diagram[0].confidence, 0.5);
    assert_eq!(diagram[1].count, 2, "{diagram:?}");
    // With one bin, ECE = |acc − mean confidence|. By hand: all three predict 0 (row 0 by the tie
    // rule), so acc 1; conf (0.5 + 1 + 0.5 + ε)/3; ECE = 1 − (2 + ε)/3 = (1 − ε)/3.
    close(
        expected_calibration_error(&probabilities, &[0, 0, 0], 1),
        (1.0 - f64::from(f32::EPSILON)) / 3.0,
        "ece with one bin",
    );
}

// ----- agreement and predictions ------------------------------------------------------------------

#[test]
fn agreement_hand_case() {
    // Agree at samples 0, 2, 3; differ at 1 → 3/4.
    let student = [0, 1, 2, 1];
    let teacher = [0, 2, 2, 1];
    assert_eq!(agreement(&student, &teacher), 0.75);
    assert_eq!(agreement(&teacher, &student), 0.75);
    assert_eq!(agreement(&student, &student), 1.0);
    // The same through logits: argmax rows 1, 0 vs 1, 1 → 1/2.
    let a = tensor(&[0.0, 1.0, 3.0, 2.0], &[2, 2]);
    let b = tensor(&[-1.0, 1.0, 0.0, 0.5], &[2, 2]);
    assert_eq!(logit_agreement(&a, &b), 0.5);
}

#[test]
fn predictions_ties_go_to_the_first_index() {
    let logits = tensor(
        &[
            1.0, 3.0, 3.0, // tie between 1 and 2 → 1
            2.0, 2.0, 2.0, // three-way tie → 0
            5.0, 1.0, 5.0, // tie between 0 and 2 → 0
            -1.0, -3.0, -0.5, // plain max → 2
        ],
        &[4, 3],
    );
    assert_eq!(predictions(&logits), [1, 0, 0, 2]);
}

// ----- mean ± std ---------------------------------------------------------------------------------

#[test]
fn mean_std_hand_values() {
    // By hand: mean 10/4 = 2.5; deviations ±1.5, ±0.5 → squares 2.25+0.25+0.25+2.25 = 5; n−1 = 3
    // → std √(5/3) ≈ 1.2910.
    let s = MeanStd::of(&[1.0, 2.0, 3.0, 4.0]);
    assert_eq!(s.n, 4);
    close(s.mean, 2.5, "mean");
    close(s.std, (5.0f64 / 3.0).sqrt(), "std");
    assert_eq!(s.to_string(), "2.50 ± 1.29");
    assert_eq!(s.format(3), "2.500 ± 1.291");
    assert_eq!(format!("{s:.1}"), "2.5 ± 1.3");
}

#[test]
fn mean_std_single_value_has_zero_std() {
    let s = MeanStd::of(&[97.52]);
    assert_eq!((s.mean, s.std, s.n), (97.52, 0.0, 1));
    assert_eq!(s.to_string(), "97.52 ± 0.00");
}

#[test]
fn mean_std_of_seeds_like_a_report() {
    // By hand: mean 97.52, deviations −0.12, 0, +0.12 → (0.0144 · 2) / 2 → std 0.12.
    let s = MeanStd::of(&[97.40, 97.52, 97.64]);
    assert_eq!(s.to_string(), "97.52 ± 0.12");
    // Shift invariance: the same spread 10⁹ away from 0 keeps its std (√(5/3) from the hand case
    // above), which a one-pass Σx² − (Σx)²/n would lose to cancellation. Tolerance: the inputs
    // themselves are only exact to ~1e-7 at 1e9 (f64 ulp 1.2e-7).
    let far = MeanStd::of(&[1e9 + 1.0, 1e9 + 2.0, 1e9 + 3.0, 1e9 + 4.0]);
    assert!((far.std - (5.0f64 / 3.0).sqrt()).abs() < 1e-6, "{far:?}");
}

// ----- panics on inconsistent input ---------------------------------------------------------------

#[test]
#[should_panic(
    expected = "ConfusionMatrix::from_predictions: label 3 at sample 1 is out of range for 3 classes"
)]
fn label_out_of_range_panics() {
    ConfusionMatrix::from_predictions(&[0, 1], &[0, 3], 3);
}

#[test]
#[should_panic(expected = "ConfusionMatrix::from_predictions: 3 predictions but 2 labels")]
fn mismatched_lengths_panic() {
    ConfusionMatrix::from_predictions(&[0, 1, 1], &[0, 1], 2);
}

#[test]
#[should_panic(expected = "agreement: the two prediction slices differ in length (2 vs 1)")]
fn agreement_mismatched_lengths_panic() {
    agreement(&[0, 1], &[0]);
}

#[test]
#[should_panic(expected = "reliability_bins: bins must be at least 1, found 0")]
fn zero_bins_panic() {
    expected_calibration_error(&tensor(&[0.5, 0.5], &[1, 2]), &[0], 0);
}

#[test]
#[should_panic(expected = "reliability_bins: 1 rows of probabilities but 2 labels")]
fn ece_mismatched_lengths_panic() {
    expected_calibration_error(&tensor(&[0.5, 0.5], &[1, 2]), &[0, 1], 10);
}

#[test]
#[should_panic(expected = "reliability_bins: label 2 at sample 0 is out of range for 2 classes")]
fn ece_label_out_of_range_panics() {
    expected_calibration_error(&tensor(&[0.5, 0.5], &[1, 2]), &[2], 10);
}

#[test]
#[should_panic(expected = "row 0 has the entry 2, outside [0, 1]")]
fn ece_rejects_logits() {
    expected_calibration_error(&tensor(&[2.0, -1.0], &[1, 2]), &[0], 10);
}

#[test]
#[should_panic(expected = "row 1 sums to 0.5, expected 1")]
fn ece_rejects_rows_not_summing_to_one() {
    expected_calibration_error(&tensor(&[0.5, 0.5, 0.25, 0.25], &[2, 2]), &[0, 0], 10);
}
