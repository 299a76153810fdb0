//! GFLOP/s of Distillery's own GEMM (`tensor::gemm::sgemm`) against `matrixmultiply` (through
//! `tensor::matmul::sgemm_matrixmultiply`, row bands on rayon) for the products this project makes,
//! on rayon pools of 1 and 2 threads, in the same run.
//!
//! `cargo run --release -p tensor --example gemm_speed [REPEATS]`
//!
//! Each timing runs the product as many times as fit in about 10 ms (at least once) and divides;
//! ours and matrixmultiply's timings alternate, REPEATS (default 7) of each, and each figure is
//! the *best* of its REPEATS. On a machine shared with other jobs (this project's is) a median
//! mostly measures the other jobs; the minimum is the time the product needs when it gets the core,
//! and alternating means both sides had the same chances. `2·m·k·n` floating-point operations per
//! product.
//!
//! On one thread the clock is the thread's *on-CPU* time (`/proc/thread-self/schedstat`, in ns,
//! Linux): time the scheduler gave to other processes is not counted, which is what makes ratios
//! repeatable on a loaded machine. That counter only advances at scheduler ticks, so there the
//! batches are ~100 ms long (tick error ≤ a few %) and the figure is the median of REPEATS. Two threads run on two OS threads, so their column is wall-clock
//! time (best of the batches), and noisier. Elsewhere than Linux, wall-clock time for both.

use std::time::Instant;

/// Nanoseconds this thread has spent on a CPU, or `None` where the kernel does not say.
fn on_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// A clock: on-CPU time of this thread when `cpu` (and available), else wall-clock time.
fn now(cpu: bool, wall: Instant) -> f64 {
    match on_cpu_ns().filter(|_| cpu) {
        Some(ns) => ns as f64 * 1e-9,
        None => wall.elapsed().as_secs_f64(),
    }
}

use tensor::gemm;
use tensor::matmul::sgemm_matrixmultiply;
use tensor::{MatMut, MatRef, Scale};

/// One product: its label, sizes and which operands are stored transposed.
struct Shape {
    label: &'static str,
    m: usize,
    k: usize,
    n: usize,
    ta: bool,
    tb: bool,
}

const fn shape(label: &'static str, m: usize, k: usize, n: usize, ta: bool, tb: bool) -> Shape {
    Shape {
        label,
        m,
        k,
        n,
        ta,
        tb,
    }
}

/// The square benchmarks, then the MLP 784-800-800-10 at batch 128 (dense layers compute
/// `Y = X·Wᵀ` with `W` stored `[out, in]`; backward `dX = dY·W` and `dW = dYᵀ·X`), then the two
/// convolutions of `cnn_train` per image (1→32 and 32→64 channels, 3×3, 28×28 → 26×26 → 24×24).
const SHAPES: &[Shape] = &[
    shape("square 256", 256, 256, 256, false, false),
    shape("square 512", 512, 512, 512, false, false),
    shape("square 1024", 1024, 1024, 1024, false, false),
    shape("fc1 fwd X·W1ᵀ", 128, 784, 800, false, true),
    shape("fc2 fwd H·W2ᵀ", 128, 800, 800, false, true),
    shape("fc3 fwd H·W3ᵀ", 128, 800, 10, false, true),
    shape("fc1 dW dYᵀ·X", 800, 128, 784, true, false),
    shape("fc2 dW dYᵀ·H", 800, 128, 800, true, false),
    shape("fc3 dW dYᵀ·H", 10, 128, 800, true, false),
    shape("fc2 dX dY·W2", 128, 800, 800, false, false),
    shape("fc3 dX dY·W3", 128, 10, 800, false, false),
    shape("conv1 fwd W·cols", 32, 9, 676, false, false),
    shape("conv2 fwd W·cols", 64, 288, 576, false, false),
    shape("conv2 dcols Wᵀ·dY", 288, 64, 576, true, false),
    shape("conv2 dW dY·colsᵀ", 64, 576, 288, false, true),
];

/// Seconds per call of `f` and of `g` over `repeats` alternating batches each: on-CPU time and the
/// median when `cpu`, else wall-clock time and the best.
fn seconds(repeats: usize, cpu: bool, mut f: impl FnMut(), mut g: impl FnMut()) -> (f64, f64) {
    let origin = Instant::now();
    let calls = |h: &mut dyn FnMut()| {
        h();
        let start = Instant::now();
        h();
        let once = start.elapsed().as_secs_f64().max(1e-7);
        ((if cpu { 0.1 } else { 0.01 } / once) as usize).max(1)
    };
    let (calls_f, calls_g) = (calls(&mut f), calls(&mut g));
    let batch = |h: &mut dyn FnMut(), calls: usize| {
        let start = now(cpu, origin);
        for _ in 0..calls {
            h();
        }
        (now(cpu, origin) - start) / calls as f64
    };
    let (mut times_f, mut times_g) = (vec![], vec![]);
    for _ in 0..repeats {
        times_f.push(batch(&mut f, calls_f));
        times_g.push(batch(&mut g, calls_g));
    }
    // The median for on-CPU time, the best for wall-clock time (see the file's doc).
    let pick = |mut t: Vec<f64>| {
        t.sort_by(f64::total_cmp);
        if cpu {
            t[t.len() / 2]
        } else {
            t[0]
        }
    };
    (pick(times_f), pick(times_g))
}

fn main() {
    let repeats: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("REPEATS must be a number"))
        .unwrap_or(7);
    println!(
        "level {}, {repeats} repeats; GFLOP/s (ours / matrixmultiply = ratio)",
        tensor::simd::level().name()
    );
    println!(
        "{:<22} {:>16} {:>22} {:>22}",
        "product", "m×k×n", "1 thread (on-CPU)", "2 threads (wall)"
    );
    let pools: Vec<rayon::ThreadPool> = [1, 2]
        .iter()
        .map(|&t| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap()
        })
        .collect();
    let mut value = 0.37f32;
    let mut next = move || {
        value = (value * 7.13 + 0.29).fract();
        value - 0.5
    };
    for s in SHAPES {
        let a: Vec<f32> = (0..s.m * s.k).map(|_| next()).collect();
        let b: Vec<f32> = (0..s.k * s.n).map(|_| next()).collect();
        let mut c = vec![0.0f32; s.m * s.n];
        let op_a = MatRef {
            data: &a,
            rows: s.m,
            cols: s.k,
            transposed: s.ta,
        };
        let op_b = MatRef {
            data: &b,
            rows: s.k,
            cols: s.n,
            transposed: s.tb,
        };
        let flops = 2.0 * (s.m * s.k * s.n) as f64 / 1e9;
        let mut line = format!(
            "{:<22} {:>16}",
            s.label,
            format!(
                "{}×{}×{}{}{}",
                s.m,
                s.k,
                s.n,
                if s.ta { " Aᵀ" } else { "" },
                if s.tb { " Bᵀ" } else { "" }
            )
        );
        for pool in &pools {
            let (ours, theirs) = pool.install(|| {
                let mut c2 = c.clone();
                seconds(
                    repeats,
                    pool.current_num_threads() == 1,
                    || gemm::sgemm(op_a, op_b, Scale::OVERWRITE, MatMut::new(&mut c, s.m, s.n)),
                    || {
                        let c2 = MatMut::new(&mut c2, s.m, s.n);
                        sgemm_matrixmultiply(op_a, op_b, Scale::OVERWRITE, c2)
                    },
                )
            });
            let (ours, theirs) = (flops / ours, flops / theirs);
            line += &format!(" {:>7.1} / {:>5.1} = {:.2}", ours, theirs, ours / theirs);
        }
        println!("{line}");
    }
}
