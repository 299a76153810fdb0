//! End to end: on a problem where it should, distillation from a good teacher makes a better
//! student than the same student trained alone from the same initialisation, over several seeds.
//!
//! The problem: 4 overlapping Gaussian classes in 10 dimensions (Bayes accuracy well below 100 %,
//! so hard labels are noisy), a teacher trained on 20 000 samples, and students that see only 200.
//! From 200 noisy labels a student overfits; the teacher's soft outputs on the same 200 inputs carry
//! the class posterior itself, which is what the student needs (the "dark knowledge" argument of
//! Hinton et al.). The gap is large and stable, so the assertion — distilled mean minus alone mean
//! above the sum of their standard deviations — is a real test, not a coin toss.

use kd::metrics::MeanStd;
use kd::{
    evaluate, parameters_to_train, Distiller, Event, FitData, Objective, ResponseLoss, Teacher,
    TrainConfig,
};
use nn::data::Dataset;
use nn::optim::Adam;
use nn::{Dense, Relu, Sequential};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};

const DIM: usize = 10;
const CLASSES: usize = 4;

/// `n` samples: class `i % CLASSES`, drawn around that class's mean with unit variance.
fn gaussian_classes(means: &[Vec<f32>], n: usize, seed: u64) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let noise = Normal::new(0.0f32, 1.0).unwrap();
    let mut inputs = Vec::with_capacity(n * DIM);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let class = i % CLASSES;
        inputs.extend(means[class].iter().map(|&m| m + noise.sample(&mut rng)));
        labels.push(class);
    }
    Dataset::new(inputs, vec![DIM], labels, CLASSES)
}

fn mlp(hidden: usize, seed: u64) -> Sequential {
    let mut rng = StdRng::seed_from_u64(seed);
    Sequential::new()
        .push(Dense::new(DIM, hidden, &mut rng))
        .push(Relu)
        .push(Dense::new(hidden, CLASSES, &mut rng))
}

/// Trains `student` on `data` with `objective` (and the teacher, if any) and returns its test accuracy.
fn train(
    student: &mut Sequential,
    teacher: Option<&mut Teacher>,
    objective: Objective,
    data: &Dataset,
    test: &Dataset,
    epochs: usize,
    seed: u64,
) -> f64 {
    let optimizer = Box::new(Adam::new(parameters_to_train(student, None), 3e-3));
    let mut distiller = Distiller {
        student,
        teacher,
        objective,
        hint: None,
        optimizer,
        schedule: None,
        config: TrainConfig::new(epochs, 32, seed),
    };
    let mut steps = 0;
    let outcome = distiller.fit(FitData::train(data), &mut |e| {
        if let Event::Step { .. } = e {
            steps += 1;
        }
    });
    assert!(outcome.diverged.is_none());
    assert_eq!(outcome.epochs.len(), epochs);
    assert_eq!(steps, epochs * (data.len() / 32)); // the last partial batch is dropped
    evaluate(student, test, 1000, false).accuracy
}

#[test]
fn distilled_student_beats_the_student_alone() {
    let mut rng = StdRng::seed_from_u64(7);
    let spread = Normal::new(0.0f32, 0.6).unwrap();
    let means: Vec<Vec<f32>> = (0..CLASSES)
        .map(|_| (0..DIM).map(|_| spread.sample(&mut rng)).collect())
        .collect();
    let teacher_data = gaussian_classes(&means, 20_000, 1);
    let test = gaussian_classes(&means, 4_000, 2);

    let mut teacher_model = mlp(64, 100);
    let teacher_accuracy = train(
        &mut teacher_model,
        None,
        Objective::Hard {
            label_smoothing: 0.0,
        },
        &teacher_data,
        &test,
        5,
        100,
    );
    let mut teacher = Teacher::single(Box::new(teacher_model));

    let (mut alone, mut distilled) = (Vec::new(), Vec::new());
    for seed in 0..4u64 {
        let small = gaussian_classes(&means, 200, 10 + seed);
        let mut student = mlp(64, 1000 + seed);
        alone.push(train(
            &mut student,
            None,
            Objective::Hard {
                label_smoothing: 0.0,
            },
            &small,
            &test,
            60,
            seed,
        ));
        let mut student = mlp(64, 1000 + seed); // the same initialisation
        distilled.push(train(
            &mut student,
            Some(&mut teacher),
            Objective::Response(ResponseLoss::new(0.1, 0.9, 2.0)),
            &small,
            &test,
            60,
            seed,
        ));
    }
    let (alone, distilled) = (MeanStd::of(&alone), MeanStd::of(&distilled));
    let (alone_mean, alone_std, kd_mean, kd_std) =
        (alone.mean, alone.std, distilled.mean, distilled.std);
    eprintln!(
        "teacher {teacher_accuracy:.4}; alone {alone_mean:.4} ± {alone_std:.4}; \
         distilled {kd_mean:.4} ± {kd_std:.4}"
    );
    assert!(
        kd_mean - alone_mean > alone_std + kd_std,
        "distillation did not help clearly: alone {alone_mean:.4} ± {alone_std:.4}, \
         distilled {kd_mean:.4} ± {kd_std:.4}"
    );
    assert!(teacher_accuracy > kd_mean, "the teacher should stay ahead");
}
