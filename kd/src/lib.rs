//! # kd — knowledge distillation
//!
//! A large *teacher* is trained first; then a small *student* learns from the teacher's outputs
//! softened by a temperature, mixed with the hard labels, and ends up better than the same student
//! trained on the labels alone (Hinton, Vinyals and Dean 2015, "Distilling the Knowledge in a
//! Neural Network"). This crate is what a user imports to distil their own `nn` models; the apps
//! only wire it to data.
//!
//! ```text
//! loss = hard_weight · CE(z, y)  +  soft_weight · T² · KL(softmax(t/T) ‖ softmax(z/T))
//! ```
//!
//! ## What is here
//! - [`soft_targets`](mod@soft_targets): the temperature and why it reveals "dark knowledge".
//! - [`response`]: the loss above (and why `T²`), with other soft terms: KL + L1 on the soft
//!   labels, L1 alone, MSE between logits. Weights are named `hard_weight` and `soft_weight`,
//!   never a bare `α` whose meaning flips between libraries.
//! - [`dkd`]: Decoupled Knowledge Distillation: the KL term split into a target-class and a
//!   non-target-class part, each with its own weight.
//! - [`binary`]: the same for a two-class problem with one sigmoid output.
//! - [`hints`]: feature-based distillation (FitNets): a learned adapter maps a student's
//!   intermediate features onto a teacher's.
//! - [`teacher`]: one model or an ensemble (probabilities or logits averaged), always without
//!   recording gradients; outputs cached when the inputs cannot change.
//! - [`mixup`](mod@mixup): mixed inputs, on which the student learns the teacher's opinion.
//! - [`trainer`]: the `Distiller`, one loop for a student alone and a student distilled, reporting
//!   through events (the library prints nothing).
//! - [`spec`]: models described in one line (`mlp:800,800`, `cnn:32,64,fc=128`) and built from it.
//! - [`metrics`]: accuracy, confusion matrices, macro-F1, agreement, calibration, mean ± std.
//!
//! ## Reading order
//! `soft_targets` → `response` → `trainer` → `teacher` → `mixup` → `hints` → `dkd` → `binary` →
//! `metrics`.
//!
//! Non-goals: distillation of sequence models, self-distillation schedules, data-free
//! distillation.

pub mod binary;
pub mod dkd;
pub mod hints;
pub mod metrics;
pub mod mixup;
pub mod response;
pub mod soft_targets;
pub mod spec;
pub mod teacher;
pub mod trainer;

pub use binary::BinaryLoss;
pub use dkd::DkdLoss;
pub use hints::HintAdapter;
pub use mixup::{mixup, Mixed};
pub use response::{hard_loss, HardTargets, LossTerms, ResponseLoss, SoftLoss};
pub use soft_targets::{soft_targets, student_log_probs};
pub use spec::{ModelSpec, SpecError};
pub use teacher::{Combine, Teacher};
pub use trainer::{
    evaluate, parameters_to_train, predict_logits, predicted_classes, Distiller, EpochRecord,
    Evaluation, Event, FitData, FitOutcome, Hint, KeepBest, LossMeans, Objective, TrainConfig,
};
