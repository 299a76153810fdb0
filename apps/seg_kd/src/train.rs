//! Training a segmentation network, alone or distilled, and running it over a set of scenes.
//!
//! The study driver's trainer learns one label per sample; here every pixel has one, so the loop
//! is written out: shuffle, batch, forward, the per-pixel loss of `losses.rs`, backward, Adam.
//! The teacher's logits and encoder maps for the training scenes are computed once
//! ([`TeacherOutputs`]) and read back per batch: there is no augmentation, so they never change,
//! and every student and seed reuses them.

use std::time::Instant;

use autograd::{no_grad, Var};
use indicatif::{ProgressBar, ProgressStyle};
use kd::HintAdapter;
use nn::optim::{Adam, Optimizer};
use nn::{Module, Sequential};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use tensor::Tensor;

use crate::losses::{
    pixel_cross_entropy, pixel_distillation, pixel_rows, pixel_rows_tensor, KeptPixels,
};
use crate::metrics::PixelConfusion;
use crate::model::ENCODER;
use crate::scenes::{Scenes, CLASSES};

/// Scenes ready for a network: pixels normalised, and their labels.
pub struct SceneSet {
    pub size: usize,
    pub inputs: Vec<f32>,
    pub labels: Vec<u8>,
}

impl SceneSet {
    /// `scenes` with their pixels normalised by `(p − mean) / std` (the training scenes' statistics).
    pub fn new(scenes: &Scenes, mean: f32, std: f32) -> SceneSet {
        SceneSet {
            size: scenes.size,
            inputs: scenes.pixels.iter().map(|p| (p - mean) / std).collect(),
            labels: scenes.labels.clone(),
        }
    }

    pub fn len(&self) -> usize {
        self.labels.len() / self.area()
    }

    pub fn area(&self) -> usize {
        self.size * self.size
    }

    /// The scenes at `indices` as `[b, 1, S, S]`, and their labels.
    pub fn batch(&self, indices: &[usize]) -> (Tensor, Vec<u8>) {
        let area = self.area();
        let mut inputs = Vec::with_capacity(indices.len() * area);
        let mut labels = Vec::with_capacity(indices.len() * area);
        for &i in indices {
            inputs.extend_from_slice(&self.inputs[i * area..(i + 1) * area]);
            labels.extend_from_slice(&self.labels[i * area..(i + 1) * area]);
        }
        let shape = [indices.len(), 1, self.size, self.size];
        (
            Tensor::from_vec(inputs, &shape).expect("b·S² values"),
            labels,
        )
    }
}

/// What feature distillation and per-pixel distillation learn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KdMethod {
    /// The teacher's per-pixel class probabilities at temperature T.
    Response,
    /// The teacher's encoder map, through a 1 × 1 adapter.
    Feature,
    Both,
}

impl KdMethod {
    pub fn name(self) -> &'static str {
        match self {
            KdMethod::Response => "response",
            KdMethod::Feature => "feature",
            KdMethod::Both => "both",
        }
    }
}

/// The teacher's outputs for every scene of a set, flat: logits `[n, C, S, S]` and encoder maps
/// `[n, c, S/4, S/4]`.
pub struct TeacherOutputs {
    pub logits: Vec<f32>,
    pub logits_shape: [usize; 3],
    pub features: Vec<f32>,
    pub features_shape: [usize; 3],
}

impl TeacherOutputs {
    /// Runs `teacher` (in evaluation mode, recording nothing) over `set` in batches.
    pub fn of(teacher: &mut Sequential, set: &SceneSet, batch_size: usize) -> TeacherOutputs {
        teacher.set_training(false);
        let mut out = TeacherOutputs {
            logits: Vec::new(),
            logits_shape: [0; 3],
            features: Vec::new(),
            features_shape: [0; 3],
        };
        let all: Vec<usize> = (0..set.len()).collect();
        for indices in all.chunks(batch_size) {
            let (x, _) = set.batch(indices);
            let (logits, features) =
                no_grad(|| teacher.forward_with_features(&Var::constant(x), &[ENCODER]));
            let (l, f) = (logits.value(), features[0].value());
            out.logits_shape = [l.shape()[1], l.shape()[2], l.shape()[3]];
            out.features_shape = [f.shape()[1], f.shape()[2], f.shape()[3]];
            out.logits.extend_from_slice(l.data());
            out.features.extend_from_slice(f.data());
        }
        out
    }

    fn rows(data: &[f32], shape: [usize; 3], indices: &[usize]) -> Tensor {
        let per: usize = shape.iter().product();
        let mut values = Vec::with_capacity(indices.len() * per);
        for &i in indices {
            values.extend_from_slice(&data[i * per..(i + 1) * per]);
        }
        let [a, b, c] = shape;
        Tensor::from_vec(values, &[indices.len(), a, b, c]).expect("b scenes of outputs")
    }

    fn logits_for(&self, indices: &[usize]) -> Tensor {
        TeacherOutputs::rows(&self.logits, self.logits_shape, indices)
    }

    fn features_for(&self, indices: &[usize]) -> Tensor {
        TeacherOutputs::rows(&self.features, self.features_shape, indices)
    }
}

/// A student's lesson: the teacher's outputs and how to learn from them.
pub struct Lesson<'a> {
    teacher: &'a TeacherOutputs,
    method: KdMethod,
    temperature: f32,
    /// The distillation terms' weight; the labels' is `1 − alpha`.
    alpha: f32,
    /// The 1 × 1 convolution from the student's encoder channels to the teacher's: present
    /// exactly when `method` has a feature term.
    adapter: Option<HintAdapter>,
}

impl<'a> Lesson<'a> {
    /// The lesson of `method`; a feature term gets its adapter from `(student, teacher)` encoder
    /// channels, its weights drawn from `adapter_seed`.
    pub fn new(
        teacher: &'a TeacherOutputs,
        method: KdMethod,
        temperature: f32,
        alpha: f32,
        (student_channels, teacher_channels): (usize, usize),
        adapter_seed: u64,
    ) -> Lesson<'a> {
        let adapter = (method != KdMethod::Response).then(|| {
            HintAdapter::conv1x1(
                student_channels,
                teacher_channels,
                &mut StdRng::seed_from_u64(adapter_seed),
            )
        });
        Lesson {
            teacher,
            method,
            temperature,
            alpha,
            adapter,
        }
    }
}

/// How long and how fast to train.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f32,
    /// Seeds the order of the scenes in each epoch.
    pub seed: u64,
}

/// One epoch's record.
#[derive(Debug, Clone, Copy)]
pub struct Epoch {
    pub loss: f64,
    pub validation_miou: f64,
    pub seconds: f64,
}

/// Trains `model` on `train` by `schedule`, on the labels alone or with `lesson`; the validation
/// scenes' mean IoU is measured after every epoch. Fails if the loss stops being finite.
pub fn fit(
    model: &mut Sequential,
    train: &SceneSet,
    validation: &SceneSet,
    mut lesson: Option<Lesson>,
    schedule: Schedule,
    label: &str,
) -> Result<Vec<Epoch>, String> {
    let mut params: Vec<Var> = model.parameters().into_iter().map(|(_, v)| v).collect();
    if let Some(adapter) = lesson.as_ref().and_then(|l| l.adapter.as_ref()) {
        params.extend(adapter.parameters().into_iter().map(|(_, v)| v));
    }
    let mut optimiser = Adam::new(params, schedule.lr);
    let steps = train.len() / schedule.batch_size;
    let bar = ProgressBar::new((steps * schedule.epochs) as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>32} [{bar:30.cyan/blue}] {pos:>5}/{len:5} {elapsed:>4} ETA {eta:>4} {msg}",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(label.to_string());
    let mut rng = StdRng::seed_from_u64(schedule.seed);
    let mut order: Vec<usize> = (0..train.len()).collect();
    let mut epochs = Vec::new();
    for epoch in 0..schedule.epochs {
        let start = Instant::now();
        model.set_training(true);
        order.shuffle(&mut rng);
        let mut total = 0.0;
        for (step, indices) in order.chunks_exact(schedule.batch_size).enumerate() {
            let (x, labels) = train.batch(indices);
            let kept = KeptPixels::of(&labels);
            let x = Var::constant(x);
            let wants_features = lesson
                .as_ref()
                .is_some_and(|l| l.method != KdMethod::Response);
            let (logits, features) = if wants_features {
                model.forward_with_features(&x, &[ENCODER])
            } else {
                (model.forward(&x), Vec::new())
            };
            let rows = pixel_rows(&logits);
            let hard = pixel_cross_entropy(&rows, &kept);
            let loss = match lesson.as_mut() {
                None => hard,
                Some(l) => {
                    let mut soft: Option<Var> = None;
                    if l.method != KdMethod::Feature {
                        let teacher = pixel_rows_tensor(&l.teacher.logits_for(indices));
                        soft = Some(pixel_distillation(&rows, &teacher, &kept, l.temperature));
                    }
                    if let Some(adapter) = l.adapter.as_mut() {
                        let hint = adapter.loss(&features[0], &l.teacher.features_for(indices));
                        soft = Some(match soft {
                            Some(s) => s.add(&hint),
                            None => hint,
                        });
                    }
                    let soft = soft.expect("every method has a distillation term");
                    hard.mul_scalar(1.0 - l.alpha)
                        .add(&soft.mul_scalar(l.alpha))
                }
            };
            let value = loss.value().item();
            if !value.is_finite() {
                bar.abandon();
                return Err(format!(
                    "{label}: the loss became non-finite at epoch {}, batch {}; try a smaller --lr",
                    epoch + 1,
                    step + 1
                ));
            }
            total += f64::from(value);
            optimiser.zero_grad();
            loss.backward();
            optimiser.step();
            bar.inc(1);
        }
        let validation_miou = evaluate(model, validation, schedule.batch_size).mean_iou();
        bar.set_message(format!(
            "epoch {} loss {:.4} validation mIoU {:.2} %",
            epoch + 1,
            total / steps.max(1) as f64,
            100.0 * validation_miou
        ));
        epochs.push(Epoch {
            loss: total / steps.max(1) as f64,
            validation_miou,
            seconds: start.elapsed().as_secs_f64(),
        });
    }
    bar.finish();
    Ok(epochs)
}

/// Each pixel's predicted class (the argmax over the channel axis) for every scene of `set`.
pub fn predict(model: &mut Sequential, set: &SceneSet, batch_size: usize) -> Vec<usize> {
    model.set_training(false);
    let all: Vec<usize> = (0..set.len()).collect();
    let mut predicted = Vec::with_capacity(set.labels.len());
    for indices in all.chunks(batch_size) {
        let (x, _) = set.batch(indices);
        let logits = no_grad(|| model.forward(&Var::constant(x)).value().clone());
        // The class axis is 1: one argmax per pixel, in [N, H, W] order (the first of equals).
        predicted.extend(logits.argmax_axis(1));
    }
    predicted
}

/// The pixel confusion of `model` on `set`.
pub fn evaluate(model: &mut Sequential, set: &SceneSet, batch_size: usize) -> PixelConfusion {
    let predicted = predict(model, set, batch_size);
    let mut confusion = PixelConfusion::new(CLASSES);
    confusion.add(&set.labels, &predicted);
    confusion
}
