//! Transfer sets that lack classes: Hinton et al.'s evidence that soft targets carry knowledge the
//! transfer set does not show.
//!
//! The teacher learnt from every digit. The students learn from a *transfer set* that has no
//! example of some classes: all the training images but the 3s (`omit`), or only the 7s and 8s
//! (`only`). A student alone can never name a class it has not seen. A distilled student sees the
//! teacher's soft targets on the images it has, and those say how much each image looks like
//! every class, the absent ones included — so it learns the absent classes from the dark
//! knowledge alone. Its absent classes come out too rarely (the teacher never gave them most of
//! its mass on this set), which a shift of their output biases corrects (bias.rs), chosen on the
//! validation split.
//!
//! The paper's figures (section 3), beside ours, are in docs/dark_knowledge.md: without 3s the
//! distilled net still recognises most threes, more once the 3's bias is raised; with 7s and 8s
//! only, it errs often until the biases of 7 and 8 are lowered.

use std::fmt::Write as _;

use kd::metrics::MeanStd;
use kd::{predict_logits, predicted_classes, ModelSpec};
use nn::data::Dataset;
use nn::Sequential;
use serde_json::{json, Value};
use study::output::{markdown_table, write_atomic};
use tensor::Tensor;

use crate::bias::{choose_shift, shift_grid, shift_output_bias};
use crate::lab::{Lab, SEEDS};

/// The students unless `--student` says otherwise: the paper's and `mnist_kd`'s default.
const STUDENTS: [&str; 2] = ["mlp:800,800", "mlp:100,100"];
const EPOCHS: usize = 10;
/// The temperature unless `--temperature` says otherwise: of `mnist_kd`'s T = 2 and the paper's
/// T = 20, the one with fewer validation errors for the paper's student (docs/dark_knowledge.md
/// gives both runs).
const TEMPERATURE: f32 = 20.0;
/// The bias shifts tried on the validation split: 0 to 30 in steps of 0.1 (the paper's are 3.5
/// and 7.6).
const SHIFT_MAX: f32 = 30.0;
const SHIFT_STEP: f32 = 0.1;

/// Which classes the transfer set lacks, and how the experiment is named.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The classes with no example in the transfer set: the ones whose biases are raised.
    pub absent: Vec<usize>,
    /// The classes the transfer set has.
    pub present: Vec<usize>,
    /// `omit` (one class left out) or `only` (a few kept).
    omitted: bool,
}

impl Plan {
    /// Every class but `class`.
    pub fn omit(class: usize, classes: usize) -> Result<Plan, String> {
        if class >= classes {
            return Err(format!(
                "--class must be a class below {classes}, found {class}"
            ));
        }
        Ok(Plan {
            absent: vec![class],
            present: (0..classes).filter(|&c| c != class).collect(),
            omitted: true,
        })
    }

    /// Only the classes `keep`.
    pub fn only(keep: &[usize], classes: usize) -> Result<Plan, String> {
        let mut present = keep.to_vec();
        present.sort_unstable();
        present.dedup();
        if present.len() != keep.len() {
            let twice = keep
                .iter()
                .find(|c| keep.iter().filter(|k| k == c).count() > 1)
                .expect("a repeat");
            return Err(format!(
                "--classes must list each class once, found {twice} twice"
            ));
        }
        if let Some(&c) = present.iter().find(|&&c| c >= classes) {
            return Err(format!(
                "--classes must be classes below {classes}, found {c}"
            ));
        }
        if present.is_empty() || present.len() == classes {
            return Err(format!(
                "--classes must name between 1 and {} classes, so that some are absent, found {}",
                classes - 1,
                present.len()
            ));
        }
        Ok(Plan {
            absent: (0..classes).filter(|c| !present.contains(c)).collect(),
            present,
            omitted: false,
        })
    }

    /// "omit-3", "only-7-8": the report's file name.
    pub fn file_stem(&self) -> String {
        let (word, classes) = if self.omitted {
            ("omit", &self.absent)
        } else {
            ("only", &self.present)
        };
        let numbers: Vec<String> = classes.iter().map(|c| c.to_string()).collect();
        format!("{word}-{}", numbers.join("-"))
    }

    /// The classes the report names: the omitted one, or the kept ones.
    fn named(&self) -> String {
        let classes = if self.omitted {
            &self.absent
        } else {
            &self.present
        };
        let names: Vec<String> = classes.iter().map(|c| c.to_string()).collect();
        names.join(" and ")
    }

    /// The training images whose class the transfer set has, labels unchanged.
    pub fn transfer_set(&self, train: &Dataset) -> Dataset {
        let kept: Vec<usize> = (0..train.len())
            .filter(|&i| !self.absent.contains(&train.labels[i]))
            .collect();
        train.subset(&kept)
    }
}

/// One student's results on the test set, before and after its bias shift.
#[derive(Debug, Clone, Copy)]
struct Scored {
    errors: usize,
    /// Errors on the test images of the absent classes.
    absent_errors: usize,
    /// The shift of the absent classes' biases, chosen on the validation split.
    shift: f32,
    shifted_errors: usize,
    shifted_absent_errors: usize,
    /// Errors on the validation split with the shift: what a setting (a temperature, a student)
    /// is compared by, since the test set chooses nothing.
    shifted_validation_errors: usize,
}

/// Test errors of `model`, overall and on the images whose label is in `classes`.
fn test_errors(model: &mut Sequential, test: &Dataset, classes: &[usize]) -> (usize, usize) {
    let logits = predict_logits(model, test, 1000);
    let predicted = predicted_classes(&logits, false);
    let wrong = |i: &usize| predicted[*i] != test.labels[*i];
    let all = (0..test.len()).filter(wrong).count();
    let on = (0..test.len())
        .filter(|&i| classes.contains(&test.labels[i]))
        .filter(wrong)
        .count();
    (all, on)
}

/// Scores `model`, chooses its shift on the validation split, applies it to the model's bias and
/// scores it again.
fn score(model: &mut Sequential, lab: &Lab, plan: &Plan) -> Result<Scored, String> {
    let (errors, absent_errors) = test_errors(model, &lab.splits.test, &plan.absent);
    let validation: Tensor = predict_logits(model, &lab.splits.validation, 1000);
    let grid = shift_grid(SHIFT_MAX, SHIFT_STEP);
    let (shift, shifted_validation_errors) = choose_shift(
        &validation,
        &lab.splits.validation.labels,
        &plan.absent,
        &grid,
    );
    shift_output_bias(model, lab.splits.outputs(), &plan.absent, shift)?;
    let (shifted_errors, shifted_absent_errors) =
        test_errors(model, &lab.splits.test, &plan.absent);
    Ok(Scored {
        errors,
        absent_errors,
        shift,
        shifted_errors,
        shifted_absent_errors,
        shifted_validation_errors,
    })
}

/// The experiment: for each student and seed, the student alone and distilled on the transfer
/// set, each scored before and after its bias shift; the report.
pub fn run(lab: &mut Lab, plan: &Plan, command: &str) -> Result<(), String> {
    let students = lab.flags.students(&STUDENTS)?;
    let epochs = lab.flags.epochs.unwrap_or(EPOCHS);
    let weights = lab.flags.weights(TEMPERATURE);
    let transfer = plan.transfer_set(&lab.splits.train);
    if transfer.is_empty() {
        return Err(format!(
            "the transfer set is empty: the training split has no image of {}",
            plan.named()
        ));
    }
    eprintln!(
        "Transfer set: {} of the {} training images (no image of {:?}).",
        transfer.len(),
        lab.splits.train.len(),
        plan.absent
    );
    if transfer.len() < lab.flags.batch_size {
        return Err(format!(
            "--batch-size must be at most the transfer set's size, {} images of {}, found {}",
            transfer.len(),
            plan.named(),
            lab.flags.batch_size
        ));
    }
    let transfer_counts = transfer.class_counts();
    let splits = lab.with_train(transfer);
    let mut rows = Vec::new();
    for spec in &students {
        let mut alone = Vec::new();
        let mut distilled = Vec::new();
        for seed in 0..lab.flags.seeds(SEEDS) as u64 {
            let (mut model, _) = lab.student(spec, seed, Some(&splits), epochs, None)?;
            alone.push(score(&mut model, lab, plan)?);
            let (mut model, _) = lab.student(spec, seed, Some(&splits), epochs, Some(weights))?;
            distilled.push(score(&mut model, lab, plan)?);
        }
        rows.push((spec.clone(), "alone", alone));
        rows.push((spec.clone(), "distilled", distilled));
    }
    let report = Report {
        lab,
        plan,
        rows: &rows,
        transfer_len: splits.train.len(),
        transfer_counts,
        epochs,
        command,
    };
    let markdown = report.markdown();
    let stem = plan.file_stem();
    let out = &lab.flags.out;
    write_atomic(&out.join(format!("{stem}.md")), &markdown)?;
    let json = serde_json::to_string_pretty(&report.json()).expect("JSON of plain values");
    write_atomic(&out.join(format!("{stem}.json")), &json)?;
    println!(
        "{markdown}\nWritten to {}: {stem}.md, {stem}.json.",
        out.display()
    );
    Ok(())
}

struct Report<'a> {
    lab: &'a Lab,
    plan: &'a Plan,
    rows: &'a [(ModelSpec, &'static str, Vec<Scored>)],
    transfer_len: usize,
    /// Images of each class in the transfer set.
    transfer_counts: Vec<usize>,
    epochs: usize,
    command: &'a str,
}

fn mean_std(runs: &[Scored], f: impl Fn(&Scored) -> f64) -> MeanStd {
    MeanStd::of(&runs.iter().map(f).collect::<Vec<_>>())
}

impl Report<'_> {
    fn markdown(&self) -> String {
        let (lab, plan) = (self.lab, self.plan);
        let test = &lab.splits.test;
        let absent_test = test
            .labels
            .iter()
            .filter(|l| plan.absent.contains(l))
            .count();
        let absent_names: Vec<String> = plan.absent.iter().map(|c| c.to_string()).collect();
        let absent = absent_names.join(", ");
        // A long list of classes would make the table's headers unreadable.
        let absent_short = if plan.absent.len() > 2 {
            "the absent classes".to_string()
        } else {
            absent.clone()
        };
        let w = lab.flags.weights(TEMPERATURE);
        let title = if plan.omitted {
            format!(
                "# The omitted class: a transfer set without any {}",
                plan.named()
            )
        } else {
            format!("# A transfer set of only {}", plan.named())
        };
        let mut s = format!("{title}\n\n```\n{}\n```\n\n", self.command);
        let teacher_absent = lab
            .teacher_outcome
            .predictions
            .iter()
            .zip(&test.labels)
            .filter(|(p, l)| plan.absent.contains(l) && p != l)
            .count();
        let _ = writeln!(
            s,
            "- Teacher {} (learnt from every class): {} test errors, {teacher_absent} of them on \
             the {absent_test} test images of {absent}.",
            lab.teacher_spec,
            lab.teacher_outcome.result.confusion.errors()
        );
        let _ = writeln!(
            s,
            "- Transfer set: the {} training images of {} (of {}); the students never see an \
             image of {absent}.",
            self.transfer_len,
            lab.splits.name,
            lab.splits.train.len()
        );
        let _ = writeln!(
            s,
            "- Students: Adam 10⁻³ for {} epochs in batches of {}, seeds 0 to {} (one \
             initialisation per seed, shared alone and distilled); distilled at T = {}, soft \
             weight {}, hard weight {}.",
            self.epochs,
            lab.flags.batch_size,
            lab.flags.seeds(SEEDS) - 1,
            w.temperature,
            w.soft_weight,
            w.hard_weight
        );
        let _ = writeln!(
            s,
            "- The bias shift raises the output biases of {absent} (the same as lowering every \
             other class's): the shift of 0 to {SHIFT_MAX} in steps of {SHIFT_STEP} with the \
             fewest errors on the {} validation images, which hold every class; then the test \
             set is scored once.\n",
            lab.splits.validation.len()
        );
        let on = format!("errors on {absent_short} (of {absent_test})");
        let on_after = format!("errors on {absent_short} after");
        let headers = [
            "student",
            "test errors",
            &on,
            "bias shift (validation)",
            "test errors after the shift",
            &on_after,
            "test error after",
            "validation errors after",
        ];
        let n = test.len() as f64;
        let table: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|(spec, role, runs)| {
                vec![
                    format!("{spec} {role}"),
                    mean_std(runs, |r| r.errors as f64).format(1),
                    mean_std(runs, |r| r.absent_errors as f64).format(1),
                    mean_std(runs, |r| r.shift as f64).format(1),
                    mean_std(runs, |r| r.shifted_errors as f64).format(1),
                    mean_std(runs, |r| r.shifted_absent_errors as f64).format(1),
                    format!(
                        "{} %",
                        mean_std(runs, |r| 100.0 * r.shifted_errors as f64 / n).format(2)
                    ),
                    mean_std(runs, |r| r.shifted_validation_errors as f64).format(1),
                ]
            })
            .collect();
        s.push_str(&markdown_table(&headers, &table));
        let _ = writeln!(
            s,
            "\nMean ± std over the seeds. The last column is what settings are compared by: \
             errors on the {} validation images with each model's shift.",
            lab.splits.validation.len()
        );
        s.push_str(&self.beside_the_paper());
        s
    }

    /// The paper's figures beside those of our paper-sized student (784-800-800-10), when the
    /// experiment is one of the paper's.
    fn beside_the_paper(&self) -> String {
        let distilled = self
            .rows
            .iter()
            .find(|(spec, role, _)| spec.to_string() == "mlp:800,800" && *role == "distilled");
        let Some((_, _, runs)) = distilled else {
            return String::new();
        };
        let n = self.lab.splits.test.len() as f64;
        let errors = |f: &dyn Fn(&Scored) -> f64| mean_std(runs, f).format(1);
        let percent = |f: &dyn Fn(&Scored) -> f64| {
            format!("{} %", mean_std(runs, |r| 100.0 * f(r) / n).format(1))
        };
        let shift = mean_std(runs, |r| r.shift as f64).format(1);
        let mut s = String::from(
            "\n## Beside the paper\n\nHinton et al. (2015), section 3: the 784-800-800-10 net \
             distilled from their 784-1200-1200-10 teacher at T = 20, trained to convergence; \
             ours: mlp:800,800 distilled as above.\n\n",
        );
        let rows: Vec<Vec<String>> = if self.plan.omitted && self.plan.absent == [3] {
            vec![
                vec![
                    "test errors".into(),
                    errors(&|r| r.errors as f64),
                    "206".into(),
                ],
                vec![
                    "errors on 3s".into(),
                    errors(&|r| r.absent_errors as f64),
                    "133".into(),
                ],
                vec!["3's bias raised by".into(), shift, "3.5".into()],
                vec![
                    "test errors after".into(),
                    errors(&|r| r.shifted_errors as f64),
                    "109".into(),
                ],
                vec![
                    "errors on 3s after".into(),
                    errors(&|r| r.shifted_absent_errors as f64),
                    "14".into(),
                ],
            ]
        } else if self.plan.present == [7, 8] {
            vec![
                vec![
                    "test error".into(),
                    percent(&|r| r.errors as f64),
                    "47.3 %".into(),
                ],
                vec![
                    "biases of 7 and 8 lowered by (ours: the others raised)".into(),
                    shift,
                    "7.6".into(),
                ],
                vec![
                    "test error after".into(),
                    percent(&|r| r.shifted_errors as f64),
                    "13.2 %".into(),
                ],
            ]
        } else {
            return String::new();
        };
        s.push_str(&markdown_table(&["", "ours", "the paper"], &rows));
        s
    }

    fn json(&self) -> Value {
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|(spec, role, runs)| {
                let seeds: Vec<Value> = runs
                    .iter()
                    .enumerate()
                    .map(|(seed, r)| {
                        json!({
                            "seed": seed,
                            "test_errors": r.errors,
                            "absent_test_errors": r.absent_errors,
                            "shift": study::typed(r.shift),
                            "shifted_test_errors": r.shifted_errors,
                            "shifted_absent_test_errors": r.shifted_absent_errors,
                            "shifted_validation_errors": r.shifted_validation_errors,
                        })
                    })
                    .collect();
                json!({ "student": spec.to_string(), "role": role, "runs": seeds })
            })
            .collect();
        let w = self.lab.flags.weights(TEMPERATURE);
        json!({
            "command": self.command,
            "absent": self.plan.absent,
            "present": self.plan.present,
            "transfer_set": self.transfer_len,
            "transfer_set_per_class": self.transfer_counts,
            "training_split_per_class": self.lab.splits.train.class_counts(),
            "test_images": self.lab.splits.test.len(),
            "teacher": {
                "spec": self.lab.teacher_spec.to_string(),
                "test_errors": self.lab.teacher_outcome.result.confusion.errors(),
            },
            "epochs": self.epochs,
            "temperature": study::typed(w.temperature),
            "soft_weight": study::typed(w.soft_weight),
            "hard_weight": study::typed(w.hard_weight),
            "students": rows,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits() -> Dataset {
        let labels: Vec<usize> = (0..40).map(|i| i % 10).collect();
        let inputs = (0..40).map(|i| i as f32).collect();
        Dataset::new(inputs, vec![1], labels, 10)
    }

    #[test]
    fn the_omitted_class_is_absent_from_the_transfer_set_and_nothing_else_is() {
        let plan = Plan::omit(3, 10).unwrap();
        let set = plan.transfer_set(&digits());
        assert_eq!(set.len(), 36);
        assert!(!set.labels.contains(&3));
        // Labels unchanged: each sample still carries its own class (input i has label i % 10).
        for (x, &l) in set.inputs.iter().zip(&set.labels) {
            assert_eq!(*x as usize % 10, l);
        }
        assert_eq!(plan.file_stem(), "omit-3");
    }

    #[test]
    fn a_transfer_set_of_two_classes_holds_only_them() {
        let plan = Plan::only(&[8, 7], 10).unwrap();
        assert_eq!(plan.absent, vec![0, 1, 2, 3, 4, 5, 6, 9]);
        let set = plan.transfer_set(&digits());
        assert_eq!(set.class_counts(), vec![0, 0, 0, 0, 0, 0, 0, 4, 4, 0]);
        assert_eq!(plan.file_stem(), "only-7-8");
    }

    #[test]
    fn impossible_transfer_sets_are_refused() {
        assert!(Plan::omit(10, 10).unwrap_err().contains("below 10"));
        assert!(Plan::only(&[7, 3, 7], 10)
            .unwrap_err()
            .ends_with("found 7 twice"));
        assert!(Plan::only(&[], 10).unwrap_err().contains("between 1 and 9"));
        let all: Vec<usize> = (0..10).collect();
        assert!(Plan::only(&all, 10).unwrap_err().contains("found 10"));
    }
}
