//! The temperature view: what a teacher's outputs hold at T = 1 and what a higher temperature
//! shows of it.
//!
//! At T = 1 a good teacher gives a test image nearly all its probability, and the other classes
//! share what is left in amounts many orders of magnitude smaller — too small for a loss to feel,
//! yet they rank the other classes by how much the image resembles them. Dividing the logits by T
//! before the softmax,
//!
//! ```text
//! p_c(T) = exp(t_c / T) / Σ_k exp(t_k / T)
//! ```
//!
//! keeps that ranking and shrinks the ratios between classes to their T-th root
//! (`p_a / p_b = e^{(t_a − t_b)/T}`), so as T rises the small probabilities rise to where a student
//! learns from them. The entropy `H = −Σ p_c log₂ p_c` (bits; 0 for a certain answer, at most
//! log₂ C for C classes, reached by the uniform distribution) measures how spread out the
//! distribution is.
//!
//! Beside the teacher, the same student trained alone and distilled (seed 0), and over the whole
//! test set how far each student's softened outputs are from the teacher's (the mean KL
//! divergence at each T).

use std::fmt::Write as _;

use kd::ModelSpec;
use serde_json::{json, Value};
use study::output::{markdown_table, write_atomic};
use tensor::Tensor;

use crate::lab::{Lab, MNIST_KD_TEMPERATURE};
use crate::svg;

/// The student unless `--student` says otherwise: `mnist_kd`'s default.
pub const STUDENT: &str = "mlp:100,100";
const EPOCHS: usize = 10;
/// Images shown when none are asked for: image 0, and this many of the teacher's least certain
/// right answers.
const UNCERTAIN: usize = 3;

/// The entropy of a distribution in bits (0·log 0 taken as 0).
pub fn entropy_bits(p: &[f32]) -> f64 {
    p.iter()
        .filter(|&&x| x > 0.0)
        .map(|&x| -(x as f64) * (x as f64).log2())
        .sum()
}

/// The test images shown by default: image 0, then the `count` images the teacher classifies
/// right with the largest second-best probability at T = 1 (ties to the lower index): where it
/// says most plainly that an image resembles another class.
pub fn default_images(
    teacher_probabilities: &Tensor,
    labels: &[usize],
    count: usize,
) -> Vec<usize> {
    let classes = teacher_probabilities.shape()[1];
    let mut candidates: Vec<(f32, usize)> = teacher_probabilities
        .data()
        .chunks(classes)
        .zip(labels)
        .enumerate()
        .filter_map(|(i, (p, &label))| {
            let top = (0..classes).max_by(|&a, &b| p[a].total_cmp(&p[b]).then(b.cmp(&a)))?;
            let second = (0..classes)
                .filter(|&c| c != top)
                .map(|c| p[c])
                .fold(0.0, f32::max);
            (top == label && i != 0).then_some((second, i))
        })
        .collect();
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    std::iter::once(0)
        .chain(candidates.iter().take(count).map(|&(_, i)| i))
        .collect()
}

/// The mean over rows of `KL(softmax(t/T) ‖ softmax(z/T))` in nats: how far a student's softened
/// distributions are from the teacher's, the wrong classes included.
pub fn mean_kl(teacher_logits: &Tensor, student_logits: &Tensor, temperature: f32) -> f64 {
    let log_p = teacher_logits.log_softmax(temperature);
    let log_q = student_logits.log_softmax(temperature);
    let rows = teacher_logits.shape()[0];
    let total: f64 = log_p
        .data()
        .iter()
        .zip(log_q.data())
        .map(|(&lp, &lq)| (lp as f64).exp() * (lp as f64 - lq as f64))
        .sum();
    total / rows as f64
}

/// One model's probabilities for one image at each temperature.
struct Softened {
    /// "teacher cnn:…", "mlp:100,100 alone": the legend.
    model: String,
    /// "teacher", "alone", "distilled": the tables' rows.
    role: &'static str,
    /// `[temperature][class]`.
    probabilities: Vec<Vec<f32>>,
}

/// A probability as a table shows it: three decimals, or a power of ten when smaller.
fn probability_text(p: f32) -> String {
    if p >= 0.001 {
        format!("{p:.3}")
    } else if p == 0.0 {
        "0".into()
    } else {
        format!("{p:.0e}")
    }
}

/// The experiment for the test images `images` (indices below the test set's size; empty: the
/// default ones) at `temperatures`, the students being `spec`.
pub fn run(
    lab: &mut Lab,
    spec: &ModelSpec,
    images: &[usize],
    temperatures: &[f32],
    command: &str,
) -> Result<(), String> {
    let test_len = lab.splits.test.len();
    let chosen_by_default = images.is_empty();
    let epochs = lab.flags.epochs.unwrap_or(EPOCHS);
    let teacher_logits = lab.teacher.logits_for(&lab.splits.test, 1000, 1.0);
    let images = if images.is_empty() {
        default_images(
            &teacher_logits.softmax(1.0),
            &lab.splits.test.labels,
            UNCERTAIN,
        )
    } else {
        images.to_vec()
    };
    let weights = lab.flags.weights(MNIST_KD_TEMPERATURE);
    let (mut alone, _) = lab.student(spec, 0, None, epochs, None)?;
    let (mut distilled, _) = lab.student(spec, 0, None, epochs, Some(weights))?;
    // Over the whole test set: how close each student's softened outputs are to the teacher's.
    let alone_logits = kd::predict_logits(&mut alone, &lab.splits.test, 1000);
    let distilled_logits = kd::predict_logits(&mut distilled, &lab.splits.test, 1000);
    let distances: Vec<(f32, f64, f64)> = temperatures
        .iter()
        .map(|&t| {
            (
                t,
                mean_kl(&teacher_logits, &alone_logits, t),
                mean_kl(&teacher_logits, &distilled_logits, t),
            )
        })
        .collect();
    let chosen = lab.splits.test.subset(&images);
    let classes = lab.splits.classes();
    let rows_of = |logits: &Tensor, rows: &[usize]| {
        let data: Vec<f32> = rows
            .iter()
            .flat_map(|&r| logits.data()[r * classes..(r + 1) * classes].to_vec())
            .collect();
        Tensor::from_vec(data, &[rows.len(), classes]).expect("whole rows")
    };
    let models: [(String, &'static str, Tensor); 3] = [
        (
            format!("teacher {}", lab.teacher_spec),
            "teacher",
            rows_of(&teacher_logits, &images),
        ),
        (
            format!("{spec} alone"),
            "alone",
            rows_of(&alone_logits, &images),
        ),
        (
            format!("{spec} distilled"),
            "distilled",
            rows_of(&distilled_logits, &images),
        ),
    ];
    // views[image][model]
    let views: Vec<Vec<Softened>> = (0..images.len())
        .map(|row| {
            models
                .iter()
                .map(|(name, role, logits)| {
                    let z = &logits.data()[row * classes..(row + 1) * classes];
                    let z = Tensor::from_vec(z.to_vec(), &[1, classes]).expect("one row");
                    Softened {
                        model: name.clone(),
                        role,
                        probabilities: temperatures
                            .iter()
                            .map(|&t| z.softmax(t).data().to_vec())
                            .collect(),
                    }
                })
                .collect()
        })
        .collect();

    let raw_pixels: Vec<Vec<f32>> = (0..chosen.len())
        .map(|i| {
            let (mean, std) = (lab.splits.mean, lab.splits.std);
            chosen.sample(i).iter().map(|x| x * std + mean).collect()
        })
        .collect();
    let labels = &chosen.labels;
    let mut s = format!(
        "# The temperature view\n\n```\n{command}\n```\n\n\
         Each model's probabilities `softmax(logits / T)` for the test images below, and their \
         entropy in bits (at most {:.2} for {classes} classes). The students: {spec} trained \
         alone and distilled (seed 0, {epochs} epochs, distilled at T = {}, soft weight {}). \
         {} soften.svg draws the same numbers.\n",
        (classes as f64).log2(),
        weights.temperature,
        weights.soft_weight,
        if chosen_by_default {
            "Image 0 is the first test image; the others are the test images the teacher gets \
             right with the largest second-best probability (chosen by looking at the test set, \
             which is all they are for: nothing is trained or tuned on them)."
        } else {
            "The images are those given with --images."
        },
    );
    let _ = writeln!(
        s,
        "\nThe teacher: {}; the students: {spec}.",
        lab.teacher_spec
    );
    let _ = writeln!(
        s,
        "\n## How far each student is from the teacher\n\nOver all {test_len} test images, the \
         mean KL divergence (nats) from the teacher's softened distribution to each student's, at \
         each T: it counts the wrong classes' probabilities too.\n"
    );
    let rows: Vec<Vec<String>> = distances
        .iter()
        .map(|(t, a, d)| vec![format!("T = {t}"), format!("{a:.4}"), format!("{d:.4}")])
        .collect();
    s.push_str(&markdown_table(
        &["", "KL(teacher ‖ alone)", "KL(teacher ‖ distilled)"],
        &rows,
    ));
    let mut headers: Vec<String> = vec!["model, T".into()];
    headers.extend((0..classes).map(|c| lab.splits.class_names[c].clone()));
    headers.push("entropy (bits)".into());
    let headers: Vec<&str> = headers.iter().map(|h| h.as_str()).collect();
    for (row, &image) in images.iter().enumerate() {
        let _ = writeln!(s, "\n## Test image {image} (a {})\n", labels[row]);
        let mut table = Vec::new();
        for view in &views[row] {
            for (t, p) in temperatures.iter().zip(&view.probabilities) {
                let mut cells = vec![format!("{}, T = {t}", view.role)];
                cells.extend(p.iter().map(|&x| probability_text(x)));
                cells.push(format!("{:.2}", entropy_bits(p)));
                table.push(cells);
            }
        }
        s.push_str(&markdown_table(&headers, &table));
    }
    let out = &lab.flags.out;
    write_atomic(&out.join("soften.md"), &s)?;
    let chart = svg::Softening {
        images: &images,
        labels,
        pixels: &raw_pixels,
        temperatures,
        models: &models.iter().map(|(n, _, _)| n.clone()).collect::<Vec<_>>(),
        probabilities: &views
            .iter()
            .map(|v| v.iter().map(|m| m.probabilities.clone()).collect())
            .collect::<Vec<_>>(),
    };
    write_atomic(&out.join("soften.svg"), &svg::softening(&chart))?;
    let json = json!({
        "command": command,
        "temperatures": temperatures.iter().map(|&t| study::typed(t)).collect::<Vec<Value>>(),
        "mean_kl_alone": distances.iter().map(|d| d.1).collect::<Vec<_>>(),
        "mean_kl_distilled": distances.iter().map(|d| d.2).collect::<Vec<_>>(),
        "images": images.iter().zip(&views).zip(labels).map(|((i, v), label)| json!({
            "index": i,
            "label": label,
            "models": v.iter().map(|m| json!({
                "model": m.model,
                "probabilities": m.probabilities,
                "entropy_bits": m.probabilities.iter().map(|p| entropy_bits(p)).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    write_atomic(
        &out.join("soften.json"),
        &serde_json::to_string_pretty(&json).expect("JSON of plain values"),
    )?;
    println!(
        "{s}\nWritten to {}: soften.md, soften.svg, soften.json.",
        out.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_is_zero_for_certainty_and_log2_c_for_uniform() {
        assert_eq!(entropy_bits(&[0.0, 1.0, 0.0]), 0.0);
        assert!((entropy_bits(&[0.25; 4]) - 2.0).abs() < 1e-12);
        // By hand: −(0.5 log₂ 0.5 + 2 · 0.25 log₂ 0.25) = 0.5 + 1 = 1.5 bits.
        assert!((entropy_bits(&[0.5, 0.25, 0.25]) - 1.5).abs() < 1e-12);
    }

    #[test]
    fn a_higher_temperature_keeps_the_ranking_and_raises_the_entropy() {
        let logits = Tensor::from_vec(vec![9.0, 2.0, -1.0, 4.5, 0.0], &[1, 5]).unwrap();
        let mut last_entropy = -1.0;
        for t in [1.0, 2.0, 4.0, 8.0, 20.0] {
            let p = logits.softmax(t).data().to_vec();
            let mut order: Vec<usize> = (0..5).collect();
            order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
            assert_eq!(order, vec![0, 3, 1, 4, 2], "T = {t}");
            let h = entropy_bits(&p);
            assert!(h > last_entropy, "T = {t}: {h} after {last_entropy}");
            last_entropy = h;
        }
    }

    #[test]
    fn the_mean_kl_is_zero_for_the_same_logits_and_matches_a_hand_computation() {
        let t = Tensor::from_vec(vec![2.0, 0.0, 1.0, 1.0], &[2, 2]).unwrap();
        assert!(mean_kl(&t, &t, 3.0).abs() < 1e-7);
        // Row 1: p = σ(2) vs q = ½: KL = p ln 2p + (1 − p) ln 2(1 − p); row 2: both ½, KL 0.
        let z = Tensor::from_vec(vec![0.0, 0.0, 1.0, 1.0], &[2, 2]).unwrap();
        let p = 1.0 / (1.0 + (-2.0f64).exp());
        let by_hand = (p * (2.0 * p).ln() + (1.0 - p) * (2.0 * (1.0 - p)).ln()) / 2.0;
        assert!((mean_kl(&t, &z, 1.0) - by_hand).abs() < 1e-6);
        // At T = 2 the teacher's row 1 is softmax(1, 0): p = σ(1).
        let p = 1.0 / (1.0 + (-1.0f64).exp());
        let by_hand = (p * (2.0 * p).ln() + (1.0 - p) * (2.0 * (1.0 - p)).ln()) / 2.0;
        assert!((mean_kl(&t, &z, 2.0) - by_hand).abs() < 1e-6);
    }

    #[test]
    fn the_default_images_are_right_answers_with_the_largest_runner_up() {
        // Image 0 always; then right answers by falling second-best probability. Image 2 is
        // wrong (its top class is 0, its label 1) and image 1 is certain.
        let p = Tensor::from_vec(
            vec![
                0.9, 0.1, 0.0, //
                1.0, 0.0, 0.0, //
                0.6, 0.4, 0.0, //
                0.1, 0.2, 0.7, //
                0.0, 0.7, 0.3,
            ],
            &[5, 3],
        )
        .unwrap();
        let labels = [0, 0, 1, 2, 1];
        assert_eq!(default_images(&p, &labels, 2), vec![0, 4, 3]);
    }
}
