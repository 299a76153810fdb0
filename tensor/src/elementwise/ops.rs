//! `std::ops` for tensors, so formulas read as formulas: `&a + &b`, `&x * 0.5`, `-&y`.
//!
//! Implemented on references only: every op makes a new tensor and needs no ownership of its
//! operands, and `&a + &b` keeps `a` and `b` usable afterwards. Each operator is the inherent method
//! of the same name (`Tensor::add` …), so it broadcasts and panics exactly like it.

use std::ops::{Add, Div, Mul, Neg, Sub};

use crate::Tensor;

macro_rules! tensor_op {
    ($trait:ident, $method:ident, $scalar_method:ident) => {
        impl $trait<&Tensor> for &Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: &Tensor) -> Tensor {
                Tensor::$method(self, rhs)
            }
        }

        impl $trait<f32> for &Tensor {
            type Output = Tensor;
            fn $method(self, rhs: f32) -> Tensor {
                Tensor::$scalar_method(self, rhs)
            }
        }
    };
}

tensor_op!(Add, add, add_scalar);
tensor_op!(Sub, sub, sub_scalar);
tensor_op!(Mul, mul, mul_scalar);
tensor_op!(Div, div, div_scalar);

impl Neg for &Tensor {
    type Output = Tensor;
    fn neg(self) -> Tensor {
        Tensor::neg(self)
    }
}
