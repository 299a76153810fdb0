//! Decoupled Knowledge Distillation (`kd::dkd`): the decomposition it rests on
//! (`KL(p ‖ q) = TCKD + (1 − p_y)·NCKD` per sample, so that DKD with the weights `1` and `1 − p_y`
//! is classic KD), gradient checks of each term and of the whole loss through the shared
//! `gradcheck`, a teacher so confident that `1 − p_y` is below f32's range, and the messages for
//! input DKD cannot take.

use autograd::Var;
use distillery_tests::{check, labels, uniform};
use kd::dkd::{nckd, tckd};
use kd::{DkdLoss, ResponseLoss};
use proptest::prelude::*;
use tensor::Tensor;

fn config() -> ProptestConfig {
    distillery_tests::proptest_config(64)
}

/// `log softmax(row / T)` in f64.
fn log_softmax64(row: &[f32], t: f64) -> Vec<f64> {
    let u: Vec<f64> = row.iter().map(|&v| v as f64 / t).collect();
    let max = u.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    let lse = max + u.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
    u.iter().map(|v| v - lse).collect()
}

/// Row `i` of `[N, C]` as a `[1, C]` tensor.
fn row(x: &Tensor, i: usize) -> Tensor {
    let c = x.shape()[1];
    Tensor::from_vec(x.data()[i * c..(i + 1) * c].to_vec(), &[1, c]).unwrap()
}

proptest! {
    #![proptest_config(config())]

    /// Per sample, classic KD's KL term is `TCKD + (1 − p_y)·NCKD`, and DKD with
    /// `target_weight = 1`, `non_target_weight = 1 − p_y` is classic KD's soft loss, `T²` included.
    /// Teachers range from unsure to confident (logits up to ±12).
    #[test]
    fn kl_is_target_plus_weighted_non_target_term(n in 1usize..5, c in 2usize..8, t in 0.5f32..10.0, sharpness in 1.0f32..3.0, seed in any::<u64>()) {
        let z = uniform(&[n, c], -4.0, 4.0, seed);
        let teacher = uniform(&[n, c], -4.0, 4.0, seed ^ 1).mul_scalar(sharpness);
        let y = labels(n, c, seed);
        for i in 0..n {
            let (zi, ti, yi) = (row(&z, i), row(&teacher, i), &y[i..i + 1]);
            let student = Var::constant(zi);
            let kd = ResponseLoss::new(0.0, 1.0, t).soft_loss(&student, &ti).value().item() as f64;
            let target = tckd(&student, &ti, yi, t).value().item() as f64;
            let non_target = nckd(&student, &ti, yi, t).value().item() as f64;
            let p_y = log_softmax64(ti.data(), t as f64)[yi[0]].exp();
            let t2 = (t * t) as f64;
            // Each side is a sum of f64 KL values rounded to f32 once, from f32 teacher
            // probabilities (relative rounding 6e-8, times log-ratios of a few units): 1e-6 of the
            // KL, plus 1e-6 absolute for the rounding of terms near 0, bounds both with room.
            let tolerance = 1e-6 * (kd / t2 + 1.0);
            let decomposed = target + (1.0 - p_y) * non_target;
            prop_assert!((kd / t2 - decomposed).abs() < tolerance,
                "row {}: KL {} ≠ TCKD {} + (1 − p_y = {}) · NCKD {}", i, kd / t2, target, 1.0 - p_y, non_target);
            let dkd = DkdLoss::new(0.0, 1.0, (1.0 - p_y) as f32, t).soft_loss(&student, &ti, yi).value().item() as f64;
            prop_assert!((dkd - kd).abs() < t2 * tolerance, "row {}: DKD {} ≠ KD {}", i, dkd, kd);
        }
    }

    /// Both terms are KL divergences: ≥ 0, and 0 when the student's logits are the teacher's.
    #[test]
    fn both_terms_are_divergences(n in 1usize..5, c in 2usize..8, t in 0.5f32..10.0, seed in any::<u64>()) {
        let z = uniform(&[n, c], -4.0, 4.0, seed);
        let teacher = uniform(&[n, c], -4.0, 4.0, seed ^ 1);
        let y = labels(n, c, seed);
        let student = Var::constant(z.clone());
        // ≥ 0 up to f32 rounding: a student close to the teacher can land a few ulps below.
        let (target, non_target) = (
            tckd(&student, &teacher, &y, t).value().item(),
            nckd(&student, &teacher, &y, t).value().item(),
        );
        prop_assert!(target >= -1e-6, "TCKD {}", target);
        prop_assert!(non_target >= -1e-6, "NCKD {}", non_target);
        let same = Var::constant(teacher.clone());
        // Identical inputs: only the f32 rounding of the stored teacher probabilities remains.
        prop_assert!(tckd(&same, &teacher, &y, t).value().item().abs() < 1e-6);
        prop_assert!(nckd(&same, &teacher, &y, t).value().item().abs() < 1e-6);
    }

    /// With respect to the student's logits: each term alone, and the whole loss with all three
    /// weights.
    #[test]
    fn dkd_passes_gradcheck(n in 1usize..5, c in 2usize..6, t in 1.0f32..6.0, seed in any::<u64>()) {
        let z = uniform(&[n, c], -2.0, 2.0, seed);
        let teacher = uniform(&[n, c], -2.0, 2.0, seed ^ 1).mul_scalar(3.0);
        let y = labels(n, c, seed);
        for (name, loss) in [
            ("TCKD", DkdLoss::new(0.0, 1.0, 0.0, t)),
            ("NCKD", DkdLoss::new(0.0, 0.0, 1.0, t)),
            ("DKD", DkdLoss::new(0.3, 0.7, 2.0, t)),
        ] {
            check(name, std::slice::from_ref(&z), |v| loss.compute(&v[0], &teacher, &y).total)?;
        }
    }
}

/// A teacher so sure that `1 − p_y ≈ e^{−200}`, below f32's smallest number, with a student as
/// sure (`z_y − max_{c≠y} z_c = 149`, past where `e^x` overflows f32) and one less so: the loss and
/// its gradient stay finite, and NCKD still measures the teacher's non-target distribution `p̂`
/// (the softmax of its other logits, `[0, 1, 2]`), which classic KD weighs by `1 − p_y` and so
/// cannot see at all.
#[test]
fn a_nearly_certain_teacher_keeps_its_non_target_knowledge() {
    let teacher_row = [200.0, 0.0, 1.0, 2.0];
    let teacher = Tensor::from_vec([teacher_row, teacher_row].concat(), &[2, 4]).unwrap();
    let (sure, unsure) = ([150.0, 1.0, 0.5, -1.0], [5.0, 1.0, 0.5, -1.0]);
    let z = Tensor::from_vec([sure, unsure].concat(), &[2, 4]).unwrap();
    let y = [0, 0];
    let student = Var::parameter(z.clone());
    let loss = DkdLoss::new(1.0, 1.0, 8.0, 1.0).compute(&student, &teacher, &y);
    loss.total.backward();
    assert!(loss.total.value().item().is_finite() && loss.soft.is_finite());
    let grad = student.take_grad().unwrap();
    assert!(grad.data().iter().all(|g| g.is_finite()), "{grad:?}");

    // The unsure student alone: NCKD against KL(p̂ ‖ q̂) of the non-target logits in f64.
    let (z, teacher, y) = (row(&z, 1), row(&teacher, 1), [0]);
    let p_hat: Vec<f64> = log_softmax64(&teacher_row[1..], 1.0)
        .iter()
        .map(|l| l.exp())
        .collect();
    let log_q_hat = log_softmax64(&unsure[1..], 1.0);
    let expected: f64 = p_hat
        .iter()
        .zip(&log_q_hat)
        .map(|(p, lq)| p * (p.ln() - lq))
        .sum();
    let got = nckd(&Var::constant(z.clone()), &teacher, &y, 1.0)
        .value()
        .item() as f64;
    // The f32 rounding of p̂ (relative 6e-8) times log-ratios of a few units.
    assert!(
        (got - expected).abs() < 1e-6,
        "NCKD {got} vs f64 {expected}"
    );
    assert!(expected > 0.5, "the case must have something to measure");

    // Classic KD's KL is TCKD alone here (−log q_y ≈ 0.03): its non-target part vanished with
    // 1 − p_y.
    let kd = ResponseLoss::new(0.0, 1.0, 1.0)
        .soft_loss(&Var::constant(z.clone()), &teacher)
        .value()
        .item();
    let target = tckd(&Var::constant(z), &teacher, &y, 1.0).value().item();
    assert!(kd > 0.01, "the case must have something to measure: {kd}");
    assert!((kd - target).abs() <= 1e-6, "KD {kd} vs TCKD {target}");
}

/// The message names the label and the number of classes.
#[test]
#[should_panic(expected = "DKD: label 5 is out of range for 5 classes")]
fn a_label_out_of_range_is_refused() {
    let z = Var::constant(uniform(&[2, 5], -1.0, 1.0, 1));
    let teacher = uniform(&[2, 5], -1.0, 1.0, 2);
    DkdLoss::new(0.5, 1.0, 2.0, 2.0).compute(&z, &teacher, &[0, 5]);
}

/// One sigmoid logit has no non-target classes to decouple: refused with a pointer to the binary
/// loss.
#[test]
#[should_panic(expected = "a task with one sigmoid logit is not supported: use BinaryLoss")]
fn one_logit_is_refused() {
    let z = Var::constant(uniform(&[3, 1], -1.0, 1.0, 1));
    let teacher = uniform(&[3, 1], -1.0, 1.0, 2);
    DkdLoss::new(0.5, 1.0, 2.0, 2.0).compute(&z, &teacher, &[0, 1, 0]);
}

#[test]
#[should_panic(expected = "DkdLoss: weights must be numbers ≥ 0, found hard 0.5, target -1")]
fn a_negative_weight_is_refused() {
    DkdLoss::new(0.5, -1.0, 2.0, 2.0);
}
