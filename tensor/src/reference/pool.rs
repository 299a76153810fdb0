//! Pooling one window at a time: what [`pool`](crate::pool) computes row by row, in SIMD and on
//! threads.
//!
//! Shapes: `X [N, C, H, W]` → `Y [N, C, OH, OW]`; 1-D `[N, C, L]` → `[N, C, OL]`, which is the 2-D
//! case with `H = KH = sh = 1` on the same memory. A `KH × KW` window steps `(sh, sw)` cells, with
//! no padding, so
//!
//! ```text
//! OH = ⌊(H − KH)/sh⌋ + 1,    window (oh, ow) = cells (oh·sh + i, ow·sw + j), i < KH, j < KW
//! ```

use crate::Tensor;

/// `[N, C, H, W]` of a 2-D input, or `[N, C, 1, L]` of a 1-D one.
fn as_4d(shape: &[usize]) -> [usize; 4] {
    match *shape {
        [n, c, h, w] => [n, c, h, w],
        [n, c, l] => [n, c, 1, l],
        _ => panic!("reference: pooling needs [N, C, H, W] or [N, C, L], found {shape:?}"),
    }
}

/// `(OH, OW)` for an `h × w` plane, or panics if the window does not fit.
fn out_size(
    (h, w): (usize, usize),
    (kh, kw): (usize, usize),
    (sh, sw): (usize, usize),
) -> (usize, usize) {
    assert!(
        kh >= 1 && kw >= 1 && sh >= 1 && sw >= 1,
        "reference: empty window or zero stride"
    );
    assert!(
        kh <= h && kw <= w,
        "reference: the window is larger than the input"
    );
    ((h - kh) / sh + 1, (w - kw) / sw + 1)
}

/// `Y[n, c, oh, ow] = max_{i<KH, j<KW} X[n, c, oh·sh + i, ow·sw + j]`, and for each output the
/// flat index into all of `X` where its maximum was found.
///
/// The rule, visiting a window's cells in row-major order: a strictly larger value replaces the
/// best so far (so ties keep the first), a NaN replaces a number, and nothing replaces a NaN (so
/// the first NaN wins: a pool must not hide a NaN from upstream). Values are copied, so the result
/// is compared bit for bit.
pub fn max_pool2d(
    x: &Tensor,
    kernel: (usize, usize),
    stride: (usize, usize),
) -> (Tensor, Vec<usize>) {
    let [n, c, h, w] = as_4d(x.shape());
    let (oh_n, ow_n) = out_size((h, w), kernel, stride);
    let data = x.data();
    let (mut y, mut argmax) = (Vec::new(), Vec::new());
    for plane in 0..n * c {
        for oh in 0..oh_n {
            for ow in 0..ow_n {
                let corner = (plane * h + oh * stride.0) * w + ow * stride.1;
                let mut best = corner;
                for i in 0..kernel.0 {
                    for j in 0..kernel.1 {
                        let at = corner + i * w + j;
                        let (v, b) = (data[at], data[best]);
                        if v > b || (v.is_nan() && !b.is_nan()) {
                            best = at;
                        }
                    }
                }
                y.push(data[best]);
                argmax.push(best);
            }
        }
    }
    let out_shape = if x.ndim() == 3 {
        vec![n, c, ow_n]
    } else {
        vec![n, c, oh_n, ow_n]
    };
    (Tensor::from_vec(y, &out_shape).unwrap(), argmax)
}

/// `Y[n, c, ol] = max_{k<K} X[n, c, ol·s + k]` with its argmax: [`max_pool2d`] of `[N, C, L]`
/// seen as `[N, C, 1, L]`.
pub fn max_pool1d(x: &Tensor, kernel: usize, stride: usize) -> (Tensor, Vec<usize>) {
    assert_eq!(x.ndim(), 3, "reference::max_pool1d: needs [N, C, L]");
    max_pool2d(x, (1, kernel), (1, stride))
}

/// `dX` for max pooling, 1-D or 2-D, in f64: `dX = Σ_q dY[q] · e_{argmax[q]}`. The forward copied
/// `X[argmax[q]]` into `Y[q]`, so the backward adds `dY[q]` back there; a cell that was the maximum
/// of several overlapping windows collects all their gradients, and every other cell gets 0.
pub fn max_pool_backward(dy: &Tensor, argmax: &[usize], input_shape: &[usize]) -> Vec<f64> {
    assert_eq!(
        argmax.len(),
        dy.numel(),
        "reference::max_pool_backward: one index per output"
    );
    let mut dx = vec![0.0f64; input_shape.iter().product()];
    for (&i, &d) in argmax.iter().zip(dy.data()) {
        dx[i] += d as f64;
    }
    dx
}

/// `Y[n, c, oh, ow] = (1/(KH·KW)) · Σ_{i<KH, j<KW} X[n, c, oh·sh + i, ow·sw + j]` in f64 (every
/// window lies wholly on the input, so every mean divides by `KH·KW`). Accepts `[N, C, L]` too,
/// with `kernel.0 = stride.0 = 1`.
pub fn avg_pool2d(x: &Tensor, kernel: (usize, usize), stride: (usize, usize)) -> Vec<f64> {
    let [n, c, h, w] = as_4d(x.shape());
    let (oh_n, ow_n) = out_size((h, w), kernel, stride);
    let count = (kernel.0 * kernel.1) as f64;
    let data = x.data();
    let mut y = Vec::new();
    for plane in 0..n * c {
        for oh in 0..oh_n {
            for ow in 0..ow_n {
                let mut total = 0.0f64;
                for i in 0..kernel.0 {
                    for j in 0..kernel.1 {
                        total +=
                            data[(plane * h + oh * stride.0 + i) * w + ow * stride.1 + j] as f64;
                    }
                }
                y.push(total / count);
            }
        }
    }
    y
}

/// `dX` for [`avg_pool2d`], `input_shape` in f64: every cell of window `(oh, ow)` received
/// `1/(KH·KW)` of its mean, so it gets back that share of `dY`,
///
/// ```text
/// dX[n, c, ih, iw] = Σ dY[n, c, oh, ow] / (KH·KW)   over the windows (oh, ow) holding (ih, iw)
/// ```
pub fn avg_pool2d_backward(
    dy: &Tensor,
    input_shape: &[usize],
    kernel: (usize, usize),
    stride: (usize, usize),
) -> Vec<f64> {
    let [n, c, h, w] = as_4d(input_shape);
    let (oh_n, ow_n) = out_size((h, w), kernel, stride);
    assert_eq!(
        dy.numel(),
        n * c * oh_n * ow_n,
        "reference::avg_pool2d_backward: dY size"
    );
    let count = (kernel.0 * kernel.1) as f64;
    let mut dx = vec![0.0f64; n * c * h * w];
    for plane in 0..n * c {
        for oh in 0..oh_n {
            for ow in 0..ow_n {
                let d = dy.data()[(plane * oh_n + oh) * ow_n + ow] as f64;
                for i in 0..kernel.0 {
                    for j in 0..kernel.1 {
                        dx[(plane * h + oh * stride.0 + i) * w + ow * stride.1 + j] += d / count;
                    }
                }
            }
        }
    }
    dx
}

/// `Y[n, c, ol] = (1/K) · Σ_{k<K} X[n, c, ol·s + k]`: [`avg_pool2d`] of `[N, C, L]` seen as
/// `[N, C, 1, L]`.
pub fn avg_pool1d(x: &Tensor, kernel: usize, stride: usize) -> Vec<f64> {
    assert_eq!(x.ndim(), 3, "reference::avg_pool1d: needs [N, C, L]");
    avg_pool2d(x, (1, kernel), (1, stride))
}

/// `dX` for [`avg_pool1d`]: [`avg_pool2d_backward`] with height 1.
pub fn avg_pool1d_backward(
    dy: &Tensor,
    input_shape: &[usize],
    kernel: usize,
    stride: usize,
) -> Vec<f64> {
    assert_eq!(
        input_shape.len(),
        3,
        "reference::avg_pool1d_backward: needs [N, C, L]"
    );
    avg_pool2d_backward(dy, input_shape, (1, kernel), (1, stride))
}
