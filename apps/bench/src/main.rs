//! `bench`: Distillery's benchmark binary.
//!
//! Runs the workloads of `shared/BENCHMARKS.md` (and some kernel workloads of our own, see
//! [`workloads`]) at 1 and 2 threads, and prints one JSON object per line on stdout — nothing else —
//! so the figures can be put beside other engines' in one table:
//!
//! ```text
//! {"workload": "sgemm_512", "threads": 2, "value": 123.4, "unit": "GFLOP/s"}
//! ```
//!
//! Progress and errors go to stderr.
//!
//! `--steps N --only <training workload>` runs that workload for exactly `N` steps instead, at one
//! thread unless `--threads` says otherwise, and prints nothing on stdout: under
//! `/usr/bin/time -v` this gives the peak resident memory of a process that trains the model
//! (BENCHMARKS.md asks for 200 steps of `mlp_train` and of `cnn_train`).

mod models;
mod timing;
mod training;
mod trees;
mod workloads;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;

/// Large freed buffers are kept for the next step instead of going back to the kernel (see
/// `tensor::block_cache`): the engine as the apps run it.
#[global_allocator]
static ALLOCATOR: tensor::BlockCache = tensor::BlockCache::new();

/// Distillery's benchmarks: one JSON line per workload and thread count.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Run only these workloads (comma-separated names); `--list` shows them.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Run at this many threads only (default: 1, then 2).
    #[arg(long)]
    threads: Option<usize>,
    /// Seconds each measured repeat lasts at least.
    #[arg(long, default_value_t = 2.0)]
    min_time: f64,
    /// Measured repeats per workload; the median is reported.
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Run the one training workload named by `--only` for exactly this many steps, print nothing
    /// on stdout, and exit (for measuring peak memory).
    #[arg(long)]
    steps: Option<usize>,
    /// List the workloads and exit.
    #[arg(long)]
    list: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let all = workloads::all();
    if args.list {
        for w in &all {
            println!("{} ({})", w.name, w.unit);
        }
        return ExitCode::SUCCESS;
    }
    let unknown: Vec<&String> = args
        .only
        .iter()
        .filter(|name| !all.iter().any(|w| w.name == name.as_str()))
        .collect();
    if !unknown.is_empty() {
        let known: Vec<&str> = all.iter().map(|w| w.name).collect();
        eprintln!("bench: unknown workload(s) {unknown:?}; expected some of {known:?}");
        return ExitCode::from(2);
    }
    if !(args.min_time > 0.0 && args.min_time.is_finite()) || args.repeats == 0 {
        eprintln!(
            "bench: --min-time must be a positive number of seconds and --repeats at least 1 \
             (found {} and {})",
            args.min_time, args.repeats
        );
        return ExitCode::from(2);
    }
    if let Some(steps) = args.steps {
        return run_steps(&args.only, args.threads.unwrap_or(1), steps);
    }
    let settings = timing::Settings {
        warmup: Duration::from_secs_f64((args.min_time / 4.0).min(0.5)),
        min_time: Duration::from_secs_f64(args.min_time),
        repeats: args.repeats,
    };
    let thread_counts = match args.threads {
        Some(0) => {
            eprintln!("bench: --threads must be at least 1, found 0");
            return ExitCode::from(2);
        }
        Some(n) => vec![n],
        None => vec![1, 2],
    };
    eprintln!("bench: SIMD level {:?}", tensor::simd::level());
    for &threads in &thread_counts {
        let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
            Ok(pool) => pool,
            Err(e) => {
                eprintln!("bench: cannot start {threads} threads: {e}");
                return ExitCode::FAILURE;
            }
        };
        for w in all
            .iter()
            .filter(|w| args.only.is_empty() || args.only.iter().any(|n| n == w.name))
        {
            if let Some(dir) = w.needs.filter(|dir| !std::path::Path::new(dir).is_dir()) {
                eprintln!(
                    "bench: skipping {}: it reads {dir}, which is missing",
                    w.name
                );
                if !args.only.is_empty() {
                    return ExitCode::from(2);
                }
                continue;
            }
            eprintln!("bench: {} at {threads} thread(s)…", w.name);
            let value = pool.install(|| (w.measure)(&settings));
            println!(
                "{{\"workload\": \"{}\", \"threads\": {threads}, \"value\": {value:.1}, \"unit\": \"{}\"}}",
                w.name, w.unit
            );
        }
    }
    ExitCode::SUCCESS
}

/// `--steps`: one training workload, `steps` times, at `threads` threads.
fn run_steps(only: &[String], threads: usize, steps: usize) -> ExitCode {
    let [name] = only else {
        eprintln!(
            "bench: --steps needs exactly one workload in --only (a training workload), found {only:?}"
        );
        return ExitCode::from(2);
    };
    if threads == 0 {
        eprintln!("bench: --threads must be at least 1, found 0");
        return ExitCode::from(2);
    }
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool,
        Err(e) => {
            eprintln!("bench: cannot start {threads} threads: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The model lives on the pool's thread (a `Var` graph is per thread), so it is built there.
    let outcome = pool.install(|| {
        let mut step = workloads::training_step(name)?;
        let start = Instant::now();
        let mut loss = f32::NAN;
        for _ in 0..steps {
            loss = step();
        }
        Some((start.elapsed(), loss))
    });
    match outcome {
        Some((elapsed, loss)) => {
            eprintln!(
                "bench: {steps} steps of {name} at {threads} thread(s) in {:.2} s, last loss {loss:.4}",
                elapsed.as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        None => {
            eprintln!(
                "bench: --steps runs a training workload (mlp_train, cnn_train, conv1d_train, \
                 kd_step), found {name:?}"
            );
            ExitCode::from(2)
        }
    }
}
