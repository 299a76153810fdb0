//! Inverted dropout: in training, each element is zeroed with probability `p` and the survivors are
//! scaled by `1/(1 − p)`, so that the expected value of every element is unchanged and evaluation
//! needs no rescaling (it simply skips dropout).
//!
//! `y = x ⊙ m`, with `m_i = 1/(1 − p)` with probability `1 − p` and 0 otherwise, drawn once in the
//! forward and kept: `∂L/∂x = g ⊙ m`.

use rand::{Rng, RngExt};
use tensor::Tensor;

use crate::var::Var;

impl Var {
    /// Dropout with drop probability `p ∈ [0, 1)`, the mask drawn from `rng`.
    pub fn dropout<R: Rng + ?Sized>(&self, p: f32, rng: &mut R) -> Var {
        assert!(
            (0.0..1.0).contains(&p),
            "dropout: the drop probability must be in [0, 1), found {p}"
        );
        if p == 0.0 {
            return self.mul_scalar(1.0);
        }
        let keep = 1.0 / (1.0 - p);
        let shape = self.shape();
        let mask_values: Vec<f32> = (0..shape.iter().product::<usize>())
            .map(|_| if rng.random::<f32>() < p { 0.0 } else { keep })
            .collect();
        let mask = Tensor::from_vec(mask_values, &shape).expect("mask has the input's shape");
        let y = self.value().mul(&mask);
        Var::from_op("dropout", y, &[self], move |g, inputs| {
            inputs[0].accumulate_grad(g.mul(&mask));
        })
    }
}
