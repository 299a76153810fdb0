//! Matrix–vector products: the `m == 1` or `n == 1` cases of [`super::sgemm`], without packing —
//! and with the very arithmetic of the packed path, so that **a row computed alone has the bits it
//! has inside any batch**.
//!
//! With one row (or one column) of `C`, every element of the matrix operand is used exactly once,
//! so there is nothing for packing and register tiles to reuse: the product is bound by reading
//! the matrix from memory once. The packed path would still copy the whole matrix into its
//! buffers on every call (at batch 1 through a 784-800-800-10 MLP, 5.1 MB of weights copied and
//! then read again, for 1 useful row of a 6- or 14-row tile). So these products go here instead.
//!
//! ## The same sums as the micro-kernel
//! A person who evaluates one image must get what the batch evaluation of a report got, so the
//! order of the additions may not depend on the batch size. The packed path computes each element
//! of `C` as (see `kernel/mod.rs` and the module doc's *alpha and beta*):
//!
//! ```text
//! for each depth block P of k (the same blocks for every m and n: Blocking::depth_blocks)
//!     acc = 0
//!     for p in P, in order:  acc = acc + A[i,p]·B[p,j]      (one fused multiply-add on the
//!                                                            vector levels, a product and a sum
//!                                                            on the scalar one: `Rounding`)
//!     C[i,j] = alpha·acc + beta·C[i,j]    (beta = the caller's for the first block, then 1)
//! ```
//!
//! and so does every function here, element by element. What differs is only which elements are
//! computed side by side in a vector, which never changes a bit: the vector lanes and the scalar
//! tails round alike (both fused, or both not). The matrix `M` of the product comes in one of two
//! layouts, and each has its form:
//!
//! ```text
//! rows form     y[j] = Σ_p M[j,p]·v[p]     M: y.len() rows of k, row j contiguous
//! columns form  y[j] = Σ_p v[p]·M[p,j]     M: k rows of y.len(), row p contiguous
//! ```
//!
//! | sgemm call (row-major)                   | vector `v` | matrix `M`           | form    |
//! |------------------------------------------|------------|----------------------|---------|
//! | `m = 1`, `B` stored transposed (`x·Wᵀ`)   | `a`        | `b`, `n` rows of `k`  | rows    |
//! | `m = 1`, `B` stored as is (`dY·W`)        | `a`        | `b`, `k` rows of `n`  | columns |
//! | `n = 1`, `A` stored as is                 | `b`        | `a`, `m` rows of `k`  | rows    |
//! | `n = 1`, `A` stored transposed            | `b`        | `a`, `k` rows of `m`  | columns |
//!
//! (With `m = 1` the vector `a` has the same `k` values whether it is stored as `A` or `Aᵀ`;
//! likewise `b` with `n = 1`.)
//!
//! The **columns form** is naturally in that order: each step `p` adds `v[p]` times row `p` of `M`
//! into a row of accumulators, reading `M` row after row as it is stored. The **rows form** is
//! not: a dot product read along a contiguous row would like several partial sums, which is a
//! different order. Here the sum of each output runs along `p` one term at a time, and the vector
//! lanes hold *different outputs*: on x86-64, blocks of 8 rows are transposed in registers, so that
//! each column (one `p`, 8 rows) feeds one FMA into the 8 outputs' accumulators (`avx2.rs`). The AVX-512 level uses these AVX2 kernels too:
//! an FMA rounds the same in a 256- and a 512-bit register, so the bits are the level's own.
//! NEON has no kernel of its own here yet: it runs the portable loops below with `f32::mul_add`
//! (a fused multiply-add instruction on aarch64), which give its bits, slowly.
//!
//! **Threads**: above [`GEMV_PARALLEL_MIN_MACS`] the work is split into tasks, neither of which
//! changes a bit. The rows form splits the outputs: every output is computed whole by one task, by
//! the same sequence of operations in any chunk. The columns form splits the depth blocks: each
//! block's sums start from 0 whatever came before (only the stores chain the blocks), so the
//! blocks are summed side by side into buffers of their own and then stored one after the other,
//! in order, as on one thread.

#[cfg(target_arch = "x86_64")]
mod avx2;

use std::ops::Range;

use rayon::prelude::*;

use super::{scale_at, Blocking};
use crate::layout::{MatRef, Scale};
use crate::simd::Level;

/// Matrix–vector products smaller than this many multiply-adds stay on the calling thread. Lower
/// than the packed path's threshold: a product here costs about as much as reading its matrix
/// (2¹⁸ floats = 1 MiB), and the second core adds its own bandwidth.
pub const GEMV_PARALLEL_MIN_MACS: usize = 1 << 18;

/// How a level's micro-kernel rounds each step and its store (see `kernel/*.rs`): the vector
/// kernels use fused multiply-adds, the scalar one a product and then a sum.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Rounding {
    /// `acc = fma(a, b, acc)`; `C = fma(alpha, acc, beta·C)`.
    Fused,
    /// `acc = acc + a·b`; `C = alpha·acc + beta·C`.
    Separate,
}

impl Rounding {
    fn of(level: Level) -> Rounding {
        match level {
            Level::Scalar => Rounding::Separate,
            Level::Avx2 | Level::Avx512 | Level::Neon => Rounding::Fused,
        }
    }

    /// One step of a sum: `acc + a·b`, rounded as the level's micro-kernel rounds it.
    #[inline(always)]
    fn madd(self, a: f32, b: f32, acc: f32) -> f32 {
        match self {
            Rounding::Fused => a.mul_add(b, acc),
            Rounding::Separate => acc + a * b,
        }
    }

    /// The store at the end of a depth block: `alpha·acc + beta·old`, where `old` is not read when
    /// `beta == 0` (the micro-kernels' contract: it may be NaN).
    #[inline(always)]
    fn store(self, alpha: f32, acc: f32, beta: f32, old: f32) -> f32 {
        if beta == 0.0 {
            alpha * acc
        } else {
            match self {
                Rounding::Fused => alpha.mul_add(acc, beta * old),
                Rounding::Separate => alpha * acc + beta * old,
            }
        }
    }
}

/// The `m == 1 || n == 1` case of `sgemm_with` (sizes and lengths already checked, `m, n, k ≥ 1`):
/// `c = alpha · op(A) · op(B) + beta · c`, `c` holding the `m·n` values of `C`.
pub(super) fn gemv(bl: &Blocking, a: MatRef, b: MatRef, scale: Scale, c: &mut [f32]) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let parallel = m * k * n >= GEMV_PARALLEL_MIN_MACS && rayon::current_num_threads() > 1;
    if m == 1 && (b.transposed || n == 1) {
        rows_form(bl, k, b.data, a.data, scale, c, parallel);
    } else if m == 1 {
        columns_form(bl, k, b.data, a.data, scale, c, parallel);
    } else if !a.transposed {
        rows_form(bl, k, a.data, b.data, scale, c, parallel);
    } else {
        columns_form(bl, k, a.data, b.data, scale, c, parallel);
    }
}

/// `y[j] = alpha · Σ_p M[j,p]·v[p] + beta · y[j]`, `M` holding `y.len()` rows of `k` floats.
fn rows_form(
    bl: &Blocking,
    k: usize,
    matrix: &[f32],
    v: &[f32],
    scale: Scale,
    y: &mut [f32],
    parallel: bool,
) {
    debug_assert_eq!(matrix.len(), y.len() * k);
    debug_assert_eq!(v.len(), k);
    let level = bl.level;
    // Outputs `y` of the rows `matrix` (whole rows), every depth block in turn.
    let rows = |(y, matrix): (&mut [f32], &[f32])| {
        for depth in bl.depth_blocks(k) {
            let scale = scale_at(scale, depth.start);
            match level {
                // SAFETY: the level (so AVX2 and FMA) was checked by sgemm_with; `matrix` holds
                // y.len() rows of k = v.len() floats and depth lies in 0..k.
                #[cfg(target_arch = "x86_64")]
                Level::Avx2 | Level::Avx512 => unsafe { avx2::rows(matrix, k, v, depth, scale, y) },
                _ => rows_portable(Rounding::of(level), matrix, k, v, depth, scale, y),
            }
        }
    };
    if parallel {
        // Chunks of whole rows, a multiple of the 8 rows the x86 kernel takes at once (a chunk
        // boundary elsewhere would change no bit, only the speed).
        let chunk = y
            .len()
            .div_ceil(4 * rayon::current_num_threads())
            .next_multiple_of(8);
        y.par_chunks_mut(chunk)
            .zip(matrix.par_chunks(chunk * k))
            .for_each(rows);
    } else {
        rows((y, matrix));
    }
}

/// `y = alpha · Σ_p v[p]·M_p + beta · y`, `M` holding `k` rows of `y.len()` floats.
fn columns_form(
    bl: &Blocking,
    k: usize,
    matrix: &[f32],
    v: &[f32],
    scale: Scale,
    y: &mut [f32],
    parallel: bool,
) {
    let len = y.len();
    debug_assert_eq!(matrix.len(), k * len);
    debug_assert_eq!(v.len(), k);
    let level = bl.level;
    // The sums of one depth block over the columns `cols` of M, added into `acc` (which starts at
    // 0: a block's sums start from 0, not from y).
    let sum = |depth: Range<usize>, cols: Range<usize>, acc: &mut [f32]| match level {
        // SAFETY: the level (so AVX2 and FMA) was checked by sgemm_with.
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 | Level::Avx512 => unsafe { avx2::columns(matrix, len, cols, v, depth, acc) },
        _ => columns_portable(Rounding::of(level), matrix, len, cols, v, depth, acc),
    };
    // A depth block's store: `y = alpha·acc + beta·y`, with the block's scale.
    let store = |acc: &[f32], scale: Scale, y: &mut [f32]| match level {
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 | Level::Avx512 => unsafe { avx2::store(scale, acc, y) },
        _ => store_portable(Rounding::of(level), scale, acc, y),
    };
    let blocks: Vec<Range<usize>> = bl.depth_blocks(k).collect();
    if !parallel {
        let mut acc = vec![0.0f32; len];
        for depth in blocks {
            acc.fill(0.0);
            let scale = scale_at(scale, depth.start);
            sum(depth, 0..len, &mut acc);
            store(&acc, scale, y);
        }
        return;
    }
    // In parallel, the tasks split the depth blocks, not the columns: a block's sums do not depend
    // on the blocks before it (only the stores chain them), so every block is summed at once into
    // its own row of `sums`, each task reading its rows of M whole and in order — where a split
    // of the columns would have every task read a part of every row, and the prefetcher fetch
    // the other tasks' parts too. The stores then run in block order, exactly as above. With fewer
    // blocks than tasks wanted, the columns are split as well (slices of whole cache lines).
    let tasks = 2 * rayon::current_num_threads();
    let slice = len
        .div_ceil(tasks.div_ceil(blocks.len()))
        .next_multiple_of(16);
    let mut sums = vec![0.0f32; blocks.len() * len];
    sums.par_chunks_mut(len)
        .zip(blocks.par_iter())
        .for_each(|(acc, depth)| {
            acc.par_chunks_mut(slice).enumerate().for_each(|(i, acc)| {
                let start = i * slice;
                sum(depth.clone(), start..start + acc.len(), acc)
            })
        });
    for (acc, depth) in sums.chunks_exact(len).zip(&blocks) {
        store(acc, scale_at(scale, depth.start), y);
    }
}

/// The rows form over one depth block, in plain loops: for each row, `acc` from 0 along `p` in
/// `depth`, then `y[j] = alpha·acc + beta·y[j]` with `scale`'s alpha and beta. Eight rows at a
/// time, so that eight independent sums are in flight rather than one chain waiting on each
/// addition; each row's own sequence of operations is the same either way.
fn rows_portable(
    rounding: Rounding,
    matrix: &[f32],
    k: usize,
    v: &[f32],
    depth: Range<usize>,
    scale: Scale,
    y: &mut [f32],
) {
    let Scale { alpha, beta } = scale;
    const GROUP: usize = 8;
    let v = &v[depth.clone()];
    let mut groups = y.chunks_exact_mut(GROUP);
    let mut blocks = matrix.chunks_exact(GROUP * k);
    for (outs, block) in (&mut groups).zip(&mut blocks) {
        let rows: [&[f32]; GROUP] = std::array::from_fn(|r| &block[r * k..][depth.clone()]);
        let mut acc = [0.0f32; GROUP];
        for (p, &vp) in v.iter().enumerate() {
            for (acc, row) in acc.iter_mut().zip(&rows) {
                *acc = rounding.madd(row[p], vp, *acc);
            }
        }
        for (out, acc) in outs.iter_mut().zip(acc) {
            *out = rounding.store(alpha, acc, beta, *out);
        }
    }
    for (out, row) in groups
        .into_remainder()
        .iter_mut()
        .zip(blocks.remainder().chunks_exact(k))
    {
        let acc = row[depth.clone()]
            .iter()
            .zip(v)
            .fold(0.0, |acc, (&m, &vp)| rounding.madd(m, vp, acc));
        *out = rounding.store(alpha, acc, beta, *out);
    }
}

/// The columns form's sums over one depth block, in plain loops: `acc[j] += v[p]·M[p, cols][j]`
/// for each `p` in `depth`, in order.
fn columns_portable(
    rounding: Rounding,
    matrix: &[f32],
    len: usize,
    cols: Range<usize>,
    v: &[f32],
    depth: Range<usize>,
    acc: &mut [f32],
) {
    for p in depth {
        let row = &matrix[p * len..][cols.clone()];
        for (acc, &m) in acc.iter_mut().zip(row) {
            *acc = rounding.madd(v[p], m, *acc);
        }
    }
}

/// `y[j] = alpha·acc[j] + beta·y[j]` for every `j`, with `scale`'s alpha and beta (`y` unread when
/// `beta == 0`).
fn store_portable(rounding: Rounding, scale: Scale, acc: &[f32], y: &mut [f32]) {
    let Scale { alpha, beta } = scale;
    for (out, &acc) in y.iter_mut().zip(acc) {
        *out = rounding.store(alpha, acc, beta, *out);
    }
}
