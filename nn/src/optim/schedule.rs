//! Learning-rate schedules: the learning rate for the next epoch, from the epoch just finished.
//!
//! A schedule is asked once at the *end* of each epoch, with that epoch's 0-based index and,
//! optionally, a validation metric to minimise; what it returns is the learning rate for the next
//! epoch. The first epoch runs at the rate the optimiser was built with (give the schedule the
//! same base rate). In a training loop:
//! ```text
//! for epoch in 0..epochs {
//!     train_one_epoch(&mut opt);
//!     let val_loss = evaluate();
//!     schedule.apply(&mut opt, epoch, Some(val_loss)); // = opt.set_lr(schedule.lr(epoch, Some(val_loss)))
//! }
//! ```
//! The formulas are PyTorch's (`StepLR`, `CosineAnnealingLR` in closed form, `ReduceLROnPlateau`
//! in mode "min" with a relative threshold), written with `epoch + 1` because after epoch `e` has
//! finished, `e + 1` epochs are done. Closed forms are evaluated in f64 and rounded once, so that
//! the rate after many epochs does not carry a product of many f32 roundings.

use super::Optimizer;

/// A rule for the learning rate of the next epoch.
pub trait LrSchedule {
    /// The learning rate for the epoch after `epoch` (0-based, just finished), given an optional
    /// validation `metric` to minimise (only [`ReduceOnPlateau`] looks at it). Called once per
    /// epoch, in order: a schedule with memory counts the calls.
    fn lr(&mut self, epoch: usize, metric: Option<f32>) -> f32;

    /// Whether the rate depends on the metric. A training loop that has no validation set to give
    /// one refuses such a schedule rather than feed it another set's loss (or silently nothing).
    fn uses_metric(&self) -> bool {
        false
    }

    /// `opt.set_lr(self.lr(epoch, metric))`, returning the new rate (to log it).
    fn apply(&mut self, opt: &mut dyn Optimizer, epoch: usize, metric: Option<f32>) -> f32 {
        let lr = self.lr(epoch, metric);
        opt.set_lr(lr);
        lr
    }
}

/// Panics unless `lr` is finite and ≥ 0.
#[track_caller]
fn check_rate(schedule: &str, name: &str, lr: f32) {
    assert!(
        lr.is_finite() && lr >= 0.0,
        "{schedule}: {name} must be finite and ≥ 0, got {lr}"
    );
}

/// The same rate every epoch.
#[derive(Debug, Clone)]
pub struct ConstantLr {
    lr: f32,
}

impl ConstantLr {
    /// Always `lr` (finite, ≥ 0).
    #[track_caller]
    pub fn new(lr: f32) -> ConstantLr {
        check_rate("ConstantLr", "lr", lr);
        ConstantLr { lr }
    }
}

impl LrSchedule for ConstantLr {
    fn lr(&mut self, _epoch: usize, _metric: Option<f32>) -> f32 {
        self.lr
    }
}

/// Multiply by `gamma` every `step_size` epochs: `lr = base_lr · γ^⌊(epoch + 1) / step_size⌋`.
#[derive(Debug, Clone)]
pub struct StepLr {
    base_lr: f32,
    step_size: usize,
    gamma: f32,
}

impl StepLr {
    /// `base_lr` finite and ≥ 0, `step_size` ≥ 1, `gamma` in `(0, 1]` (PyTorch's default is 0.1).
    #[track_caller]
    pub fn new(base_lr: f32, step_size: usize, gamma: f32) -> StepLr {
        check_rate("StepLr", "base_lr", base_lr);
        assert!(step_size >= 1, "StepLr: step_size must be ≥ 1, got 0");
        assert!(
            gamma > 0.0 && gamma <= 1.0,
            "StepLr: gamma must be in (0, 1], got {gamma}"
        );
        StepLr {
            base_lr,
            step_size,
            gamma,
        }
    }
}

impl LrSchedule for StepLr {
    fn lr(&mut self, epoch: usize, _metric: Option<f32>) -> f32 {
        let decays = (epoch + 1) / self.step_size;
        // γ^k in f64: a power, not k successive f32 products. (A count beyond i32 is beyond any
        // training run; saturating keeps it well defined: γ^i32::MAX is 0 or 1.)
        let k = i32::try_from(decays).unwrap_or(i32::MAX);
        (f64::from(self.base_lr) * f64::from(self.gamma).powi(k)) as f32
    }
}

/// Half a cosine from `base_lr` down to `min_lr` over `total_epochs`, then `min_lr`:
/// `lr = min + ½·(base − min)·(1 + cos(π·(epoch + 1)/total))` for `epoch + 1 ≤ total`.
/// (PyTorch's `CosineAnnealingLR` in closed form, without its restart after `total`.)
#[derive(Debug, Clone)]
pub struct CosineLr {
    base_lr: f32,
    min_lr: f32,
    total_epochs: usize,
}

impl CosineLr {
    /// `0 ≤ min_lr ≤ base_lr`, both finite; `total_epochs` ≥ 1.
    #[track_caller]
    pub fn new(base_lr: f32, min_lr: f32, total_epochs: usize) -> CosineLr {
        check_rate("CosineLr", "base_lr", base_lr);
        check_rate("CosineLr", "min_lr", min_lr);
        assert!(
            min_lr <= base_lr,
            "CosineLr: min_lr must be ≤ base_lr, got min_lr {min_lr} and base_lr {base_lr}"
        );
        assert!(
            total_epochs >= 1,
            "CosineLr: total_epochs must be ≥ 1, got 0"
        );
        CosineLr {
            base_lr,
            min_lr,
            total_epochs,
        }
    }
}

impl LrSchedule for CosineLr {
    fn lr(&mut self, epoch: usize, _metric: Option<f32>) -> f32 {
        let done = (epoch + 1).min(self.total_epochs) as f64;
        let progress = done / self.total_epochs as f64;
        let (base, min) = (f64::from(self.base_lr), f64::from(self.min_lr));
        let lr = min + 0.5 * (base - min) * (1.0 + (std::f64::consts::PI * progress).cos());
        // cos(π) is −1 to the last bit, but keep the end point exact whatever the rounding.
        (lr.max(min)) as f32
    }
}

/// Divide the rate by `1/factor` when the metric has stopped improving (PyTorch's
/// `ReduceLROnPlateau`, mode "min", threshold mode "rel", no cooldown).
///
/// A metric `x` is an improvement when `x < best · (1 − threshold)`; then `best = x` and the count
/// of bad epochs restarts at 0, otherwise the count goes up by one. When the count *exceeds*
/// `patience` — on the `(patience + 1)`-th consecutive epoch without improvement — the rate
/// becomes `max(lr · factor, min_lr)` and the count restarts. (A change smaller than 1e-8 is
/// ignored, as in PyTorch, so a rate at `min_lr` stays put.) An epoch with no metric changes
/// nothing: it neither improves nor counts as bad.
#[derive(Debug, Clone)]
pub struct ReduceOnPlateau {
    lr: f32,
    factor: f32,
    patience: usize,
    min_lr: f32,
    threshold: f32,
    best: f32,
    bad_epochs: usize,
}

impl ReduceOnPlateau {
    /// Starting from the optimiser's rate `lr`, with PyTorch's defaults: factor 0.1, patience 10,
    /// min_lr 0, threshold 1e-4.
    #[track_caller]
    pub fn new(lr: f32) -> ReduceOnPlateau {
        check_rate("ReduceOnPlateau", "lr", lr);
        ReduceOnPlateau {
            lr,
            factor: 0.1,
            patience: 10,
            min_lr: 0.0,
            threshold: 1e-4,
            best: f32::INFINITY,
            bad_epochs: 0,
        }
    }

    /// The multiplier applied at each reduction, in `[0, 1)`.
    #[track_caller]
    pub fn factor(mut self, factor: f32) -> ReduceOnPlateau {
        assert!(
            (0.0..1.0).contains(&factor),
            "ReduceOnPlateau: factor must be in [0, 1), got {factor}"
        );
        self.factor = factor;
        self
    }

    /// How many consecutive epochs without improvement are tolerated before a reduction.
    pub fn patience(mut self, patience: usize) -> ReduceOnPlateau {
        self.patience = patience;
        self
    }

    /// The rate is never reduced below this (finite, ≥ 0).
    #[track_caller]
    pub fn min_lr(mut self, min_lr: f32) -> ReduceOnPlateau {
        check_rate("ReduceOnPlateau", "min_lr", min_lr);
        self.min_lr = min_lr;
        self
    }

    /// The relative improvement that counts: in `[0, 1)`.
    #[track_caller]
    pub fn threshold(mut self, threshold: f32) -> ReduceOnPlateau {
        assert!(
            (0.0..1.0).contains(&threshold),
            "ReduceOnPlateau: threshold must be in [0, 1), got {threshold}"
        );
        self.threshold = threshold;
        self
    }

    /// The best metric seen so far (∞ before any).
    pub fn best(&self) -> f32 {
        self.best
    }

    /// Consecutive epochs without improvement since the last improvement or reduction.
    pub fn bad_epochs(&self) -> usize {
        self.bad_epochs
    }
}

impl LrSchedule for ReduceOnPlateau {
    fn uses_metric(&self) -> bool {
        true
    }

    fn lr(&mut self, _epoch: usize, metric: Option<f32>) -> f32 {
        let Some(metric) = metric else {
            return self.lr;
        };
        // NaN compares false, so a NaN metric counts as an epoch without improvement (PyTorch).
        if metric < self.best * (1.0 - self.threshold) {
            self.best = metric;
            self.bad_epochs = 0;
        } else {
            self.bad_epochs += 1;
        }
        if self.bad_epochs > self.patience {
            let reduced = (self.lr * self.factor).max(self.min_lr);
            if self.lr - reduced > 1e-8 {
                self.lr = reduced;
            }
            self.bad_epochs = 0;
        }
        self.lr
    }
}
