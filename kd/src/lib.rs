//! # kd — knowledge distillation
//!
//! Filled in by the `kd` issue, on top of `nn`.

pub mod metrics;
