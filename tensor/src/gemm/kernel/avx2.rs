//! The AVX2 + FMA micro-kernel: a `6×16` tile.
//!
//! x86-64 with AVX has 16 `ymm` registers of 8 floats. A row of the tile is 16 floats, two
//! registers, so 6 rows take **12 accumulators**; each step of `k` also needs the **2 registers** of
//! the `B` row and **1** for the broadcast `A` value: 15 of 16. Each step does 12 FMAs for 2 vector
//! loads and 6 broadcasts (which Zen and Intel cores run on load ports, not on the FMA units), and
//! the 12 independent accumulator chains cover the FMA latency (4–5 cycles × 2 FMA units = 8–10
//! FMAs in flight). A `4×24` tile would do as well in registers (12 + 3 + 1 = 16, nothing to spare);
//! `6×16` is what BLIS and OpenBLAS use on Haswell and Zen.

use std::arch::x86_64::*;

use super::CRegion;
use crate::layout::Scale;

/// Rows of the tile.
pub(in crate::gemm) const MR: usize = 6;
/// Columns of the tile: two `ymm` registers.
pub(in crate::gemm) const NR: usize = 16;

/// See the contract in `kernel/mod.rs`.
///
/// # Safety
/// As [`super::MicroKernel`]; the CPU must have AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(in crate::gemm) unsafe fn kernel(
    kc: usize,
    a: *const f32,
    b: *const f32,
    c: CRegion,
    scale: Scale,
) {
    let CRegion {
        ptr: c,
        ldc,
        rows,
        cols,
    } = c;
    let Scale { alpha, beta } = scale;
    // The loops over i have constant bounds: the compiler unrolls them and the array lives in
    // registers.
    super::prefetch_tile(c, ldc, rows, cols);
    let mut acc = [[_mm256_setzero_ps(); 2]; MR];
    let (mut a, mut b) = (a, b);
    // Four steps per trip: the loop's own counter and branch are then 1 instruction in 20, not 1
    // in 5 (the FMA units, not the front end, should be what limits this loop).
    for _ in 0..kc / 4 {
        // SAFETY: a and b advance by MR and NR per step, kc steps in all, within what the caller
        // lent.
        unsafe {
            for step in 0..4 {
                rank1(&mut acc, a.add(step * MR), b.add(step * NR));
            }
            a = a.add(4 * MR);
            b = b.add(4 * NR);
        }
    }
    for _ in 0..kc % 4 {
        // SAFETY: as above.
        unsafe {
            rank1(&mut acc, a, b);
            a = a.add(MR);
            b = b.add(NR);
        }
    }
    if rows == MR && cols == NR {
        // SAFETY: a whole tile: the caller lent all MR×NR elements.
        unsafe { store(&acc, c, ldc, alpha, beta) };
    } else {
        // An edge tile: go through a full-size scratch tile so that the arithmetic is the same as
        // for a whole one, and copy in (when beta needs C) and out only the valid corner.
        let mut tile = [0.0f32; MR * NR];
        for i in 0..rows {
            for j in 0..cols {
                if beta != 0.0 {
                    // SAFETY: (i, j) lies in the rows×cols region.
                    tile[i * NR + j] = unsafe { *c.add(i * ldc + j) };
                }
            }
        }
        // SAFETY: tile holds MR rows of NR floats.
        unsafe { store(&acc, tile.as_mut_ptr(), NR, alpha, beta) };
        for i in 0..rows {
            for j in 0..cols {
                // SAFETY: (i, j) lies in the rows×cols region.
                unsafe { *c.add(i * ldc + j) = tile[i * NR + j] };
            }
        }
    }
}

/// One step of `k`: `acc += a_col · b_row`, the outer product of the `MR` values at `a` and the
/// `NR` values at `b` — 12 FMAs on 2 loads and 6 broadcasts.
#[inline(always)]
unsafe fn rank1(acc: &mut [[__m256; 2]; MR], a: *const f32, b: *const f32) {
    // SAFETY: the caller lends MR floats at a and NR at b.
    unsafe {
        let b0 = _mm256_loadu_ps(b);
        let b1 = _mm256_loadu_ps(b.add(8));
        for (i, acc_i) in acc.iter_mut().enumerate() {
            let a_i = _mm256_broadcast_ss(&*a.add(i));
            acc_i[0] = _mm256_fmadd_ps(a_i, b0, acc_i[0]);
            acc_i[1] = _mm256_fmadd_ps(a_i, b1, acc_i[1]);
        }
    }
}

/// `C = alpha·acc + beta·C` over a whole `MR×NR` tile at `c` (row stride `ldc`); `C` unread when
/// `beta == 0`.
#[inline(always)]
unsafe fn store(acc: &[[__m256; 2]; MR], c: *mut f32, ldc: usize, alpha: f32, beta: f32) {
    // SAFETY: the caller lends MR rows of NR floats at c, ldc apart.
    unsafe {
        let va = _mm256_set1_ps(alpha);
        if beta == 0.0 {
            for (i, acc_i) in acc.iter().enumerate() {
                let row = c.add(i * ldc);
                _mm256_storeu_ps(row, _mm256_mul_ps(va, acc_i[0]));
                _mm256_storeu_ps(row.add(8), _mm256_mul_ps(va, acc_i[1]));
            }
        } else {
            let vb = _mm256_set1_ps(beta);
            for (i, acc_i) in acc.iter().enumerate() {
                let row = c.add(i * ldc);
                let c0 = _mm256_mul_ps(vb, _mm256_loadu_ps(row));
                let c1 = _mm256_mul_ps(vb, _mm256_loadu_ps(row.add(8)));
                _mm256_storeu_ps(row, _mm256_fmadd_ps(va, acc_i[0], c0));
                _mm256_storeu_ps(row.add(8), _mm256_fmadd_ps(va, acc_i[1], c1));
            }
        }
    }
}
