//! Packing: copying a block of an operand into the order the micro-kernel reads it.
//!
//! One function does both operands. It cuts a block of a strided matrix into *panels* of `width`
//! rows and lays each panel out column by column: for each column `p`, the panel's `width` values
//! of that column, one after the other. For `A` the panels are `MR` rows of `op(A)` (so the kernel
//! finds, at step `p`, the column of `MR` values it broadcasts); for `B` they are `NR` columns of
//! `op(B)`, i.e. `NR` rows of `op(B)ᵀ` — the same function, called with the strides swapped — so
//! the kernel finds, at step `p`, the row of `NR` values it loads as vectors.
//!
//! A panel that runs past the edge of the matrix is padded with zeros: the kernel then always
//! computes a whole tile. A padded row of `A` (or column of `B`) only feeds the same row (column)
//! of the tile, which is never stored, so any finite value would do; zeros keep it tidy.
//!
//! Transposed operands cost nothing extra: the strides say where element `(i, j)` lives, so a
//! stored `Aᵀ` is read through `(rs, cs) = (1, m)` instead of `(k, 1)`. The two loop orders below
//! are the same copy; each reads memory in the order that is contiguous for its stride.

use rayon::prelude::*;

/// Packs rows `r0..r0 + rows` × columns `c0..c0 + cols` of the matrix whose element `(i, j)` is
/// `src[i·rs + j·cs]` into `dst`, as `rows.div_ceil(width)` panels of `width × cols` floats.
/// With `parallel`, the panels are spread over rayon's threads.
///
/// `width` is one of the kernels' `MR` or `NR`; each gets its own copy of the loops with the width
/// a constant, so the inner loop over a panel's `width` values is unrolled (measured: about twice
/// as fast as the same loops with a run-time width, which matters when `n` is small and packing
/// `A` costs as much as the product, as in `128×800 · 800×10`).
#[allow(clippy::too_many_arguments)]
pub(super) fn pack(
    width: usize,
    src: &[f32],
    strides: (usize, usize),
    rows: (usize, usize),
    cols: (usize, usize),
    dst: &mut [f32],
    parallel: bool,
) {
    macro_rules! widths {
        ($($w:literal),*) => {
            match width {
                $($w => pack_width::<$w>(src, strides, rows, cols, dst, parallel),)*
                _ => unreachable!("no kernel has a tile side of {width}"),
            }
        };
    }
    widths!(4, 6, 8, 12, 14, 16, 32)
}

/// [`pack`] for a panel width `W` known at compile time.
fn pack_width<const W: usize>(
    src: &[f32],
    (rs, cs): (usize, usize),
    (r0, rows): (usize, usize),
    (c0, cols): (usize, usize),
    dst: &mut [f32],
    parallel: bool,
) {
    let panel_len = W * cols;
    debug_assert_eq!(dst.len(), rows.div_ceil(W) * panel_len);
    let one = |(panel, out): (usize, &mut [f32])| {
        let first = r0 + panel * W;
        let height = W.min(r0 + rows - first);
        if rs == 1 {
            // The panel's values in one column are contiguous in `src`: copy them as slices.
            for (p, out_p) in out.chunks_exact_mut(W).enumerate() {
                let start = first + (c0 + p) * cs;
                if height == W {
                    out_p.copy_from_slice(&src[start..start + W]);
                } else {
                    out_p[..height].copy_from_slice(&src[start..start + height]);
                    out_p[height..].fill(0.0);
                }
            }
        } else if cs == 1 && height == W {
            // Rows of the panel are contiguous in `src`: read the W rows side by side, so each
            // step writes one whole column of the panel.
            let lines: [&[f32]; W] = std::array::from_fn(|i| {
                let start = (first + i) * rs + c0;
                &src[start..start + cols]
            });
            for (p, out_p) in out.chunks_exact_mut(W).enumerate() {
                for (o, line) in out_p.iter_mut().zip(&lines) {
                    *o = line[p];
                }
            }
        } else {
            // General strides, or a ragged last panel: element by element.
            for (p, out_p) in out.chunks_exact_mut(W).enumerate() {
                for (i, o) in out_p.iter_mut().enumerate() {
                    *o = if i < height {
                        src[(first + i) * rs + (c0 + p) * cs]
                    } else {
                        0.0
                    };
                }
            }
        }
    };
    if parallel {
        dst.par_chunks_mut(panel_len)
            .enumerate()
            .with_min_len(4)
            .for_each(one);
    } else {
        dst.chunks_mut(panel_len).enumerate().for_each(one);
    }
}
