//! The matrix product with transposes and scaling, as the BLAS `sgemm` defines it: what
//! [`gemm::sgemm`](crate::gemm::sgemm) (packed, SIMD, threaded), its matrix–vector path and
//! `Tensor::matmul_t` compute.
//!
//! Layout: every matrix is row-major and contiguous. `A` is `m×k` when stored as is, or stored as
//! its transpose `k×m` when `ta` is set; likewise `B` (`k×n`, or `n×k` with `tb`); `C` is `m×n`.

use crate::Tensor;

/// `C'[i, j] = alpha · Σ_{p<k} op(A)[i, p] · op(B)[p, j] + beta · C[i, j]`, in f64, row-major
/// `m×n`, for `(m, k, n) = dims`, `a = (A, ta)`, `b = (B, tb)` and
///
/// ```text
/// op(A)[i, p] = A[i·k + p]   (ta = false)      op(B)[p, j] = B[p·n + j]   (tb = false)
///             = A[p·m + i]   (ta = true)                   = B[j·k + p]   (tb = true)
/// ```
///
/// `beta = 0` means "ignore C": it is not read at all (it may hold NaN, or be empty), as in BLAS.
/// `k = 0` is an empty sum, so the product term is 0 and `C' = beta·C`.
pub fn gemm(
    (m, k, n): (usize, usize, usize),
    alpha: f32,
    (a, ta): (&[f32], bool),
    (b, tb): (&[f32], bool),
    beta: f32,
    c: &[f32],
) -> Vec<f64> {
    assert_eq!(a.len(), m * k, "reference::gemm: A must hold m·k values");
    assert_eq!(b.len(), k * n, "reference::gemm: B must hold k·n values");
    if beta != 0.0 {
        assert_eq!(c.len(), m * n, "reference::gemm: C must hold m·n values");
    }
    let mut out = vec![0.0f64; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut sum = 0.0f64;
            for p in 0..k {
                let x = if ta { a[p * m + i] } else { a[i * k + p] };
                let y = if tb { b[j * k + p] } else { b[p * n + j] };
                sum += x as f64 * y as f64;
            }
            let old = if beta == 0.0 {
                0.0
            } else {
                beta as f64 * c[i * n + j] as f64
            };
            out[i * n + j] = alpha as f64 * sum + old;
        }
    }
    out
}

/// `op(A)·op(B)` for two 2-D tensors, `op` transposing when its flag is set: `[m, n]` in f64,
/// where `op(A)` is `[m, k]` and `op(B)` is `[k, n]`. It is [`gemm`] with `alpha = 1`, `beta = 0`.
pub fn matmul_t(a: &Tensor, ta: bool, b: &Tensor, tb: bool) -> Vec<f64> {
    let (&[ra, ca], &[rb, cb]) = (a.shape(), b.shape()) else {
        panic!("reference::matmul_t: both operands must be matrices");
    };
    let (m, k) = if ta { (ca, ra) } else { (ra, ca) };
    let (kb, n) = if tb { (cb, rb) } else { (rb, cb) };
    assert_eq!(k, kb, "reference::matmul_t: inner sizes differ");
    gemm((m, k, n), 1.0, (a.data(), ta), (b.data(), tb), 0.0, &[])
}
