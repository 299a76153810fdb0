//! A sample's result does not depend on the batch it came in: the rows of a product, and a whole
//! model's logits, computed for one sample alone are bit for bit what the same sample gets inside
//! a batch of 2…64. A batch of one takes the matrix–vector path (`tensor/src/gemm/gemv`) and a
//! larger batch the packed GEMM; both add in the same order with the same rounding (see gemv's
//! module doc). This runs on the SIMD level of the run (`DISTILLERY_SIMD`; CI runs the suite on
//! every level the CPU has); `tensor/tests/gemm.rs` checks every level at the `sgemm` level.

use autograd::{no_grad, Var};
use distillery_tests::uniform;
use kd::spec::ModelSpec;
use nn::Module;
use proptest::prelude::*;
use tensor::Tensor;

fn bits(t: &Tensor) -> Vec<u32> {
    t.data().iter().map(|x| x.to_bits()).collect()
}

/// Row `i` of a `[batch, features]` tensor, as a `[1, features]` tensor.
fn row(t: &Tensor, i: usize) -> Tensor {
    t.slice(0, i, i + 1)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn linear_and_matmul_t_rows_alone_equal_rows_in_a_batch(
        batch in 2usize..=64,
        k in 1usize..=600,
        n in 1usize..=40,
        seed in 0u64..1_000_000,
    ) {
        let x = uniform(&[batch, k], -1.0, 1.0, seed);
        let w = uniform(&[n, k], -0.5, 0.5, seed + 1);
        let b = uniform(&[n], -0.5, 0.5, seed + 2);
        let linear = Tensor::linear(&x, &w, Some(&b));
        let product = x.matmul_t(false, &w, true);
        for i in 0..batch {
            let alone = row(&x, i);
            prop_assert_eq!(bits(&Tensor::linear(&alone, &w, Some(&b))), bits(&row(&linear, i)),
                "linear, batch {}, k {}, n {}, row {}", batch, k, n, i);
            prop_assert_eq!(bits(&alone.matmul_t(false, &w, true)), bits(&row(&product, i)),
                "matmul_t, batch {}, k {}, n {}, row {}", batch, k, n, i);
        }
    }
}

#[test]
fn a_models_logits_for_one_image_equal_its_logits_in_any_batch() {
    // The two kinds of model the apps distil: an MLP (products only) and a CNN (convolutions as
    // products through im2col, pooling, then dense layers), in evaluation mode.
    for (spec, seed) in [("mlp:100,100", 1u64), ("cnn:8,16,fc=32,dropout=0.3", 2)] {
        let spec: ModelSpec = spec.parse().unwrap();
        let mut model = spec.build(&[1, 28, 28], 10, seed).unwrap();
        model.set_training(false);
        let images = uniform(&[64, 1, 28, 28], 0.0, 1.0, seed + 10);
        let mut logits =
            |x: &Tensor| no_grad(|| model.forward(&Var::constant(x.clone())).value().clone());
        let alone: Vec<Tensor> = (0..64)
            .map(|i| logits(&images.slice(0, i, i + 1)))
            .collect();
        for batch in [2, 3, 7, 16, 33, 64] {
            let all = logits(&images.slice(0, 0, batch));
            for (i, one) in alone.iter().enumerate().take(batch) {
                assert_eq!(
                    bits(one),
                    bits(&row(&all, i)),
                    "{spec:?}: image {i} alone vs in a batch of {batch}"
                );
            }
        }
    }
}
