//! The micro-kernels: `C_tile = alpha · A_panel · B_panel + beta · C_tile` for one `MR×NR` tile.
//!
//! Every level has the same contract, written once here:
//!
//! - `a` points at a packed `MR×kc` micro-panel of `A`, stored column by column: for each `p` in
//!   `0..kc`, the `MR` values `A[0..MR, p]` one after the other (see `pack.rs`).
//! - `b` points at a packed `kc×NR` micro-panel of `B`, stored row by row: for each `p`, the `NR`
//!   values `B[p, 0..NR]`.
//! - `c` points at the tile's top-left element of `C`, whose rows are `ldc` elements apart. Only the
//!   top-left `rows×cols` corner (`rows ≤ MR`, `cols ≤ NR`) is read or written: an edge tile is
//!   computed whole in registers (the packing padded it with zeros) and only its valid part stored.
//! - With `beta == 0`, `C` is not read at all (so a NaN there does not leak into the result).
//!
//! So each step `p` of the loop is one *outer product*: a column of `MR` values of `A` times a row
//! of `NR` values of `B`, added into the `MR×NR` accumulators that live in registers for the whole
//! loop. That is `MR·NR` multiply-adds for `MR + NR` loaded values — the whole point of the tile.

pub(super) mod scalar;

#[cfg(target_arch = "x86_64")]
pub(super) mod avx2;
#[cfg(target_arch = "x86_64")]
pub(super) mod avx512;
#[cfg(target_arch = "aarch64")]
pub(super) mod neon;

/// The signature every micro-kernel has: `(kc, a, b, c, ldc, rows, cols, alpha, beta)`.
///
/// # Safety
/// `a` must hold `MR·kc` and `b` `kc·NR` readable floats; `c` must address a `rows×cols` region
/// with row stride `ldc` that nothing else touches during the call; the CPU must have the level's
/// instructions.
pub(super) type MicroKernel =
    unsafe fn(usize, *const f32, *const f32, *mut f32, usize, usize, usize, f32, f32);
