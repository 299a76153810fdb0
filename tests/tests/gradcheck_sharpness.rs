//! `gradcheck` is sharp: three deliberately wrong backwards — off by 1 %, transposed, and one that
//! assigns instead of accumulating — each make it fail, while the same ops with a correct backward
//! pass on the same inputs. Without this, a passing gradient suite would prove nothing.

use autograd::{gradcheck, Var};
use distillery_tests::uniform;
use tensor::Tensor;

/// `y = x²` elementwise, with its backward `2x·g` multiplied by `factor`.
fn square(x: &Var, factor: f32) -> Var {
    let y = x.value().mul(&x.value());
    Var::from_op("square", y, &[x], move |g, inputs| {
        let x = &inputs[0];
        let local = x.value().mul_scalar(2.0 * factor);
        x.accumulate_grad(g.mul(&local));
    })
}

/// `y = x·W` for a constant square `W`; the correct `∂L/∂x = g·Wᵀ`, the broken one its transpose.
fn times(x: &Var, w: &Tensor, transpose_the_gradient: bool) -> Var {
    let y = x.value().matmul(w);
    let w = w.clone();
    Var::from_op("times", y, &[x], move |g, inputs| {
        let dx = g.matmul_t(false, &w, true);
        let dx = if transpose_the_gradient {
            dx.transpose(0, 1)
        } else {
            dx
        };
        inputs[0].accumulate_grad(dx);
    })
}

/// `y = a·b` elementwise, used as `product(x, x)`. The broken backward *assigns* each input's
/// share instead of adding it, so the second share overwrites the first.
fn product(a: &Var, b: &Var, accumulate: bool) -> Var {
    let y = a.value().mul(&b.value());
    Var::from_op("product", y, &[a, b], move |g, inputs| {
        let (a, b) = (&inputs[0], &inputs[1]);
        let da = g.mul(&b.value());
        let db = g.mul(&a.value());
        for (input, share) in [(a, da), (b, db)] {
            if accumulate {
                input.accumulate_grad(share);
            } else {
                input.accumulate_grad_with(|grad| *grad = share);
            }
        }
    })
}

#[test]
fn a_backward_off_by_one_percent_fails() {
    // Values of magnitude 0.5 to 2: gradients 2x·w are mostly well above the 0.0125 below which
    // a 1 % error would hide in the absolute tolerance (see the gradcheck module doc).
    let x = uniform(&[4, 5], 0.5, 2.0, 1);
    gradcheck("square", std::slice::from_ref(&x), |v| square(&v[0], 1.0))
        .expect("the correct backward passes");
    let err = gradcheck("square ×1.01", &[x], |v| square(&v[0], 1.01))
        .expect_err("a backward scaled by 1.01 must fail");
    assert!(err.to_string().contains("square ×1.01"), "{err}");
    assert!(
        err.failures > 10,
        "most elements should fail, got {}",
        err.failures
    );
}

#[test]
fn a_transposed_gradient_fails() {
    let x = uniform(&[4, 4], -1.0, 1.0, 2);
    let w = uniform(&[4, 4], -1.0, 1.0, 3);
    gradcheck("times", std::slice::from_ref(&x), |v| {
        times(&v[0], &w, false)
    })
    .expect("the correct backward passes");
    let err = gradcheck("times, transposed", &[x], |v| times(&v[0], &w, true))
        .expect_err("a transposed gradient must fail");
    assert!(err.to_string().contains("times, transposed"), "{err}");
}

#[test]
fn a_backward_that_forgets_to_accumulate_fails() {
    // y = x·x through one op with x as both inputs: ∂y/∂x = 2x only if both shares are added.
    let x = uniform(&[3, 3], 0.5, 2.0, 4);
    gradcheck("product", std::slice::from_ref(&x), |v| {
        product(&v[0], &v[0], true)
    })
    .expect("accumulating passes");
    let err = gradcheck("product, assigning", &[x], |v| product(&v[0], &v[0], false))
        .expect_err("assigning instead of adding must fail");
    // It got x instead of 2x: the analytic value is half the numeric one.
    assert!(
        (err.analytic * 2.0 - err.numeric).abs() < 1e-3 * err.numeric.abs(),
        "{err}"
    );
}

#[test]
fn a_failure_names_the_op_the_input_the_element_and_both_values() {
    let x = Tensor::from_vec(vec![1.0, 2.0], &[2]).unwrap();
    let err = gradcheck("square ×1.01", &[x], |v| square(&v[0], 1.01)).unwrap_err();
    let message = err.to_string();
    // By hand: element 0 has analytic 2·1·1.01·w and numeric 2·1·w, for the check's weight w.
    assert_eq!((err.input, err.element), (0, 0));
    assert!(
        (err.analytic / err.numeric - 1.01).abs() < 1e-4,
        "{message}"
    );
    for part in [
        "square ×1.01",
        "input 0",
        "shape [2]",
        "element 0",
        "analytic",
        "numeric",
    ] {
        assert!(message.contains(part), "missing {part:?} in: {message}");
    }
}
