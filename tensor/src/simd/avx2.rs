//! AVX2 + FMA kernels: 8 lanes of `f32` per 256-bit register.
//!
//! Every function is `unsafe` because of `#[target_feature]`: the caller (the dispatcher in
//! `simd/mod.rs`) must have checked that the CPU has AVX2 and FMA, and that the slices passed
//! together have equal lengths. Memory is touched through `chunks_exact` pieces, so every unaligned
//! load and store is in bounds by construction. Tails (the last `len % 8`
//! elements) go through the scalar reference, except in `exp`, where they are padded into one
//! vector so that every element is computed by the same formula whatever its position.

use std::arch::x86_64::*;

use super::{pairwise_split, scalar, SUM_BLOCK};

const LANES: usize = 8;

/// `sum` and `dot` add up blocks of this many elements plainly, in four vector accumulators: each
/// lane of each accumulator then sums `SUM_BLOCK / 4` elements, no more than the scalar path's chains.
const BLOCK: usize = SUM_BLOCK * LANES;

/// Defines an elementwise kernel `out = op(a, b)` from a vector expression and its scalar reference.
macro_rules! binary {
    ($name:ident, |$x:ident, $y:ident| $body:expr) => {
        #[target_feature(enable = "avx2,fma")]
        pub unsafe fn $name(a: &[f32], b: &[f32], out: &mut [f32]) {
            let mut o_chunks = out.chunks_exact_mut(LANES);
            let mut a_chunks = a.chunks_exact(LANES);
            let mut b_chunks = b.chunks_exact(LANES);
            for ((o, ca), cb) in (&mut o_chunks).zip(&mut a_chunks).zip(&mut b_chunks) {
                let $x = _mm256_loadu_ps(ca.as_ptr());
                let $y = _mm256_loadu_ps(cb.as_ptr());
                _mm256_storeu_ps(o.as_mut_ptr(), $body);
            }
            scalar::$name(
                a_chunks.remainder(),
                b_chunks.remainder(),
                o_chunks.into_remainder(),
            );
        }
    };
}

binary!(add, |x, y| _mm256_add_ps(x, y));
binary!(sub, |x, y| _mm256_sub_ps(x, y));
binary!(mul, |x, y| _mm256_mul_ps(x, y));
binary!(div, |x, y| _mm256_div_ps(x, y));
// `vmaxps(x, y)` is `x > y ? x : y`, so it already gives NaN when y is NaN; where x is NaN, x is
// blended back in. This is exactly `scalar::max_propagating_nan`, signed zeros included.
binary!(maximum, |x, y| _mm256_blendv_ps(
    _mm256_max_ps(x, y),
    x,
    _mm256_cmp_ps::<_CMP_UNORD_Q>(x, x)
));

/// Defines a kernel `out = op(a, s)` with a scalar operand broadcast to every lane.
macro_rules! with_scalar {
    ($name:ident, $op:ident) => {
        #[target_feature(enable = "avx2,fma")]
        pub unsafe fn $name(a: &[f32], s: f32, out: &mut [f32]) {
            let sv = _mm256_set1_ps(s);
            let mut o_chunks = out.chunks_exact_mut(LANES);
            let mut a_chunks = a.chunks_exact(LANES);
            for (o, ca) in (&mut o_chunks).zip(&mut a_chunks) {
                _mm256_storeu_ps(o.as_mut_ptr(), $op(_mm256_loadu_ps(ca.as_ptr()), sv));
            }
            scalar::$name(a_chunks.remainder(), s, o_chunks.into_remainder());
        }
    };
}

with_scalar!(add_scalar, _mm256_add_ps);
with_scalar!(mul_scalar, _mm256_mul_ps);

#[target_feature(enable = "avx2,fma")]
pub unsafe fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    let av = _mm256_set1_ps(alpha);
    let mut y_chunks = y.chunks_exact_mut(LANES);
    let mut x_chunks = x.chunks_exact(LANES);
    for (cy, cx) in (&mut y_chunks).zip(&mut x_chunks) {
        let v = _mm256_fmadd_ps(
            av,
            _mm256_loadu_ps(cx.as_ptr()),
            _mm256_loadu_ps(cy.as_ptr()),
        );
        _mm256_storeu_ps(cy.as_mut_ptr(), v);
    }
    scalar::axpy(alpha, x_chunks.remainder(), y_chunks.into_remainder());
}

#[target_feature(enable = "avx2,fma")]
pub unsafe fn relu(a: &[f32], out: &mut [f32]) {
    // `vmaxps(0, x)` is `0 > x ? 0 : x`: NaN and −0 pass through, as in `scalar::relu`.
    let zero = _mm256_setzero_ps();
    let mut o_chunks = out.chunks_exact_mut(LANES);
    let mut a_chunks = a.chunks_exact(LANES);
    for (o, ca) in (&mut o_chunks).zip(&mut a_chunks) {
        _mm256_storeu_ps(
            o.as_mut_ptr(),
            _mm256_max_ps(zero, _mm256_loadu_ps(ca.as_ptr())),
        );
    }
    scalar::relu(a_chunks.remainder(), o_chunks.into_remainder());
}

// ----- exp ---------------------------------------------------------------------------------------

/// Inputs are clamped to `[EXP_LO, EXP_HI]` before the range reduction. Above 88.72 (= ln of the
/// largest f32) the result overflows to +∞ anyway, and 89 keeps `n ≤ 128`; below −103.97 the true
/// result is under half the smallest subnormal and rounds to 0, and −104 keeps `n ≥ −150`.
pub(super) const EXP_LO: f32 = -104.0;
pub(super) const EXP_HI: f32 = 89.0;
pub(super) const LOG2_E: f32 = std::f32::consts::LOG2_E;
/// ln 2 split in two (Cody and Waite): `LN2_HI` has only 9 significant bits, so `n·LN2_HI` is exact
/// for `|n| ≤ 2^15` and `x − n·LN2_HI` loses nothing; `LN2_LO` carries the rest of ln 2.
pub(super) const LN2_HI: f32 = 0.693_359_4;
pub(super) const LN2_LO: f32 = -2.121_944_4e-4;
/// Minimax coefficients for `(e^r − 1 − r)/r²` on `|r| ≤ ln2/2`, from Cephes' `expf` (S. Moshier),
/// highest power first: `e^r ≈ 1 + r + r²·P(r)`, relative error about 1e-7 before rounding.
pub(super) const EXP_POLY: [f32; 6] = [
    1.987_569_1e-4,
    1.398_199_9e-3,
    8.333_452e-3,
    4.166_579_6e-2,
    1.666_666_5e-1,
    0.5, // Cephes writes 5.0000001201e-1, which is 0.5 in f32
];

/// `e^x` for 8 lanes.
///
/// 1. Range reduction: `x = n·ln2 + r` with `n = round(x·log₂e)`, so `|r| ≤ ln2/2 ≈ 0.347`.
/// 2. `e^r ≈ 1 + r + r²·P(r)` with the degree-5 polynomial `P` above (Horner, fused).
/// 3. `e^x = e^r · 2^n`, with `2^n` built directly as float bits `(n + 127) << 23`. Since `n` runs
///    from −150 to 128 and a normal float's exponent only from −126 to 127, `2^n` is applied as two
///    halves `2^(n/2) · 2^(n − n/2)`, each normal; the first product is exact and the second rounds
///    once, correctly into the subnormal range at the bottom and to +∞ at the top.
///
/// NaN survives the clamp (`vminps(HI, x)` returns its second operand, x, when either is NaN) and
/// every step after it.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn exp8(x: __m256) -> __m256 {
    let x = _mm256_max_ps(
        _mm256_set1_ps(EXP_LO),
        _mm256_min_ps(_mm256_set1_ps(EXP_HI), x),
    );
    let n = _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(_mm256_mul_ps(
        x,
        _mm256_set1_ps(LOG2_E),
    ));
    let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(LN2_HI), x);
    let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(LN2_LO), r);

    let mut p = _mm256_set1_ps(EXP_POLY[0]);
    for &c in &EXP_POLY[1..] {
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c));
    }
    let r2 = _mm256_mul_ps(r, r);
    let e_r = _mm256_add_ps(_mm256_fmadd_ps(p, r2, r), _mm256_set1_ps(1.0));

    let n = _mm256_cvtps_epi32(n);
    let n1 = _mm256_srai_epi32::<1>(n);
    let n2 = _mm256_sub_epi32(n, n1);
    let bias = _mm256_set1_epi32(127);
    let pow1 = _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_add_epi32(n1, bias)));
    let pow2 = _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_add_epi32(n2, bias)));
    _mm256_mul_ps(_mm256_mul_ps(e_r, pow1), pow2)
}

#[target_feature(enable = "avx2,fma")]
pub unsafe fn exp(a: &[f32], out: &mut [f32]) {
    let mut o_chunks = out.chunks_exact_mut(LANES);
    let mut a_chunks = a.chunks_exact(LANES);
    for (o, ca) in (&mut o_chunks).zip(&mut a_chunks) {
        _mm256_storeu_ps(o.as_mut_ptr(), exp8(_mm256_loadu_ps(ca.as_ptr())));
    }
    let tail_in = a_chunks.remainder();
    if !tail_in.is_empty() {
        let mut buf = [0.0f32; LANES];
        buf[..tail_in.len()].copy_from_slice(tail_in);
        let v = exp8(_mm256_loadu_ps(buf.as_ptr()));
        _mm256_storeu_ps(buf.as_mut_ptr(), v);
        let tail_out = o_chunks.into_remainder();
        tail_out.copy_from_slice(&buf[..tail_out.len()]);
    }
}

// ----- reductions ----------------------------------------------------------------------------------

/// The sum of the 8 lanes, added as a tree (4 + 4, 2 + 2, 1 + 1).
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn hsum(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_shuffle_ps::<1>(s, s));
    _mm_cvtss_f32(s)
}

/// The largest of the 8 lanes (no NaN among them: `max` tracks NaN separately).
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn hmax(v: __m256) -> f32 {
    let s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_max_ss(s, _mm_shuffle_ps::<1>(s, s));
    _mm_cvtss_f32(s)
}

#[target_feature(enable = "avx2,fma")]
pub unsafe fn sum(a: &[f32]) -> f32 {
    if a.len() <= BLOCK {
        return sum_block(a);
    }
    let (left, right) = a.split_at(pairwise_split(a.len(), BLOCK));
    sum(left) + sum(right)
}

/// One block, plainly: four independent accumulators (so four additions are in flight at once,
/// hiding the add latency), then whole vectors into the first, then the scalar tail.
#[target_feature(enable = "avx2,fma")]
unsafe fn sum_block(a: &[f32]) -> f32 {
    let mut acc = [_mm256_setzero_ps(); 4];
    let mut quads = a.chunks_exact(4 * LANES);
    for q in &mut quads {
        for (k, acc) in acc.iter_mut().enumerate() {
            *acc = _mm256_add_ps(*acc, _mm256_loadu_ps(q.as_ptr().add(k * LANES)));
        }
    }
    let mut singles = quads.remainder().chunks_exact(LANES);
    for c in &mut singles {
        acc[0] = _mm256_add_ps(acc[0], _mm256_loadu_ps(c.as_ptr()));
    }
    let v = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
    hsum(v) + scalar::sum(singles.remainder())
}

#[target_feature(enable = "avx2,fma")]
pub unsafe fn dot(a: &[f32], b: &[f32]) -> f32 {
    if a.len() <= BLOCK {
        return dot_block(a, b);
    }
    let mid = pairwise_split(a.len(), BLOCK);
    dot(&a[..mid], &b[..mid]) + dot(&a[mid..], &b[mid..])
}

/// Like `sum_block`, with a fused multiply-add per element.
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_block(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [_mm256_setzero_ps(); 4];
    let mut qa = a.chunks_exact(4 * LANES);
    let mut qb = b.chunks_exact(4 * LANES);
    for (x, y) in (&mut qa).zip(&mut qb) {
        for (k, acc) in acc.iter_mut().enumerate() {
            *acc = _mm256_fmadd_ps(
                _mm256_loadu_ps(x.as_ptr().add(k * LANES)),
                _mm256_loadu_ps(y.as_ptr().add(k * LANES)),
                *acc,
            );
        }
    }
    let mut sa = qa.remainder().chunks_exact(LANES);
    let mut sb = qb.remainder().chunks_exact(LANES);
    for (x, y) in (&mut sa).zip(&mut sb) {
        acc[0] = _mm256_fmadd_ps(
            _mm256_loadu_ps(x.as_ptr()),
            _mm256_loadu_ps(y.as_ptr()),
            acc[0],
        );
    }
    let v = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
    hsum(v) + scalar::dot(sa.remainder(), sb.remainder())
}

#[target_feature(enable = "avx2,fma")]
pub unsafe fn max(a: &[f32]) -> f32 {
    // The running maximum ignores NaN lanes (`vmaxps(acc, x)` keeps x, even when it is NaN, but a
    // later element would overwrite it); a separate mask remembers whether any NaN was seen.
    let mut acc = [_mm256_set1_ps(f32::NEG_INFINITY); 4];
    let mut nan = _mm256_setzero_ps();
    let mut quads = a.chunks_exact(4 * LANES);
    for q in &mut quads {
        for (k, acc) in acc.iter_mut().enumerate() {
            let x = _mm256_loadu_ps(q.as_ptr().add(k * LANES));
            nan = _mm256_or_ps(nan, _mm256_cmp_ps::<_CMP_UNORD_Q>(x, x));
            *acc = _mm256_max_ps(*acc, x);
        }
    }
    let mut singles = quads.remainder().chunks_exact(LANES);
    for c in &mut singles {
        let x = _mm256_loadu_ps(c.as_ptr());
        nan = _mm256_or_ps(nan, _mm256_cmp_ps::<_CMP_UNORD_Q>(x, x));
        acc[0] = _mm256_max_ps(acc[0], x);
    }
    if _mm256_movemask_ps(nan) != 0 {
        return f32::NAN;
    }
    let v = _mm256_max_ps(_mm256_max_ps(acc[0], acc[1]), _mm256_max_ps(acc[2], acc[3]));
    let tail = scalar::max(singles.remainder());
    if tail.is_nan() {
        return tail;
    }
    hmax(v).max(tail)
}
