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
#[allow(clippy::too_many_arguments)]
pub(super) fn pack(
    width: usize,
    src: &[f32],
    (rs, cs): (usize, usize),
    (r0, rows): (usize, usize),
    (c0, cols): (usize, usize),
    dst: &mut [f32],
    parallel: bool,
) {
    let panel_len = width * cols;
    debug_assert_eq!(dst.len(), rows.div_ceil(width) * panel_len);
    let one = |(panel, out): (usize, &mut [f32])| {
        let first = r0 + panel * width;
        let height = width.min(r0 + rows - first);
        if rs == 1 {
            // The panel's values in one column are contiguous in `src`: copy them as slices.
            for (p, out_p) in out.chunks_exact_mut(width).enumerate() {
                let start = first + (c0 + p) * cs;
                out_p[..height].copy_from_slice(&src[start..start + height]);
                out_p[height..].fill(0.0);
            }
        } else {
            // Each row of the panel is read along its stride `cs` (contiguous when cs == 1) and
            // written every `width` floats.
            for i in 0..width {
                let column_of_out = out[i..].iter_mut().step_by(width);
                if i < height {
                    let start = (first + i) * rs + c0 * cs;
                    let row = src[start..].iter().step_by(cs).take(cols);
                    for (o, &x) in column_of_out.zip(row) {
                        *o = x;
                    }
                } else {
                    column_of_out.for_each(|o| *o = 0.0);
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
