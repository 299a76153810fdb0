//! # tensor — Distillery's CPU tensor engine
//!
//! An n-dimensional `f32` array ([`Tensor`]) and the kernels that every layer above is made of:
//! elementwise maths with NumPy broadcasting, reductions, shape ops, matrix products, softmax, and
//! the convolution and pooling kernels of a CNN.
//!
//! ## Goals
//! - **Readable**: each module opens with what it is and why it is built the way it is; every fast
//!   kernel has a plain-loop definition in [`reference`](mod@reference) that its doc comment links to, and a test
//!   that the two agree.
//! - **Fast on a CPU**: hot elementwise and reduction loops have explicit SIMD paths (AVX-512,
//!   AVX2+FMA, NEON) chosen at run time, with a plain scalar fallback; large work is split across
//!   threads with rayon; matrix products run on our own packed GEMM ([`gemm`]: cache blocking
//!   and an FMA micro-kernel per instruction set), tested against `matrixmultiply`, which stays
//!   as the reference and the fallback (`DISTILLERY_GEMM=matrixmultiply`).
//! - **Honest errors**: a shape mismatch names the op and both shapes.
//!
//! ## Non-goals
//! - No automatic differentiation here: that is the `autograd` crate, built on these kernels.
//! - No views or lazy evaluation: tensors are contiguous and row-major; ops that could be views
//!   (transpose, slice) copy. Simple to reason about, and what SIMD and sgemm want anyway.
//! - No GPU, no f16/f64 tensors, no integer tensors.
//!
//! ## Reading order
//! [`reference`](mod@reference) first: what each kernel computes, as plain loops. Then how:
//! [`tensor`](crate::Tensor) (the type) → [`shape`] (broadcasting) → [`simd`] (the vector kernels
//! and how a path is chosen) → [`parallel`] → elementwise ops → reductions → [`layout`] (how a
//! matrix is handed to a product) → [`matmul`] → [`gemm`] → softmax → [`conv`] (im2col) →
//! [`pool`] → [`upsample`]. Apart: [`block_cache`], the allocator the apps install so that a
//! training step reuses its large buffers instead of faulting in fresh pages.

mod error;
pub mod shape;
mod tensor;

pub mod block_cache;
pub mod parallel;
pub mod simd;

mod elementwise;
mod reduce;
mod shape_ops;
mod softmax;

pub mod conv;
pub mod gemm;
pub mod layout;
pub mod matmul;
pub mod pool;
pub mod upsample;

pub mod reference;

pub use block_cache::BlockCache;
pub use error::TensorError;
pub use layout::{MatMut, MatRef, Scale};
pub use tensor::Tensor;
