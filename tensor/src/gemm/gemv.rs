//! Matrix–vector products: the `m == 1` or `n == 1` cases of [`super::sgemm`], without packing.
//!
//! With one row (or one column) of `C`, every element of the matrix operand is used exactly once,
//! so there is nothing for packing and register tiles to reuse: the product is bound by reading
//! the matrix from memory once. The packed path would still copy the whole matrix into its
//! buffers on every call — at batch 1 through a 784-800-800-10 MLP that is 5.1 MB of weights
//! copied and then read again, for 1 useful row of a 6-row tile. So these products go here
//! instead, as one of two forms, each a loop over one SIMD kernel of [`crate::simd`]:
//!
//! ```text
//! dot form   y[j] = alpha · ⟨M_j, v⟩ + beta · y[j]          M: rows × k, row j contiguous
//! axpy form  y    = alpha · Σ_p v[p] · M_p + beta · y       M: k × len, row p contiguous
//! ```
//!
//! | sgemm call (row-major)                   | vector `v` | matrix `M`          | form |
//! |------------------------------------------|------------|---------------------|------|
//! | `m = 1`, `B` stored transposed (`x·Wᵀ`)   | `a`        | `b`, `n` rows of `k` | dot  |
//! | `m = 1`, `B` stored as is (`dY·W`)        | `a`        | `b`, `k` rows of `n` | axpy |
//! | `n = 1`, `A` stored as is                 | `b`        | `a`, `m` rows of `k` | dot  |
//! | `n = 1`, `A` stored transposed            | `b`        | `a`, `k` rows of `m` | axpy |
//!
//! (With `m = 1` the vector `a` has the same `k` values whether it is stored as `A` or `Aᵀ`;
//! likewise `b` with `n = 1`.) Both forms read `M` row by row, contiguously, in the order it is
//! stored, which is what the hardware prefetcher wants.
//!
//! The dot form takes the rows [`DOT_ROWS`] at a time ([`simd::dot_rows_with`]): each piece of
//! `v` is loaded once for all of them and their accumulator chains run side by side, where one
//! [`simd::dot`] at a time waits on its own few chains. Each output still has exactly the bits of
//! `simd::dot` on its row, whether its row fell in a group or among the leftover rows done alone.
//!
//! **Threads**: above [`GEMV_PARALLEL_MIN_MACS`] the dot form splits the outputs `y` (each a whole
//! dot product, and the same bits in any group) and the axpy form splits the columns of `M` into slices whose length is a
//! multiple of [`SLICE_ALIGN`] floats, so every element goes through the same vector lanes or
//! scalar tail on any number of threads: the result is bit for bit the same (as for the packed
//! path).
//!
//! **Rounding**: the dot form sums pairwise (see [`crate::simd::dot`]), then scales by `alpha`; the
//! axpy form scales each `v[p]` by `alpha` first (one more rounding per term, inside the bound the
//! tests use).

use rayon::prelude::*;

use crate::simd::{self, Level};

/// Matrix–vector products smaller than this many multiply-adds stay on the calling thread. Lower
/// than the packed path's threshold: a product here costs about as much as reading its matrix
/// (2¹⁸ floats = 1 MiB, tens of µs), and the second core adds its own bandwidth.
pub const GEMV_PARALLEL_MIN_MACS: usize = 1 << 18;

/// Rows of the matrix the dot form computes per pass over the vector (see
/// [`simd::dot_rows_with`]): 3 rows × 4 accumulators fill 12 of AVX2's 16 registers; 4 would spill.
const DOT_ROWS: usize = 3;

/// The axpy form's column slices are multiples of this many floats: 16 is a multiple of every
/// level's lane count (4, 8, 16), so slicing never moves an element between the vector body and
/// the scalar tail of [`simd::axpy`] (which round differently: FMA or not).
const SLICE_ALIGN: usize = 16;

/// The `m == 1 || n == 1` case of `sgemm_with` (lengths already checked, `m, n, k ≥ 1`).
#[allow(clippy::too_many_arguments)]
pub(super) fn gemv(
    level: Level,
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: &[f32],
    transpose_a: bool,
    b: &[f32],
    transpose_b: bool,
    beta: f32,
    c: &mut [f32],
) {
    let parallel = m * k * n >= GEMV_PARALLEL_MIN_MACS && rayon::current_num_threads() > 1;
    if m == 1 && (transpose_b || n == 1) {
        dot_form(level, k, alpha, b, a, beta, c, parallel);
    } else if m == 1 {
        axpy_form(level, k, alpha, b, a, beta, c, parallel);
    } else if !transpose_a {
        dot_form(level, k, alpha, a, b, beta, c, parallel);
    } else {
        axpy_form(level, k, alpha, a, b, beta, c, parallel);
    }
}

/// `y[j] = alpha · ⟨M_j, v⟩ + beta · y[j]`, `M` holding `y.len()` rows of `k` floats.
#[allow(clippy::too_many_arguments)]
fn dot_form(
    level: Level,
    k: usize,
    alpha: f32,
    matrix: &[f32],
    v: &[f32],
    beta: f32,
    y: &mut [f32],
    parallel: bool,
) {
    debug_assert_eq!(matrix.len(), y.len() * k);
    debug_assert_eq!(v.len(), k);
    // beta == 0 never reads y (it may hold NaN or garbage).
    let finish = |out: &mut f32, dot: f32| {
        let d = alpha * dot;
        *out = if beta == 0.0 { d } else { d + beta * *out };
    };
    let rows = |(y, matrix): (&mut [f32], &[f32])| {
        // DOT_ROWS rows per pass over v, then the leftover rows one by one: the same bits either
        // way (see simd::dot_rows_with).
        let grouped = y.len() - y.len() % DOT_ROWS;
        let mut groups = y.chunks_exact_mut(DOT_ROWS);
        for (outs, block) in (&mut groups).zip(matrix.chunks_exact(DOT_ROWS * k)) {
            let rows: [&[f32]; DOT_ROWS] = std::array::from_fn(|r| &block[r * k..(r + 1) * k]);
            for (out, dot) in outs.iter_mut().zip(simd::dot_rows_with(level, rows, v)) {
                finish(out, dot);
            }
        }
        let rest = groups.into_remainder().iter_mut();
        for (out, row) in rest.zip(matrix[grouped * k..].chunks_exact(k)) {
            finish(out, simd::dot_with(level, row, v));
        }
    };
    if parallel {
        // Chunks of outputs, a multiple of DOT_ROWS long; whole dot products per element, so the
        // split changes no bits.
        let chunk = y
            .len()
            .div_ceil(4 * rayon::current_num_threads())
            .next_multiple_of(DOT_ROWS);
        y.par_chunks_mut(chunk)
            .zip(matrix.par_chunks(chunk * k))
            .for_each(rows);
    } else {
        rows((y, matrix));
    }
}

/// `y = alpha · Σ_p v[p] · M_p + beta · y`, `M` holding `k` rows of `y.len()` floats.
#[allow(clippy::too_many_arguments)]
fn axpy_form(
    level: Level,
    k: usize,
    alpha: f32,
    matrix: &[f32],
    v: &[f32],
    beta: f32,
    y: &mut [f32],
    parallel: bool,
) {
    let len = y.len();
    debug_assert_eq!(matrix.len(), k * len);
    debug_assert_eq!(v.len(), k);
    // Columns `start..start + slice.len()` of every row of M, added into that slice of y.
    let columns = |start: usize, y: &mut [f32]| {
        if beta == 0.0 {
            y.fill(0.0); // beta == 0 ignores y's old contents, even NaN
        } else if beta != 1.0 {
            y.iter_mut().for_each(|x| *x *= beta);
        }
        for (&vp, row) in v.iter().zip(matrix.chunks_exact(len)) {
            simd::axpy_with(level, alpha * vp, &row[start..start + y.len()], y);
        }
    };
    if parallel {
        let slice = len
            .div_ceil(2 * rayon::current_num_threads())
            .next_multiple_of(SLICE_ALIGN);
        y.par_chunks_mut(slice)
            .enumerate()
            .for_each(|(i, y)| columns(i * slice, y));
    } else {
        columns(0, y);
    }
}
