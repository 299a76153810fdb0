//! How good a segmentation is: a confusion matrix over pixels, and from it per-class IoU, mean
//! IoU and pixel accuracy. Pixels labelled [`IGNORE`](crate::scenes::IGNORE) are not counted.
//!
//! ```text
//! IoU_c = TP_c / (TP_c + FP_c + FN_c)     (the Jaccard index of the pixels labelled c and those predicted c)
//! mean IoU = mean of IoU_c over the classes present in the labels or the predictions
//! pixel accuracy = Σ_c TP_c / counted pixels
//! ```
//!
//! A class that is neither labelled nor predicted anywhere has no IoU (0/0) and is left out of
//! the mean, as the VOC evaluation does.

use crate::scenes::IGNORE;

/// `counts[t·classes + p]`: pixels of true class `t` predicted as `p`.
#[derive(Debug, Clone, PartialEq)]
pub struct PixelConfusion {
    pub classes: usize,
    pub counts: Vec<u64>,
}

impl PixelConfusion {
    pub fn new(classes: usize) -> PixelConfusion {
        PixelConfusion {
            classes,
            counts: vec![0; classes * classes],
        }
    }

    /// Counts every pixel whose label is not [`IGNORE`].
    pub fn add(&mut self, labels: &[u8], predicted: &[usize]) {
        for (&label, &p) in labels.iter().zip(predicted) {
            if label != IGNORE {
                self.counts[usize::from(label) * self.classes + p] += 1;
            }
        }
    }

    fn true_positives(&self, c: usize) -> u64 {
        self.counts[c * self.classes + c]
    }

    /// Pixels labelled `c`.
    fn labelled(&self, c: usize) -> u64 {
        self.counts[c * self.classes..(c + 1) * self.classes]
            .iter()
            .sum()
    }

    /// Pixels predicted `c`.
    fn predicted(&self, c: usize) -> u64 {
        (0..self.classes)
            .map(|t| self.counts[t * self.classes + c])
            .sum()
    }

    /// IoU of class `c` (in [0, 1]), `None` when it is neither labelled nor predicted.
    pub fn iou(&self, c: usize) -> Option<f64> {
        let tp = self.true_positives(c);
        let union = self.labelled(c) + self.predicted(c) - tp;
        (union > 0).then(|| tp as f64 / union as f64)
    }

    /// The mean of the IoUs that exist.
    pub fn mean_iou(&self) -> f64 {
        let ious: Vec<f64> = (0..self.classes).filter_map(|c| self.iou(c)).collect();
        ious.iter().sum::<f64>() / ious.len().max(1) as f64
    }

    /// The share of counted pixels predicted right.
    pub fn pixel_accuracy(&self) -> f64 {
        let right: u64 = (0..self.classes).map(|c| self.true_positives(c)).sum();
        right as f64 / self.counts.iter().sum::<u64>().max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_and_accuracy_by_hand() {
        // Three classes; labels and predictions of eight pixels, one ignored.
        let labels = [0, 0, 0, 1, 1, 2, IGNORE, 2];
        let predicted = [0, 0, 1, 1, 2, 2, 1, 0];
        let mut m = PixelConfusion::new(3);
        m.add(&labels, &predicted);
        // Class 0: TP 2, labelled 3, predicted 3 → 2 / (3 + 3 − 2) = 1/2.
        // Class 1: TP 1, labelled 2, predicted 2 (the ignored pixel is not counted) → 1/3.
        // Class 2: TP 1, labelled 2, predicted 2 → 1/3.
        assert_eq!(m.iou(0), Some(0.5));
        assert_eq!(m.iou(1), Some(1.0 / 3.0));
        assert_eq!(m.iou(2), Some(1.0 / 3.0));
        assert!((m.mean_iou() - (0.5 + 2.0 / 3.0) / 3.0).abs() < 1e-12);
        assert_eq!(m.pixel_accuracy(), 4.0 / 7.0);
    }

    #[test]
    fn the_ignore_label_changes_nothing_whatever_is_predicted_there() {
        let labels = [1, IGNORE, 0, IGNORE];
        let mut a = PixelConfusion::new(3);
        a.add(&labels, &[1, 0, 0, 2]);
        let mut b = PixelConfusion::new(3);
        b.add(&labels, &[1, 2, 0, 1]);
        assert_eq!(a, b);
        let mut c = PixelConfusion::new(3);
        c.add(&[1, 0], &[1, 0]);
        assert_eq!(a, c);
    }

    #[test]
    fn a_class_never_labelled_nor_predicted_is_left_out_of_the_mean() {
        let mut m = PixelConfusion::new(4);
        m.add(&[0, 1], &[0, 1]);
        assert_eq!(m.iou(3), None);
        assert_eq!(m.mean_iou(), 1.0);
    }
}
