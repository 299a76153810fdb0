//! The fused backwards of autograd's fast paths against the generic recordings they replace.

use autograd::{no_grad, Var};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::Tensor;

/// Runs `f` on a fresh parameter holding `x`, backpropagates `g` from its output, and returns the
/// output value and the parameter's gradient.
fn value_and_grad(x: &Tensor, g: &Tensor, f: impl Fn(&Var) -> Var) -> (Tensor, Tensor) {
    let p = Var::parameter(x.clone());
    let y = f(&p);
    let value = y.value().clone();
    y.backward_with(g.clone());
    let grad = p.grad().expect("a gradient reached the input").clone();
    (value, grad)
}

#[test]
fn relu_backward_matches_the_generic_elementwise_form() {
    // Inputs with exact zeros (the kink, derivative taken as 0) and both signs; finite upstream
    // gradients, where the select and the product g·[y > 0] are identical bit for bit.
    let mut rng = StdRng::seed_from_u64(3);
    let raw = Tensor::uniform(&[37, 53], -1.0, 1.0, &mut rng);
    let data: Vec<f32> = raw
        .data()
        .iter()
        .enumerate()
        .map(|(i, &v)| if i % 5 == 0 { 0.0 } else { v })
        .collect();
    let x = Tensor::from_vec(data, &[37, 53]).unwrap();
    let g = Tensor::uniform(&[37, 53], -2.0, 2.0, &mut rng);
    let (y_fast, dx_fast) = value_and_grad(&x, &g, |v| v.relu());
    let (y_ref, dx_ref) = value_and_grad(&x, &g, |v| v.relu_reference());
    assert_eq!(y_fast, y_ref);
    assert_eq!(dx_fast, dx_ref);
    // And by hand: the gradient is g where x > 0 and 0 elsewhere.
    for ((&xi, &gi), &di) in x.data().iter().zip(g.data()).zip(dx_fast.data()) {
        assert_eq!(di, if xi > 0.0 { gi } else { 0.0 });
    }
}

#[test]
fn relu_used_twice_accumulates_both_paths() {
    // y = relu(x) + relu(x): the fused backward hands its owned buffer to x's gradient on the first
    // path and must add (not overwrite) on the second. By hand: dx = 2·g·[x > 0].
    let x = Tensor::from_vec(vec![-1.0, 0.0, 2.0, 3.0], &[4]).unwrap();
    let g = Tensor::from_vec(vec![1.0, 1.0, 1.0, 0.5], &[4]).unwrap();
    let (_, dx) = value_and_grad(&x, &g, |v| v.relu().add(&v.relu()));
    assert_eq!(dx.data(), &[0.0, 0.0, 2.0, 1.0]);
}

#[test]
fn relu_under_no_grad_records_nothing() {
    let p = Var::parameter(Tensor::from_vec(vec![-1.0, 2.0], &[2]).unwrap());
    let y = no_grad(|| p.relu());
    assert!(!y.requires_grad() && !y.is_recorded());
    assert_eq!(y.value().data(), &[0.0, 2.0]);
}

#[test]
fn linear_matches_the_product_plus_broadcast_bias() {
    // Reference: the two generic ops it replaces. Tolerance: the bias enters the sum at another
    // point (first instead of last), so results may differ by a few roundings of |x|·|W| + |b|
    // (k = 37 terms of size ≤ 1: well under 1e-5).
    let mut rng = StdRng::seed_from_u64(9);
    for n in [1, 5] {
        let x = Tensor::uniform(&[n, 37], -1.0, 1.0, &mut rng);
        let w = Tensor::uniform(&[11, 37], -1.0, 1.0, &mut rng);
        let b = Tensor::uniform(&[11], -1.0, 1.0, &mut rng);
        let g = Tensor::uniform(&[n, 11], -1.0, 1.0, &mut rng);
        let run = |fused: bool| {
            let (xv, wv, bv) = (
                Var::parameter(x.clone()),
                Var::parameter(w.clone()),
                Var::parameter(b.clone()),
            );
            let y = if fused {
                xv.linear(&wv, Some(&bv))
            } else {
                xv.matmul_t(false, &wv, true).add(&bv)
            };
            let value = y.value().clone();
            y.backward_with(g.clone());
            let grads = [&xv, &wv, &bv].map(|v| v.grad().unwrap().clone());
            (value, grads)
        };
        let (y_fast, g_fast) = run(true);
        let (y_ref, g_ref) = run(false);
        let close = |a: &Tensor, b: &Tensor, what: &str| {
            assert_eq!(a.shape(), b.shape(), "{what}");
            for (p, q) in a.data().iter().zip(b.data()) {
                assert!((p - q).abs() <= 1e-5, "{what}: {p} vs {q}");
            }
        };
        close(&y_fast, &y_ref, "value");
        for (i, name) in ["dx", "dW", "db"].iter().enumerate() {
            close(&g_fast[i], &g_ref[i], name);
        }
    }
}

#[test]
fn linear_passes_gradcheck() {
    let mut rng = StdRng::seed_from_u64(10);
    let inputs = [
        Tensor::uniform(&[3, 4], -1.0, 1.0, &mut rng),
        Tensor::uniform(&[5, 4], -1.0, 1.0, &mut rng),
        Tensor::uniform(&[5], -1.0, 1.0, &mut rng),
    ];
    autograd::gradcheck("linear", &inputs, |v| v[0].linear(&v[1], Some(&v[2]))).unwrap();
    autograd::gradcheck("linear (no bias)", &inputs[..2], |v| {
        v[0].linear(&v[1], None)
    })
    .unwrap();
}
