//! Stochastic gradient descent, with optional momentum, Nesterov momentum and weight decay.
//!
//! PyTorch's `torch.optim.SGD` (dampening 0), for each element of each parameter θ with gradient
//! `∂L/∂θ`, learning rate `lr`, momentum `μ` and weight decay `wd`:
//! ```text
//! g ← ∂L/∂θ + wd·θ                 (L2 weight decay, folded into the gradient)
//! plain (μ = 0):  θ ← θ − lr·g
//! momentum:       v ← μ·v + g      (v = g on the parameter's first step)
//!                 θ ← θ − lr·v
//! Nesterov:       v ← μ·v + g
//!                 θ ← θ − lr·(g + μ·v)
//! ```
//! Note the convention: the velocity sums *gradients* and `lr` multiplies it when applied (not
//! `v ← μ·v + lr·g` as in Sutskever et al.), so changing `lr` mid-training changes the step at
//! once rather than fading in. Nesterov here is PyTorch's reformulation: the step looks ahead by
//! one more momentum term, `g + μ·v`, instead of evaluating the gradient at a shifted θ.
//!
//! The velocity is created as zeros at a parameter's first step; `μ·0 + g` is exactly `g` in
//! floating point, so this *is* PyTorch's "first step v = g".

use autograd::Var;

use super::{check_grad_len, check_lr, check_unit_interval, check_weight_decay, Optimizer};

/// SGD with optional (Nesterov) momentum and L2 weight decay. See the module documentation for
/// the update.
///
/// ```
/// use autograd::Var;
/// use nn::optim::{Optimizer, Sgd};
/// use tensor::Tensor;
///
/// let w = Var::parameter(Tensor::from_vec(vec![1.0], &[1]).unwrap());
/// let mut opt = Sgd::new(vec![w.clone()], 0.1).momentum(0.9).nesterov(true).weight_decay(5e-4);
/// w.accumulate_grad(Tensor::from_vec(vec![0.5], &[1]).unwrap());
/// opt.step();
/// assert!(w.value().item() < 1.0);
/// ```
pub struct Sgd {
    params: Vec<Var>,
    lr: f32,
    momentum: f32,
    nesterov: bool,
    weight_decay: f32,
    /// One velocity buffer per parameter (same index), made at its first step; empty while
    /// `momentum` is 0, where no velocity exists.
    velocity: Vec<Option<Vec<f32>>>,
}

impl Sgd {
    /// Plain SGD on `params` with learning rate `lr` (finite, ≥ 0); no momentum, no weight decay.
    #[track_caller]
    pub fn new(params: Vec<Var>, lr: f32) -> Sgd {
        check_lr("Sgd", lr);
        let velocity = params.iter().map(|_| None).collect();
        Sgd {
            params,
            lr,
            momentum: 0.0,
            nesterov: false,
            weight_decay: 0.0,
            velocity,
        }
    }

    /// Momentum `μ` in `[0, 1)` (0 turns momentum off).
    #[track_caller]
    pub fn momentum(mut self, momentum: f32) -> Sgd {
        check_unit_interval("Sgd", "momentum", momentum);
        self.momentum = momentum;
        self.check_nesterov();
        self
    }

    /// Nesterov momentum; needs a momentum > 0 (set it before this call). PyTorch refuses the
    /// same combination: without momentum there is nothing to look ahead with.
    #[track_caller]
    pub fn nesterov(mut self, nesterov: bool) -> Sgd {
        self.nesterov = nesterov;
        self.check_nesterov();
        self
    }

    /// L2 weight decay `wd` ≥ 0, added to the gradient as `wd·θ`.
    #[track_caller]
    pub fn weight_decay(mut self, weight_decay: f32) -> Sgd {
        check_weight_decay("Sgd", weight_decay);
        self.weight_decay = weight_decay;
        self
    }

    #[track_caller]
    fn check_nesterov(&self) {
        assert!(
            !self.nesterov || self.momentum > 0.0,
            "Sgd: nesterov needs a momentum > 0 (call .momentum(μ) before .nesterov(true)), \
             got momentum {}",
            self.momentum
        );
    }
}

impl Optimizer for Sgd {
    fn step(&mut self) {
        let rule = Rule {
            lr: self.lr,
            mu: self.momentum,
            wd: self.weight_decay,
            nesterov: self.nesterov,
        };
        for (index, (param, velocity)) in self.params.iter().zip(&mut self.velocity).enumerate() {
            let Some(grad) = param.grad() else {
                continue;
            };
            let mut value = param.value_mut();
            let (theta, grad) = (value.data_mut(), grad.data());
            let n = theta.len();
            check_grad_len("Sgd", index, n, grad.len());
            // The only allocation a step makes, once per parameter, at its first step.
            let v = match rule.mu {
                0.0 => &mut [][..],
                _ => velocity.get_or_insert_with(|| vec![0.0; n]).as_mut_slice(),
            };
            rule.apply_in_parallel(theta, grad, v);
        }
    }

    fn zero_grad(&mut self) {
        for param in &self.params {
            param.zero_grad();
        }
    }

    fn lr(&self) -> f32 {
        self.lr
    }

    #[track_caller]
    fn set_lr(&mut self, lr: f32) {
        check_lr("Sgd", lr);
        self.lr = lr;
    }

    fn params(&self) -> &[Var] {
        &self.params
    }
}

/// The update of the module doc, element by element.
#[derive(Clone, Copy)]
struct Rule {
    lr: f32,
    mu: f32,
    wd: f32,
    nesterov: bool,
}

impl Rule {
    /// Updates `theta` (and the velocity `v`, empty when `mu` is 0) from `grad`. The update is a
    /// memory-bound pass over three or four arrays of the parameter's size (1.3 M floats for the
    /// benchmark MLP: 20 MB read and written per step), so a large parameter is cut into chunks
    /// that rayon spreads over the threads; every element gets the same expression either way,
    /// so the result does not depend on the thread count.
    fn apply_in_parallel(self, theta: &mut [f32], grad: &[f32], v: &mut [f32]) {
        use rayon::prelude::*;
        let n = theta.len();
        if n < 2 * tensor::parallel::MIN_CHUNK {
            return self.apply(theta, grad, v);
        }
        let chunk = tensor::parallel::chunk_len(n);
        if v.is_empty() {
            theta
                .par_chunks_mut(chunk)
                .zip(grad.par_chunks(chunk))
                .for_each(|(t, g)| self.apply(t, g, &mut []));
        } else {
            theta
                .par_chunks_mut(chunk)
                .zip(grad.par_chunks(chunk))
                .zip(v.par_chunks_mut(chunk))
                .for_each(|((t, g), v)| self.apply(t, g, v));
        }
    }

    fn apply(self, theta: &mut [f32], grad: &[f32], v: &mut [f32]) {
        let Rule {
            lr,
            mu,
            wd,
            nesterov,
        } = self;
        if mu == 0.0 {
            for (t, &g) in theta.iter_mut().zip(grad) {
                *t -= lr * (g + wd * *t);
            }
            return;
        }
        for ((t, &g), v) in theta.iter_mut().zip(grad).zip(v.iter_mut()) {
            let g = g + wd * *t;
            *v = mu * *v + g;
            // The branch is the same for every element: the compiler hoists it out.
            let direction = if nesterov { g + mu * *v } else { *v };
            *t -= lr * direction;
        }
    }
}
