//! `Tensor::matmul` and friends against their f64 definition, `tensor::reference::matmul_t`.
//!
//! Tolerance: a dot product of length k in f32 has a relative error of at most about k·ε (ε = 2⁻²⁴)
//! of Σ|a·b|; we allow 1e-5·(1 + k) of that, well above what sgemm produces and far below any real
//! bug (a wrong index gives errors of order 1).

mod common;

use common::floats;
use proptest::prelude::*;
use tensor::reference;
use tensor::{Scale, Tensor};

/// [`reference::matmul_t`], and per entry `Σ|a·b|` (the same product of the absolute values), the
/// scale that rounding errors are measured against.
fn reference(a: &Tensor, ta: bool, b: &Tensor, tb: bool) -> (Vec<f64>, Vec<f64>) {
    let abs = |t: &Tensor| {
        Tensor::from_vec(t.data().iter().map(|x| x.abs()).collect(), t.shape()).unwrap()
    };
    (
        reference::matmul_t(a, ta, b, tb),
        reference::matmul_t(&abs(a), ta, &abs(b), tb),
    )
}

fn assert_close(got: &[f32], want: &[f64], scale: &[f64], k: usize, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, ((&g, &w), &s)) in got.iter().zip(want).zip(scale).enumerate() {
        let tol = 1e-5 * (1.0 + k as f64) * (1.0 + s);
        assert!(
            (g as f64 - w).abs() <= tol,
            "{what}: element {i} is {g}, reference {w} (tolerance {tol})"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn matmul_t_matches_the_reference(
        m in 0usize..40, k in 0usize..40, n in 0usize..40,
        ta in any::<bool>(), tb in any::<bool>(), seed in any::<u64>(),
    ) {
        let a = floats(&if ta { [k, m] } else { [m, k] }, seed);
        let b = floats(&if tb { [n, k] } else { [k, n] }, seed ^ 1);
        let c = a.matmul_t(ta, &b, tb);
        prop_assert_eq!(c.shape(), &[m, n]);
        let (want, scale) = reference(&a, ta, &b, tb);
        assert_close(c.data(), &want, &scale, k, "matmul_t");
    }

    #[test]
    fn batched_and_broadcast_products_match_per_matrix_products(
        batch in 1usize..4, m in 1usize..9, k in 1usize..9, n in 1usize..9, seed in any::<u64>(),
    ) {
        let a = floats(&[batch, m, k], seed);
        let b = floats(&[batch, k, n], seed ^ 2);
        let shared = floats(&[k, n], seed ^ 3);
        let batched = a.matmul(&b);
        let broadcast = a.matmul(&shared);
        prop_assert_eq!(batched.shape(), &[batch, m, n]);
        for i in 0..batch {
            let a_i = a.slice(0, i, i + 1).reshape(&[m, k]);
            let b_i = b.slice(0, i, i + 1).reshape(&[k, n]);
            let (want, scale) = reference(&a_i, false, &b_i, false);
            assert_close(&batched.data()[i * m * n..(i + 1) * m * n], &want, &scale, k, "batched");
            let (want, scale) = reference(&a_i, false, &shared, false);
            assert_close(&broadcast.data()[i * m * n..(i + 1) * m * n], &want, &scale, k, "shared rhs");
        }
    }
}

#[test]
fn batch_axes_broadcast_like_numpy() {
    // [2, 1, 3, 4] · [5, 4, 2] → [2, 5, 3, 2]; entry (i, j) is a[i, 0] · b[j].
    let a = floats(&[2, 1, 3, 4], 7);
    let b = floats(&[5, 4, 2], 8);
    let c = a.matmul(&b);
    assert_eq!(c.shape(), &[2, 5, 3, 2]);
    for i in 0..2 {
        for j in 0..5 {
            let a_i = a.slice(0, i, i + 1).reshape(&[3, 4]);
            let b_j = b.slice(0, j, j + 1).reshape(&[4, 2]);
            let want = a_i.matmul(&b_j);
            let got = c.slice(0, i, i + 1).slice(1, j, j + 1).reshape(&[3, 2]);
            assert_eq!(got, want, "batch ({i}, {j})");
        }
    }
}

#[test]
fn gemm_into_accumulates_with_beta_one() {
    let a = floats(&[6, 5], 1);
    let b = floats(&[6, 4], 2);
    let mut c = Tensor::ones(&[5, 4]);
    // c = 2·aᵀ·b + 1·c: the product enters scaled, the old ones stay.
    let scale = Scale {
        alpha: 2.0,
        beta: 1.0,
    };
    Tensor::gemm_into(&mut c, &a, true, &b, false, scale);
    let product = a.matmul_t(true, &b, false);
    for (got, p) in c.data().iter().zip(product.data()) {
        assert!((got - (2.0 * p + 1.0)).abs() < 1e-5, "{got} vs 2·{p} + 1");
    }
}

#[test]
fn large_products_give_the_same_bits_on_one_and_two_threads() {
    let a = floats(&[257, 300], 3);
    let b = floats(&[300, 129], 4);
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| (a.matmul(&b), a.matmul_t(false, &a, true)))
    };
    assert_eq!(run(1), run(2));
}

#[test]
fn mismatched_inner_sizes_name_the_op_and_both_shapes() {
    let a = Tensor::zeros(&[2, 3]);
    let b = Tensor::zeros(&[4, 5]);
    let err = std::panic::catch_unwind(|| a.matmul(&b)).unwrap_err();
    let message = err.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("matmul") && message.contains("[2, 3]") && message.contains("[4, 5]"),
        "{message}"
    );
}

#[test]
fn batches_with_size_one_axes_and_transposes_match_the_reference_exactly() {
    // Every way the batch axes can line up — none, all of size 1 (one product with transposes,
    // `Plan::single_product`), a stack times one shared matrix (one tall product, also with axes
    // of size 1 on either side), and true broadcasts (one product per matrix) — with either
    // operand transposed. Integer inputs in −3..=3 with k = 7: every sum is an exact integer in
    // f32, so each output matrix must equal the f64 reference of its two input matrices exactly.
    let (m, k, n) = (5, 7, 3);
    let batches: [(&[usize], &[usize]); 12] = [
        (&[], &[]),
        (&[1], &[]),
        (&[], &[1]),
        (&[1, 1], &[1]),
        (&[3], &[]),
        (&[3, 1], &[]),
        (&[1, 3], &[1]),
        (&[2, 3], &[1, 1]),
        (&[3], &[3]),
        (&[3], &[1]),
        (&[1], &[3]),
        (&[2, 1], &[3]),
    ];
    for (s, &(a_batch, b_batch)) in batches.iter().enumerate() {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a_mat = if ta { [k, m] } else { [m, k] };
            let b_mat = if tb { [n, k] } else { [k, n] };
            let a = common::ints(&[a_batch, &a_mat].concat(), 3, 100 + s as u64);
            let b = common::ints(&[b_batch, &b_mat].concat(), 3, 200 + s as u64);
            let c = a.matmul_t(ta, &b, tb);
            // The broadcast batch shape, and for each of its indices the matrix of each operand.
            let rank = a_batch.len().max(b_batch.len());
            let size = |batch: &[usize], axis: usize| {
                (axis + batch.len())
                    .checked_sub(rank)
                    .map_or(1, |i| batch[i])
            };
            let out_batch: Vec<usize> = (0..rank)
                .map(|axis| size(a_batch, axis).max(size(b_batch, axis)))
                .collect();
            assert_eq!(c.shape(), &[&out_batch[..], &[m, n]].concat()[..]);
            let matrix = |t: &Tensor, batch: &[usize], index: &[usize], shape: [usize; 2]| {
                let mut flat = 0;
                for (axis, &i) in index.iter().enumerate() {
                    let s = size(batch, axis);
                    flat = flat * s + if s == 1 { 0 } else { i };
                }
                let len = shape[0] * shape[1];
                Tensor::from_vec(t.data()[flat * len..(flat + 1) * len].to_vec(), &shape).unwrap()
            };
            let count: usize = out_batch.iter().product();
            for o in 0..count {
                let mut index = vec![0; rank];
                let mut rest = o;
                for axis in (0..rank).rev() {
                    index[axis] = rest % out_batch[axis];
                    rest /= out_batch[axis];
                }
                let a_o = matrix(&a, a_batch, &index, a_mat);
                let b_o = matrix(&b, b_batch, &index, b_mat);
                let (want, _) = reference(&a_o, ta, &b_o, tb);
                let got = &c.data()[o * m * n..(o + 1) * m * n];
                assert!(
                    got.iter().zip(&want).all(|(&g, &w)| g as f64 == w),
                    "{a_batch:?}·{b_batch:?} ta={ta} tb={tb}, batch {index:?}: {got:?} != {want:?}"
                );
            }
        }
    }
}
