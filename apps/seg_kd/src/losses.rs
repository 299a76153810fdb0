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
//! The ignore label changes neither: an ignored pixel's row is never gathered, so it adds nothing
//! to a sum and is not counted in a mean.

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
