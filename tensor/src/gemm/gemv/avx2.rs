//! The two forms of `gemv/mod.rs` on AVX2 + FMA, with the micro-kernels' rounding: each step of a
//! sum is one fused multiply-add, and the tails that do not fill a vector use the scalar fused
//! multiply-add (`f32::mul_add`, one `vfmadd…ss` here), which rounds the same.
//!
//! Every function is `unsafe` because of `#[target_feature]`: the CPU must have AVX2 and FMA (the
//! AVX-512 level runs these too, see the parent module). Slices are indexed with bounds checks,
//! except for the loads of [`rows`], whose offsets are derived from the lengths checked there.

use std::arch::x86_64::*;
use std::ops::Range;

use crate::layout::Scale;

const LANES: usize = 8;

/// Groups of 8 rows taken side by side by [`rows`]: each group's 8 sums form one chain of FMAs
/// (one per step `p`, each waiting on the last), so a single group would wait on the FMA latency
/// at every step; eight independent chains keep the FMA units fed (the eight accumulators and a
/// broadcast fit in the 16 `ymm` registers).
const GROUPS: usize = 8;

/// Columns [`groups`] transposes before summing them: a multiple of 4; `GROUPS · 8` rows of them
/// (8 KiB) stay in L1 between the two passes.
const CHUNK: usize = 32;

/// The rows form over one depth block: for every row `j` of `matrix` (`y.len()` rows of `k`
/// floats), `acc = Σ_{p ∈ depth} M[j,p]·v[p]` term by term in order, then
/// `y[j] = alpha·acc + beta·y[j]` with `scale`'s alpha and beta (`y` unread when `beta == 0`).
///
/// # Safety
/// The CPU must have AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn rows(
    matrix: &[f32],
    k: usize,
    v: &[f32],
    depth: Range<usize>,
    scale: Scale,
    y: &mut [f32],
) {
    let Scale { alpha, beta } = scale;
    assert!(matrix.len() == y.len() * k && v.len() == k && depth.end <= k);
    let v = &v[depth.clone()];
    let mut done = 0;
    // GROUPS groups of 8 rows at a time, then single groups of 8.
    while done + GROUPS * LANES <= y.len() {
        // SAFETY: rows done..done + GROUPS·8 exist, each of k floats, and depth lies in 0..k.
        let acc = unsafe { groups::<GROUPS>(matrix.as_ptr().add(done * k + depth.start), k, v) };
        for (g, acc) in acc.into_iter().enumerate() {
            store8(alpha, acc, beta, &mut y[done + g * LANES..][..LANES]);
        }
        done += GROUPS * LANES;
    }
    while done + LANES <= y.len() {
        // SAFETY: as above, for rows done..done + 8.
        let [acc] = unsafe { groups::<1>(matrix.as_ptr().add(done * k + depth.start), k, v) };
        store8(alpha, acc, beta, &mut y[done..][..LANES]);
        done += LANES;
    }
    if done < y.len() {
        // The last 1…7 rows: copied into a group of 8 whose other rows are zeros, so that they go
        // through the very same instructions as any other row (their lanes are then dropped).
        let rest = y.len() - done;
        let mut tile = vec![0.0f32; LANES * v.len()];
        for (r, row) in matrix[done * k..].chunks_exact(k).enumerate() {
            tile[r * v.len()..(r + 1) * v.len()].copy_from_slice(&row[depth.clone()]);
        }
        // SAFETY: tile holds 8 rows of v.len() floats.
        let [acc] = unsafe { groups::<1>(tile.as_ptr(), v.len(), v) };
        let mut lanes = [0.0f32; LANES];
        for (lane, out) in lanes.iter_mut().zip(&y[done..]) {
            *lane = *out; // read only by store8 when beta ≠ 0
        }
        store8(alpha, acc, beta, &mut lanes);
        y[done..].copy_from_slice(&lanes[..rest]);
    }
}

/// `G` groups of 8 rows starting at `tile` (row stride `ld`), over the columns `0..v.len()`: the
/// 8 sums of each group in the lanes of one register, `acc[lane r] = Σ_p tile[r·ld + p]·v[p]`,
/// term by term in order of `p`.
///
/// The columns go by chunks of [`CHUNK`]. First each group's `8 × CHUNK` block is transposed into
/// `columns`, four columns at a time ([`columns4`]): entry `q` of it holds column `q` of every
/// group, 8 rows per group. Then one pass over `columns` multiplies column `q` by `v[q]` and adds it
/// into each group's accumulator. Two passes because the two want different loop orders: the
/// transposition walks one group's 8 rows at a time (8 row pointers, which stay in registers),
/// while the sums need all `G` groups' chains side by side (each FMA waits on the one before in
/// its chain).
///
/// # Safety
/// `tile` must address `8·G` rows of `ld ≥ v.len()` floats; the CPU must have AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
unsafe fn groups<const G: usize>(tile: *const f32, ld: usize, v: &[f32]) -> [__m256; G] {
    let mut acc = [_mm256_setzero_ps(); G];
    let mut columns = [[_mm256_setzero_ps(); G]; CHUNK];
    let whole = v.len() - v.len() % 4;
    for start in (0..whole).step_by(CHUNK) {
        let width = CHUNK.min(whole - start);
        // (`g` picks both a group of rows and its slot in every entry of `columns`.)
        #[allow(clippy::needless_range_loop)]
        for g in 0..G {
            for q in (0..width).step_by(4) {
                // SAFETY: rows g·8..g·8+8 exist and columns start+q..start+q+4 lie in 0..v.len().
                let c = unsafe { columns4(tile.add(g * LANES * ld + start + q), ld) };
                for (t, c) in c.into_iter().enumerate() {
                    columns[q + t][g] = c;
                }
            }
        }
        for (column, &vq) in columns[..width].iter().zip(&v[start..]) {
            let b = _mm256_set1_ps(vq);
            for (acc, &c) in acc.iter_mut().zip(column) {
                *acc = _mm256_fmadd_ps(c, b, *acc);
            }
        }
    }
    // The last 1…3 steps: each column gathered from the rows one float at a time.
    for (p, &vp) in v.iter().enumerate().skip(whole) {
        let b = _mm256_set1_ps(vp);
        for (g, acc) in acc.iter_mut().enumerate() {
            let mut column = [0.0f32; LANES];
            for (r, x) in column.iter_mut().enumerate() {
                // SAFETY: row g·8 + r exists and p < v.len() ≤ ld.
                *x = unsafe { *tile.add((g * LANES + r) * ld + p) };
            }
            // SAFETY: column holds 8 floats.
            *acc = _mm256_fmadd_ps(unsafe { _mm256_loadu_ps(column.as_ptr()) }, b, *acc);
        }
    }
    acc
}

/// The 4 columns of the `8×4` block at `block` (row stride `ld`): lane `r` of column `t` is
/// `block[r·ld + t]`.
///
/// Rows `r` and `r + 4` are loaded as the two 128-bit halves of one register (the load does the
/// move across halves for free); then each half is an ordinary `4×4` transpose (two rounds of
/// unpack/shuffle), which never crosses halves: 8 shuffles for 32 floats.
///
/// # Safety
/// The 8 rows of 4 floats must be readable; the CPU must have AVX2.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn columns4(block: *const f32, ld: usize) -> [__m256; 4] {
    // SAFETY: every load reads 4 floats at the start of one of the 8 rows.
    let pair = |r: usize| unsafe {
        let low = _mm_loadu_ps(block.add(r * ld));
        let high = _mm_loadu_ps(block.add((r + 4) * ld));
        _mm256_insertf128_ps::<1>(_mm256_castps128_ps256(low), high)
    };
    // Per half: rows (0, 1, 2, 3) | (4, 5, 6, 7) at columns 0..4.
    let (t0, t1, t2, t3) = (pair(0), pair(1), pair(2), pair(3));
    let a0 = _mm256_unpacklo_ps(t0, t1); // r0c0 r1c0 r0c1 r1c1 | r4c0 r5c0 r4c1 r5c1
    let a1 = _mm256_unpackhi_ps(t0, t1); // r0c2 r1c2 r0c3 r1c3 | r4c2 r5c2 r4c3 r5c3
    let a2 = _mm256_unpacklo_ps(t2, t3); // r2c0 r3c0 r2c1 r3c1 | r6c0 r7c0 r6c1 r7c1
    let a3 = _mm256_unpackhi_ps(t2, t3); // r2c2 r3c2 r2c3 r3c3 | r6c2 r7c2 r6c3 r7c3
    [
        _mm256_shuffle_ps::<0b01_00_01_00>(a0, a2), // r0c0 r1c0 r2c0 r3c0 | r4c0 … r7c0
        _mm256_shuffle_ps::<0b11_10_11_10>(a0, a2), // column 1
        _mm256_shuffle_ps::<0b01_00_01_00>(a1, a3), // column 2
        _mm256_shuffle_ps::<0b11_10_11_10>(a1, a3), // column 3
    ]
}

/// The columns form's sums over one depth block: `acc[j] = acc[j] + v[p]·M[p, cols][j]` for each
/// `p` in `depth`, in order (`matrix` holds rows of `len` floats).
///
/// Four steps of `p` per pass over `acc`, each element's four FMAs in order of `p`: `acc` is
/// loaded and stored once per four rows of `M` instead of once per row.
///
/// # Safety
/// The CPU must have AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn columns(
    matrix: &[f32],
    len: usize,
    cols: Range<usize>,
    v: &[f32],
    depth: Range<usize>,
    acc: &mut [f32],
) {
    const STEPS: usize = 4;
    let width = acc.len();
    let body = width - width % LANES;
    let row = |p: usize| &matrix[p * len..][cols.clone()];
    let mut p = depth.start;
    while p + STEPS <= depth.end {
        let rows: [&[f32]; STEPS] = std::array::from_fn(|s| row(p + s));
        let vp: [__m256; STEPS] = std::array::from_fn(|s| _mm256_set1_ps(v[p + s]));
        for j in (0..body).step_by(LANES) {
            // SAFETY: j + 8 ≤ body ≤ width, and acc and every row hold width floats.
            unsafe {
                let mut a = _mm256_loadu_ps(acc.as_ptr().add(j));
                for (row, vp) in rows.iter().zip(vp) {
                    a = _mm256_fmadd_ps(vp, _mm256_loadu_ps(row.as_ptr().add(j)), a);
                }
                _mm256_storeu_ps(acc.as_mut_ptr().add(j), a);
            }
        }
        for (j, acc) in acc.iter_mut().enumerate().skip(body) {
            for (row, s) in rows.iter().zip(0..) {
                *acc = v[p + s].mul_add(row[j], *acc);
            }
        }
        p += STEPS;
    }
    for (p, &vp) in v.iter().enumerate().take(depth.end).skip(p) {
        let row = row(p);
        for (j, acc) in acc.iter_mut().enumerate() {
            *acc = vp.mul_add(row[j], *acc);
        }
    }
}

/// `y[j] = alpha·acc[j] + beta·y[j]` with `scale`'s alpha and beta, as the micro-kernels store (`y`
/// unread when `beta == 0`).
///
/// # Safety
/// The CPU must have AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn store(scale: Scale, acc: &[f32], y: &mut [f32]) {
    let Scale { alpha, beta } = scale;
    let mut outs = y.chunks_exact_mut(LANES);
    let mut accs = acc.chunks_exact(LANES);
    for (outs, acc) in (&mut outs).zip(&mut accs) {
        // SAFETY: acc holds 8 floats.
        store8(alpha, unsafe { _mm256_loadu_ps(acc.as_ptr()) }, beta, outs);
    }
    for (out, &acc) in outs.into_remainder().iter_mut().zip(accs.remainder()) {
        *out = store1(alpha, acc, beta, *out);
    }
}

/// `outs = alpha·acc + beta·outs` on 8 floats, exactly as the micro-kernels' `store`.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn store8(alpha: f32, acc: __m256, beta: f32, outs: &mut [f32]) {
    assert_eq!(outs.len(), LANES);
    // SAFETY: outs holds 8 floats.
    unsafe {
        let va = _mm256_set1_ps(alpha);
        let result = if beta == 0.0 {
            _mm256_mul_ps(va, acc)
        } else {
            let old = _mm256_mul_ps(_mm256_set1_ps(beta), _mm256_loadu_ps(outs.as_ptr()));
            _mm256_fmadd_ps(va, acc, old)
        };
        _mm256_storeu_ps(outs.as_mut_ptr(), result);
    }
}

/// One float of [`store8`], rounded alike.
#[inline(always)]
fn store1(alpha: f32, acc: f32, beta: f32, old: f32) -> f32 {
    if beta == 0.0 {
        alpha * acc
    } else {
        alpha.mul_add(acc, beta * old)
    }
}
