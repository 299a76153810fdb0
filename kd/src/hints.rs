//! Feature-based distillation: FitNets "hints" (Romero et al. 2015).
//!
//! Besides its outputs, a teacher's intermediate feature maps hold what it has learned. A *hint*
//! pulls a student's intermediate feature map `s` towards a teacher's `h` at a chosen layer. The
//! two rarely have the same number of channels, so a small learned *adapter* `r` (a 1×1
//! convolution for feature maps, a dense layer for vectors) maps the student's features to the
//! teacher's shape first:
//!
//! ```text
//! hint_loss = mean (r(s) − h)²
//! ```
//!
//! The adapter is trained with the student (its parameters are in [`HintAdapter::parameters`]) and
//! thrown away afterwards. The gradient flows into the student through the adapter; the teacher's
//! features are constants. Combined with the response loss with the weight [`Hint::weight`](crate::Hint).

use autograd::{Reduction, Var};
use nn::{Conv2d, Dense, Init, Module, Named};
use rand::Rng;
use tensor::Tensor;

/// The learned map from a student feature shape to a teacher feature shape.
pub struct HintAdapter {
    layer: Box<dyn Module>,
}

impl HintAdapter {
    /// For feature maps `[N, C_s, H, W] → [N, C_t, H, W]`: a 1×1 convolution (it mixes channels at
    /// each position and leaves the spatial layout alone).
    pub fn conv1x1<R: Rng + ?Sized>(
        student_channels: usize,
        teacher_channels: usize,
        rng: &mut R,
    ) -> HintAdapter {
        HintAdapter {
            layer: Box::new(Conv2d::with_init(
                student_channels,
                teacher_channels,
                (1, 1),
                Init::XavierUniform,
                rng,
            )),
        }
    }

    /// For feature vectors `[N, F_s] → [N, F_t]`: a dense layer.
    pub fn dense<R: Rng + ?Sized>(
        student_features: usize,
        teacher_features: usize,
        rng: &mut R,
    ) -> HintAdapter {
        HintAdapter {
            layer: Box::new(Dense::with_init(
                student_features,
                teacher_features,
                true,
                Init::XavierUniform,
                rng,
            )),
        }
    }

    /// Any module as the adapter (a small MLP, say). Glorot initialisation is used by the two
    /// constructors above: the adapter is linear, with no ReLU after it.
    pub fn from_layer(layer: Box<dyn Module>) -> HintAdapter {
        HintAdapter { layer }
    }

    /// `mean (r(s) − h)²` for the student's features `s` (in the graph) and the teacher's `h`.
    pub fn loss(&mut self, student_features: &Var, teacher_features: &Tensor) -> Var {
        let mapped = self.layer.forward(student_features);
        if mapped.shape() != teacher_features.shape() {
            panic!(
                "HintAdapter ({}): the student's features {:?} map to {:?}, but the teacher's are {:?}",
                self.layer.describe(),
                student_features.shape(),
                mapped.shape(),
                teacher_features.shape()
            );
        }
        nn::losses::mse(
            &mapped,
            &Var::constant(teacher_features.clone()),
            Reduction::Mean,
        )
    }

    /// The adapter's parameters, named `adapter.…`, to be optimised with the student's.
    pub fn parameters(&self) -> Vec<Named> {
        nn::module::prefixed("adapter", self.layer.parameters())
    }

    pub fn describe(&self) -> String {
        self.layer.describe()
    }
}
