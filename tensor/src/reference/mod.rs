//! # reference — what every fast kernel computes, as plain loops
//!
//! Each function here is the definition of one fast kernel written as the loops a textbook would
//! write: one output element at a time, every index spelled out, sums accumulated in `f64`. Read
//! a function here before its fast twin: this says *what* is computed, the fast kernel *how* it is
//! computed quickly (SIMD, packing, im2col, threads). Every fast kernel's doc comment links to its
//! reference, and every agreement test in `tensor/tests` compares the two.
//!
//! ## Rules these functions keep
//! - **Obviously correct over fast.** Nested loops in the order of the formula in the doc comment,
//!   no blocking, no threads, no SIMD. Speed only matters enough for the tests to run.
//! - **No imports from the fast kernels.** A reference may use the `Tensor` type (its shape,
//!   `at`, `from_vec`) and the geometry types that say how large an output is
//!   ([`Conv2dGeometry`](crate::conv::Conv2dGeometry)), never a kernel it is meant to check. So a
//!   bug in a kernel cannot leak into its reference.
//! - **f64 accumulation** wherever a kernel sums: the result is then the exact value rounded once
//!   (for integer-valued inputs, exactly the value), and tests measure the kernel's f32 rounding
//!   against it with a stated bound. Kernels that only copy values (max pooling, im2col) have
//!   references in f32, compared bit for bit.
//! - **Arguments mirror the fast kernel's**, so a test calls both the same way. Results are flat,
//!   in the row-major order of the output the kernel returns.
//! - **Shapes are checked with plain asserts**: the error messages that name the op belong to the
//!   fast kernels and have their own tests.
//!
//! ## Topics
//! - [`vector`]: `sum`, `dot`, `axpy` of slices (the SIMD kernels of [`simd`](crate::simd)).
//! - [`matmul`]: `alpha·op(A)·op(B) + beta·C` (the GEMM, [`gemm`](crate::gemm), and
//!   `Tensor::matmul_t`).
//! - [`reduce`]: sums, means and maxima along an axis.
//! - [`softmax`](mod@softmax): softmax and log-softmax at a temperature.
//! - [`conv`]: 1-D and 2-D convolution, forward and both backwards, im2col and col2im.
//! - [`pool`]: max and average pooling, forward and backward.
//! - [`upsample`]: nearest-neighbour upsampling, forward and backward.

pub mod conv;
pub mod matmul;
pub mod pool;
pub mod reduce;
pub mod softmax;
pub mod upsample;
pub mod vector;

pub use conv::{
    col2im_2d, conv1d, conv1d_backward_input, conv1d_backward_weight, conv2d,
    conv2d_backward_input, conv2d_backward_weight, conv_backward_bias, im2col_1d, im2col_2d,
};
pub use matmul::{gemm, matmul_t};
pub use pool::{
    avg_pool1d, avg_pool1d_backward, avg_pool2d, avg_pool2d_backward, max_pool1d, max_pool2d,
    max_pool_backward,
};
pub use reduce::{max_axis_with_argmax, mean_axis, sum_all, sum_axis};
pub use softmax::{log_softmax, softmax};
pub use vector::{axpy, dot, sum};
