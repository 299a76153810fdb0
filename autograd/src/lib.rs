//! # autograd — reverse-mode automatic differentiation over `tensor`
//!
//! Filled in by the autograd issue: a tape of recorded operations, `backward()`, and one file per
//! differentiable op with its forward and its backward side by side.
