//! `Var`: a tensor in the graph — its value, its gradient, and how it was made.
//!
//! A `Var` is a cheap handle (`Rc`) to a [`Node`]. Cloning a `Var` clones the handle, not the tensor,
//! so an op's backward can keep its inputs alive by holding their handles, and a value used in
//! several places is one node reached along several edges.

use std::cell::{Cell, Ref, RefCell, RefMut};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tensor::Tensor;

use crate::no_grad::is_recording;

/// What an op's backward does: given the gradient of the loss with respect to the op's output
/// (`grad_out`, same shape as the output) and the op's inputs, it *adds* each input's share into
/// that input's gradient (see [`Var::accumulate_grad`]).
pub type BackwardFn = Box<dyn FnOnce(&Tensor, &[Var])>;

/// The backward of [`Var::from_op_owned`]: it receives the gradient with respect to the op's output
/// *by value* (so it may reuse that buffer for an input's gradient instead of allocating), the op's
/// output itself (so it need not keep a copy of it), and the op's inputs.
pub type OwnedBackwardFn = Box<dyn FnOnce(Tensor, &Tensor, &[Var])>;

/// The two kinds of backward a recipe holds.
pub(crate) enum Backward {
    Borrowed(BackwardFn),
    Owned(OwnedBackwardFn),
}

/// How many nodes exist right now, in this process (all threads). Tests use it to show that a
/// training step leaves nothing behind.
static LIVE_NODES: AtomicUsize = AtomicUsize::new(0);

/// The number of graph nodes currently alive (parameters, inputs and recorded intermediates).
pub fn live_nodes() -> usize {
    LIVE_NODES.load(Ordering::Relaxed)
}

/// One value in the graph.
pub struct Node {
    /// The forward value. A `RefCell` because an optimiser updates a parameter's value in place.
    value: RefCell<Tensor>,
    /// How many times the value has been lent out for writing ([`Var::value_mut`]): whatever was
    /// derived from the value at version `v` is current while the version is still `v`.
    version: Cell<u64>,
    /// `∂loss/∂value`, allocated on the first accumulation, kept until [`Var::zero_grad`].
    grad: RefCell<Option<Tensor>>,
    /// Leaves that want a gradient (parameters) and every value computed from one.
    requires_grad: bool,
    /// The op that made this value: its inputs and its backward. Taken (and so freed) by the
    /// backward pass; `None` for leaves and for values made while not recording.
    recipe: RefCell<Option<Recipe>>,
    /// Human-readable op name, for error messages and graph dumps.
    op: &'static str,
    /// Set when backward has taken the recipe: walking through this node again would silently
    /// lose gradient, so a second backward that reaches it panics instead.
    consumed: Cell<bool>,
}

pub(crate) struct Recipe {
    pub(crate) inputs: Vec<Var>,
    pub(crate) backward: Backward,
}

impl Drop for Node {
    /// Frees a chain of nodes iteratively. The default drop would recurse — this node's recipe
    /// drops its inputs, whose recipes drop theirs — and overflow the stack on a long graph that
    /// is dropped without a backward (a running total added to for a whole epoch, say).
    fn drop(&mut self) {
        LIVE_NODES.fetch_sub(1, Ordering::Relaxed);
        let mut pending: Vec<Var> = match self.recipe.get_mut().take() {
            Some(recipe) => recipe.inputs,
            None => return,
        };
        while let Some(var) = pending.pop() {
            // Only a node that nothing else holds will be freed now; take its inputs over before
            // it goes, so that its own drop finds no recipe and does not recurse.
            if Rc::strong_count(&var.0) == 1 {
                if let Some(recipe) = var.0.recipe.borrow_mut().take() {
                    pending.extend(recipe.inputs);
                }
            }
        }
    }
}

/// A handle to a value in the graph.
#[derive(Clone)]
pub struct Var(pub(crate) Rc<Node>);

impl Var {
    fn from_node(
        value: Tensor,
        requires_grad: bool,
        recipe: Option<Recipe>,
        op: &'static str,
    ) -> Var {
        LIVE_NODES.fetch_add(1, Ordering::Relaxed);
        Var(Rc::new(Node {
            value: RefCell::new(value),
            version: Cell::new(0),
            grad: RefCell::new(None),
            requires_grad,
            recipe: RefCell::new(recipe),
            op,
            consumed: Cell::new(false),
        }))
    }

    /// A value that needs no gradient: data, labels, a teacher's outputs.
    pub fn constant(value: Tensor) -> Var {
        Var::from_node(value, false, None, "constant")
    }

    /// A leaf that collects a gradient: a model parameter. Its gradient survives `backward` and adds
    /// up over several calls until [`zero_grad`](Var::zero_grad).
    pub fn parameter(value: Tensor) -> Var {
        Var::from_node(value, true, None, "parameter")
    }

    /// The result of an op: `value`, computed from `inputs`, with the `backward` that sends a
    /// gradient from it to them. Every differentiable op in this crate is built with this, and so
    /// can any op outside it (a fused loss, say).
    ///
    /// Nothing is recorded, and `backward` is dropped at once, when no input requires a gradient or
    /// when called inside [`no_grad`](crate::no_grad).
    pub fn from_op(
        op: &'static str,
        value: Tensor,
        inputs: &[&Var],
        backward: impl FnOnce(&Tensor, &[Var]) + 'static,
    ) -> Var {
        let requires_grad = is_recording() && inputs.iter().any(|v| v.requires_grad());
        if !requires_grad {
            return Var::from_node(value, false, None, op);
        }
        let recipe = Recipe {
            inputs: inputs.iter().map(|&v| v.clone()).collect(),
            backward: Backward::Borrowed(Box::new(backward)),
        };
        Var::from_node(value, true, Some(recipe), op)
    }

    /// [`from_op`](Var::from_op) for a backward that wants the upstream gradient by value and the
    /// op's own output: `backward(grad_out, output, inputs)`. An op whose derivative is a function
    /// of its output (ReLU: `g·[y > 0]`) then keeps no copy of the output and can write the input's
    /// gradient over `grad_out`'s buffer, in one pass, with no allocation.
    ///
    /// Records nothing when [`from_op`](Var::from_op) would not.
    pub fn from_op_owned(
        op: &'static str,
        value: Tensor,
        inputs: &[&Var],
        backward: impl FnOnce(Tensor, &Tensor, &[Var]) + 'static,
    ) -> Var {
        let requires_grad = is_recording() && inputs.iter().any(|v| v.requires_grad());
        if !requires_grad {
            return Var::from_node(value, false, None, op);
        }
        let recipe = Recipe {
            inputs: inputs.iter().map(|&v| v.clone()).collect(),
            backward: Backward::Owned(Box::new(backward)),
        };
        Var::from_node(value, true, Some(recipe), op)
    }

    /// The forward value. (A `Ref`: drop it before anything updates this value in place.)
    pub fn value(&self) -> Ref<'_, Tensor> {
        self.0.value.borrow()
    }

    /// The forward value, writable: how an optimiser updates a parameter. Only between steps:
    /// backward reads the inputs' values when it runs, so changing one between a forward and its
    /// backward gives a silently wrong gradient.
    ///
    /// Each call moves [`version`](Var::version) on, whether or not the value is then changed.
    pub fn value_mut(&self) -> RefMut<'_, Tensor> {
        let value = self.0.value.borrow_mut();
        self.0.version.set(self.0.version.get() + 1);
        value
    }

    /// How many times [`value_mut`](Var::value_mut) has lent the value out (PyTorch keeps the same
    /// counter as `tensor._version`). Something computed from the value — a transposed copy of a
    /// weight, say — is still current if the version has not moved since and the handle is the
    /// same node ([`same_node`](Var::same_node)).
    pub fn version(&self) -> u64 {
        self.0.version.get()
    }

    /// The shape of the value.
    pub fn shape(&self) -> Vec<usize> {
        self.0.value.borrow().shape().to_vec()
    }

    /// Whether a gradient flows to this value.
    pub fn requires_grad(&self) -> bool {
        self.0.requires_grad
    }

    /// The name of the op that made this value (`"parameter"`, `"constant"`, `"matmul"`, …).
    pub fn op(&self) -> &'static str {
        self.0.op
    }

    /// The gradient accumulated so far, if any reached this value. (A `Ref`: drop it before the
    /// next backward, which needs to write the gradient.)
    pub fn grad(&self) -> Option<Ref<'_, Tensor>> {
        Ref::filter_map(self.0.grad.borrow(), |g| g.as_ref()).ok()
    }

    /// Forgets the gradient (before the next step's backward).
    pub fn zero_grad(&self) {
        *self.0.grad.borrow_mut() = None;
    }

    /// Takes the gradient out, leaving none.
    pub fn take_grad(&self) -> Option<Tensor> {
        self.0.grad.borrow_mut().take()
    }

    /// Gives `f` this value's gradient buffer, created as zeros of the value's shape if none exists
    /// yet, so that `f` can *add* its contribution in place (`g.add_(…)`, or a product with
    /// `beta = 1`). Does nothing for a value that requires no gradient.
    ///
    /// Always add, never assign: a value used by several ops receives one contribution from each,
    /// and the sum is its gradient (the multivariable chain rule).
    pub fn accumulate_grad_with(&self, f: impl FnOnce(&mut Tensor)) {
        if !self.requires_grad() {
            return;
        }
        let mut grad = self.0.grad.borrow_mut();
        let g = grad.get_or_insert_with(|| Tensor::zeros(self.0.value.borrow().shape()));
        f(g);
    }

    /// `grad += contribution` (shapes must match), taking over the buffer when there is no gradient yet.
    pub fn accumulate_grad(&self, contribution: Tensor) {
        if !self.requires_grad() {
            return;
        }
        let shape = self.0.value.borrow().shape().to_vec();
        if contribution.shape() != shape {
            panic!(
                "{}: gradient of shape {:?} for a value of shape {:?}",
                self.0.op,
                contribution.shape(),
                shape
            );
        }
        let mut grad = self.0.grad.borrow_mut();
        match grad.as_mut() {
            Some(g) => g.add_(&contribution),
            None => *grad = Some(contribution),
        }
    }

    /// The same value cut off from the graph: no gradient flows through the result. (Copies the
    /// tensor; the original keeps its place in the graph.)
    pub fn detach(&self) -> Var {
        Var::constant(self.value().clone())
    }

    /// Whether two handles point at the same node.
    pub fn same_node(&self, other: &Var) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Var {
    pub(crate) fn take_recipe(&self) -> Option<Recipe> {
        let recipe = self.0.recipe.borrow_mut().take();
        if recipe.is_some() {
            self.0.consumed.set(true);
        }
        recipe
    }

    /// Whether backward has already run through this value (and freed what it was made from).
    pub(crate) fn is_consumed(&self) -> bool {
        self.0.consumed.get()
    }

    /// The inputs of the op that made this value (empty for leaves, and once backward has run).
    pub(crate) fn recorded_inputs(&self) -> Vec<Var> {
        match &*self.0.recipe.borrow() {
            Some(recipe) => recipe.inputs.clone(),
            None => Vec::new(),
        }
    }

    /// Whether this value was made by a recorded op (and backward has not consumed it yet).
    pub fn is_recorded(&self) -> bool {
        self.0.recipe.borrow().is_some()
    }
}

impl std::fmt::Debug for Var {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Var({}, shape {:?}, requires_grad {})",
            self.0.op,
            self.0.value.borrow().shape(),
            self.0.requires_grad
        )
    }
}
