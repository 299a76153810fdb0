//! # kd — knowledge distillation
//!
//! Filled in by the `kd` issue, on top of `nn`.

pub mod binary;
pub mod hints;
pub mod metrics;
pub mod response;
pub mod soft_targets;

pub use binary::BinaryLoss;
pub use hints::HintAdapter;
pub use response::{hard_loss, HardTargets, LossTerms, ResponseLoss, SoftLoss};
pub use soft_targets::{soft_targets, student_log_probs};
