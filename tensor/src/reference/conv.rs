//! Convolution straight from its definition: what [`conv`](crate::conv) computes through im2col
//! and matrix products.
//!
//! Shapes, in the letters of the fast kernels: input `X [N, C, H, W]`, weight `W [O, C, KH, KW]`,
//! bias `b [O]`, output `Y [N, O, OH, OW]`; 1-D: `X [N, C, L]`, `W [O, C, K]`, `Y [N, O, OL]`.
//! As in every deep-learning library, "convolution" is cross-correlation: the kernel is not
//! flipped. Along one axis with stride `s`, padding `p` and dilation `d`, output cell `oh` reads
//! through kernel tap `i` the input cell
//!
//! ```text
//! ih = oh·s + i·d − p        (a cell outside 0..H is padding, and reads as 0)
//! ```
//!
//! Output sizes come from [`Conv2dGeometry`] / [`Conv1dGeometry`], which also check that the kernel
//! fits; the geometry tests count the positions that fit independently of its formula.

use crate::conv::{Conv1dGeometry, Conv1dParams, Conv2dGeometry, Conv2dParams};
use crate::Tensor;

/// The settings along each axis, `(stride, padding, dilation)` for the rows then the columns: what
/// [`source`] takes.
fn axes(params: Conv2dParams) -> ((usize, usize, usize), (usize, usize, usize)) {
    let Conv2dParams {
        stride,
        padding,
        dilation,
    } = params;
    (
        (stride.0, padding.0, dilation.0),
        (stride.1, padding.1, dilation.1),
    )
}

/// The input cell that output cell `out` reads through tap `tap` along an axis of `size` cells
/// (`ih = out·s + tap·d − p`), or `None` when that cell is padding.
fn source(out: usize, tap: usize, size: usize, (s, p, d): (usize, usize, usize)) -> Option<usize> {
    (out * s + tap * d).checked_sub(p).filter(|&i| i < size)
}

/// The sizes of a 2-D problem: `[N, C, H, W]` from the input shape, `[O, C, KH, KW]` from the
/// weight shape, and its checked geometry.
fn sizes_2d(
    x: &[usize],
    w: &[usize],
    params: Conv2dParams,
) -> ([usize; 4], [usize; 4], Conv2dGeometry) {
    let (&[n, c, h, wd], &[o, wc, kh, kw]) = (x, w) else {
        panic!("reference: conv2d needs [N, C, H, W] and [O, C, KH, KW], found {x:?} and {w:?}");
    };
    assert_eq!(
        c, wc,
        "reference: conv2d channels of {x:?} and {w:?} differ"
    );
    let g = Conv2dGeometry::new([c, h, wd], [kh, kw], params);
    ([n, c, h, wd], [o, c, kh, kw], g)
}

/// `Y[n, o, oh, ow] = b[o] + Σ_{c<C} Σ_{i<KH} Σ_{j<KW} W[o, c, i, j] · X[n, c, ih, iw]`
/// with `ih = oh·sh + i·dh − ph`, `iw = ow·sw + j·dw − pw` (padding cells left out of the sum):
/// seven nested loops, f64, in the row-major order of `Y [N, O, OH, OW]`.
pub fn conv2d(x: &Tensor, w: &Tensor, b: Option<&Tensor>, params: Conv2dParams) -> Vec<f64> {
    let ([n_, c_, h_, w_], [o_, _, kh_, kw_], g) = sizes_2d(x.shape(), w.shape(), params);
    let (rows, cols) = axes(params);
    let mut y = Vec::new();
    for n in 0..n_ {
        for o in 0..o_ {
            for oh in 0..g.out_height() {
                for ow in 0..g.out_width() {
                    let mut acc = b.map_or(0.0, |b| b.data()[o] as f64);
                    for c in 0..c_ {
                        for i in 0..kh_ {
                            for j in 0..kw_ {
                                let cell = (source(oh, i, h_, rows), source(ow, j, w_, cols));
                                if let (Some(ih), Some(iw)) = cell {
                                    acc +=
                                        w.at(&[o, c, i, j]) as f64 * x.at(&[n, c, ih, iw]) as f64;
                                }
                            }
                        }
                    }
                    y.push(acc);
                }
            }
        }
    }
    y
}

/// `dX` for [`conv2d`], `[N, C, H, W]` (`x_shape`) in f64: every input cell collects the
/// gradient of every output that read it, through the weight it was read with,
///
/// ```text
/// dX[n, c, ih, iw] = Σ dY[n, o, oh, ow] · W[o, c, i, j]
///     over all (o, oh, ow, i, j) with oh·sh + i·dh − ph = ih and ow·sw + j·dw − pw = iw
/// ```
///
/// written as the forward's loops with the multiply-add turned into a scatter: the forward read
/// `X[n, c, ih, iw]` into `Y[n, o, oh, ow]` with weight `W[o, c, i, j]`, so the backward adds
/// `dY[n, o, oh, ow]·W[o, c, i, j]` back into `dX[n, c, ih, iw]`.
pub fn conv2d_backward_input(
    dy: &Tensor,
    w: &Tensor,
    x_shape: &[usize],
    params: Conv2dParams,
) -> Vec<f64> {
    let ([n_, c_, h_, w_], [o_, _, kh_, kw_], g) = sizes_2d(x_shape, w.shape(), params);
    let (rows, cols) = axes(params);
    let mut dx = vec![0.0f64; n_ * c_ * h_ * w_];
    for n in 0..n_ {
        for o in 0..o_ {
            for oh in 0..g.out_height() {
                for ow in 0..g.out_width() {
                    for c in 0..c_ {
                        for i in 0..kh_ {
                            for j in 0..kw_ {
                                let cell = (source(oh, i, h_, rows), source(ow, j, w_, cols));
                                if let (Some(ih), Some(iw)) = cell {
                                    dx[((n * c_ + c) * h_ + ih) * w_ + iw] +=
                                        dy.at(&[n, o, oh, ow]) as f64 * w.at(&[o, c, i, j]) as f64;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    dx
}

/// `dW` for [`conv2d`], `[O, C, KH, KW]` (`w_shape`) in f64: each weight was used at every output
/// position of every image, so
///
/// ```text
/// dW[o, c, i, j] = Σ_{n<N} Σ_{oh<OH} Σ_{ow<OW} dY[n, o, oh, ow] · X[n, c, ih, iw]
/// ```
///
/// with `ih`, `iw` as in [`conv2d`] (padding cells contribute nothing).
pub fn conv2d_backward_weight(
    dy: &Tensor,
    x: &Tensor,
    w_shape: &[usize],
    params: Conv2dParams,
) -> Vec<f64> {
    let ([n_, c_, h_, w_], [o_, _, kh_, kw_], g) = sizes_2d(x.shape(), w_shape, params);
    let (rows, cols) = axes(params);
    let mut dw = Vec::new();
    for o in 0..o_ {
        for c in 0..c_ {
            for i in 0..kh_ {
                for j in 0..kw_ {
                    let mut acc = 0.0f64;
                    for n in 0..n_ {
                        for oh in 0..g.out_height() {
                            for ow in 0..g.out_width() {
                                let cell = (source(oh, i, h_, rows), source(ow, j, w_, cols));
                                if let (Some(ih), Some(iw)) = cell {
                                    acc += dy.at(&[n, o, oh, ow]) as f64
                                        * x.at(&[n, c, ih, iw]) as f64;
                                }
                            }
                        }
                    }
                    dw.push(acc);
                }
            }
        }
    }
    dw
}

/// The sizes of a 1-D problem: `[N, C, L]`, `[O, C, K]` and the checked geometry.
fn sizes_1d(
    x: &[usize],
    w: &[usize],
    (s, p, d): (usize, usize, usize),
) -> ([usize; 3], [usize; 3], Conv1dGeometry) {
    let (&[n, c, l], &[o, wc, k]) = (x, w) else {
        panic!("reference: conv1d needs [N, C, L] and [O, C, K], found {x:?} and {w:?}");
    };
    assert_eq!(
        c, wc,
        "reference: conv1d channels of {x:?} and {w:?} differ"
    );
    let params = Conv1dParams {
        stride: s,
        padding: p,
        dilation: d,
    };
    ([n, c, l], [o, c, k], Conv1dGeometry::new([c, l], k, params))
}

/// `Y[n, o, ol] = b[o] + Σ_{c<C} Σ_{k<K} W[o, c, k] · X[n, c, ol·s + k·d − p]` (padding left
/// out), f64, `[N, O, OL]`. Written on its own rather than as [`conv2d`] of height 1, so that the
/// 1-D kernels, which do run through the 2-D ones, are checked against a separate definition.
pub fn conv1d(x: &Tensor, w: &Tensor, b: Option<&Tensor>, params: Conv1dParams) -> Vec<f64> {
    let axis = (params.stride, params.padding, params.dilation);
    let ([n_, c_, l_], [o_, _, k_], g) = sizes_1d(x.shape(), w.shape(), axis);
    let mut y = Vec::new();
    for n in 0..n_ {
        for o in 0..o_ {
            for ol in 0..g.out_length() {
                let mut acc = b.map_or(0.0, |b| b.data()[o] as f64);
                for c in 0..c_ {
                    for k in 0..k_ {
                        if let Some(il) = source(ol, k, l_, axis) {
                            acc += w.at(&[o, c, k]) as f64 * x.at(&[n, c, il]) as f64;
                        }
                    }
                }
                y.push(acc);
            }
        }
    }
    y
}

/// `dX` for [`conv1d`], `[N, C, L]` (`x_shape`) in f64:
/// `dX[n, c, il] = Σ dY[n, o, ol] · W[o, c, k]` over all `(o, ol, k)` with `ol·s + k·d − p = il`.
pub fn conv1d_backward_input(
    dy: &Tensor,
    w: &Tensor,
    x_shape: &[usize],
    params: Conv1dParams,
) -> Vec<f64> {
    let axis = (params.stride, params.padding, params.dilation);
    let ([n_, c_, l_], [o_, _, k_], g) = sizes_1d(x_shape, w.shape(), axis);
    let mut dx = vec![0.0f64; n_ * c_ * l_];
    for n in 0..n_ {
        for o in 0..o_ {
            for ol in 0..g.out_length() {
                for c in 0..c_ {
                    for k in 0..k_ {
                        if let Some(il) = source(ol, k, l_, axis) {
                            dx[(n * c_ + c) * l_ + il] +=
                                dy.at(&[n, o, ol]) as f64 * w.at(&[o, c, k]) as f64;
                        }
                    }
                }
            }
        }
    }
    dx
}

/// `dW` for [`conv1d`], `[O, C, K]` (`w_shape`) in f64:
/// `dW[o, c, k] = Σ_{n<N} Σ_{ol<OL} dY[n, o, ol] · X[n, c, ol·s + k·d − p]`.
pub fn conv1d_backward_weight(
    dy: &Tensor,
    x: &Tensor,
    w_shape: &[usize],
    params: Conv1dParams,
) -> Vec<f64> {
    let axis = (params.stride, params.padding, params.dilation);
    let ([n_, c_, l_], [o_, _, k_], g) = sizes_1d(x.shape(), w_shape, axis);
    let mut dw = Vec::new();
    for o in 0..o_ {
        for c in 0..c_ {
            for k in 0..k_ {
                let mut acc = 0.0f64;
                for n in 0..n_ {
                    for ol in 0..g.out_length() {
                        if let Some(il) = source(ol, k, l_, axis) {
                            acc += dy.at(&[n, o, ol]) as f64 * x.at(&[n, c, il]) as f64;
                        }
                    }
                }
                dw.push(acc);
            }
        }
    }
    dw
}

/// `db[o] = Σ_{n<N} Σ_q dY[n, o, q]` over every output position `q` (`[N, O, OL]` or
/// `[N, O, OH, OW]`), in f64: the forward added `b[o]` to every output cell of channel `o`.
pub fn conv_backward_bias(dy: &Tensor) -> Vec<f64> {
    let shape = dy.shape();
    assert!(
        shape.len() == 3 || shape.len() == 4,
        "reference::conv_backward_bias: rank 3 or 4, found {shape:?}"
    );
    let (n_, o_) = (shape[0], shape[1]);
    let positions: usize = shape[2..].iter().product();
    let mut db = Vec::new();
    for o in 0..o_ {
        let mut acc = 0.0f64;
        for n in 0..n_ {
            for q in 0..positions {
                acc += dy.data()[(n * o_ + o) * positions + q] as f64;
            }
        }
        db.push(acc);
    }
    db
}

/// The column matrix of one image `[C, H, W]`, one cell at a time:
///
/// ```text
/// cols[(c·KH + i)·KW + j, oh·OW + ow] = X[c, ih, iw]     (0 where (ih, iw) is padding)
/// ```
///
/// `[C·KH·KW, OH·OW]`, row-major. Values are copied, so f32, to be compared bit for bit.
pub fn im2col_2d(image: &[f32], g: &Conv2dGeometry) -> Vec<f32> {
    assert_eq!(
        image.len(),
        g.image_len(),
        "reference::im2col_2d: image length"
    );
    let rows = (g.params.stride.0, g.params.padding.0, g.params.dilation.0);
    let cols = (g.params.stride.1, g.params.padding.1, g.params.dilation.1);
    let mut out = Vec::with_capacity(g.columns_len());
    for c in 0..g.channels {
        for i in 0..g.kernel_h {
            for j in 0..g.kernel_w {
                for oh in 0..g.out_height() {
                    for ow in 0..g.out_width() {
                        let cell = (source(oh, i, g.height, rows), source(ow, j, g.width, cols));
                        out.push(match cell {
                            (Some(ih), Some(iw)) => image[(c * g.height + ih) * g.width + iw],
                            _ => 0.0,
                        });
                    }
                }
            }
        }
    }
    out
}

/// [`im2col_2d`] of one signal `[C, L]`, seen as an image `[C, 1, L]` (the same memory).
pub fn im2col_1d(signal: &[f32], g: &Conv1dGeometry) -> Vec<f32> {
    im2col_2d(signal, &g.as_2d())
}

/// The adjoint of [`im2col_2d`]: every column entry added back into the image cell it was copied
/// from, entries from padding dropped, in f64, starting from a zero image `[C, H, W]`:
///
/// ```text
/// img[c, ih, iw] = Σ cols[(c·KH + i)·KW + j, oh·OW + ow]
///     over all (i, j, oh, ow) that read (ih, iw)
/// ```
///
/// (`col2im_2d` itself accumulates into the image it is given; from zeros the two agree.)
pub fn col2im_2d(columns: &[f32], g: &Conv2dGeometry) -> Vec<f64> {
    assert_eq!(
        columns.len(),
        g.columns_len(),
        "reference::col2im_2d: columns length"
    );
    let rows = (g.params.stride.0, g.params.padding.0, g.params.dilation.0);
    let cols = (g.params.stride.1, g.params.padding.1, g.params.dilation.1);
    let (oh_n, ow_n) = (g.out_height(), g.out_width());
    let mut image = vec![0.0f64; g.image_len()];
    for c in 0..g.channels {
        for i in 0..g.kernel_h {
            for j in 0..g.kernel_w {
                let row = (c * g.kernel_h + i) * g.kernel_w + j;
                for oh in 0..oh_n {
                    for ow in 0..ow_n {
                        let cell = (source(oh, i, g.height, rows), source(ow, j, g.width, cols));
                        if let (Some(ih), Some(iw)) = cell {
                            image[(c * g.height + ih) * g.width + iw] +=
                                columns[row * oh_n * ow_n + oh * ow_n + ow] as f64;
                        }
                    }
                }
            }
        }
    }
    image
}
