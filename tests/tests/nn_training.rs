//! Sanity of the whole `nn` stack: layers, loss, backward and optimiser together can learn.
//!
//! - A small CNN memorises 64 fixed random samples with random labels (no pattern to find, so only
//!   a network whose every gradient is right drives the loss to near zero).
//! - A dense model learns a linearly separable two-class problem perfectly.

use autograd::{Reduction, Var};
use distillery_tests::uniform;
use nn::optim::{Adam, Optimizer, Sgd};
use nn::{Conv2d, Dense, Flatten, MaxPool2d, Module, Relu, Sequential};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tensor::Tensor;

#[test]
fn small_cnn_memorises_64_samples() {
    let mut rng = StdRng::seed_from_u64(1);
    let images = uniform(&[64, 1, 8, 8], 0.0, 1.0, 2);
    let labels: Vec<usize> = (0..64).map(|_| rng.random_range(0..10)).collect();
    let mut model = Sequential::new()
        .push(Conv2d::new(1, 8, (3, 3), &mut rng).padding((1, 1)))
        .push(Relu)
        .push(MaxPool2d::new((2, 2)))
        .push(Flatten)
        .push(Dense::new(8 * 4 * 4, 32, &mut rng))
        .push(Relu)
        .push(Dense::new(32, 10, &mut rng));
    let mut opt = Adam::new(model.parameter_vars(), 1e-2);
    let x = Var::constant(images);
    let mut first = None;
    let mut last = f32::INFINITY;
    for _ in 0..300 {
        opt.zero_grad();
        let loss = model.forward(&x).cross_entropy(&labels, Reduction::Mean);
        last = loss.value().item();
        first.get_or_insert(last);
        loss.backward();
        opt.step();
    }
    // Random labels over 10 classes start near ln 10 ≈ 2.3; memorised means near zero.
    let first = first.unwrap();
    assert!(first > 1.5, "initial loss {first}");
    assert!(last < 0.01, "the loss only fell from {first} to {last}");
    let logits = model.forward(&x).value().clone();
    let predicted = logits.argmax_axis(1);
    for (i, &label) in labels.iter().enumerate() {
        assert_eq!(predicted[i], label, "sample {i}");
    }
}

#[test]
fn dense_model_separates_a_linearly_separable_problem() {
    // Points in the plane labelled by the side of the line 0.7·x − 0.4·y + 0.1 = 0 they lie on,
    // with a margin: points within 0.05 of the line are dropped.
    let mut rng = StdRng::seed_from_u64(3);
    let mut points = Vec::new();
    let mut labels = Vec::new();
    while labels.len() < 200 {
        let (x, y) = (
            rng.random_range(-1.0f32..1.0),
            rng.random_range(-1.0f32..1.0),
        );
        let side = 0.7 * x - 0.4 * y + 0.1;
        if side.abs() < 0.05 {
            continue;
        }
        points.extend([x, y]);
        labels.push(usize::from(side > 0.0));
    }
    let x = Var::constant(Tensor::from_vec(points, &[200, 2]).unwrap());
    let mut model = Dense::new(2, 2, &mut rng);
    let mut opt = Sgd::new(model.parameter_vars(), 0.5).momentum(0.9);
    for _ in 0..300 {
        opt.zero_grad();
        model
            .forward(&x)
            .cross_entropy(&labels, Reduction::Mean)
            .backward();
        opt.step();
    }
    let predicted = model.forward(&x).value().argmax_axis(1);
    let correct = labels
        .iter()
        .enumerate()
        .filter(|&(i, &l)| predicted[i] == l)
        .count();
    assert_eq!(
        correct, 200,
        "a separable problem must be learned perfectly"
    );
}
