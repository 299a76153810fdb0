//! `BatchNorm1d` / `BatchNorm2d`: the fused training-mode op against finite differences (through
//! `gradcheck`), against the same function composed from autograd ops, and against plain f64
//! loops; the running statistics against values worked by hand; evaluation mode; the errors.
//!
//! A note on the losses: `Σ y` does not depend on x for batch norm (each channel of x̂ sums to 0),
//! so a test that backpropagates from a plain sum proves nothing about `∂L/∂x`. `gradcheck` weights
//! the output with random weights, and the comparisons below do the same.

use autograd::{gradcheck, Var};
use distillery_tests::uniform;
use nn::layers::batch_norm::{
    batch_norm_backward, batch_norm_forward, batch_norm_train, BatchNorm, BatchStats,
};
use nn::{BatchNorm1d, BatchNorm2d, Module};
use tensor::Tensor;

/// PyTorch's default ε, which the layers use unless told otherwise.
const EPS: f32 = 1e-5;

// ---------------------------------------------------------------------------------------------
// References
// ---------------------------------------------------------------------------------------------

/// Training-mode batch norm composed from autograd ops (reshape, mean_axis, sub, mul, sqrt, div,
/// add): the naive reference for the fused op, values and gradients.
fn composed_batch_norm(x: &Var, gamma: &Var, beta: &Var, eps: f32) -> Var {
    let shape = x.shape();
    let (n, c) = (shape[0], shape[1]);
    let s: usize = shape[2..].iter().product();
    let x3 = x.reshape(&[n, c, s]);
    // Every sample contributes S values to a channel, so the mean over samples of the per-sample
    // means is the mean over all m = N·S values.
    let mean = x3.mean_axis(2, true).mean_axis(0, true);
    let d = x3.sub(&mean);
    let var = d.mul(&d).mean_axis(2, true).mean_axis(0, true);
    let xhat = d.div(&var.add_scalar(eps).sqrt());
    xhat.mul(&gamma.reshape(&[1, c, 1]))
        .add(&beta.reshape(&[1, c, 1]))
        .reshape(&shape)
}

/// `(N, C, S)` of a shape `[N, C, …]`.
fn layout(shape: &[usize]) -> (usize, usize, usize) {
    (shape[0], shape[1], shape[2..].iter().product())
}

/// Per-channel mean and *biased* variance of `x [N, C, …]`, in f64 by plain loops.
fn f64_stats(x: &Tensor) -> (Vec<f64>, Vec<f64>) {
    let (n, c, s) = layout(x.shape());
    let at = |i: usize, ch: usize, j: usize| x.data()[(i * c + ch) * s + j] as f64;
    let m = (n * s) as f64;
    let mut mean = vec![0.0; c];
    let mut var = vec![0.0; c];
    for ch in 0..c {
        for i in 0..n {
            for j in 0..s {
                mean[ch] += at(i, ch, j);
            }
        }
        mean[ch] /= m;
        for i in 0..n {
            for j in 0..s {
                var[ch] += (at(i, ch, j) - mean[ch]).powi(2);
            }
        }
        var[ch] /= m;
    }
    (mean, var)
}

/// `y = (x − mean)/√(var + ε)·γ + β` per channel, in f64: the output of training mode (with the
/// batch's statistics) and of evaluation mode (with the running ones).
fn f64_normalise(
    x: &Tensor,
    mean: &[f64],
    var: &[f64],
    gamma: &[f32],
    beta: &[f32],
    eps: f64,
) -> Vec<f64> {
    let (_, c, s) = layout(x.shape());
    x.data()
        .iter()
        .enumerate()
        .map(|(k, &v)| {
            let ch = (k / s) % c;
            (v as f64 - mean[ch]) / (var[ch] + eps).sqrt() * gamma[ch] as f64 + beta[ch] as f64
        })
        .collect()
}

/// `∂L/∂x = γ·r·(g − mean(g) − x̂·mean(g·x̂))` in f64 by plain loops (the formula derived in
/// batch_norm.rs, whose correctness the gradchecks establish; this checks the kernel's arithmetic).
fn f64_input_gradient(x: &Tensor, g: &Tensor, gamma: &[f32], eps: f64) -> Vec<f64> {
    let (n, c, s) = layout(x.shape());
    let (mean, var) = f64_stats(x);
    let m = (n * s) as f64;
    let xhat = |k: usize| {
        let ch = (k / s) % c;
        (x.data()[k] as f64 - mean[ch]) / (var[ch] + eps).sqrt()
    };
    let mut mean_g = vec![0.0; c];
    let mut mean_gx = vec![0.0; c];
    for (k, &gv) in g.data().iter().enumerate() {
        let ch = (k / s) % c;
        mean_g[ch] += gv as f64 / m;
        mean_gx[ch] += gv as f64 * xhat(k) / m;
    }
    g.data()
        .iter()
        .enumerate()
        .map(|(k, &gv)| {
            let ch = (k / s) % c;
            let r = 1.0 / (var[ch] + eps).sqrt();
            gamma[ch] as f64 * r * (gv as f64 - mean_g[ch] - xhat(k) * mean_gx[ch])
        })
        .collect()
}

/// Asserts `|actual − expected| ≤ atol + rtol·|expected|` element by element.
fn assert_close(what: &str, actual: &[f32], expected: &[f64], atol: f64, rtol: f64) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths");
    for (k, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a as f64 - e).abs() <= atol + rtol * e.abs(),
            "{what}: element {k} is {a}, expected {e}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Gradient checks
// ---------------------------------------------------------------------------------------------

/// γ in [0.5, 1.5] and β in [−1, 1]: away from the trivial 1 and 0, so a backward that forgot γ
/// or confused it with β would show.
fn affine(channels: usize, seed: u64) -> (Tensor, Tensor) {
    (
        uniform(&[channels], 0.5, 1.5, seed),
        uniform(&[channels], -1.0, 1.0, seed ^ 0x5eed),
    )
}

/// The layer with its γ and β replaced by the checked variables, run on `v[0]`.
fn run_layer<const D: usize>(mut layer: BatchNorm<D>, v: &[Var]) -> Var {
    layer.weight = v[1].clone();
    layer.bias = v[2].clone();
    layer.forward(&v[0])
}

/// gradcheck of a freshly made layer in training mode, w.r.t. x, γ and β.
fn check_training<const D: usize>(make: fn(usize) -> BatchNorm<D>, shape: &[usize], seed: u64) {
    let x = uniform(shape, -2.0, 2.0, seed);
    let (gamma, beta) = affine(shape[1], seed ^ 1);
    let layer = make(shape[1]);
    let name = format!("{} training, input {shape:?}", layer.describe());
    gradcheck(&name, &[x, gamma, beta], |v| run_layer(make(shape[1]), v))
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn gradcheck_batch_norm_1d_training_on_n_c() {
    check_training(BatchNorm1d::new, &[6, 3], 1);
}

#[test]
fn gradcheck_batch_norm_1d_training_on_n_c_l() {
    check_training(BatchNorm1d::new, &[3, 2, 5], 2);
}

#[test]
fn gradcheck_batch_norm_2d_training() {
    check_training(BatchNorm2d::new, &[2, 3, 3, 4], 3);
}

#[test]
fn gradcheck_batch_norm_with_two_values_per_channel() {
    // m = 2, the smallest allowed. With d = x₁ − x₂, x̂₁ = −x̂₂ = (d/2)/√(d²/4 + ε): a smoothed
    // sign(d), a step of width ~√ε at d = 0 that no finite difference of step 1/16 can follow
    // when |d| is small. So: pairs at least 1.4 apart, and ε = 0.1 rather than 1e-5, which makes
    // ∂x̂₁/∂d = (ε/2)/(d²/4 + ε)^{3/2} sizeable (≈ 0.24 at |d| = 1) instead of ~1e-4, so that
    // ∂L/∂x is really checked and not just found ≈ 0.
    let x = Tensor::from_vec(vec![-1.0, 0.5, 2.0, 0.7, -0.9, -0.4], &[2, 3]).unwrap();
    let (gamma, beta) = affine(3, 4);
    gradcheck("BatchNorm1d training, m = 2", &[x, gamma, beta], |v| {
        run_layer(BatchNorm1d::new(3).with_eps(0.1), v)
    })
    .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn gradcheck_batch_norm_eval_mode() {
    // Running statistics that are not the defaults: a mean away from 0, variances away from 1.
    let running_mean = uniform(&[3], -1.0, 1.0, 5);
    let running_var = uniform(&[3], 0.5, 2.0, 6);
    let make = |channels: usize| {
        let mut bn = BatchNorm2d::new(channels);
        *bn.running_mean.value_mut() = running_mean.clone();
        *bn.running_var.value_mut() = running_var.clone();
        bn.set_training(false);
        bn
    };
    let x = uniform(&[2, 3, 2, 3], -2.0, 2.0, 7);
    let (gamma, beta) = affine(3, 8);
    gradcheck("BatchNorm2d eval", &[x, gamma, beta], |v| {
        run_layer(make(3), v)
    })
    .unwrap_or_else(|e| panic!("{e}"));

    let x = uniform(&[4, 3, 2], -2.0, 2.0, 9);
    let (gamma, beta) = affine(3, 10);
    gradcheck("BatchNorm1d eval", &[x, gamma, beta], |v| {
        let mut layer = BatchNorm1d::new(3);
        *layer.running_mean.value_mut() = running_mean.clone();
        *layer.running_var.value_mut() = running_var.clone();
        layer.set_training(false);
        run_layer(layer, v)
    })
    .unwrap_or_else(|e| panic!("{e}"));
}

/// Training-mode batch norm through the kernels, with `∂L/∂x` multiplied by `factor`.
fn batch_norm_scaled_dx(x: &Var, gamma: &Var, beta: &Var, factor: f32) -> Var {
    let (y, stats) = batch_norm_forward(&x.value(), gamma.value().data(), beta.value().data(), EPS);
    Var::from_op(
        "batch_norm, scaled",
        y,
        &[x, gamma, beta],
        move |g, inputs| {
            let grads = batch_norm_backward(
                g,
                &inputs[0].value(),
                inputs[1].value().data(),
                &stats,
                true,
            );
            let c = grads.bias.len();
            let dx = grads.input.expect("asked for").mul_scalar(factor);
            inputs[0].accumulate_grad(dx);
            inputs[1].accumulate_grad(Tensor::from_vec(grads.weight, &[c]).unwrap());
            inputs[2].accumulate_grad(Tensor::from_vec(grads.bias, &[c]).unwrap());
        },
    )
}

#[test]
fn gradcheck_catches_an_input_gradient_off_by_one_percent() {
    let x = uniform(&[4, 2, 3], -2.0, 2.0, 11);
    let (gamma, beta) = affine(2, 12);
    let inputs = [x, gamma, beta];
    gradcheck("batch_norm ×1", &inputs, |v| {
        batch_norm_scaled_dx(&v[0], &v[1], &v[2], 1.0)
    })
    .expect("the kernels' own backward passes");
    let err = gradcheck("batch_norm ×1.01", &inputs, |v| {
        batch_norm_scaled_dx(&v[0], &v[1], &v[2], 1.01)
    })
    .expect_err("∂L/∂x scaled by 1.01 must fail");
    assert_eq!(err.input, 0, "the wrong gradient is x's: {err}");
    // 24 elements; those whose gradient is below about 1.1 % of the largest can hide a 1 % error
    // in the tolerance (gradcheck's module doc), the rest cannot.
    assert!(err.failures > 12, "most elements should fail: {err}");
}

// ---------------------------------------------------------------------------------------------
// The fused op against its references
// ---------------------------------------------------------------------------------------------

/// Values and gradients (from random output weights) of `f` on fresh parameters.
fn value_and_grads(
    inputs: &[Tensor; 3],
    weights: &Tensor,
    f: impl Fn(&Var, &Var, &Var) -> Var,
) -> (Vec<f32>, [Vec<f32>; 3]) {
    let v: Vec<Var> = inputs.iter().map(|t| Var::parameter(t.clone())).collect();
    let y = f(&v[0], &v[1], &v[2]);
    let value = y.value().data().to_vec();
    y.mul(&Var::constant(weights.clone())).sum_all().backward();
    let grad = |i: usize| v[i].grad().expect("reached").data().to_vec();
    (value, [grad(0), grad(1), grad(2)])
}

#[test]
fn fused_op_matches_the_composed_reference() {
    for (shape, seed) in [
        (vec![4, 3, 5, 6], 20),
        (vec![7, 5], 21),
        (vec![3, 4, 9], 22),
    ] {
        // An offset mean (x in [−3, 5]) so that subtracting μ matters.
        let x = uniform(&shape, -3.0, 5.0, seed);
        let (gamma, beta) = affine(shape[1], seed ^ 1);
        let weights = uniform(&shape, -1.0, 1.0, seed ^ 2);
        let inputs = [x, gamma, beta];
        let (y_fused, g_fused) = value_and_grads(&inputs, &weights, |x, g, b| {
            batch_norm_train(x, g, b, EPS).0
        });
        let (y_ref, g_ref) = value_and_grads(&inputs, &weights, |x, g, b| {
            composed_batch_norm(x, g, b, EPS)
        });
        let widen = |v: &[f32]| v.iter().map(|&a| a as f64).collect::<Vec<_>>();
        // Both sides are f32 computations of the same function in different orders: values of
        // size ~2 agree to a few ulps (~1e-6); ∂L/∂γ, ∂L/∂β are sums of up to 120 such terms.
        let what = format!("{shape:?}");
        assert_close(&format!("y {what}"), &y_fused, &widen(&y_ref), 1e-5, 1e-5);
        assert_close(
            &format!("dx {what}"),
            &g_fused[0],
            &widen(&g_ref[0]),
            1e-5,
            1e-4,
        );
        assert_close(
            &format!("dγ {what}"),
            &g_fused[1],
            &widen(&g_ref[1]),
            1e-4,
            1e-4,
        );
        assert_close(
            &format!("dβ {what}"),
            &g_fused[2],
            &widen(&g_ref[2]),
            1e-4,
            1e-4,
        );
    }
}

#[test]
fn fused_op_matches_f64_loops_on_a_large_batch_far_from_zero() {
    // m = 32·32·32 = 32 768 values per channel around 100 with σ ≈ 0.58: a running f32 sum of
    // them is off by ~1e-3 in the mean, and E[x²] − μ² in f32 loses the variance entirely (x² ≈
    // 1e4 has an ulp of 1e-3). The kernel's f64 sums and two-pass variance must match f64 loops.
    let shape = [32, 2, 32, 32];
    let x = uniform(&shape, 99.0, 101.0, 30);
    let (gamma, beta) = affine(2, 31);
    // An upstream gradient with a large common part (g in [9, 11]): ∂L/∂x subtracts mean(g) ≈ 10
    // from g, so an error in Σ g shows in every element of ∂L/∂x, not only in ∂L/∂β.
    let g = uniform(&shape, 9.0, 11.0, 32);
    let (y, stats) = batch_norm_forward(&x, gamma.data(), beta.data(), EPS);
    let (mean, var) = f64_stats(&x);
    // Both f64 sums of the same values, in different orders: agree to ~1e-13 relative (the
    // variance is 0.33, so 1e-12 is ~1e-12 absolute); an f32 sum would be off by ~1e-6.
    for c in 0..2 {
        assert!((stats.mean[c] - mean[c]).abs() < 1e-10, "mean {c}");
        assert!((stats.var[c] - var[c]).abs() < 1e-12, "var {c}");
    }
    assert_eq!(stats.count, 32 * 32 * 32);
    // y: x − μ is formed in f64 and rounded once, then one f32 multiply-add: a few ulps of
    // values of size ≤ 1.5·1.74 + 1 ≈ 3.6, so ~1e-6. (With μ rounded to f32 first, the error
    // would be ulp(100)/2·γ·r ≈ 1e-5.)
    let expected = f64_normalise(&x, &mean, &var, gamma.data(), beta.data(), EPS as f64);
    assert_close("y", y.data(), &expected, 2e-6, 0.0);

    let grads = batch_norm_backward(&g, &x, gamma.data(), &stats, true);
    let expected_dx = f64_input_gradient(&x, &g, gamma.data(), EPS as f64);
    // dx ~ γ·r·(g − mean(g) − x̂·mean(g·x̂)) with g − mean(g) ≈ ±1 formed from values ≈ 10 (ulp
    // 1e-6): ~1e-6 of rounding. Errors this catches (each tried): Σ g or Σ g·x̂ summed in f32
    // (dx off by ~1e-4), or x̂ formed with μ rounded to f32 (mean(g·x̂) off by 10·2e-6·r, so dx
    // off by ~1e-4 too).
    assert_close(
        "dx",
        grads.input.as_ref().unwrap().data(),
        &expected_dx,
        5e-6,
        0.0,
    );
    // ∂L/∂β = Σ g ≈ 3.3e5 and ∂L/∂γ = Σ g·x̂ by f64 loops; the kernel rounds each f64 sum to
    // f32 once (half an ulp of 3.3e5 is 0.016, relative 5e-8). With μ rounded to f32, Σ g·x̂
    // would be off by Σ g·(μ − μ_f32)·r, up to ~1 here.
    let (_, c, s) = layout(&shape);
    let (mean, var) = f64_stats(&x);
    let mut sum_g = vec![0.0f64; c];
    let mut sum_g_xhat = vec![0.0f64; c];
    for (k, (&gv, &xv)) in g.data().iter().zip(x.data()).enumerate() {
        let ch = (k / s) % c;
        sum_g[ch] += gv as f64;
        sum_g_xhat[ch] += gv as f64 * (xv as f64 - mean[ch]) / (var[ch] + EPS as f64).sqrt();
    }
    assert_close("dβ", &grads.bias, &sum_g, 0.0, 1e-7);
    assert_close("dγ", &grads.weight, &sum_g_xhat, 1e-4, 1e-6);
    // Not asking for ∂L/∂x computes none.
    assert!(batch_norm_backward(&g, &x, gamma.data(), &stats, false)
        .input
        .is_none());
}

#[test]
fn training_output_has_zero_mean_and_unit_variance_per_channel() {
    let x = uniform(&[8, 4, 5, 5], 3.0, 9.0, 40);
    let mut bn = BatchNorm2d::new(4);
    let y = bn.forward(&Var::constant(x.clone()));
    let (mean_y, var_y) = f64_stats(&y.value());
    let (_, var_x) = f64_stats(&x);
    for c in 0..4 {
        // Mean: Σ x̂ = 0 exactly in real arithmetic; f32 rounding of 200 values of size ~2 leaves
        // ~1e-7.
        assert!(mean_y[c].abs() < 1e-5, "channel {c}: mean {}", mean_y[c]);
        // Variance: exactly σ²/(σ² + ε) in real arithmetic (ε/σ² ≈ 3e-6 below 1 for x uniform
        // on a width-6 interval, σ² ≈ 3).
        let expected = var_x[c] / (var_x[c] + EPS as f64);
        assert!(
            (var_y[c] - expected).abs() < 1e-5 && (var_y[c] - 1.0).abs() < 1e-5,
            "channel {c}: variance {}, expected {expected}",
            var_y[c]
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Running statistics and evaluation mode
// ---------------------------------------------------------------------------------------------

/// `[N, C]` from rows.
fn rows(values: &[[f32; 2]]) -> Tensor {
    let data = values.iter().flatten().copied().collect();
    Tensor::from_vec(data, &[values.len(), 2]).unwrap()
}

#[test]
fn running_statistics_after_one_and_two_steps_match_hand_values() {
    let mut bn = BatchNorm1d::new(2);
    // Step 1. Channel 0: [1, 2, 3, 4], μ = 2.5, biased σ² = 1.25, unbiased 5/3.
    //         Channel 1: [−2, 0, 2, 4], μ = 1, biased σ² = 5, unbiased 20/3.
    bn.forward(&Var::constant(rows(&[
        [1.0, -2.0],
        [2.0, 0.0],
        [3.0, 2.0],
        [4.0, 4.0],
    ])));
    // By hand, momentum 0.1: mean = 0.9·0 + 0.1·μ; var = 0.9·1 + 0.1·unbiased.
    let mean1 = [0.25, 0.1];
    let var1 = [0.9 + 0.1 * 5.0 / 3.0, 0.9 + 0.1 * 20.0 / 3.0];
    assert_close(
        "mean, step 1",
        bn.running_mean.value().data(),
        &mean1,
        1e-7,
        1e-6,
    );
    assert_close(
        "var, step 1",
        bn.running_var.value().data(),
        &var1,
        1e-7,
        1e-6,
    );

    // Step 2. Channel 0: [0, 0, 4, 4], μ = 2, biased σ² = 4, unbiased 16/3.
    //         Channel 1: [1, 1, 1, 5], μ = 2, biased σ² = 3, unbiased 4.
    let batch2 = rows(&[[0.0, 1.0], [0.0, 1.0], [4.0, 1.0], [4.0, 5.0]]);
    let train_y = bn.forward(&Var::constant(batch2.clone()));
    // By hand: mean = [0.9·0.25 + 0.2, 0.9·0.1 + 0.2] = [0.425, 0.29];
    //          var  = [0.9·1.0666… + 0.1·16/3, 0.9·1.5666… + 0.1·4] = [1.49333…, 1.81].
    let mean2 = [0.425, 0.29];
    let var2 = [0.9 * var1[0] + 0.1 * 16.0 / 3.0, 0.9 * var1[1] + 0.4];
    assert!((var2[0] - 1.493_333_333).abs() < 1e-8 && (var2[1] - 1.81).abs() < 1e-12);
    assert_close(
        "mean, step 2",
        bn.running_mean.value().data(),
        &mean2,
        1e-7,
        1e-6,
    );
    assert_close(
        "var, step 2",
        bn.running_var.value().data(),
        &var2,
        1e-7,
        1e-6,
    );

    // Evaluation uses the running statistics: (x − mean2)/√(var2 + ε), by the f64 reference.
    bn.set_training(false);
    let eval_y = bn.forward(&Var::constant(batch2.clone()));
    let expected = f64_normalise(&batch2, &mean2, &var2, &[1.0; 2], &[0.0; 2], EPS as f64);
    assert_close("eval output", eval_y.value().data(), &expected, 1e-6, 1e-6);
    // Training normalised channel 0 with its own statistics to exactly ±1 (up to ε):
    // (0 − 2)/√4 = −1; evaluation gives (0 − 0.425)/√1.4933 ≈ −0.348 instead.
    assert!((train_y.value().data()[0] + 1.0).abs() < 1e-5);
    assert!((eval_y.value().data()[0] + 0.3478).abs() < 1e-4);
    // And evaluation leaves the running statistics alone.
    assert_close(
        "mean after eval",
        bn.running_mean.value().data(),
        &mean2,
        1e-7,
        1e-6,
    );
    assert_close(
        "var after eval",
        bn.running_var.value().data(),
        &var2,
        1e-7,
        1e-6,
    );
}

#[test]
fn running_statistics_and_eval_output_match_an_f64_reference() {
    // Non-default settings, to show the builders take effect.
    let (momentum, eps) = (0.3, 1e-3);
    let mut bn = BatchNorm2d::new(3).with_momentum(momentum).with_eps(eps);
    assert_eq!((bn.momentum(), bn.eps()), (momentum, eps));
    let (gamma, beta) = affine(3, 50);
    *bn.weight.value_mut() = gamma.clone();
    *bn.bias.value_mut() = beta.clone();

    let mut mean = vec![0.0f64; 3];
    let mut var = vec![1.0f64; 3];
    let mut last = None;
    for step in 0..2u64 {
        let x = uniform(&[4, 3, 3, 5], -1.0 + step as f32, 3.0, 51 + step);
        let y = bn.forward(&Var::constant(x.clone()));
        // Training output: the batch's own statistics, by f64 loops.
        let (batch_mean, batch_var) = f64_stats(&x);
        let expected = f64_normalise(
            &x,
            &batch_mean,
            &batch_var,
            gamma.data(),
            beta.data(),
            eps as f64,
        );
        assert_close("training output", y.value().data(), &expected, 1e-5, 1e-5);
        // PyTorch's update, in f64: the unbiased variance (m = 4·3·5 = 60) into the average.
        let m = 60.0;
        for c in 0..3 {
            let k = momentum as f64;
            mean[c] = (1.0 - k) * mean[c] + k * batch_mean[c];
            var[c] = (1.0 - k) * var[c] + k * batch_var[c] * m / (m - 1.0);
        }
        assert_close(
            "running mean",
            bn.running_mean.value().data(),
            &mean,
            1e-6,
            1e-6,
        );
        assert_close(
            "running var",
            bn.running_var.value().data(),
            &var,
            1e-6,
            1e-6,
        );
        last = Some((x, y.value().clone()));
    }

    bn.set_training(false);
    let (x, train_y) = last.unwrap();
    let eval_y = bn.forward(&Var::constant(x.clone()));
    let expected = f64_normalise(&x, &mean, &var, gamma.data(), beta.data(), eps as f64);
    assert_close("eval output", eval_y.value().data(), &expected, 1e-5, 1e-5);
    // The running averages are not the last batch's statistics, so the outputs differ.
    let largest_difference = eval_y
        .value()
        .data()
        .iter()
        .zip(train_y.data())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(largest_difference > 0.1, "{largest_difference}");
}

#[test]
fn evaluation_accepts_a_single_sample() {
    // m = 1 is fine with running statistics: the defaults (0, 1) make y = x/√(1 + ε).
    let mut bn = BatchNorm1d::new(3);
    bn.set_training(false);
    let x = Tensor::from_vec(vec![1.0, -2.0, 3.0], &[1, 3]).unwrap();
    let y = bn.forward(&Var::constant(x.clone()));
    let expected: Vec<f64> = x
        .data()
        .iter()
        .map(|&v| v as f64 / (1.0 + 1e-5f64).sqrt())
        .collect();
    assert_close("y", y.value().data(), &expected, 1e-7, 1e-6);
}

// ---------------------------------------------------------------------------------------------
// The module surface
// ---------------------------------------------------------------------------------------------

#[test]
fn names_shapes_defaults_and_description() {
    let bn = BatchNorm2d::new(32);
    assert_eq!(bn.describe(), "BatchNorm2d(32)");
    assert_eq!(BatchNorm1d::new(16).describe(), "BatchNorm1d(16)");
    let names: Vec<String> = bn.state().into_iter().map(|(name, _)| name).collect();
    assert_eq!(names, ["weight", "bias", "running_mean", "running_var"]);
    assert_eq!(bn.num_parameters(), 64);
    // Initial values, by PyTorch's definition: γ = 1, β = 0, running mean 0, running var 1.
    for (name, var, value) in [
        ("weight", &bn.weight, 1.0),
        ("bias", &bn.bias, 0.0),
        ("running_mean", &bn.running_mean, 0.0),
        ("running_var", &bn.running_var, 1.0),
    ] {
        assert_eq!(var.shape(), [32], "{name}");
        assert!(var.value().data().iter().all(|&v| v == value), "{name}");
    }
    assert!(bn.weight.requires_grad() && bn.bias.requires_grad());
    assert!(!bn.running_mean.requires_grad() && !bn.running_var.requires_grad());
    assert_eq!(
        (bn.momentum(), bn.eps(), bn.is_training()),
        (0.1, 1e-5, true)
    );
}

#[test]
fn training_step_sends_gradients_to_gamma_and_beta_only() {
    let mut bn = BatchNorm1d::new(2);
    let x = Var::parameter(uniform(&[5, 2, 3], -1.0, 1.0, 60));
    let weights = Var::constant(uniform(&[5, 2, 3], -1.0, 1.0, 61));
    let y = bn.forward(&x);
    y.mul(&weights).sum_all().backward();
    assert_eq!(bn.weight.grad().unwrap().shape(), [2]);
    assert_eq!(bn.bias.grad().unwrap().shape(), [2]);
    assert_eq!(x.grad().unwrap().shape(), [5, 2, 3]);
    assert!(bn.running_mean.grad().is_none() && bn.running_var.grad().is_none());
    // ∂L/∂β = Σ w over each channel (∂y/∂β = 1), by f64 loop.
    let mut sum_w = [0.0f64; 2];
    for (k, &w) in weights.value().data().iter().enumerate() {
        sum_w[(k / 3) % 2] += w as f64;
    }
    assert_close("dβ", bn.bias.grad().unwrap().data(), &sum_w, 1e-6, 1e-6);
}

#[test]
fn batch_stats_report_count_and_rstd() {
    // One channel [1, 3]: μ = 2, σ² = 1, r = 1/√(1 + ε), by hand.
    let x = Tensor::from_vec(vec![1.0, 3.0], &[2, 1]).unwrap();
    let (y, stats) = batch_norm_forward(&x, &[2.0], &[0.5], EPS);
    let r = 1.0 / (1.0 + EPS as f64).sqrt();
    assert_eq!(
        stats,
        BatchStats {
            mean: vec![2.0],
            var: vec![1.0],
            rstd: vec![r],
            count: 2
        }
    );
    // y = 2·(∓1)·r + 0.5.
    assert_close("y", y.data(), &[0.5 - 2.0 * r, 0.5 + 2.0 * r], 1e-6, 0.0);
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

#[test]
#[should_panic(expected = "BatchNorm2d(3): input must be [N, 3, H, W], found [2, 4, 5, 5]")]
fn batch_norm_2d_rejects_a_wrong_channel_count() {
    BatchNorm2d::new(3).forward(&Var::constant(Tensor::zeros(&[2, 4, 5, 5])));
}

#[test]
#[should_panic(expected = "BatchNorm2d(3): input must be [N, 3, H, W], found [2, 3, 5]")]
fn batch_norm_2d_rejects_a_wrong_rank() {
    BatchNorm2d::new(3).forward(&Var::constant(Tensor::zeros(&[2, 3, 5])));
}

#[test]
#[should_panic(expected = "BatchNorm1d(3): input must be [N, 3] or [N, 3, L], found [2, 4]")]
fn batch_norm_1d_rejects_a_wrong_channel_count() {
    BatchNorm1d::new(3).forward(&Var::constant(Tensor::zeros(&[2, 4])));
}

#[test]
#[should_panic(
    expected = "BatchNorm1d(3): training needs more than one value per channel, found input [1, 3]"
)]
fn training_rejects_one_value_per_channel() {
    BatchNorm1d::new(3).forward(&Var::constant(Tensor::zeros(&[1, 3])));
}

#[test]
#[should_panic(expected = "BatchNorm2d(8): momentum must be in [0, 1], found 1.5")]
fn momentum_out_of_range_is_rejected() {
    let _ = BatchNorm2d::new(8).with_momentum(1.5);
}

/// A batch large enough to be split over the threads gives the same bits on one thread and on
/// three: the sums go by channel, each in the order one thread adds them (module doc, "Threads").
/// Checked on maps (`[N, C, H, W]`) and on features (`[N, C]`, one value per run).
#[test]
fn a_large_batch_gives_the_same_bits_on_one_thread_and_on_three() {
    for (shape, seed) in [(vec![16, 8, 24, 24], 40), (vec![4096, 32], 41)] {
        let channels = shape[1];
        let x = uniform(&shape, -3.0, 5.0, seed);
        let g = uniform(&shape, -1.0, 1.0, seed + 1);
        let (gamma, beta) = affine(channels, seed + 2);
        let on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a rayon pool");
            pool.install(|| {
                let (y, stats) = batch_norm_forward(&x, gamma.data(), beta.data(), EPS);
                let grads = batch_norm_backward(&g, &x, gamma.data(), &stats, true);
                (y, stats, grads)
            })
        };
        let (one, three) = (on(1), on(3));
        assert!(one.0.data() == three.0.data(), "{shape:?}: y differs");
        assert_eq!(one.1, three.1, "{shape:?}: the statistics differ");
        assert_eq!(one.2, three.2, "{shape:?}: the gradients differ");
        // And the split run is right, not only repeatable: its ∂L/∂x against f64 loops.
        let expected = f64_input_gradient(&x, &g, gamma.data(), EPS as f64);
        let dx = three.2.input.expect("asked for");
        assert_close("dx, three threads", dx.data(), &expected, 1e-4, 1e-3);
    }
}
