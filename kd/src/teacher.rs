//! Teachers: one trained model or an ensemble, always run in evaluation mode and without recording
//! a graph (no gradient ever flows into a teacher).
//!
//! An ensemble is combined in one of two ways, and they are not the same:
//! - [`Combine::Logits`]: average the members' logits, then soften: `softmax(mean_i t_i / T)`.
//! - [`Combine::Probabilities`]: soften each member, then average: `mean_i softmax(t_i / T)`. The
//!   usual ensemble of classifiers, and what Hinton et al. distil from.
//!
//! Everything downstream (the losses, the metrics) takes *logits*. For the probability average
//! the teacher therefore returns the logits that reproduce it at temperature `T`:
//! `T · log(mean_i softmax(t_i / T))`, whose `softmax(· / T)` is exactly that average (a softmax
//! ignores a constant added to a row, and this row's exponentials already sum to 1); for one
//! logit per sample (a binary task), `T · logit(mean_i σ(t_i / T))`. For one model or the logit
//! average, the logits do not depend on `T`. So with a probability-averaging ensemble, a soft loss
//! that compares logits directly (`SoftLoss::LogitMse`) compares these `T`-dependent logits.
//!
//! Teacher outputs can be computed once per data set and cached ([`Teacher::logits_for`]), which
//! saves a forward pass per step, but only when every step sees the very inputs that were cached:
//! with augmentation or mixup the teacher must see each changed input, on the fly. The last cache
//! is kept, keyed by a fingerprint of the data and the temperature: a study that distils several
//! students (or seeds) from one teacher on one training set runs the teacher over it once. The
//! fingerprint covers the members' weights too: [`Teacher::members`] hands out the models, and a
//! checkpoint loaded into one changes its weights in place.

use autograd::{no_grad, Var};
use nn::data::{batches, BatchConfig, Dataset};
use nn::Module;
use tensor::Tensor;

/// How an ensemble's members are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Combine {
    /// Average the softened probabilities (the usual ensemble).
    #[default]
    Probabilities,
    /// Average the logits.
    Logits,
}

/// One model or several, used only for inference.
pub struct Teacher {
    members: Vec<Box<dyn Module>>,
    combine: Combine,
    /// The last [`Teacher::logits_for`]: (fingerprint of the data, temperature, logits).
    cached: Option<(u64, f32, Tensor)>,
}

impl Teacher {
    /// A teacher of one model.
    pub fn single(model: Box<dyn Module>) -> Teacher {
        Teacher::ensemble(vec![model], Combine::Logits)
    }

    /// An ensemble. Panics when `members` is empty.
    pub fn ensemble(mut members: Vec<Box<dyn Module>>, combine: Combine) -> Teacher {
        assert!(!members.is_empty(), "Teacher: an ensemble needs a member");
        for m in &mut members {
            m.set_training(false);
        }
        Teacher {
            members,
            combine,
            cached: None,
        }
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn combine(&self) -> Combine {
        self.combine
    }

    /// The members, e.g. to count their parameters or save them.
    pub fn members(&self) -> &[Box<dyn Module>] {
        &self.members
    }

    /// The teacher's logits `[N, C]` for a batch of inputs, at temperature `T` (which matters only
    /// for an ensemble averaging probabilities: see the module documentation).
    pub fn logits(&mut self, inputs: &Tensor, temperature: f32) -> Tensor {
        let x = Var::constant(inputs.clone());
        self.logits_and_features(&x, temperature, &[]).0
    }

    /// The logits and the named intermediate outputs of the *first* member (the one hints read),
    /// for inputs already in a `Var` (the student's, in a training step: no copy).
    pub fn logits_and_features(
        &mut self,
        x: &Var,
        temperature: f32,
        features: &[&str],
    ) -> (Tensor, Vec<Tensor>) {
        no_grad(|| {
            let mut features_out = Vec::new();
            let mut all_logits = Vec::with_capacity(self.members.len());
            for (i, member) in self.members.iter_mut().enumerate() {
                let wanted: &[&str] = if i == 0 { features } else { &[] };
                let (logits, found) = member.forward_with_features(x, wanted);
                if i == 0 {
                    features_out = found.iter().map(|f| f.value().clone()).collect();
                }
                all_logits.push(logits.value().clone());
            }
            (self.combined(all_logits, temperature), features_out)
        })
    }

    fn combined(&self, mut logits: Vec<Tensor>, temperature: f32) -> Tensor {
        if logits.len() == 1 {
            return logits.pop().expect("one member");
        }
        let scale = 1.0 / logits.len() as f32;
        match self.combine {
            Combine::Logits => sum(logits).mul_scalar(scale),
            Combine::Probabilities if logits[0].shape().last() == Some(&1) => {
                // One logit per sample (a binary task): the probability is σ(t/T), not a
                // softmax over one class (which would be 1 whatever t is). Average the
                // sigmoids and return T·logit(p̄), whose σ(·/T) is that average.
                let probabilities = logits
                    .iter()
                    .map(|t| t.mul_scalar(1.0 / temperature).sigmoid())
                    .collect();
                let p = clamp_away_from_0_and_1(sum(probabilities).mul_scalar(scale));
                p.ln()
                    .sub(&p.mul_scalar(-1.0).add_scalar(1.0).ln())
                    .mul_scalar(temperature)
            }
            Combine::Probabilities => {
                let probabilities = logits.iter().map(|t| t.softmax(temperature)).collect();
                // T·log p̄: the logits whose softmax at T is the average p̄. A probability that
                // underflowed to 0 would give −∞; the smallest normal f32 keeps it finite.
                let p = sum(probabilities)
                    .mul_scalar(scale)
                    .clamp(f32::MIN_POSITIVE, 1.0);
                p.ln().mul_scalar(temperature)
            }
        }
    }

    /// The teacher's logits for every sample of `data`, in order (`[len, C]`): the cache for
    /// training without augmentation. Computed in batches of `batch_size`.
    /// The same data and temperature as the previous call give its result again without running
    /// the teacher (the batch size changes nothing but speed).
    pub fn logits_for(&mut self, data: &Dataset, batch_size: usize, temperature: f32) -> Tensor {
        let key = fingerprint(data, &self.members);
        // Only a probability-averaging ensemble's logits depend on T (see the module doc).
        let depends_on_t = self.combine == Combine::Probabilities;
        if let Some((k, t, logits)) = &self.cached {
            if *k == key && (!depends_on_t || t.to_bits() == temperature.to_bits()) {
                return logits.clone();
            }
        }
        let config = BatchConfig::new(batch_size);
        let rows: Vec<Tensor> = batches(data, &config, 0)
            .map(|batch| self.logits(&batch.inputs, temperature))
            .collect();
        let refs: Vec<&Tensor> = rows.iter().collect();
        let logits = Tensor::concat(&refs, 0);
        self.cached = Some((key, temperature, logits.clone()));
        logits
    }
}

/// A 64-bit fingerprint of a data set's inputs and shape and of the members' weights (FNV-1a over
/// the bits of every value): a changed input or weight changes it, short of a 64-bit collision,
/// which FNV makes unlikely for such data though it is no cryptographic hash. Labels are not
/// included: the teacher never sees them.
fn fingerprint(data: &Dataset, members: &[Box<dyn Module>]) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut mix = |word: u64| h = (h ^ word).wrapping_mul(PRIME);
    let shape = data.sample_shape.iter().copied().chain([data.len()]);
    for word in shape
        .map(|d| d as u64)
        .chain(data.inputs.iter().map(|x| x.to_bits() as u64))
    {
        mix(word);
    }
    // The members' weights too: `members()` hands out `&dyn Module`, and `checkpoint::load` or an
    // optimiser holding the parameters can change them in place through that.
    for member in members {
        for (_, var) in member.state() {
            for x in var.value().data() {
                mix(x.to_bits() as u64);
            }
        }
    }
    h
}

/// Keeps probabilities inside (0, 1) so that their log-odds stay finite.
fn clamp_away_from_0_and_1(p: Tensor) -> Tensor {
    p.clamp(f32::MIN_POSITIVE, 1.0 - f32::EPSILON / 2.0)
}

fn sum(tensors: Vec<Tensor>) -> Tensor {
    let mut iter = tensors.into_iter();
    let first = iter.next().expect("at least one tensor");
    iter.fold(first, |mut acc, t| {
        acc.add_(&t);
        acc
    })
}
