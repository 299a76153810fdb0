//! SIMD kernels on slices, with the instruction set chosen at run time.
//!
//! (Skeleton: every function currently runs the scalar reference. The SIMD paths are added by the
//! tensor issue; the public signatures below are the contract the rest of the crate codes against.)

pub mod scalar;

/// `out[i] = a[i] + b[i]`.
pub fn add(a: &[f32], b: &[f32], out: &mut [f32]) {
    scalar::add(a, b, out)
}
/// `out[i] = a[i] − b[i]`.
pub fn sub(a: &[f32], b: &[f32], out: &mut [f32]) {
    scalar::sub(a, b, out)
}
/// `out[i] = a[i] · b[i]`.
pub fn mul(a: &[f32], b: &[f32], out: &mut [f32]) {
    scalar::mul(a, b, out)
}
/// `out[i] = a[i] / b[i]`.
pub fn div(a: &[f32], b: &[f32], out: &mut [f32]) {
    scalar::div(a, b, out)
}
/// `out[i] = max(a[i], b[i])`.
pub fn maximum(a: &[f32], b: &[f32], out: &mut [f32]) {
    scalar::maximum(a, b, out)
}
/// `out[i] = a[i] + s`.
pub fn add_scalar(a: &[f32], s: f32, out: &mut [f32]) {
    scalar::add_scalar(a, s, out)
}
/// `out[i] = a[i] · s`.
pub fn mul_scalar(a: &[f32], s: f32, out: &mut [f32]) {
    scalar::mul_scalar(a, s, out)
}
/// `y[i] += alpha · x[i]` (BLAS's axpy).
pub fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    scalar::axpy(alpha, x, y)
}
/// `out[i] = max(a[i], 0)`.
pub fn relu(a: &[f32], out: &mut [f32]) {
    scalar::relu(a, out)
}
/// `out[i] = exp(a[i])`.
pub fn exp(a: &[f32], out: &mut [f32]) {
    scalar::exp(a, out)
}
/// `Σ a[i]`.
pub fn sum(a: &[f32]) -> f32 {
    scalar::sum(a)
}
/// `max a[i]`, or −∞ for an empty slice.
pub fn max(a: &[f32]) -> f32 {
    scalar::max(a)
}
/// `Σ a[i]·b[i]`.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    scalar::dot(a, b)
}
