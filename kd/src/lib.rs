//! # kd — knowledge distillation
//!
//! Filled in by the `kd` issue: temperature-softened targets, distillation losses and the trainer.
