//! The workloads. Each one builds its inputs once (random values: only the timing matters), then
//! times a closure with [`seconds_per_call`] and converts the time to the unit that
//! `shared/BENCHMARKS.md` gives for it.
//!
//! Besides the shared workloads (`sgemm_*`), the kernel workloads under names of our own:
//! - `sgemm_N_direct`: `matrixmultiply::sgemm` called directly on the same matrices — the ceiling
//!   that our `matmul` (which adds shape checks and threading on top) is compared with;
//! - `add_1m` (`Tensor::add`, which allocates its result), `add_1m_into` (the SIMD kernel into a
//!   buffer that already exists) and `memcpy_1m` (copying the same 4 MB): elementwise add should run
//!   close to a plain copy, since both are bound by memory traffic;
//! - `softmax_1024x1000`: a row-wise softmax at temperature 4;
//! - `im2col_32x28x28` and `conv2d_fwd_cnn`: im2col of one 32-channel 28×28 image (3×3 kernel), and
//!   the two convolutions of the `cnn_train` network, forward only, on a batch of 128.
//!
//! - `tree_fit_classification` and `tree_fit_regression`: a 4 096-leaf decision tree fitted on
//!   MNIST, see [`crate::trees`].
//!
//! The model workloads (`mlp_train`, `cnn_train`, `conv1d_train`, `kd_step`, `mlp_infer_b1`,
//! `mlp_infer_b1024`) are set up in [`crate::training`]; the training ones can also be run for a
//! fixed number of steps ([`training_step`]), for measuring a process's peak memory.

use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::conv::{conv2d, im2col_2d, Conv2dGeometry, Conv2dParams};
use tensor::Tensor;

use crate::timing::{seconds_per_call, Settings};
use crate::training::{Infer, KdStep, TrainStep, BATCH};

/// The seed every model workload starts from (weights, inputs, labels).
const SEED: u64 = 42;

/// One benchmark: its name, its unit, and how to measure it.
pub struct Workload {
    pub name: &'static str,
    pub unit: &'static str,
    pub measure: fn(&Settings) -> f64,
    /// A data folder the workload reads, relative to the repository root (`None`: it makes its
    /// own inputs).
    pub needs: Option<&'static str>,
}

/// Every workload, in the order they run.
pub fn all() -> Vec<Workload> {
    vec![
        Workload {
            name: "sgemm_256",
            unit: "GFLOP/s",
            measure: |s| sgemm(s, 256),
            needs: None,
        },
        Workload {
            name: "sgemm_512",
            unit: "GFLOP/s",
            measure: |s| sgemm(s, 512),
            needs: None,
        },
        Workload {
            name: "sgemm_1024",
            unit: "GFLOP/s",
            measure: |s| sgemm(s, 1024),
            needs: None,
        },
        Workload {
            name: "sgemm_256_direct",
            unit: "GFLOP/s",
            measure: |s| sgemm_direct(s, 256),
            needs: None,
        },
        Workload {
            name: "sgemm_512_direct",
            unit: "GFLOP/s",
            measure: |s| sgemm_direct(s, 512),
            needs: None,
        },
        Workload {
            name: "sgemm_1024_direct",
            unit: "GFLOP/s",
            measure: |s| sgemm_direct(s, 1024),
            needs: None,
        },
        Workload {
            name: "add_1m",
            unit: "µs per call",
            measure: add_1m,
            needs: None,
        },
        Workload {
            name: "add_1m_into",
            unit: "µs per call",
            measure: add_1m_into,
            needs: None,
        },
        Workload {
            name: "memcpy_1m",
            unit: "µs per call",
            measure: memcpy_1m,
            needs: None,
        },
        Workload {
            name: "softmax_1024x1000",
            unit: "µs per call",
            measure: softmax,
            needs: None,
        },
        Workload {
            name: "im2col_32x28x28",
            unit: "µs per call",
            measure: im2col,
            needs: None,
        },
        Workload {
            name: "conv2d_fwd_cnn",
            unit: "samples/s",
            measure: conv2d_fwd_cnn,
            needs: None,
        },
        Workload {
            name: "mlp_train",
            unit: "samples/s",
            measure: |s| train(s, "mlp_train"),
            needs: None,
        },
        Workload {
            name: "cnn_train",
            unit: "samples/s",
            measure: |s| train(s, "cnn_train"),
            needs: None,
        },
        Workload {
            name: "conv1d_train",
            unit: "samples/s",
            measure: |s| train(s, "conv1d_train"),
            needs: None,
        },
        Workload {
            name: "kd_step",
            unit: "samples/s",
            measure: |s| train(s, "kd_step"),
            needs: None,
        },
        Workload {
            name: "mlp_infer_b1",
            unit: "µs per call",
            measure: |s| {
                let mut infer = Infer::mlp(1, SEED);
                seconds_per_call(s, || infer.call()) * 1e6
            },
            needs: None,
        },
        Workload {
            name: "mlp_infer_b1024",
            unit: "samples/s",
            measure: |s| {
                let mut infer = Infer::mlp(1024, SEED);
                1024.0 / seconds_per_call(s, || infer.call())
            },
            needs: None,
        },
        Workload {
            name: "tree_fit_classification",
            unit: "s per fit",
            measure: |s| tree_fit(s, crate::trees::fit_classification),
            needs: Some(crate::trees::MNIST_DIR),
        },
        Workload {
            name: "tree_fit_regression",
            unit: "s per fit",
            measure: |s| tree_fit(s, crate::trees::fit_regression),
            needs: Some(crate::trees::MNIST_DIR),
        },
    ]
}

/// A training workload's step, set up and ready to call (it returns the step's loss); `None` for
/// a name that is not a training workload.
pub fn training_step(name: &str) -> Option<Box<dyn FnMut() -> f32>> {
    Some(match name {
        "mlp_train" => {
            let mut t = TrainStep::mlp(SEED);
            Box::new(move || t.step())
        }
        "cnn_train" => {
            let mut t = TrainStep::cnn(SEED);
            Box::new(move || t.step())
        }
        "conv1d_train" => {
            let mut t = TrainStep::conv1d(SEED);
            Box::new(move || t.step())
        }
        "kd_step" => {
            let mut t = KdStep::new(SEED);
            Box::new(move || t.step())
        }
        _ => return None,
    })
}

/// Samples per second of a training workload (each step is one batch of [`BATCH`]).
fn train(settings: &Settings, name: &str) -> f64 {
    let mut step = training_step(name).expect("a training workload");
    BATCH as f64 / seconds_per_call(settings, &mut step)
}

fn rng() -> StdRng {
    StdRng::seed_from_u64(42)
}

/// `C = A·B` for square `n×n` matrices, through `Tensor::matmul`; 2n³ floating-point operations.
fn sgemm(settings: &Settings, n: usize) -> f64 {
    let a = Tensor::uniform(&[n, n], -1.0, 1.0, &mut rng());
    let b = Tensor::uniform(&[n, n], -1.0, 1.0, &mut rng());
    let t = seconds_per_call(settings, || a.matmul(&b));
    2.0 * (n as f64).powi(3) / t / 1e9
}

/// The same product by calling `matrixmultiply::sgemm` directly into an existing buffer.
fn sgemm_direct(settings: &Settings, n: usize) -> f64 {
    let a = Tensor::uniform(&[n, n], -1.0, 1.0, &mut rng());
    let b = Tensor::uniform(&[n, n], -1.0, 1.0, &mut rng());
    let mut c = vec![0.0f32; n * n];
    let t = seconds_per_call(settings, || {
        // SAFETY: a, b and c each hold n·n floats, addressed with row-major strides (n, 1).
        unsafe {
            matrixmultiply::sgemm(
                n,
                n,
                n,
                1.0,
                a.data().as_ptr(),
                n as isize,
                1,
                b.data().as_ptr(),
                n as isize,
                1,
                0.0,
                c.as_mut_ptr(),
                n as isize,
                1,
            )
        }
    });
    2.0 * (n as f64).powi(3) / t / 1e9
}

const MILLION: usize = 1 << 20;

fn add_1m(settings: &Settings) -> f64 {
    let a = Tensor::uniform(&[MILLION], -1.0, 1.0, &mut rng());
    let b = Tensor::uniform(&[MILLION], -1.0, 1.0, &mut rng());
    seconds_per_call(settings, || a.add(&b)) * 1e6
}

fn add_1m_into(settings: &Settings) -> f64 {
    let a = Tensor::uniform(&[MILLION], -1.0, 1.0, &mut rng());
    let b = Tensor::uniform(&[MILLION], -1.0, 1.0, &mut rng());
    let mut out = vec![0.0f32; MILLION];
    seconds_per_call(settings, || {
        tensor::parallel::for_each_chunk_mut(&mut out, |offset, part| {
            let end = offset + part.len();
            tensor::simd::add(&a.data()[offset..end], &b.data()[offset..end], part)
        })
    }) * 1e6
}

fn memcpy_1m(settings: &Settings) -> f64 {
    let a = Tensor::uniform(&[MILLION], -1.0, 1.0, &mut rng());
    let mut out = vec![0.0f32; MILLION];
    seconds_per_call(settings, || out.copy_from_slice(a.data())) * 1e6
}

fn softmax(settings: &Settings) -> f64 {
    let logits = Tensor::normal(&[1024, 1000], 0.0, 3.0, &mut rng());
    seconds_per_call(settings, || logits.softmax(4.0)) * 1e6
}

fn im2col(settings: &Settings) -> f64 {
    let geometry = Conv2dGeometry::new([32, 28, 28], [3, 3], Conv2dParams::default());
    let image = Tensor::uniform(&[32, 28, 28], -1.0, 1.0, &mut rng());
    let mut columns = vec![0.0f32; geometry.columns_len()];
    seconds_per_call(settings, || {
        im2col_2d(image.data(), &geometry, &mut columns)
    }) * 1e6
}

fn conv2d_fwd_cnn(settings: &Settings) -> f64 {
    const BATCH: usize = 128;
    let images = Tensor::uniform(&[BATCH, 1, 28, 28], 0.0, 1.0, &mut rng());
    let w1 = Tensor::normal(&[32, 1, 3, 3], 0.0, 0.3, &mut rng());
    let w2 = Tensor::normal(&[64, 32, 3, 3], 0.0, 0.06, &mut rng());
    let b1 = Tensor::zeros(&[32]);
    let b2 = Tensor::zeros(&[64]);
    let t = seconds_per_call(settings, || {
        let h = conv2d(&images, &w1, Some(&b1), Conv2dParams::default());
        conv2d(&h, &w2, Some(&b2), Conv2dParams::default())
    });
    BATCH as f64 / t
}

/// Seconds per fit of a 4 096-leaf tree on MNIST (see [`crate::trees`]). Exits with a message if
/// MNIST cannot be read (`main` skips these workloads when its folder is missing).
fn tree_fit(settings: &Settings, fit: fn(&crate::trees::TreeProblem) -> trees::Tree) -> f64 {
    let problem = match crate::trees::problem() {
        Ok(problem) => problem,
        Err(e) => {
            eprintln!("bench: {e}");
            std::process::exit(2);
        }
    };
    let mut leaves = 0;
    let seconds = seconds_per_call(settings, || leaves = fit(&problem).leaves());
    eprintln!("bench: the tree has {leaves} leaves");
    seconds
}
