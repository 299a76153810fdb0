//! `Dropout`: in training, zero each element with probability `p` and scale the survivors by
//! `1/(1 − p)`; in evaluation, the identity. The op and its derivative are in
//! `autograd/src/ops/dropout.rs`.
//!
//! Why it helps: a unit cannot rely on any particular other unit being present, so the network
//! learns redundant features, an ensemble of thinned networks averaged at test time (Srivastava et
//! al. 2014). The `1/(1 − p)` scaling keeps each element's expected value, so evaluation needs no
//! correction.
//!
//! The layer owns its random generator, seeded at construction: a run is reproducible bit for bit.

use autograd::Var;
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::module::{Module, Named};

/// Dropout with drop probability `p`, active only in training mode (the mode a new layer starts in).
pub struct Dropout {
    p: f32,
    rng: StdRng,
    training: bool,
}

impl Dropout {
    /// Panics unless `0 ≤ p < 1`.
    pub fn new(p: f32, seed: u64) -> Dropout {
        assert!(
            (0.0..1.0).contains(&p),
            "Dropout: the drop probability must be in [0, 1), found {p}"
        );
        Dropout {
            p,
            rng: StdRng::seed_from_u64(seed),
            training: true,
        }
    }

    pub fn p(&self) -> f32 {
        self.p
    }
}

impl Module for Dropout {
    fn forward(&mut self, x: &Var) -> Var {
        if self.training && self.p > 0.0 {
            x.dropout(self.p, &mut self.rng)
        } else {
            x.clone()
        }
    }
    fn parameters(&self) -> Vec<Named> {
        Vec::new()
    }
    fn set_training(&mut self, training: bool) {
        self.training = training;
    }
    fn describe(&self) -> String {
        format!("Dropout({})", self.p)
    }
}
