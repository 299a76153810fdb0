//! Matrix products: `C = op(A) · op(B)`, 2-D or batched, with either operand transposed.
//!
//! Shapes: `op(A)` is `[…, M, K]`, `op(B)` is `[…, K, N]`, `C` is `[…, M, N]`. For one matrix,
//! `C_ij = Σ_p op(A)_ip · op(B)_pj`, so with `G = ∂L/∂C`:
//!
//! ```text
//! ∂L/∂op(A) = G · op(B)ᵀ        (M×N · N×K)
//! ∂L/∂op(B) = op(A)ᵀ · G        (K×M · M×N)
//! ```
//!
//! and when an operand was stored transposed (`op(A) = Aᵀ`), its gradient is the transpose of that:
//! `∂L/∂A = (G · op(B)ᵀ)ᵀ = op(B) · Gᵀ`. Every one of these is again a single `matmul_t` — the
//! transposes are strides, never copies. Batch axes that broadcast are summed back (`sum_to_shape`).

use tensor::Tensor;

use crate::var::Var;

impl Var {
    /// `self · other` (see [`Tensor::matmul`] for shapes and batch broadcasting).
    pub fn matmul(&self, other: &Var) -> Var {
        self.matmul_t(false, other, false)
    }

    /// `op(self) · op(other)`, each transposed (last two axes) when its flag is set.
    pub fn matmul_t(&self, ta: bool, other: &Var, tb: bool) -> Var {
        let c = self.value().matmul_t(ta, &other.value(), tb);
        Var::from_op("matmul", c, &[self, other], move |g, inputs| {
            let (a, b) = (&inputs[0], &inputs[1]);
            if a.requires_grad() {
                let (av, bv) = (a.value(), b.value());
                // The forward read op(A); its gradient G·op(B)ᵀ, or for a stored Aᵀ, op(B)·Gᵀ.
                let da = if ta {
                    bv.matmul_t(tb, g, true)
                } else {
                    g.matmul_t(false, &bv, !tb)
                };
                let shape = av.shape().to_vec();
                drop((av, bv));
                a.accumulate_grad(reduce_batch(da, &shape));
            }
            if b.requires_grad() {
                let (av, bv) = (a.value(), b.value());
                // op(A)ᵀ·G, or for a stored Bᵀ, Gᵀ·op(A).
                let db = if tb {
                    g.matmul_t(true, &av, ta)
                } else {
                    av.matmul_t(!ta, g, false)
                };
                let shape = bv.shape().to_vec();
                drop((av, bv));
                b.accumulate_grad(reduce_batch(db, &shape));
            }
        })
    }
}

/// A gradient computed per batch entry, summed over batch axes the operand was broadcast along.
fn reduce_batch(grad: Tensor, shape: &[usize]) -> Tensor {
    if grad.shape() == shape {
        grad
    } else {
        grad.sum_to_shape(shape)
    }
}
