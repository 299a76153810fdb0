//! Activation layers: the elementwise non-linearities between linear layers, without which a stack
//! of layers would collapse into one linear map. Each wraps an autograd op (`ops/unary.rs` has
//! the derivatives).
//!
//! | layer | y | ∂y/∂x |
//! |---|---|---|
//! | `Relu` | max(x, 0) | 1 if x > 0 else 0 |
//! | `LeakyRelu(a)` | x if x > 0 else a·x | 1 if x > 0 else a |
//! | `Sigmoid` | 1/(1 + e^−x) | y(1 − y) |
//! | `Tanh` | tanh x | 1 − y² |

use autograd::Var;

use crate::module::{Module, Named};

macro_rules! activation {
    ($name:ident, $doc:literal, |$x:ident| $body:expr) => {
        #[doc = $doc]
        pub struct $name;

        impl Module for $name {
            fn forward(&mut self, $x: &Var) -> Var {
                $body
            }
            fn parameters(&self) -> Vec<Named> {
                Vec::new()
            }
            fn describe(&self) -> String {
                stringify!($name).to_string()
            }
        }
    };
}

activation!(Relu, "`max(x, 0)`.", |x| x.relu());
activation!(Sigmoid, "`1/(1 + e^−x)`.", |x| x.sigmoid());
activation!(Tanh, "`tanh x`.", |x| x.tanh());

/// `x` for positive inputs, `slope·x` otherwise (a small slope keeps a gradient for negative inputs).
pub struct LeakyRelu {
    pub slope: f32,
}

impl Module for LeakyRelu {
    fn forward(&mut self, x: &Var) -> Var {
        x.leaky_relu(self.slope)
    }
    fn parameters(&self) -> Vec<Named> {
        Vec::new()
    }
    fn describe(&self) -> String {
        format!("LeakyRelu({})", self.slope)
    }
}
