//! Mixup (Zhang et al. 2018): train on convex combinations of pairs of samples.
//!
//! For a batch `x` with labels `y`, draw `λ ~ Beta(α, α)` and a random pairing `π` of the batch with
//! itself, then train on
//!
//! ```text
//! x̃ = λ·x + (1 − λ)·x_π          ỹ = λ·onehot(y) + (1 − λ)·onehot(y_π)
//! ```
//!
//! The model learns to behave linearly between training samples, which smooths its decision
//! boundaries. With a teacher, the student learns the *teacher's output on the mixed input* —
//! something no label can say — so mixup and distillation combine naturally (the teacher must then
//! run on the fly: its cached outputs were for unmixed inputs). `α` around 0.2–0.4 mixes gently
//! (most `λ` near 0 or 1); `α = 1` draws `λ` uniformly.

use rand::{Rng, RngExt};
use rand_distr::{Beta, Distribution};
use tensor::Tensor;

use crate::response::HardTargets;

/// A mixed batch.
pub struct Mixed {
    /// `λ·x + (1 − λ)·x_π`.
    pub inputs: Tensor,
    /// `λ·onehot(y) + (1 − λ)·onehot(y_π)`, one row per sample.
    pub targets: HardTargets,
    pub lambda: f32,
}

/// Mixes a batch `inputs [B, …]` with labels, one `λ ~ Beta(α, α)` for the whole batch.
pub fn mixup<R: Rng + ?Sized>(
    inputs: &Tensor,
    labels: &[usize],
    classes: usize,
    alpha: f32,
    rng: &mut R,
) -> Mixed {
    let beta = Beta::new(alpha, alpha)
        .unwrap_or_else(|e| panic!("mixup: α must be positive, found {alpha} ({e})"));
    let lambda: f32 = beta.sample(rng);
    let batch = labels.len();
    // A random permutation (Fisher–Yates) pairs each sample with another.
    let mut partner: Vec<usize> = (0..batch).collect();
    for i in (1..batch).rev() {
        partner.swap(i, rng.random_range(0..=i));
    }
    mix_with(inputs, labels, classes, lambda, &partner)
}

/// The mix itself, for a given `λ` and pairing (`partner[i]` is sample i's partner).
pub fn mix_with(
    inputs: &Tensor,
    labels: &[usize],
    classes: usize,
    lambda: f32,
    partner: &[usize],
) -> Mixed {
    let batch = labels.len();
    assert!(
        inputs.shape().first() == Some(&batch) && partner.len() == batch,
        "mixup: {} labels and {} partners for inputs of shape {:?}",
        batch,
        partner.len(),
        inputs.shape()
    );
    let per_sample = inputs.numel() / batch.max(1);
    let x = inputs.data();
    let mut mixed = Vec::with_capacity(inputs.numel());
    let mut targets = Tensor::zeros(&[batch, classes]);
    for (i, &j) in partner.iter().enumerate() {
        let (a, b) = (
            &x[i * per_sample..(i + 1) * per_sample],
            &x[j * per_sample..(j + 1) * per_sample],
        );
        mixed.extend(
            a.iter()
                .zip(b)
                .map(|(&a, &b)| lambda * a + (1.0 - lambda) * b),
        );
        targets.data_mut()[i * classes + labels[i]] += lambda;
        targets.data_mut()[i * classes + labels[j]] += 1.0 - lambda;
    }
    Mixed {
        inputs: Tensor::from_vec(mixed, inputs.shape()).expect("same shape as the inputs"),
        targets: HardTargets::Distributions(targets),
        lambda,
    }
}
