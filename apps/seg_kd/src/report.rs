//! The report: a table of mean IoU, pixel accuracy, size and speed (mean ± std over the seeds),
//! the verdict, IoU per class, the distilled student's pixel confusion, every figure in
//! results.json, and the picture of test scenes.

use std::fmt::Write as _;
use std::path::Path;

use kd::metrics::MeanStd;
use serde_json::{json, Value};
use study::output::{markdown_table, write_atomic};
use study::verdict::{verdict, Side};

use crate::metrics::PixelConfusion;
use crate::model::FcnSpec;
use crate::picture::{scenes_svg, Column};
use crate::scenes::{SceneSpec, Scenes, CLASSES};
use crate::train::{Epoch, KdMethod};

/// Test scenes drawn in the picture.
const PICTURED: usize = 4;

/// One trained model: its test confusion, its epochs, its size and speed.
pub struct ModelRun {
    pub confusion: PixelConfusion,
    pub epochs: Vec<Epoch>,
    pub parameters: usize,
    pub scenes_per_second: f64,
}

pub struct Report<'a> {
    pub command: &'a str,
    pub spec: &'a SceneSpec,
    /// Training, validation and test scenes.
    pub scenes: (usize, usize, usize),
    pub teacher_spec: FcnSpec,
    pub student_spec: FcnSpec,
    pub method: KdMethod,
    pub temperature: f32,
    pub alpha: f32,
    pub teacher: ModelRun,
    pub alone: Vec<ModelRun>,
    pub distilled: Vec<ModelRun>,
}

/// The name of class `c`.
fn class_name(c: usize) -> String {
    match c {
        0 => "background".to_string(),
        d => format!("digit {}", d - 1),
    }
}

fn stat(runs: &[ModelRun], f: impl Fn(&ModelRun) -> f64) -> MeanStd {
    MeanStd::of(&runs.iter().map(f).collect::<Vec<_>>())
}

fn run_json(r: &ModelRun) -> Value {
    json!({
        "mean_iou": r.confusion.mean_iou(),
        "pixel_accuracy": r.confusion.pixel_accuracy(),
        "iou": (0..CLASSES).map(|c| r.confusion.iou(c)).collect::<Vec<_>>(),
        "confusion": r.confusion.counts,
        "parameters": r.parameters,
        "test_scenes_per_second": r.scenes_per_second,
        "epochs": r.epochs.iter().map(|e| json!({
            "loss": e.loss,
            "validation_mean_iou": e.validation_miou,
            "seconds": e.seconds,
        })).collect::<Vec<_>>(),
    })
}

impl Report<'_> {
    /// What the distilled student learns from, as a formula.
    fn loss_text(&self) -> String {
        let terms = match self.method {
            KdMethod::Response => "T²·KL(softmax(t/T) ‖ softmax(z/T)) per pixel".to_string(),
            KdMethod::Feature => "mean (adapter(f_s) − f_t)² over the encoder maps".to_string(),
            KdMethod::Both => {
                "T²·KL per pixel + mean (adapter(f_s) − f_t)² over the encoder maps".to_string()
            }
        };
        let temperature = match self.method {
            KdMethod::Feature => String::new(),
            _ => format!(", T = {}", self.temperature),
        };
        format!(
            "{:.2}·CE + {:.2}·({terms}){temperature} (hard weight 1 − α, soft weight α = {})",
            1.0 - self.alpha,
            self.alpha,
            self.alpha
        )
    }

    pub fn write(
        &self,
        out: &Path,
        test: &Scenes,
        examples: Option<&(Vec<usize>, Vec<usize>, Vec<usize>)>,
    ) -> Result<(), String> {
        let pct = |m: MeanStd| {
            MeanStd {
                mean: 100.0 * m.mean,
                std: 100.0 * m.std,
                n: m.n,
            }
            .format(2)
        };
        let size_kib = |p: usize| format!("{:.1}", p as f64 * 4.0 / 1024.0);
        let mut rows = Vec::new();
        let student = self.student_spec.to_string();
        for (name, runs) in [
            (
                format!("teacher {}", self.teacher_spec),
                vec![&self.teacher],
            ),
            (format!("{student} alone"), self.alone.iter().collect()),
            (
                format!("{student} distilled ({})", self.method.name()),
                self.distilled.iter().collect(),
            ),
        ] {
            let runs: Vec<&ModelRun> = runs;
            let of = |f: &dyn Fn(&ModelRun) -> f64| {
                MeanStd::of(&runs.iter().map(|r| f(r)).collect::<Vec<_>>())
            };
            rows.push(vec![
                name,
                pct(of(&|r| r.confusion.mean_iou())),
                pct(of(&|r| r.confusion.pixel_accuracy())),
                runs[0].parameters.to_string(),
                size_kib(runs[0].parameters),
                format!("{:.0}", of(&|r| r.scenes_per_second).mean),
            ]);
        }
        let (train, validation, test_count) = self.scenes;
        let spec = self.spec;
        let mut s = format!(
            "# Segmentation distillation on composite-digit scenes\n\n```\n{}\n```\n\n\
             - Scenes: {} × {} pixels, {} to {} MNIST digits each, scaled to {} to {} pixels; \
             {train} training and {validation} validation scenes from the training images, \
             {test_count} test scenes from the test images. 11 classes (background and the ten \
             digits); pixels on digit borders are labelled 255 and counted nowhere.\n\
             - Teacher {}, then {} students per kind ({}): each seed one initialisation, \
             trained alone and distilled. Distilled loss: {}.\n\
             - Mean ± std over the seeds; mean IoU over the classes present (the Jaccard index); \
             speed: test scenes per second of inference, batches of the training batch size.\n\n",
            self.command,
            spec.size,
            spec.size,
            spec.min_digits,
            spec.max_digits,
            spec.min_scale,
            spec.max_scale,
            self.teacher_spec,
            self.alone.len(),
            self.student_spec,
            self.loss_text()
        );
        s.push_str(&markdown_table(
            &[
                "model",
                "test mean IoU (%)",
                "pixel accuracy (%)",
                "parameters",
                "size (KiB)",
                "test scenes/s",
            ],
            &rows,
        ));
        let miou = |runs: &[ModelRun]| {
            let m = stat(runs, |r| r.confusion.mean_iou());
            MeanStd {
                mean: 100.0 * m.mean,
                std: 100.0 * m.std,
                n: m.n,
            }
        };
        let (a, d) = (miou(&self.alone), miou(&self.distilled));
        let side = |finished| Side {
            finished,
            diverged: &[],
        };
        let _ = write!(
            s,
            "\n## Verdict\n\n{}\n\n## IoU per class (%), mean over the seeds\n\n",
            verdict(&student, "test mean IoU", side(&a), side(&d))
        );
        let per_class: Vec<Vec<String>> = (0..CLASSES)
            .map(|c| {
                let iou = |runs: &[ModelRun]| {
                    let values: Vec<f64> = runs.iter().filter_map(|r| r.confusion.iou(c)).collect();
                    if values.is_empty() {
                        "–".to_string()
                    } else {
                        format!(
                            "{:.2}",
                            100.0 * values.iter().sum::<f64>() / values.len() as f64
                        )
                    }
                };
                vec![
                    class_name(c),
                    iou(std::slice::from_ref(&self.teacher)),
                    iou(&self.alone),
                    iou(&self.distilled),
                ]
            })
            .collect();
        s.push_str(&markdown_table(
            &["class", "teacher", "alone", "distilled"],
            &per_class,
        ));
        s.push_str(
            "\n## Pixel confusion of the distilled student, seed 0\n\nRows: the true class; \
             columns: the predicted one (b = background).\n\n",
        );
        let names: Vec<String> = (0..CLASSES)
            .map(|c| {
                if c == 0 {
                    "b".into()
                } else {
                    (c - 1).to_string()
                }
            })
            .collect();
        let mut headers = vec!["".to_string()];
        headers.extend(names.iter().cloned());
        let confusion = &self.distilled[0].confusion;
        let matrix: Vec<Vec<String>> = (0..CLASSES)
            .map(|t| {
                let mut row = vec![names[t].clone()];
                row.extend((0..CLASSES).map(|p| confusion.counts[t * CLASSES + p].to_string()));
                row
            })
            .collect();
        let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
        s.push_str(&markdown_table(&header_refs, &matrix));
        s.push_str("\nscenes.svg: test scenes, their labels (grey: ignored) and the three models' predictions.\n");

        let json = json!({
            "command": self.command,
            "size": spec.size,
            "digits": [spec.min_digits, spec.max_digits],
            "scales": [spec.min_scale, spec.max_scale],
            "scenes": {"train": train, "validation": validation, "test": test_count},
            "teacher_model": self.teacher_spec.to_string(),
            "student_model": student,
            "kd_method": self.method.name(),
            "temperature": study::typed(self.temperature),
            "alpha": study::typed(self.alpha),
            "teacher": run_json(&self.teacher),
            "alone": self.alone.iter().map(run_json).collect::<Vec<_>>(),
            "distilled": self.distilled.iter().map(run_json).collect::<Vec<_>>(),
        });
        write_atomic(&out.join("report.md"), &s)?;
        write_atomic(
            &out.join("results.json"),
            &serde_json::to_string_pretty(&json).expect("JSON of plain values"),
        )?;
        if let Some((teacher, alone, distilled)) = examples {
            let area = spec.size * spec.size;
            let shown = PICTURED.min(test.len());
            let labels_of = |predicted: &[usize]| -> Vec<Vec<u8>> {
                (0..shown)
                    .map(|i| {
                        predicted[i * area..(i + 1) * area]
                            .iter()
                            .map(|&p| p as u8)
                            .collect()
                    })
                    .collect()
            };
            let columns = [
                Column::Input((0..shown).map(|i| test.scene(i).to_vec()).collect()),
                Column::Labels((0..shown).map(|i| test.scene_labels(i).to_vec()).collect()),
                Column::Labels(labels_of(teacher)),
                Column::Labels(labels_of(alone)),
                Column::Labels(labels_of(distilled)),
            ];
            let headers = [
                "input".to_string(),
                "ground truth".to_string(),
                "teacher".to_string(),
                "student alone".to_string(),
                "student distilled".to_string(),
            ];
            write_atomic(
                &out.join("scenes.svg"),
                &scenes_svg("Test scenes (seed 0)", &headers, &columns, spec.size),
            )?;
        }
        println!(
            "{s}\nWritten to {}: report.md, results.json, scenes.svg.",
            out.display()
        );
        Ok(())
    }
}
