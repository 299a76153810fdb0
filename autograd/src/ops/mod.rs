//! Every differentiable op, one family per file, forward and backward side by side.

pub mod arithmetic;
pub mod conv;
pub mod dropout;
pub mod linear;
pub mod losses;
pub mod matmul;
pub mod pool;
pub mod reduce;
pub mod shape;
pub mod softmax;
pub mod unary;
pub mod upsample;
