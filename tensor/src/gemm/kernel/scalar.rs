//! The portable micro-kernel: plain loops over a `4×8` tile of accumulators.
//!
//! It is the reference path (`DISTILLERY_SIMD=scalar`) and what every target without a vector
//! kernel runs. The loops have constant bounds, so the compiler unrolls them and keeps the 32
//! accumulators in whatever registers the baseline target has (SSE2 on x86-64).

use super::CRegion;
use crate::layout::Scale;

/// Rows of the tile.
pub(in crate::gemm) const MR: usize = 4;
/// Columns of the tile.
pub(in crate::gemm) const NR: usize = 8;

/// See the contract in `kernel/mod.rs`.
///
/// # Safety
/// As [`super::MicroKernel`].
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
    // SAFETY: the caller guarantees a holds MR·kc floats and b kc·NR.
    let a = unsafe { std::slice::from_raw_parts(a, MR * kc) };
    // SAFETY: as above.
    let b = unsafe { std::slice::from_raw_parts(b, kc * NR) };
    let mut acc = [[0.0f32; NR]; MR];
    for (a_p, b_p) in a.chunks_exact(MR).zip(b.chunks_exact(NR)) {
        for (acc_i, &a_ip) in acc.iter_mut().zip(a_p) {
            for (acc_ij, &b_pj) in acc_i.iter_mut().zip(b_p) {
                *acc_ij += a_ip * b_pj;
            }
        }
    }
    for (i, acc_i) in acc.iter().enumerate().take(rows) {
        for (j, &ab) in acc_i.iter().enumerate().take(cols) {
            // Through the raw pointer, never a `&mut f32`: with beta == 0, C may be uninitialised
            // memory (`gemm::sgemm_new`), and a reference to an uninitialised f32 is an invalid
            // value even when it is only written through.
            let c_ij = c.wrapping_add(i * ldc + j);
            // SAFETY: (i, j) lies in the rows×cols region the caller lent us; C is read only when
            // beta ≠ 0, when the contract says it holds values.
            unsafe {
                c_ij.write(if beta == 0.0 {
                    alpha * ab
                } else {
                    alpha * ab + beta * c_ij.read()
                })
            };
        }
    }
}
