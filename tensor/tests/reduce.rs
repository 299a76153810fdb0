//! Reductions against their f64 definitions in `tensor::reference`.

mod common;

use common::floats;
use proptest::prelude::*;
use tensor::reference;
use tensor::Tensor;

fn shape_and_axis() -> impl Strategy<Value = (Vec<usize>, usize)> {
    prop::collection::vec(1usize..7, 1..5).prop_flat_map(|shape| {
        let ndim = shape.len();
        (Just(shape), 0..ndim)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn axis_reductions_match_the_reference((shape, axis) in shape_and_axis(), seed in any::<u64>(), keepdim in any::<bool>()) {
        let t = floats(&shape, seed);
        let want_sum = reference::sum_axis(&t, axis);
        let want_mean = reference::mean_axis(&t, axis);
        let (want_max, want_arg) = reference::max_axis_with_argmax(&t, axis);
        let sum = t.sum_axis(axis, keepdim);
        let mean = t.mean_axis(axis, keepdim);
        let max = t.max_axis(axis, keepdim);
        let argmax = t.argmax_axis(axis);
        let mut expected_shape = shape.clone();
        if keepdim { expected_shape[axis] = 1 } else { expected_shape.remove(axis); }
        prop_assert_eq!(sum.shape(), &expected_shape[..]);
        prop_assert_eq!(max.shape(), &expected_shape[..]);
        for k in 0..want_sum.len() {
            // At most 6 terms of size ≤ 1: f32 rounding stays below 1e-6.
            let s = want_sum[k];
            prop_assert!((sum.data()[k] as f64 - s).abs() < 1e-5, "sum {} vs {}", sum.data()[k], s);
            prop_assert!((mean.data()[k] as f64 - want_mean[k]).abs() < 1e-5);
            prop_assert_eq!(max.data()[k], want_max[k]);
            prop_assert_eq!(argmax[k], want_arg[k]);
        }
        prop_assert!((t.sum_all() as f64 - reference::sum_all(&t)).abs() < 1e-4);
    }

    #[test]
    fn sum_to_shape_is_the_adjoint_of_broadcasting(seed in any::<u64>()) {
        // ⟨broadcast(x), g⟩ = ⟨x, sum_to_shape(g)⟩ for x of shape [3, 1], broadcast to [2, 3, 4].
        let x = floats(&[3, 1], seed);
        let g = floats(&[2, 3, 4], seed ^ 5);
        let lhs = reference::dot(x.broadcast_to(&[2, 3, 4]).data(), g.data());
        let reduced = g.sum_to_shape(&[3, 1]);
        prop_assert_eq!(reduced.shape(), &[3, 1]);
        let rhs = reference::dot(x.data(), reduced.data());
        prop_assert!((lhs - rhs).abs() < 1e-4, "{} vs {}", lhs, rhs);
    }
}

#[test]
fn long_sums_are_accurate() {
    // 10⁷ copies of 0.1f32: the exact sum of the f32 value 0.1 (= 0.100000001490116…) times 10⁷
    // is 1 000 000.0149…; a naive running f32 total is off by about 9 % (it stalls once the total
    // dwarfs 0.1). Pairwise summation must be within a few tens of ulps of 10⁶ (1 ulp = 0.0625
    // there; its error grows like (SUM_BLOCK + log₂ n)·ε): the scalar level gives 1 000 001
    // (16 ulps: its blocks of 128 are single running sums), the vector levels, whose blocks are
    // spread over 32 or more accumulators, land closer.
    let n = 10_000_000;
    let t = Tensor::full(&[n], 0.1);
    let exact = 0.1f32 as f64 * n as f64;
    let naive = t.data().iter().fold(0.0f32, |acc, &v| acc + v) as f64;
    assert!(
        (naive - exact).abs() > 1e4,
        "the naive sum should be visibly wrong: {naive}"
    );
    assert!(
        (t.sum_all() as f64 - exact).abs() < 2.0, // 32 ulps
        "sum_all = {}",
        t.sum_all()
    );
    // Along a strided axis ([n/10, 10] summed over axis 0: 10⁶ rows), the blocked sum.
    let columns = t.clone().reshape(&[n / 10, 10]).sum_axis(0, false);
    for &c in columns.data() {
        assert!((c as f64 - exact / 10.0).abs() < 0.5, "column sum {c}");
    }
    // Along the last axis (10 rows of 10⁶), the pairwise kernel.
    let rows = t.reshape(&[10, n / 10]).sum_axis(1, false);
    for &r in rows.data() {
        // 32 ulps of 10⁵ (the scalar level: 100 000.1, 13 ulps).
        assert!((r as f64 - exact / 10.0).abs() < 0.25, "row sum {r}");
    }
}

#[test]
fn max_and_argmax_let_nan_win_and_take_the_first_tie() {
    let t = Tensor::from_vec(vec![1.0, 3.0, 3.0, 2.0, f32::NAN, 5.0], &[2, 3]).unwrap();
    assert_eq!(t.argmax_axis(1), vec![1, 1]);
    let max = t.max_axis(1, false);
    assert_eq!(max.data()[0], 3.0);
    assert!(max.data()[1].is_nan());
    assert_eq!(t.argmax_all(), 4);
}

#[test]
fn reductions_give_the_same_bits_on_one_and_two_threads() {
    let t = floats(&[300, 400], 9);
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                (
                    t.sum_all(),
                    t.sum_axis(0, false),
                    t.sum_axis(1, true),
                    t.max_axis(0, false),
                )
            })
    };
    assert_eq!(run(1), run(2));
}

#[test]
fn bad_axes_and_empty_maxima_are_named() {
    let t = Tensor::zeros(&[2, 3]);
    let err = std::panic::catch_unwind(|| t.sum_axis(2, false)).unwrap_err();
    let message = err.downcast_ref::<String>().unwrap().clone();
    assert!(
        message.contains("sum_axis") && message.contains('2'),
        "{message}"
    );
    let empty = Tensor::zeros(&[0, 3]);
    assert_eq!(empty.sum_axis(0, false).data(), &[0.0, 0.0, 0.0]);
    assert!(std::panic::catch_unwind(|| empty.max_all()).is_err());
}
