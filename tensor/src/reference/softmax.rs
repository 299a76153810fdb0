//! Softmax and log-softmax along the last axis at a temperature `T`: what `Tensor::softmax` and
//! `Tensor::log_softmax` compute (their fast forms use a SIMD `exp` and threads over rows).

use crate::Tensor;

/// For every row `z` of the last axis (`n` values):
///
/// ```text
/// log_softmax_T(z)_i = (z_i − m)/T − log Σ_{j<n} exp((z_j − m)/T),    m = max_j z_j
/// ```
///
/// in f64. Subtracting `m` changes nothing mathematically (it cancels between the two terms) and
/// keeps every `exp` at most 1, so logits of ±1e4 do not overflow even here.
pub fn log_softmax(x: &Tensor, temperature: f32) -> Vec<f64> {
    let t = temperature as f64;
    let n = *x
        .shape()
        .last()
        .expect("reference::log_softmax: needs an axis");
    let mut out = Vec::with_capacity(x.numel());
    if n == 0 {
        return out;
    }
    for z in x.data().chunks(n) {
        let mut m = f64::NEG_INFINITY;
        for &v in z {
            m = m.max(v as f64);
        }
        let mut total = 0.0f64;
        for &v in z {
            total += ((v as f64 - m) / t).exp();
        }
        let log_total = total.ln();
        for &v in z {
            out.push((v as f64 - m) / t - log_total);
        }
    }
    out
}

/// `softmax_T(z)_i = exp(z_i/T) / Σ_j exp(z_j/T)` for every row of the last axis, in f64: the
/// exponential of [`log_softmax`], which is the same quotient with the row's maximum taken out.
pub fn softmax(x: &Tensor, temperature: f32) -> Vec<f64> {
    log_softmax(x, temperature)
        .into_iter()
        .map(f64::exp)
        .collect()
}
