//! Sums, dot products and `y + alpha·x` of slices: what the SIMD kernels of
//! [`simd`](crate::simd) compute, in f64.

/// `Σ_i a[i]`, added in f64 one term after another (0 for an empty slice).
///
/// The f64 total of f32 terms is exact for up to about 2²⁹ terms of similar size, so a test can
/// treat it as the true sum; an f32 running total would not be (its error grows like `n·ε`).
pub fn sum(a: &[f32]) -> f64 {
    let mut total = 0.0f64;
    for &x in a {
        total += x as f64;
    }
    total
}

/// `⟨a, b⟩ = Σ_i a[i]·b[i]` in f64 (each product of two f32 values is exact in f64).
pub fn dot(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len(), "reference::dot: lengths differ");
    let mut total = 0.0f64;
    for (&x, &y) in a.iter().zip(b) {
        total += x as f64 * y as f64;
    }
    total
}

/// `y[i] + alpha·x[i]` for every `i`, in f64: the value that `axpy` writes into `y`, before it is
/// rounded to f32.
pub fn axpy(alpha: f32, x: &[f32], y: &[f32]) -> Vec<f64> {
    assert_eq!(x.len(), y.len(), "reference::axpy: lengths differ");
    let mut out = Vec::with_capacity(y.len());
    for (&xi, &yi) in x.iter().zip(y) {
        out.push(yi as f64 + alpha as f64 * xi as f64);
    }
    out
}
