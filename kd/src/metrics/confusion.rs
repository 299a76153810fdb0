//! The confusion matrix and everything read off it: accuracy, per-class precision / recall / F1,
//! macro-F1, and the table printed in reports.
//!
//! `counts[t·C + p]` is the number of samples whose true label is `t` and whose predicted class is
//! `p` (row = true label, column = prediction). For class `c`:
//!
//! ```text
//! TP_c = counts[c, c]                 (right, and said c)
//! FP_c = Σ_t counts[t, c] − TP_c      (said c, was something else: column c off the diagonal)
//! FN_c = Σ_p counts[c, p] − TP_c      (was c, said something else: row c off the diagonal)
//! precision_c = TP_c / (TP_c + FP_c)  recall_c = TP_c / (TP_c + FN_c)
//! F1_c = 2·P·R / (P + R) = 2·TP_c / (2·TP_c + FP_c + FN_c)
//! macro-F1 = (1/C) Σ_c F1_c
//! ```

use std::fmt;

use tensor::Tensor;

use super::{predictions, rows_and_classes};

/// Counts of (true label, predicted class) pairs over a set of samples. See the module doc for the
/// layout and the formulas.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfusionMatrix {
    classes: usize,
    /// Row-major `[classes, classes]`: row = true label, column = predicted class.
    counts: Vec<u64>,
}

/// One class's line in a classification report.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClassReport {
    pub class: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// How many samples truly belong to the class (the row sum).
    pub support: u64,
}

impl ConfusionMatrix {
    /// An empty matrix over `classes` classes (panics if `classes == 0`).
    #[track_caller]
    pub fn new(classes: usize) -> ConfusionMatrix {
        if classes == 0 {
            panic!("ConfusionMatrix::new: classes must be at least 1, found 0");
        }
        ConfusionMatrix {
            classes,
            counts: vec![0; classes * classes],
        }
    }

    /// The matrix of `predicted[i]` against `labels[i]` over `classes` classes.
    ///
    /// Panics if the slices differ in length or any label or prediction is `≥ classes`.
    #[track_caller]
    pub fn from_predictions(predicted: &[usize], labels: &[usize], classes: usize) -> Self {
        let mut matrix = ConfusionMatrix::new(classes);
        matrix.record("ConfusionMatrix::from_predictions", predicted, labels);
        matrix
    }

    /// The matrix of the argmax of `logits` (`[N, C]`) against `labels`, over `C` classes.
    #[track_caller]
    pub fn from_logits(logits: &Tensor, labels: &[usize]) -> Self {
        let (_, classes) = rows_and_classes("ConfusionMatrix::from_logits", logits);
        let mut matrix = ConfusionMatrix::new(classes);
        matrix.record("ConfusionMatrix::from_logits", &predictions(logits), labels);
        matrix
    }

    /// Adds one batch of samples, so a test set can be evaluated batch by batch.
    #[track_caller]
    pub fn add(&mut self, predicted: &[usize], labels: &[usize]) {
        self.record("ConfusionMatrix::add", predicted, labels);
    }

    #[track_caller]
    fn record(&mut self, op: &str, predicted: &[usize], labels: &[usize]) {
        if predicted.len() != labels.len() {
            panic!(
                "{op}: {} predictions but {} labels",
                predicted.len(),
                labels.len()
            );
        }
        let c = self.classes;
        for (i, (&p, &t)) in predicted.iter().zip(labels).enumerate() {
            if t >= c {
                panic!("{op}: label {t} at sample {i} is out of range for {c} classes");
            }
            if p >= c {
                panic!("{op}: prediction {p} at sample {i} is out of range for {c} classes");
            }
            self.counts[t * c + p] += 1;
        }
    }

    /// The number of classes `C`.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// How many samples of true class `true_label` were predicted as `predicted`.
    #[track_caller]
    pub fn count(&self, true_label: usize, predicted: usize) -> u64 {
        let c = self.classes;
        if true_label >= c || predicted >= c {
            panic!(
                "ConfusionMatrix::count: ({true_label}, {predicted}) is out of range for {c} classes"
            );
        }
        self.counts[true_label * c + predicted]
    }

    /// Row `true_label` of the matrix.
    fn row(&self, true_label: usize) -> &[u64] {
        &self.counts[true_label * self.classes..(true_label + 1) * self.classes]
    }

    /// The number of samples.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The number of correctly classified samples (the trace).
    pub fn correct(&self) -> u64 {
        (0..self.classes).map(|c| self.count(c, c)).sum()
    }

    /// The number of misclassified samples (`total − correct`).
    pub fn errors(&self) -> u64 {
        self.total() - self.correct()
    }

    /// `correct / total`; `0/0 = NaN` when there are no samples (an empty test set is a mistake
    /// upstream, not a measured accuracy of 0).
    pub fn accuracy(&self) -> f64 {
        self.correct() as f64 / self.total() as f64
    }

    /// How many samples truly belong to `class` (row sum, `TP + FN`).
    #[track_caller]
    pub fn support(&self, class: usize) -> u64 {
        self.check_class("support", class);
        self.row(class).iter().sum()
    }

    /// How many samples were predicted as `class` (column sum, `TP + FP`).
    #[track_caller]
    pub fn predicted_count(&self, class: usize) -> u64 {
        self.check_class("predicted_count", class);
        (0..self.classes).map(|t| self.count(t, class)).sum()
    }

    /// `TP / (TP + FP)`: of the samples predicted as `class`, the fraction that are. A class never
    /// predicted has precision 0 (scikit-learn's `zero_division=0` default), not NaN.
    #[track_caller]
    pub fn precision(&self, class: usize) -> f64 {
        ratio_or_zero(self.count(class, class), self.predicted_count(class))
    }

    /// `TP / (TP + FN)`: of the samples of `class`, the fraction found. A class absent from the
    /// labels has recall 0 (`zero_division=0` again).
    #[track_caller]
    pub fn recall(&self, class: usize) -> f64 {
        ratio_or_zero(self.count(class, class), self.support(class))
    }

    /// The harmonic mean of precision and recall, `2PR / (P + R)`, and 0 when `P + R = 0` (which
    /// covers a class neither present nor predicted).
    ///
    /// Computed as `2TP / (2TP + FP + FN)`, the same number when `P + R > 0`, from integer counts:
    /// one rounding instead of four.
    #[track_caller]
    pub fn f1(&self, class: usize) -> f64 {
        let tp = self.count(class, class);
        let fp = self.predicted_count(class) - tp;
        let fn_ = self.support(class) - tp;
        ratio_or_zero(2 * tp, 2 * tp + fp + fn_)
    }

    /// The unweighted mean of [`f1`](Self::f1) over *all* `classes` classes, so every class counts
    /// the same however rare it is; a class absent from both labels and predictions contributes 0
    /// (as scikit-learn's `f1_score(average="macro", labels=range(C))`).
    pub fn macro_f1(&self) -> f64 {
        (0..self.classes).map(|c| self.f1(c)).sum::<f64>() / self.classes as f64
    }

    /// Precision, recall, F1 and support of every class, in class order.
    pub fn per_class(&self) -> Vec<ClassReport> {
        (0..self.classes)
            .map(|class| ClassReport {
                class,
                precision: self.precision(class),
                recall: self.recall(class),
                f1: self.f1(class),
                support: self.support(class),
            })
            .collect()
    }

    /// The matrix as a Markdown table: a header of predicted classes, one row per true class, one
    /// line per row (each ending in `\n`).
    ///
    /// ```text
    /// | true \ pred | 0 | 1 |
    /// |---:|---:|---:|
    /// | 0 | 5 | 1 |
    /// | 1 | 0 | 4 |
    /// ```
    pub fn to_markdown(&self) -> String {
        let numbers: Vec<String> = (0..self.classes).map(|c| c.to_string()).collect();
        self.to_markdown_with(&numbers)
    }

    /// The same table with each class called by its name in `names` (one per class, in label
    /// order) rather than its number. A `|` in a name is escaped, so that it does not end a cell.
    ///
    /// Panics if there is not one name per class.
    #[track_caller]
    pub fn to_markdown_with<S: AsRef<str>>(&self, names: &[S]) -> String {
        if names.len() != self.classes {
            panic!(
                "ConfusionMatrix::to_markdown_with: {} names for {} classes",
                names.len(),
                self.classes
            );
        }
        let names: Vec<String> = names
            .iter()
            .map(|n| n.as_ref().replace('|', "\\|"))
            .collect();
        let mut out = String::from("| true \\ pred |");
        for name in &names {
            out += &format!(" {name} |");
        }
        out += "\n|---:|";
        out += &"---:|".repeat(self.classes);
        out += "\n";
        for (t, name) in names.iter().enumerate() {
            out += &format!("| {name} |");
            for &n in self.row(t) {
                out += &format!(" {n} |");
            }
            out += "\n";
        }
        out
    }

    #[track_caller]
    fn check_class(&self, op: &str, class: usize) {
        if class >= self.classes {
            panic!(
                "ConfusionMatrix::{op}: class {class} is out of range for {} classes",
                self.classes
            );
        }
    }
}

/// `num / den`, and 0 when `den == 0` (the `zero_division=0` convention; `num` is then 0 too).
fn ratio_or_zero(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// A fixed-width table, right-aligned, for terminal reports:
///
/// ```text
/// true\pred    0    1
///         0    5    1
///         1    0    4
/// ```
///
/// Every column is as wide as the widest count or class index plus two spaces, so the columns line
/// up whatever the counts; no trailing newline (`println!` adds one).
impl fmt::Display for ConfusionMatrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const CORNER: &str = "true\\pred";
        let digits = |n: u64| n.to_string().len();
        let widest = self.counts.iter().copied().max().unwrap_or(0);
        let last_class = (self.classes - 1) as u64;
        let cell = digits(widest).max(digits(last_class)) + 2;
        let label = CORNER.len().max(digits(last_class));

        write!(f, "{CORNER:>label$}")?;
        for p in 0..self.classes {
            write!(f, "{p:>cell$}")?;
        }
        for t in 0..self.classes {
            write!(f, "\n{t:>label$}")?;
            for n in self.row(t) {
                write!(f, "{n:>cell$}")?;
            }
        }
        Ok(())
    }
}
