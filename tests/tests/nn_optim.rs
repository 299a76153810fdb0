//! Optimisers, learning-rate schedules and gradient clipping (`nn::optim`).
//!
//! Three kinds of evidence: three steps of every optimiser on a 2-element parameter with
//! gradients we set ourselves, compared with the arithmetic worked by hand in the comments; 50
//! steps on random gradients against an f64 reference written below from the update equations;
//! and two small quadratics that must actually be minimised.
//!
//! Hand-worked tests use tolerance 1e-6 relative: three f32 steps on values near 1 round by a few
//! 1e-8. Where ε = 1e-8 enters Adam's denominator, its effect (lr·ε/√v̂ ≤ 1e-9) is below that and
//! left out of the hand arithmetic.

use autograd::Var;
use nn::optim::{
    clip_grad_norm, Adam, AdamW, ConstantLr, CosineLr, LrSchedule, Optimizer, ReduceOnPlateau, Sgd,
    StepLr,
};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tensor::Tensor;

fn tensor(values: &[f32]) -> Tensor {
    Tensor::from_vec(values.to_vec(), &[values.len()]).expect("a 1-D tensor")
}

fn param(values: &[f32]) -> Var {
    Var::parameter(tensor(values))
}

/// How a test builds the optimiser under test from its parameters.
type Make = fn(Vec<Var>) -> Box<dyn Optimizer>;

/// Sets `p`'s gradient to exactly `g` (replacing whatever was there).
fn set_grad(p: &Var, g: &[f32]) {
    p.zero_grad();
    p.accumulate_grad(tensor(g));
}

#[track_caller]
fn assert_close(actual: &[f32], expected: &[f64], rel: f64, what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths");
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        let err = (f64::from(a) - e).abs();
        assert!(
            err <= rel * e.abs().max(1.0),
            "{what}: element {i} is {a}, expected {e} (error {err:e}, allowed {rel:e} relative)"
        );
    }
}

/// Runs three steps of `opt` on θ = [1, −2] with the gradient `grads[t]` at step t, and
/// checks θ after each step against `expected[t]`.
#[track_caller]
fn three_steps(
    make: impl FnOnce(Vec<Var>) -> Box<dyn Optimizer>,
    grads: [[f32; 2]; 3],
    expected: [[f64; 2]; 3],
    what: &str,
) {
    let theta = param(&[1.0, -2.0]);
    let mut opt = make(vec![theta.clone()]);
    for (t, (g, e)) in grads.iter().zip(&expected).enumerate() {
        set_grad(&theta, g);
        opt.step();
        assert_close(
            theta.value().data(),
            e,
            1e-6,
            &format!("{what}, step {}", t + 1),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// SGD, by hand. lr = 0.1, θ₀ = [1, −2], the same gradient g = [0.2, −0.5] at every step.

#[test]
fn sgd_plain_three_steps_by_hand() {
    // θ ← θ − lr·g: each step moves by −0.1·[0.2, −0.5] = [−0.02, +0.05].
    // [1, −2] → [0.98, −1.95] → [0.96, −1.90] → [0.94, −1.85]
    three_steps(
        |p| Box::new(Sgd::new(p, 0.1)),
        [[0.2, -0.5]; 3],
        [[0.98, -1.95], [0.96, -1.90], [0.94, -1.85]],
        "sgd plain",
    );
}

#[test]
fn sgd_momentum_three_steps_by_hand() {
    // μ = 0.9; v ← μv + g, θ ← θ − lr·v.
    // element 0: step 1 v = g = 0.2,                θ = 1 − 0.1·0.2 = 0.98
    //            step 2 v = 0.9·0.2 + 0.2 = 0.38,   θ = 0.98 − 0.038 = 0.942
    //            step 3 v = 0.9·0.38 + 0.2 = 0.542, θ = 0.942 − 0.0542 = 0.8878
    // element 1: v = −0.5, −0.95, −1.355;          θ = −1.95, −1.855, −1.7195
    three_steps(
        |p| Box::new(Sgd::new(p, 0.1).momentum(0.9)),
        [[0.2, -0.5]; 3],
        [[0.98, -1.95], [0.942, -1.855], [0.8878, -1.7195]],
        "sgd momentum",
    );
}

#[test]
fn sgd_nesterov_three_steps_by_hand() {
    // μ = 0.9; v ← μv + g, θ ← θ − lr·(g + μv).
    // element 0: step 1 v = 0.2,   d = 0.2 + 0.9·0.2 = 0.38,    θ = 1 − 0.038 = 0.962
    //            step 2 v = 0.38,  d = 0.2 + 0.9·0.38 = 0.542,  θ = 0.962 − 0.0542 = 0.9078
    //            step 3 v = 0.542, d = 0.2 + 0.9·0.542 = 0.6878, θ = 0.9078 − 0.06878 = 0.83902
    // element 1: d = −0.95, −1.355, −1.7195;                    θ = −1.905, −1.7695, −1.59755
    three_steps(
        |p| Box::new(Sgd::new(p, 0.1).momentum(0.9).nesterov(true)),
        [[0.2, -0.5]; 3],
        [[0.962, -1.905], [0.9078, -1.7695], [0.83902, -1.59755]],
        "sgd nesterov",
    );
}

#[test]
fn sgd_weight_decay_with_momentum_three_steps_by_hand() {
    // wd = 0.5, μ = 0.9: the decay term goes into the velocity. g' = g + 0.5·θ.
    // element 0: step 1 g' = 0.2 + 0.5·1 = 0.7,         v = 0.7,                 θ = 1 − 0.07 = 0.93
    //            step 2 g' = 0.2 + 0.5·0.93 = 0.665,    v = 0.63 + 0.665 = 1.295, θ = 0.93 − 0.1295 = 0.8005
    //            step 3 g' = 0.2 + 0.5·0.8005 = 0.60025, v = 1.1655 + 0.60025 = 1.76575,
    //                                                                      θ = 0.8005 − 0.176575 = 0.623925
    // element 1: step 1 g' = −0.5 − 1 = −1.5,        v = −1.5,                     θ = −1.85
    //            step 2 g' = −0.5 − 0.925 = −1.425,  v = −1.35 − 1.425 = −2.775,   θ = −1.5725
    //            step 3 g' = −0.5 − 0.78625 = −1.28625, v = −2.4975 − 1.28625 = −3.78375,
    //                                                                      θ = −1.194125
    three_steps(
        |p| Box::new(Sgd::new(p, 0.1).momentum(0.9).weight_decay(0.5)),
        [[0.2, -0.5]; 3],
        [[0.93, -1.85], [0.8005, -1.5725], [0.623925, -1.194125]],
        "sgd weight decay",
    );
}

// ---------------------------------------------------------------------------------------------
// Adam, by hand. lr = 0.1, β1 = 0.5, β2 = 0.75 (exact in binary), θ₀ = [1, −2]. The gradients
// 2, −5, 4 were chosen so that every v̂ is a perfect square; element 1 gets −½ of element 0's
// gradient, so its m̂ is −½ and its v̂ ¼ of element 0's, and its steps are the same with the
// sign flipped.
//   step 1: m = 0.5·2 = 1,              m̂ = 1/(1 − 0.5) = 2
//           v = 0.25·4 = 1,             v̂ = 1/(1 − 0.75) = 4,          m̂/√v̂ = 2/2 = 1
//   step 2: m = 0.5·1 + 0.5·(−5) = −2,  m̂ = −2/(1 − 0.25) = −8/3
//           v = 0.75·1 + 0.25·25 = 7,   v̂ = 7/(1 − 0.5625) = 16,       m̂/√v̂ = −2/3
//   step 3: m = 0.5·(−2) + 0.5·4 = 1,   m̂ = 1/(1 − 0.125) = 8/7
//           v = 0.75·7 + 0.25·16 = 9.25, v̂ = 9.25/(1 − 0.421875) = 16, m̂/√v̂ = 2/7
const ADAM_GRADS: [[f32; 2]; 3] = [[2.0, -1.0], [-5.0, 2.5], [4.0, -2.0]];

#[test]
fn adam_three_steps_by_hand() {
    // θ ← θ − 0.1·m̂/√v̂: element 0: 1 − 0.1 = 0.9; 0.9 + 0.2/3 = 0.96666…; 0.96666… − 0.2/7 = 0.93809…
    //                    element 1: −2 + 0.1 = −1.9; −1.9 − 0.2/3; then + 0.2/7.
    let e0 = [0.9, 0.9 + 0.2 / 3.0, 0.9 + 0.2 / 3.0 - 0.2 / 7.0];
    three_steps(
        |p| Box::new(Adam::new(p, 0.1).betas(0.5, 0.75).eps(1e-8)),
        ADAM_GRADS,
        [
            [e0[0], -2.0 + (1.0 - e0[0])],
            [e0[1], -2.0 + (1.0 - e0[1])],
            [e0[2], -2.0 + (1.0 - e0[2])],
        ],
        "adam",
    );
}

#[test]
fn adam_l2_weight_decay_goes_through_the_moments() {
    // With L2 decay Adam sees g + wd·θ. Feed it the raw gradient e − wd·θ, where e is the
    // sequence of `adam_three_steps_by_hand`: it must then see exactly e and follow the same
    // trajectory. (Decoupled decay would instead shrink θ by lr·wd·θ ≈ 0.05 per step, and ignoring
    // the decay would feed the moments e − wd·θ: either is far outside the tolerance.)
    let wd = 0.5;
    let theta = param(&[1.0, -2.0]);
    let mut opt = Adam::new(vec![theta.clone()], 0.1)
        .betas(0.5, 0.75)
        .eps(1e-8)
        .weight_decay(wd);
    let e0 = [0.9, 0.9 + 0.2 / 3.0, 0.9 + 0.2 / 3.0 - 0.2 / 7.0];
    for (t, e) in ADAM_GRADS.iter().enumerate() {
        let raw: Vec<f32> = {
            let value = theta.value();
            e.iter()
                .zip(value.data())
                .map(|(&e, &th)| e - wd * th)
                .collect()
        };
        set_grad(&theta, &raw);
        opt.step();
        // Same values as `adam_three_steps_by_hand`.
        let expected = [e0[t], -2.0 + (1.0 - e0[t])];
        assert_close(
            theta.value().data(),
            &expected,
            1e-6,
            &format!("adam L2, step {}", t + 1),
        );
    }
}

#[test]
fn adamw_three_steps_by_hand() {
    // wd = 0.5: θ ← θ·(1 − 0.1·0.5) = 0.95·θ, then the Adam step of `adam_three_steps_by_hand`
    // (the moments see the raw gradient, so m̂/√v̂ = 1, −2/3, 2/7 as there).
    // element 0: 0.95·1 − 0.1 = 0.85
    //            0.95·0.85 + 0.2/3 = 0.8075 + 0.0666… = 0.874166…
    //            0.95·0.874166… − 0.2/7 = 0.830458… − 0.028571… = 0.801886…
    // element 1: 0.95·(−2) + 0.1 = −1.8; 0.95·(−1.8) − 0.2/3 = −1.776666…;
    //            0.95·(−1.776666…) + 0.2/7 = −1.659261…
    let a1 = 0.95 - 0.1;
    let a2 = 0.95 * a1 + 0.2 / 3.0;
    let a3 = 0.95 * a2 - 0.2 / 7.0;
    let b1 = 0.95 * -2.0 + 0.1;
    let b2 = 0.95 * b1 - 0.2 / 3.0;
    let b3 = 0.95 * b2 + 0.2 / 7.0;
    three_steps(
        |p| {
            Box::new(
                AdamW::new(p, 0.1)
                    .betas(0.5, 0.75)
                    .eps(1e-8)
                    .weight_decay(0.5),
            )
        },
        ADAM_GRADS,
        [[a1, b1], [a2, b2], [a3, b3]],
        "adamw",
    );
}

// ---------------------------------------------------------------------------------------------
// 50 steps on random gradients against an f64 reference of the same equations (the module
// documentation's), with a learning rate changed through `set_lr` at every step.

/// Which update the reference runs.
#[derive(Clone, Copy, Debug)]
enum Rule {
    Sgd {
        momentum: f64,
        nesterov: bool,
        wd: f64,
    },
    Adam {
        beta1: f64,
        beta2: f64,
        eps: f64,
        wd: f64,
        decoupled: bool,
    },
}

/// The f64 reference: one parameter, the update written straight from the equations.
struct Reference {
    rule: Rule,
    theta: Vec<f64>,
    v: Vec<f64>,
    m: Vec<f64>,
    t: i32,
}

impl Reference {
    fn step(&mut self, grad: &[f32], lr: f64) {
        self.t += 1;
        for (i, &g) in grad.iter().enumerate() {
            let g = f64::from(g);
            match self.rule {
                Rule::Sgd {
                    momentum,
                    nesterov,
                    wd,
                } => {
                    let g = g + wd * self.theta[i];
                    let d = if momentum == 0.0 {
                        g
                    } else {
                        self.v[i] = if self.t == 1 {
                            g
                        } else {
                            momentum * self.v[i] + g
                        };
                        if nesterov {
                            g + momentum * self.v[i]
                        } else {
                            self.v[i]
                        }
                    };
                    self.theta[i] -= lr * d;
                }
                Rule::Adam {
                    beta1,
                    beta2,
                    eps,
                    wd,
                    decoupled,
                } => {
                    let g = if decoupled {
                        self.theta[i] -= lr * wd * self.theta[i];
                        g
                    } else {
                        g + wd * self.theta[i]
                    };
                    self.m[i] = beta1 * self.m[i] + (1.0 - beta1) * g;
                    self.v[i] = beta2 * self.v[i] + (1.0 - beta2) * g * g;
                    let m_hat = self.m[i] / (1.0 - beta1.powi(self.t));
                    let v_hat = self.v[i] / (1.0 - beta2.powi(self.t));
                    self.theta[i] -= lr * m_hat / (v_hat.sqrt() + eps);
                }
            }
        }
    }
}

#[test]
fn fifty_random_steps_agree_with_an_f64_reference() {
    // The f32 values of the hyper-parameters, widened, are what the reference uses, so that the
    // comparison measures the arithmetic, not the rounding of 0.9 to f32.
    let (mu, b1, b2) = (f64::from(0.9f32), f64::from(0.9f32), f64::from(0.999f32));
    let cases: [(&str, Make, Rule); 7] = [
        (
            "sgd",
            |p| Box::new(Sgd::new(p, 0.1)),
            Rule::Sgd {
                momentum: 0.0,
                nesterov: false,
                wd: 0.0,
            },
        ),
        (
            "sgd momentum",
            |p| Box::new(Sgd::new(p, 0.1).momentum(0.9)),
            Rule::Sgd {
                momentum: mu,
                nesterov: false,
                wd: 0.0,
            },
        ),
        (
            "sgd nesterov",
            |p| Box::new(Sgd::new(p, 0.1).momentum(0.9).nesterov(true)),
            Rule::Sgd {
                momentum: mu,
                nesterov: true,
                wd: 0.0,
            },
        ),
        (
            "sgd weight decay",
            |p| Box::new(Sgd::new(p, 0.1).momentum(0.9).weight_decay(0.01)),
            Rule::Sgd {
                momentum: mu,
                nesterov: false,
                wd: f64::from(0.01f32),
            },
        ),
        (
            "adam",
            |p| Box::new(Adam::new(p, 0.1)),
            Rule::Adam {
                beta1: b1,
                beta2: b2,
                eps: f64::from(1e-8f32),
                wd: 0.0,
                decoupled: false,
            },
        ),
        (
            "adam l2",
            |p| Box::new(Adam::new(p, 0.1).weight_decay(0.01)),
            Rule::Adam {
                beta1: b1,
                beta2: b2,
                eps: f64::from(1e-8f32),
                wd: f64::from(0.01f32),
                decoupled: false,
            },
        ),
        (
            "adamw",
            |p| Box::new(AdamW::new(p, 0.1).weight_decay(0.01)),
            Rule::Adam {
                beta1: b1,
                beta2: b2,
                eps: f64::from(1e-8f32),
                wd: f64::from(0.01f32),
                decoupled: true,
            },
        ),
    ];
    for (seed, (name, make, rule)) in cases.into_iter().enumerate() {
        let mut rng = StdRng::seed_from_u64(seed as u64);
        let start: Vec<f32> = (0..7).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        let theta = param(&start);
        let mut opt = make(vec![theta.clone()]);
        let mut reference = Reference {
            rule,
            theta: start.iter().map(|&x| f64::from(x)).collect(),
            v: vec![0.0; 7],
            m: vec![0.0; 7],
            t: 0,
        };
        for step in 0..50 {
            // A decaying rate, set every step, as a schedule would.
            let lr = 0.05 * (1.0 - step as f32 / 100.0);
            opt.set_lr(lr);
            let grad: Vec<f32> = (0..7).map(|_| rng.random_range(-1.0f32..1.0)).collect();
            set_grad(&theta, &grad);
            opt.step();
            reference.step(&grad, f64::from(lr));
            assert_close(
                theta.value().data(),
                &reference.theta,
                1e-5,
                &format!("{name}, step {}", step + 1),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Skipped parameters, zero_grad, hyper-parameter checks.

#[test]
fn a_parameter_without_gradient_is_untouched_and_its_state_waits() {
    // `b` gets no gradient for two steps: its value stays bit for bit, and when it finally gets
    // one, its update is that of a *first* step. For Adam with β = (0.5, 0.75) that is a move of
    // lr·g/(|g| + ε) ≈ lr = 0.1; had b's step count advanced with a's (t = 3), the move would be
    // lr·(0.5/0.875)/√(0.25/0.578125) ≈ 0.0869.
    let makers: [(&str, Make, f64); 3] = [
        // SGD momentum: first step v = g = 0.5, θ = 1 − 0.1·0.5.
        (
            "sgd",
            |p| Box::new(Sgd::new(p, 0.1).momentum(0.9)),
            1.0 - 0.05,
        ),
        (
            "adam",
            |p| Box::new(Adam::new(p, 0.1).betas(0.5, 0.75)),
            1.0 - 0.1,
        ),
        // AdamW with no weight decay is Adam.
        (
            "adamw",
            |p| Box::new(AdamW::new(p, 0.1).betas(0.5, 0.75).weight_decay(0.0)),
            1.0 - 0.1,
        ),
    ];
    for (name, make, expected_b) in makers {
        let a = param(&[1.0, 2.0]);
        let b = param(&[1.0, 3.0]);
        let mut opt = make(vec![a.clone(), b.clone()]);
        for _ in 0..2 {
            set_grad(&a, &[0.3, -0.3]);
            opt.step();
            assert_eq!(
                b.value().data(),
                &[1.0, 3.0],
                "{name}: b moved without a gradient"
            );
            assert!(b.grad().is_none(), "{name}: step gave b a gradient");
        }
        set_grad(&b, &[0.5, 0.0]);
        opt.step();
        let b_value = b.value();
        assert_close(
            &b_value.data()[..1],
            &[expected_b],
            1e-6,
            &format!("{name}: b's first step"),
        );
        // A zero gradient element moves nowhere (Adam: m = 0, so 0/(0 + ε) = 0).
        assert_eq!(
            b_value.data()[1],
            3.0,
            "{name}: zero-gradient element moved"
        );
    }
}

#[test]
fn zero_grad_clears_every_gradient() {
    let a = param(&[1.0]);
    let b = param(&[2.0, 3.0]);
    let mut opt = Sgd::new(vec![a.clone(), b.clone()], 0.1);
    set_grad(&a, &[1.0]);
    set_grad(&b, &[1.0, 1.0]);
    opt.step();
    assert!(
        a.grad().is_some() && b.grad().is_some(),
        "step must not consume gradients"
    );
    opt.zero_grad();
    assert!(a.grad().is_none(), "a's gradient survived zero_grad");
    assert!(b.grad().is_none(), "b's gradient survived zero_grad");
    // And with nothing to apply, a step changes nothing.
    opt.step();
    assert_eq!(a.value().data(), &[0.9]);
}

#[test]
fn lr_and_set_lr_and_params() {
    let a = param(&[1.0]);
    let mut opt = AdamW::new(vec![a.clone()], 0.1);
    assert_eq!(opt.lr(), 0.1);
    opt.set_lr(0.25);
    assert_eq!(opt.lr(), 0.25);
    assert_eq!(opt.params().len(), 1);
    assert!(opt.params()[0].same_node(&a));
}

#[test]
#[should_panic(expected = "Sgd: the learning rate must be finite and ≥ 0, got -0.1")]
fn negative_lr_panics() {
    let _ = Sgd::new(vec![param(&[1.0])], -0.1);
}

#[test]
#[should_panic(expected = "Sgd: momentum must be in [0, 1), got 1")]
fn momentum_one_panics() {
    let _ = Sgd::new(vec![param(&[1.0])], 0.1).momentum(1.0);
}

#[test]
#[should_panic(expected = "Sgd: nesterov needs a momentum > 0")]
fn nesterov_without_momentum_panics() {
    let _ = Sgd::new(vec![param(&[1.0])], 0.1).nesterov(true);
}

#[test]
#[should_panic(expected = "Adam: beta2 must be in [0, 1), got 1")]
fn beta_one_panics() {
    let _ = Adam::new(vec![param(&[1.0])], 0.1).betas(0.9, 1.0);
}

#[test]
#[should_panic(expected = "AdamW: eps must be finite and > 0, got 0")]
fn zero_eps_panics() {
    let _ = AdamW::new(vec![param(&[1.0])], 0.1).eps(0.0);
}

#[test]
#[should_panic(expected = "Adam: the learning rate must be finite and ≥ 0, got NaN")]
fn nan_set_lr_panics() {
    Adam::new(vec![param(&[1.0])], 0.1).set_lr(f32::NAN);
}

// ---------------------------------------------------------------------------------------------
// Schedules.

#[test]
fn constant_lr_is_constant() {
    let mut s = ConstantLr::new(0.3);
    for epoch in 0..5 {
        assert_eq!(s.lr(epoch, Some(1.0 / (epoch as f32 + 1.0))), 0.3);
    }
}

#[test]
fn step_lr_at_known_epochs() {
    // base 0.1, step 3, γ 0.5: lr = 0.1·0.5^⌊(e+1)/3⌋ — by hand:
    // e = 0, 1 → ⌊1/3⌋ = ⌊2/3⌋ = 0 → 0.1; e = 2, 3, 4 → 1 → 0.05; e = 5 → ⌊6/3⌋ = 2 → 0.025;
    // e = 29 → ⌊30/3⌋ = 10 → 0.1/1024.
    let mut s = StepLr::new(0.1, 3, 0.5);
    let cases = [
        (0, 0.1),
        (1, 0.1),
        (2, 0.05),
        (3, 0.05),
        (4, 0.05),
        (5, 0.025),
        (29, 0.1 / 1024.0),
    ];
    for (epoch, expected) in cases {
        let lr = s.lr(epoch, None);
        assert_close(&[lr], &[expected], 1e-6, &format!("StepLr epoch {epoch}"));
    }
}

#[test]
fn cosine_lr_at_known_epochs() {
    // base 1, min 0.1, total 4: lr = 0.1 + 0.45·(1 + cos(π·(e+1)/4)) — by hand, cos(π/4) = √2/2:
    // e = 0 → 0.1 + 0.45·(1 + √2/2) = 0.868198…; e = 1 → cos(π/2) = 0 → 0.55;
    // e = 2 → 0.1 + 0.45·(1 − √2/2) = 0.231801…; e = 3 → cos π = −1 → 0.1; after: clamped at 0.1.
    let h = std::f64::consts::FRAC_1_SQRT_2;
    let mut s = CosineLr::new(1.0, 0.1, 4);
    let cases = [
        (0, 0.1 + 0.45 * (1.0 + h)),
        (1, 0.55),
        (2, 0.1 + 0.45 * (1.0 - h)),
        (3, 0.1),
        (4, 0.1),
        (50, 0.1),
    ];
    for (epoch, expected) in cases {
        let lr = s.lr(epoch, None);
        assert_close(&[lr], &[expected], 1e-6, &format!("CosineLr epoch {epoch}"));
    }
    // The end point is min_lr exactly, not a rounding away from it.
    assert_eq!(s.lr(3, None), 0.1);
}

#[test]
fn reduce_on_plateau_waits_for_patience_then_reduces_down_to_min_lr() {
    // lr 1, factor 0.5, patience 2, relative threshold 0.1 (better means < 0.9·best), min 0.2.
    let mut s = ReduceOnPlateau::new(1.0)
        .factor(0.5)
        .patience(2)
        .threshold(0.1)
        .min_lr(0.2);
    // (metric, expected lr after it, why) — worked by hand from the rule in the docs.
    let script: [(Option<f32>, f32, &str); 15] = [
        (Some(1.0), 1.0, "first metric: best = 1, no bad epoch"),
        (Some(0.95), 1.0, "0.95 ≥ 0.9·1: bad epoch 1"),
        (Some(0.92), 1.0, "bad epoch 2 = patience: not yet"),
        (None, 1.0, "no metric: nothing counts"),
        (Some(0.91), 0.5, "bad epoch 3 > patience: 1·0.5"),
        (Some(0.85), 0.5, "0.85 < 0.9·1: best = 0.85, count restarts"),
        (Some(0.80), 0.5, "0.80 ≥ 0.9·0.85 = 0.765: bad 1"),
        (Some(0.80), 0.5, "bad 2"),
        (Some(0.80), 0.25, "bad 3: 0.5·0.5"),
        (Some(0.80), 0.25, "count restarted at the reduction: bad 1"),
        (Some(0.80), 0.25, "bad 2"),
        (Some(0.80), 0.2, "bad 3: max(0.125, min 0.2)"),
        (Some(0.80), 0.2, "bad 1"),
        (Some(0.80), 0.2, "bad 2"),
        (
            Some(f32::NAN),
            0.2,
            "bad 3 (NaN is no improvement), but already at min_lr",
        ),
    ];
    for (epoch, (metric, expected, why)) in script.into_iter().enumerate() {
        let lr = s.lr(epoch, metric);
        assert_eq!(lr, expected, "epoch {epoch} ({why})");
    }
    assert_eq!(s.best(), 0.85);
}

#[test]
fn apply_sets_the_optimizer_lr() {
    let mut opt = Sgd::new(vec![param(&[1.0])], 0.1);
    let mut s = StepLr::new(0.1, 1, 0.5);
    // Epoch 0 done: ⌊1/1⌋ = 1 decay → 0.05.
    let lr = s.apply(&mut opt, 0, None);
    assert_eq!(lr, opt.lr());
    assert_close(&[opt.lr()], &[0.05], 1e-6, "after apply");
}

// ---------------------------------------------------------------------------------------------
// Gradient clipping. Gradients [3, 4] and [12]: global norm √(9 + 16 + 144) = √169 = 13.

fn clip_fixture() -> (Var, Var, Var) {
    let a = param(&[0.0, 0.0]);
    let b = param(&[0.0]);
    let no_grad = param(&[0.0]);
    set_grad(&a, &[3.0, 4.0]);
    set_grad(&b, &[12.0]);
    (a, b, no_grad)
}

fn global_norm(params: &[&Var]) -> f64 {
    params
        .iter()
        .filter_map(|p| {
            p.grad()
                .map(|g| g.data().iter().map(|&x| f64::from(x).powi(2)).sum::<f64>())
        })
        .sum::<f64>()
        .sqrt()
}

#[test]
fn clip_grad_norm_scales_to_max_norm() {
    let (a, b, no_grad) = clip_fixture();
    let norm = clip_grad_norm(&[a.clone(), b.clone(), no_grad.clone()], 6.5);
    assert_eq!(norm, 13.0, "√169 is exact");
    // New norm 6.5·13/(13 + 1e-6): within 1e-7 relative of 6.5.
    let after = global_norm(&[&a, &b]);
    assert!(
        (after - 6.5).abs() <= 1e-5 * 6.5,
        "norm after clipping {after}, expected 6.5"
    );
    // One factor for all (≈ 0.5): the direction is kept.
    assert_close(a.grad().unwrap().data(), &[1.5, 2.0], 1e-6, "a clipped");
    assert_close(b.grad().unwrap().data(), &[6.0], 1e-6, "b clipped");
    assert!(no_grad.grad().is_none(), "clipping created a gradient");
}

#[test]
fn clip_grad_norm_below_threshold_changes_nothing() {
    for max_norm in [13.0, 20.0] {
        let (a, b, _) = clip_fixture();
        let norm = clip_grad_norm(&[a.clone(), b.clone()], max_norm);
        assert_eq!(norm, 13.0);
        let bits = |v: &Var| {
            v.grad()
                .unwrap()
                .data()
                .iter()
                .map(|x| x.to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            bits(&a),
            [3.0f32.to_bits(), 4.0f32.to_bits()],
            "max_norm {max_norm}"
        );
        assert_eq!(bits(&b), [12.0f32.to_bits()], "max_norm {max_norm}");
    }
}

#[test]
fn clip_grad_norm_leaves_non_finite_gradients_for_the_caller() {
    let a = param(&[0.0, 0.0]);
    set_grad(&a, &[f32::INFINITY, 1.0]);
    let norm = clip_grad_norm(std::slice::from_ref(&a), 1.0);
    assert!(norm.is_infinite());
    assert_eq!(a.grad().unwrap().data(), &[f32::INFINITY, 1.0]);
}

// ---------------------------------------------------------------------------------------------
// Sanity: the optimisers minimise a small quadratic L(θ) = Σ c_i (θ_i − τ_i)², built with
// autograd ops, from θ = 0. Its minimum is L = 0 at θ = τ.

fn minimise(opt: &mut dyn Optimizer, theta: &Var, steps: usize) -> f32 {
    let c = Var::constant(tensor(&[1.0, 3.0, 0.5]));
    let tau = Var::constant(tensor(&[0.5, -1.0, 2.0]));
    let mut loss = f32::INFINITY;
    for _ in 0..steps {
        opt.zero_grad();
        let d = theta.sub(&tau);
        let l = d.mul(&d).mul(&c).sum_all();
        l.backward();
        loss = l.value().item();
        if loss < 1e-6 {
            break;
        }
        opt.step();
    }
    loss
}

#[test]
fn sgd_momentum_minimises_a_quadratic() {
    // Curvatures 2c ∈ {1, 6, 2}; lr·6 = 0.3 is well inside heavy-ball stability (< 2(1 + μ)).
    let theta = param(&[0.0, 0.0, 0.0]);
    let mut opt = Sgd::new(vec![theta.clone()], 0.05).momentum(0.9);
    let loss = minimise(&mut opt, &theta, 500);
    assert!(loss < 1e-6, "SGD momentum: loss {loss} after 500 steps");
}

#[test]
fn adam_minimises_a_quadratic() {
    let theta = param(&[0.0, 0.0, 0.0]);
    let mut opt = Adam::new(vec![theta.clone()], 0.05);
    let loss = minimise(&mut opt, &theta, 2000);
    assert!(loss < 1e-6, "Adam: loss {loss} after 2000 steps");
}

#[test]
fn sgd_on_a_large_parameter_is_the_same_on_one_and_two_threads() {
    // 100 003 elements: above the size where the update is cut into chunks for rayon, and not a
    // multiple of any chunk. Expected: the module doc's update written as a plain f32 loop, so the
    // comparison is exact (the same expression per element, whatever chunk it falls in).
    let n = 100_003;
    let mut rng = StdRng::seed_from_u64(11);
    let theta0: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
    let grads: Vec<Vec<f32>> = (0..3)
        .map(|_| (0..n).map(|_| rng.random_range(-1.0..1.0)).collect())
        .collect();
    let (lr, mu, wd) = (0.1f32, 0.9f32, 0.01f32);
    for nesterov in [false, true] {
        let (mut theta, mut v) = (theta0.clone(), vec![0.0f32; n]);
        for g in &grads {
            for i in 0..n {
                let g = g[i] + wd * theta[i];
                v[i] = mu * v[i] + g;
                let direction = if nesterov { g + mu * v[i] } else { v[i] };
                theta[i] -= lr * direction;
            }
        }
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a rayon pool");
            // Vars are not Send: the parameter lives and dies inside the pool's thread.
            let result = pool.install(|| {
                let p = param(&theta0);
                let mut opt = Sgd::new(vec![p.clone()], lr).momentum(mu);
                opt = opt.nesterov(nesterov).weight_decay(wd);
                for g in &grads {
                    set_grad(&p, g);
                    opt.step();
                }
                let theta = p.value().data().to_vec();
                theta
            });
            assert!(
                result == theta,
                "nesterov {nesterov}, {threads} thread(s): differs from the element-by-element update"
            );
        }
    }
}

#[test]
fn adam_on_a_large_parameter_is_the_same_on_one_and_two_threads() {
    // As for SGD above: 100 003 elements, cut into chunks for rayon; expected: Adam's update
    // written as a plain f32 loop (module doc), so the comparison is exact.
    let n = 100_003;
    let mut rng = StdRng::seed_from_u64(12);
    let theta0: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
    let grads: Vec<Vec<f32>> = (0..3)
        .map(|_| (0..n).map(|_| rng.random_range(-1.0..1.0)).collect())
        .collect();
    let (lr, beta1, beta2, eps, wd) = (0.01f32, 0.9f32, 0.999f32, 1e-8f32, 0.01f32);
    for decoupled in [false, true] {
        let (mut theta, mut m, mut v) = (theta0.clone(), vec![0.0f32; n], vec![0.0f32; n]);
        let (l2, shrink) = if decoupled {
            (0.0, 1.0 - lr * wd)
        } else {
            (wd, 1.0)
        };
        for (t, g) in grads.iter().enumerate() {
            let t = t as i32 + 1;
            let step_size = (f64::from(lr) / (1.0 - f64::from(beta1).powi(t))) as f32;
            let bias2_sqrt = (1.0 - f64::from(beta2).powi(t)).sqrt() as f32;
            for i in 0..n {
                let g = g[i] + l2 * theta[i];
                theta[i] *= shrink;
                m[i] = beta1 * m[i] + (1.0 - beta1) * g;
                v[i] = beta2 * v[i] + (1.0 - beta2) * g * g;
                theta[i] -= step_size * m[i] / (v[i].sqrt() / bias2_sqrt + eps);
            }
        }
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a rayon pool");
            // Vars are not Send: the parameter lives and dies inside the pool's thread.
            let result = pool.install(|| {
                let p = param(&theta0);
                let mut opt: Box<dyn Optimizer> = if decoupled {
                    Box::new(AdamW::new(vec![p.clone()], lr).weight_decay(wd))
                } else {
                    Box::new(Adam::new(vec![p.clone()], lr).weight_decay(wd))
                };
                for g in &grads {
                    set_grad(&p, g);
                    opt.step();
                }
                let theta = p.value().data().to_vec();
                theta
            });
            assert!(
                result == theta,
                "decoupled {decoupled}, {threads} thread(s): differs from the element-by-element update"
            );
        }
    }
}
