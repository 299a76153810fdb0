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

mod timing;
mod workloads;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

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
