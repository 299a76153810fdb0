//! When to use more than one thread, and the one helper that splits a buffer across them.
//!
//! rayon's work stealing costs a few microseconds per split; adding two 1 000-float vectors costs
//! less than that. So work is only split when each thread gets at least [`MIN_CHUNK`] elements, and a
//! small tensor is handled on the calling thread with no rayon call at all.

use rayon::prelude::*;

/// The fewest elements worth handing to a thread of their own (about 10 µs of simple elementwise
/// work; below that, splitting costs more than it saves).
pub const MIN_CHUNK: usize = 1 << 15;

/// Calls `f(offset, chunk)` on consecutive chunks of `out`, in parallel when `out` is large. Each
/// call gets the chunk's starting offset in `out`, so that it can read the matching part of its
/// inputs.
pub fn for_each_chunk_mut<F>(out: &mut [f32], f: F)
where
    F: Fn(usize, &mut [f32]) + Sync,
{
    if out.len() < 2 * MIN_CHUNK {
        f(0, out);
        return;
    }
    let chunk = chunk_len(out.len());
    out.par_chunks_mut(chunk)
        .enumerate()
        .for_each(|(i, part)| f(i * chunk, part));
}

/// A chunk length that gives every thread a few chunks (for load balance) but never fewer than
/// [`MIN_CHUNK`] elements, rounded to a multiple of 64 so SIMD loops only see a ragged tail in the
/// last chunk.
pub fn chunk_len(len: usize) -> usize {
    let threads = rayon::current_num_threads().max(1);
    let per_thread = len.div_ceil(4 * threads);
    per_thread.max(MIN_CHUNK).next_multiple_of(64)
}
