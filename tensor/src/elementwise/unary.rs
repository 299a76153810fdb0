//! Unary maths: each op is `map` with its formula, or a SIMD kernel where one exists.

use crate::parallel::for_each_chunk_mut;
use crate::simd;
use crate::Tensor;

impl Tensor {
    /// Runs a slice kernel `k(input, output)` over the tensor, in parallel chunks.
    fn simd_unary(&self, k: impl Fn(&[f32], &mut [f32]) + Sync) -> Tensor {
        let x = self.data();
        let mut out = vec![0.0; x.len()];
        for_each_chunk_mut(&mut out, |offset, chunk| {
            k(&x[offset..offset + chunk.len()], chunk)
        });
        Tensor::from_parts(self.shape().to_vec(), out)
    }

    /// `−x`.
    pub fn neg(&self) -> Tensor {
        self.mul_scalar(-1.0)
    }

    /// `eˣ` (vectorised; see `simd` for its accuracy).
    pub fn exp(&self) -> Tensor {
        self.simd_unary(simd::exp)
    }

    /// `ln x` (NaN for x < 0, −∞ at 0).
    pub fn ln(&self) -> Tensor {
        self.map(f32::ln)
    }

    /// `√x`.
    pub fn sqrt(&self) -> Tensor {
        self.map(f32::sqrt)
    }

    /// `max(x, 0)`.
    pub fn relu(&self) -> Tensor {
        self.simd_unary(simd::relu)
    }

    /// `x` for `x > 0`, `slope·x` otherwise.
    pub fn leaky_relu(&self, slope: f32) -> Tensor {
        self.map(move |x| if x > 0.0 { x } else { slope * x })
    }

    /// `σ(x) = 1/(1 + e⁻ˣ)`, written so that no `exp` overflows: for `x < 0` it is computed as
    /// `eˣ/(1 + eˣ)`, where `eˣ < 1`.
    pub fn sigmoid(&self) -> Tensor {
        self.map(|x| {
            if x >= 0.0 {
                1.0 / (1.0 + (-x).exp())
            } else {
                let e = x.exp();
                e / (1.0 + e)
            }
        })
    }

    /// `tanh x`.
    pub fn tanh(&self) -> Tensor {
        self.map(f32::tanh)
    }

    /// `|x|`.
    pub fn abs(&self) -> Tensor {
        self.map(f32::abs)
    }

    /// `xᵖ`.
    pub fn powf(&self, p: f32) -> Tensor {
        self.map(move |x| x.powf(p))
    }

    /// `x` clamped into `[low, high]`.
    pub fn clamp(&self, low: f32, high: f32) -> Tensor {
        self.map(move |x| x.clamp(low, high))
    }

    /// `x + s`.
    pub fn add_scalar(&self, s: f32) -> Tensor {
        self.simd_unary(move |x, out| simd::add_scalar(x, s, out))
    }

    /// `x − s`.
    pub fn sub_scalar(&self, s: f32) -> Tensor {
        self.add_scalar(-s)
    }

    /// `x · s`.
    pub fn mul_scalar(&self, s: f32) -> Tensor {
        self.simd_unary(move |x, out| simd::mul_scalar(x, s, out))
    }

    /// `x / s`.
    pub fn div_scalar(&self, s: f32) -> Tensor {
        self.map(move |x| x / s)
    }
}
