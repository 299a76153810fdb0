//! Distillery's own single-precision matrix product: `C = alpha · op(A) · op(B) + beta · C`.
//!
//! Built from scratch on the BLIS design (packing, a five-loop nest around a register-tile
//! micro-kernel), with kernels for AVX2+FMA (`6×16`), AVX-512F (`14×32`), NEON (`8×12`) and a
//! portable scalar one (`4×8`), chosen at run time from [`simd::level()`] (`DISTILLERY_SIMD`
//! overrides it). [`crate::matmul::sgemm`] routes every product here unless
//! `DISTILLERY_GEMM=matrixmultiply`.
//!
//! ## How fast
//! The measurements (on one and two threads, against `matrixmultiply`, for every product the
//! MLP and CNN benchmarks make, with the machine and the command) are in docs/performance.md,
//! not here: a figure in the code is wrong the day the code around it changes. What they show,
//! and why: the packed kernel wins on products whose three sides are all large; where one side
//! is tiny (a depth `k` of 9 or 10, as in a CNN's first layer) each tile does few steps of `k` per
//! load and store of `C`, and packing the other operand is a large share of the work. Those
//! products are a small share of a training step's multiply-adds, so there is no special path for
//! them. The AVX-512 and NEON kernels have not been measured on the project machine (see their
//! files).

//! ## The loop nest (Goto's algorithm, as BLIS writes it)
//! A matrix product does `m·n·k` multiply-adds on `m·k + k·n + m·n` numbers, so every number is
//! used many times; the whole game is to have it in a register or a near cache each time. The
//! product is cut into five nested loops around a *micro-kernel* (`nest.rs`; the kernels in
//! `kernel/`):
//!
//! ```text
//! for jc in 0..n step NC:                      columns of C and B          — B block in L3
//!   for pc in 0..k step kc (≤ KC):             the shared dimension
//!     pack B[pc.., jc..] (kc×NC) into NR-wide micro-panels
//!     for ic in 0..m step mc (≤ MC):           rows of C and A             — A block in L2
//!       pack A[ic.., pc..] (mc×kc) into MR-tall micro-panels
//!       for jr in 0..NC step NR:               one kc×NR micro-panel of B  — in L1
//!         for ir in 0..mc step MR:             one MR×kc micro-panel of A
//!           micro-kernel: C[ir.., jr..] (MR×NR, in registers) += A panel · B panel
//! ```
//!
//! Why each block has its size (AVX2 numbers; the table in `blocking` has all levels):
//! - **MR×NR = 6×16**, the register tile: the `MR·NR` accumulators stay in registers through all
//!   `KC` steps, each step loading `MR + NR` values for `MR·NR` FMAs. The shape fills the 16 `ymm`
//!   registers (12 accumulators + 2 for the `B` row + 1 broadcast); AVX-512's 32 `zmm` registers
//!   take `14×32` (28 + 2 + 1), NEON's 32 `q` registers `8×12` (24 + 3 + 2). See `kernel/*.rs`.
//! - **KC = 256**: one `KC×NR` micro-panel of `B` (16 KiB) is read `MC/MR` times in a row by the
//!   `ir` loop, so it must stay in the 32 KiB L1 next to the `MR×KC` panel of `A` (6 KiB) that
//!   streams past it. A large `KC` also means `C` is loaded and stored only once per `KC` steps.
//! - **MC = 144**: the packed `MC×KC` block of `A` (144 KiB) is read once per `jr` step, `NC/NR`
//!   times, so it lives in the 512 KiB L2.
//! - **NC = 3072**: the packed `KC×NC` block of `B` (3 MiB) is read once per `ic` step; it stays
//!   in the L3 that the cores share (32 MiB here). (Every product this project makes has `n ≤ NC`.)
//!
//! `MC` and `KC` are upper bounds: `m` and `k` are cut into `⌈m/MC⌉` and `⌈k/KC⌉` blocks of equal
//! size (the last may be a little shorter; `mc` a multiple of `MR`), not into full blocks and a
//! runt: on AVX2 (`KC = 256`) `k = 784` is `4 × 196` rather than `256 + 256 + 256 + 16`. The
//! number of depth blocks, and so of passes over `C`, is `⌈k/KC⌉` either way; equal blocks spread
//! the steps of `k` evenly over those passes, so that no pass loads and stores every tile of `C`
//! for a mere 16 steps. The row blocks are cut from each thread's part of `C` (see *Threads*), so
//! they change with the number of threads; the depth blocks depend on `k` alone, and only they
//! decide the order of the sums.
//!
//! **Packing** (`pack.rs`) copies each block into exactly the order the micro-kernel reads it, so the
//! kernel's loads are contiguous and aligned whatever the strides of the operands — which is also
//! how a transposed operand is free: the packing reads it through swapped strides, nothing else
//! changes. It costs `O(MC·KC + KC·NC)` copies per `O(MC·KC·NC)` multiply-adds. The packing buffers
//! live in thread-locals and are reused from call to call (taken out while in use, so a product
//! started by rayon's work stealing inside another on the same thread gets its own).
//!
//! **Edge tiles**: blocks at the right and bottom edges are padded with zeros when packed, so the
//! kernel always computes a whole `MR×NR` tile (a padded row or column only feeds its own row or
//! column of the tile), and stores only its valid corner (through a scratch
//! tile, so the arithmetic is identical to that of a whole tile).
//!
//! **alpha and beta** are applied once, when the kernel stores its tile: `C = alpha·AB + beta·C`
//! for the first depth block and `C = alpha·AB + C` for the others. `beta == 0` never reads `C`.
//!
//! ## Threads
//! One parallel region per product: `C` is cut into as many blocks as rayon has threads — bands
//! of columns, or of rows when `C` is taller than wide — of (nearly) equal numbers of tiles, and
//! each thread runs the whole loop nest above on its block, packing its own `B` and `A` (see
//! `parts` in `split.rs` for which side is cut and why). No thread waits for another before the
//! end of the product. Sharing one packed `B` among the threads and handing out `MC` row blocks
//! as tasks instead would cost two joins per depth block, and row blocks of unequal sizes split
//! between threads would leave one of them idle at the end of each block.
//!
//! The blocks only decide *who* computes a tile, never *how*: every element of `C` goes through
//! the same kernel calls in the same order (the depth blocks depend on `k` alone), so the result is
//! **bit for bit the same on any number of threads**. Products under [`PARALLEL_MIN_MACS`]
//! multiply-adds stay on the calling thread.
//!
//! ## One row or one column: no packing
//! When `m == 1` or `n == 1` (batch-1 inference, a single sample's backward) every element of the
//! matrix is used once, so packing would only copy it; `gemv/` computes such products straight
//! from the operands, with the same sums in the same order as the kernels (see there).

mod gemv;
mod kernel;
mod nest;
mod pack;
mod split;

pub use gemv::GEMV_PARALLEL_MIN_MACS;

use crate::layout::{product_sizes, MatMut, MatRef, Scale};
use crate::simd::{self, Level};
use kernel::MicroKernel;
use split::run;

/// Products smaller than this many multiply-adds stay on the calling thread: below it, handing
/// tasks to rayon costs more than it saves.
pub const PARALLEL_MIN_MACS: usize = 1 << 20;

/// The block sizes and the micro-kernel of one SIMD level (see the module doc for why).
#[derive(Clone, Copy)]
struct Blocking {
    level: Level,
    mr: usize,
    nr: usize,
    mc: usize,
    kc: usize,
    nc: usize,
    kernel: MicroKernel,
}

/// The blocking of `level`. `MC` is a multiple of `MR`, `NC` of `NR`.
fn blocking(level: Level) -> Blocking {
    match level {
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => Blocking {
            level,
            mr: kernel::avx2::MR,
            nr: kernel::avx2::NR,
            mc: 144,
            kc: 256,
            nc: 3072,
            kernel: kernel::avx2::kernel,
        },
        // B micro-panel 192×32 floats = 24 KiB of the 48 KiB L1 of AVX-512 cores; A block
        // 168×192 = 126 KiB of a 1–2 MiB L2.
        #[cfg(target_arch = "x86_64")]
        Level::Avx512 => Blocking {
            level,
            mr: kernel::avx512::MR,
            nr: kernel::avx512::NR,
            mc: 168,
            kc: 192,
            nc: 3072,
            kernel: kernel::avx512::kernel,
        },
        // B micro-panel 256×12 floats = 12 KiB; A block 128×256 = 128 KiB.
        #[cfg(target_arch = "aarch64")]
        Level::Neon => Blocking {
            level,
            mr: kernel::neon::MR,
            nr: kernel::neon::NR,
            mc: 128,
            kc: 256,
            nc: 3072,
            kernel: kernel::neon::kernel,
        },
        _ => Blocking {
            level,
            mr: kernel::scalar::MR,
            nr: kernel::scalar::NR,
            mc: 128,
            kc: 256,
            nc: 3072,
            kernel: kernel::scalar::kernel,
        },
    }
}

impl Blocking {
    /// The blocks of depth of a product of depth `k`: equal in size, at most `KC` (with `KC = 256`,
    /// `k = 784` is 4 × 196 rather than 256 + 256 + 256 + 16 — the same `⌈k/KC⌉` passes over `C`,
    /// but none of them, with its loads and stores of every tile, for only 16 steps of `k`). They
    /// depend on `k` alone — never on `m`, `n`, the threads or the path (packed or `gemv`) — and
    /// they decide the order of every sum, so each element of `C` gets the same bits whichever
    /// path computes it.
    fn depth_blocks(&self, k: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
        let kc = k.div_ceil(k.div_ceil(self.kc).max(1)).max(1);
        (0..k).step_by(kc).map(move |pc| pc..(pc + kc).min(k))
    }
}

/// The scale of the store of the depth block starting at `start`: the caller's for the first block,
/// then `beta = 1` (each later block adds onto what the earlier ones stored).
fn scale_at(scale: Scale, start: usize) -> Scale {
    if start == 0 {
        scale
    } else {
        Scale {
            alpha: scale.alpha,
            beta: 1.0,
        }
    }
}

/// The register tile `(MR, NR)` of `level`'s micro-kernel (for tests that aim at edge tiles).
pub fn tile(level: Level) -> (usize, usize) {
    let b = blocking(level);
    (b.mr, b.nr)
}

/// The largest depth `KC` of `level`'s blocks of `k`: `k ≤ KC` is one block, `KC + 1` two (for tests
/// that aim at the block edges).
pub fn depth_block(level: Level) -> usize {
    blocking(level).kc
}

/// `C = alpha · op(A) · op(B) + beta · C` on the SIMD level of [`simd::level()`].
///
/// The layout contract is [`crate::layout`]'s, the same as [`crate::matmul::sgemm`]'s: `op(A)` is
/// `a`, `m×k`; `op(B)` is `b`, `k×n`; `C` is `c`, `m×n`, all row-major, `a` and `b` stored as is or
/// transposed. With `scale.beta == 0`, `C` is only written (old contents, even NaN, ignored); with
/// `beta == 1` the product is added in. Large products run on rayon's threads (see the module doc).
///
/// The definition, as plain loops: [`reference::gemm`](crate::reference::gemm).
#[track_caller]
pub fn sgemm(a: MatRef, b: MatRef, scale: Scale, c: MatMut) {
    sgemm_with(simd::level(), a, b, scale, c);
}

/// [`sgemm`] with the micro-kernel of an explicit level, which must be available on this CPU.
///
/// The definition, as plain loops: [`reference::gemm`](crate::reference::gemm).
#[track_caller]
pub fn sgemm_with(level: Level, a: MatRef, b: MatRef, scale: Scale, c: MatMut) {
    assert!(
        level.is_available(),
        "gemm::sgemm_with: level {level:?} is not available on this CPU (available: {:?})",
        simd::available_levels()
    );
    let (m, k, n) = product_sizes("sgemm", &a, &b, Some(&c));
    if m == 0 || n == 0 {
        return;
    }
    let Scale { alpha, beta } = scale;
    if k == 0 {
        // An empty sum: op(A)·op(B) is the zero matrix, so C = beta·C.
        for x in c.data.iter_mut() {
            *x = if beta == 0.0 { 0.0 } else { beta * *x };
        }
        return;
    }
    if m == 1 || n == 1 {
        // One row or column of C: a matrix–vector product, no packing (see gemv/).
        gemv::gemv(&blocking(level), a, b, scale, c.data);
        return;
    }
    // SAFETY: c holds m·n initialised floats (product_sizes) and is borrowed mutably here.
    unsafe {
        run(
            &blocking(level),
            &Operands::new(a, b),
            alpha,
            Start::Scaled(beta),
            c.data.as_mut_ptr(),
            threads_for(m, k, n),
        )
    };
}

/// A new `m×n` matrix `alpha · op(A) · op(B)`, plus `bias` (`n` values) added to every row when
/// given: the product of a layer's forward pass, written into memory that nothing has touched.
///
/// The same numbers, bit for bit, as filling a buffer with zeros (or with `bias` on every row) and
/// calling [`sgemm_with`] with `beta = 0` (or `1`), but without that first pass over `C`: each
/// thread writes the bias rows of its own band of `C` (or nothing: with `beta = 0` the kernels
/// only store) right before computing it. Besides the pass itself, that saves moving cache lines
/// between cores: a buffer zeroed in row chunks by rayon and then computed in bands of columns has
/// half of each thread's band in the other core's cache.
///
/// The definition, as plain loops: [`reference::gemm`](crate::reference::gemm).
#[track_caller]
pub fn sgemm_new(level: Level, a: MatRef, b: MatRef, alpha: f32, bias: Option<&[f32]>) -> Vec<f32> {
    assert!(
        level.is_available(),
        "gemm::sgemm_new: level {level:?} is not available on this CPU (available: {:?})",
        simd::available_levels()
    );
    let (m, k, n) = product_sizes("sgemm", &a, &b, None);
    if let Some(bias) = bias {
        assert_eq!(
            bias.len(),
            n,
            "gemm::sgemm_new: the bias holds {} values but the product has n={n} columns",
            bias.len()
        );
    }
    if m == 0 || n == 0 || k == 0 || m == 1 || n == 1 {
        // No packed loop nest (see sgemm_with): fill, then the general entry.
        let mut c = match bias {
            Some(bias) => bias.repeat(m),
            None => vec![0.0; m * n],
        };
        let beta = if bias.is_some() { 1.0 } else { 0.0 };
        sgemm_with(
            level,
            a,
            b,
            Scale { alpha, beta },
            MatMut::new(&mut c, m, n),
        );
        return c;
    }
    let mut c = Vec::with_capacity(m * n);
    let start = match bias {
        Some(bias) => Start::Bias(bias),
        None => Start::Uninit,
    };
    // SAFETY: c's capacity is m·n floats, owned here; with Uninit or Bias, run writes every
    // element before reading it.
    unsafe {
        run(
            &blocking(level),
            &Operands::new(a, b),
            alpha,
            start,
            c.as_mut_ptr(),
            threads_for(m, k, n),
        )
    };
    // SAFETY: the capacity is m·n and `run` wrote every element of C: each part's first depth block
    // stores all of its tiles (see `Start`).
    unsafe { c.set_len(m * n) };
    c
}

/// Rayon's threads for a product of `m·k·n` multiply-adds, or 1 below [`PARALLEL_MIN_MACS`].
fn threads_for(m: usize, k: usize, n: usize) -> usize {
    if m * k * n >= PARALLEL_MIN_MACS {
        rayon::current_num_threads()
    } else {
        1
    }
}

/// What `C` holds before the product, and so what its first depth block does with it.
#[derive(Clone, Copy)]
enum Start<'a> {
    /// The caller's values: `C = alpha·AB + beta·C` (`C` never read when `beta == 0`).
    Scaled(f32),
    /// Nothing yet (uninitialised memory): `C = alpha·AB`, stored without being read.
    Uninit,
    /// Nothing yet: each part first writes `bias` on every one of its rows, then `C = alpha·AB +
    /// C`.
    Bias(&'a [f32]),
}

/// The two input matrices of a checked product, with their sizes and the strides (row, column)
/// of `op(A)` (`m×k`) and `op(B)` (`k×n`) in their stored buffers.
struct Operands<'a> {
    m: usize,
    k: usize,
    n: usize,
    a: &'a [f32],
    a_strides: (usize, usize),
    b: &'a [f32],
    b_strides: (usize, usize),
}

impl<'a> Operands<'a> {
    fn new(a: MatRef<'a>, b: MatRef<'a>) -> Self {
        Operands {
            m: a.rows,
            k: a.cols,
            n: b.cols,
            a: a.data,
            a_strides: a.strides(),
            b: b.data,
            b_strides: b.strides(),
        }
    }
}
