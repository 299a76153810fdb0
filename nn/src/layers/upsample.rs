//! `Upsample`: nearest-neighbour upsampling of `[N, C, H, W]` by an integer factor, the decoder's
//! way back to the input's size in a fully convolutional network. No parameters; the derivative is
//! in `autograd/src/ops/upsample.rs`.

use autograd::Var;

use crate::module::{Module, Named};

/// Repeats every pixel over a `factor × factor` block: `[N, C, H, W] → [N, C, H·f, W·f]`.
pub struct Upsample {
    pub factor: usize,
}

impl Module for Upsample {
    fn forward(&mut self, x: &Var) -> Var {
        x.upsample_nearest2d(self.factor)
    }
    fn parameters(&self) -> Vec<Named> {
        Vec::new()
    }
    fn describe(&self) -> String {
        format!("Upsample(nearest, ×{})", self.factor)
    }
}
