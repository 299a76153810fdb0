//! Ops that move elements without changing them: reshape, permute/transpose, slice, concat,
//! gather_rows. The backward of each moves the gradient back the same way, by the adjoint move:
//!
//! ```text
//! reshape      ∂L/∂x = reshape(g, shape of x)
//! permute(p)   ∂L/∂x = permute(g, p⁻¹)              (p⁻¹ the inverse permutation)
//! slice        ∂L/∂x = g placed in the sliced range, 0 elsewhere   (slice_add_)
//! concat       ∂L/∂x_k = the k-th slice of g
//! gather_rows  ∂L/∂x = Σ over the positions that read each row     (scatter_add_rows)
//! ```

use tensor::Tensor;

use crate::var::Var;

impl Var {
    /// The same elements under a new shape.
    pub fn reshape(&self, shape: &[usize]) -> Var {
        let y = self.value().clone().reshape(shape);
        // The gradient is taken by value: reshaping it back moves the buffer, no copy.
        Var::from_op_owned("reshape", y, &[self], |g, _, inputs| {
            let x = &inputs[0];
            x.accumulate_grad(g.reshape(&x.shape()));
        })
    }

    /// Reorders the axes: axis `i` of the result is axis `order[i]` of `self`.
    pub fn permute(&self, order: &[usize]) -> Var {
        let y = self.value().permute(order);
        let mut inverse = vec![0; order.len()];
        for (i, &a) in order.iter().enumerate() {
            inverse[a] = i;
        }
        Var::from_op("permute", y, &[self], move |g, inputs| {
            inputs[0].accumulate_grad(g.permute(&inverse));
        })
    }

    /// Swaps two axes.
    pub fn transpose(&self, axis0: usize, axis1: usize) -> Var {
        let mut order: Vec<usize> = (0..self.shape().len()).collect();
        order.swap(axis0, axis1);
        self.permute(&order)
    }

    /// Entries `start..end` along `axis`.
    pub fn slice(&self, axis: usize, start: usize, end: usize) -> Var {
        let y = self.value().slice(axis, start, end);
        Var::from_op("slice", y, &[self], move |g, inputs| {
            inputs[0].accumulate_grad_with(|grad| grad.slice_add_(axis, start, g));
        })
    }

    /// Joins values along an existing axis.
    pub fn concat(vars: &[&Var], axis: usize) -> Var {
        let values: Vec<Tensor> = vars.iter().map(|v| v.value().clone()).collect();
        let y = Tensor::concat(&values.iter().collect::<Vec<_>>(), axis);
        let sizes: Vec<usize> = values.iter().map(|t| t.shape()[axis]).collect();
        Var::from_op("concat", y, vars, move |g, inputs| {
            let mut start = 0;
            for (x, &len) in inputs.iter().zip(&sizes) {
                x.accumulate_grad(g.slice(axis, start, start + len));
                start += len;
            }
        })
    }

    /// The rows (axis 0) at `indices`, in order; a row may be taken several times.
    pub fn gather_rows(&self, indices: &[usize]) -> Var {
        let y = self.value().gather_rows(indices);
        let indices = indices.to_vec();
        Var::from_op("gather_rows", y, &[self], move |g, inputs| {
            inputs[0].accumulate_grad_with(|grad| grad.scatter_add_rows(&indices, g));
        })
    }

    /// All but the first axis merged into one: `[N, …] → [N, rest]` (what sits between a CNN's
    /// convolutions and its dense layers).
    pub fn flatten(&self) -> Var {
        let shape = self.shape();
        let rest = shape[1..].iter().product();
        self.reshape(&[shape[0], rest])
    }
}
