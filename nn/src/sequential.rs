//! `Sequential`: layers run one after the other, each named, the output of one the input of the next.
//!
//! Names make parameters findable (`conv1.weight`) and intermediate outputs addressable:
//! [`Sequential::forward_with_features`] returns the outputs of chosen layers alongside the final
//! one, which is what feature-based distillation (FitNets "hints") needs from a teacher and a student.

use autograd::Var;

use crate::module::{prefixed, Module, Named};

/// A stack of named layers.
#[derive(Default)]
pub struct Sequential {
    layers: Vec<(String, Box<dyn Module>)>,
}

impl Sequential {
    pub fn new() -> Sequential {
        Sequential { layers: Vec::new() }
    }

    /// Appends a layer named by its position (`"0"`, `"1"`, …, as PyTorch does).
    pub fn push(self, layer: impl Module + 'static) -> Sequential {
        let name = self.layers.len().to_string();
        self.push_named(name, layer)
    }

    /// Appends a layer under a chosen name. Names must be unique.
    pub fn push_named(
        mut self,
        name: impl Into<String>,
        layer: impl Module + 'static,
    ) -> Sequential {
        let name = name.into();
        if self.layers.iter().any(|(n, _)| *n == name) {
            panic!("Sequential: two layers named {name:?}");
        }
        self.layers.push((name, Box::new(layer)));
        self
    }

    /// The layers' names, in order.
    pub fn layer_names(&self) -> Vec<&str> {
        self.layers.iter().map(|(n, _)| n.as_str()).collect()
    }

    pub fn len(&self) -> usize {
        self.layers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }
}

impl Module for Sequential {
    fn forward(&mut self, input: &Var) -> Var {
        let mut x = input.clone();
        for (_, layer) in &mut self.layers {
            x = layer.forward(&x);
        }
        x
    }

    /// Panics on a name that is not a layer (a programming error: the names come from the model's
    /// own definition).
    fn forward_with_features(&mut self, input: &Var, features: &[&str]) -> (Var, Vec<Var>) {
        for name in features {
            if !self.layers.iter().any(|(n, _)| n == name) {
                panic!(
                    "Sequential: no layer named {name:?}; the layers are {:?}",
                    self.layer_names()
                );
            }
        }
        let mut found: Vec<Option<Var>> = vec![None; features.len()];
        let mut x = input.clone();
        for (name, layer) in &mut self.layers {
            x = layer.forward(&x);
            for (slot, wanted) in found.iter_mut().zip(features) {
                if name == wanted {
                    *slot = Some(x.clone());
                }
            }
        }
        let found = found
            .into_iter()
            .map(|v| v.expect("checked above"))
            .collect();
        (x, found)
    }

    fn parameters(&self) -> Vec<Named> {
        self.layers
            .iter()
            .flat_map(|(name, layer)| prefixed(name, layer.parameters()))
            .collect()
    }

    fn buffers(&self) -> Vec<Named> {
        self.layers
            .iter()
            .flat_map(|(name, layer)| prefixed(name, layer.buffers()))
            .collect()
    }

    fn set_training(&mut self, training: bool) {
        for (_, layer) in &mut self.layers {
            layer.set_training(training);
        }
    }

    fn describe(&self) -> String {
        let inner: Vec<String> = self.layers.iter().map(|(_, l)| l.describe()).collect();
        format!("Sequential[{}]", inner.join(", "))
    }
}
