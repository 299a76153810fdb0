//! Matrix products through `matrixmultiply::sgemm`.
//!
//! (Skeleton: the slice-level `sgemm` below is the one entry point to the crate; the tensor-level
//! `matmul`, batched products and the threading choice are added by the tensor issue.)
//!
//! ## The layout contract
//! `matrixmultiply` reads a matrix through a pointer, its sizes, a row stride and a column stride
//! (in elements). A row-major `r×c` matrix has row stride `c` and column stride 1; reading the same
//! buffer with the strides swapped (row stride 1, column stride `r`) reads its transpose `c×r`. So a
//! transposed operand costs nothing: no copy, only other strides.

use crate::error::{fail, TensorError};

/// `C = alpha · op(A) · op(B) + beta · C`, all row-major `f32` slices.
///
/// `op(A)` is `m×k` and `op(B)` is `k×n`; `C` is `m×n`. When `transpose_a` is false, `a` holds `A`
/// as an `m×k` row-major matrix; when true, it holds `Aᵀ` as a `k×m` row-major matrix, and is read
/// transposed. Likewise for `b`. With `beta == 0`, `C` is only written (its old contents, even NaN,
/// are ignored); with `beta == 1` the product is accumulated into `C`, which is what gradients want.
#[allow(clippy::too_many_arguments)]
#[track_caller]
pub fn sgemm(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: &[f32],
    transpose_a: bool,
    b: &[f32],
    transpose_b: bool,
    beta: f32,
    c: &mut [f32],
) {
    for (name, len, want) in [
        ("A", a.len(), m * k),
        ("B", b.len(), k * n),
        ("C", c.len(), m * n),
    ] {
        if len != want {
            fail(TensorError::InvalidArgument {
                op: "sgemm",
                message: format!(
                    "operand {name} holds {len} values but m={m}, k={k}, n={n} needs {want}"
                ),
            });
        }
    }
    if m == 0 || n == 0 {
        return;
    }
    // Strides of op(A) (m×k): stored A (m×k) is (k, 1); stored Aᵀ (k×m) read transposed is (1, m).
    let (rsa, csa) = if transpose_a { (1, m) } else { (k, 1) };
    // Strides of op(B) (k×n): stored B (k×n) is (n, 1); stored Bᵀ (n×k) read transposed is (1, k).
    let (rsb, csb) = if transpose_b { (1, k) } else { (n, 1) };
    // SAFETY: the length checks above guarantee that every (row, column) the strides address lies
    // inside its slice, and `c` is borrowed mutably so it cannot alias `a` or `b`.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            alpha,
            a.as_ptr(),
            rsa as isize,
            csa as isize,
            b.as_ptr(),
            rsb as isize,
            csb as isize,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}
