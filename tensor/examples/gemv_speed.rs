//! On-CPU time of the batch-1 products of the MLP 784-800-800-10 (`mlp_infer_b1`): our GEMM,
//! which routes `m == 1` to its matrix–vector path (`gemm/gemv/`), against `matrixmultiply`,
//! which packs all of `op(B)` on every call as our packed path did before.
//!
//! `cargo run --release -p tensor --example gemv_speed [REPEATS]`
//!
//! One thread (a 1-thread global pool: the larger products here are above
//! `GEMV_PARALLEL_MIN_MACS`); the clock is this thread's on-CPU time (`/proc/thread-self/schedstat`), so time
//! given to other processes on a shared machine is not counted. Each figure is the median over
//! REPEATS (default 7) batches of about 100 ms, in µs per call. Reading the clock costs several µs
//! (a file read), so a batch reads it only at its ends and its number of calls is fixed beforehand
//! from a first timing.
//!
//! Two settings: each product alone, its weights hot in cache from the previous call, and the
//! *forward*: the three products one after the other on three distinct weight matrices (5.1 MB, as
//! in `mlp_infer_b1`), where the weights of a layer have been pushed out of the nearer caches by
//! the other two by the time it comes round again. The forward is timed twice: from `W [out, in]`
//! (`B` stored transposed, the matrix–vector path's rows form) and from `Wᵀ [in, out]` (`B` as is,
//! its columns form), the copy `nn::Dense` keeps for one-sample inference.

fn on_cpu_ns() -> u64 {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").expect("Linux schedstat");
    text.split_whitespace().next().unwrap().parse().unwrap()
}

/// Median µs per call of `f`, batches of ~100 ms of on-CPU time.
fn micros(repeats: usize, mut f: impl FnMut()) -> f64 {
    f();
    let start = on_cpu_ns();
    let mut calls = 0u64;
    while on_cpu_ns() - start < 20_000_000 {
        f();
        calls += 1;
    }
    let calls = (calls * 5).max(1);
    let mut per_call = Vec::new();
    for _ in 0..repeats {
        let start = on_cpu_ns();
        for _ in 0..calls {
            f();
        }
        per_call.push((on_cpu_ns() - start) as f64 / 1e3 / calls as f64);
    }
    per_call.sort_by(f64::total_cmp);
    per_call[repeats / 2]
}

use tensor::{MatMut, MatRef, Scale};

fn main() {
    // One thread: above GEMV_PARALLEL_MIN_MACS the products would otherwise use rayon's global pool,
    // and this thread's on-CPU time would miss the other thread's share.
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build_global()
        .expect("the global pool is not built yet");
    let repeats: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    // x·Wᵀ with W [out, in] row-major: m = 1, k = in, n = out, B stored transposed.
    let layers = [(784, 800), (800, 800), (800, 10)];
    let inputs: Vec<Vec<f32>> = layers
        .iter()
        .map(|&(k, _)| (0..k).map(|i| (i % 7) as f32 * 0.1).collect())
        .collect();
    let weights: Vec<Vec<f32>> = layers
        .iter()
        .map(|&(k, n)| (0..k * n).map(|i| (i % 13) as f32 * 0.01).collect())
        .collect();
    let mut outputs: Vec<Vec<f32>> = layers.iter().map(|&(_, n)| vec![0.0; n]).collect();
    println!("| product (batch 1) | ours µs | matrixmultiply µs | ratio |");
    println!("|---|---:|---:|---:|");
    let (mut ours_total, mut theirs_total) = (0.0, 0.0);
    for (l, &(k, n)) in layers.iter().enumerate() {
        // x·Wᵀ: the weight W [n, k] read transposed.
        let (a, b) = (
            MatRef::new(&inputs[l], 1, k),
            MatRef::new(&weights[l], n, k).t(),
        );
        let c = &mut outputs[l];
        let ours = micros(repeats, || {
            tensor::gemm::sgemm(a, b, Scale::OVERWRITE, MatMut::new(c, 1, n))
        });
        let theirs = micros(repeats, || {
            tensor::matmul::sgemm_matrixmultiply(a, b, Scale::OVERWRITE, MatMut::new(c, 1, n))
        });
        ours_total += ours;
        theirs_total += theirs;
        println!(
            "| 1×{k}×{n}, Bᵀ, hot | {ours:.1} | {theirs:.1} | {:.2} |",
            theirs / ours
        );
    }
    println!(
        "| sum | {ours_total:.1} | {theirs_total:.1} | {:.2} |",
        theirs_total / ours_total
    );
    let forward = micros(repeats, || {
        for (l, &(k, n)) in layers.iter().enumerate() {
            let (a, b) = (
                MatRef::new(&inputs[l], 1, k),
                MatRef::new(&weights[l], n, k).t(),
            );
            let c = MatMut::new(&mut outputs[l], 1, n);
            tensor::gemm::sgemm(a, b, Scale::OVERWRITE, c);
        }
    });
    println!("| forward (the three in turn) | {forward:.1} | | |");
    // The same forward from the weights stored transposed, Wᵀ [in, out] (B as is): the columns
    // form, which is how `nn::Dense` evaluates one sample (it keeps a copy of Wᵀ).
    let weights_t: Vec<Vec<f32>> = layers
        .iter()
        .zip(&weights)
        .map(|(&(k, n), w)| {
            let mut t = vec![0.0; k * n];
            for (j, row) in w.chunks_exact(k).enumerate() {
                for (p, &x) in row.iter().enumerate() {
                    t[p * n + j] = x;
                }
            }
            t
        })
        .collect();
    let forward_t = micros(repeats, || {
        for (l, &(k, n)) in layers.iter().enumerate() {
            let (a, b) = (
                MatRef::new(&inputs[l], 1, k),
                MatRef::new(&weights_t[l], k, n),
            );
            let c = MatMut::new(&mut outputs[l], 1, n);
            tensor::gemm::sgemm(a, b, Scale::OVERWRITE, c);
        }
    });
    println!("| forward from Wᵀ (B as is) | {forward_t:.1} | | |");
}
