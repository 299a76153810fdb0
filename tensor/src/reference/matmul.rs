//! The matrix product with transposes and scaling, as the BLAS `sgemm` defines it: what
//! [`gemm::sgemm`](crate::gemm::sgemm) (packed, SIMD, threaded), its matrix–vector path and
//! `Tensor::matmul_t` compute.
//!
//! Layout: [`crate::layout`]'s contract. Every matrix is row-major and contiguous; `op(A)` is
//! `m×k`, stored as `A` or, when `a.transposed`, as its transpose `k×m`; likewise `op(B)` (`k×n`);
//! `C` is `m×n`.

use crate::layout::{MatRef, Scale};
use crate::Tensor;

/// `C'[i, j] = alpha · Σ_{p<k} op(A)[i, p] · op(B)[p, j] + beta · C[i, j]`, in f64, row-major
/// `m×n`, for `op(A) = a` (`m×k`), `op(B) = b` (`k×n`), `(alpha, beta) = scale` and
///
/// ```text
/// op(A)[i, p] = a.data[i·k + p]   (stored as is)     op(B)[p, j] = b.data[p·n + j]   (as is)
///             = a.data[p·m + i]   (a.transposed)                 = b.data[j·k + p]   (b.transposed)
/// ```
///
/// `beta = 0` means "ignore C": it is not read at all (it may hold NaN, or be empty), as in BLAS.
/// `k = 0` is an empty sum, so the product term is 0 and `C' = beta·C`.
pub fn gemm(a: MatRef, b: MatRef, scale: Scale, c: &[f32]) -> Vec<f64> {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let Scale { alpha, beta } = scale;
    assert_eq!(
        b.rows, k,
        "reference::gemm: op(A) is m×k, so op(B) must have k rows"
    );
    assert_eq!(
        a.data.len(),
        m * k,
        "reference::gemm: A must hold m·k values"
    );
    assert_eq!(
        b.data.len(),
        k * n,
        "reference::gemm: B must hold k·n values"
    );
    if beta != 0.0 {
        assert_eq!(c.len(), m * n, "reference::gemm: C must hold m·n values");
    }
    let mut out = vec![0.0f64; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut sum = 0.0f64;
            for p in 0..k {
                sum += a.at(i, p) as f64 * b.at(p, j) as f64;
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
    // A tensor is stored as is: a transposed operand is the stored matrix read transposed.
    fn op(x: &Tensor, (r, c): (usize, usize), t: bool) -> MatRef<'_> {
        let stored = MatRef::new(x.data(), r, c);
        if t {
            stored.t()
        } else {
            stored
        }
    }
    let (a, b) = (op(a, (ra, ca), ta), op(b, (rb, cb), tb));
    assert_eq!(a.cols, b.rows, "reference::matmul_t: inner sizes differ");
    gemm(a, b, Scale::OVERWRITE, &[])
}
