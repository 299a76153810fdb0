//! im2col and its adjoint col2im: a convolution rewritten as one matrix product.
//!
//! Shapes: one image `[C, H, W]`; the column matrix `[C·KH·KW, OH·OW]`, row-major.
//!
//! ```text
//! cols[(c·KH + kh)·KW + kw, oh·OW + ow] = x[c, oh·sh − ph + kh·dh, ow·sw − pw + kw·dw]   (0 off the image)
//! ```
//!
//! Column `oh·OW + ow` holds every input value the kernel sees when it sits at output position
//! `(oh, ow)`, in the same order as the weights `[O, C, KH, KW]` flatten to `[O, C·KH·KW]`. So the
//! convolution is `Y[O, OH·OW] = W[O, C·KH·KW] · cols`, and all the arithmetic happens in `sgemm`.
//! The price is memory: each input value is copied up to `KH·KW` times.
//!
//! im2col is linear in `x`, `cols = A·x` for a 0/1 matrix `A` with at most one 1 per row. Its adjoint
//! `Aᵀ` is col2im: every column entry is *added* back to the input cell it came from (a cell read by
//! several kernel positions collects several contributions; padding cells drop theirs). That is
//! exactly the backward of im2col, which is why col2im accumulates into `image` rather than
//! overwriting it: `⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩`.
//!
//! The loops run over rows `(c, kh, kw)` and then output rows `oh`: for a fixed row the valid output
//! columns `ow` (those whose input column is on the image) form one interval, computed once, so the
//! inner loop is a plain copy (a `memcpy` when `sw = 1`) with zero-fills either side, and no
//! per-element bounds test. The one-element-at-a-time definition above is
//! [`reference::im2col_2d`](crate::reference::im2col_2d), and the tests check the two agree bit
//! for bit.

use super::geometry::{Conv1dGeometry, Conv2dGeometry};
use crate::error::{fail, TensorError};

/// Fills `columns` (`[C·KH·KW, OH·OW]`) from one `image` (`[C, H, W]`); every cell of `columns` is
/// written, padding as 0.
///
/// The definition, as plain loops: [`reference::im2col_2d`](crate::reference::im2col_2d).
#[track_caller]
pub fn im2col_2d(image: &[f32], g: &Conv2dGeometry, columns: &mut [f32]) {
    check_lengths("im2col_2d", image.len(), columns.len(), g);
    let (oh_n, ow_n) = (g.out_height(), g.out_width());
    let plane = g.height * g.width;
    let mut rows = columns.chunks_exact_mut(oh_n * ow_n);
    for c in 0..g.channels {
        let channel = &image[c * plane..(c + 1) * plane];
        for kh in 0..g.kernel_h {
            let (oh_lo, oh_hi) = valid_outputs(
                oh_n,
                g.height,
                g.params.stride.0,
                g.params.padding.0,
                kh * g.params.dilation.0,
            );
            for kw in 0..g.kernel_w {
                let row = rows.next().expect("rows() = C·KH·KW chunks");
                let offset = kw * g.params.dilation.1;
                let (ow_lo, ow_hi) =
                    valid_outputs(ow_n, g.width, g.params.stride.1, g.params.padding.1, offset);
                for (oh, out) in row.chunks_exact_mut(ow_n).enumerate() {
                    if oh < oh_lo || oh >= oh_hi || ow_lo == ow_hi {
                        out.fill(0.0);
                        continue;
                    }
                    let ih = oh * g.params.stride.0 + kh * g.params.dilation.0 - g.params.padding.0;
                    let src = &channel[ih * g.width..(ih + 1) * g.width];
                    out[..ow_lo].fill(0.0);
                    out[ow_hi..].fill(0.0);
                    // First input column read: ow_lo·sw + kw·dw − pw, which valid_outputs keeps ≥ 0.
                    let iw0 = ow_lo * g.params.stride.1 + offset - g.params.padding.1;
                    let dst = &mut out[ow_lo..ow_hi];
                    if g.params.stride.1 == 1 {
                        copy_row(dst, &src[iw0..iw0 + dst.len()]);
                    } else {
                        for (d, &s) in dst
                            .iter_mut()
                            .zip(src[iw0..].iter().step_by(g.params.stride.1))
                        {
                            *d = s;
                        }
                    }
                }
            }
        }
    }
}

/// `dst.copy_from_slice(src)` for the short rows of an image (tens of floats), in pieces of 8:
/// a copy of a constant length compiles to a pair of vector moves, where one of a run-time length
/// is a call to `memmove` — once per row, thousands of times per image of `cnn_train`'s second
/// layer. The profile before and after is in docs/performance.md.
fn copy_row(dst: &mut [f32], src: &[f32]) {
    debug_assert_eq!(dst.len(), src.len());
    let (pieces, dst_tail) = dst.as_chunks_mut::<8>();
    let (from, src_tail) = src.as_chunks::<8>();
    for (d, s) in pieces.iter_mut().zip(from) {
        *d = *s;
    }
    for (d, &s) in dst_tail.iter_mut().zip(src_tail) {
        *d = s;
    }
}

/// Adds every entry of `columns` (`[C·KH·KW, OH·OW]`) into the `image` (`[C, H, W]`) cell it was
/// read from by [`im2col_2d`]; entries that came from padding are dropped. ACCUMULATES: `image` is
/// not cleared first.
///
/// The definition, as plain loops: [`reference::col2im_2d`](crate::reference::col2im_2d).
#[track_caller]
pub fn col2im_2d(columns: &[f32], g: &Conv2dGeometry, image: &mut [f32]) {
    check_lengths("col2im_2d", image.len(), columns.len(), g);
    let (oh_n, ow_n) = (g.out_height(), g.out_width());
    let plane = g.height * g.width;
    let mut rows = columns.chunks_exact(oh_n * ow_n);
    for c in 0..g.channels {
        let channel = &mut image[c * plane..(c + 1) * plane];
        for kh in 0..g.kernel_h {
            let (oh_lo, oh_hi) = valid_outputs(
                oh_n,
                g.height,
                g.params.stride.0,
                g.params.padding.0,
                kh * g.params.dilation.0,
            );
            for kw in 0..g.kernel_w {
                let row = rows.next().expect("rows() = C·KH·KW chunks");
                let offset = kw * g.params.dilation.1;
                let (ow_lo, ow_hi) =
                    valid_outputs(ow_n, g.width, g.params.stride.1, g.params.padding.1, offset);
                // The forward copied image cells into these columns (and zeros into the rest), so
                // the backward adds these columns back onto the same cells and drops the rest.
                if ow_lo == ow_hi {
                    continue;
                }
                for oh in oh_lo..oh_hi {
                    let ih = oh * g.params.stride.0 + kh * g.params.dilation.0 - g.params.padding.0;
                    let dst = &mut channel[ih * g.width..(ih + 1) * g.width];
                    let src = &row[oh * ow_n + ow_lo..oh * ow_n + ow_hi];
                    let iw0 = ow_lo * g.params.stride.1 + offset - g.params.padding.1;
                    if g.params.stride.1 == 1 {
                        // Contiguous on both sides: a plain loop over two slices, which the
                        // compiler turns into vector adds (the strided loop below does one float
                        // at a time, and stride 1 is the common case of every CNN here).
                        for (d, &s) in dst[iw0..iw0 + src.len()].iter_mut().zip(src) {
                            *d += s;
                        }
                    } else {
                        for (d, &s) in dst[iw0..].iter_mut().step_by(g.params.stride.1).zip(src) {
                            *d += s;
                        }
                    }
                }
            }
        }
    }
}

/// [`im2col_2d`] for one signal `[C, L]` into `[C·K, OL]`.
///
/// The definition, as plain loops: [`reference::im2col_1d`](crate::reference::im2col_1d).
#[track_caller]
pub fn im2col_1d(signal: &[f32], g: &Conv1dGeometry, columns: &mut [f32]) {
    im2col_2d(signal, &g.as_2d(), columns)
}

/// [`col2im_2d`] for `[C·K, OL]` columns into one signal `[C, L]`. ACCUMULATES.
#[track_caller]
pub fn col2im_1d(columns: &[f32], g: &Conv1dGeometry, signal: &mut [f32]) {
    col2im_2d(columns, &g.as_2d(), signal)
}

/// The output positions `lo..hi` (out of `0..out`) whose input index `o·s − p + offset` lies on the
/// image `0..n`. Solving `0 ≤ o·s + offset − p < n` for `o`: `o ≥ ⌈(p − offset)/s⌉` and
/// `o < ⌈(n + p − offset)/s⌉`. When no position reaches the image the interval is empty (`lo == hi`)
/// and `lo` is clamped, so callers must not compute an input index from an empty interval's `lo`.
fn valid_outputs(out: usize, n: usize, s: usize, p: usize, offset: usize) -> (usize, usize) {
    let lo = if offset >= p {
        0
    } else {
        (p - offset).div_ceil(s)
    };
    let hi = if n + p <= offset {
        0
    } else {
        (n + p - offset).div_ceil(s)
    };
    let hi = hi.min(out);
    (lo.min(hi), hi)
}

#[track_caller]
fn check_lengths(op: &'static str, image: usize, columns: usize, g: &Conv2dGeometry) {
    if image != g.image_len() || columns != g.columns_len() {
        fail(TensorError::InvalidArgument {
            op,
            message: format!(
                "geometry C={} H={} W={} needs an image of {} values and columns of {}·{} = {} \
                 values, found {image} and {columns}",
                g.channels,
                g.height,
                g.width,
                g.image_len(),
                g.rows(),
                g.cols(),
                g.columns_len()
            ),
        });
    }
}
