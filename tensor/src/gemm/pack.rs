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
//! stored `Aᵀ` is read through `(rs, cs) = (1, m)` instead of `(k, 1)`. Three copies below do the
//! same job, each reading memory in the order that is contiguous for its strides: when a panel's
//! columns are contiguous (`rs == 1`: a row-major `B`, a stored `Aᵀ`), [`pack_contiguous`]; when
//! its rows are (`cs == 1`), the transposing copy below; otherwise element by element.
//!
//! ## The transposing copy (`cs == 1`)
//! When the panel's *rows* are contiguous in memory (`B` of `x·Wᵀ` with `W` stored `[out, in]`, a
//! row-major `A`), packing is a transpose: `W` rows in, columns of `W` values out. Element by
//! element that is one scalar load and store per float, gathered from `W` streams. On AVX2 it is
//! done instead in `8×8` blocks ([`avx2::transpose_panel`]): 8 vector loads (8 columns of 8
//! rows), 24 in-register shuffles, 8 vector stores (8 rows of the panel). The scalar loops stay as
//! the reference, and a test checks that both give the same panels, bit for bit (a copy is exact).

use crate::simd::Level;

/// Packs rows `r0..r0 + rows` × columns `c0..c0 + cols` of the matrix whose element `(i, j)` is
/// `src[i·rs + j·cs]` into `dst`, as `rows.div_ceil(width)` panels of `width × cols` floats.
/// `level` is the SIMD level of the product: the AVX2 transpose (see the module doc) is used when
/// it is not `Scalar` and the CPU has AVX2, so `DISTILLERY_SIMD=scalar` runs no vector code here
/// either.
///
/// `width` is one of the kernels' `MR` or `NR`; each gets its own copy of the loops with the width
/// a constant, so the inner loop over a panel's `width` values is unrolled (a run-time width keeps
/// it a loop, which matters when `n` is small and packing `A` costs as much as the product, as in
/// `128×800 · 800×10`; timings in docs/performance.md).
pub(super) fn pack(
    level: Level,
    width: usize,
    src: &[f32],
    strides: (usize, usize),
    rows: (usize, usize),
    cols: (usize, usize),
    dst: &mut [f32],
) {
    macro_rules! widths {
        ($($w:literal),*) => {
            match width {
                $($w => pack_width::<$w>(level, src, strides, rows, cols, dst),)*
                _ => unreachable!("no kernel has a tile side of {width}"),
            }
        };
    }
    widths!(4, 6, 8, 12, 14, 16, 32)
}

/// [`pack`] for a panel width `W` known at compile time.
fn pack_width<const W: usize>(
    level: Level,
    src: &[f32],
    (rs, cs): (usize, usize),
    (r0, rows): (usize, usize),
    (c0, cols): (usize, usize),
    dst: &mut [f32],
) {
    let panel_len = W * cols;
    debug_assert_eq!(dst.len(), rows.div_ceil(W) * panel_len);
    let transpose_avx2 = avx2::usable::<W>(level);
    if rs == 1 {
        // A column of a panel is contiguous in `src`: all panels at once, block of columns by
        // block of columns (see `pack_contiguous`).
        pack_contiguous::<W>(src, cs, (r0, r0 + rows), (c0, cols), dst);
        return;
    }
    let one = |(panel, out): (usize, &mut [f32])| {
        let first = r0 + panel * W;
        let height = W.min(r0 + rows - first);
        if cs == 1 && height == W {
            // Rows of the panel are contiguous in `src`: read the W rows side by side, so each
            // step writes one whole column of the panel.
            let lines: [&[f32]; W] = std::array::from_fn(|i| {
                let start = (first + i) * rs + c0;
                &src[start..start + cols]
            });
            if transpose_avx2 {
                // SAFETY: the CPU has AVX2 and W is a width the function handles (both checked
                // by avx2::usable).
                unsafe { avx2::transpose_panel(&lines, out) };
                return;
            }
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
    dst.chunks_mut(panel_len).enumerate().for_each(one);
}

/// The `rs == 1` case of [`pack_width`]: every column of a panel, its `W` values, is contiguous in
/// `src` (a row-major `B`, whose rows hold the `NR`-wide panels side by side, or a stored `Aᵀ`).
/// `out` holds whole panels (`W·cols` floats each), the first one starting at row `first` of the
/// matrix; rows from `end` on are padded with zeros.
///
/// Why not panel by panel: one panel reads `W` floats (a cache line for `W = 16`) from each of
/// `cols` source lines `cs` floats apart, a stride the hardware prefetcher does not follow, so
/// every line waits for L2 or L3. Here the columns go in blocks of 8 and, within a block, across
/// all of `out`'s panels: each of the 8 source lines is then read front to back, 8 sequential
/// streams, and each panel gets 8 columns, `8·W` contiguous floats, at a time. It matters most
/// where `B` is used few times, as in a product with a short `m` (profile shares:
/// docs/performance.md).
fn pack_contiguous<const W: usize>(
    src: &[f32],
    cs: usize,
    (first, end): (usize, usize),
    (c0, cols): (usize, usize),
    out: &mut [f32],
) {
    const BLOCK: usize = 8;
    for p0 in (0..cols).step_by(BLOCK) {
        let block = p0..(p0 + BLOCK).min(cols);
        for (q, panel) in out.chunks_exact_mut(W * cols).enumerate() {
            let top = first + q * W;
            let height = W.min(end - top);
            for p in block.clone() {
                let start = top + (c0 + p) * cs;
                let out_p = &mut panel[p * W..(p + 1) * W];
                if height == W {
                    // A constant length: a few vector moves, not a call to memcpy.
                    out_p.copy_from_slice(&src[start..start + W]);
                } else {
                    out_p[..height].copy_from_slice(&src[start..start + height]);
                    out_p[height..].fill(0.0);
                }
            }
        }
    }
}

/// The AVX2 transposing copy.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use crate::simd::Level;

    /// Whether [`transpose_panel`] may pack panels of width `W` for a product at `level`: the
    /// level is a vector one (so `DISTILLERY_SIMD=scalar` runs the scalar loops), the CPU has
    /// AVX2, and `W` is a whole number of 8-row groups or `6` (the AVX2 kernel's `MR`, one group
    /// of 6 rows padded to 8 in registers).
    pub(super) fn usable<const W: usize>(level: Level) -> bool {
        (W.is_multiple_of(8) || W == 6)
            && level != Level::Scalar
            && std::arch::is_x86_feature_detected!("avx2")
    }

    /// `out[p·W + i] = lines[i][p]` for every row `i < W` and column `p < cols`, where every line
    /// holds `cols` floats and `out` holds `W·cols`: the `cs == 1` branch of `pack_width`.
    ///
    /// The columns go 8 at a time; for each group of 8 rows (or the 6 of `W = 6`), 8 loads of 8
    /// columns, [`transpose8`], and 8 stores of one column's 8 (or 6) values each. The last
    /// `cols % 8` columns are copied one by one.
    ///
    /// It gains most for `W = 16` (a row-major `B`); for `W = 6` (a row-major `A`) less, since the
    /// scalar loop over 6 rows is already quick (timings against the scalar loop:
    /// docs/performance.md).
    ///
    /// # Safety
    /// The CPU must have AVX2, and `W` must be a multiple of 8 or 6 (what [`usable`] checks).
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn transpose_panel<const W: usize>(lines: &[&[f32]; W], out: &mut [f32]) {
        let cols = out.len() / W;
        debug_assert!(lines.iter().all(|l| l.len() == cols) && out.len() == W * cols);
        let body = cols - cols % 8;
        let o = out.as_mut_ptr();
        // SAFETY (the loads and stores): loads read lines[i][p..p + 8] with p + 8 ≤ body ≤ cols;
        // stores write out[(p + j)·W + g .. + 8] (W a multiple of 8: inside the row of column p + j) or,
        // for W = 6, out[(p + j)·6 .. + 8] for j < 7, which ends within column p + j + 1's six
        // values (rewritten by the next store), and out[(p + 7)·6 .. + 6] as 4 + 2.
        for p in (0..body).step_by(8) {
            for g in (0..W).step_by(8) {
                let rows: [__m256; 8] = std::array::from_fn(|i| match lines.get(g + i) {
                    // SAFETY: p + 8 ≤ body ≤ the line's length.
                    Some(line) => unsafe { _mm256_loadu_ps(line.as_ptr().add(p)) },
                    None => _mm256_setzero_ps(),
                });
                let columns = transpose8(rows);
                if W.is_multiple_of(8) {
                    for (j, c) in columns.iter().enumerate() {
                        // SAFETY: row p + j of the panel holds W floats; g + 8 ≤ W.
                        unsafe { _mm256_storeu_ps(o.add((p + j) * W + g), *c) };
                    }
                } else {
                    for (j, c) in columns[..7].iter().enumerate() {
                        // SAFETY: the 8 floats from row p + j run into row p + j + 1, rewritten next.
                        unsafe { _mm256_storeu_ps(o.add((p + j) * W), *c) };
                    }
                    let last = o.wrapping_add((p + 7) * W);
                    // SAFETY: row p + 7 holds W = 6 floats: 4 and then 2 are stored.
                    unsafe {
                        _mm_storeu_ps(last, _mm256_castps256_ps128(columns[7]));
                        // The low 64 bits of the high half: lanes 4 and 5 (an unaligned store).
                        let high = _mm_castps_si128(_mm256_extractf128_ps::<1>(columns[7]));
                        _mm_storel_epi64(last.add(4) as *mut __m128i, high);
                    }
                }
            }
        }
        for p in body..cols {
            for (i, line) in lines.iter().enumerate() {
                out[p * W + i] = line[p];
            }
        }
    }

    /// The transpose of an `8×8` block held as 8 rows: returns its 8 columns.
    ///
    /// Three rounds of shuffles, each working on pairs of pairs: `unpacklo/hi` interleave rows
    /// `2i, 2i+1` (`a0 b0 a1 b1 | a4 b4 a5 b5`), `shuffle` joins two such results into 4-row columns
    /// within each 128-bit half (`a0 b0 c0 d0 | a4 b4 c4 d4`), and `permute2f128` puts the halves of
    /// rows 0–3 and 4–7 together (`a0 … h0`).
    #[target_feature(enable = "avx2")]
    #[inline]
    fn transpose8(r: [__m256; 8]) -> [__m256; 8] {
        let t0 = _mm256_unpacklo_ps(r[0], r[1]);
        let t1 = _mm256_unpackhi_ps(r[0], r[1]);
        let t2 = _mm256_unpacklo_ps(r[2], r[3]);
        let t3 = _mm256_unpackhi_ps(r[2], r[3]);
        let t4 = _mm256_unpacklo_ps(r[4], r[5]);
        let t5 = _mm256_unpackhi_ps(r[4], r[5]);
        let t6 = _mm256_unpacklo_ps(r[6], r[7]);
        let t7 = _mm256_unpackhi_ps(r[6], r[7]);
        let s0 = _mm256_shuffle_ps::<0x44>(t0, t2);
        let s1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
        let s2 = _mm256_shuffle_ps::<0x44>(t1, t3);
        let s3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
        let s4 = _mm256_shuffle_ps::<0x44>(t4, t6);
        let s5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
        let s6 = _mm256_shuffle_ps::<0x44>(t5, t7);
        let s7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
        [
            _mm256_permute2f128_ps::<0x20>(s0, s4),
            _mm256_permute2f128_ps::<0x20>(s1, s5),
            _mm256_permute2f128_ps::<0x20>(s2, s6),
            _mm256_permute2f128_ps::<0x20>(s3, s7),
            _mm256_permute2f128_ps::<0x31>(s0, s4),
            _mm256_permute2f128_ps::<0x31>(s1, s5),
            _mm256_permute2f128_ps::<0x31>(s2, s6),
            _mm256_permute2f128_ps::<0x31>(s3, s7),
        ]
    }
}

/// Elsewhere than x86-64 there is no vector transpose.
#[cfg(not(target_arch = "x86_64"))]
mod avx2 {
    pub(super) fn usable<const W: usize>(_: crate::simd::Level) -> bool {
        false
    }
    pub(super) unsafe fn transpose_panel<const W: usize>(_: &[&[f32]; W], _: &mut [f32]) {
        unreachable!("usable() is false on this target")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::available_levels;

    /// `pack` by its definition: panel `q`, column `p`, lane `i` is element
    /// `(r0 + q·W + i, c0 + p)`, or 0 past the last row.
    fn by_definition(
        width: usize,
        src: &[f32],
        (rs, cs): (usize, usize),
        (r0, rows): (usize, usize),
        (c0, cols): (usize, usize),
    ) -> Vec<f32> {
        let mut out = Vec::new();
        for q in 0..rows.div_ceil(width) {
            for p in 0..cols {
                for i in 0..width {
                    let r = q * width + i;
                    out.push(if r < rows {
                        src[(r0 + r) * rs + (c0 + p) * cs]
                    } else {
                        0.0
                    });
                }
            }
        }
        out
    }

    #[test]
    fn every_level_packs_exactly_what_the_definition_says() {
        // The vector transpose (W = 6, 8, 16, 32 with cs == 1) against the scalar loops and the
        // definition, bit for bit (packing is a copy): widths with and without a vector path,
        // full and ragged last panels, column counts around the 8-column blocks, offsets into
        // the matrix, row strides longer than the block, the transposed layout (rs == 1, many
        // panels side by side). The source holds NaN and −0.0, whose bits a copy must keep.
        let mut state = 1u32;
        let src: Vec<f32> = (0..40_000)
            .map(|i| match i % 97 {
                13 => f32::NAN,
                29 => -0.0,
                _ => {
                    state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (state >> 8) as f32 / (1 << 24) as f32 - 0.5
                }
            })
            .collect();
        for width in [4, 6, 8, 12, 14, 16, 32] {
            for rows in [1, width - 1, width, width + 1, 2 * width + 3, 9 * width + 2] {
                for cols in [1, 2, 7, 8, 9, 15, 16, 17, 33, 64] {
                    for (r0, c0, extra) in [(0, 0, 0), (3, 5, 7)] {
                        let row_major = (c0 + cols + extra, 1);
                        let transposed = (1, r0 + rows + extra);
                        for strides in [row_major, transposed] {
                            let want = by_definition(width, &src, strides, (r0, rows), (c0, cols));
                            for level in available_levels() {
                                let mut got = vec![f32::INFINITY; want.len()];
                                pack(
                                    level,
                                    width,
                                    &src,
                                    strides,
                                    (r0, rows),
                                    (c0, cols),
                                    &mut got,
                                );
                                let same = got
                                    .iter()
                                    .zip(&want)
                                    .all(|(g, w)| g.to_bits() == w.to_bits());
                                assert!(
                                    same,
                                    "{level:?} W={width} rows={rows} cols={cols} r0={r0} \
                                     c0={c0} strides={strides:?}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
