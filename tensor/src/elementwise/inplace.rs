//! In-place updates, for optimisers: `w.axpy_(-lr, &grad)` changes `w` without allocating.
//!
//! The trailing underscore marks mutation (PyTorch's convention). The right-hand operand must
//! broadcast *to* `self`'s shape — the result must fit in `self` — so `[2, 3] += [3]` is fine and
//! `[3] += [2, 3]` is refused, naming the op and both shapes. Equal shapes (the optimiser's case)
//! run in place on parallel chunks; a broadcast right-hand side is computed out of place and then
//! moved into `self` (one allocation; rare in practice).

use crate::error::{fail, TensorError};
use crate::parallel::for_each_chunk_mut;
use crate::shape::{broadcast_shapes, check_same_shape};
use crate::simd;
use crate::Tensor;

/// Panics unless `other` broadcasts to `target` (the result of the op must have `target`'s shape).
#[track_caller]
fn check_broadcasts_to(op: &'static str, target: &[usize], other: &[usize]) {
    match broadcast_shapes(op, target, other) {
        Ok(shape) if shape == target => {}
        _ => fail(TensorError::ShapeMismatch {
            op,
            lhs: target.to_vec(),
            rhs: other.to_vec(),
        }),
    }
}

impl Tensor {
    /// `self += other` (`other` broadcast to `self`'s shape).
    #[track_caller]
    pub fn add_(&mut self, other: &Tensor) {
        check_broadcasts_to("add_", self.shape(), other.shape());
        if self.shape() == other.shape() {
            // y + 1·x is exactly y + x (the product by 1 is exact), fused or not.
            self.axpy_unchecked(1.0, other);
        } else {
            *self = Tensor::add(self, other);
        }
    }

    /// `self −= other` (`other` broadcast to `self`'s shape).
    #[track_caller]
    pub fn sub_(&mut self, other: &Tensor) {
        check_broadcasts_to("sub_", self.shape(), other.shape());
        if self.shape() == other.shape() {
            // y + (−1)·x is exactly y − x.
            self.axpy_unchecked(-1.0, other);
        } else {
            *self = Tensor::sub(self, other);
        }
    }

    /// `self ⊙= other` (`other` broadcast to `self`'s shape).
    #[track_caller]
    pub fn mul_(&mut self, other: &Tensor) {
        check_broadcasts_to("mul_", self.shape(), other.shape());
        if self.shape() == other.shape() {
            let x = other.data();
            for_each_chunk_mut(self.data_mut(), |offset, chunk| {
                for (y, &v) in chunk.iter_mut().zip(&x[offset..]) {
                    *y *= v;
                }
            });
        } else {
            *self = Tensor::mul(self, other);
        }
    }

    /// `self ⊙= [y > 0]`: ReLU's backward in one pass over the incoming gradient, in place.
    ///
    /// `y` is ReLU's *output*: `y > 0` exactly when its input was `> 0`, where the derivative is
    /// 1; elsewhere (0, or NaN in `y`) the gradient becomes 0. That is `g · f'(y)` as
    /// `Tensor::mul(g, y.map(step))` computes it, without the two temporaries, except that an
    /// infinite or NaN gradient at a non-positive `y` gives 0 rather than `∞·0 = NaN` — as
    /// PyTorch's `threshold_backward` does (a select, not a product). Shapes must be equal.
    #[track_caller]
    pub fn relu_backward_(&mut self, y: &Tensor) {
        check_same_shape("relu_backward_", self.shape(), y.shape());
        let y = y.data();
        for_each_chunk_mut(self.data_mut(), |offset, chunk| {
            for (g, &v) in chunk.iter_mut().zip(&y[offset..]) {
                // A select, not a branch: the compiler makes it a compare and a mask.
                *g = if v > 0.0 { *g } else { 0.0 };
            }
        });
    }

    /// `self ·= s`.
    pub fn scale_(&mut self, s: f32) {
        for_each_chunk_mut(self.data_mut(), |_, chunk| {
            for y in chunk {
                *y *= s;
            }
        });
    }

    /// `self += alpha · x` (BLAS's axpy; fused multiply-add on the SIMD levels). `x` must have
    /// exactly `self`'s shape: this is the optimiser's step, where a broadcast would be a bug.
    ///
    /// The definition, as plain loops: [`reference::axpy`](crate::reference::axpy).
    #[track_caller]
    pub fn axpy_(&mut self, alpha: f32, x: &Tensor) {
        check_same_shape("axpy_", self.shape(), x.shape());
        self.axpy_unchecked(alpha, x);
    }

    /// Sets every element to `value`.
    pub fn fill_(&mut self, value: f32) {
        self.data_mut().fill(value);
    }

    /// `self += alpha · x` for equal shapes (checked by the caller), in parallel chunks.
    fn axpy_unchecked(&mut self, alpha: f32, x: &Tensor) {
        let x = x.data();
        for_each_chunk_mut(self.data_mut(), |offset, chunk| {
            simd::axpy(alpha, &x[offset..offset + chunk.len()], chunk)
        });
    }
}
