//! A student that is not a network, on the two-class toy problem (toy.rs): the article's
//! experiment.
//!
//! The article: a network with two hidden layers of 128 units; a decision tree grown on the hard
//! labels does clearly worse than it, and a regression tree grown on the network's soft outputs
//! about as well (its figures are in the report and in docs/tree_student.md). A tree grown until
//! its leaves are pure fits every noisy label, so near the boundary its regions are as ragged as
//! the noise; grown on the teacher's probabilities it copies the teacher's smooth estimate of
//! `P(class | x)` instead.
//!
//! Here, per seed: new data (training, validation and test points from seeded draws), the
//! 128-128 teacher trained on the training points (keeping its best epoch on validation), then
//! trees on the same training points: grown without limit, as the article did, and cut to equal
//! small leaf counts. The soft targets' temperature is chosen on validation per seed and size.

use std::fmt::Write as _;

use kd::metrics::MeanStd;
use kd::{predict_logits, predicted_classes, ModelSpec};
use nn::data::Dataset;
use serde_json::{json, Value};
use study::data::Splits;
use study::output::{markdown_table, write_atomic};
use study::train::{build, train, train_config, EvalOn};
use study::verdict::{verdict, Side};
use study::Recipe;
use tensor::Tensor;

use crate::svg::{regions, Panel};
use crate::toy::{bayes_accuracy, generate, BEND, FREQUENCY, HALF_WIDTH};
use crate::tree_fit::{compare, features, hard_tree, soft_tree, Pair};

/// The article's teacher.
pub const TEACHER: &str = "mlp:128,128";
const TEACHER_EPOCHS: usize = 100;
const TEACHER_PATIENCE: usize = 15;
const BATCH: usize = 64;
/// The candidates for the soft targets' temperature, in the order preferred among equals.
pub const TEMPERATURES: [f32; 3] = [1.0, 2.0, 4.0];
/// The equal small leaf counts compared besides the trees grown without limit.
pub const LEAVES: [usize; 5] = [4, 8, 16, 32, 64];
/// The picture's grid: cells per side.
const GRID: usize = 100;

/// The sizes of the toy data sets.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub train: usize,
    pub validation: usize,
    pub test: usize,
}

/// One seed's results: the teacher, the best possible, and the trees at every size (first the
/// trees grown without limit, then [`LEAVES`]).
struct SeedRun {
    teacher: f64,
    bayes: f64,
    pairs: Vec<Pair>,
}

fn dataset(points: Vec<f32>, labels: Vec<usize>) -> Dataset {
    Dataset::new(points, vec![2], labels, 2)
}

/// The experiment over `seeds` seeds.
pub fn run(
    sizes: Sizes,
    seeds: usize,
    temperature: Option<f32>,
    out: &std::path::Path,
    command: &str,
) -> Result<(), String> {
    let temperatures: Vec<f32> = match temperature {
        Some(t) => vec![t],
        None => TEMPERATURES.to_vec(),
    };
    let spec: ModelSpec = TEACHER.parse().map_err(|e: kd::SpecError| e.to_string())?;
    let mut runs = Vec::new();
    let mut picture = None;
    for seed in 0..seeds as u64 {
        let labelled = generate(sizes.train + sizes.validation, 2 * seed);
        let test = generate(sizes.test, 2 * seed + 1);
        let splits = Splits::new(
            "toy".to_string(),
            "points",
            dataset(labelled.points, labelled.labels),
            dataset(test.points.clone(), test.labels),
            sizes.validation,
        )?;
        let mut model = build(&spec, &splits, 1000 + seed)?;
        let recipe = Recipe::adam(TEACHER_EPOCHS, 1e-3).patience(TEACHER_PATIENCE);
        let label = format!("teacher {spec} seed {seed}");
        let outcome = train(
            &mut model,
            None,
            &recipe,
            train_config(&recipe, BATCH, seed),
            &splits,
            EvalOn::Test,
            &label,
        );
        if let Some((epoch, batch)) = outcome.diverged {
            return Err(format!(
                "{label}: the loss became non-finite at epoch {}, batch {batch}",
                epoch + 1
            ));
        }
        let teacher_logits = predict_logits(&mut model, &splits.train, 1024);
        let test_logits = predict_logits(&mut model, &splits.test, 1024);
        let teacher = accuracy_of(&test_logits, &splits.test);

        let x = features(&splits.train)?;
        let hard = hard_tree(&x, &splits.train, None)?;
        let soft = temperatures
            .iter()
            .map(|&t| soft_tree(&x, &teacher_logits, t, None))
            .collect::<Result<Vec<_>, _>>()?;
        let mut pairs = Vec::new();
        for size in std::iter::once(None).chain(LEAVES.map(Some)) {
            pairs.push(compare(
                &hard,
                &soft,
                &temperatures,
                size,
                &splits.validation,
                &splits.test,
            )?);
        }
        eprintln!(
            "seed {seed}: teacher {teacher:.2} %, trees grown without limit: hard labels {:.2} %, \
             soft targets {:.2} %",
            pairs[0].hard_test, pairs[0].soft_test
        );
        if picture.is_none() {
            let chosen = temperatures
                .iter()
                .position(|&t| t == pairs[0].temperature)
                .unwrap_or(0);
            picture = Some(picture_of(
                &mut model,
                &splits,
                &hard,
                &soft[chosen],
                pairs[0],
            )?);
        }
        runs.push(SeedRun {
            teacher,
            bayes: bayes_accuracy(&test.p_one),
            pairs,
        });
    }
    report(&runs, sizes, &temperatures, picture, out, command)
}

fn accuracy_of(logits: &Tensor, data: &Dataset) -> f64 {
    let predicted = predicted_classes(logits, false);
    let right = predicted
        .iter()
        .zip(&data.labels)
        .filter(|(p, l)| p == l)
        .count();
    100.0 * right as f64 / data.len() as f64
}

/// The decision regions of the teacher and both trees grown without limit, over the square,
/// with the training points; as SVG.
fn picture_of(
    model: &mut nn::Sequential,
    splits: &Splits,
    hard: &trees::Tree,
    soft: &trees::Tree,
    pair: Pair,
) -> Result<String, String> {
    // Cell centres, in the models' (normalised) coordinates.
    let step = 2.0 * HALF_WIDTH / GRID as f64;
    let mut grid = Vec::with_capacity(2 * GRID * GRID);
    for row in 0..GRID {
        for col in 0..GRID {
            let x1 = -HALF_WIDTH + (col as f64 + 0.5) * step;
            let x2 = HALF_WIDTH - (row as f64 + 0.5) * step;
            for v in [x1, x2] {
                grid.push((v as f32 - splits.mean) / splits.std);
            }
        }
    }
    let cells = dataset(grid, vec![0; GRID * GRID]);
    let teacher = predicted_classes(&predict_logits(model, &cells, 4096), false);
    let of_tree = |tree: &trees::Tree| -> Result<Vec<usize>, String> {
        cells
            .inputs
            .chunks_exact(2)
            .map(|x| tree.predict_class(x).map_err(|e| e.to_string()))
            .collect()
    };
    // The training points back in the square's coordinates, at most 800 of them.
    let points: Vec<(f64, f64, usize)> = splits
        .train
        .inputs
        .chunks_exact(2)
        .zip(&splits.train.labels)
        .take(800)
        .map(|(x, &l)| {
            let back = |v: f32| f64::from(v * splits.std + splits.mean);
            (back(x[0]), back(x[1]), l)
        })
        .collect();
    let panels = [
        Panel {
            title: format!("teacher {TEACHER}"),
            classes: teacher,
        },
        Panel {
            title: format!("tree on hard labels, {} leaves", pair.hard_leaves),
            classes: of_tree(hard)?,
        },
        Panel {
            title: format!(
                "tree on soft targets (T = {}), {} leaves",
                pair.temperature, pair.soft_leaves
            ),
            classes: of_tree(soft)?,
        },
    ];
    let boundary: Vec<(f64, f64)> = (0..=200)
        .map(|i| {
            let x1 = -HALF_WIDTH + 2.0 * HALF_WIDTH * f64::from(i) / 200.0;
            (x1, BEND * (FREQUENCY * x1).sin())
        })
        .collect();
    Ok(regions(
        "Decision regions on the toy problem (seed 0); the curve is the true boundary",
        &panels,
        GRID,
        HALF_WIDTH,
        &points,
        &boundary,
    ))
}

/// The size's name in the table.
fn size_name(index: usize) -> String {
    match index {
        0 => "grown without limit".to_string(),
        i => format!("{} leaves", LEAVES[i - 1]),
    }
}

fn report(
    runs: &[SeedRun],
    sizes: Sizes,
    temperatures: &[f32],
    picture: Option<String>,
    out: &std::path::Path,
    command: &str,
) -> Result<(), String> {
    let stat = |f: &dyn Fn(&SeedRun) -> f64| MeanStd::of(&runs.iter().map(f).collect::<Vec<_>>());
    let mut rows = vec![
        vec![
            format!("teacher {TEACHER}"),
            "–".into(),
            stat(&|r| r.teacher).format(2),
        ],
        vec![
            "best possible (knows P)".into(),
            "–".into(),
            stat(&|r| r.bayes).format(2),
        ],
    ];
    let mut verdicts = String::new();
    for i in 0..=LEAVES.len() {
        let hard = stat(&|r| r.pairs[i].hard_test);
        let soft = stat(&|r| r.pairs[i].soft_test);
        let leaves = |f: &dyn Fn(&Pair) -> usize| stat(&|r| f(&r.pairs[i]) as f64).format(0);
        let chosen: Vec<String> = runs
            .iter()
            .map(|r| r.pairs[i].temperature.to_string())
            .collect();
        rows.push(vec![
            format!("tree, hard labels, {}", size_name(i)),
            leaves(&|p| p.hard_leaves),
            hard.format(2),
        ]);
        rows.push(vec![
            format!(
                "tree, soft targets (T: {}), {}",
                chosen.join(", "),
                size_name(i)
            ),
            leaves(&|p| p.soft_leaves),
            soft.format(2),
        ]);
        let side = |m| Side {
            finished: m,
            diverged: &[],
        };
        let _ = writeln!(
            verdicts,
            "{}",
            verdict(
                &format!("tree {}", size_name(i)),
                "test accuracy",
                side(&hard),
                side(&soft)
            )
        );
    }
    let mut s = format!(
        "# A tree as the student: the toy problem\n\n```\n{command}\n```\n\n\
         - Data (toy.rs): {} training, {} validation and {} test points per seed, drawn from \
         seeds 2s and 2s + 1; labels are noisy near a curved boundary.\n\
         - Teacher: {TEACHER}, Adam 10⁻³, batches of {BATCH}, up to {TEACHER_EPOCHS} epochs \
         keeping the best on validation (patience {TEACHER_PATIENCE}).\n\
         - Trees: hard labels with Gini, soft targets (the teacher's probabilities at T, T from \
         {temperatures:?} chosen on validation per seed and size) with squared error; grown \
         best-first, without limit or cut to equal leaf counts (the soft tree cut to the hard \
         tree's count).\n\
         - {} seeds; mean ± std over them.\n\n",
        sizes.train,
        sizes.validation,
        sizes.test,
        runs.len()
    );
    s.push_str(&markdown_table(
        &["model", "leaves", "test accuracy (%)"],
        &rows,
    ));
    s.push_str("\n## Verdict (soft targets against hard labels, per size)\n\n");
    s.push_str(&verdicts);
    s.push_str(
        "\n## Beside the article\n\nThe article: the 128-128 network about 90 %, a tree on the \
         hard labels 86.5 %, a tree on the network's soft outputs about 90 %.\n",
    );
    write_atomic(&out.join("tree_toy.md"), &s)?;
    let mut written = "tree_toy.md, tree_toy.json".to_string();
    if let Some(svg) = picture {
        write_atomic(&out.join("tree_toy.svg"), &svg)?;
        written.push_str(", tree_toy.svg");
    }
    let seeds: Vec<Value> = runs
        .iter()
        .enumerate()
        .map(|(seed, r)| {
            let sizes: Vec<Value> = r
                .pairs
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    json!({
                        "size": size_name(i),
                        "hard_leaves": p.hard_leaves,
                        "soft_leaves": p.soft_leaves,
                        "hard_test_accuracy": p.hard_test,
                        "soft_test_accuracy": p.soft_test,
                        "temperature": study::typed(p.temperature),
                    })
                })
                .collect();
            json!({
                "seed": seed,
                "teacher_test_accuracy": r.teacher,
                "bayes_test_accuracy": r.bayes,
                "trees": sizes,
            })
        })
        .collect();
    let json = json!({
        "command": command,
        "teacher": TEACHER,
        "train": sizes.train,
        "validation": sizes.validation,
        "test": sizes.test,
        "seeds": seeds,
    });
    write_atomic(
        &out.join("tree_toy.json"),
        &serde_json::to_string_pretty(&json).expect("JSON of plain values"),
    )?;
    println!("{s}\nWritten to {}: {written}.", out.display());
    Ok(())
}
