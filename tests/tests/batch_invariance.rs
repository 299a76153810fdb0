//! A sample's result does not depend on the batch it came in: the rows of a product, and a whole
//! model's logits, computed for one sample alone are bit for bit what the same sample gets inside
//! a batch of 2…64. A batch of one takes the matrix–vector path (`tensor/src/gemm/gemv`) and a
//! larger batch the packed GEMM; both add in the same order with the same rounding (see gemv's
//! module doc). This runs on the SIMD level of the run (`DISTILLERY_SIMD`; CI runs the suite on
//! every level the CPU has); `tensor/tests/gemm.rs` checks every level at the `sgemm` level.

use autograd::{no_grad, Var};
use distillery_tests::uniform;
use kd::spec::ModelSpec;
use nn::optim::{Optimizer, Sgd};
use nn::{Dense, Module};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
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
    fn linear_linear_t_and_matmul_t_rows_alone_equal_rows_in_a_batch(
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
        // `linear_t` reads the weight stored transposed (for one row: the columns form, not the
        // rows form) and must give `linear`'s bits too, in a batch and alone.
        let weight_t = w.transpose(0, 1);
        prop_assert_eq!(bits(&Tensor::linear_t(&x, &weight_t, Some(&b))), bits(&linear),
            "linear_t, batch {}, k {}, n {}", batch, k, n);
        for i in 0..batch {
            let alone = row(&x, i);
            prop_assert_eq!(bits(&Tensor::linear(&alone, &w, Some(&b))), bits(&row(&linear, i)),
                "linear, batch {}, k {}, n {}, row {}", batch, k, n, i);
            prop_assert_eq!(bits(&Tensor::linear_t(&alone, &weight_t, None)),
                bits(&alone.matmul_t(false, &w, true)),
                "linear_t without a bias, k {}, n {}, row {}", k, n, i);
            prop_assert_eq!(bits(&Tensor::linear_t(&alone, &weight_t, Some(&b))),
                bits(&row(&linear, i)), "linear_t alone, batch {}, k {}, n {}, row {}", batch, k, n, i);
            prop_assert_eq!(bits(&alone.matmul_t(false, &w, true)), bits(&row(&product, i)),
                "matmul_t, batch {}, k {}, n {}, row {}", batch, k, n, i);
        }
    }
}

/// `Dense` evaluates one sample from a kept copy of `Wᵀ`: the copy must follow the weight when an
/// optimiser writes it in place and when the weight `Var` is replaced.
#[test]
fn a_dense_layer_evaluating_one_sample_follows_its_weight() {
    let mut dense = Dense::new(300, 20, &mut StdRng::seed_from_u64(3));
    let x = uniform(&[1, 300], -1.0, 1.0, 4);
    let one_sample =
        |dense: &mut Dense| no_grad(|| dense.forward(&Var::constant(x.clone())).value().clone());
    let expected = |dense: &Dense| {
        let bias = dense.bias.as_ref().map(|b| b.value().clone());
        Tensor::linear(&x, &dense.weight.value(), bias.as_ref())
    };
    let first = one_sample(&mut dense);
    assert_eq!(bits(&first), bits(&expected(&dense)), "first call");

    // A new weight Var: its version is 0, as the old one's still is, so only the handle tells.
    dense.weight = Var::parameter(uniform(&[20, 300], -0.1, 0.1, 5));
    let replaced = one_sample(&mut dense);
    assert_ne!(
        bits(&replaced),
        bits(&first),
        "the new weight changed nothing"
    );
    assert_eq!(
        bits(&replaced),
        bits(&expected(&dense)),
        "after replacing the weight"
    );

    // One SGD step on a recorded forward writes W and b in place.
    let loss = dense.forward(&Var::constant(x.clone())).sum_all();
    loss.backward();
    Sgd::new(vec![dense.weight.clone(), dense.bias.clone().unwrap()], 0.5).step();
    let after_step = one_sample(&mut dense);
    assert_ne!(
        bits(&after_step),
        bits(&replaced),
        "the step changed nothing"
    );
    assert_eq!(bits(&after_step), bits(&expected(&dense)), "after a step");
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
