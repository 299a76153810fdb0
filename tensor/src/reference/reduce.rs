//! Sums, means and maxima: what `Tensor::sum_all`, `sum_axis`, `mean_axis`, `max_axis` and
//! `argmax_axis` compute (their fast forms sum pairwise, in SIMD lanes and on threads).
//!
//! A reduction over axis `a` sees the tensor as `[outer, n, inner]`: `outer` is the product of the
//! sizes before `a`, `n = shape[a]` and `inner` the product of the sizes after it, so element
//! `(o, j, i)` sits at flat index `(o·n + j)·inner + i`. The result has one value per `(o, i)`, in
//! that (row-major) order, whether or not the reduced axis is kept with size 1.

use crate::Tensor;

/// `(outer, n, inner)` for a reduction of `shape` over `axis`.
fn split_at_axis(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    assert!(
        axis < shape.len(),
        "reference: axis {axis} of shape {shape:?}"
    );
    let outer = shape[..axis].iter().product();
    let inner = shape[axis + 1..].iter().product();
    (outer, shape[axis], inner)
}

/// `Σ x` over every element, in f64 (0 for an empty tensor).
pub fn sum_all(x: &Tensor) -> f64 {
    let mut total = 0.0f64;
    for &v in x.data() {
        total += v as f64;
    }
    total
}

/// `S[o, i] = Σ_{j<n} X[o, j, i]` in f64, in the `[outer, n, inner]` view of the module doc.
pub fn sum_axis(x: &Tensor, axis: usize) -> Vec<f64> {
    let (outer, n, inner) = split_at_axis(x.shape(), axis);
    let data = x.data();
    let mut out = Vec::with_capacity(outer * inner);
    for o in 0..outer {
        for i in 0..inner {
            let mut total = 0.0f64;
            for j in 0..n {
                total += data[(o * n + j) * inner + i] as f64;
            }
            out.push(total);
        }
    }
    out
}

/// `M[o, i] = (1/n)·Σ_{j<n} X[o, j, i]` in f64 (NaN when the axis is empty, as 0/0).
pub fn mean_axis(x: &Tensor, axis: usize) -> Vec<f64> {
    let n = x.shape()[axis] as f64;
    sum_axis(x, axis).into_iter().map(|s| s / n).collect()
}

/// For every `(o, i)`: the largest of `X[o, j, i]` over `j < n` and the `j` where it was found.
///
/// Rule, as the fast kernels document it: the first maximum on ties (a later equal value does not
/// replace it), and a NaN wins, the first NaN of the run (a maximum that skipped a NaN would hide a
/// bug upstream). Values are copied, never computed, so they are f32. Panics on an empty axis,
/// which has no maximum.
pub fn max_axis_with_argmax(x: &Tensor, axis: usize) -> (Vec<f32>, Vec<usize>) {
    let (outer, n, inner) = split_at_axis(x.shape(), axis);
    assert!(
        n > 0,
        "reference::max_axis_with_argmax: axis {axis} is empty"
    );
    let data = x.data();
    let (mut values, mut indices) = (Vec::new(), Vec::new());
    for o in 0..outer {
        for i in 0..inner {
            let mut best = 0;
            for j in 1..n {
                let (v, b) = (
                    data[(o * n + j) * inner + i],
                    data[(o * n + best) * inner + i],
                );
                if b.is_nan() {
                    break;
                }
                if v.is_nan() || v > b {
                    best = j;
                }
            }
            values.push(data[(o * n + best) * inner + i]);
            indices.push(best);
        }
    }
    (values, indices)
}
