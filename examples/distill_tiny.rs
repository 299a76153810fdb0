//! A teacher and a student distilled on one screen, the short reading track's last stop
//! (docs/READING.md): `cargo run --release --example distill_tiny`. Four overlapping Gaussian
//! classes in 10 dimensions: a teacher learns them from 20 000 samples; a student sees 200, once
//! with their labels alone and once, from the same initialisation, with the teacher's outputs too.

use kd::{Distiller, FitData, Objective, ResponseLoss, Teacher, TrainConfig};
use nn::data::Dataset;
use nn::optim::Adam;
use nn::{Dense, Relu, Sequential};
use rand::{rngs::StdRng, SeedableRng};
use tensor::Tensor;

const DIM: usize = 10;
const CLASSES: usize = 4;

/// `n` samples of class `i % CLASSES`: the class's centre plus unit Gaussian noise.
fn gaussians(centres: &Tensor, n: usize, seed: u64) -> Dataset {
    let labels: Vec<usize> = (0..n).map(|i| i % CLASSES).collect();
    let noise = Tensor::normal(&[n, DIM], 0.0, 1.0, &mut StdRng::seed_from_u64(seed));
    let inputs = centres.gather_rows(&labels).add(&noise).into_vec();
    Dataset::new(inputs, vec![DIM], labels, CLASSES)
}

/// `DIM → hidden → CLASSES`, its weights drawn from `seed`.
fn mlp(hidden: usize, seed: u64) -> Sequential {
    let rng = &mut StdRng::seed_from_u64(seed);
    Sequential::new()
        .push(Dense::new(DIM, hidden, rng))
        .push(Relu)
        .push(Dense::new(hidden, CLASSES, rng))
}

/// Trains `model` on `data` for `objective` (which reads `teacher`'s outputs, if it has one).
fn train(
    model: &mut Sequential,
    teacher: Option<&mut Teacher>,
    objective: Objective,
    data: &Dataset,
    epochs: usize,
) {
    let mut distiller = Distiller {
        optimizer: Box::new(Adam::new(kd::parameters_to_train(model, None), 3e-3)),
        student: model,
        teacher,
        objective,
        hint: None,
        schedule: None,
        config: TrainConfig::new(epochs, 32, 0),
    };
    let outcome = distiller.fit(FitData::train(data), &mut |_event| {});
    assert!(outcome.diverged.is_none(), "the loss stayed finite");
}

fn main() {
    let centres = Tensor::normal(&[CLASSES, DIM], 0.0, 0.6, &mut StdRng::seed_from_u64(7));
    let (many, few) = (gaussians(&centres, 20_000, 1), gaussians(&centres, 200, 2));
    let test = gaussians(&centres, 4_000, 3);
    let show = |name: &str, model: &mut Sequential| {
        let accuracy = kd::evaluate(model, &test, 1000, false).accuracy;
        println!("{name:<18} test accuracy {:.2} %", 100.0 * accuracy);
    };
    let labels_only = Objective::Hard {
        label_smoothing: 0.0,
    };

    let mut teacher = mlp(64, 100);
    train(&mut teacher, None, labels_only, &many, 5);
    show("teacher", &mut teacher);
    let mut teacher = Teacher::single(Box::new(teacher));

    let mut alone = mlp(64, 1);
    train(&mut alone, None, labels_only, &few, 60);
    show("student alone", &mut alone);

    // The same student, now hard_weight · CE(labels) + soft_weight · T² · KL(teacher ‖ student).
    let mut distilled = mlp(64, 1);
    let kd = Objective::Response(ResponseLoss::new(0.1, 0.9, 2.0));
    train(&mut distilled, Some(&mut teacher), kd, &few, 60);
    show("student distilled", &mut distilled);
}
