//! Weight initialisation: draw the starting weights so that signals neither vanish nor explode as
//! they pass through many layers.
//!
//! A layer computes `y = Σ_{i<fan_in} w_i x_i`. With independent zero-mean weights of variance σ²,
//! `Var(y) = fan_in · σ² · E[x²]`: to keep the scale from layer to layer, σ² must be about
//! `1 / fan_in`. The two classic rules differ in the correction they make:
//!
//! | rule | variance σ² | why |
//! |---|---|---|
//! | Kaiming / He (2015) | `2 / fan_in` | ReLU zeroes half its inputs, halving `E[x²]`; the 2 puts it back |
//! | Xavier / Glorot (2010) | `2 / (fan_in + fan_out)` | a compromise keeping both the forward signal and the backward gradient in scale (tanh, sigmoid, linear) |
//!
//! Each comes as a normal distribution with that variance, or a uniform one on `[−a, a]` with
//! `a = √(3σ²)` (a uniform on `[−a, a]` has variance `a²/3`).
//!
//! For a dense layer `fan_in` is its number of inputs; for a convolution it is
//! `in_channels × kernel area` (the inputs each output sums over), `fan_out` is
//! `out_channels × kernel area`. Biases start at zero.
//!
//! Everything is drawn from the caller's generator, so the same seed gives the same model bit for bit.

use rand::Rng;
use tensor::Tensor;

/// How to draw a layer's initial weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Init {
    /// He, uniform: the default for layers followed by ReLU. (PyTorch's default initialisation
    /// uses the same shape with a gain of `√(1/3)` instead of `√2`: a bound `1/√fan_in`, which is
    /// `1/√6` of He's `√(6/fan_in)`.)
    #[default]
    KaimingUniform,
    /// He, normal.
    KaimingNormal,
    /// Glorot, uniform.
    XavierUniform,
    /// Glorot, normal.
    XavierNormal,
}

impl Init {
    /// The variance σ² this rule gives a weight with the given fans.
    pub fn variance(self, fan_in: usize, fan_out: usize) -> f32 {
        match self {
            Init::KaimingUniform | Init::KaimingNormal => 2.0 / fan_in.max(1) as f32,
            Init::XavierUniform | Init::XavierNormal => 2.0 / (fan_in + fan_out).max(1) as f32,
        }
    }

    /// A weight tensor of `shape`, drawn from `rng`.
    pub fn sample<R: Rng + ?Sized>(
        self,
        shape: &[usize],
        fan_in: usize,
        fan_out: usize,
        rng: &mut R,
    ) -> Tensor {
        let variance = self.variance(fan_in, fan_out);
        match self {
            Init::KaimingUniform | Init::XavierUniform => {
                let bound = (3.0 * variance).sqrt();
                Tensor::uniform(shape, -bound, bound, rng)
            }
            Init::KaimingNormal | Init::XavierNormal => {
                Tensor::normal(shape, 0.0, variance.sqrt(), rng)
            }
        }
    }
}
