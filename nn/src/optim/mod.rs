//! Optimisers, learning-rate schedules and gradient clipping.
//!
//! ## What an optimiser is
//! After `loss.backward()`, every parameter θ holds `g = ∂loss/∂θ`. An optimiser turns that
//! gradient into a change of θ, in place (through [`Var::value_mut`]): plain gradient descent
//! moves by `−lr·g`; [`Sgd`] with momentum moves along a running sum of past gradients; [`Adam`]
//! and [`AdamW`] divide a running mean of the gradient by a running root-mean-square of it, so that
//! every element takes steps of about `lr` whatever the scale of its gradient.
//!
//! A training step is then:
//! ```text
//! opt.zero_grad();          // forget the previous step's gradients
//! let loss = model(x)...;   // forward
//! loss.backward();          // every parameter gets its gradient
//! clip_grad_norm(opt.params(), 1.0);   // optional
//! opt.step();               // θ ← θ − update(g, state)
//! ```
//! and at the end of each epoch `schedule.apply(&mut opt, epoch, Some(val_loss))` sets the next
//! epoch's learning rate.
//!
//! ## Why the state is per parameter
//! Momentum's velocity and Adam's two moments are running averages *of each element's own
//! gradient*: one buffer the size of each parameter, indexed like it. They are kept in the
//! optimiser (not in the `Var`) in the order of the parameter list it was given, allocated at a
//! parameter's first step — a parameter that never receives a gradient (a frozen layer, an unused
//! embedding row) never costs memory — and then updated in place, so that `step` allocates nothing
//! after the first. Adam also counts steps per parameter, as PyTorch does: a parameter skipped on
//! some steps gets its bias correction from the number of updates *it* has had.
//!
//! ## Conventions
//! PyTorch's, exactly (each file writes its update equations), so that hyper-parameters from a
//! paper or a PyTorch recipe mean the same thing here. State and arithmetic are f32 like
//! PyTorch's; only the global gradient norm of [`clip_grad_norm`] is accumulated in f64.
//!
//! Invalid hyper-parameters (a negative learning rate, momentum ≥ 1, …) are programming errors
//! here — a command-line tool validates its own flags before building an optimiser — so the
//! builders *panic*, naming the optimiser, the setting, what is allowed and what was given.
//!
//! ## Reading order
//! [`Optimizer`] (below) → [`sgd`] → [`adam`] → [`schedule`] → [`clip`].

use autograd::Var;

pub mod adam;
pub mod clip;
pub mod schedule;
pub mod sgd;

pub use adam::{Adam, AdamW};
pub use clip::clip_grad_norm;
pub use schedule::{ConstantLr, CosineLr, LrSchedule, ReduceOnPlateau, StepLr};
pub use sgd::Sgd;

/// Something that updates a list of parameters from their gradients.
pub trait Optimizer {
    /// Updates, in place, every parameter that has a gradient. A parameter whose `grad()` is
    /// `None` is skipped: its value and its optimiser state are left as they are.
    fn step(&mut self);

    /// Forgets every parameter's gradient ([`Var::zero_grad`]), before the next backward.
    fn zero_grad(&mut self);

    /// The learning rate the next [`step`](Optimizer::step) will use.
    fn lr(&self) -> f32;

    /// Sets the learning rate (a schedule's output). Panics when `lr` is negative or not finite.
    fn set_lr(&mut self, lr: f32);

    /// The parameters, in the order given to the constructor (for [`clip_grad_norm`], say).
    fn params(&self) -> &[Var];
}

/// Panics unless `lr` is a usable learning rate: finite and ≥ 0 (0 freezes training, which is
/// legitimate, e.g. a warm-up that starts at 0).
#[track_caller]
pub(crate) fn check_lr(optimizer: &str, lr: f32) {
    assert!(
        lr.is_finite() && lr >= 0.0,
        "{optimizer}: the learning rate must be finite and ≥ 0, got {lr}"
    );
}

/// Panics unless `weight_decay` is finite and ≥ 0.
#[track_caller]
pub(crate) fn check_weight_decay(optimizer: &str, weight_decay: f32) {
    assert!(
        weight_decay.is_finite() && weight_decay >= 0.0,
        "{optimizer}: weight_decay must be finite and ≥ 0, got {weight_decay}"
    );
}

/// Panics unless `value` lies in `[0, 1)`: a momentum or a decay rate of a running average
/// (1 would never forget, and nothing outside makes an average).
#[track_caller]
pub(crate) fn check_unit_interval(optimizer: &str, name: &str, value: f32) {
    assert!(
        (0.0..1.0).contains(&value),
        "{optimizer}: {name} must be in [0, 1), got {value}"
    );
}

/// Panics unless a parameter's gradient has as many elements as its value. (`accumulate_grad`
/// already checks shapes; this guards the slices zipped together in a step.)
#[track_caller]
pub(crate) fn check_grad_len(optimizer: &str, index: usize, value: usize, grad: usize) {
    assert!(
        value == grad,
        "{optimizer}: parameter {index} has {value} elements but its gradient has {grad}"
    );
}
