//! NEON (Advanced SIMD) kernels for aarch64: 4 lanes of `f32` per 128-bit register.
//!
//! The same algorithms as `avx2.rs` (read that file first), with two NEON-specific points:
//! - NEON's `fmax` treats −0 < +0 and returns a default NaN, unlike x86's `maxps` (`x > y ? x : y`).
//!   So that every level agrees bit for bit, `maximum` and `relu` are written as that compare and
//!   select, not with `vmaxq_f32`.
//! - `fmin`/`fmax` propagate NaN, so the clamp in `exp` keeps NaN, as on x86.
//!
//! Every function is `unsafe` only because of `#[target_feature]`: the caller must have checked
//! that the slices passed together have equal lengths. Compiled on aarch64 only; not exercised by
//! the x86-64 test machine.

use std::arch::aarch64::*;

use super::{pairwise_split, scalar, SUM_BLOCK};

const LANES: usize = 4;

/// Blocks summed plainly by `sum` and `dot`; see `avx2::BLOCK`.
const BLOCK: usize = SUM_BLOCK * LANES;

macro_rules! binary {
    ($name:ident, |$x:ident, $y:ident| $body:expr) => {
        #[target_feature(enable = "neon")]
        pub unsafe fn $name(a: &[f32], b: &[f32], out: &mut [f32]) {
            let mut o_chunks = out.chunks_exact_mut(LANES);
            let mut a_chunks = a.chunks_exact(LANES);
            let mut b_chunks = b.chunks_exact(LANES);
            for ((o, ca), cb) in (&mut o_chunks).zip(&mut a_chunks).zip(&mut b_chunks) {
                let $x = vld1q_f32(ca.as_ptr());
                let $y = vld1q_f32(cb.as_ptr());
                vst1q_f32(o.as_mut_ptr(), $body);
            }
            scalar::$name(
                a_chunks.remainder(),
                b_chunks.remainder(),
                o_chunks.into_remainder(),
            );
        }
    };
}

binary!(add, |x, y| vaddq_f32(x, y));
binary!(sub, |x, y| vsubq_f32(x, y));
binary!(mul, |x, y| vmulq_f32(x, y));
binary!(div, |x, y| vdivq_f32(x, y));
// x > y ? x : y, then x wherever x is NaN (x == x is false only for NaN).
binary!(maximum, |x, y| vbslq_f32(
    vceqq_f32(x, x),
    vbslq_f32(vcgtq_f32(x, y), x, y),
    x
));

macro_rules! with_scalar {
    ($name:ident, $op:ident) => {
        #[target_feature(enable = "neon")]
        pub unsafe fn $name(a: &[f32], s: f32, out: &mut [f32]) {
            let sv = vdupq_n_f32(s);
            let mut o_chunks = out.chunks_exact_mut(LANES);
            let mut a_chunks = a.chunks_exact(LANES);
            for (o, ca) in (&mut o_chunks).zip(&mut a_chunks) {
                vst1q_f32(o.as_mut_ptr(), $op(vld1q_f32(ca.as_ptr()), sv));
            }
            scalar::$name(a_chunks.remainder(), s, o_chunks.into_remainder());
        }
    };
}

with_scalar!(add_scalar, vaddq_f32);
with_scalar!(mul_scalar, vmulq_f32);

#[target_feature(enable = "neon")]
pub unsafe fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    let av = vdupq_n_f32(alpha);
    let mut y_chunks = y.chunks_exact_mut(LANES);
    let mut x_chunks = x.chunks_exact(LANES);
    for (cy, cx) in (&mut y_chunks).zip(&mut x_chunks) {
        // vfmaq_f32(acc, a, b) = acc + a·b, fused.
        let v = vfmaq_f32(vld1q_f32(cy.as_ptr()), av, vld1q_f32(cx.as_ptr()));
        vst1q_f32(cy.as_mut_ptr(), v);
    }
    scalar::axpy(alpha, x_chunks.remainder(), y_chunks.into_remainder());
}

#[target_feature(enable = "neon")]
pub unsafe fn relu(a: &[f32], out: &mut [f32]) {
    // x < 0 ? 0 : x — NaN (for which x < 0 is false) and −0 pass through, as in `scalar::relu`.
    let zero = vdupq_n_f32(0.0);
    let mut o_chunks = out.chunks_exact_mut(LANES);
    let mut a_chunks = a.chunks_exact(LANES);
    for (o, ca) in (&mut o_chunks).zip(&mut a_chunks) {
        let x = vld1q_f32(ca.as_ptr());
        vst1q_f32(o.as_mut_ptr(), vbslq_f32(vcltq_f32(x, zero), zero, x));
    }
    scalar::relu(a_chunks.remainder(), o_chunks.into_remainder());
}

// Constants of `exp`, as in avx2.rs (not shared: that module only exists on x86-64).
const EXP_LO: f32 = -104.0;
const EXP_HI: f32 = 89.0;
const LOG2_E: f32 = std::f32::consts::LOG2_E;
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
const EXP_POLY: [f32; 6] = [
    1.987_569_1e-4,
    1.398_199_9e-3,
    8.333_452e-3,
    4.166_579_6e-2,
    1.666_666_5e-1,
    0.5, // Cephes writes 5.0000001201e-1, which is 0.5 in f32
];

/// `e^x` for 4 lanes: the method of `avx2::exp8`, line for line.
#[target_feature(enable = "neon")]
#[inline]
unsafe fn exp4(x: float32x4_t) -> float32x4_t {
    let x = vmaxq_f32(vdupq_n_f32(EXP_LO), vminq_f32(vdupq_n_f32(EXP_HI), x));
    let n = vrndnq_f32(vmulq_f32(x, vdupq_n_f32(LOG2_E)));
    // vfmsq_f32(a, b, c) = a − b·c, fused.
    let r = vfmsq_f32(x, n, vdupq_n_f32(LN2_HI));
    let r = vfmsq_f32(r, n, vdupq_n_f32(LN2_LO));

    let mut p = vdupq_n_f32(EXP_POLY[0]);
    for &c in &EXP_POLY[1..] {
        p = vfmaq_f32(vdupq_n_f32(c), p, r);
    }
    let r2 = vmulq_f32(r, r);
    let e_r = vaddq_f32(vfmaq_f32(r, p, r2), vdupq_n_f32(1.0));

    let n = vcvtq_s32_f32(n);
    let n1 = vshrq_n_s32::<1>(n);
    let n2 = vsubq_s32(n, n1);
    let bias = vdupq_n_s32(127);
    let pow1 = vreinterpretq_f32_s32(vshlq_n_s32::<23>(vaddq_s32(n1, bias)));
    let pow2 = vreinterpretq_f32_s32(vshlq_n_s32::<23>(vaddq_s32(n2, bias)));
    vmulq_f32(vmulq_f32(e_r, pow1), pow2)
}

#[target_feature(enable = "neon")]
pub unsafe fn exp(a: &[f32], out: &mut [f32]) {
    let mut o_chunks = out.chunks_exact_mut(LANES);
    let mut a_chunks = a.chunks_exact(LANES);
    for (o, ca) in (&mut o_chunks).zip(&mut a_chunks) {
        vst1q_f32(o.as_mut_ptr(), exp4(vld1q_f32(ca.as_ptr())));
    }
    let tail_in = a_chunks.remainder();
    if !tail_in.is_empty() {
        let mut buf = [0.0f32; LANES];
        buf[..tail_in.len()].copy_from_slice(tail_in);
        let v = exp4(vld1q_f32(buf.as_ptr()));
        vst1q_f32(buf.as_mut_ptr(), v);
        let tail_out = o_chunks.into_remainder();
        tail_out.copy_from_slice(&buf[..tail_out.len()]);
    }
}

#[target_feature(enable = "neon")]
pub unsafe fn sum(a: &[f32]) -> f32 {
    if a.len() <= BLOCK {
        return sum_block(a);
    }
    let (left, right) = a.split_at(pairwise_split(a.len(), BLOCK));
    sum(left) + sum(right)
}

#[target_feature(enable = "neon")]
unsafe fn sum_block(a: &[f32]) -> f32 {
    let mut acc = [vdupq_n_f32(0.0); 4];
    let mut quads = a.chunks_exact(4 * LANES);
    for q in &mut quads {
        for (k, acc) in acc.iter_mut().enumerate() {
            *acc = vaddq_f32(*acc, vld1q_f32(q.as_ptr().add(k * LANES)));
        }
    }
    let mut singles = quads.remainder().chunks_exact(LANES);
    for c in &mut singles {
        acc[0] = vaddq_f32(acc[0], vld1q_f32(c.as_ptr()));
    }
    let v = vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3]));
    vaddvq_f32(v) + scalar::sum(singles.remainder())
}

#[target_feature(enable = "neon")]
pub unsafe fn dot(a: &[f32], b: &[f32]) -> f32 {
    if a.len() <= BLOCK {
        return dot_block(a, b);
    }
    let mid = pairwise_split(a.len(), BLOCK);
    dot(&a[..mid], &b[..mid]) + dot(&a[mid..], &b[mid..])
}

#[target_feature(enable = "neon")]
unsafe fn dot_block(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [vdupq_n_f32(0.0); 4];
    let mut qa = a.chunks_exact(4 * LANES);
    let mut qb = b.chunks_exact(4 * LANES);
    for (x, y) in (&mut qa).zip(&mut qb) {
        for (k, acc) in acc.iter_mut().enumerate() {
            let off = k * LANES;
            *acc = vfmaq_f32(
                *acc,
                vld1q_f32(x.as_ptr().add(off)),
                vld1q_f32(y.as_ptr().add(off)),
            );
        }
    }
    let mut sa = qa.remainder().chunks_exact(LANES);
    let mut sb = qb.remainder().chunks_exact(LANES);
    for (x, y) in (&mut sa).zip(&mut sb) {
        acc[0] = vfmaq_f32(acc[0], vld1q_f32(x.as_ptr()), vld1q_f32(y.as_ptr()));
    }
    let v = vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3]));
    vaddvq_f32(v) + scalar::dot(sa.remainder(), sb.remainder())
}

#[target_feature(enable = "neon")]
pub unsafe fn max(a: &[f32]) -> f32 {
    // NEON's fmax propagates NaN by itself, so no separate NaN mask is needed here.
    let mut acc = [vdupq_n_f32(f32::NEG_INFINITY); 4];
    let mut quads = a.chunks_exact(4 * LANES);
    for q in &mut quads {
        for (k, acc) in acc.iter_mut().enumerate() {
            *acc = vmaxq_f32(*acc, vld1q_f32(q.as_ptr().add(k * LANES)));
        }
    }
    let mut singles = quads.remainder().chunks_exact(LANES);
    for c in &mut singles {
        acc[0] = vmaxq_f32(acc[0], vld1q_f32(c.as_ptr()));
    }
    let v = vmaxq_f32(vmaxq_f32(acc[0], acc[1]), vmaxq_f32(acc[2], acc[3]));
    let vector_max = vmaxvq_f32(v);
    let tail = scalar::max(singles.remainder());
    if vector_max.is_nan() || tail.is_nan() {
        f32::NAN
    } else {
        vector_max.max(tail)
    }
}
