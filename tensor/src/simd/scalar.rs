//! The scalar reference for every SIMD kernel: plain loops, obviously correct. The vector paths are
//! tested against these, and [`Level::Scalar`](super::Level::Scalar) runs them.
//!
//! Callers (the dispatchers in `simd/mod.rs`) have checked that the slices have equal lengths; the
//! `zip`s below would silently stop at the shorter one otherwise.

use super::{pairwise_split, SUM_BLOCK};

pub fn add(a: &[f32], b: &[f32], out: &mut [f32]) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = x + y;
    }
}
pub fn sub(a: &[f32], b: &[f32], out: &mut [f32]) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = x - y;
    }
}
pub fn mul(a: &[f32], b: &[f32], out: &mut [f32]) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = x * y;
    }
}
pub fn div(a: &[f32], b: &[f32], out: &mut [f32]) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = x / y;
    }
}

/// `max(x, y)`, NaN if either is NaN (`f32::max` would return the other operand instead).
///
/// Written as x86's `maxps` computes it, `x > y ? x : y` (which already gives `y` when `y` is NaN),
/// with a NaN `x` returned as is: so every level agrees bit for bit, down to `max(+0, −0) = −0`.
#[inline]
pub fn max_propagating_nan(x: f32, y: f32) -> f32 {
    if x.is_nan() || x > y {
        x
    } else {
        y
    }
}

pub fn maximum(a: &[f32], b: &[f32], out: &mut [f32]) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = max_propagating_nan(x, y);
    }
}
pub fn add_scalar(a: &[f32], s: f32, out: &mut [f32]) {
    for (o, &x) in out.iter_mut().zip(a) {
        *o = x + s;
    }
}
pub fn mul_scalar(a: &[f32], s: f32, out: &mut [f32]) {
    for (o, &x) in out.iter_mut().zip(a) {
        *o = x * s;
    }
}
/// `y += alpha·x` with a separate multiply and add (two roundings): a fused multiply-add without
/// FMA hardware is a slow library call, and this path is for CPUs without it.
pub fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    for (o, &v) in y.iter_mut().zip(x) {
        *o += alpha * v;
    }
}
/// `max(x, 0)`, written as "negative becomes 0" so that NaN (for which `x < 0` is false) passes
/// through unchanged.
pub fn relu(a: &[f32], out: &mut [f32]) {
    for (o, &x) in out.iter_mut().zip(a) {
        *o = if x < 0.0 { 0.0 } else { x };
    }
}
/// The standard library's `expf` (correctly handles overflow to +∞, underflow to 0 and NaN).
pub fn exp(a: &[f32], out: &mut [f32]) {
    for (o, &x) in out.iter_mut().zip(a) {
        *o = x.exp();
    }
}

/// Pairwise sum: blocks of [`SUM_BLOCK`] are added plainly, longer slices are split at a block
/// boundary near the middle and the two halves' sums added. Depth `log₂(n / SUM_BLOCK)`, so the
/// error bound is about `(SUM_BLOCK + log₂ n)·ε·Σ|a|` rather than naive summation's `n·ε·Σ|a|`.
pub fn sum(a: &[f32]) -> f32 {
    if a.len() <= SUM_BLOCK {
        let mut acc = 0.0f32;
        for &x in a {
            acc += x;
        }
        return acc;
    }
    let (left, right) = a.split_at(pairwise_split(a.len(), SUM_BLOCK));
    sum(left) + sum(right)
}

/// The largest element, NaN if any element is NaN, −∞ for an empty slice.
pub fn max(a: &[f32]) -> f32 {
    let mut acc = f32::NEG_INFINITY;
    for &x in a {
        if x.is_nan() {
            return x;
        }
        if x > acc {
            acc = x;
        }
    }
    acc
}

/// Pairwise dot product, blocked exactly like [`sum`].
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    if a.len() <= SUM_BLOCK {
        let mut acc = 0.0f32;
        for (&x, &y) in a.iter().zip(b) {
            acc += x * y;
        }
        return acc;
    }
    let mid = pairwise_split(a.len(), SUM_BLOCK);
    dot(&a[..mid], &b[..mid]) + dot(&a[mid..], &b[mid..])
}
