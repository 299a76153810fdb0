//! The backward pass: from a scalar loss back to every parameter.
//!
//! The graph is a DAG whose edges run from each op's inputs to its output. Reverse-mode
//! differentiation visits it once, outputs before inputs:
//!
//! 1. Sort the nodes reachable from the loss so that every node comes after all its inputs
//!    (a topological order), then walk that order backwards. When a node is reached, every op that
//!    used it has already been visited and has added its share into the node's gradient — so the
//!    gradient is complete (a value used twice holds the sum of both paths).
//! 2. At each recorded node, call the op's backward with the node's gradient. It adds each input's
//!    share, `grad_out · ∂out/∂input` (a vector-Jacobian product), into that input's gradient.
//!
//! Memory: the walk *takes* each node's recipe (its inputs and backward closure, which hold the
//! tensors saved for the backward) and drops it as soon as it has run, and drops the gradients of
//! intermediate values once passed on. Only leaves (parameters) keep a gradient. So after
//! `backward()` the step's graph is gone, and a training loop runs in flat memory. The flip side:
//! a graph can be walked once — call `backward` once per forward pass.

use std::collections::HashSet;
use std::rc::Rc;

use tensor::Tensor;

use crate::var::{Backward, Var};

impl Var {
    /// Backpropagates from this value, which must hold a single element (a loss): every parameter
    /// it depends on gets `∂self/∂parameter` added to its gradient.
    #[track_caller]
    pub fn backward(&self) {
        let shape = self.shape();
        if shape.iter().product::<usize>() != 1 {
            panic!(
                "backward: needs a single-element loss, found shape {shape:?} \
                 (use backward_with to start from a gradient of that shape)"
            );
        }
        self.backward_with(Tensor::ones(&shape));
    }

    /// Backpropagates starting from `grad` as this value's gradient (`grad` has the value's
    /// shape). `loss.backward()` is `loss.backward_with(1)`; a gradient check starts from random
    /// weights instead, to test the whole vector-Jacobian product.
    #[track_caller]
    pub fn backward_with(&self, grad: Tensor) {
        let shape = self.shape();
        if grad.shape() != shape {
            panic!(
                "backward_with: gradient of shape {:?} for a value of shape {shape:?}",
                grad.shape()
            );
        }
        if !self.requires_grad() {
            return;
        }
        let mut order = topological_order(self);
        self.accumulate_grad(grad);
        // Popping (not iterating) lets each node go as soon as its backward has run, so the
        // forward's activations are freed during the walk, not after it.
        while let Some(var) = order.pop() {
            let Some(recipe) = var.take_recipe() else {
                continue; // a leaf: its gradient stays for the optimiser
            };
            // An intermediate value: pass its gradient on, then let it go.
            if let Some(grad_out) = var.take_grad() {
                match recipe.backward {
                    Backward::Borrowed(backward) => backward(&grad_out, &recipe.inputs),
                    // The output is this node's own value; the inputs are other nodes, so the
                    // backward writing their gradients never touches this borrow.
                    Backward::Owned(backward) => backward(grad_out, &var.value(), &recipe.inputs),
                }
            }
        }
    }
}

/// The recorded nodes reachable from `root` (root included), each after all of its inputs.
///
/// Depth-first search with an explicit stack (a recursive one would overflow on a long chain of
/// ops): a node is emitted once all its inputs have been.
fn topological_order(root: &Var) -> Vec<Var> {
    let mut order = Vec::new();
    let mut seen: HashSet<*const ()> = HashSet::new();
    let key = |v: &Var| Rc::as_ptr(&v.0) as *const ();
    // (node, whether its inputs have been pushed already)
    let mut stack = vec![(root.clone(), false)];
    while let Some((var, expanded)) = stack.pop() {
        if expanded {
            order.push(var);
            continue;
        }
        if !seen.insert(key(&var)) {
            continue;
        }
        if var.is_consumed() {
            panic!(
                "backward: the graph through this `{}` was already consumed by an earlier \
                 backward (it frees the graph as it goes). Add the losses and call backward once.",
                var.op()
            );
        }
        let inputs = var.recorded_inputs();
        stack.push((var, true));
        for input in inputs {
            if input.requires_grad() && !seen.contains(&key(&input)) {
                stack.push((input, false));
            }
        }
    }
    order
}
