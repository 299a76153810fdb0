//! How the threads share one product: as many bands of `C` as threads, each computed start to
//! finish by one thread running the whole loop nest (`nest.rs`) — see the module doc's *Threads*.

use std::ops::Range;

use rayon::prelude::*;

use super::nest::{loop_nest, CPtr, Part};
use super::{Blocking, Operands, Start};
use crate::layout::Scale;

/// The product, for `k ≥ 1`, `m, n ≥ 1`: on one thread the loop nest of the module doc over the
/// whole of `C`; on several, the same loop nest over each thread's part of `C` (see [`parts`]).
///
/// # Safety
/// `c` must address `m·n` floats (row stride `n`, the sizes of `ops`) that nothing else reads or
/// writes during the call. They may be uninitialised only with `Start::Uninit` or `Start::Bias`
/// (every element is then written before it is read); with `Start::Scaled(beta ≠ 0)` they must
/// hold values.
pub(super) unsafe fn run(
    bl: &Blocking,
    ops: &Operands,
    alpha: f32,
    start: Start,
    c: *mut f32,
    threads: usize,
) {
    let c = CPtr(c);
    let one = |part: Part| {
        let beta = match start {
            Start::Scaled(beta) => beta,
            Start::Uninit => 0.0,
            Start::Bias(bias) => {
                for i in part.0.clone() {
                    let row = c.at(i * ops.n + part.1.start);
                    // SAFETY: row i, columns part.1, of C: inside C and this part's alone.
                    unsafe {
                        std::ptr::copy_nonoverlapping(
                            bias[part.1.clone()].as_ptr(),
                            row,
                            part.1.len(),
                        )
                    };
                }
                1.0
            }
        };
        // SAFETY: the parts are disjoint blocks of C (see `parts`), each given to one call.
        unsafe { loop_nest(bl, ops, part, Scale { alpha, beta }, c) }
    };
    let parts = parts(bl, ops.m, ops.n, threads);
    if parts.len() == 1 {
        parts.into_iter().for_each(one);
    } else {
        parts.into_par_iter().for_each(one);
    }
}

/// How `threads` threads share an `m×n` product: as many blocks of `C` as threads, of (nearly)
/// equal numbers of `MR×NR` tiles, each computed start to finish by one thread, packing its own
/// operands — one parallel region per product, no thread ever waits for another until the end.
///
/// The blocks are bands of columns when `m ≤ n`, else bands of rows, because a thread packs *all*
/// of the other operand's block: a band of columns needs all of `A` (`m·k` floats, packed once per
/// thread), a band of rows all of `B` (`k·n`); cutting the longer side copies the smaller operand
/// again. Either way the extra copying is one pass over an operand per thread, against `m·n·k /
/// threads` multiply-adds. A side too short for a tile per thread is not cut; if neither is, the
/// product runs on one thread (cutting `k` would need a sum across threads, and change the bits).
fn parts(bl: &Blocking, m: usize, n: usize, threads: usize) -> Vec<Part> {
    let (tiles_m, tiles_n) = (m.div_ceil(bl.mr), n.div_ceil(bl.nr));
    let bands = |tiles: usize, side: usize, len: usize| -> Vec<Range<usize>> {
        (0..threads)
            .map(|t| {
                (t * tiles / threads * side).min(len)..((t + 1) * tiles / threads * side).min(len)
            })
            .collect()
    };
    if threads > 1 && tiles_n >= threads && (m <= n || tiles_m < threads) {
        bands(tiles_n, bl.nr, n)
            .into_iter()
            .map(|cols| (0..m, cols))
            .collect()
    } else if threads > 1 && tiles_m >= threads {
        bands(tiles_m, bl.mr, m)
            .into_iter()
            .map(|rows| (rows, 0..n))
            .collect()
    } else {
        vec![(0..m, 0..n)]
    }
}
