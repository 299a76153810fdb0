//! The NEON micro-kernel (aarch64): an `8×12` tile.
//!
//! aarch64 has 32 `q` registers of 4 floats. A row of the tile is 12 floats, three registers, so 8
//! rows take **24 accumulators**; each step of `k` loads the `B` row into **3 registers** and the 8
//! values of the `A` column into **2**, and multiplies by one lane of those at a time
//! (`vfmaq_laneq_f32`), so no broadcast register is needed: 29 of 32. That is 24 FMAs per step for
//! 5 vector loads.
//!
//! **Compiled but not run here** (the project's machine is x86-64): checked with
//! `cargo check --target aarch64-unknown-linux-gnu -p tensor`. On an aarch64 machine the test
//! suite runs it against the reference (NEON is in `simd::available_levels()` there).

use std::arch::aarch64::*;

use super::CRegion;
use crate::layout::Scale;

/// Rows of the tile: two registers of the `A` column.
pub(in crate::gemm) const MR: usize = 8;
/// Columns of the tile: three registers.
pub(in crate::gemm) const NR: usize = 12;

/// Multiplies `b` by lane `$lane` of `$a` into the three accumulators of row `$row`.
macro_rules! row {
    ($acc:ident, $row:expr, $a:expr, $lane:expr, $b:ident) => {
        $acc[$row][0] = vfmaq_laneq_f32::<$lane>($acc[$row][0], $b[0], $a);
        $acc[$row][1] = vfmaq_laneq_f32::<$lane>($acc[$row][1], $b[1], $a);
        $acc[$row][2] = vfmaq_laneq_f32::<$lane>($acc[$row][2], $b[2], $a);
    };
}

/// See the contract in `kernel/mod.rs`.
///
/// # Safety
/// As [`super::MicroKernel`]; the CPU must have NEON.
#[target_feature(enable = "neon")]
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
    let mut acc = [[vdupq_n_f32(0.0); 3]; MR];
    let (mut a, mut b) = (a, b);
    for _ in 0..kc {
        // SAFETY: a and b advance by MR and NR per step, kc steps, within what the caller lent.
        unsafe {
            let bv = [vld1q_f32(b), vld1q_f32(b.add(4)), vld1q_f32(b.add(8))];
            let a_lo = vld1q_f32(a);
            let a_hi = vld1q_f32(a.add(4));
            row!(acc, 0, a_lo, 0, bv);
            row!(acc, 1, a_lo, 1, bv);
            row!(acc, 2, a_lo, 2, bv);
            row!(acc, 3, a_lo, 3, bv);
            row!(acc, 4, a_hi, 0, bv);
            row!(acc, 5, a_hi, 1, bv);
            row!(acc, 6, a_hi, 2, bv);
            row!(acc, 7, a_hi, 3, bv);
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
unsafe fn store(acc: &[[float32x4_t; 3]; MR], c: *mut f32, ldc: usize, alpha: f32, beta: f32) {
    // SAFETY: for the whole function, the caller lends MR rows of NR floats at c, ldc apart.
    unsafe {
        let va = vdupq_n_f32(alpha);
        let vb = vdupq_n_f32(beta);
        for (i, acc_i) in acc.iter().enumerate() {
            let row = c.add(i * ldc);
            for (r, &acc_ir) in acc_i.iter().enumerate() {
                let out = if beta == 0.0 {
                    vmulq_f32(va, acc_ir)
                } else {
                    vfmaq_f32(vmulq_f32(vb, vld1q_f32(row.add(4 * r))), va, acc_ir)
                };
                vst1q_f32(row.add(4 * r), out);
            }
        }
    }
}
