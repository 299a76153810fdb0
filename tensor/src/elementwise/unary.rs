//! Unary elementwise ops, `y = f(x)` with `y` of the shape of `x`.
//!
//! Each op is its scalar function handed to [`Tensor::map`]; `exp` and `relu` hand their SIMD slice
//! kernels to the same loop instead. Derivatives (for `autograd`), in terms of `x` or of `y`:
//!
//! | op              | y                              | dy/dx                         |
//! |-----------------|--------------------------------|-------------------------------|
//! | `neg`           | −x                             | −1                            |
//! | `exp`           | eˣ                             | y                             |
//! | `ln`            | ln x                           | 1/x                           |
//! | `sqrt`          | √x                             | 1/(2y)                        |
//! | `relu`          | max(x, 0)                      | 1 if x > 0 else 0             |
//! | `leaky_relu(s)` | x if x > 0 else s·x            | 1 if x > 0 else s             |
//! | `sigmoid`       | 1/(1 + e⁻ˣ)                    | y·(1 − y)                     |
//! | `tanh`          | tanh x                         | 1 − y²                        |
//! | `abs`           | \|x\|                          | sign(x)                       |
//! | `powf(p)`       | xᵖ                             | p·xᵖ⁻¹                        |
//! | `clamp(lo, hi)` | min(max(x, lo), hi)            | 1 if lo < x < hi else 0       |
//!
//! NaN in gives NaN out for every op (`relu` included: see `simd`).

use crate::error::{fail, TensorError};
use crate::simd;
use crate::Tensor;

/// The logistic function, computed without overflow for any `x`: for `x ≥ 0`, `e⁻ˣ ≤ 1` and
/// `1/(1 + e⁻ˣ)` is safe; for `x < 0` the same value is written `eˣ/(1 + eˣ)`, again with an
/// exponential ≤ 1. (The naive `eˣ/(1 + eˣ)` gives ∞/∞ = NaN from x ≈ 89 up.)
#[inline]
fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

impl Tensor {
    /// `−x`.
    pub fn neg(&self) -> Tensor {
        self.map(|x| -x)
    }

    /// `eˣ`, with the SIMD `exp` (relative error < 1.5 ulp; 0 for x < −104, ∞ for x > 88.73).
    pub fn exp(&self) -> Tensor {
        self.map_slices(simd::exp)
    }

    /// The natural logarithm: NaN for x < 0, −∞ at 0.
    pub fn ln(&self) -> Tensor {
        self.map(f32::ln)
    }

    /// The square root: NaN for x < 0.
    pub fn sqrt(&self) -> Tensor {
        self.map(f32::sqrt)
    }

    /// `max(x, 0)`, with the SIMD kernel; NaN stays NaN.
    pub fn relu(&self) -> Tensor {
        self.map_slices(simd::relu)
    }

    /// `x` for `x > 0`, `slope·x` otherwise.
    pub fn leaky_relu(&self, slope: f32) -> Tensor {
        self.map(|x| if x > 0.0 { x } else { slope * x })
    }

    /// The logistic function `1/(1 + e⁻ˣ)`, stable for large `|x|`: exactly 1 far right, tiny
    /// (down to 0) far left, never NaN for finite input.
    pub fn sigmoid(&self) -> Tensor {
        self.map(sigmoid)
    }

    /// The hyperbolic tangent (the standard library's, stable for large `|x|`).
    pub fn tanh(&self) -> Tensor {
        self.map(f32::tanh)
    }

    /// `|x|`.
    pub fn abs(&self) -> Tensor {
        self.map(f32::abs)
    }

    /// `xᵖ` (the standard library's `powf`: NaN for negative `x` and non-integer `p`).
    pub fn powf(&self, p: f32) -> Tensor {
        self.map(|x| x.powf(p))
    }

    /// `x` limited to `[lo, hi]`; NaN stays NaN. Panics unless `lo ≤ hi`.
    #[track_caller]
    pub fn clamp(&self, lo: f32, hi: f32) -> Tensor {
        // `!(lo <= hi)` rather than `lo > hi`, so that a NaN bound is refused too.
        #[allow(clippy::neg_cmp_op_on_partial_ord)]
        if !(lo <= hi) {
            fail(TensorError::InvalidArgument {
                op: "clamp",
                message: format!("needs lo <= hi, found lo = {lo}, hi = {hi}"),
            });
        }
        self.map(|x| x.clamp(lo, hi))
    }
}
