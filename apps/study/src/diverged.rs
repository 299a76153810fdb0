//! Runs that diverged. A diverged run's accuracy is the accuracy of a broken model (NaN outputs
//! give one arbitrary class), not a measurement of the method: it is shown, named, and left out of
//! every mean and of the verdict, on either side of the comparison.

use kd::metrics::MeanStd;
use serde_json::{json, Value};
use tensor::Tensor;

/// How a run diverged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Divergence {
    /// The training loss (or the gradient norm) became non-finite at this epoch and batch
    /// (0-based); training stopped there (`kd::FitOutcome::diverged`).
    Loss { epoch: usize, batch: usize },
    /// Training finished, but the model's outputs on the test set are not all finite.
    Outputs,
}

impl Divergence {
    /// The divergence of a run: where its training stopped (`fit`), else whether `test_logits`
    /// hold a non-finite value.
    pub fn of(fit: Option<(usize, usize)>, test_logits: &Tensor) -> Option<Divergence> {
        match fit {
            Some((epoch, batch)) => Some(Divergence::Loss { epoch, batch }),
            None if test_logits.data().iter().any(|v| !v.is_finite()) => Some(Divergence::Outputs),
            None => None,
        }
    }

    /// For results.json: the cause, and where for a loss (epochs 1-based, as reports count them).
    pub fn json(self) -> Value {
        match self {
            Divergence::Loss { epoch, batch } => {
                json!({"cause": "non-finite loss", "epoch": epoch + 1, "batch": batch})
            }
            Divergence::Outputs => json!({"cause": "non-finite test outputs"}),
        }
    }
}

/// Mean ± std over the values of the runs that finished; `n = 0` (mean and std NaN) when none did,
/// which [`cell`] prints as a dash.
pub fn over_finished(values: &[f64]) -> MeanStd {
    if values.is_empty() {
        MeanStd {
            mean: f64::NAN,
            std: f64::NAN,
            n: 0,
        }
    } else {
        MeanStd::of(values)
    }
}

/// A table cell: `mean ± std` with `decimals` digits, or "—" when no run finished.
pub fn cell(m: &MeanStd, decimals: usize) -> String {
    if m.n == 0 {
        "—".to_string()
    } else {
        m.format(decimals)
    }
}

/// `"seed 2"`, `"seeds 0 and 2"`, `"seeds 0, 1 and 2"`.
pub fn seeds_text(seeds: &[u64]) -> String {
    let list: Vec<String> = seeds.iter().map(u64::to_string).collect();
    match list.as_slice() {
        [] => String::new(),
        [one] => format!("seed {one}"),
        [init @ .., last] => format!("seeds {} and {last}", init.join(", ")),
    }
}

/// What a table's row label adds for its diverged runs: `""`, or `"; seed 2 diverged, left out"`.
pub fn row_note(diverged: &[u64]) -> String {
    if diverged.is_empty() {
        String::new()
    } else {
        format!("; {} diverged, left out", seeds_text(diverged))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divergence_is_the_loss_first_then_the_outputs() {
        let finite = Tensor::from_vec(vec![0.5, -1.0], &[1, 2]).unwrap();
        let nan = Tensor::from_vec(vec![0.5, f32::NAN], &[1, 2]).unwrap();
        let inf = Tensor::from_vec(vec![f32::INFINITY, 0.0], &[1, 2]).unwrap();
        assert_eq!(Divergence::of(None, &finite), None);
        assert_eq!(Divergence::of(None, &nan), Some(Divergence::Outputs));
        assert_eq!(Divergence::of(None, &inf), Some(Divergence::Outputs));
        assert_eq!(
            Divergence::of(Some((3, 7)), &nan),
            Some(Divergence::Loss { epoch: 3, batch: 7 })
        );
        assert_eq!(
            Divergence::Loss { epoch: 3, batch: 7 }.json()["epoch"],
            4,
            "1-based"
        );
    }

    #[test]
    fn seeds_and_cells_read_as_text() {
        assert_eq!(seeds_text(&[2]), "seed 2");
        assert_eq!(seeds_text(&[0, 2]), "seeds 0 and 2");
        assert_eq!(seeds_text(&[0, 1, 2]), "seeds 0, 1 and 2");
        assert_eq!(row_note(&[]), "");
        assert_eq!(row_note(&[1]), "; seed 1 diverged, left out");
        assert_eq!(cell(&over_finished(&[]), 2), "—");
        assert_eq!(cell(&over_finished(&[90.0, 92.0]), 1), "91.0 ± 1.4");
    }
}
