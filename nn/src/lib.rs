//! # nn — layers, losses, optimisers, checkpoints and data loading
//!
//! Filled in by the `nn` issue, on top of `autograd`.
