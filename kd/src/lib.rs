//! # kd — knowledge distillation
//!
//! Filled in by the `kd` issue, on top of `nn`.

pub mod binary;
pub mod hints;
pub mod metrics;
pub mod mixup;
pub mod response;
pub mod soft_targets;
pub mod teacher;
pub mod trainer;

pub use binary::BinaryLoss;
pub use hints::HintAdapter;
pub use mixup::{mixup, Mixed};
pub use response::{hard_loss, HardTargets, LossTerms, ResponseLoss, SoftLoss};
pub use soft_targets::{soft_targets, student_log_probs};
pub use teacher::{Combine, Teacher};
pub use trainer::{
    evaluate, parameters_to_train, predict_logits, predicted_classes, Distiller, EpochRecord,
    Evaluation, Event, FitOutcome, Hint, LossMeans, Objective, TrainConfig,
};
