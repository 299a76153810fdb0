//! `Module`: what every layer and every model is.
//!
//! A module owns its parameters (`Var::parameter` leaves) and turns a batch into a batch by calling
//! autograd ops in `forward`; the gradient comes for free from the graph those ops record. Besides
//! `forward`, a module only has to say *what it holds*, by name, so that the code around it can
//! find everything without knowing the layer:
//!
//! - an optimiser needs the trainable parameters ([`Module::parameters`]);
//! - a checkpoint needs those and the state that is not trained by gradient, such as batch norm's
//!   running statistics ([`Module::buffers`]); both together are [`Module::state`];
//! - a report needs the parameter count and a one-line description of the architecture.
//!
//! Names are paths, as in PyTorch's `state_dict`: a `Dense` holds `weight` and `bias`, and inside a
//! [`Sequential`](crate::Sequential) under the name `fc1` they become `fc1.weight` and `fc1.bias`.
//! Same names and same layouts as PyTorch (a dense weight is `[out, in]`), so a checkpoint written
//! here opens there.
//!
//! Train and eval mode differ only for dropout (active in training, the identity in evaluation)
//! and batch norm (batch statistics in training, running statistics in evaluation).

use autograd::Var;

/// A named value a module holds: `("fc1.weight", var)`.
pub type Named = (String, Var);

/// A layer or a model.
pub trait Module {
    /// Runs the module on a batch (the first axis of `input` is the batch).
    ///
    /// `&mut self` because some modules change as they run: dropout draws from its own random
    /// generator, batch norm updates its running statistics in training mode.
    fn forward(&mut self, input: &Var) -> Var;

    /// Runs the module and also returns the outputs of the named inner layers, in the order asked:
    /// what feature-based distillation reads from a teacher and a student. Only containers have
    /// named inner layers ([`Sequential`](crate::Sequential) overrides this); asking any other
    /// module for a feature is a programming error and panics.
    fn forward_with_features(&mut self, input: &Var, features: &[&str]) -> (Var, Vec<Var>) {
        if !features.is_empty() {
            panic!(
                "{}: has no named inner layers, asked for {features:?}",
                self.describe()
            );
        }
        (self.forward(input), Vec::new())
    }

    /// The trainable parameters, named relative to this module, in a fixed order.
    fn parameters(&self) -> Vec<Named>;

    /// State saved with the model but not trained by gradient (batch norm's running statistics).
    fn buffers(&self) -> Vec<Named> {
        Vec::new()
    }

    /// Switches between training mode (`true`) and evaluation mode (`false`).
    fn set_training(&mut self, _training: bool) {}

    /// One line describing the architecture, e.g. `Dense(784→100)`; a model's description is
    /// what a checkpoint keeps to rebuild it.
    fn describe(&self) -> String;

    /// Everything a checkpoint saves: the parameters, then the buffers.
    fn state(&self) -> Vec<Named> {
        let mut state = self.parameters();
        state.extend(self.buffers());
        state
    }

    /// The parameters alone, without names: what an optimiser is given.
    fn parameter_vars(&self) -> Vec<Var> {
        self.parameters().into_iter().map(|(_, var)| var).collect()
    }

    /// The number of trainable scalars.
    fn num_parameters(&self) -> usize {
        self.parameters()
            .iter()
            .map(|(_, var)| var.value().numel())
            .sum()
    }

    /// Clears every parameter's gradient.
    fn zero_grad(&self) {
        for (_, var) in self.parameters() {
            var.zero_grad();
        }
    }
}

/// `names` with `prefix.` put in front of each: how a container names its children's values.
pub fn prefixed(prefix: &str, names: Vec<Named>) -> Vec<Named> {
    names
        .into_iter()
        .map(|(name, var)| (format!("{prefix}.{name}"), var))
        .collect()
}

impl<M: Module + ?Sized> Module for Box<M> {
    fn forward(&mut self, input: &Var) -> Var {
        (**self).forward(input)
    }
    fn forward_with_features(&mut self, input: &Var, features: &[&str]) -> (Var, Vec<Var>) {
        (**self).forward_with_features(input, features)
    }
    fn parameters(&self) -> Vec<Named> {
        (**self).parameters()
    }
    fn buffers(&self) -> Vec<Named> {
        (**self).buffers()
    }
    fn set_training(&mut self, training: bool) {
        (**self).set_training(training)
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}
