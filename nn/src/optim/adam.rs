//! Adam (Kingma & Ba, 2015) with L2 weight decay, and AdamW (Loshchilov & Hutter, 2019) with
//! decoupled weight decay.
//!
//! PyTorch's `torch.optim.Adam` / `AdamW` (no amsgrad), for each element of each parameter θ with
//! gradient `∂L/∂θ`, learning rate `lr`, decay rates `β1, β2`, `ε` and weight decay `wd`, at the
//! parameter's `t`-th update (t = 1, 2, …):
//! ```text
//! Adam:   g ← ∂L/∂θ + wd·θ          (L2: the decay goes through the moments)
//! AdamW:  g ← ∂L/∂θ
//!         θ ← θ − lr·wd·θ           (decoupled: a plain shrink, before the Adam step)
//! both:   m ← β1·m + (1 − β1)·g      (running mean of g,  m = 0 before the first step)
//!         v ← β2·v + (1 − β2)·g²     (running mean of g², v = 0 before the first step)
//!         m̂ = m / (1 − β1^t)         (bias correction: m and v start at 0, so early on they
//!         v̂ = v / (1 − β2^t)          are too small by exactly these factors)
//!         θ ← θ − lr·m̂ / (√v̂ + ε)
//! ```
//! Why AdamW: with Adam's L2 term, `wd·θ` is divided by `√v̂` like the rest of the gradient, so
//! elements with large gradients are barely decayed; decoupling makes every weight shrink by the
//! same factor `1 − lr·wd` per step, which is what "weight decay" was meant to be.
//!
//! As in PyTorch, the step count `t` is per parameter, the scalar factors `1 − β^t` are computed
//! once per parameter and step (in f64, like PyTorch's Python floats, then rounded to f32), and
//! the per-element arithmetic is f32 in PyTorch's order: `θ −= (lr/(1−β1^t)) · m / (√v/√(1−β2^t) + ε)`.

use autograd::Var;

use super::{check_grad_len, check_lr, check_unit_interval, check_weight_decay, Optimizer};

/// One parameter's Adam state: both moments and how many updates the parameter has had.
struct Moments {
    m: Vec<f32>,
    v: Vec<f32>,
    t: i32,
}

/// What Adam and AdamW share: everything but where the weight decay goes.
struct AdamCore {
    name: &'static str,
    params: Vec<Var>,
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    weight_decay: f32,
    /// `true` for AdamW (θ shrinks by `lr·wd·θ`), `false` for Adam (`wd·θ` joins the gradient).
    decoupled: bool,
    /// One state per parameter (same index), made at its first step.
    state: Vec<Option<Moments>>,
}

impl AdamCore {
    #[track_caller]
    fn new(name: &'static str, params: Vec<Var>, lr: f32, wd: f32, decoupled: bool) -> AdamCore {
        check_lr(name, lr);
        let state = params.iter().map(|_| None).collect();
        AdamCore {
            name,
            params,
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: wd,
            decoupled,
            state,
        }
    }

    #[track_caller]
    fn set_betas(&mut self, beta1: f32, beta2: f32) {
        check_unit_interval(self.name, "beta1", beta1);
        check_unit_interval(self.name, "beta2", beta2);
        self.beta1 = beta1;
        self.beta2 = beta2;
    }

    #[track_caller]
    fn set_eps(&mut self, eps: f32) {
        // ε keeps the division finite where v̂ is 0 (an element whose gradient has always been 0).
        assert!(
            eps.is_finite() && eps > 0.0,
            "{}: eps must be finite and > 0, got {eps}",
            self.name
        );
        self.eps = eps;
    }

    #[track_caller]
    fn set_weight_decay(&mut self, weight_decay: f32) {
        check_weight_decay(self.name, weight_decay);
        self.weight_decay = weight_decay;
    }

    fn step(&mut self) {
        let (lr, beta1, beta2, eps, wd) =
            (self.lr, self.beta1, self.beta2, self.eps, self.weight_decay);
        // Adam adds wd·θ to the gradient; AdamW multiplies θ by (1 − lr·wd) first. One of the
        // two is a no-op (0 and 1), so one loop serves both.
        let (l2, shrink) = if self.decoupled {
            (0.0, 1.0 - lr * wd)
        } else {
            (wd, 1.0)
        };
        for (index, (param, state)) in self.params.iter().zip(&mut self.state).enumerate() {
            let Some(grad) = param.grad() else {
                continue;
            };
            let mut value = param.value_mut();
            let (theta, grad) = (value.data_mut(), grad.data());
            let n = theta.len();
            check_grad_len(self.name, index, n, grad.len());
            // The only allocation a step makes, once per parameter, at its first step.
            let Moments { m, v, t } = state.get_or_insert_with(|| Moments {
                m: vec![0.0; n],
                v: vec![0.0; n],
                t: 0,
            });
            *t += 1;
            let bias1 = 1.0 - f64::from(beta1).powi(*t);
            let bias2 = 1.0 - f64::from(beta2).powi(*t);
            let update = Update {
                beta1,
                beta2,
                eps,
                l2,
                shrink,
                step_size: (f64::from(lr) / bias1) as f32,
                bias2_sqrt: bias2.sqrt() as f32,
            };
            update.apply_in_parallel(theta, grad, m, v);
        }
    }

    fn zero_grad(&mut self) {
        for param in &self.params {
            param.zero_grad();
        }
    }

    #[track_caller]
    fn set_lr(&mut self, lr: f32) {
        check_lr(self.name, lr);
        self.lr = lr;
    }
}

/// One step's numbers for every element of a parameter: the rule of [`AdamCore::step`].
#[derive(Clone, Copy)]
struct Update {
    beta1: f32,
    beta2: f32,
    eps: f32,
    /// Adam's L2 term (wd, or 0 for AdamW).
    l2: f32,
    /// AdamW's shrink factor (1 − lr·wd, or 1 for Adam).
    shrink: f32,
    /// lr / (1 − β1^t).
    step_size: f32,
    /// √(1 − β2^t).
    bias2_sqrt: f32,
}

impl Update {
    /// Updates `theta` and the moments `m`, `v` from `grad`. A memory-bound pass over four arrays
    /// of the parameter's size, so a large parameter is cut into chunks that rayon spreads over
    /// the threads (as SGD's rule is); every element gets the same expression either way, so the
    /// result does not depend on the thread count.
    fn apply_in_parallel(self, theta: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32]) {
        use rayon::prelude::*;
        let n = theta.len();
        if n < 2 * tensor::parallel::MIN_CHUNK {
            return self.apply(theta, grad, m, v);
        }
        let chunk = tensor::parallel::chunk_len(n);
        theta
            .par_chunks_mut(chunk)
            .zip(grad.par_chunks(chunk))
            .zip(m.par_chunks_mut(chunk))
            .zip(v.par_chunks_mut(chunk))
            .for_each(|(((t, g), m), v)| self.apply(t, g, m, v));
    }

    fn apply(self, theta: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32]) {
        let Update {
            beta1,
            beta2,
            eps,
            l2,
            shrink,
            step_size,
            bias2_sqrt,
        } = self;
        for (((theta, &g), m), v) in theta.iter_mut().zip(grad).zip(m.iter_mut()).zip(v) {
            let g = g + l2 * *theta;
            *theta *= shrink;
            *m = beta1 * *m + (1.0 - beta1) * g;
            *v = beta2 * *v + (1.0 - beta2) * g * g;
            // √v̂ = √v / √(1 − β2^t): one square root per element, the correction per step.
            let denom = v.sqrt() / bias2_sqrt + eps;
            *theta -= step_size * *m / denom;
        }
    }
}

/// Adam with L2 weight decay (`wd·θ` added to the gradient); PyTorch's defaults: betas
/// (0.9, 0.999), eps 1e-8, weight decay 0. See the module documentation for the update.
///
/// ```
/// use autograd::Var;
/// use nn::optim::{Adam, Optimizer};
/// use tensor::Tensor;
///
/// let w = Var::parameter(Tensor::from_vec(vec![1.0], &[1]).unwrap());
/// let mut opt = Adam::new(vec![w.clone()], 1e-3).betas(0.9, 0.999).eps(1e-8).weight_decay(0.0);
/// w.accumulate_grad(Tensor::from_vec(vec![0.5], &[1]).unwrap());
/// opt.step();
/// // The first step of Adam moves each element by about lr, whatever the gradient's size.
/// assert!((w.value().item() - (1.0 - 1e-3)).abs() < 1e-6);
/// ```
pub struct Adam(AdamCore);

/// Adam with decoupled weight decay (θ ← θ − lr·wd·θ before each Adam step); PyTorch's defaults:
/// betas (0.9, 0.999), eps 1e-8, weight decay 0.01. See the module documentation for the update.
pub struct AdamW(AdamCore);

/// The builder methods and the `Optimizer` impl, identical for both.
macro_rules! adam_api {
    ($ty:ident) => {
        impl $ty {
            /// Decay rates of the running mean of g and of g², each in `[0, 1)`.
            #[track_caller]
            pub fn betas(mut self, beta1: f32, beta2: f32) -> $ty {
                self.0.set_betas(beta1, beta2);
                self
            }

            /// `ε` > 0, added to `√v̂` in the denominator.
            #[track_caller]
            pub fn eps(mut self, eps: f32) -> $ty {
                self.0.set_eps(eps);
                self
            }

            /// Weight decay `wd` ≥ 0 (see the type's documentation for where it goes).
            #[track_caller]
            pub fn weight_decay(mut self, weight_decay: f32) -> $ty {
                self.0.set_weight_decay(weight_decay);
                self
            }
        }

        impl Optimizer for $ty {
            fn step(&mut self) {
                self.0.step();
            }

            fn zero_grad(&mut self) {
                self.0.zero_grad();
            }

            fn lr(&self) -> f32 {
                self.0.lr
            }

            #[track_caller]
            fn set_lr(&mut self, lr: f32) {
                self.0.set_lr(lr);
            }

            fn params(&self) -> &[Var] {
                &self.0.params
            }
        }
    };
}

adam_api!(Adam);
adam_api!(AdamW);

impl Adam {
    /// Adam on `params` with learning rate `lr` (finite, ≥ 0) and PyTorch's other defaults.
    #[track_caller]
    pub fn new(params: Vec<Var>, lr: f32) -> Adam {
        Adam(AdamCore::new("Adam", params, lr, 0.0, false))
    }
}

impl AdamW {
    /// AdamW on `params` with learning rate `lr` (finite, ≥ 0) and PyTorch's other defaults
    /// (weight decay 0.01).
    #[track_caller]
    pub fn new(params: Vec<Var>, lr: f32) -> AdamW {
        AdamW(AdamCore::new("AdamW", params, lr, 0.01, true))
    }
}
