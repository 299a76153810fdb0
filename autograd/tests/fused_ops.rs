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
