//! An in-memory labelled data set: N samples of one shape, stored back to back.
//!
//! Layout: `inputs` is row-major `[N, ..sample_shape]`, so sample `i` is the slice
//! `inputs[i·S .. (i+1)·S]` with `S = ∏ sample_shape`. For MNIST `sample_shape` is `[1, 28, 28]`
//! (one channel, so a batch is already `[B, C, H, W]` for a convolution); for MNIST-1D `[1, 40]`.
//! Labels are class indices in `0..classes`.
//!
//! Everything that reshapes a data set (subset, split, take, class filter) copies: data sets here
//! are small enough (MNIST is 188 MB as f32) that a copy is cheaper to reason about than views.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// N labelled samples of shape `sample_shape`, in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// `[N, ..sample_shape]`, row-major.
    pub inputs: Vec<f32>,
    pub sample_shape: Vec<usize>,
    /// One class index per sample, each below `classes`.
    pub labels: Vec<usize>,
    pub classes: usize,
}

impl Dataset {
    /// A data set from its parts, checked for consistency.
    ///
    /// # Panics
    /// If `inputs` is not `labels.len()` samples of `sample_shape`, or a label is not below
    /// `classes`. Loaders check file contents and return errors; reaching this panic means the code
    /// that assembled the parts is wrong.
    pub fn new(
        inputs: Vec<f32>,
        sample_shape: Vec<usize>,
        labels: Vec<usize>,
        classes: usize,
    ) -> Dataset {
        let per_sample: usize = sample_shape.iter().product();
        assert_eq!(
            inputs.len(),
            labels.len() * per_sample,
            "Dataset::new: {} labels of samples shaped {sample_shape:?} need {} inputs, got {}",
            labels.len(),
            labels.len() * per_sample,
            inputs.len()
        );
        if let Some((i, &label)) = labels.iter().enumerate().find(|(_, &l)| l >= classes) {
            panic!("Dataset::new: label {label} of sample {i} is not below classes = {classes}");
        }
        Dataset {
            inputs,
            sample_shape,
            labels,
            classes,
        }
    }

    /// The number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the data set holds no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The number of values in one sample, `∏ sample_shape`.
    pub fn sample_len(&self) -> usize {
        self.sample_shape.iter().product()
    }

    /// Sample `i`'s values.
    pub fn sample(&self, i: usize) -> &[f32] {
        assert!(
            i < self.len(),
            "Dataset::sample: index {i} out of range for {} samples",
            self.len()
        );
        let s = self.sample_len();
        &self.inputs[i * s..(i + 1) * s]
    }

    /// A new data set of the samples at `indices`, in that order (repeats allowed).
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let s = self.sample_len();
        let mut inputs = Vec::with_capacity(indices.len() * s);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            inputs.extend_from_slice(self.sample(i));
            labels.push(self.labels[i]);
        }
        Dataset {
            inputs,
            sample_shape: self.sample_shape.clone(),
            labels,
            classes: self.classes,
        }
    }

    /// Splits into `(kept, split)`: `split` holds `count` samples chosen uniformly at random (the
    /// same ones for the same `seed`), `kept` all the others. Both keep the original order, so
    /// carving a validation set off a training set does not also shuffle it.
    ///
    /// # Panics
    /// If `count` exceeds the number of samples.
    pub fn split_off(&self, count: usize, seed: u64) -> (Dataset, Dataset) {
        let n = self.len();
        assert!(
            count <= n,
            "Dataset::split_off: cannot split {count} samples off a data set of {n}"
        );
        // A partial Fisher–Yates shuffle: after step k, order[..k] is a uniform random k-subset.
        let mut order: Vec<usize> = (0..n).collect();
        let mut rng = StdRng::seed_from_u64(seed);
        for k in 0..count {
            let j = rng.random_range(k..n);
            order.swap(k, j);
        }
        let mut chosen = vec![false; n];
        for &i in &order[..count] {
            chosen[i] = true;
        }
        let (split, kept): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| chosen[i]);
        (self.subset(&kept), self.subset(&split))
    }

    /// The first `n` samples (all of them if there are fewer), like `Iterator::take`.
    pub fn take(&self, n: usize) -> Dataset {
        let n = n.min(self.len());
        Dataset {
            inputs: self.inputs[..n * self.sample_len()].to_vec(),
            sample_shape: self.sample_shape.clone(),
            labels: self.labels[..n].to_vec(),
            classes: self.classes,
        }
    }

    /// The mean and the (population) standard deviation of every input value, accumulated in f64:
    /// MNIST's training set has 47 million values, and an f32 running sum loses digits long before
    /// the end (its ulp at 6·10⁶ is 0.5).
    pub fn mean_std(&self) -> (f32, f32) {
        if self.inputs.is_empty() {
            return (0.0, 0.0);
        }
        let n = self.inputs.len() as f64;
        let mean = self.inputs.iter().map(|&x| x as f64).sum::<f64>() / n;
        // Two passes (mean first, then squared deviations) rather than E[x²] − E[x]², which
        // cancels badly when the spread is small next to the mean.
        let var = self
            .inputs
            .iter()
            .map(|&x| {
                let d = x as f64 - mean;
                d * d
            })
            .sum::<f64>()
            / n;
        (mean as f32, var.sqrt() as f32)
    }

    /// Replaces every input `x` by `(x − mean) / std`, in place.
    ///
    /// # Panics
    /// If `std` is not positive and finite.
    pub fn normalise(&mut self, mean: f32, std: f32) {
        assert!(
            std > 0.0 && std.is_finite(),
            "Dataset::normalise: std must be positive and finite, got {std}"
        );
        // One multiply per value instead of a divide; the difference is within an ulp.
        let inv = 1.0 / std;
        for x in &mut self.inputs {
            *x = (*x - mean) * inv;
        }
    }

    /// The samples whose label is one of `keep`, relabelled by position in `keep`: with
    /// `keep = [4, 9]` a 4 becomes class 0 and a 9 class 1, and `classes` becomes 2.
    ///
    /// # Panics
    /// If `keep` lists a class twice or a class not below `classes`.
    pub fn filter_classes(&self, keep: &[usize]) -> Dataset {
        let mut new_label = vec![None; self.classes];
        for (k, &class) in keep.iter().enumerate() {
            assert!(
                class < self.classes,
                "Dataset::filter_classes: class {class} is not below classes = {}",
                self.classes
            );
            assert!(
                new_label[class].is_none(),
                "Dataset::filter_classes: class {class} listed twice in {keep:?}"
            );
            new_label[class] = Some(k);
        }
        let indices: Vec<usize> = (0..self.len())
            .filter(|&i| new_label[self.labels[i]].is_some())
            .collect();
        let mut out = self.subset(&indices);
        for label in &mut out.labels {
            *label = new_label[*label].expect("only kept classes were selected");
        }
        out.classes = keep.len();
        out
    }

    /// How many samples each class has, indexed by class.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes];
        for &label in &self.labels {
            counts[label] += 1;
        }
        counts
    }
}
