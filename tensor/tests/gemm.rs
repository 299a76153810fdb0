//! Distillery's own GEMM (`tensor::gemm`) on every SIMD level this CPU has, against its f64
//! definition (`tensor::reference::gemm`) and against `matrixmultiply`
//! (`tensor::matmul::sgemm_matrixmultiply`).
//!
//! Two kinds of inputs:
//! - **Integer-valued** (in −3..=3, C in −9..=9): every product, partial sum and `alpha·AB + beta·C`
//!   below is an integer under 2²⁴, so f32 arithmetic is exact in any order and every result must
//!   equal the reference *bit for bit*. These cover the edge sizes (0, 1, 2, 3, MR±1, NR±1, KC±1,
//!   odd primes), where wrong indexing, padding or edge-tile handling would show.
//! - **Random floats** in [−1, 1) at proptest sizes, with the tolerance
//!   `|got − exact| ≤ (2k + 8)·u·(|alpha|·Σₚ|a_ip·b_pj| + |beta·c_ij|)`, `u = 2⁻²⁴`: a dot product of
//!   length k summed in f32 (with or without FMA, in any order) is off by at most `γ_k ≈ k·u` of
//!   `Σ|a·b|` (Higham, *Accuracy and Stability of Numerical Algorithms*, §3.1); the `2k + 8` covers
//!   that, the rounding of each KC block's partial result into C (at most k blocks) and the few
//!   roundings of alpha and beta. A wrong element is off by order 1, far above this.

mod common;

use common::{ints, U};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tensor::gemm;
use tensor::matmul::sgemm_matrixmultiply;
use tensor::reference;
use tensor::simd::{available_levels, Level};
use tensor::{MatMut, MatRef, Scale};

/// The operand `op(X)`, `rows × cols`, of the buffer `x`: stored as is, or (`transposed`) as its
/// transpose.
fn op(x: &[f32], rows: usize, cols: usize, transposed: bool) -> MatRef<'_> {
    MatRef {
        data: x,
        rows,
        cols,
        transposed,
    }
}

/// `op(A)` (`m×k`) and `op(B)` (`k×n`) of the buffers `a` and `b`, stored transposed as `(ta, tb)`
/// says.
fn operands<'a>(
    (m, k, n): (usize, usize, usize),
    (a, b): (&'a [f32], &'a [f32]),
    (ta, tb): (bool, bool),
) -> (MatRef<'a>, MatRef<'a>) {
    (op(a, m, k, ta), op(b, k, n, tb))
}

/// [`reference::gemm`] (`alpha · op(A)·op(B) + beta · C` in f64) and per element the scale its
/// rounding error is measured against, `|alpha|·Σ|a·b| + |beta·c|`: the same definition on the
/// absolute values.
fn reference(a: MatRef, b: MatRef, scale: Scale, c: &[f32]) -> (Vec<f64>, Vec<f64>) {
    let abs = |v: &[f32]| v.iter().map(|x| x.abs()).collect::<Vec<f32>>();
    let out = reference::gemm(a, b, scale, c);
    let (a_abs, b_abs, c_abs) = (abs(a.data), abs(b.data), abs(c));
    let abs_scale = Scale {
        alpha: scale.alpha.abs(),
        beta: scale.beta.abs(),
    };
    let bound = reference::gemm(
        MatRef { data: &a_abs, ..a },
        MatRef { data: &b_abs, ..b },
        abs_scale,
        &c_abs,
    );
    (out, bound)
}

/// Runs our GEMM on `level` and matrixmultiply on copies of `c`; returns both results.
fn both(level: Level, a: MatRef, b: MatRef, scale: Scale, c: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let (m, n) = (a.rows, b.cols);
    let mut ours = c.to_vec();
    gemm::sgemm_with(level, a, b, scale, MatMut::new(&mut ours, m, n));
    let mut theirs = c.to_vec();
    sgemm_matrixmultiply(a, b, scale, MatMut::new(&mut theirs, m, n));
    (ours, theirs)
}

const LAYOUTS: [(bool, bool); 4] = [(false, false), (true, false), (false, true), (true, true)];

/// Sizes around a tile or block edge `t`, plus the small and the odd.
fn around(t: usize) -> Vec<usize> {
    let mut v = vec![0, 1, 2, 3, t - 1, t, t + 1, 2 * t + 1, 17];
    v.sort_unstable();
    v.dedup();
    v
}

#[test]
fn edge_sizes_are_exact_on_every_level_layout_alpha_and_beta() {
    for level in available_levels() {
        let (mr, nr) = gemm::tile(level);
        let kc = gemm::depth_block(level);
        let ks = [0, 1, 2, 3, 31, kc - 1, kc, kc + 1, 2 * kc + 1];
        for m in around(mr) {
            for n in around(nr) {
                for &k in &ks {
                    for (ta, tb) in LAYOUTS {
                        let a = ints(&[m * k], 3, 1);
                        let b = ints(&[k * n], 3, 2);
                        let c = ints(&[m * n], 9, 3);
                        // (alpha, beta): plain product, accumulation (gradients), and general.
                        for (alpha, beta) in [(1.0, 0.0), (1.0, 1.0), (2.0, -1.0)] {
                            let what = format!(
                                "{level:?} m={m} k={k} n={n} ta={ta} tb={tb} alpha={alpha} beta={beta}"
                            );
                            let (op_a, op_b) = operands((m, k, n), (a.data(), b.data()), (ta, tb));
                            let scale = Scale { alpha, beta };
                            let (want, _) = reference(op_a, op_b, scale, c.data());
                            let want: Vec<f32> = want.iter().map(|&x| x as f32).collect();
                            let (ours, theirs) = both(level, op_a, op_b, scale, c.data());
                            assert_eq!(ours, want, "ours vs reference, {what}");
                            assert_eq!(ours, theirs, "ours vs matrixmultiply, {what}");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn long_thin_products_are_exact() {
    // 1×1000×1 is one dot product over four KC blocks; 1000×1×1000 an outer product over many
    // tiles; 1×1×1000 and 1000×1×1 single rows and columns.
    for level in available_levels() {
        for (m, k, n) in [(1, 1000, 1), (1000, 1, 1000), (1, 1, 1000), (1000, 1, 1)] {
            for (ta, tb) in LAYOUTS {
                let a = ints(&[m * k], 3, 4);
                let b = ints(&[k * n], 3, 5);
                let c = vec![f32::NAN; m * n];
                let (op_a, op_b) = operands((m, k, n), (a.data(), b.data()), (ta, tb));
                let (want, _) = reference(op_a, op_b, Scale::OVERWRITE, &c);
                let want: Vec<f32> = want.iter().map(|&x| x as f32).collect();
                let (ours, _) = both(level, op_a, op_b, Scale::OVERWRITE, &c);
                assert_eq!(ours, want, "{level:?} {m}×{k}×{n} ta={ta} tb={tb}");
            }
        }
    }
}

#[test]
fn beta_zero_ignores_nan_in_c_and_k_zero_scales_c() {
    for level in available_levels() {
        let (mr, nr) = gemm::tile(level);
        // A whole tile and a ragged edge, with k = 0 (no product at all) and k > 0.
        for (m, k, n) in [(mr, 5, nr), (mr + 1, 7, nr + 3), (3, 0, 4)] {
            let a = ints(&[m * k], 3, 6);
            let b = ints(&[k * n], 3, 7);
            let mut c = vec![f32::NAN; m * n];
            gemm::sgemm_with(
                level,
                MatRef::new(a.data(), m, k),
                MatRef::new(b.data(), k, n),
                Scale::OVERWRITE,
                MatMut::new(&mut c, m, n),
            );
            assert!(
                c.iter().all(|x| x.is_finite()),
                "{level:?} {m}×{k}×{n}: NaN from C leaked through beta = 0: {c:?}"
            );
        }
        // k = 0: C = beta·C (the product of an empty sum is zero).
        let mut c = vec![1.0, -2.0, 3.0, 4.0];
        let (a, b) = (MatRef::new(&[], 2, 0), MatRef::new(&[], 0, 2));
        let scale = Scale {
            alpha: 1.0,
            beta: 0.5,
        };
        gemm::sgemm_with(level, a, b, scale, MatMut::new(&mut c, 2, 2));
        assert_eq!(c, [0.5, -1.0, 1.5, 2.0], "{level:?}: k = 0 with beta = 0.5");
    }
}

/// Random floats in [−1, 1) from a seed.
fn random(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..len).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_products_are_within_the_rounding_bound(
        m in 0usize..70,
        k in 0usize..600,
        n in 0usize..70,
        layout in 0usize..4,
        alpha in prop::sample::select(vec![1.0f32, -0.5, 3.0]),
        beta in prop::sample::select(vec![0.0f32, 1.0, 0.25]),
        seed in 0u64..1000,
    ) {
        let (ta, tb) = LAYOUTS[layout];
        let a = random(m * k, seed);
        let b = random(k * n, seed + 1);
        let c = random(m * n, seed + 2);
        let (op_a, op_b) = operands((m, k, n), (&a, &b), (ta, tb));
        let (want, scale) = reference(op_a, op_b, Scale { alpha, beta }, &c);
        for level in available_levels() {
            let (ours, theirs) = both(level, op_a, op_b, Scale { alpha, beta }, &c);
            for i in 0..m * n {
                let tol = (2 * k + 8) as f64 * U * scale[i];
                let what = format!("{level:?} {m}×{k}×{n} ta={ta} tb={tb} element {i}");
                prop_assert!(
                    (ours[i] as f64 - want[i]).abs() <= tol,
                    "ours {} vs reference {} (tolerance {tol}), {what}", ours[i], want[i]
                );
                // Both are within tol of the exact value, so within 2·tol of each other.
                prop_assert!(
                    (ours[i] as f64 - theirs[i] as f64).abs() <= 2.0 * tol,
                    "ours {} vs matrixmultiply {}, {what}", ours[i], theirs[i]
                );
            }
        }
    }
}

#[test]
fn one_and_two_threads_give_the_same_bits() {
    // Identical, not merely close: threads only decide which thread computes a tile, never the
    // order of the sums (see the gemm module doc). Each shape is above gemm::PARALLEL_MIN_MACS, so
    // the 2-thread pool really splits it (as described here with AVX2's 6×16 tiles; the other
    // levels' tiles split some of them otherwise): tall ones into bands of rows (the second band starting
    // inside the first row block of 1 thread; too narrow for two bands of columns), wide ones into
    // bands of columns (ragged last tile; too short for two bands of rows), and one too small both
    // ways, which stays on one thread.
    let shapes = [
        (700, 40, 50),
        (128, 300, 101),
        (1000, 300, 9),
        (130, 517, 301),
        (3, 900, 1000),
        (4, 40_000, 12),
    ];
    for &(m, k, n) in &shapes {
        assert!(m * k * n >= gemm::PARALLEL_MIN_MACS);
    }
    assert_same_bits_on_one_and_two_threads(&shapes, 8);
}

/// Rayon pools of 1 and 2 threads.
fn one_and_two_threads() -> [rayon::ThreadPool; 2] {
    [1, 2].map(|t| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .unwrap()
    })
}

/// Runs `C = 0.5·op(A)·op(B) + C` for every level, shape and layout on rayon pools of 1 and 2
/// threads (operands drawn from `seed`, `seed + 1`, `seed + 2`) and asserts the two results have
/// the same bits.
fn assert_same_bits_on_one_and_two_threads(shapes: &[(usize, usize, usize)], seed: u64) {
    let pools = one_and_two_threads();
    for level in available_levels() {
        for &(m, k, n) in shapes {
            for (ta, tb) in LAYOUTS {
                let a = random(m * k, seed);
                let b = random(k * n, seed + 1);
                let c0 = random(m * n, seed + 2);
                let (op_a, op_b) = operands((m, k, n), (&a, &b), (ta, tb));
                let scale = Scale {
                    alpha: 0.5,
                    beta: 1.0,
                };
                let results = pools.each_ref().map(|pool| {
                    let mut c = c0.clone();
                    pool.install(|| {
                        gemm::sgemm_with(level, op_a, op_b, scale, MatMut::new(&mut c, m, n))
                    });
                    c
                });
                let same = results[0]
                    .iter()
                    .zip(&results[1])
                    .all(|(x, y)| x.to_bits() == y.to_bits());
                assert!(
                    same,
                    "{level:?} {m}×{k}×{n} ta={ta} tb={tb}: 1 and 2 threads differ"
                );
            }
        }
    }
}

#[test]
fn a_new_product_has_the_bits_of_a_filled_buffer_and_sgemm() {
    // sgemm_new writes into untouched memory — nothing (beta 0) or the bias rows, each thread in
    // its own band — and must give exactly what zeros or bias rows followed by sgemm_with give: on
    // every level, every layout, 1 and 2 threads, for the packed path on one thread and split both
    // ways, the matrix–vector shapes and k = 0 (which fill first), and with alpha ≠ 1.
    let shapes = [
        (7, 5, 9),
        (130, 517, 301),
        (700, 40, 50),
        (1, 300, 40),
        (40, 300, 1),
        (6, 0, 11),
        (4, 40_000, 12),
    ];
    let pools = one_and_two_threads();
    for level in available_levels() {
        for (s, &(m, k, n)) in shapes.iter().enumerate() {
            for (ta, tb) in LAYOUTS {
                let seed = 60 + 3 * s as u64;
                let (a, b, bias) = (
                    random(m * k, seed),
                    random(k * n, seed + 1),
                    random(n, seed + 2),
                );
                for bias in [None, Some(&bias[..])] {
                    let mut want = match bias {
                        Some(bias) => bias.repeat(m),
                        None => vec![f32::NAN; m * n],
                    };
                    let beta = if bias.is_some() { 1.0 } else { 0.0 };
                    let (op_a, op_b) = operands((m, k, n), (&a, &b), (ta, tb));
                    let scale = Scale { alpha: 0.5, beta };
                    gemm::sgemm_with(level, op_a, op_b, scale, MatMut::new(&mut want, m, n));
                    for pool in &pools {
                        let got = pool.install(|| gemm::sgemm_new(level, op_a, op_b, 0.5, bias));
                        let same = got.len() == want.len()
                            && got
                                .iter()
                                .zip(&want)
                                .all(|(x, y)| x.to_bits() == y.to_bits());
                        assert!(
                            same,
                            "{level:?} {m}×{k}×{n} ta={ta} tb={tb} bias={} on {} thread(s)",
                            bias.is_some(),
                            pool.current_num_threads()
                        );
                    }
                }
            }
        }
    }
}

#[test]
#[should_panic(expected = "the bias holds 3 values but the product has n=2 columns")]
fn a_bias_of_the_wrong_length_is_reported() {
    gemm::sgemm_new(
        tensor::simd::level(),
        MatRef::new(&[0.0; 6], 2, 3),
        MatRef::new(&[0.0; 6], 3, 2),
        1.0,
        Some(&[0.0; 3]),
    );
}

#[test]
#[should_panic(expected = "operand B holds 5 values but m=2, k=3, n=2 needs 6")]
fn wrong_lengths_are_reported() {
    let mut c = vec![0.0; 4];
    gemm::sgemm(
        MatRef::new(&[0.0; 6], 2, 3),
        MatRef::new(&[0.0; 5], 3, 2),
        Scale::OVERWRITE,
        MatMut::new(&mut c, 2, 2),
    );
}

// ----- the matrix–vector path (m == 1 or n == 1: gemm/gemv/, no packing) ----------------------

/// `(m, k, n)` with one side 1: lengths around every level's lane count (4, 8, 16) and the
/// pairwise-sum block (128), each as the vector length `k` and as the number of outputs.
fn gemv_shapes() -> Vec<(usize, usize, usize)> {
    let ks = [1, 2, 3, 7, 8, 9, 15, 16, 17, 33, 127, 128, 129, 300];
    let outs = [1, 2, 3, 5, 8, 15, 16, 17, 31, 33, 70];
    let mut shapes = Vec::new();
    for &k in &ks {
        for &o in &outs {
            shapes.push((1, k, o));
            shapes.push((o, k, 1));
        }
    }
    shapes
}

#[test]
fn matrix_vector_products_are_exact_on_every_level_layout_alpha_and_beta() {
    // Integer-valued inputs (see the file header): exact in any order, so the rows and columns forms
    // on every level, the scalar one included, must equal the f64 reference bit for bit — every
    // layout (the four rows of gemv/mod.rs's table), alpha and beta, beta = 0 over a C full of NaN.
    for level in available_levels() {
        for (m, k, n) in gemv_shapes() {
            for (ta, tb) in LAYOUTS {
                let a = ints(&[m * k], 3, 11);
                let b = ints(&[k * n], 3, 12);
                let c = ints(&[m * n], 9, 13);
                let nan_c = vec![f32::NAN; m * n];
                for (alpha, beta) in [(1.0, 0.0), (1.0, 1.0), (2.0, -1.0), (-0.5, 0.0)] {
                    let c = if beta == 0.0 { &nan_c } else { c.data() };
                    let what = format!(
                        "{level:?} m={m} k={k} n={n} ta={ta} tb={tb} alpha={alpha} beta={beta}"
                    );
                    let (op_a, op_b) = operands((m, k, n), (a.data(), b.data()), (ta, tb));
                    let scale = Scale { alpha, beta };
                    let (want, _) = reference(op_a, op_b, scale, c);
                    let want: Vec<f32> = want.iter().map(|&x| x as f32).collect();
                    let mut ours = c.to_vec();
                    gemm::sgemm_with(level, op_a, op_b, scale, MatMut::new(&mut ours, m, n));
                    assert_eq!(ours, want, "matrix-vector vs reference, {what}");
                }
            }
        }
    }
}

#[test]
fn matrix_vector_products_of_floats_are_within_the_rounding_bound() {
    // Random floats: the tolerance of the file header ((2k + 8)·u·scale), at the MLP's batch-1
    // shapes (x·W1ᵀ 1×784×800, dY·W2 1×800×800, and their column forms).
    for level in available_levels() {
        // k = 2500 is more than one depth block on every level, so the sums go through several
        // stores (alpha and beta on the first, adding onto it after).
        for (m, k, n) in [
            (1, 784, 800),
            (1, 800, 784),
            (800, 784, 1),
            (10, 800, 1),
            (1, 2500, 7),
            (7, 2500, 1),
        ] {
            for (ta, tb) in LAYOUTS {
                let a = random(m * k, 21);
                let b = random(k * n, 22);
                let c = random(m * n, 23);
                for (alpha, beta) in [(1.0, 0.0), (3.0, 0.25)] {
                    let (op_a, op_b) = operands((m, k, n), (&a, &b), (ta, tb));
                    let (want, scale) = reference(op_a, op_b, Scale { alpha, beta }, &c);
                    let mut ours = c.clone();
                    let out = MatMut::new(&mut ours, m, n);
                    gemm::sgemm_with(level, op_a, op_b, Scale { alpha, beta }, out);
                    for i in 0..m * n {
                        let tol = (2 * k + 8) as f64 * U * scale[i];
                        assert!(
                            (ours[i] as f64 - want[i]).abs() <= tol,
                            "{level:?} {m}×{k}×{n} ta={ta} tb={tb} alpha={alpha} beta={beta} \
                             element {i}: {} vs {} (tolerance {tol})",
                            ours[i],
                            want[i]
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn matrix_vector_products_give_the_same_bits_on_one_and_two_threads() {
    // Above gemm::GEMV_PARALLEL_MIN_MACS the 2-thread pool splits the outputs (rows form) or the
    // depth blocks (columns form), and the columns as well when k is one depth block (k = 150 ≤
    // KC on every level); no split may change a bit. n = 801, 1 999 and m = 803 leave ragged last
    // slices and a scalar tail.
    let shapes = [(1, 784, 801), (803, 790, 1), (1, 150, 1_999)];
    for &(m, k, n) in &shapes {
        assert!(m * k * n >= gemm::GEMV_PARALLEL_MIN_MACS);
    }
    assert_same_bits_on_one_and_two_threads(&shapes, 31);
}

/// Row `i` of `op(A)` (`m×k`, stored as `A` or, with `transposed`, as `Aᵀ`): `k` values.
fn row_of(a: &[f32], (m, k): (usize, usize), transposed: bool, i: usize) -> Vec<f32> {
    (0..k)
        .map(|p| {
            if transposed {
                a[p * m + i]
            } else {
                a[i * k + p]
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// A row of `C` computed alone (`m = 1`: the matrix–vector path, gemm/gemv) has the bits it has
    /// in a batch of 2…64 rows (the packed path), and likewise a column alone (`n = 1`) — on every
    /// level, layout, alpha and beta, with depths across one to three depth blocks. Random floats,
    /// so any difference in the order or rounding of the additions shows.
    #[test]
    fn a_row_or_column_alone_has_the_bits_it_has_in_a_batch(
        m in 2usize..=64,
        k in 1usize..=600,
        n in 1usize..=70,
        layout in 0usize..4,
        scales in 0usize..3,
        seed in 0u64..1_000_000,
    ) {
        let (ta, tb) = LAYOUTS[layout];
        let (alpha, beta) = [(1.0, 0.0), (1.0, 1.0), (-1.5, 0.5)][scales];
        let a = random(m * k, seed);
        let b = random(k * n, seed + 1);
        let c0 = if beta == 0.0 { vec![f32::NAN; m * n] } else { random(m * n, seed + 2) };
        let scale = Scale { alpha, beta };
        for level in available_levels() {
            let mut batch = c0.clone();
            let (op_a, op_b) = operands((m, k, n), (&a, &b), (ta, tb));
            gemm::sgemm_with(level, op_a, op_b, scale, MatMut::new(&mut batch, m, n));
            for i in 0..m {
                let row = row_of(&a, (m, k), ta, i);
                let mut alone = c0[i * n..(i + 1) * n].to_vec();
                let op_row = op(&row, 1, k, ta);
                gemm::sgemm_with(level, op_row, op_b, scale, MatMut::new(&mut alone, 1, n));
                let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                prop_assert_eq!(
                    bits(&alone),
                    bits(&batch[i * n..(i + 1) * n]),
                    "{:?} {}×{}×{} ta={} tb={} alpha={} beta={}: row {} alone {:?}, in the batch {:?}",
                    level, m, k, n, ta, tb, alpha, beta, i, alone, &batch[i * n..(i + 1) * n]
                );
            }
            // A column of op(B) is a row of op(B)ᵀ, stored as B's transpose flag says.
            for j in 0..n {
                let column = row_of(&b, (n, k), !tb, j);
                let mut alone: Vec<f32> = (0..m).map(|i| c0[i * n + j]).collect();
                let op_column = op(&column, k, 1, tb);
                gemm::sgemm_with(level, op_a, op_column, scale, MatMut::new(&mut alone, m, 1));
                for (i, got) in alone.iter().enumerate() {
                    prop_assert_eq!(
                        got.to_bits(),
                        batch[i * n + j].to_bits(),
                        "{:?} {}×{}×{} ta={} tb={}: column {} row {} alone {}, in the batch {}",
                        level, m, k, n, ta, tb, j, i, got, batch[i * n + j]
                    );
                }
            }
        }
    }
}

#[test]
fn a_new_product_writes_every_element_exactly() {
    // Small enough for Miri: `MIRIFLAGS=-Zmiri-recursive-validation cargo +nightly miri test -p
    // tensor --test gemm a_new_product_writes` runs the Scalar level (about a minute); with
    // `RUSTFLAGS="-C target-feature=+avx2,+fma"` in front, the AVX2 level too. sgemm_new writes
    // into uninitialised memory, so under Miri a read of an element before it is written, an
    // element left unwritten, or (with that flag) a `&mut f32` made over an unwritten element —
    // as the scalar kernel once did — is reported as undefined behaviour. Shapes: one whole tile,
    // ragged edges both ways, and k = KC + 1 (two depth blocks); all under
    // gemm::PARALLEL_MIN_MACS, so one part. Integer inputs, so the f64 reference is exact and the
    // result must match it bit for bit.
    for level in available_levels() {
        let (mr, nr) = gemm::tile(level);
        let kc = gemm::depth_block(level);
        for (m, k, n) in [(mr, 3, nr), (mr + 1, 2, nr + 1), (3, kc + 1, 2)] {
            for (ta, tb) in LAYOUTS {
                let a = ints(&[m * k], 3, 40);
                let b = ints(&[k * n], 3, 41);
                let bias = ints(&[n], 9, 42);
                for bias in [None, Some(bias.data())] {
                    let (op_a, op_b) = operands((m, k, n), (a.data(), b.data()), (ta, tb));
                    let got = gemm::sgemm_new(level, op_a, op_b, 1.0, bias);
                    let c = match bias {
                        Some(bias) => bias.repeat(m),
                        None => vec![0.0; m * n],
                    };
                    let (want, _) = reference(op_a, op_b, Scale::ACCUMULATE, &c);
                    assert!(
                        got.len() == want.len()
                            && got.iter().zip(&want).all(|(&g, &w)| g as f64 == w),
                        "{level:?} {m}×{k}×{n} ta={ta} tb={tb} bias={}: {got:?} != {want:?}",
                        bias.is_some()
                    );
                }
            }
        }
    }
}
