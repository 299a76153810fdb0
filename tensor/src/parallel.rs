//! When to use more than one thread, and the helpers that split a buffer across them.
//!
//! rayon's work stealing costs a few microseconds per split; adding two 1 000-float vectors costs
//! less than that. So work is only split when each thread gets at least [`MIN_CHUNK`] elements, and a
//! small tensor is handled on the calling thread with no rayon call at all.
//!
//! ## New buffers are zeroed by the threads that fill them
//! `vec![0.0; n]` zeroes all `n` floats on the calling thread before any kernel runs: for a
//! multi-MB output that is a pass over memory that only one core does while the others wait (the
//! profile is in docs/performance.md), and whose cache lines are evicted again before the kernel
//! writes them. [`new_with`] instead
//! zeroes each piece of a chunk on the thread that then fills it, right before it does: the
//! zeroing is shared out with the work, and the kernel writes lines that are already in that
//! core's L1 cache.

use std::mem::MaybeUninit;

use rayon::prelude::*;

/// The fewest elements worth handing to a thread of their own: a chunk must take several times
/// what a rayon split costs, or splitting costs more than it saves.
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

/// A new buffer of `len` floats, built piece by piece by `f(offset, piece)`: the buffer is cut
/// into chunks as [`for_each_chunk_mut`] cuts it, each chunk into [`ZEROED_PIECE`]-float pieces,
/// and each piece is zeroed just before `f` gets it, on the same thread. `f` may overwrite its
/// piece or add into the zeros.
pub fn new_with<F>(len: usize, f: F) -> Vec<f32>
where
    F: Fn(usize, &mut [f32]) + Sync,
{
    let parallel = len >= 2 * MIN_CHUNK;
    let chunk = if parallel { chunk_len(len) } else { len.max(1) };
    let fill = |_: &mut (), offset: usize, part: &mut [MaybeUninit<f32>]| {
        // Zero one piece, then fill it, then the next: not the whole chunk first, which for a
        // chunk of `MIN_CHUNK` floats or more (128 KiB) would push the first piece's zeros out of
        // L1 before `f` got to it.
        for (i, piece) in part.chunks_mut(ZEROED_PIECE).enumerate() {
            f(offset + i * ZEROED_PIECE, init_chunk(piece, 0.0));
        }
    };
    // SAFETY: `fill` initialises every element of its part (the pieces tile it).
    unsafe { build(len, chunk, parallel, || (), fill) }
}

/// How many floats [`new_with`] zeroes at a time before handing them on: 16 KiB, so the zeros are
/// still in L1 when the kernel overwrites them.
pub const ZEROED_PIECE: usize = 4096;

/// A new buffer of `len` floats cut into `chunk`-float chunks (the last may be shorter); each chunk
/// is zeroed and then given to `f(offset, chunk)`, on the thread that handles it — in parallel
/// when `parallel`.
pub fn new_with_chunks<F>(len: usize, chunk: usize, parallel: bool, f: F) -> Vec<f32>
where
    F: Fn(usize, &mut [f32]) + Sync,
{
    new_with_chunks_init(
        len,
        chunk,
        parallel,
        || (),
        |_, offset, part| f(offset, part),
    )
}

/// [`new_with_chunks`] with a scratch value per worker: `init()` makes one for each split of the
/// work (rayon's `for_each_init`; one in all when not `parallel`), and `f(scratch, offset, chunk)`
/// may use it — for kernels whose natural unit is fixed and that need a buffer of their own, such
/// as one image of a convolution and its im2col columns.
pub fn new_with_chunks_init<S, I, F>(
    len: usize,
    chunk: usize,
    parallel: bool,
    init: I,
    f: F,
) -> Vec<f32>
where
    I: Fn() -> S + Sync,
    F: Fn(&mut S, usize, &mut [f32]) + Sync,
{
    let fill = |scratch: &mut S, offset: usize, part: &mut [MaybeUninit<f32>]| {
        f(scratch, offset, init_chunk(part, 0.0));
    };
    // SAFETY: `fill` initialises every element of its part (`init_chunk` zeroes all of it).
    unsafe { build(len, chunk, parallel, init, fill) }
}

/// The one place that hands out the uninitialised memory of a new buffer: `len` floats cut into
/// `chunk`-float parts, each given to `fill(scratch, offset, part)` on the thread that handles it
/// (in parallel when `parallel`, with a scratch from `init` per split of the work).
///
/// # Safety
/// `fill` must initialise every element of each part it is given (or panic): the buffer is
/// declared initialised once all parts have been through it.
unsafe fn build<S, I, F>(len: usize, chunk: usize, parallel: bool, init: I, fill: F) -> Vec<f32>
where
    I: Fn() -> S + Sync,
    F: Fn(&mut S, usize, &mut [MaybeUninit<f32>]) + Sync,
{
    if len == 0 {
        return Vec::new();
    }
    assert!(
        chunk > 0,
        "new_with_chunks: chunk length 0 for {len} floats"
    );
    let mut out: Vec<f32> = Vec::with_capacity(len);
    let spare = &mut out.spare_capacity_mut()[..len];
    if parallel {
        spare
            .par_chunks_mut(chunk)
            .enumerate()
            .for_each_init(&init, |scratch, (i, part)| fill(scratch, i * chunk, part));
    } else {
        let mut scratch = init();
        for (i, part) in spare.chunks_mut(chunk).enumerate() {
            fill(&mut scratch, i * chunk, part);
        }
    }
    // SAFETY: the capacity is `len`, the parts tile `..len`, and the caller's `fill` initialised
    // each (a panic in it unwinds past this line, leaving the vector empty).
    unsafe { out.set_len(len) };
    out
}

/// Sets every cell of `chunk` to `init` and returns it as the initialised slice it now is.
pub(crate) fn init_chunk<T: Copy>(chunk: &mut [MaybeUninit<T>], init: T) -> &mut [T] {
    chunk.fill(MaybeUninit::new(init));
    // SAFETY: every element was just initialised, and `MaybeUninit<T>` has the layout of `T`.
    unsafe { &mut *(chunk as *mut [MaybeUninit<T>] as *mut [T]) }
}

/// `len` zeros, written by as many threads as [`new_with`] would use (for buffers that kernels
/// then add into, such as `col2im`'s output).
pub fn zeroed(len: usize) -> Vec<f32> {
    new_with(len, |_, _| {})
}

/// A chunk length that gives every thread a few chunks (for load balance) but never fewer than
/// [`MIN_CHUNK`] elements, rounded to a multiple of 64 so SIMD loops only see a ragged tail in the
/// last chunk.
pub fn chunk_len(len: usize) -> usize {
    let threads = rayon::current_num_threads().max(1);
    let per_thread = len.div_ceil(4 * threads);
    per_thread.max(MIN_CHUNK).next_multiple_of(64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_with_hands_every_chunk_zeros_and_its_offset() {
        // Small (one chunk on this thread) and large (several chunks, on 2 threads) buffers: each
        // element ends up as its own index plus the zero it started from.
        for len in [0, 1, 1000, 2 * MIN_CHUNK + 77, 9 * MIN_CHUNK + 5] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(2)
                .build()
                .unwrap();
            let out = pool.install(|| {
                new_with(len, |offset, chunk| {
                    for (i, x) in chunk.iter_mut().enumerate() {
                        assert_eq!(*x, 0.0, "a chunk must arrive zeroed");
                        *x += (offset + i) as f32;
                    }
                })
            });
            assert_eq!(out.len(), len);
            assert!(
                out.iter().enumerate().all(|(i, &x)| x == i as f32),
                "len {len}"
            );
        }
    }

    #[test]
    fn new_with_chunks_init_gives_whole_chunks_and_a_scratch_per_split() {
        // 10 chunks of 7 and a short one of 3; each chunk writes its index plus the number of
        // chunks its scratch has seen before it (0 for the first of a split), which must be
        // below the count of chunks: a scratch is made per split, not once per call.
        for parallel in [false, true] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(2)
                .build()
                .unwrap();
            let out = pool.install(|| {
                new_with_chunks_init(
                    73,
                    7,
                    parallel,
                    || 0usize,
                    |seen, offset, chunk| {
                        assert_eq!(offset % 7, 0);
                        assert_eq!(chunk.len(), 7.min(73 - offset));
                        assert!(
                            chunk.iter().all(|&x| x == 0.0),
                            "a chunk must arrive zeroed"
                        );
                        chunk.fill((offset / 7) as f32 + 100.0 * *seen as f32);
                        *seen += 1;
                    },
                )
            });
            assert_eq!(out.len(), 73);
            for (i, &x) in out.iter().enumerate() {
                let (index, seen) = ((i / 7) as f32, ((x - (i / 7) as f32) / 100.0).round());
                assert_eq!(x, index + 100.0 * seen, "parallel {parallel}, element {i}");
            }
            if !parallel {
                // One scratch for the whole call: the last chunk has seen the 10 before it.
                assert_eq!(out[72], 10.0 + 1000.0);
            }
        }
        assert!(new_with_chunks(0, 0, true, |_, _| unreachable!()).is_empty());
    }

    #[test]
    fn zeroed_is_all_zeros() {
        let v = zeroed(3 * MIN_CHUNK + 1);
        assert_eq!(v.len(), 3 * MIN_CHUNK + 1);
        assert!(v.iter().all(|&x| x == 0.0));
    }
}
