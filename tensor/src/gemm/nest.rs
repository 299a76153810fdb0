//! The loop nest of the module doc on one thread, over one block of `C`: pack a block of `B`,
//! then for each block of rows pack `A` and run the micro-kernel over every tile (`macro_kernel`).
//! The packing buffers are per thread and reused from call to call.

use std::cell::Cell;
use std::ops::Range;
use std::thread::LocalKey;

use super::kernel::CRegion;
use super::{pack, scale_at, Blocking, Operands};
use crate::layout::Scale;

/// A block of `C`: its rows and its columns.
pub(super) type Part = (Range<usize>, Range<usize>);

/// `C`'s base pointer, shared by the threads, which write disjoint parts of it.
#[derive(Clone, Copy)]
pub(super) struct CPtr(pub(super) *mut f32);
// SAFETY: the threads given a CPtr write disjoint parts of C (the bands of `split::parts`), and
// C — the caller's `&mut [f32]` in sgemm_with, the new Vec in sgemm_new — outlives all of them
// (`split::run` returns only when every part is done).
unsafe impl Send for CPtr {}
// SAFETY: as for Send.
unsafe impl Sync for CPtr {}
impl CPtr {
    pub(super) fn at(self, offset: usize) -> *mut f32 {
        self.0.wrapping_add(offset)
    }
}

thread_local! {
    /// Reused packing buffers: the blocks of A and of B of the part of a product running on this
    /// thread.
    static A_PACK: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
    static B_PACK: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
}

/// Runs `f` on `len` floats of this thread's buffer `key`, 64-byte aligned (a cache line, and a
/// whole `zmm` register). The buffer is taken out of the thread-local for the call, so a nested
/// product on the same thread would find it empty and make its own instead of sharing it. (The
/// loop nest makes no rayon call while it holds a buffer, so none is nested today; taking the
/// buffer out keeps that a matter of speed, never of correctness.)
fn with_buffer<R>(
    key: &'static LocalKey<Cell<Vec<f32>>>,
    len: usize,
    f: impl FnOnce(&mut [f32]) -> R,
) -> R {
    const SLACK: usize = 16; // 64 bytes of f32: room to align the start
    let mut buf = key.take();
    if buf.len() < len + SLACK {
        buf = vec![0.0; len + SLACK];
    }
    let start = buf.as_ptr().align_offset(64).min(SLACK);
    let result = f(&mut buf[start..start + len]);
    key.set(buf);
    result
}

/// The loop nest of the module doc over one block of `C`, on the calling thread.
///
/// # Safety
/// `c` is `C`'s base (row stride `n`), and the block `rows × cols` of it is this call's alone. With
/// `scale.beta == 0` the block may be uninitialised memory: its first depth block only stores.
pub(super) unsafe fn loop_nest(
    bl: &Blocking,
    ops: &Operands,
    (rows, cols): Part,
    scale: Scale,
    c: CPtr,
) {
    let (k, n) = (ops.k, ops.n);
    let m = rows.len();
    // Blocks of rows of equal height (a multiple of MR) rather than full MC blocks and a runt.
    let mc = m.div_ceil(m.div_ceil(bl.mc)).next_multiple_of(bl.mr);
    for jc in cols.clone().step_by(bl.nc) {
        let nb = bl.nc.min(cols.end - jc);
        let b_panels = nb.div_ceil(bl.nr);
        for depth in bl.depth_blocks(k) {
            let (pc, kb) = (depth.start, depth.len());
            // The first depth block applies the caller's beta; the rest add onto it.
            let scale = scale_at(scale, pc);
            with_buffer(&B_PACK, b_panels * bl.nr * kb, |b_pack| {
                // NR-wide panels of op(B) are NR-tall panels of op(B)ᵀ: swap the strides.
                let (rs, cs) = ops.b_strides;
                pack::pack(bl.level, bl.nr, ops.b, (cs, rs), (jc, nb), (pc, kb), b_pack);
                for ic in rows.clone().step_by(mc) {
                    let mb = mc.min(rows.end - ic);
                    with_buffer(&A_PACK, mb.div_ceil(bl.mr) * bl.mr * kb, |a_pack| {
                        pack::pack(
                            bl.level,
                            bl.mr,
                            ops.a,
                            ops.a_strides,
                            (ic, mb),
                            (pc, kb),
                            a_pack,
                        );
                        // SAFETY: rows ic..ic+mb × columns jc..jc+nb lie inside this call's block
                        // of C; the packed buffers hold what the kernel reads (see macro_kernel).
                        unsafe {
                            macro_kernel(
                                bl,
                                kb,
                                a_pack,
                                b_pack,
                                CRegion {
                                    ptr: c.at(ic * n + jc),
                                    ldc: n,
                                    rows: mb,
                                    cols: nb,
                                },
                                scale,
                            )
                        };
                    });
                }
            });
        }
    }
}

/// The two innermost loops: every `MR×NR` tile of the block `c` of `C` (`mb × nb`, from the packed
/// `A` block's `mb` rows and the packed `B` block's `nb` columns, both of depth `kb`),
/// `C_tile = alpha · A_panel · B_panel + beta · C_tile`.
///
/// # Safety
/// `c` is a region of C that is this call's alone; the packed blocks hold `⌈mb/MR⌉` and `⌈nb/NR⌉`
/// panels of depth `kb`.
unsafe fn macro_kernel(
    bl: &Blocking,
    kb: usize,
    a_pack: &[f32],
    b_pack: &[f32],
    c: CRegion,
    scale: Scale,
) {
    let CRegion {
        ptr: c,
        ldc,
        rows: mb,
        cols: nb,
    } = c;
    for jp in 0..nb.div_ceil(bl.nr) {
        let j0 = jp * bl.nr;
        let cols = bl.nr.min(nb - j0);
        let b_panel = &b_pack[jp * bl.nr * kb..(jp + 1) * bl.nr * kb];
        for (ip, a_panel) in a_pack.chunks_exact(bl.mr * kb).enumerate() {
            let i0 = ip * bl.mr;
            let rows = bl.mr.min(mb - i0);
            // SAFETY: the panels hold MR·kb and kb·NR floats; the tile's rows×cols region is inside
            // this call's region of C; the level's CPU features were checked by sgemm_with.
            unsafe {
                (bl.kernel)(
                    kb,
                    a_panel.as_ptr(),
                    b_panel.as_ptr(),
                    CRegion {
                        ptr: c.add(i0 * ldc + j0),
                        ldc,
                        rows,
                        cols,
                    },
                    scale,
                )
            };
        }
    }
}
