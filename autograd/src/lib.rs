//! # autograd — reverse-mode automatic differentiation over `tensor`
//!
//! Write the forward computation with [`Var`]s; call `loss.backward()`; read each parameter's
//! `grad()`. Nothing more is needed to train a network.
//!
//! ```
//! use autograd::Var;
//! use tensor::Tensor;
//!
//! let w = Var::parameter(Tensor::from_vec(vec![2.0], &[1]).unwrap());
//! let x = Var::constant(Tensor::from_vec(vec![3.0], &[1]).unwrap());
//! let y = w.mul(&x).mul(&w).sum_all(); // y = w²·x
//! y.backward();
//! assert_eq!(w.grad().unwrap().data(), &[12.0]); // ∂y/∂w = 2·w·x
//! ```
//!
//! ## The design: reference-counted nodes, consumed by backward
//! Each op returns a [`Var`], a handle (`Rc`) to a node holding the value, a gradient slot and the
//! op's *recipe*: its input handles and a closure that turns the output's gradient into the inputs'.
//! The graph is therefore built by ordinary Rust values as the forward runs, and lives exactly as
//! long as something refers to it.
//!
//! Why not a tape (one global list of ops, addressed by index)? A tape is as fast and makes the
//! reverse walk a plain loop, but it needs a tape object threaded through every layer (or a global
//! one, which tests running in parallel share), and freeing a step's graph becomes the caller's
//! job. With counted nodes, a layer is just code that calls ops on `Var`s, a value computed without
//! gradients is simply never recorded, and memory is freed by scope. The reverse walk costs a
//! topological sort (`backward.rs`): microseconds, against milliseconds of kernels per step.
//!
//! Backward *takes* each recipe as it runs it, so after `loss.backward()` every tensor saved for
//! the backward has been freed, even while `loss` itself is still in scope: a training loop keeps
//! flat memory (tests/tests/autograd_graph.rs runs 1000 steps and checks that no node survives).
//!
//! ## What a backward closure does
//! It receives `g = ∂L/∂output` and the op's inputs, and *adds* `g · ∂output/∂input` (the
//! vector-Jacobian product) into each input's gradient — never assigns, so a value used by several
//! ops ends up with the sum of their contributions. Inputs that need no gradient are skipped.
//!
//! ## Inference
//! Inside [`no_grad`], ops record nothing (no recipe, no saved tensors): evaluation and a teacher's
//! forward pass cost only the kernels. [`Var::detach`] cuts one value off the graph.
//!
//! ## The hand-written derivatives
//! 41 ops, in `ops/`, each with its derivative in the file's doc comment:
//! add, sub, mul, div, neg, add_scalar, mul_scalar (`arithmetic`); exp, ln, sqrt, powf, abs, relu,
//! leaky_relu, sigmoid, tanh (`unary`, one generic rule `g·f'`); sum_all, mean_all, sum_axis,
//! mean_axis, max_axis (`reduce`); matmul with transposes (`matmul`); reshape, permute, slice,
//! concat, gather_rows (`shape`; transpose and flatten are built from these); softmax, log_softmax
//! (`softmax`); conv1d, conv2d (`conv`); max_pool1d/2d, avg_pool1d/2d (`pool`);
//! upsample_nearest2d (`upsample`); dropout; and the
//! fused losses cross_entropy, cross_entropy_soft, bce_with_logits, kl_div (`losses`), whose
//! closed-form gradients are both faster and more stable than composing them.
//!
//! Every one is checked by [`gradcheck`] in `tests/tests/`.
//!
//! ## Reading order
//! [`var`] (the node and the accumulation rule) → [`backward`] (the walk) → [`no_grad`] →
//! `ops/arithmetic.rs` → `ops/unary.rs` → the other ops → [`gradcheck`](mod@gradcheck).

pub mod backward;
pub mod gradcheck;
pub mod no_grad;
pub mod ops;
pub mod var;

pub use gradcheck::{gradcheck, GradcheckError};
pub use no_grad::{is_recording, no_grad};
pub use ops::losses::Reduction;
pub use tensor::conv::{Conv1dParams, Conv2dParams};
pub use var::{live_nodes, BackwardFn, OwnedBackwardFn, Var};
