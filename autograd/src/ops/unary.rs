//! Elementwise functions `y = f(x)`, each given by `f` and its derivative `f'`.
//!
//! The chain rule for an elementwise function is the same for all of them: `∂L/∂x = g · f'(x)`,
//! with `g = ∂L/∂y`. So each function below supplies only its derivative, and one generic
//! [`elementwise`] records it. Where `f'` is cheaper from the output than from the input (exp,
//! sigmoid, tanh, sqrt), the output is what the backward keeps.
//!
//! | op | f(x) | f'(x) |
//! |---|---|---|
//! | exp | eˣ | eˣ = y |
//! | ln | ln x | 1/x |
//! | sqrt | √x | 1/(2√x) = 1/(2y) |
//! | powf(p) | xᵖ | p·xᵖ⁻¹ |
//! | abs | \|x\| | sign x (0 at 0) |
//! | relu | max(x, 0) | 1 if x > 0, else 0 |
//! | leaky_relu(a) | x if x > 0, else a·x | 1 if x > 0, else a |
//! | sigmoid | σ(x) = 1/(1+e⁻ˣ) | σ(x)(1 − σ(x)) = y(1 − y) |
//! | tanh | tanh x | 1 − tanh² x = 1 − y² |

use tensor::Tensor;

use crate::var::Var;

/// Where an elementwise op's derivative is computed from.
enum Derivative<F> {
    /// `f'` as a function of the input `x`.
    OfInput(F),
    /// `f'` as a function of the output `y = f(x)`.
    OfOutput(F),
}

/// Records `y = forward(x)` with backward `∂L/∂x += g · f'(·)`.
fn elementwise<F>(op: &'static str, x: &Var, y: Tensor, derivative: Derivative<F>) -> Var
where
    F: Fn(f32) -> f32 + Sync + 'static,
{
    // Keep a copy of the output only if a backward will need it (not during inference).
    let recording = crate::no_grad::is_recording() && x.requires_grad();
    let (keep, df) = match derivative {
        Derivative::OfInput(df) => (None, df),
        Derivative::OfOutput(df) => (recording.then(|| y.clone()), df),
    };
    Var::from_op(op, y, &[x], move |g, inputs| {
        let x = &inputs[0];
        let local = match &keep {
            Some(y) => y.map(&df),
            None => x.value().map(&df), // OfInput (OfOutput always keeps y when recording)
        };
        x.accumulate_grad(g.mul(&local));
    })
}

impl Var {
    /// `eˣ`.
    pub fn exp(&self) -> Var {
        let y = self.value().exp();
        elementwise("exp", self, y, Derivative::OfOutput(|y| y))
    }

    /// `ln x` (x > 0).
    pub fn ln(&self) -> Var {
        let y = self.value().ln();
        elementwise("ln", self, y, Derivative::OfInput(|x| 1.0 / x))
    }

    /// `√x` (x > 0 for a finite gradient).
    pub fn sqrt(&self) -> Var {
        let y = self.value().sqrt();
        elementwise("sqrt", self, y, Derivative::OfOutput(|y| 0.5 / y))
    }

    /// `xᵖ` for a constant exponent `p`.
    pub fn powf(&self, p: f32) -> Var {
        let y = self.value().powf(p);
        elementwise(
            "powf",
            self,
            y,
            Derivative::OfInput(move |x: f32| p * x.powf(p - 1.0)),
        )
    }

    /// `|x|`; its derivative at 0 is taken as 0 (a subgradient).
    pub fn abs(&self) -> Var {
        let y = self.value().abs();
        let sign = |x: f32| {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                0.0
            }
        };
        elementwise("abs", self, y, Derivative::OfInput(sign))
    }

    /// `max(x, 0)`; its derivative at 0 is taken as 0.
    ///
    /// Not through [`elementwise`]: the backward `∂L/∂x = g · [y > 0]` (from the output: `y > 0`
    /// exactly when `x > 0`) is one in-place pass over the owned gradient, reading the node's own
    /// output — no copy of `y` kept, no `f'(y)` tensor, no product tensor. The generic form is
    /// kept in the tests as the reference (`relu_backward_matches_the_generic_elementwise_form`).
    pub fn relu(&self) -> Var {
        let y = self.value().relu();
        Var::from_op_owned("relu", y, &[self], |mut g, y, inputs| {
            g.relu_backward_(y);
            inputs[0].accumulate_grad(g);
        })
    }

    /// ReLU through the generic [`elementwise`] recording (a kept copy of `y`, `g · f'(y)`): the
    /// reference [`Var::relu`]'s fused backward is tested against.
    #[doc(hidden)]
    pub fn relu_reference(&self) -> Var {
        let y = self.value().relu();
        let step = |y: f32| if y > 0.0 { 1.0 } else { 0.0 };
        elementwise("relu", self, y, Derivative::OfOutput(step))
    }

    /// `x` for `x > 0`, `slope·x` otherwise.
    pub fn leaky_relu(&self, slope: f32) -> Var {
        let y = self.value().leaky_relu(slope);
        let df = move |x: f32| if x > 0.0 { 1.0 } else { slope };
        elementwise("leaky_relu", self, y, Derivative::OfInput(df))
    }

    /// `σ(x) = 1/(1 + e⁻ˣ)`.
    pub fn sigmoid(&self) -> Var {
        let y = self.value().sigmoid();
        elementwise("sigmoid", self, y, Derivative::OfOutput(|y| y * (1.0 - y)))
    }

    /// `tanh x`.
    pub fn tanh(&self) -> Var {
        let y = self.value().tanh();
        elementwise("tanh", self, y, Derivative::OfOutput(|y| 1.0 - y * y))
    }
}
