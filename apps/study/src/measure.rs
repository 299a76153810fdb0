//! Inference speed: throughput on large batches and the latency of one sample, both without
//! recording a graph. Medians of repeated timings, so that one preempted run does not decide.

use std::time::Instant;

use autograd::{no_grad, Var};
use nn::data::Dataset;
use nn::Module;
use tensor::Tensor;

/// How fast a model classifies.
#[derive(Debug, Clone, Copy)]
pub struct Speed {
    /// Samples per second in batches of 1000.
    pub throughput: f64,
    /// Microseconds for one sample (batch of 1), median.
    pub latency_us: f64,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Measures `model` (in evaluation mode) on the first samples of `data`.
pub fn speed(model: &mut dyn Module, data: &Dataset) -> Speed {
    model.set_training(false);
    let take = |n: usize| {
        let n = n.min(data.len());
        let mut shape = vec![n];
        shape.extend_from_slice(&data.sample_shape);
        Tensor::from_vec(data.inputs[..n * data.sample_len()].to_vec(), &shape)
            .expect("n samples of the data set's shape")
    };
    let batch = Var::constant(take(1000));
    let one = Var::constant(take(1));
    let samples = batch.shape()[0] as f64;
    no_grad(|| {
        model.forward(&batch); // warm-up: first-touch allocations, lazily started threads
        let throughput = median(
            (0..5)
                .map(|_| {
                    let t = Instant::now();
                    model.forward(&batch);
                    samples / t.elapsed().as_secs_f64()
                })
                .collect(),
        );
        let latency_us = median(
            (0..101)
                .map(|_| {
                    let t = Instant::now();
                    model.forward(&one);
                    t.elapsed().as_secs_f64() * 1e6
                })
                .collect(),
        );
        Speed {
            throughput,
            latency_us,
        }
    })
}
