//! `Flatten`: `[N, d1, d2, …] → [N, d1·d2·…]`, the bridge from feature maps to dense layers.
//! A reshape: the data is already contiguous in that order, and the gradient is reshaped back.

use autograd::Var;

use crate::module::{Module, Named};

/// Keeps the batch axis and joins all the others.
pub struct Flatten;

impl Module for Flatten {
    fn forward(&mut self, x: &Var) -> Var {
        x.flatten()
    }
    fn parameters(&self) -> Vec<Named> {
        Vec::new()
    }
    fn describe(&self) -> String {
        "Flatten".to_string()
    }
}
