//! In-place updates, for optimisers and gradient accumulation: no allocation per step.
//!
//! The right-hand side must broadcast *to* `self`'s shape (it may be smaller, never larger).

use crate::error::{fail, TensorError};
use crate::parallel::for_each_chunk_mut;
use crate::shape::broadcast_shapes;
use crate::simd;
use crate::Tensor;

impl Tensor {
    /// `self ∘= other` through `combine(current, other)`; equal shapes take the SIMD kernel `fast`.
    #[track_caller]
    fn update_with(
        &mut self,
        other: &Tensor,
        op: &'static str,
        fast: impl Fn(&[f32], &mut [f32]) + Sync,
        combine: impl Fn(f32, f32) -> f32 + Sync,
    ) {
        if self.shape() == other.shape() {
            let b = other.data();
            for_each_chunk_mut(self.data_mut(), |offset, chunk| {
                fast(&b[offset..offset + chunk.len()], chunk)
            });
            return;
        }
        let target = broadcast_shapes(op, self.shape(), other.shape()).unwrap_or_else(|e| fail(e));
        if target != self.shape() {
            fail(TensorError::ShapeMismatch {
                op,
                lhs: self.shape().to_vec(),
                rhs: other.shape().to_vec(),
            });
        }
        let updated = self.zip_map(other, op, combine);
        *self = updated;
    }

    /// `self += other`.
    #[track_caller]
    pub fn add_(&mut self, other: &Tensor) {
        self.update_with(other, "add_", |b, a| simd::axpy(1.0, b, a), |a, b| a + b);
    }

    /// `self −= other`.
    #[track_caller]
    pub fn sub_(&mut self, other: &Tensor) {
        self.update_with(other, "sub_", |b, a| simd::axpy(-1.0, b, a), |a, b| a - b);
    }

    /// `self ·= other` elementwise.
    #[track_caller]
    pub fn mul_(&mut self, other: &Tensor) {
        let multiply = |b: &[f32], a: &mut [f32]| a.iter_mut().zip(b).for_each(|(x, &y)| *x *= y);
        self.update_with(other, "mul_", multiply, |a, b| a * b);
    }

    /// `self += alpha · x` (BLAS's axpy): the SGD step `w −= lr·g` is `w.axpy_(-lr, &g)`.
    #[track_caller]
    pub fn axpy_(&mut self, alpha: f32, x: &Tensor) {
        self.update_with(
            x,
            "axpy_",
            |b, a| simd::axpy(alpha, b, a),
            |a, b| a + alpha * b,
        );
    }

    /// `self ·= s`.
    pub fn scale_(&mut self, s: f32) {
        for_each_chunk_mut(self.data_mut(), |_, chunk| {
            chunk.iter_mut().for_each(|x| *x *= s)
        });
    }

    /// Every element set to `value`.
    pub fn fill_(&mut self, value: f32) {
        self.data_mut().fill(value);
    }
}
