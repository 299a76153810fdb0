//! The second view's data: the test images on which a student trained alone and the same student
//! distilled predict different classes, with every model's logits for each.
//!
//! Where the two agree, distillation changed nothing one can see in a prediction; where they
//! disagree, the two distributions side by side show what the teacher's soft targets moved.

use std::path::Path;

use nn::data::load_idx_set;
use tensor::Tensor;

use super::models::{Loaded, Role, RunModels, PIXELS, SIDE};

/// The test images and their labels.
pub struct TestImages {
    /// `n × PIXELS` values in [0, 1], ink 1.
    pub pixels: Vec<f32>,
    pub labels: Vec<usize>,
    /// The classes' names (the folder's classes.txt, else the class numbers).
    pub class_names: Vec<String>,
}

impl TestImages {
    /// The test half of the IDX set in `dir`; the images must be [`SIDE`] × [`SIDE`] and have
    /// `classes` classes, as the run's models do.
    pub fn read(dir: &Path, classes: usize) -> Result<TestImages, String> {
        let set = load_idx_set(dir).map_err(|e| e.to_string())?;
        let test = set.test;
        if test.sample_len() != PIXELS {
            return Err(format!(
                "{}: expected test images of {SIDE} × {SIDE} pixels as the page's models take, \
                 found {} values per image",
                dir.display(),
                test.sample_len()
            ));
        }
        if test.classes > classes {
            return Err(format!(
                "{}: expected labels below {classes} as the run's models have {classes} \
                 outputs, found {} classes",
                dir.display(),
                test.classes
            ));
        }
        let class_names = set
            .class_names
            .unwrap_or_else(|| (0..classes).map(|c| c.to_string()).collect());
        Ok(TestImages {
            pixels: test.inputs,
            labels: test.labels,
            class_names,
        })
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn image(&self, i: usize) -> &[f32] {
        &self.pixels[i * PIXELS..(i + 1) * PIXELS]
    }
}

/// One student's two versions and where they disagree.
pub struct Pair {
    /// The student's description ("mlp:10,10").
    pub spec: String,
    /// Indices into [`RunModels::models`].
    pub alone: usize,
    pub distilled: usize,
    /// The test images (indices) whose predicted classes differ, in test-set order.
    pub disagreements: Vec<usize>,
}

/// Every model's test logits and the students' disagreements.
pub struct Disagreements {
    pub test: TestImages,
    /// `[n, classes]` per model, in [`RunModels::models`] order.
    pub logits: Vec<Tensor>,
    pub pairs: Vec<Pair>,
}

/// How many images one forward pass takes while the test set is read.
const BATCH: usize = 500;

impl Disagreements {
    /// Runs every model of `run` (with `loaded`, a copy of them) over `test`.
    pub fn find(run: &RunModels, loaded: &mut Loaded, test: TestImages) -> Disagreements {
        let logits: Vec<Tensor> = run
            .models
            .iter()
            .enumerate()
            .map(|(index, info)| {
                let parts: Vec<Tensor> = test
                    .pixels
                    .chunks(BATCH * PIXELS)
                    .map(|images| loaded.logits(info, index, images))
                    .collect();
                let parts: Vec<&Tensor> = parts.iter().collect();
                Tensor::concat(&parts, 0)
            })
            .collect();
        let predicted: Vec<Vec<usize>> = logits.iter().map(kd::metrics::predictions).collect();
        let pairs = run
            .models
            .iter()
            .enumerate()
            .filter(|(_, m)| m.role == Role::Alone)
            .filter_map(|(alone, m)| {
                let distilled = run
                    .models
                    .iter()
                    .position(|d| d.role == Role::Distilled && d.spec == m.spec)?;
                Some(Pair {
                    spec: m.spec.to_string(),
                    alone,
                    distilled,
                    disagreements: differ(&predicted[alone], &predicted[distilled]),
                })
            })
            .collect();
        Disagreements {
            test,
            logits,
            pairs,
        }
    }

    /// Model `model`'s logits for test image `i`.
    pub fn logits_of(&self, model: usize, i: usize) -> &[f32] {
        let classes = self.logits[model].shape()[1];
        &self.logits[model].data()[i * classes..(i + 1) * classes]
    }
}

/// The positions where two lists of predicted classes differ.
fn differ(a: &[usize], b: &[usize]) -> Vec<usize> {
    a.iter()
        .zip(b)
        .enumerate()
        .filter(|(_, (x, y))| x != y)
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disagreements_are_the_positions_that_differ() {
        assert_eq!(differ(&[1, 2, 3, 4], &[1, 5, 3, 0]), vec![1, 3]);
        assert_eq!(differ(&[7, 7], &[7, 7]), Vec::<usize>::new());
    }
}
