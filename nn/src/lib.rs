//! # nn — layers, losses, optimisers, checkpoints and data loading
//!
//! Built on `autograd`: a layer is a struct holding its parameters (`Var`s) whose `forward` calls
//! autograd ops, so the backward is the graph's business; nothing here differentiates by hand
//! except batch norm, whose fused backward is both faster and a classic derivation worth reading.
//!
//! ## Reading order
//! [`module`] (the `Module` trait: forward, named parameters, train/eval) → [`init`] →
//! `layers/dense.rs` → [`sequential`] → the other layers → [`losses`] → [`optim`] → [`checkpoint`]
//! → [`data`].
//!
//! Goals: the layers a small CNN, MLP or 1-D CNN needs, trained and saved the way PyTorch users
//! expect (same names, same layouts, safetensors files). Non-goals: recurrent layers, attention,
//! mixed precision, GPUs.

pub mod checkpoint;
pub mod data;
pub mod init;
pub mod layers;
pub mod losses;
pub mod module;
pub mod optim;
pub mod sequential;

pub use init::Init;
pub use layers::*;
pub use module::{Module, Named};
pub use sequential::Sequential;
