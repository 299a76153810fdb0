//! Elementwise ops against naive per-element references (f64 where arithmetic is involved), with
//! broadcasting checked against a broadcast written out independently here.
//!
//! Provenance of the "exact" comparisons: for `+ − × ÷ √` of f32 operands, computing in f64 and
//! rounding once to f32 gives the correctly rounded f32 result (f64 has more than 2·24 + 2
//! significant bits, so the double rounding is innocuous — Figueroa, 1995). An f32 op is correctly
//! rounded by IEEE 754, so the two must agree bit for bit.

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::parallel::MIN_CHUNK;
use tensor::Tensor;

/// f32's machine epsilon (2⁻²³): the spacing of floats just above 1, and an upper bound on one
/// ulp of `y` relative to `|y|`.
const EPS: f64 = f32::EPSILON as f64;

/// Shapes with the awkward sizes 0, 1, 7, 17, 33, 257 and ranks 0 to 3.
fn awkward_shapes() -> Vec<Vec<usize>> {
    vec![
        vec![],
        vec![0],
        vec![1],
        vec![7],
        vec![257],
        vec![17, 33],
        vec![3, 0, 5],
        vec![2, 7, 17],
    ]
}

fn random_tensor(rng: &mut StdRng, shape: &[usize], lo: f32, hi: f32) -> Tensor {
    Tensor::uniform(shape, lo, hi, rng)
}

fn tensor(data: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_vec(data.to_vec(), shape).unwrap()
}

fn same_bits(a: f32, b: f32) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// How close an op must come to its f64 reference.
#[derive(Clone, Copy, Debug)]
enum Tol {
    /// Bit for bit equal to the reference rounded to f32.
    Exact,
    /// `|got − ref| ≤ k·EPS·|ref|`, i.e. within `k` ulps (plus one subnormal step near 0).
    Ulps(f64),
}

#[track_caller]
fn check_close(what: &str, input: &str, got: f32, want: f64, tol: Tol) {
    let ok = match tol {
        Tol::Exact => same_bits(got, want as f32),
        Tol::Ulps(k) => {
            if want.is_nan() {
                got.is_nan()
            } else if want.is_infinite() {
                got as f64 == want
            } else {
                (got as f64 - want).abs() <= k * EPS * want.abs() + 2f64.powi(-149)
            }
        }
    };
    assert!(
        ok,
        "{what}({input}) = {got:e}, reference {want:e} ({tol:?})"
    );
}

// ----- unary ------------------------------------------------------------------------------------

type Unary = (
    &'static str,
    fn(&Tensor) -> Tensor,
    fn(f64) -> f64,
    Tol,
    (f32, f32),
);

/// Each unary op with its f64 reference, tolerance and input range. Tolerances:
/// - neg, abs, relu, leaky_relu, clamp, sqrt: exact (no rounding, one product, or a correctly
///   rounded IEEE op; see the file header).
/// - exp: 1.5e-7 relative, the SIMD `exp` bound measured in tests/simd.rs (`EXP_REL_TOL`), ≈ 1.26
///   ulps; `Ulps(1.3)`.
/// - ln, powf: glibc's `logf`/`powf` are documented within 1 ulp; `Ulps(1)`.
/// - tanh: glibc's `tanhf` is documented within 2 ulps; `Ulps(2)`.
/// - sigmoid: `expf` (≤ 1 ulp) then `1 + e` and a division (u each): at most about 6u = 3 ulps.
const UNARY: [Unary; 11] = [
    ("neg", |t| t.neg(), |x| -x, Tol::Exact, (-20.0, 20.0)),
    ("exp", |t| t.exp(), f64::exp, Tol::Ulps(1.3), (-20.0, 20.0)),
    ("ln", |t| t.ln(), f64::ln, Tol::Ulps(1.0), (1e-3, 50.0)),
    ("sqrt", |t| t.sqrt(), f64::sqrt, Tol::Exact, (0.0, 50.0)),
    (
        "relu",
        |t| t.relu(),
        |x| x.max(0.0),
        Tol::Exact,
        (-20.0, 20.0),
    ),
    (
        "sigmoid",
        |t| t.sigmoid(),
        |x| 1.0 / (1.0 + (-x).exp()),
        Tol::Ulps(3.0),
        (-20.0, 20.0),
    ),
    ("tanh", |t| t.tanh(), f64::tanh, Tol::Ulps(2.0), (-5.0, 5.0)),
    ("abs", |t| t.abs(), f64::abs, Tol::Exact, (-20.0, 20.0)),
    (
        "powf(1.7)",
        |t| t.powf(1.7),
        |x| x.powf(1.7f32 as f64),
        Tol::Ulps(1.0),
        (0.0, 20.0),
    ),
    (
        "clamp(-1.5, 2.5)",
        |t| t.clamp(-1.5, 2.5),
        |x| x.clamp(-1.5, 2.5),
        Tol::Exact,
        (-5.0, 5.0),
    ),
    (
        "leaky_relu(0.01)",
        |t| t.leaky_relu(0.01),
        |x| if x > 0.0 { x } else { 0.01f32 as f64 * x },
        Tol::Exact,
        (-20.0, 20.0),
    ),
];

/// Runs every unary op on random values of `shape` drawn from the op's own input range.
fn check_unary_ops(rng: &mut StdRng, shape: &[usize]) {
    for (name, op, reference, tol, (lo, hi)) in UNARY {
        let x = random_tensor(rng, shape, lo, hi);
        let y = op(&x);
        assert_eq!(y.shape(), x.shape(), "{name} keeps the shape");
        for (&xi, &yi) in x.data().iter().zip(y.data()) {
            check_close(name, &xi.to_string(), yi, reference(xi as f64), tol);
        }
    }
}

#[test]
fn unary_ops_match_f64_on_awkward_shapes() {
    let mut rng = StdRng::seed_from_u64(10);
    for shape in awkward_shapes() {
        check_unary_ops(&mut rng, &shape);
    }
}

#[test]
fn unary_ops_keep_nan() {
    let x = tensor(&[f32::NAN; 9], &[9]);
    for (name, op, ..) in UNARY {
        assert!(op(&x).data().iter().all(|v| v.is_nan()), "{name}(NaN)");
    }
}

#[test]
fn relu_and_leaky_relu_at_the_kink() {
    // By hand: relu(0) = 0, relu(−0) = −0 (x < 0 is false), leaky_relu(0) = slope·0 = 0.
    let x = tensor(&[0.0, -0.0, 1e-30, -1e-30], &[4]);
    let r = x.relu();
    assert!(same_bits(r.data()[0], 0.0) && same_bits(r.data()[1], -0.0));
    assert_eq!(r.data()[2..], [1e-30, 0.0]);
    assert_eq!(x.leaky_relu(0.5).data(), &[0.0, 0.0, 1e-30, -0.5e-30]);
}

#[test]
fn sigmoid_is_finite_and_correct_far_from_zero() {
    let x = tensor(
        &[
            100.0,
            -100.0,
            88.8,
            -88.8,
            1e4,
            -1e4,
            f32::INFINITY,
            f32::NEG_INFINITY,
        ],
        &[8],
    );
    let y = x.sigmoid();
    for (&xi, &yi) in x.data().iter().zip(y.data()) {
        assert!(yi.is_finite(), "sigmoid({xi}) = {yi}");
        // f64 reference in the stable form; its f32 rounding is exact here (1.0 on the right; on
        // the left e^x itself, a subnormal or 0, since 1 + e^x rounds to 1).
        let xf = xi as f64;
        let want = if xf >= 0.0 {
            1.0 / (1.0 + (-xf).exp())
        } else {
            xf.exp() / (1.0 + xf.exp())
        };
        assert!(
            (yi as f64 - want).abs() <= 2f64.powi(-149),
            "sigmoid({xi}) = {yi:e}, f64 gives {want:e}"
        );
    }
    assert_eq!(y.data()[0], 1.0);
    assert!(
        y.data()[1] > 0.0,
        "sigmoid(-100) ≈ 3.7e-44 is a subnormal, not 0"
    );
}

#[test]
#[should_panic(expected = "clamp: needs lo <= hi, found lo = 2, hi = 1")]
fn clamp_refuses_reversed_bounds() {
    let _ = Tensor::zeros(&[3]).clamp(2.0, 1.0);
}

#[test]
fn map_applies_any_function() {
    let x = Tensor::arange(-3.0, 4.0, 1.0);
    assert_eq!(
        x.map(|v| v * v + 1.0).data(),
        &[10.0, 5.0, 2.0, 1.0, 2.0, 5.0, 10.0]
    );
    assert_eq!(Tensor::scalar(2.0).map(|v| -v).shape(), &[] as &[usize]);
}

// ----- binary and broadcasting -------------------------------------------------------------------

/// The output shape, and for each output element the flat indices it reads in the two operands.
type BroadcastPlan = (Vec<usize>, Vec<(usize, usize)>);

/// NumPy's broadcast, written out independently of `tensor::shape`: returns the output shape and,
/// for each output element, the flat indices it reads in `a` and `b`; `None` if incompatible.
fn naive_broadcast(a: &[usize], b: &[usize]) -> Option<BroadcastPlan> {
    let rank = a.len().max(b.len());
    let pad = |s: &[usize]| {
        let mut p = vec![1; rank - s.len()];
        p.extend_from_slice(s);
        p
    };
    let (pa, pb) = (pad(a), pad(b));
    let mut out = Vec::with_capacity(rank);
    for (&x, &y) in pa.iter().zip(&pb) {
        out.push(match (x, y) {
            _ if x == y => x,
            (1, _) => y,
            (_, 1) => x,
            _ => return None,
        });
    }
    let n: usize = out.iter().product();
    let mut pairs = Vec::with_capacity(n);
    for flat in 0..n {
        // Unravel `flat` over `out`, last axis fastest; an axis of size 1 in an input reads 0.
        let mut rest = flat;
        let mut index = vec![0; rank];
        for axis in (0..rank).rev() {
            index[axis] = rest % out[axis];
            rest /= out[axis];
        }
        let flat_in = |p: &[usize]| {
            index.iter().zip(p).fold(0, |acc, (&i, &size)| {
                acc * size + if size == 1 { 0 } else { i }
            })
        };
        pairs.push((flat_in(&pa), flat_in(&pb)));
    }
    Some((out, pairs))
}

type Binary = (
    &'static str,
    fn(&Tensor, &Tensor) -> Tensor,
    fn(f64, f64) -> f64,
);

/// Each binary op and its f64 reference; all are exact (file header). `maximum`'s reference
/// propagates NaN, as the op does (not exercised by these finite inputs; see tests/simd.rs).
const BINARY: [Binary; 5] = [
    ("add", |a, b| a.add(b), |x, y| x + y),
    ("sub", |a, b| a.sub(b), |x, y| x - y),
    ("mul", |a, b| a.mul(b), |x, y| x * y),
    ("div", |a, b| a.div(b), |x, y| x / y),
    ("maximum", |a, b| a.maximum(b), |x, y| x.max(y)),
];

fn check_binary_ops(a: &Tensor, b: &Tensor) {
    let (shape, pairs) = naive_broadcast(a.shape(), b.shape()).expect("compatible shapes");
    for (name, op, reference) in BINARY {
        let z = op(a, b);
        assert_eq!(
            z.shape(),
            &shape[..],
            "{name} {:?} {:?}",
            a.shape(),
            b.shape()
        );
        for (k, &(i, j)) in pairs.iter().enumerate() {
            let (x, y) = (a.data()[i], b.data()[j]);
            let want = reference(x as f64, y as f64);
            assert!(
                same_bits(z.data()[k], want as f32),
                "{name}: {:?} with {:?}, element {k}: {x} and {y} give {}, reference {want}",
                a.shape(),
                b.shape(),
                z.data()[k]
            );
        }
    }
    // zip_map with an asymmetric function: the same f applied to the naively broadcast pairs.
    let f = |x: f32, y: f32| x - 2.0 * y;
    let z = a.zip_map(b, "x_minus_2y", f);
    let want: Vec<f32> = pairs
        .iter()
        .map(|&(i, j)| f(a.data()[i], b.data()[j]))
        .collect();
    assert_eq!(z.shape(), &shape[..]);
    assert!(z.data().iter().zip(&want).all(|(&g, &w)| same_bits(g, w)));
}

#[test]
fn binary_ops_match_f64_with_equal_shapes() {
    let mut rng = StdRng::seed_from_u64(11);
    for shape in awkward_shapes() {
        let a = random_tensor(&mut rng, &shape, -10.0, 10.0);
        let b = random_tensor(&mut rng, &shape, 0.5, 10.0);
        check_binary_ops(&a, &b);
        check_binary_ops(&b, &a);
    }
}

#[test]
fn binary_ops_broadcast_like_numpy() {
    let cases: [(&[usize], &[usize]); 14] = [
        (&[2, 3], &[3]),
        (&[3], &[2, 3]),
        (&[2, 1], &[1, 3]),
        (&[4, 1, 3], &[2, 1]),
        (&[], &[2, 3]),
        (&[2, 3], &[]),
        (&[17, 33], &[33]),
        (&[17, 33], &[17, 1]),
        (&[257, 1], &[1, 7]),
        (&[1], &[5]),
        (&[0, 3], &[3]),
        (&[2, 0], &[1]),
        (&[3, 1, 7], &[1, 5, 1]),
        (&[2, 1, 1], &[1, 1, 1]),
    ];
    let mut rng = StdRng::seed_from_u64(12);
    for (sa, sb) in cases {
        let a = random_tensor(&mut rng, sa, -10.0, 10.0);
        let b = random_tensor(&mut rng, sb, 0.5, 10.0);
        check_binary_ops(&a, &b);
    }
    // One case by hand: [[1, 2, 3], [4, 5, 6]] + [10, 20, 30].
    let a = tensor(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    let b = tensor(&[10.0, 20.0, 30.0], &[3]);
    assert_eq!(a.add(&b).data(), &[11.0, 22.0, 33.0, 14.0, 25.0, 36.0]);
    // [[1], [2]] · [[1, 10, 100]] = the outer product.
    let c = tensor(&[1.0, 2.0], &[2, 1]);
    let d = tensor(&[1.0, 10.0, 100.0], &[1, 3]);
    let outer = c.mul(&d);
    assert_eq!(outer.shape(), &[2, 3]);
    assert_eq!(outer.data(), &[1.0, 10.0, 100.0, 2.0, 20.0, 200.0]);
}

#[test]
#[should_panic(expected = "add: incompatible shapes [2, 3] and [4]")]
fn incompatible_shapes_name_the_op_and_both_shapes() {
    let _ = Tensor::zeros(&[2, 3]).add(&Tensor::zeros(&[4]));
}

#[test]
fn every_binary_op_names_itself_in_the_error() {
    let (a, b) = (Tensor::zeros(&[2, 3]), Tensor::zeros(&[2, 2]));
    for (name, op, _) in BINARY {
        let err = std::panic::catch_unwind(|| op(&a, &b)).unwrap_err();
        let message = err.downcast_ref::<String>().unwrap();
        assert_eq!(
            message,
            &format!("{name}: incompatible shapes [2, 3] and [2, 2]")
        );
    }
    let err = std::panic::catch_unwind(|| a.zip_map(&b, "my_op", |x, _| x)).unwrap_err();
    assert_eq!(
        err.downcast_ref::<String>().unwrap(),
        "my_op: incompatible shapes [2, 3] and [2, 2]"
    );
}

// ----- scalar operands and std::ops --------------------------------------------------------------

/// An op's name, its result, its f64 reference `(x, s) ↦ …` and its tolerance.
type ScalarCheck = (&'static str, Tensor, fn(f64, f64) -> f64, Tol);

#[test]
fn scalar_forms_match_f64() {
    let mut rng = StdRng::seed_from_u64(13);
    let s = 1.37f32;
    for shape in awkward_shapes() {
        let x = random_tensor(&mut rng, &shape, -10.0, 10.0);
        let checks: [ScalarCheck; 4] = [
            ("add_scalar", x.add_scalar(s), |x, s| x + s, Tol::Exact),
            ("sub_scalar", x.sub_scalar(s), |x, s| x - s, Tol::Exact),
            ("mul_scalar", x.mul_scalar(s), |x, s| x * s, Tol::Exact),
            // x·fl(1/s): two roundings, so within 2u = EPS of x/s (documented on div_scalar).
            ("div_scalar", x.div_scalar(s), |x, s| x / s, Tol::Ulps(1.0)),
        ];
        for (name, y, reference, tol) in checks {
            assert_eq!(y.shape(), x.shape());
            for (&xi, &yi) in x.data().iter().zip(y.data()) {
                check_close(
                    name,
                    &xi.to_string(),
                    yi,
                    reference(xi as f64, s as f64),
                    tol,
                );
            }
        }
    }
}

#[test]
fn operators_are_the_methods() {
    let mut rng = StdRng::seed_from_u64(14);
    let a = random_tensor(&mut rng, &[4, 5], -3.0, 3.0);
    let b = random_tensor(&mut rng, &[5], 0.5, 3.0);
    assert_eq!(&a + &b, a.add(&b));
    assert_eq!(&a - &b, a.sub(&b));
    assert_eq!(&a * &b, a.mul(&b));
    assert_eq!(&a / &b, a.div(&b));
    assert_eq!(&a + 2.0, a.add_scalar(2.0));
    assert_eq!(&a - 2.0, a.sub_scalar(2.0));
    assert_eq!(&a * 2.0, a.mul_scalar(2.0));
    assert_eq!(&a / 2.0, a.div_scalar(2.0));
    assert_eq!(-&a, a.neg());
    // And a formula reads as one: (a − 1)·2, checked against the same two f32 steps per element.
    let y = &(&a - 1.0) * 2.0;
    for (&x, &v) in a.data().iter().zip(y.data()) {
        assert_eq!(v, (x - 1.0) * 2.0);
    }
}

// ----- in place ----------------------------------------------------------------------------------

#[test]
fn in_place_ops_equal_their_out_of_place_forms() {
    let mut rng = StdRng::seed_from_u64(15);
    for (sa, sb) in [
        (vec![17, 33], vec![17, 33]),
        (vec![17, 33], vec![33]),
        (vec![17, 33], vec![17, 1]),
        (vec![2, 3], vec![]),
        (vec![0, 3], vec![3]),
        (vec![], vec![]),
    ] {
        let a = random_tensor(&mut rng, &sa, -10.0, 10.0);
        let b = random_tensor(&mut rng, &sb, -10.0, 10.0);
        let mut c = a.clone();
        c.add_(&b);
        assert_eq!(c, a.add(&b), "add_ {sa:?} {sb:?}");
        let mut c = a.clone();
        c.sub_(&b);
        assert_eq!(c, a.sub(&b), "sub_ {sa:?} {sb:?}");
        let mut c = a.clone();
        c.mul_(&b);
        assert_eq!(c, a.mul(&b), "mul_ {sa:?} {sb:?}");
    }
    let a = random_tensor(&mut rng, &[7, 17], -10.0, 10.0);
    let mut c = a.clone();
    c.scale_(-0.3);
    assert_eq!(c, a.mul_scalar(-0.3));
    c.fill_(2.5);
    assert!(c.data().iter().all(|&v| v == 2.5));
    assert_eq!(c.shape(), &[7, 17]);
}

#[test]
fn axpy_matches_f64() {
    let mut rng = StdRng::seed_from_u64(16);
    for shape in awkward_shapes() {
        let y0 = random_tensor(&mut rng, &shape, -10.0, 10.0);
        let x = random_tensor(&mut rng, &shape, -10.0, 10.0);
        let alpha = -0.01f32;
        let mut y = y0.clone();
        y.axpy_(alpha, &x);
        let want = tensor::reference::axpy(alpha, x.data(), y0.data());
        for (((&yi, &y0i), &xi), &w) in y.data().iter().zip(y0.data()).zip(x.data()).zip(&want) {
            // One rounding (fused) or two (product, then sum): within 2u·(|αx| + |y|).
            let ax = alpha as f64 * xi as f64;
            let tol = EPS * (ax.abs() + (y0i as f64).abs());
            assert!((yi as f64 - w).abs() <= tol);
        }
    }
}

#[test]
#[should_panic(expected = "add_: incompatible shapes [3] and [2, 3]")]
fn in_place_refuses_an_operand_that_would_grow_self() {
    Tensor::zeros(&[3]).add_(&Tensor::zeros(&[2, 3]));
}

#[test]
fn in_place_errors_name_the_op() {
    type InPlace = (&'static str, fn(&mut Tensor, &Tensor));
    let cases: [InPlace; 4] = [
        ("add_", |a, b| a.add_(b)),
        ("sub_", |a, b| a.sub_(b)),
        ("mul_", |a, b| a.mul_(b)),
        ("axpy_", |a, b| a.axpy_(1.0, b)),
    ];
    for (name, op) in cases {
        let err = std::panic::catch_unwind(|| {
            let mut a = Tensor::zeros(&[2, 3]);
            op(&mut a, &Tensor::zeros(&[4]));
        })
        .unwrap_err();
        assert_eq!(
            err.downcast_ref::<String>().unwrap(),
            &format!("{name}: incompatible shapes [2, 3] and [4]")
        );
    }
    // axpy_ wants equal shapes, not merely broadcastable ones.
    let err = std::panic::catch_unwind(|| Tensor::zeros(&[2, 3]).axpy_(1.0, &Tensor::zeros(&[3])))
        .unwrap_err();
    assert_eq!(
        err.downcast_ref::<String>().unwrap(),
        "axpy_: incompatible shapes [2, 3] and [3]"
    );
}

// ----- threads -----------------------------------------------------------------------------------

#[test]
fn results_do_not_depend_on_the_number_of_threads() {
    // 10 000 rows of 7: 70 000 elements > 2·MIN_CHUNK, so the work is split; chunks are multiples
    // of 64 long, so they begin mid-row and the broadcast walk must handle partial rows.
    let rows = 10_000;
    assert!(rows * 7 > 2 * MIN_CHUNK);
    let mut rng = StdRng::seed_from_u64(17);
    let a = random_tensor(&mut rng, &[rows, 7], -5.0, 5.0);
    let a2 = random_tensor(&mut rng, &[rows, 7], -5.0, 5.0);
    let bias = random_tensor(&mut rng, &[7], -5.0, 5.0);
    let column = random_tensor(&mut rng, &[rows, 1], 0.5, 5.0);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut stepped = a.clone();
            stepped.axpy_(0.25, &a2);
            let mut scaled = a.clone();
            scaled.mul_(&column);
            vec![
                a.add(&bias),
                a.div(&column),
                column.sub(&a),
                a.mul(&a2),
                a.exp(),
                a.sigmoid(),
                a.relu(),
                a.map(|x| x * x),
                a.zip_map(&bias, "x_minus_2y", |x, y| x - 2.0 * y),
                stepped,
                scaled,
            ]
        })
    };
    let one = run(1);
    let two = run(2);
    for (k, (x, y)) in one.iter().zip(&two).enumerate() {
        assert_eq!(x, y, "result {k} differs between 1 and 2 threads");
    }
    // Same across threads could still be wrong everywhere: check the broadcasts against the
    // naive reference too.
    check_binary_ops(&a, &bias);
    check_binary_ops(&column, &a);
}

// ----- generated shapes --------------------------------------------------------------------------

/// An output shape (rank 0–3, sizes 0–6) and two operand shapes that broadcast to it: each axis
/// independently kept or set to 1, and some leading axes dropped.
fn broadcast_shapes() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    prop::collection::vec(0usize..7, 0..4)
        .prop_flat_map(|out| {
            let r = out.len();
            (
                Just(out),
                prop::collection::vec(any::<bool>(), r),
                prop::collection::vec(any::<bool>(), r),
                0..=r,
                0..=r,
            )
        })
        .prop_map(|(out, ones_a, ones_b, drop_a, drop_b)| {
            let make = |ones: Vec<bool>, drop: usize| -> Vec<usize> {
                out.iter()
                    .zip(ones)
                    .map(|(&d, one)| if one { 1 } else { d })
                    .skip(drop)
                    .collect()
            };
            (make(ones_a, drop_a), make(ones_b, drop_b))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn generated_broadcasts_match_the_naive_reference(
        (sa, sb) in broadcast_shapes(),
        seed in any::<u64>(),
    ) {
        let mut rng = StdRng::seed_from_u64(seed);
        let a = random_tensor(&mut rng, &sa, -10.0, 10.0);
        let b = random_tensor(&mut rng, &sb, 0.5, 10.0);
        check_binary_ops(&a, &b);
        check_binary_ops(&b, &a.abs().add_scalar(0.5));
    }

    #[test]
    fn generated_unary_inputs_match_f64(
        shape in prop::collection::vec(0usize..40, 0..3),
        seed in any::<u64>(),
    ) {
        check_unary_ops(&mut StdRng::seed_from_u64(seed), &shape);
    }
}

#[test]
fn generated_values_are_varied() {
    // Guards the generators above: a broken random_tensor (all zeros, say) would make every
    // comparison trivially pass.
    let mut rng = StdRng::seed_from_u64(18);
    let x = random_tensor(&mut rng, &[1000], -10.0, 10.0);
    let distinct: std::collections::HashSet<u32> = x.data().iter().map(|v| v.to_bits()).collect();
    assert!(distinct.len() > 990);
}
