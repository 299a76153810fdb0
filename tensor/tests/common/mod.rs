//! Inputs and measures shared by the tensor crate's integration tests (`mod common;` in each).
//!
//! Each test binary uses only some of these, hence the `allow(dead_code)`.
#![allow(dead_code)]

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tensor::Tensor;

/// Unit roundoff of f32 (2⁻²⁴): the relative error of one rounded operation.
pub const U: f64 = 1.0 / (1u64 << 24) as f64;

/// Uniform floats in [−1, 1), reproducible from `seed`.
pub fn floats(shape: &[usize], seed: u64) -> Tensor {
    Tensor::uniform(shape, -1.0, 1.0, &mut StdRng::seed_from_u64(seed))
}

/// Integers in `−bound..=bound` as f32: small enough that every product and partial sum a test
/// forms stays an integer below 2²⁴, so f32 results are exact and can be compared bit for bit.
pub fn ints(shape: &[usize], bound: i32, seed: u64) -> Tensor {
    let mut rng = StdRng::seed_from_u64(seed);
    let len = shape.iter().product();
    let data = (0..len)
        .map(|_| rng.random_range(-bound..=bound) as f32)
        .collect();
    Tensor::from_vec(data, shape).unwrap()
}
