//! `+ − × ÷` with NumPy broadcasting, negation, and the scalar forms.
//!
//! For `y = a ∘ b` with `a`, `b` broadcast to `y`'s shape and upstream gradient `g = ∂L/∂y`:
//!
//! ```text
//! y = a + b   ∂L/∂a = g            ∂L/∂b = g
//! y = a − b   ∂L/∂a = g            ∂L/∂b = −g
//! y = a · b   ∂L/∂a = g · b        ∂L/∂b = g · a
//! y = a / b   ∂L/∂a = g / b        ∂L/∂b = −g · a / b²  = −g · y / b
//! ```
//!
//! Broadcasting used one element of `a` for many elements of `y`, so its gradient is the sum of
//! theirs: each gradient is summed back down to its input's shape (`sum_to_shape`, the adjoint of
//! broadcasting). That is how a bias of shape `[C]` added to a batch `[N, C]` gets `Σ_n g[n, :]`.

use tensor::Tensor;

use crate::var::Var;

/// Adds `grad` (of the broadcast output's shape) into `input`'s gradient, summed down to its shape.
fn accumulate_broadcast(input: &Var, grad: Tensor) {
    if !input.requires_grad() {
        return;
    }
    let shape = input.shape();
    if grad.shape() == shape.as_slice() {
        input.accumulate_grad(grad);
    } else {
        input.accumulate_grad(grad.sum_to_shape(&shape));
    }
}

impl Var {
    /// `self + other`, broadcasting.
    pub fn add(&self, other: &Var) -> Var {
        let y = self.value().add(&other.value());
        // The gradient is taken by value: the first input that needs it gets the buffer itself
        // (or its sum over broadcast axes); only when both need the full-shape gradient is it copied.
        Var::from_op_owned("add", y, &[self, other], |g, _, inputs| {
            let (a, b) = (&inputs[0], &inputs[1]);
            if b.requires_grad() {
                if !a.requires_grad() {
                    return accumulate_broadcast(b, g);
                }
                if b.shape() == g.shape() {
                    accumulate_broadcast(b, g.clone());
                } else {
                    b.accumulate_grad(g.sum_to_shape(&b.shape()));
                }
            }
            accumulate_broadcast(a, g);
        })
    }

    /// `self − other`, broadcasting.
    pub fn sub(&self, other: &Var) -> Var {
        let y = self.value().sub(&other.value());
        Var::from_op("sub", y, &[self, other], |g, inputs| {
            accumulate_broadcast(&inputs[0], g.clone());
            accumulate_broadcast(&inputs[1], g.neg());
        })
    }

    /// `self · other` elementwise, broadcasting.
    pub fn mul(&self, other: &Var) -> Var {
        let y = self.value().mul(&other.value());
        Var::from_op("mul", y, &[self, other], |g, inputs| {
            let (a, b) = (&inputs[0], &inputs[1]);
            // The forward was y = a·b, so ∂y/∂a = b and ∂y/∂b = a.
            if a.requires_grad() {
                accumulate_broadcast(a, g.mul(&b.value()));
            }
            if b.requires_grad() {
                accumulate_broadcast(b, g.mul(&a.value()));
            }
        })
    }

    /// `self / other` elementwise, broadcasting.
    pub fn div(&self, other: &Var) -> Var {
        let y = self.value().div(&other.value());
        Var::from_op("div", y, &[self, other], |g, inputs| {
            let (a, b) = (&inputs[0], &inputs[1]);
            let g_over_b = g.div(&b.value());
            // ∂(a/b)/∂b = −a/b², so the share of b is −(g/b)·(a/b).
            if b.requires_grad() {
                let a_over_b = a.value().div(&b.value());
                accumulate_broadcast(b, g_over_b.mul(&a_over_b).neg());
            }
            if a.requires_grad() {
                accumulate_broadcast(a, g_over_b);
            }
        })
    }

    /// `−self`.
    pub fn neg(&self) -> Var {
        let y = self.value().neg();
        Var::from_op("neg", y, &[self], |g, inputs| {
            inputs[0].accumulate_grad(g.neg())
        })
    }

    /// `self + s` for a constant `s`.
    pub fn add_scalar(&self, s: f32) -> Var {
        let y = self.value().add_scalar(s);
        Var::from_op_owned("add_scalar", y, &[self], |g, _, inputs| {
            inputs[0].accumulate_grad(g)
        })
    }

    /// `self · s` for a constant `s`: `∂L/∂x = s·g`.
    pub fn mul_scalar(&self, s: f32) -> Var {
        let y = self.value().mul_scalar(s);
        Var::from_op("mul_scalar", y, &[self], move |g, inputs| {
            inputs[0].accumulate_grad(g.mul_scalar(s))
        })
    }
}

macro_rules! binary_operator {
    ($trait:ident, $method:ident) => {
        impl std::ops::$trait<&Var> for &Var {
            type Output = Var;
            fn $method(self, other: &Var) -> Var {
                Var::$method(self, other)
            }
        }
    };
}
binary_operator!(Add, add);
binary_operator!(Sub, sub);
binary_operator!(Mul, mul);
binary_operator!(Div, div);

impl std::ops::Neg for &Var {
    type Output = Var;
    fn neg(self) -> Var {
        Var::neg(self)
    }
}
