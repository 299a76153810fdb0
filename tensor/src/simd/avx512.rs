//! AVX-512F kernels: 16 lanes of `f32` per 512-bit register.
//!
//! The same algorithms as `avx2.rs` (read that file first; the constants of `exp` are shared with
//! it), with one difference worth seeing: AVX-512 has per-lane masks, so a tail of `len % 16`
//! elements is handled by one more vector step with a mask `(1 << rem) − 1` — masked-off lanes are
//! neither read (`maskz_loadu` suppresses their faults and gives 0) nor written (`mask_storeu`) —
//! instead of a scalar loop.
//!
//! Every function is `unsafe` only because of `#[target_feature]`: the caller must have checked that
//! the CPU has AVX-512F and that slices passed together have equal lengths.

use std::arch::x86_64::*;

use super::avx2::{EXP_HI, EXP_LO, EXP_POLY, LN2_HI, LN2_LO, LOG2_E};
use super::{pairwise_split, SUM_BLOCK};

const LANES: usize = 16;

/// Blocks summed plainly by `sum` and `dot`; see `avx2::BLOCK`.
const BLOCK: usize = SUM_BLOCK * LANES;

/// The mask selecting the first `rem` lanes (`rem < 16`).
#[inline]
fn tail_mask(rem: usize) -> __mmask16 {
    debug_assert!(rem < LANES);
    ((1u32 << rem) - 1) as __mmask16
}

/// Runs `$body` (a vector expression of the loaded `$x`, `$y`) over whole vectors, then once more
/// under a mask for the tail.
macro_rules! binary {
    ($name:ident, |$x:ident, $y:ident| $body:expr) => {
        #[target_feature(enable = "avx512f")]
        pub unsafe fn $name(a: &[f32], b: &[f32], out: &mut [f32]) {
            let n = out.len();
            let (pa, pb, po) = (a.as_ptr(), b.as_ptr(), out.as_mut_ptr());
            let mut i = 0;
            // In bounds: i + 16 ≤ n = a.len() = b.len() (checked by the caller).
            while i + LANES <= n {
                let $x = _mm512_loadu_ps(pa.add(i));
                let $y = _mm512_loadu_ps(pb.add(i));
                _mm512_storeu_ps(po.add(i), $body);
                i += LANES;
            }
            if i < n {
                let m = tail_mask(n - i);
                let $x = _mm512_maskz_loadu_ps(m, pa.add(i));
                let $y = _mm512_maskz_loadu_ps(m, pb.add(i));
                _mm512_mask_storeu_ps(po.add(i), m, $body);
            }
        }
    };
}

binary!(add, |x, y| _mm512_add_ps(x, y));
binary!(sub, |x, y| _mm512_sub_ps(x, y));
binary!(mul, |x, y| _mm512_mul_ps(x, y));
binary!(div, |x, y| _mm512_div_ps(x, y));
// As in avx2.rs: `vmaxps(x, y)` is `x > y ? x : y`; lanes where x is NaN take x.
binary!(maximum, |x, y| _mm512_mask_blend_ps(
    _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(x, x),
    _mm512_max_ps(x, y),
    x
));

/// Like `binary!`, for `out = op(a)` (`$s` broadcast when the kernel has a scalar operand).
macro_rules! unary {
    ($name:ident ( $($s:ident: $t:ty),* ), |$x:ident| $body:expr) => {
        #[target_feature(enable = "avx512f")]
        pub unsafe fn $name(a: &[f32], $($s: $t,)* out: &mut [f32]) {
            let n = out.len();
            let (pa, po) = (a.as_ptr(), out.as_mut_ptr());
            let mut i = 0;
            while i + LANES <= n {
                let $x = _mm512_loadu_ps(pa.add(i));
                _mm512_storeu_ps(po.add(i), $body);
                i += LANES;
            }
            if i < n {
                let m = tail_mask(n - i);
                let $x = _mm512_maskz_loadu_ps(m, pa.add(i));
                _mm512_mask_storeu_ps(po.add(i), m, $body);
            }
        }
    };
}

unary!(add_scalar(s: f32), |x| _mm512_add_ps(x, _mm512_set1_ps(s)));
unary!(mul_scalar(s: f32), |x| _mm512_mul_ps(x, _mm512_set1_ps(s)));
// `vmaxps(0, x)` is `0 > x ? 0 : x`: NaN and −0 pass through, as in `scalar::relu`.
unary!(relu(), |x| _mm512_max_ps(_mm512_setzero_ps(), x));
unary!(exp(), |x| exp16(x));

#[target_feature(enable = "avx512f")]
pub unsafe fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    let n = y.len();
    let av = _mm512_set1_ps(alpha);
    let (px, py) = (x.as_ptr(), y.as_mut_ptr());
    let mut i = 0;
    while i + LANES <= n {
        let v = _mm512_fmadd_ps(av, _mm512_loadu_ps(px.add(i)), _mm512_loadu_ps(py.add(i)));
        _mm512_storeu_ps(py.add(i), v);
        i += LANES;
    }
    if i < n {
        let m = tail_mask(n - i);
        let v = _mm512_fmadd_ps(
            av,
            _mm512_maskz_loadu_ps(m, px.add(i)),
            _mm512_maskz_loadu_ps(m, py.add(i)),
        );
        _mm512_mask_storeu_ps(py.add(i), m, v);
    }
}

/// `e^x` for 16 lanes: the method of `avx2::exp8`, line for line.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn exp16(x: __m512) -> __m512 {
    let x = _mm512_max_ps(
        _mm512_set1_ps(EXP_LO),
        _mm512_min_ps(_mm512_set1_ps(EXP_HI), x),
    );
    let n = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(
        _mm512_mul_ps(x, _mm512_set1_ps(LOG2_E)),
    );
    let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2_HI), x);
    let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2_LO), r);

    let mut p = _mm512_set1_ps(EXP_POLY[0]);
    for &c in &EXP_POLY[1..] {
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c));
    }
    let r2 = _mm512_mul_ps(r, r);
    let e_r = _mm512_add_ps(_mm512_fmadd_ps(p, r2, r), _mm512_set1_ps(1.0));

    let n = _mm512_cvtps_epi32(n);
    let n1 = _mm512_srai_epi32::<1>(n);
    let n2 = _mm512_sub_epi32(n, n1);
    let bias = _mm512_set1_epi32(127);
    let pow1 = _mm512_castsi512_ps(_mm512_slli_epi32::<23>(_mm512_add_epi32(n1, bias)));
    let pow2 = _mm512_castsi512_ps(_mm512_slli_epi32::<23>(_mm512_add_epi32(n2, bias)));
    _mm512_mul_ps(_mm512_mul_ps(e_r, pow1), pow2)
}

// ----- reductions ----------------------------------------------------------------------------------

#[target_feature(enable = "avx512f")]
pub unsafe fn sum(a: &[f32]) -> f32 {
    if a.len() <= BLOCK {
        return dot_or_sum_block(a, None);
    }
    let (left, right) = a.split_at(pairwise_split(a.len(), BLOCK));
    sum(left) + sum(right)
}

#[target_feature(enable = "avx512f")]
pub unsafe fn dot(a: &[f32], b: &[f32]) -> f32 {
    if a.len() <= BLOCK {
        return dot_or_sum_block(a, Some(b));
    }
    let mid = pairwise_split(a.len(), BLOCK);
    dot(&a[..mid], &b[..mid]) + dot(&a[mid..], &b[mid..])
}

/// One block of `Σ a` (when `b` is `None`) or `Σ a·b`: four accumulators over groups of four
/// vectors, then single vectors, then one masked vector for the tail (masked lanes load as 0 and add
/// nothing).
#[target_feature(enable = "avx512f")]
unsafe fn dot_or_sum_block(a: &[f32], b: Option<&[f32]>) -> f32 {
    let n = a.len();
    let pa = a.as_ptr();
    let pb = b.map(|b| b.as_ptr());
    // Loads element i.. of `a`, times the same of `b` when there is one, into `acc` (fused).
    let step = |acc: __m512, i: usize, m: __mmask16| -> __m512 {
        let x = _mm512_maskz_loadu_ps(m, pa.add(i));
        match pb {
            Some(pb) => _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(m, pb.add(i)), acc),
            None => _mm512_add_ps(acc, x),
        }
    };
    let all: __mmask16 = 0xFFFF;
    let mut acc = [_mm512_setzero_ps(); 4];
    let mut i = 0;
    while i + 4 * LANES <= n {
        for (k, acc) in acc.iter_mut().enumerate() {
            *acc = step(*acc, i + k * LANES, all);
        }
        i += 4 * LANES;
    }
    while i + LANES <= n {
        acc[0] = step(acc[0], i, all);
        i += LANES;
    }
    if i < n {
        acc[1] = step(acc[1], i, tail_mask(n - i));
    }
    let v = _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]));
    _mm512_reduce_add_ps(v)
}

#[target_feature(enable = "avx512f")]
pub unsafe fn max(a: &[f32]) -> f32 {
    // As in avx2.rs: the running maximum ignores NaN lanes, a mask remembers whether any was seen.
    // Masked-off tail lanes load as −∞, which never wins.
    let n = a.len();
    let pa = a.as_ptr();
    let neg_inf = _mm512_set1_ps(f32::NEG_INFINITY);
    let mut acc = [neg_inf; 4];
    let mut nan: __mmask16 = 0;
    let mut i = 0;
    while i + 4 * LANES <= n {
        for (k, acc) in acc.iter_mut().enumerate() {
            let x = _mm512_loadu_ps(pa.add(i + k * LANES));
            nan |= _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(x, x);
            *acc = _mm512_max_ps(*acc, x);
        }
        i += 4 * LANES;
    }
    while i < n {
        let m = if i + LANES <= n {
            0xFFFF
        } else {
            tail_mask(n - i)
        };
        let x = _mm512_mask_loadu_ps(neg_inf, m, pa.add(i));
        nan |= _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(x, x);
        acc[0] = _mm512_max_ps(acc[0], x);
        i += LANES;
    }
    if nan != 0 {
        return f32::NAN;
    }
    let v = _mm512_max_ps(_mm512_max_ps(acc[0], acc[1]), _mm512_max_ps(acc[2], acc[3]));
    _mm512_reduce_max_ps(v)
}
