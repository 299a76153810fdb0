//! The micro-kernels: `C_tile = alpha · A_panel · B_panel + beta · C_tile` for one `MR×NR` tile.
//!
//! Every level has the same contract, written once here:
//!
//! - `a` points at a packed `MR×kc` micro-panel of `A`, stored column by column: for each `p` in
//!   `0..kc`, the `MR` values `A[0..MR, p]` one after the other (see `pack.rs`).
//! - `b` points at a packed `kc×NR` micro-panel of `B`, stored row by row: for each `p`, the `NR`
//!   values `B[p, 0..NR]`.
//! - `c` is a [`CRegion`]: the tile's top-left element of `C`, whose rows are `ldc` elements apart,
//!   and its valid `rows×cols` corner (`rows ≤ MR`, `cols ≤ NR`), the only part read or written:
//!   an edge tile is computed whole in registers (the packing padded it with zeros) and only its
//!   valid part stored.
//! - `scale` holds `alpha` and `beta`; with `beta == 0`, `C` is not read at all (so a NaN there
//!   does not leak into the result).
//!
//! So each step `p` of the loop is one *outer product*: a column of `MR` values of `A` times a row
//! of `NR` values of `B`, added into the `MR×NR` accumulators that live in registers for the whole
//! loop. That is `MR·NR` multiply-adds for `MR + NR` loaded values — the whole point of the tile.

use crate::layout::Scale;

pub(super) mod scalar;

#[cfg(target_arch = "x86_64")]
pub(super) mod avx2;
#[cfg(target_arch = "x86_64")]
pub(super) mod avx512;
#[cfg(target_arch = "aarch64")]
pub(super) mod neon;

/// The signature every micro-kernel has: `(kc, a, b, c, scale)`, computing
/// `C_tile = scale.alpha · A_panel · B_panel + scale.beta · C_tile`.
///
/// # Safety
/// `a` must hold `MR·kc` and `b` `kc·NR` readable floats; `c` must be a region of at most `MR×NR`
/// that nothing else touches during the call; the CPU must have the level's instructions.
pub(super) type MicroKernel = unsafe fn(usize, *const f32, *const f32, CRegion, Scale);

/// A region of `C` lent to one call: `rows × cols` elements from `ptr`, the top-left one, with
/// rows `ldc` elements apart. For a micro-kernel, the valid corner of its tile.
#[derive(Clone, Copy)]
pub(in crate::gemm) struct CRegion {
    /// The region's top-left element.
    pub(in crate::gemm) ptr: *mut f32,
    /// The row stride of `C`, in elements.
    pub(in crate::gemm) ldc: usize,
    /// Rows of the region.
    pub(in crate::gemm) rows: usize,
    /// Columns of the region.
    pub(in crate::gemm) cols: usize,
}

/// Asks for a `rows×cols` tile of `C` (row stride `ldc`) to be brought into L1 while the kernel's
/// loop over `k` runs; the x86-64 kernels call it first thing.
///
/// The tile is loaded (for `beta ≠ 0`) and stored only after the `kc` steps, and its rows — `ldc`
/// floats apart, each in other cache lines, at a large product's `C` in L3 or memory — are then
/// far away: in a profile of a large square product, the first loads of `C` after the loop were
/// where the kernel waited. A prefetch per 64 bytes of a row and one for its last element cover
/// its cache lines; the loop over `kc` is long enough to hide their latency. (Profile and
/// timings: docs/performance.md.)
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn prefetch_tile(c: *mut f32, ldc: usize, rows: usize, cols: usize) {
    use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
    if cols == 0 {
        return;
    }
    for i in 0..rows {
        let row = c.wrapping_add(i * ldc);
        // SAFETY: a prefetch is a hint with no architectural effect; it never faults.
        unsafe {
            for j in (0..cols).step_by(16) {
                _mm_prefetch::<_MM_HINT_T0>(row.wrapping_add(j) as *const i8);
            }
            _mm_prefetch::<_MM_HINT_T0>(row.wrapping_add(cols - 1) as *const i8);
        }
    }
}
