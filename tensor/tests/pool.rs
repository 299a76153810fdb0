//! Pooling against its definition.
//!
//! Every kernel is compared with its definition in `tensor::reference`. Max pooling is exact (it
//! only copies values), so it is compared with `==`, including the argmax indices; inputs are small
//! integers (−2..=2) so that windows are full of ties and the first-max rule is exercised on almost
//! every window. Average pooling is compared with the f64 reference under the f32 summation bound
//! `|error| ≤ (k − 1)·u·Σ|x|` for `k` terms (Higham, *Accuracy and Stability of Numerical
//! Algorithms*, §4.2), plus one rounding `u` for the division: with `u = 2^-24`, the tolerance is
//! `(k + 1)·u·mean|x|`.

mod common;

use common::{floats, ints, U};
use proptest::prelude::*;
use tensor::pool::*;
use tensor::reference::{self, dot};
use tensor::Tensor;

/// A pooling problem; 1-D is `h = kh = sh = 1`.
#[derive(Debug, Clone, Copy)]
struct Case {
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
}

impl Case {
    /// Output sizes by counting the windows that fit (not by the closed formula).
    fn out(&self) -> (usize, usize) {
        let count = |n: usize, k: usize, s: usize| (0..).take_while(|o| o * s + k <= n).count();
        (
            count(self.h, self.kh, self.sh),
            count(self.w, self.kw, self.sw),
        )
    }
    fn planes(&self) -> usize {
        self.n * self.c
    }
    /// [`reference::max_pool1d`] or [`reference::max_pool2d`], as the rank of `x` says.
    fn want_max(&self, x: &Tensor) -> (Tensor, Vec<usize>) {
        if x.ndim() == 3 {
            reference::max_pool1d(x, self.kw, self.sw)
        } else {
            reference::max_pool2d(x, (self.kh, self.kw), (self.sh, self.sw))
        }
    }
    /// [`reference::avg_pool1d`] or [`reference::avg_pool2d`] of `x` (rank 3 or 4).
    fn want_avg(&self, x: &Tensor) -> Vec<f64> {
        if x.ndim() == 3 {
            reference::avg_pool1d(x, self.kw, self.sw)
        } else {
            reference::avg_pool2d(x, (self.kh, self.kw), (self.sh, self.sw))
        }
    }
    /// The reference `dX` of average pooling for `dY`, into `input_shape` (rank 3 or 4).
    fn want_avg_backward(&self, dy: &Tensor, input_shape: &[usize]) -> Vec<f64> {
        if input_shape.len() == 3 {
            reference::avg_pool1d_backward(dy, input_shape, self.kw, self.sw)
        } else {
            reference::avg_pool2d_backward(dy, input_shape, (self.kh, self.kw), (self.sh, self.sw))
        }
    }
}

fn case2d() -> impl Strategy<Value = Case> {
    (
        0usize..3,
        0usize..4,
        1usize..9,
        1usize..9,
        1usize..4,
        1usize..4,
    )
        .prop_flat_map(|(n, c, h, w, sh, sw)| {
            (1..=h.min(4), 1..=w.min(4)).prop_map(move |(kh, kw)| Case {
                n,
                c,
                h,
                w,
                kh,
                kw,
                sh,
                sw,
            })
        })
}

fn case1d() -> impl Strategy<Value = Case> {
    (0usize..3, 0usize..4, 1usize..20, 1usize..4).prop_flat_map(|(n, c, l, s)| {
        (1..=l.min(5)).prop_map(move |k| Case {
            n,
            c,
            h: 1,
            w: l,
            kh: 1,
            kw: k,
            sh: 1,
            sw: s,
        })
    })
}

fn run_max(case: &Case, x: &Tensor) -> (Tensor, Vec<usize>) {
    if case.kh == 1 && case.sh == 1 && x.ndim() == 3 {
        max_pool1d(x, case.kw, case.sw)
    } else {
        max_pool2d(x, (case.kh, case.kw), (case.sh, case.sw))
    }
}

fn check_max(case: &Case, x: &Tensor) -> Result<(), TestCaseError> {
    let (y, argmax) = run_max(case, x);
    let (want_y, want_arg) = case.want_max(x);
    prop_assert_eq!(&argmax, &want_arg, "argmax {:?}", case);
    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    prop_assert_eq!(y.shape(), want_y.shape());
    prop_assert_eq!(bits(y.data()), bits(want_y.data()));

    // The backward scatters dY into the argmax cells only.
    let dy = ints(y.shape(), 2, 17);
    let dx = if x.ndim() == 3 {
        max_pool1d_backward(&dy, &argmax, x.shape())
    } else {
        max_pool2d_backward(&dy, &argmax, x.shape())
    };
    prop_assert_eq!(dx.shape(), x.shape());
    // Integers: the f64 scatter is exact, and so must the kernel's f32 one be.
    let want = reference::max_pool_backward(&dy, &want_arg, x.shape());
    prop_assert!(dx.data().iter().zip(&want).all(|(&g, &w)| g as f64 == w));
    for (i, &v) in dx.data().iter().enumerate() {
        prop_assert!(
            v == 0.0 || want_arg.contains(&i),
            "gradient at non-argmax {}",
            i
        );
    }
    Ok(())
}

fn check_avg(case: &Case, x: &Tensor) -> Result<(), TestCaseError> {
    let one_d = x.ndim() == 3;
    let y = if one_d {
        avg_pool1d(x, case.kw, case.sw)
    } else {
        avg_pool2d(x, (case.kh, case.kw), (case.sh, case.sw))
    };
    let (oh, ow) = case.out();
    let k = (case.kh * case.kw) as f64;
    let abs: Vec<f32> = x.data().iter().map(|v| v.abs()).collect();
    let magnitude = case.want_avg(&Tensor::from_vec(abs, x.shape()).unwrap());
    let want = case.want_avg(x);
    prop_assert_eq!(y.numel(), case.planes() * oh * ow);
    for ((&g, &r), &m) in y.data().iter().zip(&want).zip(&magnitude) {
        prop_assert!((g as f64 - r).abs() <= (k + 1.0) * U * m, "{} vs {}", g, r);
    }

    // Backward: against the scatter definition (each cell sums at most ⌈KH/sh⌉·⌈KW/sw⌉ shares,
    // each rounded once, so (shares + 1)·u·Σ|shares| bounds it), and through the adjoint
    // identity ⟨avg(x), g⟩ = ⟨x, avg_backward(g)⟩ in f64.
    let dy = floats(y.shape(), 5);
    let dx = if one_d {
        avg_pool1d_backward(&dy, x.shape(), case.kw, case.sw)
    } else {
        avg_pool2d_backward(&dy, x.shape(), (case.kh, case.kw), (case.sh, case.sw))
    };
    prop_assert_eq!(dx.shape(), x.shape());
    let shares = (case.kh.div_ceil(case.sh) * case.kw.div_ceil(case.sw)) as f64;
    let dy_abs: Vec<f32> = dy.data().iter().map(|v| v.abs()).collect();
    let dy_abs_tensor = Tensor::from_vec(dy_abs.clone(), dy.shape()).unwrap();
    let dx_magnitude = case.want_avg_backward(&dy_abs_tensor, x.shape());
    for ((&g, &r), &m) in dx
        .data()
        .iter()
        .zip(&case.want_avg_backward(&dy, x.shape()))
        .zip(&dx_magnitude)
    {
        prop_assert!(
            (g as f64 - r).abs() <= (shares + 1.0) * U * m,
            "{} vs {}",
            g,
            r
        );
    }
    let lhs = dot(y.data(), dy.data());
    let rhs = dot(x.data(), dx.data());
    // Both sides' rounding is bounded by multiples of ⟨avg(|x|), |dY|⟩ = ⟨|x|, avg_backward(|dY|)⟩
    // (the forward's and the backward's bounds above, summed over the outputs / the cells). Not
    // dot(|x|, |dY|): the two have different lengths, and zip would keep only the first cells.
    let scale: f64 = magnitude
        .iter()
        .zip(&dy_abs)
        .map(|(&m, &d)| m * d as f64)
        .sum();
    prop_assert!((lhs - rhs).abs() <= 2.0 * (k + shares + 2.0) * U * scale + 1e-12);
    Ok(())
}

// ----- against the definitions ------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn max_pool2d_and_backward_match_the_definition(case in case2d(), seed: u64) {
        check_max(&case, &ints(&[case.n, case.c, case.h, case.w], 2, seed))?;
    }

    #[test]
    fn max_pool1d_and_backward_match_the_definition(case in case1d(), seed: u64) {
        check_max(&case, &ints(&[case.n, case.c, case.w], 2, seed))?;
    }

    #[test]
    fn avg_pool2d_and_backward_match_the_definition(case in case2d(), seed: u64) {
        check_avg(&case, &floats(&[case.n, case.c, case.h, case.w], seed))?;
    }

    #[test]
    fn avg_pool1d_and_backward_match_the_definition(case in case1d(), seed: u64) {
        check_avg(&case, &floats(&[case.n, case.c, case.w], seed))?;
    }
}

/// Odd sizes (7 channels, 17×33, a 257-long signal), overlapping and gapped windows:
/// `(N, C, H, W, KH, KW, SH, SW)`.
type Sizes = (usize, usize, usize, usize, usize, usize, usize, usize);
const AWKWARD: [Sizes; 4] = [
    (2, 7, 17, 33, 3, 3, 2, 2),
    (1, 7, 17, 33, 2, 5, 3, 1),
    (3, 1, 17, 33, 17, 33, 1, 1),
    (2, 3, 1, 257, 1, 7, 1, 3),
];

#[test]
fn awkward_sizes_match_the_definition() {
    for (n, c, h, w, kh, kw, sh, sw) in AWKWARD {
        let case = Case {
            n,
            c,
            h,
            w,
            kh,
            kw,
            sh,
            sw,
        };
        let shape = if h == 1 {
            vec![n, c, w]
        } else {
            vec![n, c, h, w]
        };
        check_max(&case, &ints(&shape, 2, 1)).unwrap();
        check_avg(&case, &floats(&shape, 2)).unwrap();
    }
}

// ----- literal cases: ties, NaN, overlap --------------------------------------------------------

#[test]
fn max_pool_takes_the_first_of_tied_maxima() {
    // By hand: windows [5, 5], [5, 1], [1, 5] have their first maximum at 0, 1, 3.
    let x = Tensor::from_vec(vec![5.0, 5.0, 1.0, 5.0], &[1, 1, 4]).unwrap();
    let (y, argmax) = max_pool1d(&x, 2, 1);
    assert_eq!(y.data(), &[5.0, 5.0, 5.0]);
    assert_eq!(argmax, vec![0, 1, 3]);
    // 2-D: in [[2, 3], [3, 1]] the first 3 in row-major order is at (0, 1).
    let x = Tensor::from_vec(vec![2.0, 3.0, 3.0, 1.0], &[1, 1, 2, 2]).unwrap();
    assert_eq!(max_pool2d(&x, (2, 2), (1, 1)).1, vec![1]);
}

#[test]
fn max_pool_propagates_nan() {
    // By hand from the documented rule (a NaN wins, the first NaN of the window is the argmax):
    // windows [1, NaN], [NaN, 3], [3, 2], [2, NaN].
    let x = Tensor::from_vec(vec![1.0, f32::NAN, 3.0, 2.0, f32::NAN], &[1, 1, 5]).unwrap();
    let (y, argmax) = max_pool1d(&x, 2, 1);
    assert_eq!(argmax, vec![1, 1, 2, 4]);
    assert!(y.data()[0].is_nan() && y.data()[1].is_nan() && y.data()[3].is_nan());
    assert_eq!(y.data()[2], 3.0);
    // A NaN after a larger number still wins: [[9, 0], [NaN, NaN]] → the NaN at index 2.
    let x = Tensor::from_vec(vec![9.0, 0.0, f32::NAN, f32::NAN], &[1, 1, 2, 2]).unwrap();
    assert_eq!(max_pool2d(&x, (2, 2), (2, 2)).1, vec![2]);
}

#[test]
fn overlapping_max_windows_add_their_gradients() {
    // [0, 9, 0] with kernel 2, stride 1: both windows pick the 9 (index 1), so it collects 1 + 10.
    let x = Tensor::from_vec(vec![0.0, 9.0, 0.0], &[1, 1, 3]).unwrap();
    let (_, argmax) = max_pool1d(&x, 2, 1);
    let dy = Tensor::from_vec(vec![1.0, 10.0], &[1, 1, 2]).unwrap();
    let dx = max_pool1d_backward(&dy, &argmax, &[1, 1, 3]);
    assert_eq!(dx.data(), &[0.0, 11.0, 0.0]);
}

#[test]
fn windows_that_do_not_fit_are_dropped() {
    // L = 7, kernel 3, stride 2: windows start at 0, 2, 4 (start 6 would need cells 6..9).
    let x = Tensor::arange(0.0, 7.0, 1.0).reshape(&[1, 1, 7]);
    assert_eq!(avg_pool1d(&x, 3, 2).data(), &[1.0, 3.0, 5.0]);
    assert_eq!(max_pool1d(&x, 3, 2).1, vec![2, 4, 6]);
}

// ----- threads ----------------------------------------------------------------------------------

/// 4·16 planes of 33×33 with a 2×2 window, stride 1: 65 536 outputs, enough for every pool op
/// (and the max backward's scatter) to take the parallel path.
#[test]
fn one_and_two_threads_give_identical_results() {
    let x = floats(&[4, 16, 33, 33], 1);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let (y, argmax) = max_pool2d(&x, (2, 2), (1, 1));
            let dx = max_pool2d_backward(&y, &argmax, x.shape());
            let a = avg_pool2d(&x, (2, 2), (1, 1));
            let da = avg_pool2d_backward(&a, x.shape(), (2, 2), (1, 1));
            (y, argmax, dx, a, da)
        })
    };
    let (one, two) = (run(1), run(2));
    assert_eq!(one.1, two.1);
    for (a, b) in [
        (&one.0, &two.0),
        (&one.2, &two.2),
        (&one.3, &two.3),
        (&one.4, &two.4),
    ] {
        let bits = |t: &Tensor| t.data().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(a), bits(b));
    }
}

// ----- errors -----------------------------------------------------------------------------------

#[test]
#[should_panic(
    expected = "max_pool2d: kernel 6 is larger than the input width 5 (pools do not pad)"
)]
fn max_pool2d_rejects_a_kernel_larger_than_the_input() {
    max_pool2d(&Tensor::zeros(&[1, 1, 8, 5]), (2, 6), (1, 1));
}

#[test]
#[should_panic(expected = "avg_pool1d: stride along length must be at least 1")]
fn avg_pool1d_rejects_a_zero_stride() {
    avg_pool1d(&Tensor::zeros(&[1, 1, 8]), 2, 0);
}

#[test]
#[should_panic(expected = "avg_pool2d: expected input [N, C, H, W] of rank 4, found shape [1, 8]")]
fn avg_pool2d_rejects_rank_2() {
    avg_pool2d(&Tensor::zeros(&[1, 8]), (1, 1), (1, 1));
}

#[test]
#[should_panic(expected = "avg_pool2d_backward: incompatible shapes [1, 2, 3, 3] and [1, 2, 2, 2]")]
fn avg_pool2d_backward_checks_the_gradient_shape() {
    avg_pool2d_backward(&Tensor::zeros(&[1, 2, 3, 3]), &[1, 2, 4, 4], (2, 2), (2, 2));
}

#[test]
#[should_panic(expected = "max_pool2d_backward: incompatible shapes [2, 2, 2, 2] and [1, 2, 4, 4]")]
fn max_pool2d_backward_checks_batch_and_channels() {
    max_pool2d_backward(&Tensor::zeros(&[2, 2, 2, 2]), &[0; 16], &[1, 2, 4, 4]);
}

#[test]
#[should_panic(
    expected = "max_pool1d_backward: argmax holds 3 indices but grad_out [1, 1, 2] has 2 cells"
)]
fn max_pool1d_backward_checks_the_argmax_length() {
    max_pool1d_backward(&Tensor::zeros(&[1, 1, 2]), &[0, 1, 2], &[1, 1, 4]);
}

#[test]
#[should_panic(
    expected = "max_pool1d_backward: argmax index 1 is outside plane 1 of input [1, 2, 2] \
                           (indices 2..4)"
)]
fn max_pool1d_backward_rejects_an_index_in_another_plane() {
    // Output cell 1 belongs to plane 1 (input cells 2..4), but its argmax says cell 1.
    max_pool1d_backward(&Tensor::zeros(&[1, 2, 1]), &[0, 1], &[1, 2, 2]);
}

// ----- the three forward forms against the per-window reference ---------------------------------

/// Small integers (many ties) with about one cell in 8 NaN (NaN windows, NaN after a max, NaN
/// as a window's first cell).
fn ints_with_nan(shape: &[usize], seed: u64) -> Tensor {
    let x = ints(shape, 2, seed);
    let data = x
        .data()
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if (i * 7 + seed as usize).is_multiple_of(8) {
                f32::NAN
            } else {
                v
            }
        })
        .collect();
    Tensor::from_vec(data, shape).unwrap()
}

/// `usize`, `u32` and value-only forwards must give the reference's bits and indices exactly,
/// and the two backwards the same gradient.
fn check_forms_against_reference(case: &Case, x: &Tensor) -> Result<(), TestCaseError> {
    let one_d = x.ndim() == 3;
    let (want_y, want_arg) = case.want_max(x);
    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    let (y, arg) = run_max(case, x);
    let (y32, arg32) = if one_d {
        max_pool1d_argmax32(x, case.kw, case.sw)
    } else {
        max_pool2d_argmax32(x, (case.kh, case.kw), (case.sh, case.sw))
    };
    let values = if one_d {
        max_pool1d_values(x, case.kw, case.sw)
    } else {
        max_pool2d_values(x, (case.kh, case.kw), (case.sh, case.sw))
    };
    for (name, got) in [("usize", &y), ("u32", &y32), ("values", &values)] {
        prop_assert_eq!(got.shape(), want_y.shape(), "{} {:?}", name, case);
        prop_assert_eq!(bits(got.data()), bits(want_y.data()), "{} {:?}", name, case);
    }
    prop_assert_eq!(&arg, &want_arg, "usize argmax {:?}", case);
    let widened: Vec<usize> = arg32.iter().map(|&i| i as usize).collect();
    prop_assert_eq!(&widened, &want_arg, "u32 argmax {:?}", case);
    let dy = ints(y.shape(), 2, 5);
    let (dx, dx32) = if one_d {
        (
            max_pool1d_backward(&dy, &arg, x.shape()),
            max_pool1d_backward32(&dy, &arg32, x.shape()),
        )
    } else {
        (
            max_pool2d_backward(&dy, &arg, x.shape()),
            max_pool2d_backward32(&dy, &arg32, x.shape()),
        )
    };
    prop_assert_eq!(&dx, &dx32, "backward from u32 indices {:?}", case);
    // And against a plain scatter of the reference argmax (integers: exact in any order), which
    // also proves every cell no window picked is 0 (dX is zeroed plane by plane, in parallel on
    // the largest case).
    let want_dx = reference::max_pool_backward(&dy, &want_arg, x.shape());
    prop_assert!(
        dx.data().iter().zip(&want_dx).all(|(&g, &w)| g as f64 == w),
        "backward {:?}",
        case
    );
    Ok(())
}

proptest! {
    #[test]
    fn max_pool2d_forms_match_the_reference_with_nan(case in case2d(), seed: u64) {
        check_forms_against_reference(&case, &ints_with_nan(&[case.n, case.c, case.h, case.w], seed))?;
    }

    #[test]
    fn max_pool1d_forms_match_the_reference_with_nan(case in case1d(), seed: u64) {
        check_forms_against_reference(&case, &ints_with_nan(&[case.n, case.c, case.w], seed))?;
    }
}

#[test]
fn max_pool_forms_match_the_reference_at_awkward_and_parallel_sizes() {
    // The last case (16·32·26·26 cells read ≥ 2·MIN_CHUNK) runs the planes on rayon's threads.
    let more = [(2, 3, 1, 187, 1, 2, 1, 2), (16, 32, 26, 26, 2, 2, 2, 2)];
    let cases = AWKWARD.into_iter().chain(more);
    for (seed, (n, c, h, w, kh, kw, sh, sw)) in cases.enumerate() {
        let case = Case {
            n,
            c,
            h,
            w,
            kh,
            kw,
            sh,
            sw,
        };
        let shape = if h == 1 {
            vec![n, c, w]
        } else {
            vec![n, c, h, w]
        };
        check_forms_against_reference(&case, &ints_with_nan(&shape, seed as u64)).unwrap();
    }
}

// ----- the `KW = sw = 2` fast path on every SIMD level ------------------------------------------

/// Pools with windows two cells wide stepping two, on rows wide enough for several 8-output
/// vector steps and a ragged tail (`W` up to 41, so `OW` up to 20, odd `W` included), `KH` 1 to 3
/// with any `sh` (overlapping rows when `sh < KH`).
fn pairs_case() -> impl Strategy<Value = Case> {
    (0usize..3, 0usize..4, 1usize..7, 2usize..42, 1usize..4).prop_flat_map(|(n, c, h, w, sh)| {
        (1..=h.min(3)).prop_map(move |kh| Case {
            n,
            c,
            h,
            w,
            kh,
            kw: 2,
            sh,
            sw: 2,
        })
    })
}

/// Every forward form on every level this CPU runs (Scalar always: the portable pair loop; AVX2
/// where present: the vector rows plus the portable tail) must give `reference::max_pool2d`'s bits
/// and indices exactly. `x` is `[N, C, H, W]` (a 1-D signal as `H = 1`).
fn check_pairs_on_every_level(case: &Case, x: &Tensor) -> Result<(), TestCaseError> {
    use tensor::simd::{available_levels, Level};
    let (kernel, stride) = ((case.kh, case.kw), (case.sh, case.sw));
    let (want_y, want_arg) = reference::max_pool2d(x, kernel, stride);
    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    let levels = available_levels();
    prop_assert_eq!(levels[0], Level::Scalar);
    for level in levels {
        let (y, arg) = max_pool2d_with(level, x, kernel, stride);
        let (y32, arg32) = max_pool2d_argmax32_with(level, x, kernel, stride);
        let values = max_pool2d_values_with(level, x, kernel, stride);
        for (name, got) in [("usize", &y), ("u32", &y32), ("values", &values)] {
            prop_assert_eq!(
                got.shape(),
                want_y.shape(),
                "{} {:?} {:?}",
                name,
                level,
                case
            );
            prop_assert_eq!(
                bits(got.data()),
                bits(want_y.data()),
                "{} {:?} {:?}",
                name,
                level,
                case
            );
        }
        prop_assert_eq!(&arg, &want_arg, "usize argmax {:?} {:?}", level, case);
        let widened: Vec<usize> = arg32.iter().map(|&i| i as usize).collect();
        prop_assert_eq!(&widened, &want_arg, "u32 argmax {:?} {:?}", level, case);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn pair_pools_match_the_reference_on_every_level(case in pairs_case(), seed: u64) {
        let x = ints_with_nan(&[case.n, case.c, case.h, case.w], seed);
        check_pairs_on_every_level(&case, &x)?;
    }
}

/// The benchmark shapes and ragged ones: the 1-D pool of `conv1d_train` (L = 187 → 93 outputs,
/// 11 vector steps and a tail of 5; then 91 → 45), the 2×2 pool of the CNNs (24×24 → 12×12), an
/// odd 2-D width with a tail (W = 35 → 17 outputs), three window rows stepping one, and a row
/// narrower than one vector step (W = 5 → 2 outputs).
#[test]
fn pair_pools_match_the_reference_at_benchmark_and_ragged_sizes() {
    let cases = [
        (2, 3, 1, 187, 1),
        (2, 3, 1, 91, 1),
        (2, 5, 24, 24, 2),
        (1, 3, 9, 35, 2),
        (1, 2, 7, 33, 3),
        (1, 2, 3, 5, 2),
    ];
    for (seed, (n, c, h, w, kh)) in cases.into_iter().enumerate() {
        let sh = if kh == 3 { 1 } else { kh };
        let case = Case {
            n,
            c,
            h,
            w,
            kh,
            kw: 2,
            sh,
            sw: 2,
        };
        let x = ints_with_nan(&[n, c, h, w], seed as u64);
        check_pairs_on_every_level(&case, &x).unwrap();
        // Without NaN too: then every window is a plain max with ties.
        check_pairs_on_every_level(&case, &ints(&[n, c, h, w], 2, seed as u64)).unwrap();
    }
}

/// The cases a sloppy vector rule gets wrong, by hand, 16 pairs (two vector steps) of one row:
/// - `−0` then `+0`: equal, so the first (`−0`) stays; its bits differ from `+0`;
/// - two NaNs with different payloads: the first stays (a rule "take v if v is NaN" would
///   replace it by the second);
/// - a number then a NaN: the NaN wins; a NaN then a larger number: the NaN stays;
/// - ties of ordinary numbers: the first (even) cell.
#[test]
fn pair_pools_keep_first_ties_signed_zeros_and_the_first_nan() {
    let nan_a = f32::from_bits(0x7fc0_0001);
    let nan_b = f32::from_bits(0x7fc0_0002);
    let pairs: [(f32, f32); 8] = [
        (-0.0, 0.0),
        (nan_a, nan_b),
        (1.0, nan_b),
        (nan_a, 5.0),
        (3.0, 3.0),
        (-1.0, 2.0),
        (2.0, -1.0),
        (f32::NEG_INFINITY, f32::NEG_INFINITY),
    ];
    // By hand from the rule: (value, index within the pair) of each window above.
    let want: [(f32, usize); 8] = [
        (-0.0, 0),
        (nan_a, 0),
        (nan_b, 1),
        (nan_a, 0),
        (3.0, 0),
        (2.0, 1),
        (2.0, 0),
        (f32::NEG_INFINITY, 0),
    ];
    // The 8 pairs twice, the second time swapped around (pair k as pair 15 − k) so that each
    // case sits in a different lane; plus one cell the windows do not reach (W = 33).
    let mut row: Vec<(f32, f32)> = pairs.to_vec();
    row.extend(pairs.iter().rev());
    let mut x: Vec<f32> = row.iter().flat_map(|&(a, b)| [a, b]).collect();
    x.push(9.0);
    let x = Tensor::from_vec(x, &[1, 1, 1, 33]).unwrap();
    let mut want_full: Vec<(f32, usize)> = want.to_vec();
    want_full.extend(want.iter().rev());
    for level in tensor::simd::available_levels() {
        let (y, arg) = max_pool2d_argmax32_with(level, &x, (1, 2), (1, 2));
        let values = max_pool2d_values_with(level, &x, (1, 2), (1, 2));
        for (q, &(v, j)) in want_full.iter().enumerate() {
            assert_eq!(y.data()[q].to_bits(), v.to_bits(), "{level:?} value {q}");
            assert_eq!(
                values.data()[q].to_bits(),
                v.to_bits(),
                "{level:?} value-only {q}"
            );
            assert_eq!(arg[q] as usize, 2 * q + j, "{level:?} argmax {q}");
        }
    }
}
