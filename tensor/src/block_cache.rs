//! A global allocator that keeps large freed blocks for the next allocation of the same size:
//! why a training step should not pay the operating system for its memory every time.
//!
//! ## The problem
//! A training step makes the same tensors, in the same sizes, every step: activations, gradients,
//! im2col columns, each tens of KiB to tens of MiB, all freed by the end of the step. With glibc's
//! `malloc` a block that large is either `mmap`ed on its own (above the *mmap threshold*) or cut
//! from the top of the heap, and the heap's top is given back to the kernel (*trimmed*) as soon as
//! more than the trim threshold lies free at its end — which is exactly the state at the end of a
//! step. Either way the next step gets fresh pages: the kernel takes a page fault on the first
//! touch of every 4 KiB page, zeroes it, maps it, and unmaps it again at the free. A profile of
//! the MLP's training step before this allocator showed more of it in the kernel's page handling
//! (`clear_page_erms`, `exc_page_fault`, `unmap_page_range`, …) than in any one layer's matrix
//! product (the figures: docs/performance.md, "Figures moved out of the code").
//!
//! ## What this does
//! [`BlockCache`] wraps the system allocator. A freed block of at least [`MIN_BLOCK`] bytes is
//! not given back: it goes into a small table (at most [`SLOTS`] blocks and the cache's capacity
//! in bytes). An allocation of *exactly* the same size and alignment takes it back out — already
//! mapped, already in the page tables, often still in cache. Everything else (small blocks, and
//! sizes the table does not hold) goes to the system allocator unchanged.
//!
//! - **Exact sizes**, not size classes: a training loop asks for the very same sizes every step,
//!   so exact matches hit; no block is ever split, and no byte is wasted on rounding up.
//! - **Oldest out**: when a freed block does not fit (table full, or over the byte capacity), the
//!   least recently freed blocks go back to the system first. So the blocks of an evaluation pass
//!   with another batch size make room for the training step's, not the other way round.
//! - **Zeroing**: `alloc_zeroed` (what `vec![0.0; n]` calls) gets zero pages for free from a fresh
//!   `mmap`; a reused block holds old values, so it is zeroed with a `memset` — on memory that is
//!   already mapped, which costs a fraction of faulting fresh pages in.
//! - **Memory**: the peak resident set grows at most by what the table holds; in a training loop
//!   the table is full between steps and empty at a step's peak (its blocks are then in use), so
//!   the peak barely moves (the measured peaks are in docs/performance.md). Blocks freed outside
//!   the loop stay in the
//!   table until they are pushed out, so up to the capacity of memory may stay resident that no
//!   step reuses. The one common source of such blocks is kept out: a buffer *growing* by
//!   `realloc` (a `Vec` read from a file, doubling 64 KiB → 128 KiB → … → 64 MiB) gives its old,
//!   smaller blocks straight back to the system, as no one is likely to ask for those sizes again.
//! - **Not fork-safe**: a `fork` while another thread holds the spin lock would leave the child's
//!   allocator locked for ever (glibc's own malloc guards against this; nothing here forks).
//!
//! ## Using it
//! A library cannot choose a program's allocator; a binary does, once:
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOCATOR: tensor::BlockCache = tensor::BlockCache::new();
//! ```
//!
//! The apps of this workspace (`mnist_kd`, `signal_kd`, `bench`) do.
//!
//! ## Locking
//! The table sits behind a spin lock (one `AtomicBool`), not `std::sync::Mutex`: an allocator must
//! never allocate, and on some platforms a `Mutex` allocates on first use. The lock is held for a
//! scan of [`SLOTS`] entries; blocks pushed out of the table are returned to the system after it is
//! released.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Blocks smaller than this (64 KiB) are left to the system allocator, which serves them from its
/// heap bins without page faults; the cache is for the blocks that would be `mmap`ed or trimmed.
pub const MIN_BLOCK: usize = 64 << 10;

/// How many free blocks the table holds at most. A training step of the workloads here frees a few
/// dozen distinct large blocks.
pub const SLOTS: usize = 64;

/// The default byte capacity of [`BlockCache::new`]: 512 MiB of free blocks at most.
pub const DEFAULT_CAPACITY: usize = 512 << 20;

/// One entry of the table: a free block, or empty when `ptr` is null.
#[derive(Clone, Copy)]
struct Slot {
    ptr: *mut u8,
    size: usize,
    align: usize,
    /// When the block was freed (the table's clock): the smallest is the oldest.
    freed_at: u64,
}

const EMPTY: Slot = Slot {
    ptr: std::ptr::null_mut(),
    size: 0,
    align: 0,
    freed_at: 0,
};

struct Table {
    slots: [Slot; SLOTS],
    /// Bytes in the table's blocks.
    bytes: usize,
    clock: u64,
}

/// A global allocator that reuses large freed blocks of the same size (see the module doc).
pub struct BlockCache {
    locked: AtomicBool,
    table: UnsafeCell<Table>,
    capacity: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

// SAFETY: `table` is only touched while `locked` is held (see `with_table`), and the raw pointers
// in it are blocks of the system allocator that no one else refers to while they are in the table.
unsafe impl Sync for BlockCache {}

/// What the cache has done so far: large allocations served from the table (`hits`) or by the
/// system (`misses`), and the bytes it holds now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub cached_bytes: usize,
}

impl BlockCache {
    /// A cache holding at most [`DEFAULT_CAPACITY`] bytes of free blocks.
    pub const fn new() -> BlockCache {
        BlockCache::with_capacity(DEFAULT_CAPACITY)
    }

    /// A cache holding at most `capacity` bytes of free blocks (0 turns it into the plain system
    /// allocator).
    pub const fn with_capacity(capacity: usize) -> BlockCache {
        BlockCache {
            locked: AtomicBool::new(false),
            table: UnsafeCell::new(Table {
                slots: [EMPTY; SLOTS],
                bytes: 0,
                clock: 0,
            }),
            capacity,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Hits, misses and the bytes held now.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            cached_bytes: self.with_table(|t| t.bytes),
        }
    }

    /// Gives every block in the table back to the system (for a program that is done with its
    /// large tensors and wants its memory back).
    pub fn release_all(&self) {
        let mut out = [EMPTY; SLOTS];
        self.with_table(|t| {
            out = t.slots;
            t.slots = [EMPTY; SLOTS];
            t.bytes = 0;
        });
        free_to_system(&out);
    }

    /// Runs `f` on the table under the spin lock.
    fn with_table<R>(&self, f: impl FnOnce(&mut Table) -> R) -> R {
        let mut spins = 0u32;
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            // Another thread holds it for a scan of the table: spin briefly, then let it run.
            spins += 1;
            if spins < 64 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
        // SAFETY: the lock is ours until the store below, so no one else touches the table.
        let result = f(unsafe { &mut *self.table.get() });
        self.locked.store(false, Ordering::Release);
        result
    }

    /// Takes a free block of exactly `layout` out of the table: the most recently freed one, whose
    /// memory is the most likely to still be in the CPU's caches.
    fn take(&self, layout: Layout) -> Option<*mut u8> {
        self.with_table(|t| {
            let (index, _) = t
                .slots
                .iter()
                .enumerate()
                .filter(|(_, s)| {
                    !s.ptr.is_null() && s.size == layout.size() && s.align == layout.align()
                })
                .max_by_key(|(_, s)| s.freed_at)?;
            let slot = std::mem::replace(&mut t.slots[index], EMPTY);
            t.bytes -= slot.size;
            Some(slot.ptr)
        })
    }

    /// Puts a freed block into the table, pushing the oldest ones out to make room; returns false
    /// (and keeps nothing) when the block alone is larger than the capacity.
    fn put(&self, ptr: *mut u8, layout: Layout) -> bool {
        if layout.size() > self.capacity {
            return false;
        }
        let mut evicted = [EMPTY; SLOTS];
        self.with_table(|t| {
            let mut n = 0;
            loop {
                let full = t.slots.iter().all(|s| !s.ptr.is_null());
                if !full && t.bytes + layout.size() <= self.capacity {
                    break;
                }
                // Not empty: the block fits the capacity on its own, so something is in the way.
                let oldest = (0..SLOTS)
                    .filter(|&i| !t.slots[i].ptr.is_null())
                    .min_by_key(|&i| t.slots[i].freed_at)
                    .expect("a full or over-capacity table has a block");
                evicted[n] = std::mem::replace(&mut t.slots[oldest], EMPTY);
                t.bytes -= evicted[n].size;
                n += 1;
            }
            t.clock += 1;
            let free = t
                .slots
                .iter_mut()
                .find(|s| s.ptr.is_null())
                .expect("room was made above");
            *free = Slot {
                ptr,
                size: layout.size(),
                align: layout.align(),
                freed_at: t.clock,
            };
            t.bytes += layout.size();
        });
        free_to_system(&evicted);
        true
    }

    /// A large block from the table, counting the hit or the miss.
    fn reuse(&self, layout: Layout) -> Option<*mut u8> {
        let block = self.take(layout);
        let counter = if block.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        block
    }
}

impl Default for BlockCache {
    fn default() -> Self {
        BlockCache::new()
    }
}

/// Returns the non-empty slots' blocks to the system allocator.
fn free_to_system(slots: &[Slot]) {
    for s in slots.iter().filter(|s| !s.ptr.is_null()) {
        // SAFETY: every block in the table came from `System` with exactly this size and alignment
        // (checked by `Layout::from_size_align` when it was first allocated).
        unsafe { system_dealloc(s.ptr, Layout::from_size_align_unchecked(s.size, s.align)) };
    }
}

/// Blocks of at least this size (2 MiB, an x86-64 and AArch64 huge page) are aligned to it and, on
/// Linux, offered to the kernel for transparent huge pages (`madvise(MADV_HUGEPAGE)`; the default
/// THP mode on many systems only backs memory asked for that way). A weight matrix of the
/// benchmark MLP is 2.5 MB, 600+ ordinary pages: with a huge page, reading it once is one TLB
/// entry instead of hundreds, and the hardware prefetcher, which stops at every 4 KiB page
/// boundary, runs on; the batch-1 forward, which reads every weight once per call, gains most
/// (measured: docs/performance.md). It is advice: where the kernel declines, nothing changes.
pub const HUGE_PAGE: usize = 2 << 20;

/// The layout this cache asks `System` for: `layout`, aligned to [`HUGE_PAGE`] when it is at
/// least that large. Every call to `System` for a block goes through it, so a block is always
/// freed with the layout it was allocated with.
fn system_layout(layout: Layout) -> Layout {
    if layout.size() < HUGE_PAGE {
        return layout;
    }
    Layout::from_size_align(layout.size(), layout.align().max(HUGE_PAGE)).unwrap_or(layout)
}

/// A fresh block from `System` (zeroed when asked), advised for huge pages when large.
///
/// # Safety
/// As `GlobalAlloc::alloc`: `layout` has a non-zero size.
unsafe fn system_alloc(layout: Layout, zeroed: bool) -> *mut u8 {
    let system = system_layout(layout);
    // SAFETY: system_layout keeps the size non-zero (the caller's contract).
    let ptr = unsafe {
        if zeroed {
            System.alloc_zeroed(system)
        } else {
            System.alloc(system)
        }
    };
    if !ptr.is_null() && system.align() >= HUGE_PAGE {
        advise_huge_pages(ptr, layout.size());
    }
    ptr
}

/// Frees a block that [`system_alloc`] made for `layout`.
///
/// # Safety
/// As `GlobalAlloc::dealloc`.
unsafe fn system_dealloc(ptr: *mut u8, layout: Layout) {
    // SAFETY: ptr came from system_alloc with system_layout(layout) (the caller's contract).
    unsafe { System.dealloc(ptr, system_layout(layout)) }
}

/// `madvise(MADV_HUGEPAGE)` on the whole huge pages of the `len` bytes at `ptr` (which is
/// huge-page aligned). Only advice: a failure changes nothing, so its result is not looked at.
#[cfg(target_os = "linux")]
fn advise_huge_pages(ptr: *mut u8, len: usize) {
    const MADV_HUGEPAGE: i32 = 14;
    unsafe extern "C" {
        fn madvise(addr: *mut u8, len: usize, advice: i32) -> i32;
    }
    // SAFETY: the range lies inside a block we just allocated; madvise neither reads nor writes
    // it, and MADV_HUGEPAGE does not change its contents.
    unsafe { madvise(ptr, len & !(HUGE_PAGE - 1), MADV_HUGEPAGE) };
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_ptr: *mut u8, _len: usize) {}

// SAFETY: every block handed out is either fresh from `System` or a block of exactly the requested
// size and alignment that `System` allocated and that was freed to us (so no one else uses it).
unsafe impl GlobalAlloc for BlockCache {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() >= MIN_BLOCK {
            if let Some(ptr) = self.reuse(layout) {
                return ptr;
            }
        }
        // SAFETY: GlobalAlloc::alloc's contract: a non-zero size.
        unsafe { system_alloc(layout, false) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.size() >= MIN_BLOCK {
            if let Some(ptr) = self.reuse(layout) {
                // A reused block holds what its last owner wrote.
                // SAFETY: the block is ours and holds layout.size() bytes.
                unsafe { ptr.write_bytes(0, layout.size()) };
                return ptr;
            }
        }
        // SAFETY: GlobalAlloc::alloc_zeroed's contract: a non-zero size.
        unsafe { system_alloc(layout, true) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if layout.size() >= MIN_BLOCK && self.put(ptr, layout) {
            return;
        }
        // SAFETY: ptr was allocated by this allocator for layout, and not kept in the table.
        unsafe { system_dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.size() < MIN_BLOCK && new_size < MIN_BLOCK {
            // SAFETY: both sizes are under MIN_BLOCK, so the block came from System directly.
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        // Into or out of the cache's range: a new block (perhaps a reused one), the contents
        // copied over. The old block is freed into the table when the buffer shrinks, but given
        // back to the system when it grows: a growing buffer (a Vec being filled) passes through
        // sizes no one will ask for again, and they would only sit in the table.
        // SAFETY: `realloc`'s contract promises `new_size`, rounded up to `layout.align()`, does
        // not overflow `isize`, which is what `Layout` requires.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: new_size is non-zero (realloc's contract).
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks hold at least min(old, new) bytes and are distinct; the old one
            // is ours to free.
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                if new_size > layout.size() {
                    system_dealloc(ptr, layout);
                } else {
                    self.dealloc(ptr, layout);
                }
            }
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    fn layout(size: usize) -> Layout {
        Layout::from_size_align(size, 64).unwrap()
    }

    #[test]
    fn a_freed_block_comes_back_for_the_same_size() {
        let cache = BlockCache::new();
        // SAFETY: the test's own cache, with layouts of non-zero size; each block is freed once, with its layout.
        unsafe {
            let a = cache.alloc(layout(MIB));
            a.write_bytes(7, MIB);
            cache.dealloc(a, layout(MIB));
            assert_eq!(cache.stats().cached_bytes, MIB);
            let b = cache.alloc(layout(MIB));
            assert_eq!(a, b, "the same block is handed out again");
            assert_eq!(
                cache.stats(),
                CacheStats {
                    hits: 1,
                    misses: 1,
                    cached_bytes: 0
                }
            );
            cache.dealloc(b, layout(MIB));
        }
        cache.release_all();
        assert_eq!(cache.stats().cached_bytes, 0);
    }

    #[test]
    fn a_reused_block_is_zeroed_when_zeroes_are_asked_for() {
        let cache = BlockCache::new();
        // SAFETY: the test's own cache, with layouts of non-zero size; each block is freed once, with its layout.
        unsafe {
            let a = cache.alloc(layout(MIB));
            a.write_bytes(0xAB, MIB);
            cache.dealloc(a, layout(MIB));
            let b = cache.alloc_zeroed(layout(MIB));
            assert_eq!(a, b);
            assert!(std::slice::from_raw_parts(b, MIB).iter().all(|&x| x == 0));
            cache.dealloc(b, layout(MIB));
        }
        cache.release_all();
    }

    #[test]
    fn other_sizes_alignments_and_small_blocks_are_not_served_from_the_table() {
        let cache = BlockCache::new();
        // SAFETY: the test's own cache, with layouts of non-zero size; each block is freed once, with its layout.
        unsafe {
            let small = Layout::from_size_align(MIN_BLOCK - 4, 16).unwrap();
            let s = cache.alloc(small);
            cache.dealloc(s, small);
            assert_eq!(
                cache.stats().cached_bytes,
                0,
                "small blocks go to the system"
            );

            let a = cache.alloc(layout(MIB));
            cache.dealloc(a, layout(MIB));
            let other_size = cache.alloc(layout(MIB + 64));
            let other_align = Layout::from_size_align(MIB, 4096).unwrap();
            let aligned = cache.alloc(other_align);
            assert_eq!(aligned as usize % 4096, 0);
            assert_eq!(cache.stats().hits, 0);
            assert_eq!(
                cache.stats().cached_bytes,
                MIB,
                "the 1 MiB block is still there"
            );
            cache.dealloc(other_size, layout(MIB + 64));
            cache.dealloc(aligned, other_align);
        }
        cache.release_all();
    }

    #[test]
    fn the_oldest_blocks_make_room_when_the_capacity_is_reached() {
        // Room for three 1 MiB blocks: freeing four keeps the last three.
        let cache = BlockCache::with_capacity(3 * MIB);
        // SAFETY: the test's own cache, with layouts of non-zero size; each block is freed once, with its layout.
        unsafe {
            let blocks: Vec<*mut u8> = (0..4).map(|_| cache.alloc(layout(MIB))).collect();
            for &b in &blocks {
                cache.dealloc(b, layout(MIB));
            }
            assert_eq!(cache.stats().cached_bytes, 3 * MIB);
            let again: Vec<*mut u8> = (0..4).map(|_| cache.alloc(layout(MIB))).collect();
            let s = cache.stats();
            assert_eq!((s.hits, s.misses), (3, 5));
            // Newest first, and the oldest (blocks[0]) was given back to the system.
            assert_eq!(&again[..3], &[blocks[3], blocks[2], blocks[1]]);
            for &b in &again {
                cache.dealloc(b, layout(MIB));
            }
        }
        cache.release_all();
    }

    #[test]
    fn a_block_larger_than_the_capacity_goes_straight_back() {
        let cache = BlockCache::with_capacity(MIB);
        // SAFETY: the test's own cache, with layouts of non-zero size; each block is freed once, with its layout.
        unsafe {
            let a = cache.alloc(layout(2 * MIB));
            cache.dealloc(a, layout(2 * MIB));
        }
        assert_eq!(cache.stats().cached_bytes, 0);
    }

    #[test]
    fn a_full_table_pushes_out_its_oldest_block() {
        let cache = BlockCache::new();
        // SAFETY: the test's own cache, with layouts of non-zero size; each block is freed once, with its layout.
        unsafe {
            let sizes: Vec<usize> = (0..=SLOTS).map(|i| MIN_BLOCK + 64 * i).collect();
            let blocks: Vec<*mut u8> = sizes.iter().map(|&s| cache.alloc(layout(s))).collect();
            for (&b, &s) in blocks.iter().zip(&sizes) {
                cache.dealloc(b, layout(s));
            }
            let held: usize = sizes[1..].iter().sum();
            assert_eq!(
                cache.stats().cached_bytes,
                held,
                "the first block was pushed out"
            );
        }
        cache.release_all();
    }

    #[test]
    fn realloc_keeps_the_contents_across_the_threshold() {
        let cache = BlockCache::new();
        // SAFETY: the test's own cache, with layouts of non-zero size; each block is freed once, with its layout.
        unsafe {
            let small = Layout::from_size_align(1024, 8).unwrap();
            let p = cache.alloc(small);
            for i in 0..1024 {
                *p.add(i) = i as u8;
            }
            let big = cache.realloc(p, small, 2 * MIB);
            assert!((0..1024).all(|i| *big.add(i) == i as u8));
            let back = cache.realloc(big, Layout::from_size_align(2 * MIB, 8).unwrap(), 512);
            assert!((0..512).all(|i| *back.add(i) == i as u8));
            cache.dealloc(back, Layout::from_size_align(512, 8).unwrap());
        }
        cache.release_all();
    }

    #[test]
    fn blocks_of_a_huge_page_or_more_are_aligned_to_it_and_freed_alike() {
        // Above HUGE_PAGE the system block is huge-page aligned; it goes back to the system (a
        // capacity too small to keep it) with the same layout, or glibc would abort on free.
        let cache = BlockCache::with_capacity(MIB);
        // SAFETY: the test's own cache, with layouts of non-zero size; each block is freed once, with its layout.
        unsafe {
            for size in [HUGE_PAGE, HUGE_PAGE + 4, 5 * HUGE_PAGE / 2] {
                let p = cache.alloc(layout(size));
                assert_eq!(p as usize % HUGE_PAGE, 0, "size {size}");
                p.write_bytes(1, size);
                cache.dealloc(p, layout(size));
                let z = cache.alloc_zeroed(layout(size));
                assert!(std::slice::from_raw_parts(z, size).iter().all(|&x| x == 0));
                cache.dealloc(z, layout(size));
            }
        }
        assert_eq!(cache.stats().cached_bytes, 0);
    }

    #[test]
    fn a_buffer_grown_by_realloc_leaves_nothing_of_its_old_sizes_in_the_table() {
        // 64 KiB grown by doubling to 1 MiB frees 64, 128, 256 and 512 KiB blocks on the way:
        // none may stay in the table (they would be 960 KiB that no one reuses); the final 1 MiB
        // block, freed, does go in.
        let cache = BlockCache::new();
        // SAFETY: the test's own cache, with layouts of non-zero size; each block is freed once, with its layout.
        unsafe {
            let mut size = MIN_BLOCK;
            let mut p = cache.alloc(layout(size));
            p.write(42);
            while size < MIB {
                p = cache.realloc(p, layout(size), 2 * size);
                size *= 2;
            }
            assert_eq!(*p, 42, "realloc kept the contents");
            assert_eq!(cache.stats().cached_bytes, 0);
            cache.dealloc(p, layout(size));
            assert_eq!(cache.stats().cached_bytes, MIB);
        }
        cache.release_all();
    }

    #[test]
    fn threads_never_get_the_same_block_at_once() {
        // Each thread writes its own id over a block it holds, then checks it is still there: a
        // block handed to two threads at once would show the other's id.
        let cache = BlockCache::new();
        std::thread::scope(|scope| {
            for id in 1..=4u8 {
                let cache = &cache;
                scope.spawn(move || {
                    for round in 0..200 {
                        let size = MIN_BLOCK * (1 + round % 3);
                        // SAFETY: the test's own cache, with layouts of non-zero size; each block is freed once, with its layout.
                        unsafe {
                            let p = cache.alloc(layout(size));
                            p.write_bytes(id, size);
                            std::thread::yield_now();
                            let block = std::slice::from_raw_parts(p, size);
                            assert!(block.iter().all(|&x| x == id), "block shared");
                            cache.dealloc(p, layout(size));
                        }
                    }
                });
            }
        });
        assert!(cache.stats().hits > 0);
        cache.release_all();
    }
}
