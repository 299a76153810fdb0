//! The three questions learners of a small autograd engine ask most, each answered by a test
//! (docs/book/02-autograd.md asks them as exercises):
//! - why does backward sort the graph first?
//! - why does backward *add* into a gradient rather than set it?
//! - what happens when backward runs twice?
//!
//! Every expected value is worked by hand in the comment beside it; the inputs are small integers,
//! so each gradient is exact in f32.

use autograd::Var;
use tensor::Tensor;

fn scalar_param(v: f32) -> Var {
    Var::parameter(Tensor::from_vec(vec![v], &[1]).unwrap())
}

fn panic_message(f: impl FnOnce()) -> String {
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_err();
    err.downcast_ref::<String>().cloned().unwrap_or_default()
}

/// A node must pass its gradient on only once every op that used it has added its share: `a`
/// below is used by `y` directly (a short path) and through `b` and `c` (a long one). A walk that
/// reached `a` from `y` and sent `a`'s gradient on at once — before `c` and `b` had added theirs —
/// would give `x` only the short path's share, `∂y/∂x = 1 · 2x = 4`. The topological order puts
/// `a` after `b` and `c` in the reverse walk, so `a` holds `1 + 6 = 7` when it is passed on.
#[test]
fn the_topological_order_waits_for_every_use_of_a_value() {
    let x = scalar_param(2.0);
    let a = x.mul(&x); // a = x² = 4
    let b = a.mul_scalar(3.0); // the long path: b = 3a,
    let c = b.mul_scalar(2.0); // c = 2b = 6a
    let y = a.add(&c).sum_all(); // y = a + 6a = 7x²
    y.backward();
    // ∂y/∂x = 14x = 28 at x = 2 (and 4 if the short path had been passed on alone).
    assert_eq!(x.grad().unwrap().data(), &[28.0]);
}

/// Adding is the multivariable chain rule: a value used by several ops gets one contribution from
/// each, and its gradient is their sum. An engine that *set* the gradient would keep only the last
/// contribution to arrive.
#[test]
fn backward_adds_the_contribution_of_every_use() {
    // y = w·w + 5w: the three uses of w contribute w, w and 5; ∂y/∂w = 2w + 5 = 11 at w = 3.
    let w = scalar_param(3.0);
    let y = w.mul(&w).add(&w.mul_scalar(5.0)).sum_all();
    y.backward();
    assert_eq!(w.grad().unwrap().data(), &[11.0]);
}

/// The same rule across two forward passes: a parameter's gradient is kept after backward and the
/// next backward adds to it, which is why a training step begins with `zero_grad` (and why
/// gradients of several batches can be accumulated on purpose before one optimiser step).
#[test]
fn a_second_forward_and_backward_adds_to_the_gradient() {
    let w = scalar_param(3.0);
    w.mul_scalar(2.0).sum_all().backward(); // ∂(2w)/∂w = 2
    assert_eq!(w.grad().unwrap().data(), &[2.0]);
    w.mul_scalar(5.0).sum_all().backward(); // + ∂(5w)/∂w = 5
    assert_eq!(w.grad().unwrap().data(), &[7.0]);
    w.zero_grad();
    assert!(w.grad().is_none(), "zero_grad forgets the gradient");
}

/// Backward frees the graph as it walks it (each op's saved tensors go as soon as its backward
/// has run), so the same loss cannot be walked twice: a second `backward` would find no recipe
/// below the loss and silently leave every gradient as it was. It panics instead, saying what to
/// do — run the forward again, or add the losses and call backward once.
#[test]
fn a_second_backward_on_the_same_loss_panics() {
    let w = scalar_param(3.0);
    let loss = w.mul(&w).sum_all();
    loss.backward();
    assert_eq!(w.grad().unwrap().data(), &[6.0]); // ∂w²/∂w = 2w
    assert!(!loss.is_recorded(), "the first backward took the graph");
    let message = panic_message(|| loss.backward());
    assert!(message.contains("already consumed"), "{message}");
    assert_eq!(w.grad().unwrap().data(), &[6.0], "nothing was added twice");
}
