//! Which classes distillation helped and which it hurt, read off the test confusion matrices.
//!
//! For a class c, a model's errors on c are the test samples of c it called something else: row c
//! of its confusion matrix less the diagonal. Each student's errors on c are averaged over the
//! seeds that finished, alone and distilled apart (the same runs the table averages), and the
//! change is distilled − alone: below zero, distillation helped on c. A whole-set verdict can hide
//! a class that got much worse behind several that got a little better; this table shows them.

use std::fmt::Write as _;

use kd::metrics::ConfusionMatrix;
use kd::ModelSpec;

use crate::runs::{Role, RunResult};

/// How many classes each of the two lists (helped, hurt) shows at most.
const SHOWN: usize = 3;

/// One class's test errors for one student, alone and distilled, each a mean over runs.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassEffect {
    pub class: usize,
    /// The test samples of the class (the same for every run: one test set).
    pub support: u64,
    pub alone: f64,
    pub distilled: f64,
}

impl ClassEffect {
    /// Distilled − alone, in errors: negative where distillation helped.
    pub fn change(&self) -> f64 {
        self.distilled - self.alone
    }
}

/// Each class's mean errors over the `alone` and the `distilled` matrices (all over the same
/// classes and test set); `None` when either list is empty, since there is nothing to compare.
pub fn class_effects(
    alone: &[&ConfusionMatrix],
    distilled: &[&ConfusionMatrix],
) -> Option<Vec<ClassEffect>> {
    let first = alone.first()?;
    distilled.first()?;
    let mean_errors = |runs: &[&ConfusionMatrix], c: usize| {
        let total: u64 = runs.iter().map(|m| m.support(c) - m.count(c, c)).sum();
        total as f64 / runs.len() as f64
    };
    Some(
        (0..first.classes())
            .map(|class| ClassEffect {
                class,
                support: first.support(class),
                alone: mean_errors(alone, class),
                distilled: mean_errors(distilled, class),
            })
            .collect(),
    )
}

/// The classes distillation helped most (largest drop in errors first) and hurt most (largest
/// rise first), up to `n` each; a class whose errors did not change is in neither. Ties go to the
/// lower class number, so the lists do not depend on the order of a sort.
pub fn largest_changes(
    effects: &[ClassEffect],
    n: usize,
) -> (Vec<&ClassEffect>, Vec<&ClassEffect>) {
    let mut helped: Vec<&ClassEffect> = effects.iter().filter(|e| e.change() < 0.0).collect();
    helped.sort_by(|a, b| {
        a.change()
            .total_cmp(&b.change())
            .then(a.class.cmp(&b.class))
    });
    helped.truncate(n);
    let mut hurt: Vec<&ClassEffect> = effects.iter().filter(|e| e.change() > 0.0).collect();
    hurt.sort_by(|a, b| {
        b.change()
            .total_cmp(&a.change())
            .then(a.class.cmp(&b.class))
    });
    hurt.truncate(n);
    (helped, hurt)
}

/// report.md's section: for each of `students`, a table of the classes whose test errors
/// distillation lowered and raised most, from the finished runs among `runs`; classes are called
/// by `class_names` (one per class).
pub fn section(students: &[ModelSpec], runs: &[RunResult], class_names: &[String]) -> String {
    let mut md = format!(
        "\n## Per class: what distillation changed\n\n\
         Test errors on each class, mean over the seeds that finished, alone and distilled; the \
         classes whose errors distillation lowered and raised most (up to {SHOWN} each).\n"
    );
    for spec in students {
        let matrices = |role: Role| -> Vec<&ConfusionMatrix> {
            runs.iter()
                .filter(|r| r.spec == *spec && r.role == role && r.diverged.is_none())
                .map(|r| &r.confusion)
                .collect()
        };
        let _ = write!(md, "\n### {spec}\n\n");
        let Some(effects) = class_effects(&matrices(Role::Alone), &matrices(Role::Distilled))
        else {
            md.push_str("No finished run to compare, alone or distilled.\n");
            continue;
        };
        md.push_str(&effects_table(&effects, class_names));
    }
    md
}

/// The table of one student's largest changes, or a line saying no class changed.
fn effects_table(effects: &[ClassEffect], class_names: &[String]) -> String {
    let (helped, hurt) = largest_changes(effects, SHOWN);
    if helped.is_empty() && hurt.is_empty() {
        return "Distillation changed no class's mean test errors.\n".to_string();
    }
    let mut md = String::from(
        "| class | test samples | errors alone | errors distilled | change | distillation |\n\
         |---|---:|---:|---:|---:|---|\n",
    );
    for (list, word) in [(helped, "helped"), (hurt, "hurt")] {
        for e in list {
            let _ = writeln!(
                md,
                "| {} | {} | {:.1} | {:.1} | {:+.1} | {word} |",
                class_names[e.class].replace('|', "\\|"),
                e.support,
                e.alone,
                e.distilled,
                e.change()
            );
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A matrix over three classes from its rows, written out (row = true class).
    fn matrix(rows: [[usize; 3]; 3]) -> ConfusionMatrix {
        let (mut predicted, mut labels) = (Vec::new(), Vec::new());
        for (t, row) in rows.iter().enumerate() {
            for (p, &n) in row.iter().enumerate() {
                predicted.extend(std::iter::repeat_n(p, n));
                labels.extend(std::iter::repeat_n(t, n));
            }
        }
        ConfusionMatrix::from_predictions(&predicted, &labels, 3)
    }

    fn names() -> Vec<String> {
        ["low", "mid", "high"].map(String::from).to_vec()
    }

    #[test]
    fn errors_are_averaged_over_runs_and_compared_class_by_class() {
        // Ten samples a class. Alone, two seeds: class 0 has 2 and 4 errors (mean 3), class 1
        // has 1 and 1, class 2 has 0 and 2 (mean 1). Distilled, one seed: 1, 3, 1 errors.
        let alone = [
            matrix([[8, 2, 0], [1, 9, 0], [0, 0, 10]]),
            matrix([[6, 3, 1], [0, 9, 1], [1, 1, 8]]),
        ];
        let distilled = [matrix([[9, 1, 0], [2, 7, 1], [1, 0, 9]])];
        let effects = class_effects(&[&alone[0], &alone[1]], &[&distilled[0]]).unwrap();
        let got: Vec<(u64, f64, f64, f64)> = effects
            .iter()
            .map(|e| (e.support, e.alone, e.distilled, e.change()))
            .collect();
        assert_eq!(
            got,
            [
                (10, 3.0, 1.0, -2.0),
                (10, 1.0, 3.0, 2.0),
                (10, 1.0, 1.0, 0.0)
            ]
        );
        let (helped, hurt) = largest_changes(&effects, 3);
        assert_eq!(helped.iter().map(|e| e.class).collect::<Vec<_>>(), [0]);
        assert_eq!(hurt.iter().map(|e| e.class).collect::<Vec<_>>(), [1]);

        // The table names the classes, says which way each went, and leaves out the unchanged.
        let table = effects_table(&effects, &names());
        assert_eq!(
            table,
            "| class | test samples | errors alone | errors distilled | change | distillation |\n\
             |---|---:|---:|---:|---:|---|\n\
             | low | 10 | 3.0 | 1.0 | -2.0 | helped |\n\
             | mid | 10 | 1.0 | 3.0 | +2.0 | hurt |\n"
        );
    }

    #[test]
    fn the_largest_changes_come_first_and_ties_go_to_the_lower_class() {
        let effect = |class, alone, distilled| ClassEffect {
            class,
            support: 100,
            alone,
            distilled,
        };
        let effects = [
            effect(0, 5.0, 4.0),
            effect(1, 9.0, 3.0),
            effect(2, 5.0, 4.0),
            effect(3, 2.0, 7.0),
            effect(4, 2.0, 2.5),
        ];
        let (helped, hurt) = largest_changes(&effects, 2);
        assert_eq!(helped.iter().map(|e| e.class).collect::<Vec<_>>(), [1, 0]);
        assert_eq!(hurt.iter().map(|e| e.class).collect::<Vec<_>>(), [3, 4]);
    }

    #[test]
    fn nothing_to_compare_and_nothing_changed_are_said_so() {
        let m = matrix([[9, 1, 0], [0, 10, 0], [0, 0, 10]]);
        assert_eq!(class_effects(&[&m], &[]), None);
        assert_eq!(class_effects(&[], &[&m]), None);
        let same = class_effects(&[&m], &[&m]).unwrap();
        assert_eq!(
            effects_table(&same, &names()),
            "Distillation changed no class's mean test errors.\n"
        );
    }
}
