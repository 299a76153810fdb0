//! Matrix products: the slice-level [`sgemm`], and on [`Tensor`] the 2-D and batched
//! [`Tensor::matmul`], [`Tensor::matmul_t`] (either operand transposed) and [`Tensor::gemm_into`]
//! (accumulating, for gradients).
//!
//! ## Two implementations
//! [`sgemm`] runs Distillery's own packed GEMM ([`crate::gemm`]) by default. The
//! `matrixmultiply` crate stays as the reference it was measured against and as a fallback:
//! [`sgemm_matrixmultiply`] calls it directly, and `DISTILLERY_GEMM=matrixmultiply` in the
//! environment routes every product (and so every layer) through it, to compare whole runs.
//! See [`GemmBackend`].
//!
//! ## The layout contract
//! Every product takes its operands as [`MatRef`]s, its output as a [`MatMut`] and `alpha` and
//! `beta` as a [`Scale`]: row-major buffers, each operand stored as is or transposed, documented
//! once in [`crate::layout`]. `matrixmultiply` reads a matrix through a pointer, its sizes, a row
//! stride and a column stride (in elements), so a transposed operand is only other strides
//! ([`MatRef::strides`]), never a copy. Our own GEMM does the same when it packs an operand.
//!
//! ## Threads (the `matrixmultiply` path)
//! `matrixmultiply` runs on one thread (its optional `threading` feature aside). A large product is
//! split here into bands of rows of `C`: band `i` of `C` needs only band `i` of `op(A)` and all of
//! `op(B)`, so the bands are independent sgemm calls that rayon runs side by side. A batch of products
//! is split across its batch instead. (Our own GEMM cuts `C` into one band per thread too, of
//! columns or of rows, each thread packing its own operands; see [`crate::gemm`].)
//!
//! Why not the crate's own `threading` feature? On square products the two are as fast as each
//! other (docs/performance.md has the run). Bands
//! win on everything else: they run in rayon's pool, so `--threads` and `RAYON_NUM_THREADS` govern
//! every kernel alike, and a product called from inside a parallel loop (a batch of convolutions)
//! does not start a second set of threads that fight rayon's for the same cores.

use std::ops::Range;
use std::sync::OnceLock;

use rayon::prelude::*;

use crate::error::{fail, TensorError};
use crate::layout::{product_sizes, MatMut, MatRef, Scale};
use crate::shape::{broadcast_shapes, broadcast_strides, numel, strides};
use crate::Tensor;

/// Products smaller than this many multiply-adds stay on one thread: below it, splitting into
/// bands costs more than the second thread saves.
const PARALLEL_MIN_MACS: usize = 1 << 20;
/// The fewest rows of `C` a band may have: sgemm packs all of `op(B)` for every call, so a band must
/// be tall enough for that packing to be a small fraction of its work.
const MIN_BAND_ROWS: usize = 32;

/// Which implementation [`sgemm`] (and so every `matmul`, convolution and layer) uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GemmBackend {
    /// Distillery's own packed GEMM, [`crate::gemm::sgemm`] (the default).
    Distillery,
    /// The `matrixmultiply` crate, [`sgemm_matrixmultiply`].
    MatrixMultiply,
}

/// The backend [`sgemm`] uses: [`GemmBackend::Distillery`] unless the environment variable
/// `DISTILLERY_GEMM` says `matrixmultiply`. Read on the first call and fixed for the process; an
/// unknown name is reported on stderr and ignored.
pub fn gemm_backend() -> GemmBackend {
    static BACKEND: OnceLock<GemmBackend> = OnceLock::new();
    *BACKEND.get_or_init(|| match std::env::var("DISTILLERY_GEMM") {
        Ok(name) if name.trim().eq_ignore_ascii_case("matrixmultiply") => {
            GemmBackend::MatrixMultiply
        }
        Ok(name) if name.trim().is_empty() || name.trim().eq_ignore_ascii_case("distillery") => {
            GemmBackend::Distillery
        }
        Ok(name) => {
            eprintln!(
                "distillery: DISTILLERY_GEMM={name} is not one of distillery, matrixmultiply; \
                 using distillery"
            );
            GemmBackend::Distillery
        }
        Err(_) => GemmBackend::Distillery,
    })
}

/// `C = alpha · op(A) · op(B) + beta · C`, all row-major `f32` slices.
///
/// The layout contract is [`crate::layout`]'s: `op(A)` is `a`, `m×k`, stored as is or transposed
/// (`a.transposed`: the buffer holds `Aᵀ`, `k×m`, read transposed); likewise `op(B)`, `k×n`; `C` is
/// `c`, `m×n`. With `scale.beta == 0`, `C` is only written (its old contents, even NaN, are
/// ignored); with `beta == 1` the product is accumulated into `C`, which is what gradients want.
///
/// Runs on the backend of [`gemm_backend`]; large products use rayon's threads either way.
///
/// The definition, as plain loops: [`reference::gemm`](crate::reference::gemm).
#[track_caller]
pub fn sgemm(a: MatRef, b: MatRef, scale: Scale, c: MatMut) {
    match gemm_backend() {
        GemmBackend::Distillery => crate::gemm::sgemm(a, b, scale, c),
        GemmBackend::MatrixMultiply => sgemm_matrixmultiply(a, b, scale, c),
    }
}

/// [`sgemm`] through `matrixmultiply::sgemm`, large products split into row bands across rayon's
/// threads (see the module doc). The reference our own GEMM is tested and measured against.
///
/// The definition, as plain loops: [`reference::gemm`](crate::reference::gemm).
#[track_caller]
pub fn sgemm_matrixmultiply(a: MatRef, b: MatRef, scale: Scale, c: MatMut) {
    let (m, k, n) = product_sizes("sgemm", &a, &b, Some(&c));
    if m == 0 || n == 0 {
        return;
    }
    let threads = rayon::current_num_threads();
    if threads == 1 || m * k * n < PARALLEL_MIN_MACS || m < 2 * MIN_BAND_ROWS {
        sgemm_strided(&a, 0..m, &b, scale, c.data);
        return;
    }
    // Two bands per thread lets a thread that finishes early take over part of a slow one's work;
    // a multiple of 16 rows keeps every band a whole number of the kernel's row tiles.
    let band = m
        .div_ceil(2 * threads)
        .max(MIN_BAND_ROWS)
        .next_multiple_of(16);
    c.data
        .par_chunks_mut(band * n)
        .enumerate()
        .for_each(|(i, c_band)| {
            let first = i * band;
            let rows = first..first + c_band.len() / n;
            sgemm_strided(&a, rows, &b, scale, c_band);
        });
}

/// The one unsafe call: rows `rows` of `C = alpha · op(A) · op(B) + beta · C`, that is
/// `c_band = alpha · op(A)[rows, ..] · op(B) + beta · c_band` (`c_band` holding those rows of `C`).
fn sgemm_strided(a: &MatRef, rows: Range<usize>, b: &MatRef, scale: Scale, c_band: &mut [f32]) {
    let (m, k, n) = (rows.len(), a.cols, b.cols);
    // The band's rows of op(A): rows `rows` of a stored A (contiguous), or columns `rows` of a
    // stored Aᵀ (the slice starting at column `rows.start`, read with row stride 1 and column
    // stride the full op(A)'s row count): either way op(A)'s own strides, from another start.
    let (rsa, csa) = a.strides();
    let a_band = &a.data[rows.start * rsa..];
    let (rsb, csb) = b.strides();
    // The furthest element each operand's strides reach must lie inside its slice.
    let last = |rows: usize, cols: usize, rs: usize, cs: usize| {
        if rows == 0 || cols == 0 {
            0
        } else {
            (rows - 1) * rs + (cols - 1) * cs + 1
        }
    };
    assert!(last(m, k, rsa, csa) <= a_band.len() && last(k, n, rsb, csb) <= b.data.len());
    assert!(c_band.len() == m * n);
    // SAFETY: the assertions above show every (row, column) the strides address lies inside its
    // slice, and `c_band` is borrowed mutably so it cannot alias `a` or `b`.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            scale.alpha,
            a_band.as_ptr(),
            rsa as isize,
            csa as isize,
            b.data.as_ptr(),
            rsb as isize,
            csb as isize,
            scale.beta,
            c_band.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

impl Tensor {
    /// The matrix product `self · other`, NumPy's `matmul` for tensors of rank ≥ 2.
    ///
    /// Shapes: `[…, M, K] · […, K, N] → […, M, N]`, the leading (batch) axes broadcasting as in
    /// elementwise ops. So `[B, M, K] · [K, N]` applies one matrix to a whole batch — done as a single
    /// `[B·M, K] · [K, N]` product, which is what a dense layer over a batch is.
    ///
    /// The definition, as plain loops: [`reference::matmul_t`](crate::reference::matmul_t).
    #[track_caller]
    pub fn matmul(&self, other: &Tensor) -> Tensor {
        self.matmul_t(false, other, false)
    }

    /// `op(self) · op(other)`, where `op` transposes the last two axes when its flag is set. The
    /// transpose is free: the operand is read with swapped strides, never copied. This is what the
    /// backward of a matrix product needs: `dA = dC · Bᵀ`, `dB = Aᵀ · dC`.
    ///
    /// The definition, as plain loops: [`reference::matmul_t`](crate::reference::matmul_t).
    #[track_caller]
    pub fn matmul_t(&self, transpose_self: bool, other: &Tensor, transpose_other: bool) -> Tensor {
        let plan = Plan::new(
            "matmul",
            self.shape(),
            transpose_self,
            other.shape(),
            transpose_other,
        );
        let out = match plan.single_product(self.data(), other.data()) {
            Some((a, b)) => new_product(a, b, None),
            None => {
                let mut out = crate::parallel::zeroed(numel(&plan.out_shape));
                plan.run(self.data(), other.data(), Scale::OVERWRITE, &mut out);
                out
            }
        };
        Tensor::from_parts(plan.out_shape, out)
    }

    /// A dense layer's affine map `x·Wᵀ + b` for `x [N, I]`, `weight [O, I]`, `bias [O]`: the
    /// output is filled with the bias, row by row — on the packed path by each thread in its own
    /// band, right before it computes the band (see [`crate::gemm::sgemm_new`]) — and the product
    /// accumulated onto it (`beta = 1`), so the bias costs no separate pass over `y` and no second
    /// tensor. Without a bias it is
    /// `x.matmul_t(false, weight, true)`.
    #[track_caller]
    pub fn linear(x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Tensor {
        affine(x, weight, false, bias, "linear (x [N, I], weight [O, I])")
    }

    /// [`linear`](Tensor::linear) with the weight stored transposed, `weight_t = Wᵀ [I, O]`: the
    /// same `x·Wᵀ + b`, to the bit (the product adds in the same order whichever way its operands
    /// are stored).
    ///
    /// Why a second layout: with one row of `x`, the product is a matrix–vector one
    /// (`gemm/gemv/`), and to add in the packed GEMM's order it must walk `W` down its columns.
    /// Stored as `W [O, I]` each column is a gather across rows, transposed in registers on the
    /// fly; stored as `Wᵀ` it is a row, read straight from memory (the *columns form*), which is
    /// what one-sample inference wants (see `nn`'s `Dense`).
    #[track_caller]
    pub fn linear_t(x: &Tensor, weight_t: &Tensor, bias: Option<&Tensor>) -> Tensor {
        affine(
            x,
            weight_t,
            true,
            bias,
            "linear_t (x [N, I], weight_t [I, O])",
        )
    }
    /// `out = alpha · op(a) · op(b) + beta · out`, into an existing tensor (BLAS's gemm), `op`
    /// transposing the last two axes when its flag is set, as in [`matmul_t`](Tensor::matmul_t).
    /// With [`Scale::ACCUMULATE`] a product is added into a gradient that is already there, with no
    /// temporary.
    ///
    /// The definition, as plain loops: [`reference::gemm`](crate::reference::gemm).
    #[track_caller]
    pub fn gemm_into(
        out: &mut Tensor,
        a: &Tensor,
        transpose_a: bool,
        b: &Tensor,
        transpose_b: bool,
        scale: Scale,
    ) {
        let plan = Plan::new("gemm_into", a.shape(), transpose_a, b.shape(), transpose_b);
        if plan.out_shape != out.shape() {
            fail(TensorError::ShapeMismatch {
                op: "gemm_into (output)",
                lhs: plan.out_shape,
                rhs: out.shape().to_vec(),
            });
        }
        plan.run(a.data(), b.data(), scale, out.data_mut());
    }
}

/// A new `m×n` matrix `op(A)·op(B)`, plus `bias` on every row when given, on the backend of
/// [`gemm_backend`]: Distillery's writes it without zeroing it first (see
/// [`crate::gemm::sgemm_new`]); matrixmultiply's gets a buffer filled with zeros or the bias rows.
fn new_product(a: MatRef, b: MatRef, bias: Option<&[f32]>) -> Vec<f32> {
    match gemm_backend() {
        GemmBackend::Distillery => crate::gemm::sgemm_new(crate::simd::level(), a, b, 1.0, bias),
        GemmBackend::MatrixMultiply => {
            let (m, n) = (a.rows, b.cols);
            let (mut c, scale) = match bias {
                Some(bias) => (bias.repeat(m), Scale::ACCUMULATE),
                None => (crate::parallel::zeroed(m * n), Scale::OVERWRITE),
            };
            sgemm_matrixmultiply(a, b, scale, MatMut::new(&mut c, m, n));
            c
        }
    }
}

/// How a (batched, broadcast) product maps onto sgemm calls.
struct Plan {
    m: usize,
    k: usize,
    n: usize,
    transpose_a: bool,
    transpose_b: bool,
    /// The broadcast batch shape, and each operand's batch strides (in matrices, 0 on broadcast axes).
    batch: Vec<usize>,
    a_batch_strides: Vec<usize>,
    b_batch_strides: Vec<usize>,
    out_shape: Vec<usize>,
}

impl Plan {
    #[track_caller]
    fn new(op: &'static str, a: &[usize], ta: bool, b: &[usize], tb: bool) -> Plan {
        if a.len() < 2 || b.len() < 2 {
            fail(TensorError::InvalidArgument {
                op,
                message: format!(
                    "both operands need at least 2 axes (matrices), found shapes {a:?} and {b:?}"
                ),
            });
        }
        let (a_batch, a_mat) = a.split_at(a.len() - 2);
        let (b_batch, b_mat) = b.split_at(b.len() - 2);
        let (m, ka) = if ta {
            (a_mat[1], a_mat[0])
        } else {
            (a_mat[0], a_mat[1])
        };
        let (kb, n) = if tb {
            (b_mat[1], b_mat[0])
        } else {
            (b_mat[0], b_mat[1])
        };
        let mismatch = || TensorError::ShapeMismatch {
            op,
            lhs: a.to_vec(),
            rhs: b.to_vec(),
        };
        if ka != kb {
            fail(mismatch());
        }
        let batch = broadcast_shapes(op, a_batch, b_batch).unwrap_or_else(|_| fail(mismatch()));
        let mut out_shape = batch.clone();
        out_shape.extend([m, n]);
        Plan {
            m,
            k: ka,
            n,
            transpose_a: ta,
            transpose_b: tb,
            a_batch_strides: broadcast_strides(a_batch, &batch),
            b_batch_strides: broadcast_strides(b_batch, &batch),
            batch,
            out_shape,
        }
    }

    /// The operand `op(X)` (`rows × cols`) of one product, from the matrix `x` stored as is or,
    /// with `transposed`, as its transpose.
    fn operand(x: &[f32], rows: usize, cols: usize, transposed: bool) -> MatRef<'_> {
        MatRef {
            data: x,
            rows,
            cols,
            transposed,
        }
    }

    /// When the whole product is one `sgemm` call — no batch axes, or a stack of untransposed left
    /// operands times one shared right operand (`[B·M, K] · [K, N]`) — its two operands, from the
    /// tensors' data `a` and `b`.
    fn single_product<'a>(&self, a: &'a [f32], b: &'a [f32]) -> Option<(MatRef<'a>, MatRef<'a>)> {
        let batches = numel(&self.batch);
        let rows = if batches == 1 {
            self.m
        } else if self.b_batch_strides.iter().all(|&s| s == 0)
            && !self.transpose_a
            && self.a_batch_strides == strides(&self.batch)
        {
            batches * self.m
        } else {
            return None;
        };
        Some((
            Plan::operand(a, rows, self.k, self.transpose_a),
            Plan::operand(b, self.k, self.n, self.transpose_b),
        ))
    }

    /// `out = alpha · op(a) · op(b) + beta · out` over the whole (batched) product.
    fn run(&self, a: &[f32], b: &[f32], scale: Scale, out: &mut [f32]) {
        let (m, k, n) = (self.m, self.k, self.n);
        let batches = numel(&self.batch);
        if batches == 0 || m == 0 || n == 0 {
            return;
        }
        if let Some((a, b)) = self.single_product(a, b) {
            let rows = a.rows;
            sgemm(a, b, scale, MatMut::new(out, rows, n));
            return;
        }
        let batch_strides = strides(&self.batch);
        let offset = |index: usize, operand_strides: &[usize]| -> usize {
            batch_strides
                .iter()
                .zip(operand_strides)
                .zip(&self.batch)
                .map(|((&stride, &operand), &size)| (index / stride % size) * operand)
                .sum()
        };
        let one = |(i, c): (usize, &mut [f32])| {
            let a_i = offset(i, &self.a_batch_strides) * m * k;
            let b_i = offset(i, &self.b_batch_strides) * k * n;
            let a_mat = Plan::operand(&a[a_i..a_i + m * k], m, k, self.transpose_a);
            let b_mat = Plan::operand(&b[b_i..b_i + k * n], k, n, self.transpose_b);
            sgemm(a_mat, b_mat, scale, MatMut::new(c, m, n));
        };
        if batches > 1 && batches * m * k * n >= PARALLEL_MIN_MACS {
            out.par_chunks_mut(m * n).enumerate().for_each(one);
        } else {
            out.chunks_mut(m * n).enumerate().for_each(one);
        }
    }
}

/// `x·Wᵀ + b` for [`Tensor::linear`] (`weight` is `W [O, I]`) and [`Tensor::linear_t`]
/// (`weight_is_transposed`: `weight` is `Wᵀ [I, O]`); `op` names the call in shape errors.
#[track_caller]
fn affine(
    x: &Tensor,
    weight: &Tensor,
    weight_is_transposed: bool,
    bias: Option<&Tensor>,
    op: &'static str,
) -> Tensor {
    let mismatch = |rhs: &Tensor| -> ! {
        fail(TensorError::ShapeMismatch {
            op,
            lhs: x.shape().to_vec(),
            rhs: rhs.shape().to_vec(),
        })
    };
    let (&[n, i], &[rows, cols]) = (x.shape(), weight.shape()) else {
        mismatch(weight)
    };
    let (wi, o) = if weight_is_transposed {
        (rows, cols)
    } else {
        (cols, rows)
    };
    if i != wi {
        mismatch(weight);
    }
    if let Some(b) = bias.filter(|b| b.shape() != [o]) {
        fail(TensorError::ShapeMismatch {
            op: "linear (a weight of O outputs, bias [O])",
            lhs: weight.shape().to_vec(),
            rhs: b.shape().to_vec(),
        });
    }
    // `b` is read as the product's B: `W` stored transposed, `Wᵀ` stored as is.
    let w = MatRef {
        data: weight.data(),
        rows: i,
        cols: o,
        transposed: !weight_is_transposed,
    };
    let out = new_product(MatRef::new(x.data(), n, i), w, bias.map(Tensor::data));
    Tensor::from_parts(vec![n, o], out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`crate::reference::gemm`] with `alpha = 1`, `beta = 0`, rounded to f32.
    fn reference(a: MatRef, b: MatRef) -> Vec<f32> {
        crate::reference::gemm(a, b, Scale::OVERWRITE, &[])
            .into_iter()
            .map(|x| x as f32)
            .collect()
    }

    #[test]
    fn both_backends_agree_with_the_reference_for_every_layout() {
        // Integer-valued inputs in [-3, 3]: every product and partial sum is an integer below 2^24,
        // so f32 results are exact and must equal the reference bit for bit.
        // 300·70·60 multiply-adds is above PARALLEL_MIN_MACS, so with 2 threads this takes the banded
        // path of matrixmultiply (bands of 80 rows: 80, 80, 80, 60 — a ragged last band included)
        // and the threaded path of our gemm.
        let (m, k, n) = (300, 70, 60);
        let ints = |len: usize, seed: usize| -> Vec<f32> {
            (0..len)
                .map(|i| ((i * 7 + seed) % 7) as f32 - 3.0)
                .collect()
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = ints(m * k, 1);
            let b = ints(k * n, 2);
            let a = Plan::operand(&a, m, k, ta);
            let b = Plan::operand(&b, k, n, tb);
            let want = reference(a, b);
            let mut c = vec![f32::NAN; m * n];
            pool.install(|| {
                sgemm_matrixmultiply(a, b, Scale::OVERWRITE, MatMut::new(&mut c, m, n))
            });
            assert_eq!(c, want, "matrixmultiply bands, layout ta={ta} tb={tb}");
            let mut c = vec![f32::NAN; m * n];
            pool.install(|| crate::gemm::sgemm(a, b, Scale::OVERWRITE, MatMut::new(&mut c, m, n)));
            assert_eq!(c, want, "our gemm, layout ta={ta} tb={tb}");
        }
    }
}
