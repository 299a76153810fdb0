//! The `Tensor` type: an n-dimensional array of `f32` with a shape, stored contiguously in row-major
//! order.
//!
//! The storage is a plain `Vec<f32>` that the tensor owns. There are no views, no strides other than
//! the row-major ones, and no reference counting: every op returns a fresh tensor, and ops that could
//! be views elsewhere (transpose, slice) copy. That costs a copy now and then, and buys a type whose
//! every element's address a reader can compute in their head — and kernels that may always assume
//! contiguous memory, which is what SIMD and `sgemm` want.

use std::fmt;

use rand::Rng;
use rand_distr::{Distribution, Normal, Uniform};

use crate::error::{fail, TensorError};
use crate::shape::{numel, strides};

/// An n-dimensional `f32` array, row-major and contiguous.
#[derive(Clone, PartialEq)]
pub struct Tensor {
    shape: Vec<usize>,
    data: Vec<f32>,
}

impl Tensor {
    // ----- constructors -------------------------------------------------------------------------

    /// A tensor of the given shape filled with `value`.
    pub fn full(shape: &[usize], value: f32) -> Tensor {
        Tensor {
            shape: shape.to_vec(),
            data: vec![value; numel(shape)],
        }
    }

    /// A tensor of zeros.
    pub fn zeros(shape: &[usize]) -> Tensor {
        Tensor::full(shape, 0.0)
    }

    /// A tensor of ones.
    pub fn ones(shape: &[usize]) -> Tensor {
        Tensor::full(shape, 1.0)
    }

    /// A rank-0 tensor holding one value.
    pub fn scalar(value: f32) -> Tensor {
        Tensor {
            shape: Vec::new(),
            data: vec![value],
        }
    }

    /// Wraps `data` (row-major) as a tensor of shape `shape`; the length must be exactly the number of
    /// elements the shape holds.
    pub fn from_vec(data: Vec<f32>, shape: &[usize]) -> Result<Tensor, TensorError> {
        let expected = numel(shape);
        if data.len() != expected {
            return Err(TensorError::LengthMismatch {
                op: "from_vec",
                shape: shape.to_vec(),
                expected,
                found: data.len(),
            });
        }
        Ok(Tensor {
            shape: shape.to_vec(),
            data,
        })
    }

    /// `[start, start + step, …]`, stopping before `end`, as a 1-D tensor (NumPy's `arange`).
    pub fn arange(start: f32, end: f32, step: f32) -> Tensor {
        if step == 0.0 || !step.is_finite() {
            fail(TensorError::InvalidArgument {
                op: "arange",
                message: format!("step must be finite and non-zero, found {step}"),
            });
        }
        // Computing each value as start + i·step (rather than adding step repeatedly) keeps the
        // rounding error from growing along the range.
        let count = ((end - start) / step).ceil().max(0.0) as usize;
        let data: Vec<f32> = (0..count).map(|i| start + i as f32 * step).collect();
        Tensor {
            shape: vec![data.len()],
            data,
        }
    }

    /// Values drawn uniformly from `[low, high)` with the caller's (seeded) generator, so that the
    /// same seed gives the same tensor bit for bit.
    pub fn uniform<R: Rng + ?Sized>(shape: &[usize], low: f32, high: f32, rng: &mut R) -> Tensor {
        let dist = Uniform::new(low, high).unwrap_or_else(|e| {
            fail(TensorError::InvalidArgument {
                op: "uniform",
                message: format!("bad range [{low}, {high}): {e}"),
            })
        });
        Tensor {
            shape: shape.to_vec(),
            data: (0..numel(shape)).map(|_| dist.sample(rng)).collect(),
        }
    }

    /// Values drawn from a normal distribution `N(mean, std²)` with the caller's (seeded) generator.
    pub fn normal<R: Rng + ?Sized>(shape: &[usize], mean: f32, std: f32, rng: &mut R) -> Tensor {
        let dist = Normal::new(mean, std).unwrap_or_else(|e| {
            fail(TensorError::InvalidArgument {
                op: "normal",
                message: format!("bad standard deviation {std}: {e}"),
            })
        });
        Tensor {
            shape: shape.to_vec(),
            data: (0..numel(shape)).map(|_| dist.sample(rng)).collect(),
        }
    }

    // ----- accessors ----------------------------------------------------------------------------

    /// The size of each axis.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The number of axes.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// The number of elements.
    pub fn numel(&self) -> usize {
        self.data.len()
    }

    /// The elements in row-major order.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// The elements in row-major order, writable. The shape cannot change through this.
    pub fn data_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }

    /// Gives the buffer back.
    pub fn into_vec(self) -> Vec<f32> {
        self.data
    }

    /// The one value of a tensor with a single element (a loss, say).
    #[track_caller]
    pub fn item(&self) -> f32 {
        if self.data.len() != 1 {
            fail(TensorError::InvalidArgument {
                op: "item",
                message: format!("expected a single element, found shape {:?}", self.shape),
            });
        }
        self.data[0]
    }

    /// The element at a multi-index (one index per axis). Meant for tests and printing, not loops.
    #[track_caller]
    pub fn at(&self, index: &[usize]) -> f32 {
        let in_range =
            index.len() == self.shape.len() && index.iter().zip(&self.shape).all(|(&i, &n)| i < n);
        if !in_range {
            fail(TensorError::InvalidArgument {
                op: "at",
                message: format!("index {index:?} is outside shape {:?}", self.shape),
            });
        }
        let offset: usize = index
            .iter()
            .zip(strides(&self.shape))
            .map(|(i, s)| i * s)
            .sum();
        self.data[offset]
    }

    /// The same data under a new shape with the same number of elements. Free: no copy.
    #[track_caller]
    pub fn reshape(self, shape: &[usize]) -> Tensor {
        if numel(shape) != self.data.len() {
            fail(TensorError::ShapeMismatch {
                op: "reshape",
                lhs: self.shape,
                rhs: shape.to_vec(),
            });
        }
        Tensor {
            shape: shape.to_vec(),
            data: self.data,
        }
    }

    /// Builds a tensor from parts the caller has already checked (crate-internal kernels).
    pub(crate) fn from_parts(shape: Vec<usize>, data: Vec<f32>) -> Tensor {
        debug_assert_eq!(numel(&shape), data.len());
        Tensor { shape, data }
    }
}

// ----- printing ---------------------------------------------------------------------------------

/// Tensors with more elements than this print only their first and last few along each axis.
const PRINT_ALL_UP_TO: usize = 1000;
/// How many leading and trailing entries a summarised axis shows.
const PRINT_EDGE: usize = 3;

impl fmt::Display for Tensor {
    /// Nested brackets like NumPy: `[[1, 2], [3, 4]]`, summarised with `…` for large tensors.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let summarise = self.data.len() > PRINT_ALL_UP_TO;
        write_nested(
            f,
            &self.shape,
            &strides(&self.shape),
            &self.data,
            0,
            summarise,
        )
    }
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tensor(shape={:?}, {self})", self.shape)
    }
}

fn write_nested(
    f: &mut fmt::Formatter<'_>,
    shape: &[usize],
    strides: &[usize],
    data: &[f32],
    depth: usize,
    summarise: bool,
) -> fmt::Result {
    if shape.is_empty() {
        return write!(f, "{}", data[0]);
    }
    let n = shape[0];
    write!(f, "[")?;
    for i in 0..n {
        if summarise && n > 2 * PRINT_EDGE && i == PRINT_EDGE {
            write!(f, "…, ")?;
        }
        if summarise && n > 2 * PRINT_EDGE && i >= PRINT_EDGE && i < n - PRINT_EDGE {
            continue;
        }
        let start = i * strides[0];
        let end = start + strides[0];
        write_nested(
            f,
            &shape[1..],
            &strides[1..],
            &data[start..end],
            depth + 1,
            summarise,
        )?;
        if i + 1 < n {
            if shape.len() > 1 {
                write!(f, ",\n{}", " ".repeat(depth + 1))?;
            } else {
                write!(f, ", ")?;
            }
        }
    }
    write!(f, "]")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn from_vec_checks_the_length() {
        let err = Tensor::from_vec(vec![1.0; 5], &[2, 3]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "from_vec: shape [2, 3] needs 6 values, found 5"
        );
        assert!(Tensor::from_vec(vec![1.0; 6], &[2, 3]).is_ok());
    }

    #[test]
    fn arange_matches_numpy() {
        assert_eq!(
            Tensor::arange(0.0, 5.0, 1.0).data(),
            &[0.0, 1.0, 2.0, 3.0, 4.0]
        );
        assert_eq!(
            Tensor::arange(1.0, 2.0, 0.25).data(),
            &[1.0, 1.25, 1.5, 1.75]
        );
        assert_eq!(Tensor::arange(3.0, 0.0, -1.0).data(), &[3.0, 2.0, 1.0]);
        assert_eq!(Tensor::arange(0.0, 0.0, 1.0).numel(), 0);
    }

    #[test]
    fn random_constructors_are_reproducible_from_a_seed() {
        let a = Tensor::normal(&[4, 5], 0.0, 1.0, &mut StdRng::seed_from_u64(7));
        let b = Tensor::normal(&[4, 5], 0.0, 1.0, &mut StdRng::seed_from_u64(7));
        let c = Tensor::normal(&[4, 5], 0.0, 1.0, &mut StdRng::seed_from_u64(8));
        assert_eq!(a, b);
        assert_ne!(a, c);
        let u = Tensor::uniform(&[1000], -2.0, 3.0, &mut StdRng::seed_from_u64(1));
        assert!(u.data().iter().all(|&x| (-2.0..3.0).contains(&x)));
    }

    #[test]
    fn display_nests_like_numpy() {
        let t = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
        assert_eq!(t.to_string(), "[[1, 2, 3],\n [4, 5, 6]]");
        assert_eq!(
            format!("{:?}", Tensor::scalar(2.5)),
            "Tensor(shape=[], 2.5)"
        );
        let big = Tensor::zeros(&[2000]);
        assert_eq!(big.to_string(), "[0, 0, 0, …, 0, 0, 0]");
    }

    #[test]
    fn at_and_reshape() {
        let t = Tensor::arange(0.0, 24.0, 1.0).reshape(&[2, 3, 4]);
        assert_eq!(t.at(&[1, 2, 3]), 23.0);
        assert_eq!(t.at(&[0, 1, 0]), 4.0);
    }

    #[test]
    #[should_panic(expected = "reshape: incompatible shapes [6] and [4]")]
    fn reshape_names_both_shapes() {
        let _ = Tensor::zeros(&[6]).reshape(&[4]);
    }
}
