//! The verdict: one plain sentence on what distillation did for a student, judged over the runs
//! that finished (the diverged ones named and left out), "helped" only beyond the noise.

use kd::metrics::MeanStd;

/// One side of the comparison (the student alone, or distilled): the metric over the runs that
/// finished, and the seeds of the runs that diverged (left out of the metric).
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    pub finished: &'a MeanStd,
    pub diverged: &'a [u64],
}

/// Whether distillation clearly helped: no distilled run diverged, both sides have a spread to
/// judge by (at least two finished runs each), and the mean gain is larger than the two standard
/// deviations combined.
pub fn helped(alone: Side, distilled: Side) -> bool {
    let (a, d) = (alone.finished, distilled.finished);
    distilled.diverged.is_empty() && a.n >= 2 && d.n >= 2 && d.mean - a.mean > a.std + d.std
}

/// One plain sentence on what distillation did for a student: `metric` (e.g. "test accuracy",
/// "macro-F1") in points, mean ± std over the runs that finished, alone and distilled. "Helped"
/// only as [`helped`] says; one finished run on a side is said to be too few to judge; then each
/// side's diverged runs are named as left out.
pub fn verdict(student: &str, metric: &str, alone: Side, distilled: Side) -> String {
    let (a, d) = (alone.finished, distilled.finished);
    let gain = d.mean - a.mean;
    let noise = a.std + d.std;
    let numbers = format!("({} → {})", a.format(2), d.format(2));
    let what = if a.n == 0 || d.n == 0 {
        let side = match (a.n, d.n) {
            (0, 0) => "alone or distilled",
            (0, _) => "alone",
            _ => "distilled",
        };
        format!("nothing to compare: no run {side} finished")
    } else if a.n < 2 || d.n < 2 {
        format!(
            "{gain:+.2} points of {metric} {numbers}, with one finished run on a side: no spread \
             to judge by (use at least 2 seeds)"
        )
    } else if helped(alone, distilled) {
        format!(
            "distillation helped: {gain:+.2} points of {metric} {numbers}, more than the two \
             standard deviations combined ({noise:.2})"
        )
    } else if gain > noise {
        format!(
            "{gain:+.2} points of {metric} {numbers} over the runs that finished, more than the \
             two standard deviations combined ({noise:.2}), but not called a help while a \
             distilled run diverged"
        )
    } else if gain > 0.0 {
        format!(
            "distillation did not clearly help: {gain:+.2} points of {metric} {numbers}, within \
             the two standard deviations combined ({noise:.2})"
        )
    } else {
        format!("distillation did not help: {gain:+.2} points of {metric} {numbers}")
    };
    let mut line = format!("- **{student}**: {what}.");
    for (side, role) in [(alone, "alone"), (distilled, "distilled")] {
        let (runs, verb) = match side.diverged.len() {
            0 => continue,
            1 => ("run", "is"),
            _ => ("runs", "are"),
        };
        let seeds = crate::diverged::seeds_text(side.diverged);
        line.push_str(&format!(
            " The {role} {runs} of {seeds} diverged (non-finite loss or outputs) and {verb} left \
             out."
        ));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: &[u64] = &[];

    fn side<'a>(finished: &'a MeanStd, diverged: &'a [u64]) -> Side<'a> {
        Side { finished, diverged }
    }

    #[test]
    fn verdict_says_helped_only_beyond_both_stds() {
        let m = |mean, std| MeanStd { mean, std, n: 5 };
        let v = |a: MeanStd, d: MeanStd| verdict("s", "macro-F1", side(&a, NONE), side(&d, NONE));
        // Gains by hand: 3.0 > 1.0 + 1.0; 1.5 < 2.0; −1.0.
        assert!(v(m(80.0, 1.0), m(83.0, 1.0)).contains("helped: +3.00"));
        assert!(v(m(80.0, 1.0), m(81.5, 1.0)).contains("did not clearly help"));
        assert!(v(m(80.0, 1.0), m(79.0, 1.0)).contains("did not help: -1.00"));
    }

    /// A diverged run on either side is named, left out, and does not move the numbers: the
    /// verdict is over the runs that finished (the summaries' `MeanStd` holds only those).
    #[test]
    fn diverged_runs_on_either_side_are_named_and_left_out() {
        let finished = |mean, n| MeanStd { mean, std: 1.0, n };
        // The student alone: seed 2 of 3 diverged; the two finished alone runs average 80.
        let alone = finished(80.0, 2);
        let distilled = finished(83.0, 3);
        let v = verdict("s", "accuracy", side(&alone, &[2]), side(&distilled, NONE));
        assert!(v.contains("The alone run of seed 2 diverged"), "{v}");
        assert!(v.contains("and is left out"), "{v}");
        assert!(v.contains("(80.00 ± 1.00 → 83.00 ± 1.00)"), "{v}");
        // A diverged baseline does not stop a clear gain from being called one.
        assert!(v.contains("distillation helped: +3.00"), "{v}");

        // Distilled: seeds 0 and 1 of 4 diverged. The finished runs gain 3 points, but a method
        // that made runs diverge is not called a help.
        let alone = finished(80.0, 4);
        let distilled = finished(83.0, 2);
        let v = verdict(
            "s",
            "accuracy",
            side(&alone, NONE),
            side(&distilled, &[0, 1]),
        );
        assert!(
            v.contains("The distilled runs of seeds 0 and 1 diverged"),
            "{v}"
        );
        assert!(v.contains("and are left out"), "{v}");
        assert!(!v.contains("distillation helped"), "{v}");
        assert!(
            v.contains("not called a help while a distilled run diverged"),
            "{v}"
        );
        assert!(!helped(side(&alone, NONE), side(&distilled, &[0, 1])));

        // Every run of one side diverged: nothing to compare, and no NaN in the sentence.
        let none = crate::diverged::over_finished(&[]);
        let v = verdict("s", "accuracy", side(&alone, NONE), side(&none, &[0, 1]));
        assert!(
            v.contains("nothing to compare: no run distilled finished"),
            "{v}"
        );
        assert!(!v.contains("NaN"), "{v}");
    }

    /// With one seed there is no spread (`MeanStd` gives std 0 for n = 1), so "more than the two
    /// standard deviations combined (0.00)" would be true of any gain, even 0.01 points: one run
    /// must not be called evidence that distillation helped.
    #[test]
    fn one_seed_is_not_called_a_clear_help() {
        let one = |mean| MeanStd {
            mean,
            std: 0.0,
            n: 1,
        };
        let (a, d) = (one(80.00), one(80.01));
        let v = verdict("s", "macro-F1", side(&a, NONE), side(&d, NONE));
        assert!(!v.contains("distillation helped"), "{v}");
        assert!(v.contains("no spread to judge by"), "{v}");
        let (a, d) = (one(80.0), one(90.0));
        assert!(!helped(side(&a, NONE), side(&d, NONE)));
    }
}
