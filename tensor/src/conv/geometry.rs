//! The sizes of one convolution: how big the image, the kernel and the output are, and how big the
//! column matrix that im2col builds is.
//!
//! Along one spatial axis with input size `H`, kernel `K`, stride `s`, padding `p` and dilation `d`,
//! the kernel's taps sit `d` apart, so it spans `d·(K − 1) + 1` cells of the padded input
//! (`H + 2p` cells). The output has one cell per position where that span fits:
//!
//! ```text
//! OH = ⌊(H + 2p − d·(K − 1) − 1) / s⌋ + 1
//! ```
//!
//! and output cell `oh` reads input row `ih = oh·s − p + kh·d` for tap `kh` (a row outside `0..H`
//! is padding and reads as zero). This is the formula of PyTorch's `Conv2d` documentation.
//!
//! Everything is checked once, here, when a geometry is built: a kernel that does not fit, or a zero
//! stride, dilation or kernel size, panics with a message naming the op. The kernels that take a
//! geometry can then trust it.

use crate::error::{fail, TensorError};

/// The settings of a 2-D convolution, each `(along the height, along the width)`: what a layer
/// chooses, apart from the sizes of its input and kernel. The one description of them, used by
/// every convolution here, by `autograd` (`Var::conv2d`) and by `nn` (`Conv2d`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dParams {
    /// `(sh, sw)`, the step between output cells, in input cells.
    pub stride: (usize, usize),
    /// `(ph, pw)`, zeros added on each side (top and bottom, left and right).
    pub padding: (usize, usize),
    /// `(dh, dw)`, the step between kernel taps, in input cells (1 is an ordinary kernel).
    pub dilation: (usize, usize),
}

impl Default for Conv2dParams {
    /// Stride 1, no padding, no dilation: the ordinary "valid" convolution.
    fn default() -> Self {
        Conv2dParams {
            stride: (1, 1),
            padding: (0, 0),
            dilation: (1, 1),
        }
    }
}

/// The settings of a 1-D convolution, as [`Conv2dParams`] along one axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv1dParams {
    /// `s`, the step between output cells.
    pub stride: usize,
    /// `p`, zeros added at each end.
    pub padding: usize,
    /// `d`, the step between kernel taps.
    pub dilation: usize,
}

impl Default for Conv1dParams {
    /// Stride 1, no padding, no dilation.
    fn default() -> Self {
        Conv1dParams {
            stride: 1,
            padding: 0,
            dilation: 1,
        }
    }
}

impl Conv1dParams {
    /// The same settings for a 2-D convolution of height 1: nothing moves along the height.
    pub fn as_2d(self) -> Conv2dParams {
        Conv2dParams {
            stride: (1, self.stride),
            padding: (0, self.padding),
            dilation: (1, self.dilation),
        }
    }
}

/// The sizes of a 2-D convolution of one image `[C, H, W]` with a kernel `KH × KW`, and its
/// settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dGeometry {
    /// `C`, input channels.
    pub channels: usize,
    /// `H`, input height (before padding).
    pub height: usize,
    /// `W`, input width (before padding).
    pub width: usize,
    /// `KH`, kernel height.
    pub kernel_h: usize,
    /// `KW`, kernel width.
    pub kernel_w: usize,
    /// Stride, padding and dilation.
    pub params: Conv2dParams,
}

impl Conv2dGeometry {
    /// Builds and checks the geometry of an image `[C, H, W]` and a kernel `[KH, KW]`. Panics when
    /// a stride, dilation or kernel size is 0, or when the dilated kernel is larger than the padded
    /// input.
    #[track_caller]
    pub fn new(image: [usize; 3], kernel: [usize; 2], params: Conv2dParams) -> Self {
        Self::checked("Conv2dGeometry::new", image, kernel, params)
    }

    /// [`Conv2dGeometry::new`] with the op named in a failure (so that `conv2d` says `conv2d:`).
    #[track_caller]
    pub(crate) fn checked(
        op: &'static str,
        [channels, height, width]: [usize; 3],
        [kernel_h, kernel_w]: [usize; 2],
        params: Conv2dParams,
    ) -> Self {
        let Conv2dParams {
            stride,
            padding,
            dilation,
        } = params;
        check_axis(
            op, "height", height, kernel_h, stride.0, padding.0, dilation.0,
        );
        check_axis(
            op, "width", width, kernel_w, stride.1, padding.1, dilation.1,
        );
        Conv2dGeometry {
            channels,
            height,
            width,
            kernel_h,
            kernel_w,
            params,
        }
    }

    /// `OH`, the output height.
    pub fn out_height(&self) -> usize {
        let p = &self.params;
        out_size(
            self.height,
            self.kernel_h,
            p.stride.0,
            p.padding.0,
            p.dilation.0,
        )
    }

    /// `OW`, the output width.
    pub fn out_width(&self) -> usize {
        let p = &self.params;
        out_size(
            self.width,
            self.kernel_w,
            p.stride.1,
            p.padding.1,
            p.dilation.1,
        )
    }

    /// `C·KH·KW`, the rows of the column matrix: one per (channel, kernel tap).
    pub fn rows(&self) -> usize {
        self.channels * self.kernel_h * self.kernel_w
    }

    /// `OH·OW`, the columns of the column matrix: one per output position.
    pub fn cols(&self) -> usize {
        self.out_height() * self.out_width()
    }

    /// `C·KH·KW · OH·OW`, the length of the column matrix of one image.
    pub fn columns_len(&self) -> usize {
        self.rows() * self.cols()
    }

    /// `C·H·W`, the length of one image.
    pub fn image_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// True when im2col would copy the image unchanged (a 1×1 kernel, stride 1, no padding): then
    /// the image itself *is* the column matrix `[C, H·W]`, and the copy can be skipped.
    pub(crate) fn is_identity(&self) -> bool {
        self.kernel_h == 1
            && self.kernel_w == 1
            && self.params.stride == (1, 1)
            && self.params.padding == (0, 0)
    }
}

/// The sizes of a 1-D convolution of one signal `[C, L]` with a kernel of `K` taps, and its
/// settings.
///
/// A 1-D convolution is a 2-D one with `H = KH = 1` (see [`Conv1dGeometry::as_2d`]); every 1-D
/// kernel here runs through the 2-D code, so there is only one im2col to get right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv1dGeometry {
    /// `C`, input channels.
    pub channels: usize,
    /// `L`, input length (before padding).
    pub length: usize,
    /// `K`, kernel taps.
    pub kernel: usize,
    /// Stride, padding and dilation.
    pub params: Conv1dParams,
}

impl Conv1dGeometry {
    /// Builds and checks the geometry of a signal `[C, L]` and a kernel of `K` taps; panics like
    /// [`Conv2dGeometry::new`].
    #[track_caller]
    pub fn new(signal: [usize; 2], kernel: usize, params: Conv1dParams) -> Self {
        Self::checked("Conv1dGeometry::new", signal, kernel, params)
    }

    #[track_caller]
    pub(crate) fn checked(
        op: &'static str,
        [channels, length]: [usize; 2],
        kernel: usize,
        params: Conv1dParams,
    ) -> Self {
        let Conv1dParams {
            stride,
            padding,
            dilation,
        } = params;
        check_axis(op, "length", length, kernel, stride, padding, dilation);
        Conv1dGeometry {
            channels,
            length,
            kernel,
            params,
        }
    }

    /// `OL`, the output length.
    pub fn out_length(&self) -> usize {
        let p = &self.params;
        out_size(self.length, self.kernel, p.stride, p.padding, p.dilation)
    }

    /// `C·K`, the rows of the column matrix.
    pub fn rows(&self) -> usize {
        self.channels * self.kernel
    }

    /// `OL`, the columns of the column matrix.
    pub fn cols(&self) -> usize {
        self.out_length()
    }

    /// `C·K · OL`, the length of the column matrix of one signal.
    pub fn columns_len(&self) -> usize {
        self.rows() * self.cols()
    }

    /// The same convolution seen as a 2-D one over a `[C, 1, L]` image with a `1 × K` kernel. The
    /// memory layouts agree (`[C, L]` is `[C, 1, L]`; `[C·K, OL]` is `[C·1·K, 1·OL]`), so the 2-D
    /// kernels run on 1-D buffers unchanged.
    pub fn as_2d(&self) -> Conv2dGeometry {
        Conv2dGeometry {
            channels: self.channels,
            height: 1,
            width: self.length,
            kernel_h: 1,
            kernel_w: self.kernel,
            params: self.params.as_2d(),
        }
    }
}

/// `⌊(n + 2p − d·(k − 1) − 1) / s⌋ + 1`; only called on checked geometries, where it cannot underflow.
fn out_size(n: usize, k: usize, s: usize, p: usize, d: usize) -> usize {
    (n + 2 * p - d * (k - 1) - 1) / s + 1
}

/// Panics unless kernel, stride and dilation are positive and the dilated kernel fits in the padded
/// input along this axis.
#[track_caller]
fn check_axis(op: &'static str, axis: &str, n: usize, k: usize, s: usize, p: usize, d: usize) {
    let message = if k == 0 {
        Some(format!("kernel {axis} must be at least 1"))
    } else if s == 0 {
        Some(format!("stride along {axis} must be at least 1"))
    } else if d == 0 {
        Some(format!("dilation along {axis} must be at least 1"))
    } else if d * (k - 1) + 1 > n + 2 * p {
        Some(format!(
            "kernel {k} with dilation {d} spans {} cells, more than the input {axis} {n} \
             with padding {p} on each side ({} cells)",
            d * (k - 1) + 1,
            n + 2 * p
        ))
    } else {
        None
    };
    if let Some(message) = message {
        fail(TensorError::InvalidArgument { op, message });
    }
}
