//! `gradcheck` is sharp: deliberately wrong backwards — off by 1 % (at gradients of size 1, 1e-3
//! and 1e-5, and in a single element of a larger input), transposed, and one that assigns instead
//! of accumulating — each make it fail, while the same ops with a correct backward pass on the same
//! inputs. Without this, a passing gradient suite would prove nothing.

use autograd::{gradcheck, Reduction, Var};
use distillery_tests::{distributions, uniform};
use tensor::Tensor;

/// The absolute floor gradcheck had until issue 16 (`|a − n| ≤ 1e-4 + 2e-3·|n| + rounding`). A
/// 1 % error in gradients all below `100 · OLD_ATOL` stayed under it: the tests below assert that
/// their gradients are that small, so each is a case the old check passed.
const OLD_ATOL: f64 = 1e-4;

/// `y = x²` elementwise, with its backward `2x·g` multiplied by `factor`.
fn square(x: &Var, factor: f32) -> Var {
    let y = x.value().mul(&x.value());
    Var::from_op("square", y, &[x], move |g, inputs| {
        let x = &inputs[0];
        let local = x.value().mul_scalar(2.0 * factor);
        x.accumulate_grad(g.mul(&local));
    })
}

/// `y = scale·x²` elementwise, with its backward `2·scale·x·g` multiplied by `factor`: gradients of
/// size `scale`.
fn scaled_square(x: &Var, scale: f32, factor: f32) -> Var {
    let y = x.value().mul(&x.value()).mul_scalar(scale);
    Var::from_op("scaled square", y, &[x], move |g, inputs| {
        let x = &inputs[0];
        let local = x.value().mul_scalar(2.0 * scale * factor);
        x.accumulate_grad(g.mul(&local));
    })
}

/// `y = x²` elementwise, with the backward of element `wrong` (only) multiplied by 1.01.
fn square_wrong_at(x: &Var, wrong: usize) -> Var {
    let y = x.value().mul(&x.value());
    Var::from_op("square, one element ×1.01", y, &[x], move |g, inputs| {
        let x = &inputs[0];
        let mut local = x.value().mul_scalar(2.0);
        local.data_mut()[wrong] *= 1.01;
        x.accumulate_grad(g.mul(&local));
    })
}

/// `kl_div(z, p, T)` with mean reduction, with its closed-form backward `(softmax(z/T) − p)/(T·N)`
/// (rows of `p` sum to 1) multiplied by `factor`.
fn kl_div_scaled_backward(z: &Var, p: &Tensor, temperature: f32, factor: f32) -> Var {
    let value = Var::constant(z.value().clone())
        .kl_div(p, temperature, Reduction::Mean)
        .value()
        .clone();
    let p = p.clone();
    Var::from_op(
        "kl_div (hand-written backward)",
        value,
        &[z],
        move |g, inputs| {
            let z = &inputs[0];
            let n = z.shape()[0] as f32;
            let q = z.value().softmax(temperature);
            let grad = q.sub(&p).mul_scalar(factor * g.item() / (temperature * n));
            z.accumulate_grad(grad);
        },
    )
}

/// The largest |∂(Σ w·y)/∂x| of `f` at `x`, for weights `w` in [−1, 1] (as gradcheck's): from a
/// backward with all weights 1, which bounds it for elementwise `f` and scalar losses alike.
fn largest_gradient(x: &Tensor, f: impl Fn(&Var) -> Var) -> f64 {
    let p = Var::parameter(x.clone());
    let y = f(&p);
    y.backward_with(Tensor::ones(&y.shape()));
    let g = p.grad().expect("a gradient reached the input");
    g.data()
        .iter()
        .fold(0.0, |m: f64, &v| m.max((v as f64).abs()))
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
    // Values of magnitude 0.5 to 2: gradients 2x·w, all but those whose weight w is within 1 % of
    // 0 are above the 1.1 % of the largest below which a 1 % error hides (gradcheck's module doc).
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
fn a_backward_off_by_one_percent_fails_at_gradients_of_1e_3_and_1e_5() {
    // The same check as above with the function scaled by 1e-3 and 1e-5: gradcheck's tolerance is
    // relative to the gradient's size, so nothing changes but the scale.
    let x = uniform(&[4, 5], 0.5, 2.0, 1);
    for scale in [1e-3f32, 1e-5] {
        // 2·scale·x·w with |x| ≤ 2, |w| ≤ 1: every gradient is at most 4·scale.
        let largest = largest_gradient(&x, |v| scaled_square(v, scale, 1.0));
        assert!(
            largest <= 4.0 * scale as f64 && largest > scale as f64,
            "{largest}"
        );
        assert!(
            0.01 * largest < OLD_ATOL,
            "the old absolute floor would hide the error"
        );
        gradcheck("scaled square", std::slice::from_ref(&x), |v| {
            scaled_square(&v[0], scale, 1.0)
        })
        .unwrap_or_else(|e| panic!("the correct backward passes at scale {scale}: {e}"));
        let err = gradcheck("scaled square ×1.01", std::slice::from_ref(&x), |v| {
            scaled_square(&v[0], scale, 1.01)
        })
        .expect_err("a backward scaled by 1.01 must fail at any gradient size");
        assert!(
            err.failures > 10,
            "most elements should fail at scale {scale}: {err}"
        );
        assert!((err.analytic / err.numeric - 1.01).abs() < 1e-3, "{err}");
    }
}

#[test]
fn a_kl_div_backward_off_by_one_percent_fails_at_t_20() {
    // The case that motivated the relative tolerance: at T = 20 the student's softmax is nearly
    // uniform and its gradient (q − p)/(T·N) is small; with N = 8 rows of 10 classes, near 1e-3.
    let (rows, classes, temperature) = (8, 10, 20.0);
    let z = uniform(&[rows, classes], -3.0, 3.0, 5);
    let p = distributions(rows, classes, 6);
    let largest = largest_gradient(&z, |v| kl_div_scaled_backward(v, &p, temperature, 1.0));
    assert!(largest > 1e-4 && largest < 1e-2, "{largest}");
    assert!(
        0.01 * largest < OLD_ATOL,
        "the old absolute floor would hide the error"
    );
    let inputs = std::slice::from_ref(&z);
    gradcheck("kl_div, T = 20", inputs, |v| {
        v[0].kl_div(&p, temperature, Reduction::Mean)
    })
    .expect("the op itself passes");
    gradcheck("kl_div (hand-written backward)", inputs, |v| {
        kl_div_scaled_backward(&v[0], &p, temperature, 1.0)
    })
    .expect("the hand-written backward, unscaled, passes");
    let err = gradcheck("kl_div ×1.01", inputs, |v| {
        kl_div_scaled_backward(&v[0], &p, temperature, 1.01)
    })
    .expect_err("a kl_div backward scaled by 1.01 must fail");
    assert!(
        err.failures > rows * classes / 2,
        "most elements should fail: {err}"
    );
}

#[test]
fn a_backward_wrong_in_one_element_fails_at_that_element() {
    // 64 elements, one of them 1 % off, in turn each of them. Summed to a scalar, so that the
    // gradients are 2x·w for the check's one weight w: with x in [0.5, 2], each is at least a
    // quarter of the largest, far above the 1.1 % below which a 1 % error could hide (gradcheck's
    // module doc). (Elementwise output would give each element its own weight, and the few
    // elements whose weight is near 0 would have gradients too small to show a 1 % error.)
    let x = uniform(&[8, 8], 0.5, 2.0, 7);
    gradcheck("Σ square", std::slice::from_ref(&x), |v| {
        square(&v[0], 1.0).sum_all()
    })
    .expect("the correct backward passes");
    for wrong in 0..x.numel() {
        let err = gradcheck(
            "Σ square, one element ×1.01",
            std::slice::from_ref(&x),
            |v| square_wrong_at(&v[0], wrong).sum_all(),
        )
        .expect_err(&format!("element {wrong} 1 % off must fail"));
        assert_eq!((err.element, err.failures), (wrong, 1), "{err}");
    }
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

/// Nearest upsampling by 2 with a broken backward: the block sums scaled by `factor`, or (when
/// `top_left_only`) only the top-left gradient of each block passed back.
fn upsample_broken(x: &Var, factor: f32, top_left_only: bool) -> Var {
    let y = tensor::upsample::upsample_nearest2d(&x.value(), 2);
    Var::from_op("upsample (broken backward)", y, &[x], move |g, inputs| {
        let grad = if top_left_only {
            let [n, c, oh, ow] = g.shape()[..] else {
                unreachable!()
            };
            let mut dx = Vec::new();
            for plane in g.data().chunks(oh * ow) {
                for i in 0..oh / 2 {
                    for j in 0..ow / 2 {
                        dx.push(plane[2 * i * ow + 2 * j]);
                    }
                }
            }
            Tensor::from_vec(dx, &[n, c, oh / 2, ow / 2]).unwrap()
        } else {
            tensor::upsample::upsample_nearest2d_backward(g, 2).mul_scalar(factor)
        };
        inputs[0].accumulate_grad(grad);
    })
}

#[test]
fn an_upsampling_backward_off_by_one_percent_or_missing_a_block_fails() {
    let x = uniform(&[2, 3, 4, 5], -1.0, 1.0, 11);
    gradcheck("upsample", std::slice::from_ref(&x), |v| {
        v[0].upsample_nearest2d(2)
    })
    .expect("the real backward passes");
    gradcheck("upsample", std::slice::from_ref(&x), |v| {
        upsample_broken(&v[0], 1.0, false)
    })
    .expect("the helper with factor 1 is the real backward");
    assert!(
        gradcheck("upsample", std::slice::from_ref(&x), |v| upsample_broken(
            &v[0], 1.01, false
        ))
        .is_err()
    );
    assert!(gradcheck("upsample", &[x], |v| upsample_broken(&v[0], 1.0, true)).is_err());
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
