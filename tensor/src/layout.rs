//! The layout contract of a matrix product, `C = alpha · op(A) · op(B) + beta · C`: how its three
//! matrices and its two scalars are handed to [`gemm::sgemm`](crate::gemm::sgemm),
//! [`matmul::sgemm`](crate::matmul::sgemm) and [`reference::gemm`](crate::reference::gemm).
//!
//! - An operand is a [`MatRef`]: a buffer, the sizes of the matrix `op(X)` the product reads, and
//!   whether the buffer holds that matrix or its transpose. Every buffer is **row-major and
//!   contiguous**, and holds exactly its matrix (`rows · cols` values).
//! - The output is a [`MatMut`]: a row-major `m×n` buffer, never transposed.
//! - `alpha` and `beta` travel together as a [`Scale`].
//!
//! A row-major `r×c` matrix has row stride `c` and column stride 1; reading the same buffer with
//! the strides swapped (row stride 1, column stride `r`) reads its transpose, `c×r`. So a
//! transposed operand costs nothing: no copy, only other strides ([`MatRef::strides`]), which is
//! how both GEMMs read it.
//!
//! ```
//! use tensor::{MatMut, MatRef, Scale};
//! // A = [[1, 2, 3], [4, 5, 6]] (2×3); the product reads Aᵀ (3×2) through a free transpose.
//! let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
//! let at = MatRef::new(&a, 2, 3).t();
//! assert_eq!((at.rows, at.cols, at.transposed), (3, 2, true));
//! assert_eq!(at.at(2, 1), 6.0);
//! // C = Aᵀ·A (3×3); beta = 0, so the NaNs in C are never read.
//! let mut c = [f32::NAN; 9];
//! tensor::matmul::sgemm(at, MatRef::new(&a, 2, 3), Scale::OVERWRITE, MatMut::new(&mut c, 3, 3));
//! assert_eq!(c, [17.0, 22.0, 27.0, 22.0, 29.0, 36.0, 27.0, 36.0, 45.0]);
//! ```

use crate::error::{fail, TensorError};

/// An operand of a matrix product: the `rows × cols` matrix `op(X)` that the product reads, from a
/// row-major buffer.
///
/// ```text
/// transposed = false:  data holds X = op(X), rows×cols:   op(X)[i, j] = data[i·cols + j]
/// transposed = true:   data holds X, cols×rows, read transposed:
///                                                          op(X)[i, j] = data[j·rows + i]
/// ```
///
/// `rows` and `cols` are always the sizes *as the product sees the matrix*, whichever way it is
/// stored; `data` must hold exactly `rows · cols` values (the products check it).
#[derive(Debug, Clone, Copy)]
pub struct MatRef<'a> {
    /// The stored matrix, row-major: `op(X)` itself, or with `transposed` its transpose.
    pub data: &'a [f32],
    /// The rows of `op(X)`.
    pub rows: usize,
    /// The columns of `op(X)`.
    pub cols: usize,
    /// Whether `data` holds the transpose of `op(X)` (a `cols × rows` row-major matrix).
    pub transposed: bool,
}

impl<'a> MatRef<'a> {
    /// The row-major `rows × cols` matrix in `data`, read as it is stored.
    pub fn new(data: &'a [f32], rows: usize, cols: usize) -> Self {
        MatRef {
            data,
            rows,
            cols,
            transposed: false,
        }
    }

    /// The transpose of this matrix, `cols × rows`: the same buffer read the other way, no copy.
    pub fn t(self) -> Self {
        MatRef {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            transposed: !self.transposed,
        }
    }

    /// The strides `(row, column)` of `op(X)` in `data`, in elements: `(cols, 1)` when stored as
    /// is, `(1, rows)` when stored transposed.
    pub fn strides(&self) -> (usize, usize) {
        if self.transposed {
            (1, self.rows)
        } else {
            (self.cols, 1)
        }
    }

    /// `op(X)[i, j]`.
    pub fn at(&self, i: usize, j: usize) -> f32 {
        let (rs, cs) = self.strides();
        self.data[i * rs + j * cs]
    }
}

/// The output of a matrix product: a row-major `rows × cols` matrix, `C[i, j] = data[i·cols + j]`.
/// `data` must hold exactly `rows · cols` values (the products check it).
#[derive(Debug)]
pub struct MatMut<'a> {
    /// The matrix, row-major.
    pub data: &'a mut [f32],
    /// The rows of `C`.
    pub rows: usize,
    /// The columns of `C`.
    pub cols: usize,
}

impl<'a> MatMut<'a> {
    /// The row-major `rows × cols` matrix in `data`.
    pub fn new(data: &'a mut [f32], rows: usize, cols: usize) -> Self {
        MatMut { data, rows, cols }
    }
}

/// The scalars of `C = alpha · op(A) · op(B) + beta · C`.
///
/// With `beta == 0`, `C` is only written: its old contents are never read (they may be NaN, or —
/// inside the packed GEMM — memory nothing has written yet), as in BLAS. With `beta == 1` the
/// product is added into `C`, which is what gradients want.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    /// The factor of the product `op(A)·op(B)`.
    pub alpha: f32,
    /// The factor of the old `C`; 0 means "ignore `C`".
    pub beta: f32,
}

impl Scale {
    /// `C = op(A)·op(B)`: the product alone, `C` unread.
    pub const OVERWRITE: Scale = Scale {
        alpha: 1.0,
        beta: 0.0,
    };
    /// `C = op(A)·op(B) + C`: the product added into what `C` holds.
    pub const ACCUMULATE: Scale = Scale {
        alpha: 1.0,
        beta: 1.0,
    };
}

/// The sizes `(m, k, n)` of `op(A)·op(B)` (`m×k` times `k×n`), after checking that the inner sizes
/// agree, that `c` (when given) is `m×n`, and that each buffer holds exactly its matrix. `op` names
/// the caller in the failure.
#[track_caller]
pub(crate) fn product_sizes(
    op: &'static str,
    a: &MatRef,
    b: &MatRef,
    c: Option<&MatMut>,
) -> (usize, usize, usize) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let invalid = |message: String| -> ! { fail(TensorError::InvalidArgument { op, message }) };
    if b.rows != k {
        invalid(format!(
            "op(A) is {m}×{k} but op(B) is {}×{n}: the inner sizes differ",
            b.rows
        ));
    }
    if let Some(c) = c.filter(|c| (c.rows, c.cols) != (m, n)) {
        invalid(format!(
            "C is {}×{} but op(A)·op(B) is {m}×{n}",
            c.rows, c.cols
        ));
    }
    let c_len = c.map(|c| c.data.len());
    for (name, len, want) in [
        ("A", Some(a.data.len()), m * k),
        ("B", Some(b.data.len()), k * n),
        ("C", c_len, m * n),
    ] {
        if let Some(len) = len.filter(|&len| len != want) {
            invalid(format!(
                "operand {name} holds {len} values but m={m}, k={k}, n={n} needs {want}"
            ));
        }
    }
    (m, k, n)
}
