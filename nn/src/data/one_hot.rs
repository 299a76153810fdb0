//! One-hot encoding of class labels: `out[b, k] = 1` if `labels[b] = k`, else 0.

use tensor::Tensor;

/// Labels as a `[B, classes]` tensor of one-hot rows (hard targets for a soft-target loss).
///
/// # Panics
/// If a label is not below `classes`.
pub fn one_hot(labels: &[usize], classes: usize) -> Tensor {
    let mut out = Tensor::zeros(&[labels.len(), classes]);
    let data = out.data_mut();
    for (b, &label) in labels.iter().enumerate() {
        assert!(
            label < classes,
            "one_hot: label {label} at position {b} is not below classes = {classes}"
        );
        data[b * classes + label] = 1.0;
    }
    out
}
