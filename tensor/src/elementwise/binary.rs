//! Binary arithmetic with NumPy broadcasting, on the SIMD kernels, and the `std::ops` operators.

use crate::simd;
use crate::Tensor;

impl Tensor {
    /// `self + other`, broadcasting.
    #[track_caller]
    pub fn add(&self, other: &Tensor) -> Tensor {
        self.broadcast_with(other, "add", simd::add)
    }

    /// `self − other`, broadcasting.
    #[track_caller]
    pub fn sub(&self, other: &Tensor) -> Tensor {
        self.broadcast_with(other, "sub", simd::sub)
    }

    /// `self · other` elementwise, broadcasting.
    #[track_caller]
    pub fn mul(&self, other: &Tensor) -> Tensor {
        self.broadcast_with(other, "mul", simd::mul)
    }

    /// `self / other` elementwise, broadcasting.
    #[track_caller]
    pub fn div(&self, other: &Tensor) -> Tensor {
        self.broadcast_with(other, "div", simd::div)
    }

    /// `max(self, other)` elementwise, broadcasting.
    #[track_caller]
    pub fn maximum(&self, other: &Tensor) -> Tensor {
        self.broadcast_with(other, "maximum", simd::maximum)
    }
}

macro_rules! operators {
    ($trait:ident, $method:ident, $scalar:ident) => {
        impl std::ops::$trait<&Tensor> for &Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, other: &Tensor) -> Tensor {
                Tensor::$method(self, other)
            }
        }
        impl std::ops::$trait<f32> for &Tensor {
            type Output = Tensor;
            fn $method(self, s: f32) -> Tensor {
                Tensor::$scalar(self, s)
            }
        }
    };
}
operators!(Add, add, add_scalar);
operators!(Sub, sub, sub_scalar);
operators!(Mul, mul, mul_scalar);
operators!(Div, div, div_scalar);

impl std::ops::Neg for &Tensor {
    type Output = Tensor;
    fn neg(self) -> Tensor {
        Tensor::neg(self)
    }
}
