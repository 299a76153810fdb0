//! `Dense` (fully connected, "Linear"): `y = x·Wᵀ + b`.
//!
//! Shapes: `x [N, in]`, `W [out, in]` (PyTorch's layout, so checkpoints interchange), `b [out]`,
//! `y [N, out]`. One autograd op, `Var::linear`, whose backward gives `∂L/∂x = G·W`,
//! `∂L/∂W = Gᵀ·x`, `∂L/∂b = Σ_n G` (the same as a product and a broadcast addition, in fewer
//! passes).

use autograd::Var;
use rand::Rng;

use crate::init::Init;
use crate::module::{Module, Named};

/// A fully connected layer.
pub struct Dense {
    pub weight: Var,
    pub bias: Option<Var>,
    in_features: usize,
    out_features: usize,
}

impl Dense {
    /// `in_features → out_features` with a bias, Kaiming-uniform weights (for a ReLU network).
    pub fn new<R: Rng + ?Sized>(in_features: usize, out_features: usize, rng: &mut R) -> Dense {
        Dense::with_init(in_features, out_features, true, Init::KaimingUniform, rng)
    }

    /// The general constructor: choose the bias and the initialisation.
    pub fn with_init<R: Rng + ?Sized>(
        in_features: usize,
        out_features: usize,
        bias: bool,
        init: Init,
        rng: &mut R,
    ) -> Dense {
        let weight = init.sample(&[out_features, in_features], in_features, out_features, rng);
        Dense {
            weight: Var::parameter(weight),
            bias: bias.then(|| Var::parameter(tensor::Tensor::zeros(&[out_features]))),
            in_features,
            out_features,
        }
    }

    pub fn in_features(&self) -> usize {
        self.in_features
    }

    pub fn out_features(&self) -> usize {
        self.out_features
    }
}

impl Module for Dense {
    fn forward(&mut self, x: &Var) -> Var {
        let shape = x.shape();
        if shape.len() != 2 || shape[1] != self.in_features {
            panic!(
                "Dense({}→{}): input must be [N, {}], found {shape:?}",
                self.in_features, self.out_features, self.in_features
            );
        }
        // x·Wᵀ + b as one op: the transpose is a stride in the matrix product, not a copy, and
        // the bias is the product's starting value (one pass over y, see autograd's `linear`).
        x.linear(&self.weight, self.bias.as_ref())
    }

    fn parameters(&self) -> Vec<Named> {
        let mut params = vec![("weight".to_string(), self.weight.clone())];
        if let Some(b) = &self.bias {
            params.push(("bias".to_string(), b.clone()));
        }
        params
    }

    fn describe(&self) -> String {
        format!("Dense({}→{})", self.in_features, self.out_features)
    }
}
