//! Binary elementwise ops with NumPy broadcasting, and their forms with a scalar operand.
//!
//! `z = a ∘ b` has the broadcast shape of `a` and `b`. Each op names its SIMD slice kernel (run on
//! equal shapes and on rows where both operands are contiguous, e.g. a bias added to every row) and
//! its scalar function (run along broadcast rows); see `kernel.rs` for the walk. Derivatives, for
//! `autograd` (each summed back over the axes that were broadcast):
//!
//! | op        | z          | ∂z/∂a            | ∂z/∂b              |
//! |-----------|------------|------------------|--------------------|
//! | `add`     | a + b      | 1                | 1                  |
//! | `sub`     | a − b      | 1                | −1                 |
//! | `mul`     | a · b      | b                | a                  |
//! | `div`     | a / b      | 1/b              | −a/b²              |
//! | `maximum` | max(a, b)  | 1 if a > b else 0 | 1 if a ≤ b else 0 |

use crate::simd;
use crate::Tensor;

impl Tensor {
    /// `a + b`, broadcasting. Panics with "add: incompatible shapes [..] and [..]" otherwise.
    #[track_caller]
    pub fn add(&self, other: &Tensor) -> Tensor {
        self.zip_slices(other, "add", simd::add, |x, y| x + y)
    }

    /// `a − b`, broadcasting.
    #[track_caller]
    pub fn sub(&self, other: &Tensor) -> Tensor {
        self.zip_slices(other, "sub", simd::sub, |x, y| x - y)
    }

    /// `a · b` elementwise (the Hadamard product), broadcasting.
    #[track_caller]
    pub fn mul(&self, other: &Tensor) -> Tensor {
        self.zip_slices(other, "mul", simd::mul, |x, y| x * y)
    }

    /// `a / b` elementwise, broadcasting (IEEE: `x/0` is ±∞, `0/0` NaN).
    #[track_caller]
    pub fn div(&self, other: &Tensor) -> Tensor {
        self.zip_slices(other, "div", simd::div, |x, y| x / y)
    }

    /// `max(a, b)` elementwise, broadcasting; NaN if either is NaN.
    #[track_caller]
    pub fn maximum(&self, other: &Tensor) -> Tensor {
        self.zip_slices(
            other,
            "maximum",
            simd::maximum,
            simd::scalar::max_propagating_nan,
        )
    }

    /// `x + s`.
    pub fn add_scalar(&self, s: f32) -> Tensor {
        self.map_slices(|x, out| simd::add_scalar(x, s, out))
    }

    /// `x · s`.
    pub fn mul_scalar(&self, s: f32) -> Tensor {
        self.map_slices(|x, out| simd::mul_scalar(x, s, out))
    }

    /// `x − s`, computed as `x + (−s)`: negation is exact, so this is exactly `x − s`.
    pub fn sub_scalar(&self, s: f32) -> Tensor {
        self.add_scalar(-s)
    }

    /// `x / s`, computed as `x · (1/s)`: one multiply instead of a divide per element, at the cost
    /// of a second rounding (`1/s` is rounded first), so the result is within `2u ≈ 1.2e-7`
    /// relative of `x / s` rather than correctly rounded. (For `|s|` below about `3e-39`, `1/s`
    /// overflows and the result is ±∞ or NaN where `x / s` might still be finite.)
    pub fn div_scalar(&self, s: f32) -> Tensor {
        self.mul_scalar(1.0 / s)
    }
}
