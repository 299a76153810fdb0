//! A tree as the student on MNIST: trees of a few thousand leaves on the pixels, grown on the
//! labels or on the soft targets of `mnist_kd`'s CNN teacher, at equal leaf counts; then the
//! teacher as a labeller of extra inputs.
//!
//! A label says which digit an image is; the teacher's probabilities also say how much it looks
//! like the others, so a regression tree on them is told more per image than a classification
//! tree on the labels. And the teacher can label images nobody labelled: here, shifted copies of
//! the training images (each moved by up to two pixels on each axis, as the teacher's own
//! training moved them), labelled with the teacher's probabilities and added to what the tree is
//! grown on.
//!
//! Per seed: a seeded draw of a share of the training split (what the trees see); a tree on its
//! labels (Gini), one per candidate temperature on the teacher's probabilities (squared error),
//! and one per candidate on those plus the shifted copies. One fit per tree, grown to the largest
//! size, gives every smaller size (`Tree::with_leaves`); the temperature is chosen on the
//! validation split per seed, size and kind.

use std::fmt::Write as _;

use kd::metrics::MeanStd;
use nn::data::augment::shift_2d;
use nn::data::Dataset;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{json, Value};
use study::output::{markdown_table, write_atomic};
use study::verdict::{verdict, Side};
use tensor::Tensor;

use crate::lab::Lab;
use crate::tree_fit::{compare, features, hard_tree, soft_tree, Pair};

/// The candidates for the soft targets' temperature, in the order preferred among equals.
pub const TEMPERATURES: [f32; 3] = [1.0, 2.0, 4.0];
/// The tree sizes compared.
pub const LEAVES: [usize; 3] = [256, 1024, 4096];
/// The largest shift of an extra input, in pixels on each axis.
const SHIFT: i32 = 2;
/// Seeds the draw of each seed's share and of the shifts: constants of their own, so that neither
/// is tied to the validation split's draw or a network's initialisation.
const SHARE_SEED: u64 = 0x7ee5;
const SHIFT_SEED: u64 = 0x5417;

/// One seed's comparison at each size of [`LEAVES`]: soft targets against hard labels, and soft
/// targets on the training images plus their shifted copies against hard labels.
struct SeedRun {
    soft: Vec<Pair>,
    extra: Vec<Pair>,
}

/// `count` indices of `0..n` drawn uniformly from `seed`, in increasing order.
pub fn draw(n: usize, count: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = StdRng::seed_from_u64(seed);
    for k in 0..count.min(n) {
        let j = rng.random_range(k..n);
        order.swap(k, j);
    }
    let mut chosen = order[..count.min(n)].to_vec();
    chosen.sort_unstable();
    chosen
}

/// Each image of `data` (`[1, H, W]` or `[H, W]`) moved by a shift drawn from `seed`, up to
/// [`SHIFT`] pixels on each axis and never none; vacated pixels take the image's smallest value
/// (its background).
pub fn shifted_copies(data: &Dataset, seed: u64) -> Result<Dataset, String> {
    let (height, width) = match data.sample_shape[..] {
        [h, w] | [1, h, w] => (h, w),
        ref other => {
            return Err(format!(
                "shifted copies need one-channel images, found samples shaped {other:?}"
            ))
        }
    };
    let mut rng = StdRng::seed_from_u64(seed);
    let mut inputs = vec![0.0; data.inputs.len()];
    for (src, dst) in data
        .inputs
        .chunks_exact(height * width)
        .zip(inputs.chunks_exact_mut(height * width))
    {
        let (dy, dx) = loop {
            let d = (
                rng.random_range(-SHIFT..=SHIFT),
                rng.random_range(-SHIFT..=SHIFT),
            );
            if d != (0, 0) {
                break d;
            }
        };
        let background = src.iter().copied().fold(f32::INFINITY, f32::min);
        let offset = (dy as isize, dx as isize);
        shift_2d(src, dst, [1, height, width], offset, background);
    }
    Ok(Dataset::new(
        inputs,
        data.sample_shape.clone(),
        data.labels.clone(),
        data.classes,
    ))
}

/// `a` then `b`, as one data set.
fn joined(a: &Dataset, b: &Dataset) -> Dataset {
    let mut inputs = a.inputs.clone();
    inputs.extend_from_slice(&b.inputs);
    let mut labels = a.labels.clone();
    labels.extend_from_slice(&b.labels);
    Dataset::new(inputs, a.sample_shape.clone(), labels, a.classes)
}

/// The experiment: `seeds` draws of `share` of the training split.
pub fn run(lab: &mut Lab, share: f64, seeds: usize, command: &str) -> Result<(), String> {
    let temperatures: Vec<f32> = match lab.flags.temperature {
        Some(t) => vec![t],
        None => TEMPERATURES.to_vec(),
    };
    let batch = 1000;
    eprintln!("The teacher's logits on the training split and on its shifted copies…");
    let train = lab.splits.train.clone();
    let shifted = shifted_copies(&train, SHIFT_SEED)?;
    let logits = lab.teacher.logits_for(&train, batch, 1.0);
    let shifted_logits = lab.teacher.logits_for(&shifted, batch, 1.0);
    let count = ((train.len() as f64 * share).round() as usize).clamp(1, train.len());
    let largest = *LEAVES.iter().max().expect("sizes");
    let mut runs = Vec::new();
    for seed in 0..seeds as u64 {
        let rows = draw(train.len(), count, SHARE_SEED + seed);
        let seen = train.subset(&rows);
        let seen_logits = logits.gather_rows(&rows);
        let x = features(&seen)?;
        eprintln!("seed {seed}: trees on {count} images…");
        let hard = hard_tree(&x, &seen, Some(largest))?;
        let soft = temperatures
            .iter()
            .map(|&t| soft_tree(&x, &seen_logits, t, Some(largest)))
            .collect::<Result<Vec<_>, _>>()?;
        drop(x);
        let with_copies = joined(&seen, &shifted.subset(&rows));
        let copies_logits = Tensor::concat(&[&seen_logits, &shifted_logits.gather_rows(&rows)], 0);
        let x = features(&with_copies)?;
        eprintln!("seed {seed}: trees on them and their {count} shifted copies…");
        let extra = temperatures
            .iter()
            .map(|&t| soft_tree(&x, &copies_logits, t, Some(largest)))
            .collect::<Result<Vec<_>, _>>()?;
        drop(x);
        let (validation, test) = (&lab.splits.validation, &lab.splits.test);
        let mut run = SeedRun {
            soft: Vec::new(),
            extra: Vec::new(),
        };
        for &leaves in &LEAVES {
            let size = Some(leaves);
            run.soft.push(compare(
                &hard,
                &soft,
                &temperatures,
                size,
                validation,
                test,
            )?);
            run.extra.push(compare(
                &hard,
                &extra,
                &temperatures,
                size,
                validation,
                test,
            )?);
        }
        eprintln!(
            "seed {seed}, {largest} leaves: hard labels {:.2} %, soft targets {:.2} %, with the \
             shifted copies {:.2} %",
            run.soft[LEAVES.len() - 1].hard_test,
            run.soft[LEAVES.len() - 1].soft_test,
            run.extra[LEAVES.len() - 1].soft_test
        );
        runs.push(run);
    }
    report(lab, &runs, count, &temperatures, command)
}

fn report(
    lab: &Lab,
    runs: &[SeedRun],
    count: usize,
    temperatures: &[f32],
    command: &str,
) -> Result<(), String> {
    let stat = |f: &dyn Fn(&SeedRun) -> f64| MeanStd::of(&runs.iter().map(f).collect::<Vec<_>>());
    let teacher_test = 100.0 * lab.teacher_outcome.result.test[0];
    let mut rows = vec![vec![
        format!("teacher {}", lab.teacher_spec),
        "–".into(),
        "–".into(),
        format!("{teacher_test:.2}"),
    ]];
    let mut verdicts = String::new();
    fn side(finished: &MeanStd) -> Side<'_> {
        Side {
            finished,
            diverged: &[],
        }
    }
    for (i, leaves) in LEAVES.iter().enumerate() {
        let chosen = |f: &dyn Fn(&SeedRun) -> &Pair| {
            runs.iter()
                .map(|r| f(r).temperature.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let hard = stat(&|r| r.soft[i].hard_test);
        let soft = stat(&|r| r.soft[i].soft_test);
        let extra = stat(&|r| r.extra[i].soft_test);
        let leaves_of = |f: &dyn Fn(&SeedRun) -> usize| stat(&|r| f(r) as f64).format(0);
        rows.push(vec![
            format!("tree on the labels, up to {leaves} leaves"),
            leaves_of(&|r| r.soft[i].hard_leaves),
            "–".into(),
            hard.format(2),
        ]);
        rows.push(vec![
            "tree on the teacher's soft targets".into(),
            leaves_of(&|r| r.soft[i].soft_leaves),
            chosen(&|r| &r.soft[i]),
            soft.format(2),
        ]);
        rows.push(vec![
            "tree on soft targets, with shifted copies".into(),
            leaves_of(&|r| r.extra[i].soft_leaves),
            chosen(&|r| &r.extra[i]),
            extra.format(2),
        ]);
        let name = format!("tree of up to {leaves} leaves");
        let _ = writeln!(
            verdicts,
            "{}",
            verdict(&name, "test accuracy", side(&hard), side(&soft))
        );
        let _ = writeln!(
            verdicts,
            "{}",
            verdict(
                &format!("{name}, with the teacher-labelled shifted copies"),
                "test accuracy",
                side(&hard),
                side(&extra)
            )
        );
    }
    let train = lab.splits.train.len();
    let mut s = format!(
        "# A tree as the student: MNIST\n\n```\n{command}\n```\n\n\
         - Per seed, the trees see {count} images ({:.0} % of the {train} training images of \
         {}, a seeded draw per seed); the teacher ({}, test accuracy {teacher_test:.2} %) was \
         trained on all {train}.\n\
         - Tree on the labels: Gini. Trees on soft targets: the teacher's probabilities at T \
         (from {temperatures:?}, chosen on the {} validation images per seed, size and kind), \
         squared error. With shifted copies: the same images plus a copy of each moved by up to \
         {SHIFT} pixels on each axis, labelled by the teacher alone.\n\
         - Grown best-first; each soft tree cut to its hard rival's leaf count (a tree on the \
         labels stops short of a size once every leaf is pure). {} seeds; mean ± std over them.\n\n",
        100.0 * count as f64 / train as f64,
        lab.splits.name,
        lab.teacher_spec,
        lab.splits.validation.len(),
        runs.len()
    );
    s.push_str(&markdown_table(
        &["model", "leaves", "T chosen per seed", "test accuracy (%)"],
        &rows,
    ));
    s.push_str("\n## Verdict (each against the tree on the labels of the same size)\n\n");
    s.push_str(&verdicts);
    let out = &lab.flags.out;
    write_atomic(&out.join("tree_mnist.md"), &s)?;
    let pair_json = |p: &Pair| {
        json!({
            "hard_leaves": p.hard_leaves,
            "soft_leaves": p.soft_leaves,
            "hard_test_accuracy": p.hard_test,
            "soft_test_accuracy": p.soft_test,
            "temperature": study::typed(p.temperature),
        })
    };
    let seeds: Vec<Value> = runs
        .iter()
        .enumerate()
        .map(|(seed, r)| {
            json!({
                "seed": seed,
                "leaves": LEAVES,
                "soft": r.soft.iter().map(pair_json).collect::<Vec<_>>(),
                "with_shifted_copies": r.extra.iter().map(pair_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    let json = json!({
        "command": command,
        "teacher": lab.teacher_spec.to_string(),
        "teacher_test_accuracy": teacher_test,
        "images_per_seed": count,
        "seeds": seeds,
    });
    write_atomic(
        &out.join("tree_mnist.json"),
        &serde_json::to_string_pretty(&json).expect("JSON of plain values"),
    )?;
    println!(
        "{s}\nWritten to {}: tree_mnist.md, tree_mnist.json.",
        out.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draw_is_sorted_distinct_and_seeded() {
        let a = draw(100, 30, 5);
        assert_eq!(a.len(), 30);
        assert!(a.windows(2).all(|w| w[0] < w[1]) && a[29] < 100);
        assert_eq!(a, draw(100, 30, 5));
        assert_ne!(a, draw(100, 30, 6));
        assert_eq!(draw(10, 10, 1), (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn a_shifted_copy_moves_every_image_and_fills_with_its_background() {
        // Two 4 × 4 images with one bright pixel each, on backgrounds of −1 and 0.
        let mut inputs = vec![-1.0; 16];
        inputs.extend([0.0; 16]);
        inputs[5] = 1.0;
        inputs[16 + 10] = 1.0;
        let data = Dataset::new(inputs, vec![1, 4, 4], vec![0, 1], 2);
        let copies = shifted_copies(&data, 3).unwrap();
        assert_eq!(copies.labels, data.labels);
        for (image, background) in [(0, -1.0), (1, 0.0)] {
            let copy = &copies.inputs[16 * image..16 * (image + 1)];
            let original = &data.inputs[16 * image..16 * (image + 1)];
            assert_ne!(copy, original, "image {image} must move");
            // Every value is the background or the bright pixel, which appears at most once.
            assert!(copy.iter().all(|&v| v == background || v == 1.0));
            assert!(copy.iter().filter(|&&v| v == 1.0).count() <= 1);
        }
        assert!(shifted_copies(&Dataset::new(vec![0.0; 8], vec![2, 2, 2], vec![0], 1), 0).is_err());
    }
}
