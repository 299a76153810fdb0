//! `--kd-method dkd` in an app: Decoupled Knowledge Distillation (`kd::dkd`) with the run's
//! temperature and weights, and its two terms' weights from two flags of its own.
//!
//! The run's soft weight scales the teacher's whole term, as it does for classic KD, and the two
//! flags split that term between its parts:
//!
//! ```text
//! KD:   hard_weight · CE  +  soft_weight · T² · (TCKD +        (1 − p_y) · NCKD)
//! DKD:  hard_weight · CE  +  soft_weight · T² · (α · TCKD  +   β · NCKD)
//! ```
//!
//! so with `α = 1` (the default) DKD differs from the KD run beside it in one thing only: the
//! weight of the non-target term, the teacher's dark knowledge, is `β` for every sample instead of
//! `1 − p_y`. The sweep and `tune` keep their meaning (T, and the soft weight against the hard).
//! `α` and `β` are the paper's names for the two weights, used here only in flag help and
//! reports; the library's `kd::DkdLoss` gets `soft_weight · α` and `soft_weight · β`.
//!
//! DKD needs each sample's target class: mixup's mixed targets have none, so `--mixup` is refused;
//! and a task with one sigmoid logit has no non-target classes to decouple.

use kd::DkdLoss;
use serde_json::{json, Value};

use crate::output::typed;
use crate::settings::{Settings, Weights};

/// The two flags; an app flattens them into its own (`#[command(flatten)]`).
#[derive(clap::Args, Debug, Clone)]
pub struct DkdFlags {
    /// With --kd-method dkd: weight of the target-class term TCKD inside the soft term (the
    /// paper's α; default 1, as in classic KD).
    #[arg(global = true, long)]
    pub dkd_target_weight: Option<f32>,
    /// With --kd-method dkd: weight of the non-target-class term NCKD inside the soft term (the
    /// paper's β; classic KD weighs it by 1 − p_y, the teacher's probability of the other
    /// classes). The app's default was chosen on the validation split.
    #[arg(global = true, long)]
    pub dkd_non_target_weight: Option<f32>,
}

/// DKD's two weights inside the soft term.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DkdWeights {
    /// The paper's α: TCKD's weight.
    pub target: f32,
    /// The paper's β: NCKD's weight.
    pub non_target: f32,
}

impl DkdWeights {
    /// The loss at the run's `weights`: `hard_weight · CE + soft_weight · T² · (α·TCKD + β·NCKD)`.
    pub fn loss(&self, weights: Weights) -> DkdLoss {
        DkdLoss::new(
            weights.hard_weight,
            weights.soft_weight * self.target,
            weights.soft_weight * self.non_target,
            weights.temperature,
        )
    }

    /// The loss in words, for report.md's header (which gives T and the two run weights).
    pub fn describe(&self) -> String {
        format!(
            "DKD (decoupled KD, Zhao et al. 2022): hard weight · CE + soft weight · T² · \
             (α · TCKD + β · NCKD), α = {}, β = {}",
            self.target, self.non_target
        )
    }

    /// As results.json's "config" records them.
    pub fn json(&self) -> Value {
        json!({
            "target_weight": typed(self.target),
            "non_target_weight": typed(self.non_target),
        })
    }
}

impl DkdFlags {
    /// The weights when `dkd` (the app's method is DKD), `None` otherwise; every value checked,
    /// and what DKD cannot be combined with refused. `default_non_target` is the app's β;
    /// `one_logit` whether the task has one sigmoid output.
    pub fn resolve(
        &self,
        dkd: bool,
        default_non_target: f32,
        settings: &Settings,
        one_logit: bool,
    ) -> Result<Option<DkdWeights>, String> {
        if !dkd {
            let given = [
                ("--dkd-target-weight", self.dkd_target_weight),
                ("--dkd-non-target-weight", self.dkd_non_target_weight),
            ];
            if let Some((flag, _)) = given.iter().find(|(_, v)| v.is_some()) {
                return Err(format!(
                    "{flag} weighs a term of DKD: it needs --kd-method dkd"
                ));
            }
            return Ok(None);
        }
        if settings.student_recipe.mixup.is_some() {
            return Err(
                "--kd-method dkd splits the loss at each sample's target class, which \
                        --mixup's mixed targets do not have: drop --mixup, or use --kd-method \
                        response"
                    .into(),
            );
        }
        if one_logit {
            return Err(
                "--kd-method dkd needs one logit per class: a two-class task with one \
                        sigmoid output has no non-target classes to decouple (use --kd-method \
                        response)"
                    .into(),
            );
        }
        let weights = DkdWeights {
            target: self.dkd_target_weight.unwrap_or(1.0),
            non_target: self.dkd_non_target_weight.unwrap_or(default_non_target),
        };
        for (flag, value) in [
            ("--dkd-target-weight", weights.target),
            ("--dkd-non-target-weight", weights.non_target),
        ] {
            if !(value >= 0.0 && value.is_finite()) {
                return Err(format!("{flag} must be a number ≥ 0, found {value}"));
            }
        }
        Ok(Some(weights))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::WeightsSource;
    use crate::settings::Recipe;

    fn settings(mixup: Option<f32>) -> Settings {
        let spec = |s: &str| s.parse().unwrap();
        Settings {
            preset: "Test".into(),
            teacher: spec("mlp:8"),
            teacher_recipe: Recipe::adam(1, 1e-3),
            students: vec![spec("mlp:4")],
            student_recipe: Recipe {
                mixup,
                ..Recipe::adam(1, 1e-3)
            },
            batch_size: 8,
            weights: Weights {
                temperature: 4.0,
                hard_weight: 0.1,
                soft_weight: 0.9,
            },
            weights_source: WeightsSource::Preset,
            ensemble: crate::Ensemble::SINGLE,
            seeds: 1,
            validation: 10,
            train_limit: None,
            threads: None,
            data_dir: "data".into(),
            out: "runs/test".into(),
        }
    }

    fn flags(target: Option<f32>, non_target: Option<f32>) -> DkdFlags {
        DkdFlags {
            dkd_target_weight: target,
            dkd_non_target_weight: non_target,
        }
    }

    /// The soft weight scales both terms; α = 1 leaves TCKD's weight the soft weight, as in KD.
    #[test]
    fn the_soft_weight_scales_both_terms() {
        let w = flags(None, Some(4.0))
            .resolve(true, 8.0, &settings(None), false)
            .unwrap()
            .unwrap();
        assert_eq!(
            w,
            DkdWeights {
                target: 1.0,
                non_target: 4.0
            }
        );
        let loss = w.loss(settings(None).weights);
        assert_eq!(
            (loss.hard_weight, loss.target_weight, loss.temperature),
            (0.1, 0.9, 4.0)
        );
        assert_eq!(loss.non_target_weight, 0.9 * 4.0);
        // The app's default β when the flag is not given.
        let default = flags(None, None).resolve(true, 8.0, &settings(None), false);
        assert_eq!(default.unwrap().unwrap().non_target, 8.0);
    }

    #[test]
    fn what_dkd_cannot_take_is_refused_with_the_reason() {
        let s = settings(None);
        let err = |f: DkdFlags, dkd, s: &Settings, one_logit| {
            f.resolve(dkd, 8.0, s, one_logit).unwrap_err()
        };
        let mixup = err(flags(None, None), true, &settings(Some(0.4)), false);
        assert!(mixup.contains("--mixup's mixed targets"), "{mixup}");
        let binary = err(flags(None, None), true, &s, true);
        assert!(binary.contains("one sigmoid output"), "{binary}");
        assert_eq!(
            err(flags(None, Some(-1.0)), true, &s, false),
            "--dkd-non-target-weight must be a number ≥ 0, found -1"
        );
        assert_eq!(
            err(flags(Some(2.0), None), false, &s, false),
            "--dkd-target-weight weighs a term of DKD: it needs --kd-method dkd"
        );
        // Not DKD and no DKD flag: nothing to say.
        assert_eq!(flags(None, None).resolve(false, 8.0, &s, false), Ok(None));
    }
}
