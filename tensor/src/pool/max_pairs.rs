//! Max pooling's fast path for windows two cells wide that step two (`KW = sw = 2`, any `KH` and
//! `sh`): the 1×2 pool of a 1-D network and the 2×2 pool of a CNN, the pools the benchmarks use.
//!
//! **Why it exists.** The general kernel (`plane_forward` in `max.rs`) reads each window cell
//! across a whole output row at stride `sw` (`iter().step_by(sw)`). That gather stays scalar, and
//! for the pools every network here uses it was a large share of a training step (the profile:
//! docs/performance.md). With `KW = sw = 2` the windows of an output row tile each input row
//! exactly: output `q` owns the *pair* `(x[2q], x[2q + 1])` of every window row. So eight outputs
//! read sixteen consecutive inputs per window row: two plain vector loads, a shuffle that
//! separates the even cells from the odd ones, and the compare-and-select of the module, eight
//! windows at a time. The window is reduced in registers over its `KH` rows and each output stored once, so the pool
//! runs at about the speed of reading its input once (timings: docs/performance.md).
//!
//! **What it computes** is exactly what the general kernel and
//! [`reference::max_pool2d`](crate::reference::max_pool2d) compute, bit for bit and index for
//! index: the cells of each window are visited in the same row-major order (row 0 even, row 0
//! odd, row 1 even, …) and every step applies the module's rule,
//!
//! ```text
//! take = v > best  or  (v is NaN and best is not)
//! best = take ? v : best        at = take ? index(v) : at
//! ```
//!
//! so ties keep the first cell, a NaN replaces a number and nothing replaces a NaN.
//!
//! **Two forms.**
//! - [`scalar_row`]: portable, for CPUs without AVX2 and rows of fewer than 8 outputs. Pairs come
//!   from `chunks_exact(2)` (no `step_by`), and the output row, which stays in L1, is updated one
//!   window row at a time, so every loop is a straight pass the compiler can vectorise.
//! - `avx2::row_argmax` (`u32` indices: what autograd keeps) and `avx2::row_values` (no index).
//!   A row whose length is not a multiple of 8 ends with a step that overlaps the one before.
//!   The `usize` argmax of the original API takes the portable form: nothing hot uses it.

use super::{ArgIndex, PoolGeometry};
use crate::simd::Level;

/// The window rows of one output row: window row `i` of output `q` is the pair of cells
/// `plane[top + i·w + 2q ..][..2]`.
#[derive(Clone, Copy)]
struct Rows<'a> {
    plane: &'a [f32],
    top: usize,
    w: usize,
    kh: usize,
}

impl<'a> Rows<'a> {
    /// Offset in the plane of window row `i` of output `q0`.
    fn start(&self, i: usize, q0: usize) -> usize {
        self.top + i * self.w + 2 * q0
    }

    /// The `2n` cells of window row `i` for outputs `q0..q0 + n` (in bounds: `2·OW ≤ W`).
    fn cells(&self, i: usize, q0: usize, n: usize) -> &'a [f32] {
        let s = self.start(i, q0);
        &self.plane[s..s + 2 * n]
    }
}

/// Whether `level` runs the AVX2 row kernels (an AVX-512 CPU runs them too, when it has AVX2).
pub(super) fn uses_avx2(level: Level) -> bool {
    match level {
        Level::Avx2 => true,
        Level::Avx512 => Level::Avx2.is_available(),
        _ => false,
    }
}

/// One plane of a `KW = sw = 2` pool: `y` (its `OH·OW` outputs) and optionally the argmax (flat,
/// offset by `base`), as `plane_forward` would give them. `avx2` must only be true where
/// [`uses_avx2`] said so.
pub(super) fn plane<I: ArgIndex>(
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))] avx2: bool,
    plane: &[f32],
    g: &PoolGeometry,
    y: &mut [f32],
    mut arg: Option<(&mut [I], usize)>,
) {
    debug_assert!(g.kw == 2 && g.sw == 2);
    let ow = g.ow;
    for oh in 0..g.oh {
        let rows = Rows {
            plane,
            top: oh * g.sh * g.w,
            w: g.w,
            kh: g.kh,
        };
        let y_row = &mut y[oh * ow..(oh + 1) * ow];
        match arg.as_mut() {
            Some((arg, base)) => {
                let arg_row = &mut arg[oh * ow..(oh + 1) * ow];
                #[allow(unused_mut)]
                let mut done = 0;
                #[cfg(target_arch = "x86_64")]
                if let (true, Some(arg32)) = (avx2, I::as_u32(arg_row)) {
                    // SAFETY: `avx2` is true only where `uses_avx2` found the CPU able to run it.
                    done = unsafe { avx2::row_argmax(&rows, y_row, arg32, *base) };
                }
                if done < ow {
                    scalar_row(
                        &rows,
                        done,
                        &mut y_row[done..],
                        Some((&mut arg_row[done..], *base)),
                    );
                }
            }
            None => {
                #[allow(unused_mut)]
                let mut done = 0;
                #[cfg(target_arch = "x86_64")]
                if avx2 {
                    // SAFETY: as above.
                    done = unsafe { avx2::row_values(&rows, y_row) };
                }
                if done < ow {
                    scalar_row::<I>(&rows, done, &mut y_row[done..], None);
                }
            }
        }
    }
}

/// The module's rule for one cell: `v` (at flat index `i`) replaces the window's `(best, at)` so
/// far if it is larger, or a NaN where `best` is not. Written with `&`, `|` and selects rather than
/// branches, and as a function of values (one load and one store per output, not a write through
/// `&mut` per cell), so that the compiler vectorises the loops of it: with `&mut` arguments it does
/// not, and the loop stays scalar.
#[inline(always)]
fn keep_max<I: ArgIndex>((best, at): (f32, I), v: f32, i: usize) -> (f32, I) {
    let take = (v > best) | (v.is_nan() & !best.is_nan());
    (
        if take { v } else { best },
        if take { I::from_flat(i) } else { at },
    )
}

/// [`keep_max`] without the index.
#[inline(always)]
fn keep_max_value(best: f32, v: f32) -> f32 {
    let take = (v > best) | (v.is_nan() & !best.is_nan());
    if take {
        v
    } else {
        best
    }
}

/// Outputs `q0..q0 + y.len()` of one output row, portably: for each window row `i`, one pass over
/// the pairs `(even, odd)` of that row, the first setting the outputs to the even cells.
fn scalar_row<I: ArgIndex>(rows: &Rows, q0: usize, y: &mut [f32], arg: Option<(&mut [I], usize)>) {
    let n = y.len();
    match arg {
        Some((arg, base)) => {
            // Window row 0 starts each window at its even cell. (A loop of its own rather than an
            // `if i == 0` inside the next one, so that each loop is plain.)
            let at0 = base + rows.start(0, q0);
            let pairs = rows.cells(0, q0, n).chunks_exact(2);
            for (q, ((best, at), pair)) in y.iter_mut().zip(arg.iter_mut()).zip(pairs).enumerate() {
                let even = at0 + 2 * q;
                (*best, *at) = keep_max((pair[0], I::from_flat(even)), pair[1], even + 1);
            }
            for i in 1..rows.kh {
                let at0 = base + rows.start(i, q0);
                let pairs = rows.cells(i, q0, n).chunks_exact(2);
                for (q, ((best, at), pair)) in
                    y.iter_mut().zip(arg.iter_mut()).zip(pairs).enumerate()
                {
                    let even = at0 + 2 * q;
                    let window = keep_max((*best, *at), pair[0], even);
                    (*best, *at) = keep_max(window, pair[1], even + 1);
                }
            }
        }
        None => {
            let pairs = rows.cells(0, q0, n).chunks_exact(2);
            for (best, pair) in y.iter_mut().zip(pairs) {
                *best = keep_max_value(pair[0], pair[1]);
            }
            for i in 1..rows.kh {
                let pairs = rows.cells(i, q0, n).chunks_exact(2);
                for (best, pair) in y.iter_mut().zip(pairs) {
                    *best = keep_max_value(keep_max_value(*best, pair[0]), pair[1]);
                }
            }
        }
    }
}

/// Eight windows per step with AVX2.
///
/// Loading sixteen consecutive cells `x0 … x15` of a window row as two vectors and splitting them:
///
/// ```text
/// lo = x0 x1 x2  x3  | x4  x5  x6  x7        hi = x8 x9 x10 x11 | x12 x13 x14 x15
/// shuffle_ps(lo, hi, [0 2 0 2]) = x0 x2 x8  x10 | x4 x6 x12 x14    the even cells
/// shuffle_ps(lo, hi, [1 3 1 3]) = x1 x3 x9  x11 | x5 x7 x13 x15    the odd cells
/// ```
///
/// (`shuffle_ps` works within each 128-bit half.) The lanes now hold outputs `0 1 4 5 | 2 3 6 7`.
/// Each lane is its own window, so the reduction does not care about their order: it runs in that
/// order and one `permute4x64` (64-bit pieces `0 2 1 3`) sorts the *result*, once per stored vector
/// instead of twice per window row. The indices are built in the same lane order.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::Rows;

    const LANES: usize = 8;

    /// The first outputs of the 8-output steps over a row of `n`: `0, 8, 16, …` and, when `n` is
    /// not a multiple of 8, one last step ending at the row's end. It overlaps the step before and
    /// computes a few outputs again, with the same result (each output depends on its window only):
    /// cheaper than a scalar tail, which on the benchmarks' short rows (43, 91, 12 outputs) took
    /// more time than the vector steps.
    fn steps(n: usize) -> impl Iterator<Item = usize> {
        let last = n.checked_sub(LANES);
        let whole = last.map_or(0, |last| last.div_ceil(LANES));
        (0..whole).map(|c| c * LANES).chain(last)
    }

    /// How many outputs of a row of `n` the steps computed: all, unless the row is shorter than
    /// one step.
    fn done(n: usize) -> usize {
        if n < LANES {
            0
        } else {
            n
        }
    }

    /// `(even, odd)` cells of the 16 at `src`, in lane order `0 1 4 5 2 3 6 7` of the outputs.
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn split_pairs(src: &[f32]) -> (__m256, __m256) {
        let src: &[f32; 2 * LANES] = src.try_into().expect("16 cells");
        let lo = _mm256_loadu_ps(src.as_ptr());
        let hi = _mm256_loadu_ps(src.as_ptr().add(LANES));
        (
            _mm256_shuffle_ps::<0b10_00_10_00>(lo, hi),
            _mm256_shuffle_ps::<0b11_01_11_01>(lo, hi),
        )
    }

    /// Outputs `0 1 4 5 2 3 6 7` back into order `0 … 7` (64-bit pieces `0 2 1 3`).
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn in_order(v: __m256i) -> __m256i {
        _mm256_permute4x64_epi64::<0b11_01_10_00>(v)
    }

    /// The rule's mask: all ones where `v > best`, or `v` is NaN and `best` is not.
    ///
    /// `NLE_UQ` is "not `v ≤ best`, true if unordered": `v > best` or either is NaN. `ORD` on `best`
    /// removes the lanes where `best` is NaN, which nothing may replace.
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn take(v: __m256, best: __m256) -> __m256 {
        _mm256_and_ps(
            _mm256_cmp_ps::<_CMP_NLE_UQ>(v, best),
            _mm256_cmp_ps::<_CMP_ORD_Q>(best, best),
        )
    }

    /// Max and `u32` argmax (flat, offset by `base`) of the `n = y.len()` outputs of one row, if
    /// `n ≥ 8`; returns how many it did (all or none: the caller does a shorter row).
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn row_argmax(
        rows: &Rows,
        y: &mut [f32],
        arg: &mut [u32],
        base: usize,
    ) -> usize {
        // Offsets of the even cells from the window row's start, in the lanes' output order.
        let even_offsets = _mm256_setr_epi32(0, 2, 8, 10, 4, 6, 12, 14);
        let one = _mm256_set1_epi32(1);
        for q0 in steps(y.len()) {
            let (y8, a8) = (&mut y[q0..q0 + LANES], &mut arg[q0..q0 + LANES]);
            // Flat index of window row i's first cell; every index fits in u32 (checked by
            // `forward`), and lane additions wrap like the u32 they are.
            let first = |i: usize| (base + rows.start(i, q0)) as u32 as i32;
            let (even, odd) = split_pairs(rows.cells(0, q0, LANES));
            let mut best = even;
            let mut at = _mm256_add_epi32(_mm256_set1_epi32(first(0)), even_offsets);
            let m = take(odd, best);
            best = _mm256_blendv_ps(best, odd, m);
            at = blend_index(at, _mm256_add_epi32(at, one), m);
            for i in 1..rows.kh {
                let (even, odd) = split_pairs(rows.cells(i, q0, LANES));
                let at_even = _mm256_add_epi32(_mm256_set1_epi32(first(i)), even_offsets);
                let m = take(even, best);
                best = _mm256_blendv_ps(best, even, m);
                at = blend_index(at, at_even, m);
                let m = take(odd, best);
                best = _mm256_blendv_ps(best, odd, m);
                at = blend_index(at, _mm256_add_epi32(at_even, one), m);
            }
            let best = in_order(_mm256_castps_si256(best));
            _mm256_storeu_si256(y8.as_mut_ptr().cast(), best);
            _mm256_storeu_si256(a8.as_mut_ptr().cast(), in_order(at));
        }
        done(y.len())
    }

    /// `m ? new : old` on integer lanes (`blendv_ps` selects bits, whatever they mean).
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn blend_index(old: __m256i, new: __m256i, m: __m256) -> __m256i {
        _mm256_castps_si256(_mm256_blendv_ps(
            _mm256_castsi256_ps(old),
            _mm256_castsi256_ps(new),
            m,
        ))
    }

    /// [`row_argmax`] without the indices.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn row_values(rows: &Rows, y: &mut [f32]) -> usize {
        for q0 in steps(y.len()) {
            let y8 = &mut y[q0..q0 + LANES];
            let (even, odd) = split_pairs(rows.cells(0, q0, LANES));
            let mut best = _mm256_blendv_ps(even, odd, take(odd, even));
            for i in 1..rows.kh {
                let (even, odd) = split_pairs(rows.cells(i, q0, LANES));
                best = _mm256_blendv_ps(best, even, take(even, best));
                best = _mm256_blendv_ps(best, odd, take(odd, best));
            }
            let best = in_order(_mm256_castps_si256(best));
            _mm256_storeu_si256(y8.as_mut_ptr().cast(), best);
        }
        done(y.len())
    }
}
