//! Every SIMD path against the scalar reference (and the scalar reference against f64), on every
//! level this CPU can run.
//!
//! Exactness classes, and so the comparisons used:
//! - `add sub mul div maximum add_scalar mul_scalar relu`: exact IEEE operations, so every level must
//!   give the scalar reference's result bit for bit (NaN compared as "both NaN").
//! - `max`: exact, compared with `==` (the sign of a zero maximum may depend on order).
//! - `axpy`, `sum`, `dot`, `exp`: rounding differs between levels; each is compared with an f64
//!   reference (`tensor::reference::{axpy, sum, dot}`, `f64::exp`) under a tolerance derived in the
//!   comment beside it.

use std::process::Command;

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tensor::reference;
use tensor::simd::{self, Level};

/// Lengths that hit empty input, a single element, partial vectors of every width (4, 8, 16 lanes),
/// one past whole vectors and groups of four vectors, and several pairwise-sum blocks.
const LENGTHS: [usize; 15] = [0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 100, 257, 1000];

/// Unit roundoff of f32: half the distance from 1 to the next float.
const U: f64 = f32::EPSILON as f64 / 2.0;

fn levels() -> Vec<Level> {
    let levels = simd::available_levels();
    assert_eq!(levels[0], Level::Scalar);
    levels
}

fn random_vec(rng: &mut StdRng, n: usize, lo: f32, hi: f32) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(lo..hi)).collect()
}

/// Random values with the awkward ones sprinkled in: NaN, ±∞, ±0, so that the NaN and signed-zero
/// rules of `maximum` and `relu` are checked on every lane position, tails included.
fn random_vec_with_specials(rng: &mut StdRng, n: usize) -> Vec<f32> {
    const SPECIALS: [f32; 6] = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.0, -0.0, 1.0];
    (0..n)
        .map(|_| {
            if rng.random_range(0..8) == 0 {
                SPECIALS[rng.random_range(0..SPECIALS.len())]
            } else {
                rng.random_range(-10.0f32..10.0)
            }
        })
        .collect()
}

/// Equal bits, or both NaN (NaN payloads are not part of the contract).
fn same_bits(a: f32, b: f32) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

#[track_caller]
fn assert_same_bits(what: &str, level: Level, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len());
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            same_bits(g, w),
            "{what} at {level:?}, len {}: element {i} is {g:e} ({:#x}), scalar reference gives {w:e} ({:#x})",
            got.len(),
            g.to_bits(),
            w.to_bits()
        );
    }
}

type Binary = (
    &'static str,
    fn(Level, &[f32], &[f32], &mut [f32]),
    fn(&[f32], &[f32], &mut [f32]),
);

const BINARY: [Binary; 5] = [
    ("add", simd::add_with, simd::scalar::add),
    ("sub", simd::sub_with, simd::scalar::sub),
    ("mul", simd::mul_with, simd::scalar::mul),
    ("div", simd::div_with, simd::scalar::div),
    ("maximum", simd::maximum_with, simd::scalar::maximum),
];

/// Checks every exact elementwise kernel on one input pair at every level.
fn check_exact_kernels(a: &[f32], b: &[f32], s: f32) {
    let n = a.len();
    for level in levels() {
        for (name, with, reference) in BINARY {
            let mut want = vec![0.0; n];
            reference(a, b, &mut want);
            // Pre-filled with a sentinel so that an element the kernel forgets to write is seen.
            let mut got = vec![-12345.0; n];
            with(level, a, b, &mut got);
            assert_same_bits(name, level, &got, &want);
        }
        let mut want = vec![0.0; n];
        let mut got = vec![-12345.0; n];
        simd::scalar::add_scalar(a, s, &mut want);
        simd::add_scalar_with(level, a, s, &mut got);
        assert_same_bits("add_scalar", level, &got, &want);
        simd::scalar::mul_scalar(a, s, &mut want);
        simd::mul_scalar_with(level, a, s, &mut got);
        assert_same_bits("mul_scalar", level, &got, &want);
        simd::scalar::relu(a, &mut want);
        simd::relu_with(level, a, &mut got);
        assert_same_bits("relu", level, &got, &want);
    }
}

#[test]
fn exact_kernels_match_scalar_on_awkward_lengths() {
    let mut rng = StdRng::seed_from_u64(1);
    for n in LENGTHS {
        let a = random_vec(&mut rng, n, -10.0, 10.0);
        let b = random_vec(&mut rng, n, -10.0, 10.0);
        check_exact_kernels(&a, &b, 1.7);
        let a = random_vec_with_specials(&mut rng, n);
        let b = random_vec_with_specials(&mut rng, n);
        check_exact_kernels(&a, &b, -0.3);
    }
}

#[test]
fn maximum_and_relu_propagate_nan_and_follow_the_zero_rule() {
    // Literal cases, by hand: max(x, y) is `x > y ? x : y` except that a NaN on either side wins;
    // relu(x) is `x < 0 ? 0 : x`, so relu(NaN) = NaN and relu(−0) = −0.
    let a = [
        f32::NAN,
        1.0,
        f32::NAN,
        0.0,
        -0.0,
        -1.0,
        3.0,
        f32::NEG_INFINITY,
        2.0,
    ];
    let b = [
        1.0,
        f32::NAN,
        f32::NAN,
        -0.0,
        0.0,
        -2.0,
        3.0,
        f32::NEG_INFINITY,
        f32::INFINITY,
    ];
    let want_max = [
        f32::NAN,
        f32::NAN,
        f32::NAN,
        -0.0,
        0.0,
        -1.0,
        3.0,
        f32::NEG_INFINITY,
        f32::INFINITY,
    ];
    let want_relu = [f32::NAN, 1.0, f32::NAN, 0.0, -0.0, 0.0, 3.0, 0.0, 2.0];
    for level in levels() {
        let mut got = [0.0; 9];
        simd::maximum_with(level, &a, &b, &mut got);
        assert_same_bits("maximum", level, &got, &want_max);
        simd::relu_with(level, &a, &mut got);
        assert_same_bits("relu", level, &got, &want_relu);
    }
}

#[test]
fn axpy_matches_f64_on_awkward_lengths() {
    let mut rng = StdRng::seed_from_u64(2);
    for n in LENGTHS {
        let x = random_vec(&mut rng, n, -10.0, 10.0);
        let y0 = random_vec(&mut rng, n, -10.0, 10.0);
        check_axpy(-0.75, &x, &y0);
    }
}

/// `y + alpha·x` is rounded once (fused) or twice (scalar: the product, then the sum), so the error
/// is at most `u·|αx| + u·|αx + y|` to first order; `2u·(|αx| + |y|)` covers both.
fn check_axpy(alpha: f32, x: &[f32], y0: &[f32]) {
    for level in levels() {
        let mut y = y0.to_vec();
        simd::axpy_with(level, alpha, x, &mut y);
        let want_all = reference::axpy(alpha, x, y0);
        for i in 0..x.len() {
            let ax = alpha as f64 * x[i] as f64;
            let want = want_all[i];
            let tol = 2.0 * U * (ax.abs() + (y0[i] as f64).abs());
            assert!(
                (y[i] as f64 - want).abs() <= tol,
                "axpy at {level:?}, len {}: element {i} is {}, f64 gives {want}",
                x.len(),
                y[i]
            );
        }
    }
}

/// Bound for pairwise `sum`/`dot` on `n` terms: each term passes through at most `SUM_BLOCK` plain
/// additions inside its block (fewer on the vector levels: a lane sums `SUM_BLOCK/4` of them, then
/// up to 3 trailing vectors, 2 levels combining accumulators, 4 levels of horizontal sum and a
/// scalar tail of up to 15), then one addition per level of the tree over blocks (≤ log₂ n). Each
/// addition contributes at most `u` relative, so `|err| ≤ (SUM_BLOCK + 16 + log₂ n + 1)·u·Σ|terms|`
/// (+1 for the product's rounding in `dot`).
fn pairwise_tolerance(n: usize, abs_sum: f64) -> f64 {
    let depth = (n.max(1) as f64).log2().ceil();
    (simd::SUM_BLOCK as f64 + 17.0 + depth) * U * abs_sum
}

fn check_sum_and_dot(a: &[f32], b: &[f32]) {
    let abs = |v: &[f32]| v.iter().map(|x| x.abs()).collect::<Vec<f32>>();
    let (a_abs, b_abs) = (abs(a), abs(b));
    let want_sum = reference::sum(a);
    let abs_sum = reference::sum(&a_abs);
    let want_dot = reference::dot(a, b);
    let abs_dot = reference::dot(&a_abs, &b_abs);
    for level in levels() {
        let got = simd::sum_with(level, a) as f64;
        let tol = pairwise_tolerance(a.len(), abs_sum);
        assert!(
            (got - want_sum).abs() <= tol,
            "sum at {level:?}, len {}: {got}, f64 gives {want_sum} (tolerance {tol:e})",
            a.len()
        );
        let got = simd::dot_with(level, a, b) as f64;
        let tol = pairwise_tolerance(a.len(), abs_dot);
        assert!(
            (got - want_dot).abs() <= tol,
            "dot at {level:?}, len {}: {got}, f64 gives {want_dot} (tolerance {tol:e})",
            a.len()
        );
    }
}

#[test]
fn sum_and_dot_match_f64_on_awkward_lengths() {
    let mut rng = StdRng::seed_from_u64(3);
    for n in LENGTHS
        .into_iter()
        .chain([1023, 1024, 1025, 2049, 5000, 40_000])
    {
        let a = random_vec(&mut rng, n, -1.0, 1.0);
        let b = random_vec(&mut rng, n, -1.0, 1.0);
        check_sum_and_dot(&a, &b);
        // All-positive terms: no cancellation, so the bound is tight relative to the result.
        let a = random_vec(&mut rng, n, 0.0, 1.0);
        check_sum_and_dot(&a, &a);
    }
}

#[test]
fn empty_sum_and_dot_are_zero_and_empty_max_is_minus_infinity() {
    for level in levels() {
        assert_eq!(simd::sum_with(level, &[]), 0.0);
        assert_eq!(simd::dot_with(level, &[], &[]), 0.0);
        assert_eq!(simd::max_with(level, &[]), f32::NEG_INFINITY);
    }
}

#[test]
fn long_sums_stay_accurate() {
    // 10⁷ copies of 0.1f32 (= 0.100000001490116…): the exact sum is 1 000 000.0149 (f64 product).
    // Naive f32 accumulation drifts by about 9% (each addition to a sum near 10⁶ rounds to a
    // multiple of 0.0625). The pairwise bound above gives (128 + 17 + 24)·u ≈ 1.0e-5 relative.
    let n = 10_000_000;
    let a = vec![0.1f32; n];
    let exact = n as f64 * 0.1f32 as f64;
    let naive = a.iter().fold(0.0f32, |s, &x| s + x) as f64;
    assert!(
        ((naive - exact) / exact).abs() > 1e-2,
        "naive f32 summation was expected to be badly off (it gave {naive}); the test below would \
         then not distinguish pairwise from naive summation"
    );
    let bound = pairwise_tolerance(n, exact) / exact;
    for level in levels() {
        let got = simd::sum_with(level, &a) as f64;
        let rel = ((got - exact) / exact).abs();
        assert!(
            rel <= bound,
            "sum of 1e7 × 0.1 at {level:?}: {got}, relative error {rel:e} > {bound:e}"
        );
        let got = simd::dot_with(level, &a, &vec![1.0; n]) as f64;
        let rel = ((got - exact) / exact).abs();
        assert!(
            rel <= bound,
            "dot of 1e7 × 0.1·1 at {level:?}: {got}, relative error {rel:e} > {bound:e}"
        );
    }
}

#[test]
fn max_matches_scalar_and_propagates_nan_from_any_position() {
    let mut rng = StdRng::seed_from_u64(4);
    for n in LENGTHS {
        let a = random_vec(&mut rng, n, -100.0, 100.0);
        let want = a.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x));
        for level in levels() {
            assert_eq!(simd::max_with(level, &a), want, "max at {level:?}, len {n}");
        }
        // A NaN at every position (head, middle of a vector, last lane, scalar tail) must win.
        for pos in 0..n {
            let mut with_nan = a.clone();
            with_nan[pos] = f32::NAN;
            for level in levels() {
                assert!(
                    simd::max_with(level, &with_nan).is_nan(),
                    "max at {level:?}, len {n}: NaN at {pos} was lost"
                );
            }
        }
    }
    // All −∞ is a real maximum, not an empty one; +∞ wins.
    for level in levels() {
        assert_eq!(
            simd::max_with(level, &[f32::NEG_INFINITY; 20]),
            f32::NEG_INFINITY
        );
        let mut a = vec![-1.0f32; 37];
        a[36] = f32::INFINITY;
        assert_eq!(simd::max_with(level, &a), f32::INFINITY);
    }
}

// ----- exp -------------------------------------------------------------------------------------

/// Tolerance for `exp` against f64 `exp`, relative, over normal results. Measured once on an AVX2
/// machine over *every* f32 input with a normal result (2.24·10⁹ of them; a throwaway exhaustive
/// version of `exp_error_is_small_over_a_sweep`): AVX2 worst 8.46e-8 (at x = 26.69), scalar
/// (`f32::exp`) worst 5.96e-8, i.e. correctly rounded. Of those 8.46e-8, up to 5.96e-8 (= u) is the
/// unavoidable rounding of the result itself. 1.5e-7 leaves a margin of ~1.8× for the other vector
/// levels (same formula, so the same bound, but not measured here).
const EXP_REL_TOL: f64 = 1.5e-7;

/// Checks `exp` of every input on every level against f64, and returns the largest relative error
/// over normal results.
fn check_exp(x: &[f32]) -> f64 {
    let mut worst = 0.0f64;
    for level in levels() {
        let mut got = vec![0.0; x.len()];
        simd::exp_with(level, x, &mut got);
        for (&xi, &g) in x.iter().zip(&got) {
            let want = (xi as f64).exp();
            if xi.is_nan() {
                assert!(g.is_nan(), "exp({xi}) at {level:?} gave {g}");
            } else if want as f32 == f32::INFINITY {
                assert_eq!(g, f32::INFINITY, "exp({xi}) at {level:?} should overflow");
            } else if want < f32::MIN_POSITIVE as f64 {
                // Subnormal or zero result: the final multiply rounds once into the subnormal
                // range, so the error is at most one subnormal step (2⁻¹⁴⁹) plus the tiny
                // polynomial error.
                assert!(
                    (g as f64 - want).abs() <= 2f64.powi(-149),
                    "exp({xi}) at {level:?} gave {g:e}, f64 gives {want:e}"
                );
            } else {
                let rel = (g as f64 - want).abs() / want;
                worst = worst.max(rel);
                assert!(
                    rel <= EXP_REL_TOL,
                    "exp({xi}) at {level:?} gave {g:e}, f64 gives {want:e}: relative error {rel:e}"
                );
            }
        }
    }
    worst
}

#[test]
fn exp_on_awkward_lengths_and_special_values() {
    let mut rng = StdRng::seed_from_u64(5);
    for n in LENGTHS {
        check_exp(&random_vec(&mut rng, n, -20.0, 20.0));
    }
    // The special values in every lane position (rotating them through a vector of 37).
    let specials = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        88.0,
        -88.0,
        88.72,
        88.73,
        89.0,
        -87.4,
        -100.0,
        -103.9,
        -104.0,
        -110.0,
        1e4,
        -1e4,
        f32::MAX,
        f32::MIN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
    ];
    for shift in 0..37 {
        let x: Vec<f32> = (0..37)
            .map(|i| specials[(i + shift) % specials.len()])
            .collect();
        check_exp(&x);
    }
    // Exact values by definition, not by tolerance.
    for level in levels() {
        let x = [
            0.0,
            1e4,
            -1e4,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            89.0,
            -104.0,
        ];
        let mut got = [1.0; 8];
        simd::exp_with(level, &x, &mut got);
        assert_eq!(got[0], 1.0, "exp(0) at {level:?}");
        assert_eq!(got[1], f32::INFINITY, "exp(1e4) at {level:?}");
        assert_eq!(got[2], 0.0, "exp(-1e4) at {level:?}");
        assert_eq!(got[3], f32::INFINITY, "exp(inf) at {level:?}");
        assert_eq!(got[4], 0.0, "exp(-inf) at {level:?}");
        assert!(got[5].is_nan(), "exp(NaN) at {level:?}");
        assert_eq!(got[6], f32::INFINITY, "exp(89) at {level:?}");
        assert_eq!(got[7], 0.0, "exp(-104) at {level:?}");
    }
}

#[test]
fn exp_error_is_small_over_a_sweep() {
    // Every 61st f32 bit pattern between −87.3 and 88.7 (both signs walked separately, since bit
    // patterns are ordered by magnitude), then the subnormal-result range [−104, −87.3].
    let mut x = Vec::new();
    for (lo, hi) in [(0.0f32, 88.7f32), (0.0, 87.3)] {
        let mut bits = lo.to_bits();
        while bits <= hi.to_bits() {
            let v = f32::from_bits(bits);
            x.push(if hi == 87.3 { -v } else { v });
            bits += 61;
        }
    }
    let mut v = -104.0f32;
    while v < -87.3 {
        x.push(v);
        v += 0.001;
    }
    let worst = check_exp(&x);
    println!(
        "exp: largest relative error over {} inputs, all levels: {worst:e}",
        x.len()
    );
}

// ----- generated inputs ------------------------------------------------------------------------

fn vec_pair(max_len: usize) -> impl Strategy<Value = (Vec<f32>, Vec<f32>)> {
    (0..max_len).prop_flat_map(|n| {
        (
            prop::collection::vec(-1e3f32..1e3, n),
            prop::collection::vec(-1e3f32..1e3, n),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn generated_exact_kernels_match_scalar((a, b) in vec_pair(3000), s in -1e3f32..1e3) {
        check_exact_kernels(&a, &b, s);
    }

    #[test]
    fn generated_reductions_match_f64((a, b) in vec_pair(5000)) {
        check_sum_and_dot(&a, &b);
        let want = a.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x));
        for level in levels() {
            prop_assert_eq!(simd::max_with(level, &a), want);
        }
    }

    #[test]
    fn generated_axpy_matches_f64((x, y) in vec_pair(3000), alpha in -10f32..10.0) {
        check_axpy(alpha, &x, &y);
    }

    #[test]
    fn generated_exp_matches_f64(x in prop::collection::vec(-110f32..95.0, 0..600)) {
        check_exp(&x);
    }
}

// ----- dispatch and checks ---------------------------------------------------------------------

#[test]
fn the_chosen_level_is_available_and_plain_kernels_use_it() {
    let level = simd::level();
    assert!(simd::available_levels().contains(&level));
    let a: Vec<f32> = (0..37).map(|i| i as f32 * 0.37 - 5.0).collect();
    let mut plain = vec![0.0; 37];
    let mut with = vec![0.0; 37];
    simd::exp(&a, &mut plain);
    simd::exp_with(level, &a, &mut with);
    assert_same_bits("exp", level, &plain, &with);
    assert_eq!(simd::sum(&a).to_bits(), simd::sum_with(level, &a).to_bits());
}

#[test]
#[should_panic(expected = "simd::add: slices must have equal lengths, found a, b = 3 and 2")]
fn mismatched_lengths_panic_with_the_kernel_name() {
    simd::add(&[1.0; 3], &[1.0; 2], &mut [0.0; 3]);
}

#[test]
#[should_panic(expected = "simd::dot_with: slices must have equal lengths")]
fn mismatched_dot_lengths_panic() {
    simd::dot_with(Level::Scalar, &[1.0; 3], &[1.0; 4]);
}

#[test]
fn an_unavailable_level_is_refused() {
    let missing = [Level::Avx2, Level::Avx512, Level::Neon]
        .into_iter()
        .find(|l| !l.is_available());
    let Some(missing) = missing else {
        return; // this CPU runs everything it could be asked for (not possible today)
    };
    let result = std::panic::catch_unwind(|| simd::sum_with(missing, &[1.0, 2.0]));
    let message = *result.unwrap_err().downcast::<String>().unwrap();
    assert!(
        message.contains("is not available on this CPU"),
        "{message}"
    );
}

/// Not a test on its own: the `DISTILLERY_SIMD` tests run this binary again with only this test
/// and the variable set, since `level()` is decided once per process.
#[test]
#[ignore = "run in a child process by the DISTILLERY_SIMD tests"]
fn child_reports_level() {
    println!("LEVEL={:?}", simd::level());
}

/// Runs `child_reports_level` in a fresh process with `DISTILLERY_SIMD=value`; returns the level
/// it printed and its stderr.
fn level_in_child(value: &str) -> (String, String) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["child_reports_level", "--exact", "--ignored", "--nocapture"])
        .env("DISTILLERY_SIMD", value)
        .output()
        .expect("the test binary can run itself");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "child failed: {stdout}\n{stderr}");
    let level = stdout
        .lines()
        .find_map(|l| l.strip_prefix("LEVEL="))
        .unwrap_or_else(|| panic!("no LEVEL= line in the child's output: {stdout}"))
        .to_string();
    (level, stderr)
}

#[test]
fn distillery_simd_overrides_the_detected_level() {
    let detected = format!("{:?}", simd::available_levels().last().unwrap());
    let (level, _) = level_in_child("scalar");
    assert_eq!(level, "Scalar");

    let (level, stderr) = level_in_child("no-such-level");
    assert_eq!(level, detected);
    assert!(stderr.contains("is not one of"), "{stderr}");

    if let Some(missing) = [Level::Avx2, Level::Avx512, Level::Neon]
        .into_iter()
        .find(|l| !l.is_available())
    {
        let (level, stderr) = level_in_child(missing.name());
        assert_eq!(level, detected);
        assert!(stderr.contains("this CPU cannot run"), "{stderr}");
    }
}

/// Says, in every test run, which SIMD levels this CPU let the suite exercise and which it could
/// not: the kernel tests of this crate run on every level of `available_levels()`, and the rest of
/// the suite on `level()` (set with `DISTILLERY_SIMD`). Written straight to the process's stderr,
/// past the test harness's capture, so that the line shows in a passing run too.
#[test]
fn report_the_simd_levels_this_run_exercised() {
    use std::io::Write;
    let all = [Level::Scalar, Level::Avx2, Level::Avx512, Level::Neon];
    let here = tensor::simd::available_levels();
    assert!(here.contains(&Level::Scalar) && here.contains(&tensor::simd::level()));
    let names = |levels: &mut dyn Iterator<Item = &Level>| {
        levels.map(|l| l.name()).collect::<Vec<_>>().join(", ")
    };
    let missing = names(&mut all.iter().filter(|l| !here.contains(l)));
    let line = format!(
        "SIMD levels: kernels tested on {} (this CPU); whole suite on {}; not on this CPU: {}\n",
        names(&mut here.iter()),
        tensor::simd::level().name(),
        if missing.is_empty() { "none" } else { &missing }
    );
    std::io::stderr().write_all(line.as_bytes()).unwrap();
}
