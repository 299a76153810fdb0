//! Temperature: how much of a teacher's knowledge its outputs show.
//!
//! A trained classifier puts nearly all its probability on one class; the rest, the "dark
//! knowledge" (this 2 looks a little like a 3, not at all like a 7), sits in probabilities like
//! 1e-6 that a loss barely feels. Dividing the logits by a temperature `T > 1` before the softmax
//! flattens the distribution and lifts those small probabilities where the student can learn from
//! them (Hinton, Vinyals and Dean 2015):
//!
//! ```text
//! soft_targets(t, T) = softmax(t / T)        p_c = e^{t_c/T} / Σ_k e^{t_k/T}
//! ```
//!
//! `T = 1` is the ordinary softmax; as `T → ∞` every class tends to `1/C`. The temperature divides
//! the logits *before* the softmax: raising probabilities to a power afterwards is not the same
//! thing once renormalised only by accident. The student is scored at the same temperature, through
//! `log_softmax(z/T)`, and used at `T = 1` afterwards.

use autograd::Var;
use tensor::Tensor;

/// `softmax(teacher_logits / T)` row by row: the targets the student learns from. A plain tensor:
/// no gradient ever flows into a teacher.
pub fn soft_targets(teacher_logits: &Tensor, temperature: f32) -> Tensor {
    check_temperature(temperature);
    teacher_logits.softmax(temperature)
}

/// `log_softmax(student_logits / T)`: the student's log-probabilities at temperature `T`,
/// recorded in the graph.
pub fn student_log_probs(student_logits: &Var, temperature: f32) -> Var {
    check_temperature(temperature);
    student_logits.log_softmax(temperature)
}

#[track_caller]
pub(crate) fn check_temperature(temperature: f32) {
    assert!(
        temperature > 0.0 && temperature.is_finite(),
        "the temperature must be a positive number, found {temperature}"
    );
}
