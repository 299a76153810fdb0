//! The losses, per pixel, with the ignore label left out.
//!
//! A segmentation network's logits `[N, C, H, W]` are `N·H·W` classification problems of `C`
//! classes each. Moving the class axis last and flattening (`permute` then `reshape`, both
//! differentiable) turns them into `[N·H·W, C]` rows, one per pixel; gathering the rows of the
//! pixels not labelled [`IGNORE`](crate::scenes::IGNORE) leaves exactly the pixels that count.
//! Every loss below is then an existing row-wise loss, so its gradient is the one already checked:
//!
//! ```text
//! hard:     CE = mean over kept pixels of −log softmax(z)_y
//! response: T² · mean over kept pixels of KL(softmax(t/T) ‖ softmax(z/T))
//! feature:  mean (adapter(f_s) − f_t)²  over the encoder maps (every position)
//! total:    (1 − α)·CE + α·(the distillation terms of --kd-method)
//! ```
//!
//! The ignore label changes neither the sums nor the counts of these means: an ignored pixel's row
//! is never gathered. (A batch with no kept pixel at all would give the mean of nothing, NaN; a
//! scene always has background pixels, so it cannot happen here.)

use autograd::{Reduction, Var};
use kd::ResponseLoss;
use tensor::Tensor;

use crate::scenes::IGNORE;

/// The pixels that count in a batch's labels: their rows in `[N·H·W, C]` order, and their classes.
pub struct KeptPixels {
    pub rows: Vec<usize>,
    pub classes: Vec<usize>,
}

impl KeptPixels {
    pub fn of(labels: &[u8]) -> KeptPixels {
        let (rows, classes) = labels
            .iter()
            .enumerate()
            .filter(|(_, &l)| l != IGNORE)
            .map(|(row, &l)| (row, usize::from(l)))
            .unzip();
        KeptPixels { rows, classes }
    }
}

/// `[N, C, H, W] → [N·H·W, C]`: one row of class logits per pixel, pixels in row-major order.
pub fn pixel_rows(logits: &Var) -> Var {
    let shape = logits.shape();
    let [n, c, h, w] = shape[..] else {
        panic!("pixel_rows: expected [N, C, H, W] logits, found {shape:?}");
    };
    logits.permute(&[0, 2, 3, 1]).reshape(&[n * h * w, c])
}

/// The same for a tensor (the teacher's logits, which need no gradient).
pub fn pixel_rows_tensor(logits: &Tensor) -> Tensor {
    let shape = logits.shape().to_vec();
    let [n, c, h, w] = shape[..] else {
        panic!("pixel_rows: expected [N, C, H, W] logits, found {shape:?}");
    };
    logits.permute(&[0, 2, 3, 1]).reshape(&[n * h * w, c])
}

/// Cross-entropy over the kept pixels. `rows` is [`pixel_rows`]'s output.
pub fn pixel_cross_entropy(rows: &Var, kept: &KeptPixels) -> Var {
    rows.gather_rows(&kept.rows)
        .cross_entropy(&kept.classes, Reduction::Mean)
}

/// `T²·KL(softmax(t/T) ‖ softmax(z/T))` averaged over the kept pixels: `mnist_kd`'s soft term,
/// per pixel. `student_rows` and `teacher_rows` are both in [`pixel_rows`] order.
pub fn pixel_distillation(
    student_rows: &Var,
    teacher_rows: &Tensor,
    kept: &KeptPixels,
    temperature: f32,
) -> Var {
    let soft = ResponseLoss::new(0.0, 1.0, temperature);
    soft.soft_loss(
        &student_rows.gather_rows(&kept.rows),
        &teacher_rows.gather_rows(&kept.rows),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use autograd::gradcheck;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn logits(seed: u64) -> Tensor {
        Tensor::uniform(&[2, 3, 2, 3], -2.0, 2.0, &mut StdRng::seed_from_u64(seed))
    }

    /// Labels of the 12 pixels (2 scenes of 2 × 3), three of them ignored.
    const LABELS: [u8; 12] = [0, 1, IGNORE, 2, 2, 0, 1, IGNORE, 0, 0, IGNORE, 1];

    #[test]
    fn the_cross_entropy_is_the_mean_over_kept_pixels_computed_by_hand() {
        let z = logits(1);
        let kept = KeptPixels::of(&LABELS);
        assert_eq!(kept.rows, [0, 1, 3, 4, 5, 6, 8, 9, 11]);
        let loss = pixel_cross_entropy(&pixel_rows(&Var::constant(z.clone())), &kept);
        // By hand: pixel p of scene n has logits z[n, c, p] for c < 3.
        let mut total = 0.0;
        for (&row, &class) in kept.rows.iter().zip(&kept.classes) {
            let (n, p) = (row / 6, row % 6);
            let at = |c: usize| f64::from(z.data()[(n * 3 + c) * 6 + p]);
            let log_sum = (0..3).map(|c| at(c).exp()).sum::<f64>().ln();
            total += log_sum - at(class);
        }
        let expected = total / kept.rows.len() as f64;
        assert!((f64::from(loss.value().item()) - expected).abs() < 1e-5);
    }

    #[test]
    fn ignored_pixels_change_neither_the_loss_nor_get_a_gradient() {
        let kept = KeptPixels::of(&LABELS);
        let (z, mut changed) = (logits(2), logits(2));
        // Rewrite every logit of the ignored pixels (rows 2, 7, 10).
        for row in [2, 7, 10] {
            let (n, p) = (row / 6, row % 6);
            for c in 0..3 {
                changed.data_mut()[(n * 3 + c) * 6 + p] = 100.0 * c as f32 - 7.0;
            }
        }
        let teacher = pixel_rows_tensor(&logits(3));
        let losses = |z: &Tensor| {
            let rows = pixel_rows(&Var::constant(z.clone()));
            (
                pixel_cross_entropy(&rows, &kept).value().item(),
                pixel_distillation(&rows, &teacher, &kept, 2.0)
                    .value()
                    .item(),
            )
        };
        assert_eq!(losses(&z), losses(&changed));
        let p = Var::parameter(z);
        let rows = pixel_rows(&p);
        pixel_cross_entropy(&rows, &kept)
            .add(&pixel_distillation(&rows, &teacher, &kept, 2.0))
            .backward();
        let g = p.grad().unwrap();
        for row in [2, 7, 10] {
            let (n, q) = (row / 6, row % 6);
            for c in 0..3 {
                assert_eq!(g.data()[(n * 3 + c) * 6 + q], 0.0);
            }
        }
    }

    #[test]
    fn both_pixel_losses_pass_gradcheck() {
        let kept = KeptPixels::of(&LABELS);
        let teacher = pixel_rows_tensor(&logits(5));
        gradcheck("pixel cross-entropy", &[logits(4)], |v| {
            pixel_cross_entropy(&pixel_rows(&v[0]), &kept)
        })
        .unwrap();
        gradcheck("pixel distillation", &[logits(4)], |v| {
            pixel_distillation(&pixel_rows(&v[0]), &teacher, &kept, 4.0)
        })
        .unwrap();
    }
}
