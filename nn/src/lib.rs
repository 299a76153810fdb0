//! # nn — layers, losses, optimisers, checkpoints and data loading
//!
//! Built on `autograd`: a layer is a struct holding its parameters (`Var`s) whose `forward` calls
//! autograd ops; nothing here differentiates anything by hand except where a fused op pays for it.

pub mod data;
pub mod optim;
