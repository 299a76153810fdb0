//! Steady-state timing, as `shared/BENCHMARKS.md` defines it: warm up first, then time repeats of at
//! least `min_time` each, and report the median repeat.
//!
//! Why the median of repeats: these machines are shared, so a single long run can be hit by another
//! process at any moment; the median of three or more repeats ignores one bad repeat.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// How long to measure.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// Time spent calling the workload before any measurement (caches, allocator, thread pool warm).
    pub warmup: Duration,
    /// The shortest a measured repeat may be.
    pub min_time: Duration,
    /// How many measured repeats; the median is reported.
    pub repeats: usize,
}

/// The median number of seconds one call of `step` takes, in steady state.
pub fn seconds_per_call<T>(settings: &Settings, mut step: impl FnMut() -> T) -> f64 {
    let warm_start = Instant::now();
    while warm_start.elapsed() < settings.warmup {
        black_box(step());
    }
    let mut per_call: Vec<f64> = (0..settings.repeats.max(1))
        .map(|_| {
            let start = Instant::now();
            let mut calls = 0u64;
            // Checking the clock is cheap next to any workload here (a few tens of nanoseconds).
            while start.elapsed() < settings.min_time {
                black_box(step());
                calls += 1;
            }
            start.elapsed().as_secs_f64() / calls as f64
        })
        .collect();
    per_call.sort_by(f64::total_cmp);
    per_call[per_call.len() / 2]
}
