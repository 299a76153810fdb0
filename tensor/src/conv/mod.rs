//! Convolution: 1-D and 2-D, forward and backward, by im2col and matrix products.
//!
//! Layouts: images `[N, C, H, W]` and signals `[N, C, L]`; weights `[O, C, KH, KW]` and `[O, C, K]`;
//! bias `[O]`. Like every deep-learning library, "convolution" here is cross-correlation (the kernel
//! is not flipped).
//!
//! The idea in one line: copy every input patch the kernel sees into a column ([`im2col_2d`]), and
//! the convolution of one image becomes one matrix product `Y = W·cols + b`, which `sgemm` does
//! fast. The backward products are matrix products too (`dcols = Wᵀ·dY`, `dW = dY·colsᵀ`), and
//! `dX` is the columns added back where they came from ([`col2im_2d`], the adjoint of im2col).
//!
//! ## Reading order
//! - [`geometry`](Conv2dGeometry): the settings ([`Conv2dParams`]: stride, padding, dilation), the
//!   output sizes and the checks on them.
//! - `im2col`: [`im2col_2d`] / [`col2im_2d`] and the 1-D forms.
//! - `conv2d`: [`conv2d`], [`conv2d_backward_input`], [`conv2d_backward_weight`], and where the
//!   threads go.
//! - `conv1d`: the 1-D ops, which run the 2-D kernels with height 1.
//! - `bias`: [`conv_backward_bias`], shared by both.
//!
//! ## Non-goals
//! - No groups, no transposed convolution, no asymmetric padding.
//! - No direct (non-im2col) or Winograd/FFT kernels: im2col costs `KH·KW` times the input in memory,
//!   and buys a single, well-tuned inner loop (`sgemm`).

mod bias;
mod conv1d;
mod conv2d;
mod geometry;
mod im2col;

pub use bias::conv_backward_bias;
pub use conv1d::{conv1d, conv1d_backward_input, conv1d_backward_weight};
pub use conv2d::{conv2d, conv2d_backward_input, conv2d_backward_weight};
pub use geometry::{Conv1dGeometry, Conv1dParams, Conv2dGeometry, Conv2dParams};
pub use im2col::{col2im_1d, col2im_2d, im2col_1d, im2col_2d};
