//! The AVX-512F micro-kernel: a `14×32` tile.
//!
//! AVX-512 has 32 `zmm` registers of 16 floats. A row of the tile is 32 floats, two registers, so
//! 14 rows take **28 accumulators**; each step of `k` also needs the **2 registers** of the `B` row
//! and **1** for the broadcast `A` value: 31 of 32. That is 28 FMAs per step for 2 loads and 14
//! broadcasts — twice the work per loaded byte of the AVX2 `6×16` tile.
//!
//! **Not run on the machine this was written on** (an AMD EPYC without AVX-512): it compiles
//! everywhere on x86-64, is chosen only when `simd::level()` detects AVX-512F, and the test suite
//! runs it against the reference on any machine that has it (it iterates over
//! `simd::available_levels()`).

use std::arch::x86_64::*;

use super::CRegion;
use crate::layout::Scale;

/// Rows of the tile.
pub(in crate::gemm) const MR: usize = 14;
/// Columns of the tile: two `zmm` registers.
pub(in crate::gemm) const NR: usize = 32;

/// See the contract in `kernel/mod.rs`.
///
/// # Safety
/// As [`super::MicroKernel`]; the CPU must have AVX-512F.
#[target_feature(enable = "avx512f")]
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
    super::prefetch_tile(c, ldc, rows, cols);
    let mut acc = [[_mm512_setzero_ps(); 2]; MR];
    let (mut a, mut b) = (a, b);
    for _ in 0..kc {
        // SAFETY: a and b advance by MR and NR per step, kc steps, within what the caller lent.
        unsafe {
            let b0 = _mm512_loadu_ps(b);
            let b1 = _mm512_loadu_ps(b.add(16));
            for (i, acc_i) in acc.iter_mut().enumerate() {
                let a_i = _mm512_set1_ps(*a.add(i));
                acc_i[0] = _mm512_fmadd_ps(a_i, b0, acc_i[0]);
                acc_i[1] = _mm512_fmadd_ps(a_i, b1, acc_i[1]);
            }
            a = a.add(MR);
            b = b.add(NR);
        }
    }
    if rows == MR && cols == NR {
        // SAFETY: a whole tile: the caller lent all MR×NR elements.
        unsafe { store(&acc, c, ldc, alpha, beta) };
    } else {
        // An edge tile: through a full-size scratch tile, as in the AVX2 kernel.
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

/// `C = alpha·acc + beta·C` over a whole `MR×NR` tile; `C` unread when `beta == 0`.
#[inline(always)]
unsafe fn store(acc: &[[__m512; 2]; MR], c: *mut f32, ldc: usize, alpha: f32, beta: f32) {
    // SAFETY: the caller lends MR rows of NR floats at c, ldc apart.
    unsafe {
        let va = _mm512_set1_ps(alpha);
        if beta == 0.0 {
            for (i, acc_i) in acc.iter().enumerate() {
                let row = c.add(i * ldc);
                _mm512_storeu_ps(row, _mm512_mul_ps(va, acc_i[0]));
                _mm512_storeu_ps(row.add(16), _mm512_mul_ps(va, acc_i[1]));
            }
        } else {
            let vb = _mm512_set1_ps(beta);
            for (i, acc_i) in acc.iter().enumerate() {
                let row = c.add(i * ldc);
                let c0 = _mm512_mul_ps(vb, _mm512_loadu_ps(row));
                let c1 = _mm512_mul_ps(vb, _mm512_loadu_ps(row.add(16)));
                _mm512_storeu_ps(row, _mm512_fmadd_ps(va, acc_i[0], c0));
                _mm512_storeu_ps(row.add(16), _mm512_fmadd_ps(va, acc_i[1], c1));
            }
        }
    }
}
