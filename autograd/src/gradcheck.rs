//! `gradcheck`: the one test of every derivative in Distillery.
//!
//! For a function `f` of some tensors, it compares the gradient that backward computes with one
//! measured by finite differences, for every element of every input.
//!
//! ## What is compared
//! `f` may return a tensor of any shape `y`. The check reduces it to a scalar with fixed random
//! weights, `L = Σ_i w_i·y_i`, `w_i ∈ [−1, 1]`, and starts backward from `w` (`backward_with`). Any
//! mistake in any row of the Jacobian then shows, where `y.sum()` would hide errors that cancel
//! (a transposed gradient of a symmetric-looking op, say).
//!
//! ## How the numerical derivative is made precise in f32
//! The engine is f32 (PyTorch runs its gradcheck in f64 for good reason: a central difference
//! `(L(x+h) − L(x−h)) / 2h` loses digits to rounding as `h` shrinks and to curvature as it grows).
//! Three things keep ours sharp:
//! - `L` is summed in f64 from the f32 outputs, and outputs an element does not touch come out
//!   bit-identical in both evaluations, so they cancel exactly.
//! - Steps are powers of two (`h = 2⁻⁴` and `h/2`), so the perturbation adds no rounding of its own
//!   for inputs of moderate size (for |x| < 1 with low-order bits set, `x ± h` rounds by at most
//!   one ulp of x, a relative step error below 1e-6 — harmless).
//! - Richardson extrapolation: with `D(h)` the central difference, `(4·D(h/2) − D(h)) / 3` cancels
//!   the `h²` error term, leaving `−h⁴/480·f⁽⁵⁾` (expand `f(x ± h)` to fifth order): about 3e-8
//!   times the fifth derivative. That lets `h` be large, and rounding is what a large `h` keeps
//!   small: each evaluation of `L` carries an error of at most about `u·S` (u = 6e-8 the f32 unit
//!   roundoff, `S = Σ|w_i·y_i|`, each output correctly rounded), so `D(h)` carries `u·S/h`,
//!   `D(h/2)` twice that, and the extrapolation `(4·2 + 1)/3 = 3` times it: `3·u·S/h`.
//!
//! ## The tolerance: relative to the gradient's own size
//! An element `j` of input `i` passes when
//!
//! ```text
//! |analytic_j − numeric_j| ≤ RTOL·|numeric_j| + ATOL·scale_i + 3·u·S/h
//! scale_i = max_j |numeric_j|   (the size of input i's gradient)
//! ```
//!
//! Nothing in it is an absolute size: scale every output of `f` by 1e-5 and every term scales with
//! it, so a loss whose gradients are all near 1e-3 or 1e-5 (a KL divergence at T = 20 averaged
//! over a batch) is checked as sharply as one near 1. (An absolute floor, `1e-4` until issue 16,
//! let such a backward be a few per cent off.)
//! - `RTOL = 1e-3` (PyTorch's): the two sides are each far more accurate than this relative to
//!   the element itself — the truncation above, and the analytic side's f32 rounding, a few `u`
//!   per op.
//! - `ATOL·scale`, `ATOL = 1e-4`: an element much smaller than its input's largest (a gradient
//!   near zero by cancellation) is computed, on both sides, from terms the size of `scale`, so its
//!   rounding is relative to `scale`, not to itself: a sum of `k` such terms is off by up to
//!   `k·u·scale` (Higham's `γ_k`), 6e-5·scale for `k = 1000`. The same term absorbs a forward
//!   whose outputs carry a few roundings more than the one counted in `S`.
//! - `3·u·S/h`: the round-off of the finite difference, derived above and computed for each call,
//!   so a large output is not failed by its own rounding. It scales with `f` too.
//!
//! A backward off by a relative 0.01 therefore fails at every element whose gradient exceeds
//! about 0.011 times its input's largest (`0.01·|n| > 0.001·|n| + 0.0001·scale`), plus the
//! rounding term (a small share of `scale` for any `f` whose outputs are not far larger than its
//! gradients). `tests/tests/gradcheck_sharpness.rs` shows deliberately wrong backwards failing:
//! off by a relative 0.01 at gradients of size 1, 1e-3 and 1e-5, off by 0.01 in a single
//! element, transposed, assigning.
//!
//! The bound assumes `f`'s outputs are accurate to about one rounding of their own size. A forward
//! whose output is a small difference of large f32 intermediates breaks that (its noise is a
//! rounding of the intermediates): compute such an output in f64, as the fused losses do
//! (`ops/losses.rs`; `kd`'s binary distillation goes through `kl_div` for that reason).
//!
//! Inputs must keep away from points where `f` is not differentiable (relu at 0, ties in a max) by
//! more than `h`: test generators do that (|x| ≥ 0.1, distinct values 0.1 apart), rather than the
//! check being loosened.

use std::fmt;

use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::Tensor;

use crate::no_grad::no_grad;
use crate::var::Var;

/// Finite-difference step (a power of two: see the module doc).
pub const STEP: f32 = 1.0 / 16.0;
/// Relative tolerance, per element (see the module doc).
pub const RTOL: f64 = 1e-3;
/// Absolute tolerance, as a fraction of the input's gradient scale (see the module doc).
pub const ATOL: f64 = 1e-4;

/// The tolerance of one element: `RTOL·|numeric| + ATOL·scale + rounding` (see the module doc).
pub fn tolerance(numeric: f64, scale: f64, rounding: f64) -> f64 {
    RTOL * numeric.abs() + ATOL * scale + rounding
}

/// Why a gradient check failed: which op, which input, which element, and both values.
#[derive(Debug, Clone)]
pub struct GradcheckError {
    pub op: String,
    pub input: usize,
    pub input_shape: Vec<usize>,
    pub element: usize,
    pub analytic: f64,
    pub numeric: f64,
    /// How many elements of this input failed.
    pub failures: usize,
    /// The input's gradient scale: the largest |numeric| over its elements.
    pub scale: f64,
    /// The rounding allowance `3·u·S/h` of this call (see the module doc).
    pub rounding: f64,
}

impl GradcheckError {
    /// The failing element's tolerance, [`tolerance`]`(numeric, scale, rounding)`.
    pub fn tolerance(&self) -> f64 {
        tolerance(self.numeric, self.scale, self.rounding)
    }
}

impl fmt::Display for GradcheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gradcheck failed for {}: input {} (shape {:?}), element {}: analytic {:.6e}, numeric {:.6e} \
             (difference {:.2e}, tolerance {:.2e} = {RTOL:.0e}·|numeric| + {ATOL:.0e}·scale {:.2e} \
             + rounding {:.2e}; {} element(s) of this input fail)",
            self.op,
            self.input,
            self.input_shape,
            self.element,
            self.analytic,
            self.numeric,
            (self.analytic - self.numeric).abs(),
            self.tolerance(),
            self.scale,
            self.rounding,
            self.failures,
        )
    }
}

impl std::error::Error for GradcheckError {}

/// Checks the gradient of `f` with respect to every element of every tensor in `inputs` (see the
/// module doc). `op` names what is checked, for the failure message.
pub fn gradcheck(
    op: &str,
    inputs: &[Tensor],
    f: impl Fn(&[Var]) -> Var,
) -> Result<(), GradcheckError> {
    // Analytic: one forward with the inputs as parameters, one backward from random weights.
    let params: Vec<Var> = inputs.iter().map(|t| Var::parameter(t.clone())).collect();
    let y = f(&params);
    let weights = Tensor::uniform(&y.shape(), -1.0, 1.0, &mut StdRng::seed_from_u64(0x9e37));
    if y.requires_grad() {
        y.backward_with(weights.clone());
    }
    drop(y);

    // Numeric: L(inputs) = Σ w·f(inputs), in f64, evaluated without recording. `term` turns each
    // product w·y into what is summed: itself for L, its size for S = Σ|w·y| (the rounding scale).
    let weighted_sum = |values: &[Tensor], term: fn(f64) -> f64| -> f64 {
        no_grad(|| {
            let vars: Vec<Var> = values.iter().map(|t| Var::constant(t.clone())).collect();
            let y = f(&vars);
            let y = y.value();
            y.data()
                .iter()
                .zip(weights.data())
                .map(|(&v, &w)| term(v as f64 * w as f64))
                .sum()
        })
    };
    let loss = |values: &[Tensor]| weighted_sum(values, |p| p);
    let mut values: Vec<Tensor> = inputs.to_vec();
    // S at the unperturbed inputs, for the rounding allowance 3·u·S/h.
    let magnitude = weighted_sum(&values, f64::abs);
    let rounding = 3.0 * (f32::EPSILON as f64 / 2.0) * magnitude / STEP as f64;
    for (i, param) in params.iter().enumerate() {
        let analytic: Vec<f32> = match param.grad() {
            Some(g) => g.data().to_vec(),
            None => vec![0.0; inputs[i].numel()],
        };
        // Every element's numeric derivative first: the tolerance needs the input's scale.
        let numeric: Vec<f64> = (0..analytic.len())
            .map(|j| {
                let x = inputs[i].data()[j];
                let mut central = |h: f32| -> f64 {
                    values[i].data_mut()[j] = x + h;
                    let plus = loss(&values);
                    values[i].data_mut()[j] = x - h;
                    let minus = loss(&values);
                    values[i].data_mut()[j] = x;
                    (plus - minus) / (2.0 * h as f64)
                };
                let coarse = central(STEP);
                let fine = central(STEP / 2.0);
                (4.0 * fine - coarse) / 3.0
            })
            .collect();
        let scale = numeric.iter().fold(0.0, |m: f64, n| m.max(n.abs()));
        let mut first_failure = None;
        let mut failures = 0;
        for (j, (&a, &n)) in analytic.iter().zip(&numeric).enumerate() {
            let a = a as f64;
            // False when either side is NaN, so a NaN gradient fails.
            let within = (a - n).abs() <= tolerance(n, scale, rounding);
            if !within {
                failures += 1;
                first_failure.get_or_insert((j, a, n));
            }
        }
        if let Some((element, analytic, numeric)) = first_failure {
            return Err(GradcheckError {
                op: op.to_string(),
                input: i,
                input_shape: inputs[i].shape().to_vec(),
                element,
                analytic,
                numeric,
                failures,
                scale,
                rounding,
            });
        }
    }
    Ok(())
}
