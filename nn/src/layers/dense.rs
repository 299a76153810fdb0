//! `Dense` (fully connected, "Linear"): `y = x·Wᵀ + b`.
//!
//! Shapes: `x [N, in]`, `W [out, in]` (PyTorch's layout, so checkpoints interchange), `b [out]`,
//! `y [N, out]`. One autograd op, `Var::linear`, whose backward gives `∂L/∂x = G·W`,
//! `∂L/∂W = Gᵀ·x`, `∂L/∂b = Σ_n G` (the same as a product and a broadcast addition, in fewer
//! passes).
//!
//! **One sample, nothing recorded** (evaluating one image, serving a request): the layer keeps a
//! transposed copy `Wᵀ [in, out]` and computes the same `x·Wᵀ + b` from it with
//! [`Tensor::linear_t`], to the bit. With one row of `x` the product is a matrix–vector one, and
//! it must add along each output's column of `Wᵀ` in the packed GEMM's order (so that one image
//! gets the bits it gets in a batch); `Wᵀ` holds those columns as contiguous rows, where `W` would
//! have to be transposed on every call. The copy is made on the first such call and made again
//! when the weight has been written since ([`Var::version`]) or replaced by another `Var`.

use autograd::Var;
use rand::Rng;
use tensor::Tensor;

use crate::init::Init;
use crate::module::{Module, Named};

/// A fully connected layer.
pub struct Dense {
    pub weight: Var,
    pub bias: Option<Var>,
    in_features: usize,
    out_features: usize,
    /// `Wᵀ` for one-sample inference (see the module doc); `None` until first needed.
    weight_t: Option<TransposedWeight>,
}

/// `Wᵀ`, with the weight `Var` and the version it was copied from.
struct TransposedWeight {
    source: Var,
    version: u64,
    value: Tensor,
}

impl TransposedWeight {
    /// Whether this copy still shows `weight`'s current value.
    fn is_current_for(&self, weight: &Var) -> bool {
        self.source.same_node(weight) && self.version == weight.version()
    }
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
            weight_t: None,
        }
    }

    pub fn in_features(&self) -> usize {
        self.in_features
    }

    pub fn out_features(&self) -> usize {
        self.out_features
    }

    /// `x·Wᵀ + b` for one sample outside any recording, from the kept `Wᵀ` (see the module doc).
    fn forward_one_sample(&mut self, x: &Var) -> Var {
        let weight = &self.weight;
        if !self
            .weight_t
            .as_ref()
            .is_some_and(|t| t.is_current_for(weight))
        {
            self.weight_t = Some(TransposedWeight {
                source: weight.clone(),
                version: weight.version(),
                value: weight.value().transpose(0, 1),
            });
        }
        let weight_t = &self.weight_t.as_ref().expect("made just above").value;
        let bias = self.bias.as_ref().map(|b| b.value());
        // Nothing is recorded here, so the result is a value with no history, like any op's
        // result inside `no_grad`.
        Var::constant(Tensor::linear_t(&x.value(), weight_t, bias.as_deref()))
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
        if shape[0] == 1 && !autograd::is_recording() {
            return self.forward_one_sample(x);
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
