//! The distillation losses: the properties the theory promises (a zero soft weight is plain
//! cross-entropy, identical logits give zero divergence, the T²-scaled gradient is
//! `T·(softmax(s/T) − softmax(t/T))/N`, shifting a teacher's logits changes nothing) and gradient
//! checks of every soft loss and of the hint adapter through the shared `gradcheck`.

use autograd::{gradcheck, Var};
use distillery_tests::{check, labels, uniform};
use kd::{BinaryLoss, HardTargets, HintAdapter, ResponseLoss, SoftLoss};
use nn::Dense;
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::Tensor;

fn config() -> ProptestConfig {
    distillery_tests::proptest_config(64)
}

/// `softmax(row / T)` in f64.
fn softmax64(row: &[f32], t: f64) -> Vec<f64> {
    let max = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
    let e: Vec<f64> = row.iter().map(|&v| ((v as f64 - max) / t).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

proptest! {
    #![proptest_config(config())]

    /// With `soft_weight = 0` the loss is the plain cross-entropy: same value and same gradient,
    /// bit for bit.
    #[test]
    fn zero_soft_weight_is_plain_cross_entropy(n in 1usize..6, c in 2usize..8, seed in any::<u64>()) {
        let s = uniform(&[n, c], -3.0, 3.0, seed);
        let t = uniform(&[n, c], -3.0, 3.0, seed ^ 1);
        let y = labels(n, c, seed);
        let student = Var::parameter(s.clone());
        let loss = ResponseLoss::new(1.0, 0.0, 4.0).compute(&student, &t, &HardTargets::Labels(y.clone()));
        loss.total.backward();
        let plain_student = Var::parameter(s);
        let plain = plain_student.cross_entropy(&y, autograd::Reduction::Mean);
        prop_assert_eq!(loss.total.value().item().to_bits(), plain.value().item().to_bits());
        plain.backward();
        let (ours, theirs) = (student.take_grad().unwrap(), plain_student.take_grad().unwrap());
        prop_assert_eq!(ours.data(), theirs.data());
    }

    /// Identical logits: the KL term and the binary KL are 0 (up to f32 rounding of the log-ratios,
    /// about 1e-7 per class), and so are L1 and logit MSE.
    #[test]
    fn identical_logits_give_zero_divergence(n in 1usize..6, c in 2usize..8, t in 0.5f32..10.0, seed in any::<u64>()) {
        let z = uniform(&[n, c], -5.0, 5.0, seed);
        let student = Var::constant(z.clone());
        for soft in [SoftLoss::Kl, SoftLoss::KlL1 { l1_weight: 1.0 }, SoftLoss::L1, SoftLoss::LogitMse] {
            let value = ResponseLoss::new(0.0, 1.0, t).with_soft_loss(soft).soft_loss(&student, &z).value().item();
            prop_assert!(value.abs() < 1e-6 * t * t, "{:?}: {}", soft, value);
        }
        let binary = Tensor::from_vec(z.data()[..n].to_vec(), &[n]).unwrap();
        let value = BinaryLoss::new(0.0, 1.0, t).soft_loss(&Var::constant(binary.clone()), &binary).value().item();
        prop_assert!(value.abs() < 1e-6 * t * t, "binary: {}", value);
    }

    /// `∂(T²·KL)/∂z = T·(softmax(z/T) − softmax(t/T)) / N`, against that formula in f64.
    #[test]
    fn scaled_kl_gradient_is_t_times_the_probability_gap(n in 1usize..6, c in 2usize..8, t in 0.5f32..10.0, seed in any::<u64>()) {
        let z = uniform(&[n, c], -4.0, 4.0, seed);
        let teacher = uniform(&[n, c], -4.0, 4.0, seed ^ 1);
        let student = Var::parameter(z.clone());
        ResponseLoss::new(0.0, 1.0, t).soft_loss(&student, &teacher).backward();
        let grad = student.grad().unwrap().clone();
        for row in 0..n {
            let q = softmax64(&z.data()[row * c..(row + 1) * c], t as f64);
            let p = softmax64(&teacher.data()[row * c..(row + 1) * c], t as f64);
            for k in 0..c {
                let expected = t as f64 * (q[k] - p[k]) / n as f64;
                let got = grad.data()[row * c + k] as f64;
                // f32 softmax: relative error ~1e-6 of each probability, times T.
                prop_assert!((got - expected).abs() < 2e-6 * t as f64, "{} vs {}", got, expected);
            }
        }
    }

    /// The binary soft term's gradient: `∂/∂z = T·(σ(z/T) − σ(t/T)) / N`, against f64, and its
    /// value is the Bernoulli KL divergence `p ln(p/q) + (1 − p) ln((1 − p)/(1 − q))` times T².
    #[test]
    fn binary_soft_loss_matches_its_closed_form(n in 1usize..8, t in 0.5f32..8.0, seed in any::<u64>()) {
        let z = uniform(&[n], -4.0, 4.0, seed);
        let teacher = uniform(&[n], -4.0, 4.0, seed ^ 1);
        let student = Var::parameter(z.clone());
        let loss = BinaryLoss::new(0.0, 1.0, t).soft_loss(&student, &teacher);
        loss.backward();
        let grad = student.grad().unwrap().clone();
        let sigma = |v: f64| 1.0 / (1.0 + (-v).exp());
        let (t64, n64) = (t as f64, n as f64);
        let mut kl = 0.0;
        for i in 0..n {
            let q = sigma(z.data()[i] as f64 / t64);
            let p = sigma(teacher.data()[i] as f64 / t64);
            kl += p * (p / q).ln() + (1.0 - p) * ((1.0 - p) / (1.0 - q)).ln();
            let expected = t64 * (q - p) / n64;
            prop_assert!((grad.data()[i] as f64 - expected).abs() < 2e-6 * t64, "{} vs {}", grad.data()[i], expected);
        }
        let expected = t64 * t64 * kl / n64;
        // The loss is a two-class kl_div, its value in f64; what is left is the f32 rounding of the
        // teacher's probability p (~6e-8), which moves the KL by |log(p/q)|-sized multiples of it
        // (an absolute ~1e-7), scaled by T².
        prop_assert!((loss.value().item() as f64 - expected).abs() < 1e-6 * t64 * t64 + 1e-6 * expected, "{} vs {}", loss.value().item(), expected);
    }

    /// Adding a constant to all of a teacher's logits (per sample) changes no soft loss that
    /// goes through a softmax: softmax(t + k) = softmax(t).
    #[test]
    fn soft_loss_ignores_a_shift_of_the_teacher_logits(n in 1usize..6, c in 2usize..8, shift in -20.0f32..20.0, seed in any::<u64>()) {
        let z = Var::constant(uniform(&[n, c], -3.0, 3.0, seed));
        let teacher = uniform(&[n, c], -3.0, 3.0, seed ^ 1);
        let shifted = teacher.add_scalar(shift);
        for soft in [SoftLoss::Kl, SoftLoss::KlL1 { l1_weight: 0.5 }, SoftLoss::L1] {
            let loss = ResponseLoss::new(0.5, 0.5, 3.0).with_soft_loss(soft);
            let a = loss.soft_loss(&z, &teacher).value().item();
            let b = loss.soft_loss(&z, &shifted).value().item();
            // The shifted logits round differently (|shift| ≤ 20 carries ~2e-6 absolute error).
            prop_assert!((a - b).abs() < 1e-5 * a.abs().max(1.0), "{:?}: {} vs {}", soft, a, b);
        }
    }

    #[test]
    fn soft_losses_pass_gradcheck(n in 1usize..5, c in 2usize..6, t in 1.0f32..6.0, seed in any::<u64>()) {
        let z = uniform(&[n, c], -2.0, 2.0, seed);
        // A teacher far from the student, so |p − q| stays off the kink of |·| at 0.
        let teacher = uniform(&[n, c], -2.0, 2.0, seed ^ 1).mul_scalar(3.0);
        let y = HardTargets::Labels(labels(n, c, seed));
        for soft in [SoftLoss::Kl, SoftLoss::LogitMse] {
            let loss = ResponseLoss::new(0.3, 0.7, t).with_soft_loss(soft);
            check(&format!("{soft:?}"), std::slice::from_ref(&z), |v| loss.compute(&v[0], &teacher, &y).total)?;
        }
        let binary_z = uniform(&[n], -2.0, 2.0, seed ^ 2);
        let binary_t = uniform(&[n], -4.0, 4.0, seed ^ 3);
        let binary_y: Vec<usize> = (0..n).map(|i| i % 2).collect();
        let binary = BinaryLoss::new(0.4, 0.6, t);
        check("binary distillation", &[binary_z], |v| binary.compute(&v[0], &binary_t, &binary_y).total)?;
    }

    /// Mixup's hard targets (two labels mixed by λ) through the soft cross-entropy.
    #[test]
    fn mixed_hard_targets_pass_gradcheck(n in 1usize..5, c in 2usize..6, lambda in 0.0f32..1.0, seed in any::<u64>()) {
        let z = uniform(&[n, c], -2.0, 2.0, seed);
        let teacher = uniform(&[n, c], -2.0, 2.0, seed ^ 1);
        let (a, b) = (labels(n, c, seed), labels(n, c, seed + 3));
        let mut q = Tensor::zeros(&[n, c]);
        for i in 0..n {
            q.data_mut()[i * c + a[i]] += lambda;
            q.data_mut()[i * c + b[i]] += 1.0 - lambda;
        }
        let targets = HardTargets::Distributions(q);
        let loss = ResponseLoss::new(0.5, 0.5, 2.0);
        check("mixup targets", &[z], |v| loss.compute(&v[0], &teacher, &targets).total)?;
    }
}

/// The L1 soft terms have a kink where a student probability equals the teacher's: checked at fixed
/// logits whose softened probabilities all differ by more than 0.05 (the check's step moves a
/// probability by at most h/(4T) ≈ 0.008).
#[test]
fn l1_soft_losses_pass_gradcheck_away_from_their_kink() {
    let z = Tensor::from_vec(vec![2.0, -1.0, 0.5, -2.0, 1.5, 0.0], &[2, 3]).unwrap();
    let teacher = Tensor::from_vec(vec![-2.0, 3.0, 0.0, 2.0, -2.0, 3.0], &[2, 3]).unwrap();
    let t = 2.0;
    let q = z.softmax(t);
    let p = teacher.softmax(t);
    let gap = q
        .sub(&p)
        .data()
        .iter()
        .fold(f32::INFINITY, |m, v| m.min(v.abs()));
    assert!(
        gap > 0.05,
        "the fixed logits must keep off the kink, gap {gap}"
    );
    let y = HardTargets::Labels(vec![0, 2]);
    for soft in [SoftLoss::L1, SoftLoss::KlL1 { l1_weight: 0.5 }] {
        let loss = ResponseLoss::new(0.5, 0.5, t).with_soft_loss(soft);
        gradcheck(&format!("{soft:?}"), std::slice::from_ref(&z), |v| {
            loss.compute(&v[0], &teacher, &y).total
        })
        .unwrap();
    }
}

/// The hint adapter: with respect to the student's features and the adapter's own weights.
#[test]
fn hint_adapter_passes_gradcheck() {
    let features = uniform(&[3, 4], -1.0, 1.0, 1);
    let teacher_features = uniform(&[3, 6], -1.0, 1.0, 2);
    let dense = Dense::new(4, 6, &mut StdRng::seed_from_u64(3));
    let w = dense.weight.value().clone();
    let b = uniform(&[6], -0.5, 0.5, 4);
    gradcheck("hint adapter (dense)", &[features, w, b], |v| {
        let mut layer = Dense::new(4, 6, &mut StdRng::seed_from_u64(0));
        layer.weight = v[1].clone();
        layer.bias = Some(v[2].clone());
        HintAdapter::from_layer(Box::new(layer)).loss(&v[0], &teacher_features)
    })
    .unwrap();

    // The 1×1 convolution form, with respect to the student's feature map.
    let maps = uniform(&[2, 3, 4, 4], -1.0, 1.0, 5);
    let teacher_maps = uniform(&[2, 5, 4, 4], -1.0, 1.0, 6);
    gradcheck("hint adapter (1×1 conv)", &[maps], |v| {
        HintAdapter::conv1x1(3, 5, &mut StdRng::seed_from_u64(7)).loss(&v[0], &teacher_maps)
    })
    .unwrap();
}

#[test]
#[should_panic(expected = "the temperature must be a positive number, found 0")]
fn a_zero_temperature_is_refused() {
    ResponseLoss::new(0.5, 0.5, 0.0);
}
