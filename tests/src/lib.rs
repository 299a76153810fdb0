//! Workspace-level integration and property tests live in `tests/tests/`; this library holds the
//! input generators they share, and the two helpers every property test file uses: how many
//! cases to run, and the gradient check as a proptest failure.
//!
//! Every gradient test draws its inputs here, so the rules that keep a finite-difference check
//! honest are written once: values keep away from kinks (relu at 0, ties in a max) by more than
//! twice the check's step, and functions with a restricted domain (ln, sqrt, division) get inputs
//! well inside it.

pub mod sources;

use autograd::{gradcheck, Var};
use proptest::test_runner::{Config as ProptestConfig, TestCaseError};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tensor::Tensor;

/// `cases` proptest cases, unless `PROPTEST_CASES` in the environment says otherwise (to run a
/// file longer, or shorter while working on it).
pub fn proptest_config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    ProptestConfig::with_cases(cases)
}

/// The shared `gradcheck` of `f` at `inputs`, its failure as a proptest failure (which then
/// shrinks the inputs and names the op, the input, the element and both values).
pub fn check(op: &str, inputs: &[Tensor], f: impl Fn(&[Var]) -> Var) -> Result<(), TestCaseError> {
    gradcheck(op, inputs, f).map_err(|e| TestCaseError::fail(e.to_string()))
}

/// `n` class labels below `classes`, a fixed pattern shifted by `seed` (every class appears once
/// `n ≥ classes`).
pub fn labels(n: usize, classes: usize, seed: u64) -> Vec<usize> {
    (0..n)
        .map(|i| (i * 7 + seed as usize % 13) % classes)
        .collect()
}

/// Values uniform in `[low, high)`, reproducible from `seed`.
pub fn uniform(shape: &[usize], low: f32, high: f32, seed: u64) -> Tensor {
    Tensor::uniform(shape, low, high, &mut StdRng::seed_from_u64(seed))
}

/// Values in `[−2, 2]` with `|x| ≥ 0.1`: away from the kinks of relu, abs and leaky_relu at 0.
pub fn away_from_zero(shape: &[usize], seed: u64) -> Tensor {
    let mut rng = StdRng::seed_from_u64(seed);
    let data = (0..shape.iter().product::<usize>())
        .map(|_| {
            let magnitude = rng.random_range(0.1f32..2.0);
            if rng.random::<bool>() {
                magnitude
            } else {
                -magnitude
            }
        })
        .collect();
    Tensor::from_vec(data, shape).expect("length matches the shape")
}

/// Distinct values (a shuffled ladder with steps of 0.1, centred on 0): no two elements within
/// 0.1 of each other, so a max or a max-pool never has a near-tie that a finite difference could
/// flip (the check's steps are at most 1/64).
pub fn distinct(shape: &[usize], seed: u64) -> Tensor {
    let n: usize = shape.iter().product();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut data: Vec<f32> = (0..n).map(|i| (i as f32 - n as f32 / 2.0) * 0.1).collect();
    for i in (1..n).rev() {
        data.swap(i, rng.random_range(0..=i));
    }
    Tensor::from_vec(data, shape).expect("length matches the shape")
}

/// Rows that are probability distributions (positive, summing to 1): soft targets.
pub fn distributions(rows: usize, classes: usize, seed: u64) -> Tensor {
    let raw = uniform(&[rows, classes], -2.0, 2.0, seed);
    raw.softmax(1.0)
}

/// The Rust blocks of the book's chapters (docs/book/), compiled and run as this package's
/// doctests, so that an example in the book cannot go stale: `cargo test -p distillery-tests
/// --doc`. (Shell and text blocks are marked `sh` and `text`, which rustdoc leaves alone.)
#[cfg(doctest)]
pub mod book {
    #[doc = include_str!("../../docs/book/01-tensor.md")]
    pub struct Tensor;
    #[doc = include_str!("../../docs/book/02-autograd.md")]
    pub struct Autograd;
    #[doc = include_str!("../../docs/book/03-nn.md")]
    pub struct Nn;
    #[doc = include_str!("../../docs/book/04-distillation.md")]
    pub struct Distillation;
    #[doc = include_str!("../../docs/book/05-performance.md")]
    pub struct Performance;
}
