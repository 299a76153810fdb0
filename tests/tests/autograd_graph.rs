//! The mechanism itself: accumulation along several paths, gradients that persist on parameters,
//! no-grad mode, detach, and the messages for misuse.

use autograd::{no_grad, Var};
use tensor::Tensor;

fn scalar_param(v: f32) -> Var {
    Var::parameter(Tensor::from_vec(vec![v], &[1]).unwrap())
}

#[test]
fn a_value_used_twice_gets_both_paths() {
    // y = a·a + a, by hand ∂y/∂a = 2a + 1 = 7 at a = 3; b = a + a reused below adds 2 more paths.
    let a = scalar_param(3.0);
    let y = a.mul(&a).add(&a).sum_all();
    y.backward();
    assert_eq!(a.grad().unwrap().data(), &[7.0]);

    // A diamond: b = 2a, c = b·b + b, ∂c/∂a = (2b + 1)·2 = 26 at a = 3 (b = 6).
    let a = scalar_param(3.0);
    let b = a.mul_scalar(2.0);
    let c = b.mul(&b).add(&b).sum_all();
    c.backward();
    assert_eq!(a.grad().unwrap().data(), &[26.0]);
}

#[test]
fn parameter_gradients_add_up_until_zeroed() {
    let w = scalar_param(2.0);
    for _ in 0..3 {
        w.mul_scalar(5.0).sum_all().backward();
    }
    assert_eq!(w.grad().unwrap().data(), &[15.0]);
    w.zero_grad();
    assert!(w.grad().is_none());
    w.mul_scalar(5.0).sum_all().backward();
    assert_eq!(w.grad().unwrap().data(), &[5.0]);
}

#[test]
fn intermediate_values_keep_no_gradient_and_no_recipe_after_backward() {
    let w = scalar_param(2.0);
    let h = w.exp();
    let loss = h.mul_scalar(3.0).sum_all();
    assert!(h.is_recorded() && loss.is_recorded());
    loss.backward();
    assert!(
        !h.is_recorded() && !loss.is_recorded(),
        "backward frees the recipes"
    );
    assert!(
        h.grad().is_none(),
        "intermediate gradients are dropped once passed on"
    );
    assert!((w.grad().unwrap().data()[0] - 3.0 * 2f32.exp()).abs() < 1e-5);
}

#[test]
fn no_grad_records_nothing() {
    let w = scalar_param(2.0);
    let y = no_grad(|| w.mul(&w).exp());
    assert!(!y.requires_grad() && !y.is_recorded());
    assert!(
        autograd::is_recording(),
        "recording resumes after the scope"
    );
    // Nested scopes and a panic inside one still restore recording.
    let _ = std::panic::catch_unwind(|| no_grad(|| no_grad(|| panic!("inside"))));
    assert!(autograd::is_recording());
}

#[test]
fn detach_stops_the_gradient() {
    let w = scalar_param(2.0);
    let y = w.mul(&w.detach()).sum_all(); // treated as w·c with c = 2
    y.backward();
    assert_eq!(w.grad().unwrap().data(), &[2.0]);
}

#[test]
fn constants_get_no_gradient() {
    let w = scalar_param(2.0);
    let x = Var::constant(Tensor::from_vec(vec![3.0], &[1]).unwrap());
    w.mul(&x).sum_all().backward();
    assert!(x.grad().is_none());
    assert_eq!(w.grad().unwrap().data(), &[3.0]);
}

#[test]
fn backward_from_a_non_scalar_says_what_to_do() {
    let w = Var::parameter(Tensor::ones(&[2, 3]));
    let err =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| w.exp().backward())).unwrap_err();
    let message = err.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("[2, 3]") && message.contains("backward_with"),
        "{message}"
    );
}

#[test]
fn a_long_graph_dropped_without_backward_does_not_overflow_the_stack() {
    // A running total kept for a whole epoch, then dropped: Node's Drop unlinks the chain in a loop.
    let w = scalar_param(1.0);
    let mut total = w.clone();
    for _ in 0..100_000 {
        total = total.add(&w);
    }
    drop(total);
    assert_eq!(w.grad().map(|g| g.data().to_vec()), None);
}

#[test]
fn a_second_backward_through_a_consumed_graph_says_so() {
    // h is shared by two losses; the first backward frees the graph below h, so a second one
    // would silently lose the 30 it should add to w's gradient. It panics with the remedy instead.
    let w = scalar_param(1.0);
    let h = w.mul_scalar(3.0);
    let l1 = h.sum_all();
    let l2 = h.mul_scalar(10.0).sum_all();
    l1.backward();
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| l2.backward())).unwrap_err();
    let message = err.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("already consumed") && message.contains("backward once"),
        "{message}"
    );
    // The remedy gives the right answer: ∂(3w + 30w)/∂w = 33.
    let w = scalar_param(1.0);
    let h = w.mul_scalar(3.0);
    h.sum_all().add(&h.mul_scalar(10.0).sum_all()).backward();
    assert_eq!(w.grad().unwrap().data(), &[33.0]);
}

#[test]
fn every_gradient_contribution_must_have_the_value_s_shape() {
    // A custom op that sends a [3] gradient to a [2, 3] value is refused on the first *and* on a
    // later contribution (a broadcast here would hide the bug).
    let x = Var::parameter(Tensor::ones(&[2, 3]));
    for _ in 0..2 {
        let y = Var::from_op("bad", Tensor::zeros(&[1]), &[&x], |_, inputs| {
            inputs[0].accumulate_grad(Tensor::ones(&[3]))
        });
        let err =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| y.backward())).unwrap_err();
        let message = err.downcast_ref::<String>().unwrap();
        assert!(
            message.contains("[3]") && message.contains("[2, 3]"),
            "{message}"
        );
        x.accumulate_grad(Tensor::ones(&[2, 3])); // the second round starts with a gradient present
    }
}

#[test]
fn derivatives_at_the_kinks_are_the_documented_subgradients() {
    // By convention (as PyTorch): relu'(0) = 0, |x|'(0) = 0, leaky_relu'(0) = slope, and a max
    // with tied entries sends the whole gradient to the first of them.
    let x = Var::parameter(Tensor::from_vec(vec![0.0, 0.0], &[2]).unwrap());
    x.relu().sum_all().backward();
    assert_eq!(x.take_grad().unwrap().data(), &[0.0, 0.0]);
    x.abs().sum_all().backward();
    assert_eq!(x.take_grad().unwrap().data(), &[0.0, 0.0]);
    x.leaky_relu(0.1).sum_all().backward();
    assert_eq!(x.take_grad().unwrap().data(), &[0.1, 0.1]);
    x.max_axis(0, false).sum_all().backward();
    assert_eq!(x.take_grad().unwrap().data(), &[1.0, 0.0]);
}

#[test]
fn a_long_chain_does_not_overflow_the_stack() {
    // 100 000 ops in a row: the topological sort is iterative, and backward frees the chain link
    // by link.
    let w = scalar_param(1.0);
    let mut y = w.clone();
    for _ in 0..100_000 {
        y = y.mul_scalar(1.0);
    }
    y.sum_all().backward();
    assert_eq!(w.grad().unwrap().data(), &[1.0]);
}

#[test]
fn the_version_counts_each_loan_of_the_value_for_writing() {
    let w = Var::parameter(Tensor::zeros(&[2]));
    assert_eq!(w.version(), 0);
    drop(w.value()); // reading does not count
    assert_eq!(w.version(), 0);
    w.value_mut().data_mut()[0] = 3.0;
    drop(w.value_mut()); // a loan counts even if nothing is written
    assert_eq!(w.version(), 2);
    assert_eq!(w.clone().version(), 2, "a clone is the same node");
}
