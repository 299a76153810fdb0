//! On-CPU time of the batch-1 products of the MLP 784-800-800-10 (`mlp_infer_b1`): our GEMM,
//! which routes `m == 1` to its matrix–vector path (`gemm/gemv.rs`), against `matrixmultiply`,
//! which packs all of `op(B)` on every call as our packed path did before.
//!
//! `cargo run --release -p tensor --example gemv_speed [REPEATS]`
//!
//! One thread; the clock is this thread's on-CPU time (`/proc/thread-self/schedstat`), so time
//! given to other processes on a shared machine is not counted. Each figure is the median over
//! REPEATS (default 7) batches of about 100 ms, in µs per call.

fn on_cpu_ns() -> u64 {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").expect("Linux schedstat");
    text.split_whitespace().next().unwrap().parse().unwrap()
}

/// Median µs per call of `f`, batches of ~100 ms of on-CPU time.
fn micros(repeats: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut per_call = Vec::new();
    for _ in 0..repeats {
        let start = on_cpu_ns();
        let mut calls = 0u64;
        while on_cpu_ns() - start < 100_000_000 {
            f();
            calls += 1;
        }
        per_call.push((on_cpu_ns() - start) as f64 / 1e3 / calls as f64);
    }
    per_call.sort_by(f64::total_cmp);
    per_call[repeats / 2]
}

fn main() {
    let repeats: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    // x·Wᵀ with W [out, in] row-major: m = 1, k = in, n = out, B stored transposed.
    let layers = [(784, 800), (800, 800), (800, 10)];
    println!("| product (batch 1) | ours µs | matrixmultiply µs | ratio |");
    println!("|---|---:|---:|---:|");
    let (mut ours_total, mut theirs_total) = (0.0, 0.0);
    for (k, n) in layers {
        let a: Vec<f32> = (0..k).map(|i| (i % 7) as f32 * 0.1).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i % 13) as f32 * 0.01).collect();
        let mut c = vec![0.0; n];
        let ours = micros(repeats, || {
            tensor::gemm::sgemm(1, k, n, 1.0, &a, false, &b, true, 0.0, &mut c)
        });
        let theirs = micros(repeats, || {
            tensor::matmul::sgemm_matrixmultiply(1, k, n, 1.0, &a, false, &b, true, 0.0, &mut c)
        });
        ours_total += ours;
        theirs_total += theirs;
        println!(
            "| 1×{k}×{n}, Bᵀ | {ours:.1} | {theirs:.1} | {:.2} |",
            theirs / ours
        );
    }
    println!(
        "| sum | {ours_total:.1} | {theirs_total:.1} | {:.2} |",
        theirs_total / ours_total
    );
}
