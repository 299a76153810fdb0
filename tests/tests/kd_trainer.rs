//! The pieces around the distillation loss: teachers (ensembles, the cache), mixup, and the
//! `Distiller` loop's options (hints, schedules, binary tasks, divergence).

use autograd::Var;
use distillery_tests::uniform;
use kd::mixup::mix_with;
use kd::{
    evaluate, mixup, parameters_to_train, Combine, Distiller, DkdLoss, FitData, HardTargets, Hint,
    HintAdapter, KeepBest, ModelSpec, Objective, ResponseLoss, Teacher, TrainConfig,
};
use nn::data::{batches, BatchConfig, Dataset};
use nn::optim::{Adam, Optimizer, Sgd, StepLr};
use nn::{Dense, Module, Relu, Sequential};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::Tensor;

fn mlp(inputs: usize, hidden: usize, outputs: usize, seed: u64) -> Sequential {
    let mut rng = StdRng::seed_from_u64(seed);
    Sequential::new()
        .push_named("fc1", Dense::new(inputs, hidden, &mut rng))
        .push_named("hidden", Relu)
        .push_named("fc2", Dense::new(hidden, outputs, &mut rng))
}

/// A data set of `n` points in `[−1, 1]^dim`, labelled by which of `classes` slabs of the first
/// coordinate plus half the second they fall in: learnable, not trivial.
fn slabs(n: usize, dim: usize, classes: usize, seed: u64) -> Dataset {
    let x = uniform(&[n, dim], -1.0, 1.0, seed);
    let labels = x
        .data()
        .chunks(dim)
        .map(|p| {
            let s = (p[0] + 0.5 * p[1] + 1.5) / 3.0; // in [0, 1]
            ((s * classes as f32) as usize).min(classes - 1)
        })
        .collect();
    Dataset::new(x.into_vec(), vec![dim], labels, classes)
}

/// Probability averaging: the returned logits, softened at T, are the members' average softened
/// distribution (f64 reference); logit averaging returns the mean logits.
#[test]
fn ensembles_combine_as_documented() {
    let x = uniform(&[5, 3], -1.0, 1.0, 1);
    let t = 3.0;
    let members: Vec<Tensor> = (0..3)
        .map(|s| {
            mlp(3, 8, 4, s)
                .forward(&Var::constant(x.clone()))
                .value()
                .clone()
        })
        .collect();
    let boxed = |n: u64| -> Vec<Box<dyn Module>> {
        (0..n)
            .map(|s| Box::new(mlp(3, 8, 4, s)) as Box<dyn Module>)
            .collect()
    };
    let mut by_probabilities = Teacher::ensemble(boxed(3), Combine::Probabilities);
    let softened = by_probabilities.logits(&x, t).softmax(t);
    let mut by_logits = Teacher::ensemble(boxed(3), Combine::Logits);
    let mean_logits = by_logits.logits(&x, t);
    for i in 0..5 * 4 {
        let expected: f64 = members
            .iter()
            .map(|m| m.softmax(t).data()[i] as f64)
            .sum::<f64>()
            / 3.0;
        assert!((softened.data()[i] as f64 - expected).abs() < 1e-6);
        let expected_logit: f64 = members.iter().map(|m| m.data()[i] as f64).sum::<f64>() / 3.0;
        assert!((mean_logits.data()[i] as f64 - expected_logit).abs() < 1e-5);
    }
}

/// The cache holds, row for row, what the teacher says about each sample on the fly.
#[test]
fn cached_teacher_logits_match_on_the_fly_ones() {
    let data = slabs(50, 3, 4, 2);
    let mut teacher = Teacher::single(Box::new(mlp(3, 8, 4, 3)));
    let cache = teacher.logits_for(&data, 16, 1.0);
    let mut config = BatchConfig::new(7);
    config.shuffle_seed = Some(9);
    for batch in batches(&data, &config, 0) {
        let direct = teacher.logits(&batch.inputs, 1.0);
        assert_eq!(cache.gather_rows(&batch.indices).data(), direct.data());
    }
}

/// A model that counts its forward passes, to see when the teacher really runs.
struct Counting {
    inner: Sequential,
    calls: std::rc::Rc<std::cell::Cell<usize>>,
}

impl Module for Counting {
    fn forward(&mut self, input: &Var) -> Var {
        self.calls.set(self.calls.get() + 1);
        self.inner.forward(input)
    }
    fn parameters(&self) -> Vec<(String, Var)> {
        self.inner.parameters()
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
}

/// The kept cache is returned for the same data and temperature without running the teacher
/// again, and is never returned for other data (one changed input) or another temperature.
#[test]
fn the_teacher_cache_is_kept_for_the_same_data_only() {
    let calls = std::rc::Rc::new(std::cell::Cell::new(0));
    let model = Counting {
        inner: mlp(3, 8, 4, 3),
        calls: calls.clone(),
    };
    let mut teacher = Teacher::ensemble(vec![Box::new(model)], Combine::Probabilities);
    let data = slabs(40, 3, 4, 2);
    let first = teacher.logits_for(&data, 16, 2.0);
    assert_eq!(
        calls.get(),
        3,
        "40 samples in batches of 16: 3 forward passes"
    );
    let again = teacher.logits_for(&data, 8, 2.0);
    assert_eq!(calls.get(), 3, "same data and temperature: no forward pass");
    assert_eq!(first.data(), again.data());

    let mut changed = data.clone();
    changed.inputs[17] += 0.5;
    let other = teacher.logits_for(&changed, 16, 2.0);
    assert_eq!(calls.get(), 6, "one changed input: the teacher runs again");
    let direct = teacher.logits(
        &Tensor::from_vec(changed.inputs.clone(), &[40, 3]).unwrap(),
        2.0,
    );
    assert_eq!(other.data(), direct.data());

    teacher.logits_for(&changed, 16, 4.0);
    assert_eq!(
        calls.get(),
        10,
        "another temperature: the teacher runs again"
    );
}

/// λ = 0.25, partners swapped: each input is ¼ of itself and ¾ of the other, and each target row
/// ¼ on its own label and ¾ on the partner's (worked by hand).
#[test]
fn mixup_mixes_inputs_and_labels_by_lambda() {
    let x = Tensor::from_vec(vec![0.0, 4.0, 8.0, 12.0], &[2, 2]).unwrap();
    let mixed = mix_with(&x, &[0, 2], 3, 0.25, &[1, 0]);
    assert_eq!(mixed.inputs.data(), &[6.0, 10.0, 2.0, 6.0]);
    match mixed.targets {
        HardTargets::Distributions(q) => {
            assert_eq!(q.data(), &[0.25, 0.0, 0.75, 0.75, 0.0, 0.25]);
        }
        HardTargets::Labels(_) => panic!("mixup makes distributions"),
    }
    // A drawn λ lies in [0, 1] and every target row sums to 1.
    let mixed = mixup(&x, &[0, 2], 3, 0.4, &mut StdRng::seed_from_u64(1));
    assert!((0.0..=1.0).contains(&mixed.lambda));
    if let HardTargets::Distributions(q) = mixed.targets {
        for row in q.data().chunks(3) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        }
    }
}

/// A hint with augmentation and mixup: the teacher runs on the fly, the hint term is logged and
/// falls as the adapter and the student learn, and the schedule's rates are the ones used.
#[test]
fn hints_mixup_and_a_schedule_run_together() {
    let data = slabs(256, 4, 3, 4);
    let mut teacher = Teacher::single(Box::new(mlp(4, 32, 3, 5)));
    let mut student = mlp(4, 8, 3, 6);
    let hint = Hint {
        student_layer: "hidden".into(),
        teacher_layer: "hidden".into(),
        adapter: HintAdapter::dense(8, 32, &mut StdRng::seed_from_u64(7)),
        weight: 0.5,
    };
    let optimizer = Box::new(Adam::new(parameters_to_train(&student, Some(&hint)), 1e-2));
    let mut config = TrainConfig::new(6, 32, 8);
    config.mixup_alpha = Some(0.4);
    config.clip_norm = Some(5.0);
    let mut distiller = Distiller {
        student: &mut student,
        teacher: Some(&mut teacher),
        objective: Objective::Response(ResponseLoss::new(0.5, 0.5, 2.0)),
        hint: Some(hint),
        optimizer,
        schedule: Some(Box::new(StepLr::new(1e-2, 2, 0.5))),
        config,
    };
    let outcome = distiller.fit(
        FitData {
            train: &data,
            validation: None,
            report: Some(&data),
        },
        &mut |_| {},
    );
    assert!(outcome.diverged.is_none());
    let epochs = &outcome.epochs;
    assert!(epochs[5].train_loss.hint < 0.5 * epochs[0].train_loss.hint);
    assert!(epochs
        .iter()
        .all(|e| e.train_loss.soft > 0.0 && e.train_loss.hard > 0.0));
    // StepLr(1e-2, step 2, γ 0.5): epochs 0–1 at 1e-2, 2–3 at 5e-3, 4–5 at 2.5e-3.
    let rates: Vec<f32> = epochs.iter().map(|e| e.lr).collect();
    assert_eq!(rates, [1e-2, 1e-2, 5e-3, 5e-3, 2.5e-3, 2.5e-3]);
    assert!(epochs[5].eval.is_some());
}

/// A two-class task with one logit: trained alone and distilled, both learn it.
#[test]
fn binary_objectives_learn_a_two_class_problem() {
    let data = slabs(400, 2, 2, 10);
    let mut teacher_model = mlp(2, 16, 1, 11);
    let optimizer = Box::new(Adam::new(teacher_model.parameter_vars(), 2e-2));
    let outcome = Distiller {
        student: &mut teacher_model,
        teacher: None,
        objective: Objective::BinaryHard,
        hint: None,
        optimizer,
        schedule: None,
        config: TrainConfig::new(30, 32, 12),
    }
    .fit(
        FitData {
            train: &data,
            validation: None,
            report: Some(&data),
        },
        &mut |_| {},
    );
    let teacher_accuracy = outcome.epochs.last().unwrap().eval.unwrap().accuracy;
    assert!(teacher_accuracy > 0.95, "teacher {teacher_accuracy}");

    let mut teacher = Teacher::single(Box::new(teacher_model));
    let mut student = mlp(2, 8, 1, 13);
    let optimizer = Box::new(Adam::new(student.parameter_vars(), 2e-2));
    let outcome = Distiller {
        student: &mut student,
        teacher: Some(&mut teacher),
        objective: Objective::Binary(kd::BinaryLoss::new(0.5, 0.5, 2.0)),
        hint: None,
        optimizer,
        schedule: None,
        config: TrainConfig::new(30, 32, 14),
    }
    .fit(
        FitData {
            train: &data,
            validation: None,
            report: Some(&data),
        },
        &mut |_| {},
    );
    let last = outcome.epochs.last().unwrap();
    assert!(last.eval.unwrap().accuracy > 0.93, "{last:?}");
    assert!(last.train_loss.soft > 0.0);
}

/// A teacher trained on three slabs, then a student distilled from it by DKD: the loop computes
/// the teacher's logits (cached), logs both terms, and the student learns the problem.
#[test]
fn dkd_distils_through_the_distiller() {
    let data = slabs(300, 2, 3, 20);
    let mut teacher_model = mlp(2, 16, 3, 21);
    let optimizer = Box::new(Adam::new(teacher_model.parameter_vars(), 2e-2));
    Distiller {
        student: &mut teacher_model,
        teacher: None,
        objective: Objective::Hard {
            label_smoothing: 0.0,
        },
        hint: None,
        optimizer,
        schedule: None,
        config: TrainConfig::new(30, 32, 22),
    }
    .fit(FitData::train(&data), &mut |_| {});
    let mut teacher = Teacher::single(Box::new(teacher_model));
    let mut student = mlp(2, 8, 3, 23);
    let optimizer = Box::new(Adam::new(student.parameter_vars(), 2e-2));
    let outcome = Distiller {
        student: &mut student,
        teacher: Some(&mut teacher),
        objective: Objective::Dkd(DkdLoss::new(0.5, 0.5, 2.0, 2.0)),
        hint: None,
        optimizer,
        schedule: None,
        config: TrainConfig::new(30, 32, 24),
    }
    .fit(
        FitData {
            train: &data,
            validation: None,
            report: Some(&data),
        },
        &mut |_| {},
    );
    assert!(outcome.diverged.is_none());
    let (first, last) = (&outcome.epochs[0], outcome.epochs.last().unwrap());
    assert!(last.eval.unwrap().accuracy > 0.9, "{last:?}");
    assert!(last.train_loss.soft > 0.0 && last.train_loss.hard > 0.0);
    assert!(
        last.train_loss.soft < first.train_loss.soft,
        "{first:?} → {last:?}"
    );
}

/// DKD splits the loss at each sample's class; mixup's mixed targets have none.
#[test]
#[should_panic(expected = "DKD splits the loss at each sample's target class, which mixup's")]
fn dkd_with_mixup_is_refused() {
    let data = slabs(64, 2, 3, 30);
    let mut teacher = Teacher::single(Box::new(mlp(2, 8, 3, 31)));
    let mut student = mlp(2, 4, 3, 32);
    let optimizer = Box::new(Adam::new(student.parameter_vars(), 1e-2));
    let mut config = TrainConfig::new(1, 16, 33);
    config.mixup_alpha = Some(0.4);
    Distiller {
        student: &mut student,
        teacher: Some(&mut teacher),
        objective: Objective::Dkd(DkdLoss::new(0.5, 0.5, 2.0, 2.0)),
        hint: None,
        optimizer,
        schedule: None,
        config,
    }
    .fit(FitData::train(&data), &mut |_| {});
}

/// An absurd learning rate makes the loss non-finite; the run stops and says where.
#[test]
fn a_diverging_run_stops_and_reports_it() {
    let data = slabs(64, 2, 3, 15);
    let mut student = mlp(2, 8, 3, 16);
    let optimizer: Box<dyn Optimizer> = Box::new(Sgd::new(student.parameter_vars(), 1e30));
    let outcome = Distiller {
        student: &mut student,
        teacher: None,
        objective: Objective::Hard {
            label_smoothing: 0.0,
        },
        hint: None,
        optimizer,
        schedule: None,
        config: TrainConfig::new(5, 16, 17),
    }
    .fit(FitData::train(&data), &mut |_| {});
    assert!(outcome.diverged.is_some(), "{outcome:?}");
}

/// A two-class data set in the plane, labelled by the sign of the first coordinate.
fn halves(n: usize, seed: u64) -> Dataset {
    let x = uniform(&[n, 2], -1.0, 1.0, seed);
    let labels = x
        .data()
        .chunks(2)
        .map(|p| usize::from(p[0] > 0.0))
        .collect();
    Dataset::new(x.into_vec(), vec![2], labels, 2)
}

/// Binary teachers averaged by probability: the returned logit is `T·logit(mean σ(t_i/T))`
/// (f64 reference), not the constant a one-class softmax would give.
#[test]
fn binary_ensemble_averages_sigmoids() {
    let x = uniform(&[6, 2], -1.0, 1.0, 1);
    let t = 2.0f64;
    let members: Vec<Box<dyn Module>> = (0..2)
        .map(|s| Box::new(mlp(2, 8, 1, s + 10)) as Box<dyn Module>)
        .collect();
    let logits = Teacher::ensemble(members, Combine::Probabilities).logits(&x, t as f32);
    let outputs: Vec<Tensor> = (0..2)
        .map(|s| {
            mlp(2, 8, 1, s + 10)
                .forward(&Var::constant(x.clone()))
                .value()
                .clone()
        })
        .collect();
    for i in 0..6 {
        let p = outputs
            .iter()
            .map(|o| 1.0 / (1.0 + (-(o.data()[i] as f64) / t).exp()))
            .sum::<f64>()
            / 2.0;
        let expected = t * (p / (1.0 - p)).ln();
        assert!((logits.data()[i] as f64 - expected).abs() < 1e-4, "{i}");
    }
}

/// Label smoothing applies to mixup's mixed targets too: with a learning rate of 0 (nothing
/// changes but the loss), ε = 0.5 gives another hard loss than ε = 0.
#[test]
fn label_smoothing_applies_under_mixup() {
    let run = |label_smoothing: f32| {
        let data = halves(64, 3);
        let mut student = mlp(2, 8, 2, 7);
        let optimizer = Box::new(Sgd::new(student.parameter_vars(), 0.0));
        let mut config = TrainConfig::new(1, 16, 5);
        config.mixup_alpha = Some(0.4);
        Distiller {
            student: &mut student,
            teacher: None,
            objective: Objective::Hard { label_smoothing },
            hint: None,
            optimizer,
            schedule: None,
            config,
        }
        .fit(FitData::train(&data), &mut |_| {})
        .epochs[0]
            .train_loss
            .hard
    };
    assert_ne!(run(0.0), run(0.5));
}

/// Dropout and batch norm in both models: the teacher is never put in training mode (its running
/// statistics do not move), the last epoch's evaluation is the one a fresh `evaluate` gives, the
/// student ends in evaluation mode — also after a diverging run — and a data set whose size
/// would leave a last batch of one sample trains (that batch is dropped).
#[test]
fn modes_are_switched_and_kept() {
    let data = halves(65, 3); // 65 = 4·16 + 1
    let mut rng = StdRng::seed_from_u64(4);
    let teacher_model = Sequential::new()
        .push_named("fc1", Dense::new(2, 8, &mut rng))
        .push_named("bn", nn::BatchNorm1d::new(8))
        .push_named("relu", Relu)
        .push_named("drop", nn::Dropout::new(0.5, 3))
        .push_named("fc2", Dense::new(8, 2, &mut rng));
    let running_mean = teacher_model.buffers()[0].1.clone();
    let before = running_mean.value().clone();
    let mut teacher = Teacher::single(Box::new(teacher_model));
    let student_model = |rng: &mut StdRng| {
        Sequential::new()
            .push_named("fc1", Dense::new(2, 8, rng))
            .push_named("bn", nn::BatchNorm1d::new(8))
            .push_named("drop", nn::Dropout::new(0.5, 1))
            .push_named("fc2", Dense::new(8, 2, rng))
    };
    let probe = Var::constant(uniform(&[4, 2], -1.0, 1.0, 9));
    for lr in [0.1, 1e30] {
        let mut student = student_model(&mut rng);
        let optimizer = Box::new(Sgd::new(student.parameter_vars(), lr));
        let mut config = TrainConfig::new(3, 16, 5);
        config.batch.shift = 1; // the teacher runs on the fly
        let outcome = Distiller {
            student: &mut student,
            teacher: Some(&mut teacher),
            objective: Objective::Response(ResponseLoss::new(0.5, 0.5, 2.0)),
            hint: None,
            optimizer,
            schedule: None,
            config,
        }
        .fit(
            FitData {
                train: &data,
                validation: None,
                report: Some(&data),
            },
            &mut |_| {},
        );
        assert_eq!(outcome.diverged.is_some(), lr > 1.0);
        if let Some(last) = outcome.epochs.last() {
            let again = kd::evaluate(&mut student, &data, 7, false);
            assert_eq!(last.eval.unwrap().loss, again.loss);
        }
        // Bits, not values: the diverged student (lr 1e30) may output NaN (it does on the scalar
        // level), and NaN ≠ NaN; in evaluation mode two forwards still give the same bits.
        let bits = |t: &tensor::Tensor| t.data().iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let a = bits(&student.forward(&probe).value().clone());
        let b = bits(&student.forward(&probe).value().clone());
        assert_eq!(a, b, "the student was left in training mode (lr {lr})");
    }
    assert_eq!(running_mean.value().data(), before.data());
}

/// A teacher's weights can change through the public API (`nn::checkpoint::load` takes
/// `&dyn Module`, and `Teacher::members()` hands out exactly that): after loading other weights,
/// `logits_for` must not return the old logits. (Found by review: the first key left weights out.)
#[test]
fn the_teacher_cache_sees_weights_loaded_after_it_was_filled() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.safetensors");
    nn::checkpoint::save(&path, &mlp(3, 8, 4, 99), &Default::default()).unwrap();

    let data = slabs(20, 3, 4, 2);
    let mut teacher = Teacher::single(Box::new(mlp(3, 8, 4, 3)));
    let before = teacher.logits_for(&data, 16, 1.0);
    nn::checkpoint::load(&path, &*teacher.members()[0]).unwrap();
    let x = Tensor::from_vec(data.inputs.clone(), &[20, 3]).unwrap();
    let direct = teacher.logits(&x, 1.0);
    assert_ne!(before.data(), direct.data(), "the load changed the teacher");
    let cached = teacher.logits_for(&data, 16, 1.0);
    assert_eq!(
        cached.data(),
        direct.data(),
        "logits_for returned the logits of the weights before the load"
    );
}

/// A schedule that keeps every metric it is given (and never changes the rate).
struct Recording(std::rc::Rc<std::cell::RefCell<Vec<Option<f32>>>>);

impl nn::optim::LrSchedule for Recording {
    fn lr(&mut self, _epoch: usize, metric: Option<f32>) -> f32 {
        self.0.borrow_mut().push(metric);
        1e-2
    }
}

/// The set scored after each epoch for the report (the test set, in the apps) must never reach the
/// schedule: a plateau schedule fed the test loss would choose the learning rate by the test set,
/// and the reported test accuracy would be tuned on it. The schedule gets the validation loss, and
/// with no validation set, nothing.
#[test]
fn the_schedule_sees_the_validation_loss_never_the_report_set() {
    let train = slabs(128, 4, 3, 20);
    let validation = slabs(64, 4, 3, 24);
    let test = slabs(64, 4, 3, 21);
    for with_validation in [true, false] {
        let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let mut student = mlp(4, 8, 3, 22);
        let optimizer = Box::new(Adam::new(student.parameter_vars(), 1e-2));
        let outcome = Distiller {
            student: &mut student,
            teacher: None,
            objective: Objective::Hard {
                label_smoothing: 0.0,
            },
            hint: None,
            optimizer,
            schedule: Some(Box::new(Recording(seen.clone()))),
            config: TrainConfig::new(3, 32, 23),
        }
        .fit(
            FitData {
                train: &train,
                validation: with_validation.then_some(&validation),
                report: Some(&test),
            },
            &mut |_| {},
        );
        let seen = seen.borrow();
        assert_eq!(seen.len(), 3, "one call per epoch");
        for (metric, epoch) in seen.iter().zip(&outcome.epochs) {
            let test_loss = epoch.eval.unwrap().loss as f32;
            assert_ne!(
                *metric,
                Some(test_loss),
                "the schedule was fed the test loss"
            );
            let expected = epoch.validation.map(|v| v.loss as f32);
            assert_eq!(
                *metric, expected,
                "with a validation set: {with_validation}"
            );
            assert_eq!(expected.is_some(), with_validation);
        }
    }
}

/// A schedule that adjusts the rate by the metric has nothing honest to go by without a
/// validation set: it is refused, not fed the report's set or silently nothing.
#[test]
#[should_panic(expected = "no validation set was given")]
fn a_plateau_schedule_without_a_validation_set_is_refused() {
    let data = slabs(64, 4, 3, 25);
    let mut student = mlp(4, 8, 3, 26);
    let optimizer = Box::new(Adam::new(student.parameter_vars(), 1e-2));
    Distiller {
        student: &mut student,
        teacher: None,
        objective: Objective::Hard {
            label_smoothing: 0.0,
        },
        hint: None,
        optimizer,
        schedule: Some(Box::new(nn::optim::ReduceOnPlateau::new(1e-2))),
        config: TrainConfig::new(1, 32, 27),
    }
    .fit(
        FitData {
            train: &data,
            validation: None,
            report: Some(&data),
        },
        &mut |_| {},
    );
}

/// Trains `student` alone with SGD at `lr`, keeping the best epoch on `validation` (which the
/// trainer requires: `None` must be refused).
fn fit_keeping_best(
    student: &mut Sequential,
    lr: f32,
    epochs: usize,
    patience: Option<usize>,
    train: &Dataset,
    validation: Option<&Dataset>,
) -> kd::FitOutcome {
    let optimizer: Box<dyn Optimizer> = Box::new(Sgd::new(student.parameter_vars(), lr));
    let mut config = TrainConfig::new(epochs, 16, 21);
    config.keep_best = Some(KeepBest { patience });
    Distiller {
        student,
        teacher: None,
        objective: Objective::Hard {
            label_smoothing: 0.0,
        },
        hint: None,
        optimizer,
        schedule: None,
        config,
    }
    .fit(
        FitData {
            train,
            validation,
            report: None,
        },
        &mut |_| {},
    )
}

/// With `keep_best`, the student ends as it was after its best validation epoch — parameters and
/// batch norm's running statistics alike — not as after its last one.
#[test]
fn the_best_epoch_on_validation_is_kept() {
    let train = slabs(256, 2, 3, 30);
    let validation = slabs(200, 2, 3, 31);
    let spec: ModelSpec = "mlp:16,bn".parse().unwrap();
    let mut student = spec.build(&[2], 3, 32).unwrap();
    // A step large enough that validation accuracy goes up and down from epoch to epoch.
    let outcome = fit_keeping_best(&mut student, 1.5, 12, None, &train, Some(&validation));
    assert!(
        outcome.diverged.is_none() && !outcome.stopped_early,
        "{outcome:?}"
    );
    let scores: Vec<_> = outcome
        .epochs
        .iter()
        .map(|e| e.validation.unwrap())
        .collect();
    // The best: highest accuracy, then lowest loss; the first such epoch.
    let mut expected = 0;
    for (epoch, s) in scores.iter().enumerate() {
        let best = scores[expected];
        if s.accuracy > best.accuracy || (s.accuracy == best.accuracy && s.loss < best.loss) {
            expected = epoch;
        }
    }
    assert_eq!(outcome.best_epoch, Some(expected), "{scores:?}");
    assert!(
        expected + 1 < scores.len() && scores[expected] != scores[scores.len() - 1],
        "the setting must make the last epoch differ from the best, or this shows nothing: {scores:?}"
    );
    let now = evaluate(&mut student, &validation, 1000, false);
    assert_eq!(
        now, scores[expected],
        "the student holds the best epoch's model"
    );
}

/// With a patience of 2, a run whose validation score never improves after its first epoch stops
/// after epoch 3 and keeps epoch 1.
#[test]
fn patience_stops_a_run_that_no_longer_improves() {
    let train = slabs(128, 2, 3, 40);
    let validation = slabs(100, 2, 3, 41);
    let mut student = mlp(2, 8, 3, 42);
    // A zero step: the model, and so its validation score, never changes.
    let outcome = fit_keeping_best(&mut student, 0.0, 10, Some(2), &train, Some(&validation));
    assert_eq!(outcome.epochs.len(), 3, "{outcome:?}");
    assert!(outcome.stopped_early);
    assert_eq!(outcome.best_epoch, Some(0));
    // Without a patience every epoch runs.
    let outcome = fit_keeping_best(&mut student, 0.0, 10, None, &train, Some(&validation));
    assert_eq!(outcome.epochs.len(), 10);
    assert!(!outcome.stopped_early);
}

#[test]
#[should_panic(expected = "keeping the best epoch needs a validation set")]
fn keeping_the_best_epoch_without_a_validation_set_is_refused() {
    let data = slabs(64, 2, 3, 50);
    let mut student = mlp(2, 8, 3, 51);
    fit_keeping_best(&mut student, 0.1, 2, None, &data, None);
}
