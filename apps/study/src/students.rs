//! The students: for each student and seed, the student alone and the same student (same
//! initialisation, same batches, same mixup draws) distilled, each scored on the test set after
//! every epoch. Seed 0's pair is saved, with metadata to rebuild and evaluate it.

use std::collections::BTreeMap;
use std::path::Path;

use kd::{ModelSpec, Teacher};
use nn::checkpoint;

use crate::data::Splits;
use crate::runs::{file_safe, score, Metric, Role, RunResult, Trained};
use crate::settings::Recipe;
use crate::train::{build, train, train_config, EvalOn, KdLoss};

/// What every student run of a study shares.
pub struct StudentPlan<'a> {
    pub recipe: &'a Recipe,
    pub batch_size: usize,
    pub splits: &'a Splits,
    pub metrics: &'a [Metric],
    /// The output folder, where seed 0's checkpoints go.
    pub out: &'a Path,
    /// The metadata every checkpoint carries about the data (`data_identity` in teacher.rs).
    pub data: &'a BTreeMap<String, String>,
}

impl StudentPlan<'_> {
    /// Trains `spec` alone, then distilled from `teacher` with `loss`, from the same
    /// initialisation drawn from `seed`; scores both (agreement against `teacher_predictions`).
    pub fn pair(
        &self,
        spec: &ModelSpec,
        seed: u64,
        teacher: &mut Teacher,
        teacher_predictions: &[usize],
        loss: KdLoss,
    ) -> Result<[RunResult; 2], String> {
        let alone = self.one(spec, seed, None, teacher_predictions)?;
        let distilled = self.one(spec, seed, Some((teacher, loss)), teacher_predictions)?;
        Ok([alone, distilled])
    }

    fn one(
        &self,
        spec: &ModelSpec,
        seed: u64,
        lesson: Option<(&mut Teacher, KdLoss)>,
        teacher_predictions: &[usize],
    ) -> Result<RunResult, String> {
        let role = if lesson.is_some() {
            Role::Distilled
        } else {
            Role::Alone
        };
        // Built from the same seed: the same initial weights alone and distilled.
        let mut model = build(spec, self.splits, 1000 + seed)?;
        let config = train_config(self.recipe, self.batch_size, seed);
        let label = format!("{spec} {} seed {seed}", role.name());
        let outcome = train(
            &mut model,
            lesson,
            self.recipe,
            config,
            self.splits,
            EvalOn::Test,
            &label,
        );
        let path = (seed == 0).then(|| {
            self.out.join(format!(
                "student-{}-{}.safetensors",
                file_safe(&spec.to_string()),
                role.name()
            ))
        });
        if let Some(p) = &path {
            let mut meta = self.data.clone();
            meta.insert("spec".into(), spec.to_string());
            meta.insert("role".into(), role.name().into());
            checkpoint::save(p, &model, &meta).map_err(|e| e.to_string())?;
        }
        let run = Trained {
            role,
            spec,
            seed,
            outcome,
            checkpoint: path,
        };
        Ok(score(
            run,
            &mut model,
            self.splits,
            self.metrics,
            Some(teacher_predictions),
        ))
    }
}
