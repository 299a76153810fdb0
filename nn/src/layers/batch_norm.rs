//! `BatchNorm1d` and `BatchNorm2d`: normalise each channel over the batch, then scale and shift it.
//!
//! Shapes: `x [N, C]` or `x [N, C, L]` (1-d), `x [N, C, H, W]` (2-d); `γ`, `β`, the running mean
//! and the running variance are `[C]`; `y` has `x`'s shape. Both layers see `x` as `[N, C, S]`
//! with `S` the product of the axes after C (1, L or H·W): channel `c` of sample `n` is the
//! contiguous run `x[(n·C + c)·S ..][..S]`, so the kernels below walk memory in NCHW order as it
//! lies, with one accumulator per channel, and never permute. The statistics of channel `c` run
//! over its `m = N·S` values.
//!
//! ## Training mode (the fused op, [`batch_norm_train`])
//! ```text
//! μ   = (1/m) Σ x                     the batch mean of the channel
//! σ²  = (1/m) Σ (x − μ)²              the *biased* batch variance
//! r   = 1/√(σ² + ε)                   ("rstd")
//! x̂   = (x − μ)·r
//! y   = γ·x̂ + β
//! ```
//! Backward, with `g = ∂L/∂y` and every sum over the channel's m values (llm.c's layernorm
//! derivation, over the batch instead of the features):
//! ```text
//! ∂L/∂β = Σ g
//! ∂L/∂γ = Σ g·x̂
//! ∂L/∂x̂ = γ·g
//! ```
//! and for x, every x̂ᵢ depends on every xⱼ of the channel, through μ and through r:
//! ```text
//! ∂μ/∂xⱼ  = 1/m
//! ∂σ²/∂xⱼ = (2/m)(xⱼ − μ)             (the term through μ is −(2/m)Σ(xₖ − μ)/m = 0)
//! ∂r/∂xⱼ  = −½(σ² + ε)^(−3/2)·∂σ²/∂xⱼ = −r²·x̂ⱼ/m
//! ∂x̂ᵢ/∂xⱼ = r·(δᵢⱼ − 1/m) + (xᵢ − μ)·∂r/∂xⱼ = r·(δᵢⱼ − 1/m − x̂ᵢ·x̂ⱼ/m)
//! ∂L/∂xⱼ  = Σᵢ γ·gᵢ·∂x̂ᵢ/∂xⱼ = γ·r·(gⱼ − mean(g) − x̂ⱼ·mean(g·x̂))
//! ```
//! So the backward needs only the two per-channel sums `Σ g` and `Σ g·x̂` (which are also ∂L/∂β
//! and ∂L/∂γ) and one more pass over the data: fusing turns the dozen ops and their saved
//! intermediates of the composed form into three passes forward, two backward, and two `[C]`
//! vectors of saved state (μ and r). Note that `Σ y` does not depend on x at all (`g = 1` gives `∂L/∂x = 0`): tests must
//! weight the output randomly, as `gradcheck` does.
//!
//! The running statistics are updated as PyTorch does, the variance with the *unbiased* batch
//! variance although the batch itself is normalised with the biased one:
//! ```text
//! running_mean ← (1 − momentum)·running_mean + momentum·μ
//! running_var  ← (1 − momentum)·running_var  + momentum·m/(m − 1)·σ²
//! ```
//!
//! ## Evaluation mode
//! The running statistics replace the batch's, so the layer is a fixed affine map per channel,
//! `y = (x − running_mean)·γ/√(running_var + ε) + β`, composed from autograd ops (still
//! differentiable in x, γ and β; fusing it would save little).
//!
//! ## Threads
//! Each pass reads x once and does a handful of flops per value: memory-bound. A large batch is
//! split over the threads two ways. The sums go **by channel**: one task per channel, each
//! adding its channel's values in exactly the order a single thread would (sample 0's run, then
//! sample 1's, …), so the statistics, and every value computed from them, are the same bits on
//! any number of threads. The elementwise passes (y, and ∂L/∂x) go **by sample**: each output
//! value depends on its own input value and its channel's numbers only. A small batch stays on
//! one thread, where a split would cost more than it saves. The layer runs once per convolution
//! in a CNN, so kept serial it would hold the other cores idle for as long as it runs.
//!
//! Goals: PyTorch's semantics, names and defaults (momentum 0.1, ε = 1e-5, `weight`, `bias`,
//! `running_mean`, `running_var`), so checkpoints interchange. Non-goals: `num_batches_tracked`
//! and the cumulative average (`momentum=None`), layers without γ and β, or without running
//! statistics.

use autograd::Var;
use tensor::Tensor;

use crate::module::{Module, Named};

/// Per-channel statistics of one training batch: what the backward and the running averages need.
///
/// Kept in f64 (they are C numbers): μ rounded to f32 would shift every x̂ of a channel by the same
/// `(μ − μ_f32)·r`, up to `ulp(μ)/2·r` (2e-6·r for activations near 100), and `Σ g·x̂` would
/// multiply that shift by `Σ g`; the backward forms `x − μ` in f64 for that reason.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchStats {
    /// The batch mean μ of each channel.
    pub mean: Vec<f64>,
    /// The biased batch variance σ² (divided by m) of each channel.
    pub var: Vec<f64>,
    /// `1/√(σ² + ε)` of each channel.
    pub rstd: Vec<f64>,
    /// m: how many values each channel's statistics ran over (N·S).
    pub count: usize,
}

/// The gradients [`batch_norm_backward`] returns.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchNormGrads {
    /// `∂L/∂x` (x's shape), when asked for.
    pub input: Option<Tensor>,
    /// `∂L/∂γ = Σ g·x̂`, per channel.
    pub weight: Vec<f32>,
    /// `∂L/∂β = Σ g`, per channel.
    pub bias: Vec<f32>,
}

/// `(N, C, S)` of a batch `[N, C, …]`, S the product of the axes after C.
#[track_caller]
fn batch_layout(op: &str, shape: &[usize], channels: usize) -> (usize, usize, usize) {
    if shape.len() < 2 || shape[1] != channels {
        panic!("{op}: input must be [N, {channels}, …] for {channels} channels, found {shape:?}");
    }
    (shape[0], channels, shape[2..].iter().product())
}

/// `x − μ`, subtracted in f64 and rounded once: the exact difference of the f32 value and the
/// f64 mean (see [`BatchStats`]).
#[inline]
fn centred(x: f32, mean: f64) -> f32 {
    (x as f64 - mean) as f32
}

/// Whether a batch of `len` values is worth splitting over the threads.
fn worth_splitting(len: usize) -> bool {
    len >= 2 * tensor::parallel::MIN_CHUNK
}

/// For each channel of a batch `[N, C, S]`, `fold(acc, channel, from)` over the channel's `N` runs
/// of `S` values in sample order (`from`: where a run starts in the batch's buffer), starting from
/// `start`: the channels in parallel when the batch is large, each channel's fold in the same order
/// either way (see "Threads" above).
fn fold_channels<A, F>((n, c, s): (usize, usize, usize), start: A, fold: F) -> Vec<A>
where
    A: Copy + Send + Sync,
    F: Fn(A, usize, usize) -> A + Sync,
{
    let channel = |ch: usize| (0..n).fold(start, |acc, i| fold(acc, ch, (i * c + ch) * s));
    if worth_splitting(n * c * s) {
        use rayon::prelude::*;
        (0..c).into_par_iter().map(channel).collect()
    } else {
        (0..c).map(channel).collect()
    }
}

/// A new tensor of `shape` (`[N, C, S]` as `(n, c, s)`) whose every run of `S` values is written by
/// `fill(channel, offset, run)` (`offset`: the run's start in the buffer): by sample in parallel
/// when the batch is large.
fn map_runs<F>(shape: &[usize], (_, c, s): (usize, usize, usize), fill: F) -> Tensor
where
    F: Fn(usize, usize, &mut [f32]) + Sync,
{
    let mut out = Tensor::zeros(shape);
    let sample = c * s;
    if sample == 0 {
        return out;
    }
    let one_sample = |(i, values): (usize, &mut [f32])| {
        for (ch, run) in values.chunks_exact_mut(s).enumerate() {
            fill(ch, i * sample + ch * s, run);
        }
    };
    let data = out.data_mut();
    if worth_splitting(data.len()) {
        use rayon::prelude::*;
        data.par_chunks_mut(sample).enumerate().for_each(one_sample);
    } else {
        data.chunks_mut(sample).enumerate().for_each(one_sample);
    }
    out
}

/// The training-mode forward kernel: normalises `x [N, C, …]` with its own per-channel batch
/// statistics, then scales by `weight` (γ, `[C]`) and shifts by `bias` (β, `[C]`).
///
/// Sums are accumulated in f64. They run over m = N·S values per channel (32 768 for a batch of
/// 128 maps of 16×16), and a running f32 sum loses digits like m·2⁻²⁴ ≈ 2e-3 there; the variance is
/// computed in a second pass around that mean (never as `E[x²] − μ²`, which cancels
/// catastrophically when |μ| ≫ σ). With C accumulators the cost is nothing next to the memory
/// traffic.
#[track_caller]
pub fn batch_norm_forward(
    x: &Tensor,
    weight: &[f32],
    bias: &[f32],
    eps: f32,
) -> (Tensor, BatchStats) {
    let channels = weight.len();
    let (n, c, s) = batch_layout("batch_norm", x.shape(), channels);
    if bias.len() != c {
        panic!(
            "batch_norm: weight has {c} channels but bias has {}",
            bias.len()
        );
    }
    let m = n * s;
    if m == 0 {
        panic!(
            "batch_norm: no values to take statistics over, input shape {:?}",
            x.shape()
        );
    }
    let data = x.data();
    let layout = (n, c, s);

    // Pass 1: the mean of each channel.
    let run = |from: usize| &data[from..from + s];
    let sum = fold_channels(layout, 0f64, |acc, _, from| {
        acc + run(from).iter().map(|&v| v as f64).sum::<f64>()
    });
    let mean: Vec<f64> = sum.iter().map(|&t| t / m as f64).collect();

    // Pass 2: the biased variance, around that mean.
    let squares = fold_channels(layout, 0f64, |acc, ch, from| {
        let mu = mean[ch];
        acc + run(from)
            .iter()
            .map(|&v| (v as f64 - mu).powi(2))
            .sum::<f64>()
    });
    let var: Vec<f64> = squares.iter().map(|&q| q / m as f64).collect();
    let rstd: Vec<f64> = var.iter().map(|&v| 1.0 / (v + eps as f64).sqrt()).collect();

    // Pass 3: y = (x − μ)·(γ·r) + β. Not folded into x·a + (β − μ·a), one operation fewer: when
    // |μ| ≫ σ (activations around 100 with σ ≈ 1, say), x·a and μ·a are large and nearly equal,
    // and their difference would keep only the few digits that the subtraction keeps here.
    let scale: Vec<f32> = (0..c)
        .map(|ch| (weight[ch] as f64 * rstd[ch]) as f32)
        .collect();
    let y = map_runs(x.shape(), layout, |ch, from, out| {
        let (mu, a, b) = (mean[ch], scale[ch], bias[ch]);
        for (o, &v) in out.iter_mut().zip(run(from)) {
            *o = centred(v, mu) * a + b;
        }
    });

    let stats = BatchStats {
        mean,
        var,
        rstd,
        count: m,
    };
    (y, stats)
}

/// The training-mode backward kernel: from `grad_out` (g, x's shape), the forward's input `x`,
/// `weight` (γ) and the forward's `stats`, the gradients of x (only if `need_input`), γ and β.
/// See the module doc for the derivation. Sums in f64 for the forward's reason, and because
/// `∂L/∂x` subtracts `mean(g)` from g: when g has a large common part (every value of a channel
/// pushed the same way), the difference is small and an error in `Σ g` is an error in every
/// element.
#[track_caller]
pub fn batch_norm_backward(
    grad_out: &Tensor,
    x: &Tensor,
    weight: &[f32],
    stats: &BatchStats,
    need_input: bool,
) -> BatchNormGrads {
    let layout = batch_layout("batch_norm backward", x.shape(), weight.len());
    let s = layout.2;
    if grad_out.shape() != x.shape() {
        panic!(
            "batch_norm backward: gradient of shape {:?} for an input of shape {:?}",
            grad_out.shape(),
            x.shape()
        );
    }
    let m = stats.count as f64;
    let (g, data) = (grad_out.data(), x.data());
    // In the forward pass x̂ was (x − μ)·r; it is recomputed here rather than saved, which costs
    // a subtraction and a product per value and saves a tensor the size of x.
    let (mean, rstd) = (&stats.mean, &stats.rstd);

    // Pass 1: Σ g and Σ g·x̂ per channel, which are ∂L/∂β and ∂L/∂γ.
    let runs = |from: usize| g[from..from + s].iter().zip(&data[from..from + s]);
    let sums = fold_channels(
        layout,
        (0f64, 0f64),
        |(mut sum_g, mut sum_g_xhat), ch, from| {
            let (mu, r) = (mean[ch], rstd[ch]);
            for (&gv, &xv) in runs(from) {
                let xhat = (xv as f64 - mu) * r;
                sum_g += gv as f64;
                sum_g_xhat += gv as f64 * xhat;
            }
            (sum_g, sum_g_xhat)
        },
    );
    let (sum_g, sum_g_xhat): (Vec<f64>, Vec<f64>) = sums.into_iter().unzip();

    // Pass 2: the forward was y = γ·x̂ + β with x̂ depending on the whole channel through μ and r,
    // so ∂L/∂x = γ·r·(g − mean(g) − x̂·mean(g·x̂)).
    let input = need_input.then(|| {
        let mean_g: Vec<f32> = sum_g.iter().map(|&t| (t / m) as f32).collect();
        let mean_g_xhat: Vec<f32> = sum_g_xhat.iter().map(|&t| (t / m) as f32).collect();
        map_runs(x.shape(), layout, |ch, from, out| {
            let (mu, r) = (mean[ch], rstd[ch] as f32);
            let (mg, mgx, k) = (mean_g[ch], mean_g_xhat[ch], weight[ch] * r);
            for (o, (&gv, &xv)) in out.iter_mut().zip(runs(from)) {
                let xhat = centred(xv, mu) * r;
                *o = k * (gv - mg - xhat * mgx);
            }
        })
    });

    BatchNormGrads {
        input,
        weight: sum_g_xhat.iter().map(|&t| t as f32).collect(),
        bias: sum_g.iter().map(|&t| t as f32).collect(),
    }
}

/// Batch normalisation in training mode as one recorded op: `y = γ·(x − μ)/√(σ² + ε) + β` with the
/// batch's own statistics, which it also returns (for the running averages). `x [N, C, …]`,
/// `weight` and `bias` `[C]`.
#[track_caller]
pub fn batch_norm_train(x: &Var, weight: &Var, bias: &Var, eps: f32) -> (Var, BatchStats) {
    let (y, stats) =
        batch_norm_forward(&x.value(), weight.value().data(), bias.value().data(), eps);
    let saved = stats.clone();
    let y = Var::from_op("batch_norm", y, &[x, weight, bias], move |g, inputs| {
        let (x, weight, bias) = (&inputs[0], &inputs[1], &inputs[2]);
        let grads = batch_norm_backward(
            g,
            &x.value(),
            weight.value().data(),
            &saved,
            x.requires_grad(),
        );
        let c = grads.bias.len();
        if let Some(dx) = grads.input {
            x.accumulate_grad(dx);
        }
        weight.accumulate_grad(Tensor::from_vec(grads.weight, &[c]).expect("[C] values"));
        bias.accumulate_grad(Tensor::from_vec(grads.bias, &[c]).expect("[C] values"));
    });
    (y, stats)
}

/// Batch normalisation over `D` spatial axes: `BatchNorm<1>` is [`BatchNorm1d`], `BatchNorm<2>`
/// is [`BatchNorm2d`]. They differ only in the input shapes they accept and in their name.
pub struct BatchNorm<const D: usize> {
    /// γ, `[C]`, initialised to 1.
    pub weight: Var,
    /// β, `[C]`, initialised to 0.
    pub bias: Var,
    /// The running mean, `[C]`, initialised to 0; a constant (a buffer, not trained by gradient).
    pub running_mean: Var,
    /// The running (unbiased) variance, `[C]`, initialised to 1; a constant.
    pub running_var: Var,
    channels: usize,
    momentum: f32,
    eps: f32,
    training: bool,
}

/// Batch norm of `[N, C]` or `[N, C, L]` (after a dense layer or a 1-d convolution).
pub type BatchNorm1d = BatchNorm<1>;
/// Batch norm of `[N, C, H, W]` (after a 2-d convolution).
pub type BatchNorm2d = BatchNorm<2>;

impl BatchNorm<1> {
    /// Batch norm of `features` channels, in training mode, PyTorch's defaults.
    pub fn new(features: usize) -> BatchNorm1d {
        BatchNorm::with_channels(features)
    }
}

impl BatchNorm<2> {
    /// Batch norm of `channels` channels, in training mode, PyTorch's defaults.
    pub fn new(channels: usize) -> BatchNorm2d {
        BatchNorm::with_channels(channels)
    }
}

impl<const D: usize> BatchNorm<D> {
    fn with_channels(channels: usize) -> BatchNorm<D> {
        BatchNorm {
            weight: Var::parameter(Tensor::ones(&[channels])),
            bias: Var::parameter(Tensor::zeros(&[channels])),
            running_mean: Var::constant(Tensor::zeros(&[channels])),
            running_var: Var::constant(Tensor::ones(&[channels])),
            channels,
            momentum: 0.1,
            eps: 1e-5,
            training: true,
        }
    }

    /// Sets the weight of the newest batch in the running averages (PyTorch's `momentum`,
    /// default 0.1). Panics outside `[0, 1]`: whoever reads it from a user checks it first.
    #[track_caller]
    pub fn with_momentum(mut self, momentum: f32) -> Self {
        if !(0.0..=1.0).contains(&momentum) {
            panic!(
                "{}: momentum must be in [0, 1], found {momentum}",
                self.describe()
            );
        }
        self.momentum = momentum;
        self
    }

    /// Sets the ε added to the variance (default 1e-5). Panics unless positive and finite.
    #[track_caller]
    pub fn with_eps(mut self, eps: f32) -> Self {
        if !(eps > 0.0 && eps.is_finite()) {
            panic!(
                "{}: eps must be positive and finite, found {eps}",
                self.describe()
            );
        }
        self.eps = eps;
        self
    }

    pub fn channels(&self) -> usize {
        self.channels
    }

    pub fn momentum(&self) -> f32 {
        self.momentum
    }

    pub fn eps(&self) -> f32 {
        self.eps
    }

    pub fn is_training(&self) -> bool {
        self.training
    }

    /// Panics unless `shape` is one this layer accepts.
    #[track_caller]
    fn check_shape(&self, shape: &[usize]) {
        let c = self.channels;
        let (ranks, expected): (&[usize], String) = match D {
            1 => (&[2, 3], format!("[N, {c}] or [N, {c}, L]")),
            _ => (&[4], format!("[N, {c}, H, W]")),
        };
        if !ranks.contains(&shape.len()) || shape[1] != c {
            panic!(
                "{}: input must be {expected}, found {shape:?}",
                self.describe()
            );
        }
    }

    /// The shape `[1, C, 1, …]` of the input's rank: a `[C]` vector broadcast along channels.
    fn per_channel(&self, rank: usize) -> Vec<usize> {
        let mut shape = vec![1; rank];
        shape[1] = self.channels;
        shape
    }

    /// Folds one batch's statistics into the running averages (PyTorch's rule, see the module
    /// doc: the running variance gets the unbiased m/(m − 1)·σ², the normalisation used σ²).
    fn update_running(&self, stats: &BatchStats) {
        let keep = 1.0 - self.momentum as f64;
        let take = self.momentum as f64;
        let unbias = stats.count as f64 / (stats.count - 1) as f64;
        let mut mean = self.running_mean.value_mut();
        for (r, &mu) in mean.data_mut().iter_mut().zip(&stats.mean) {
            *r = (keep * *r as f64 + take * mu) as f32;
        }
        let mut var = self.running_var.value_mut();
        for (r, &v) in var.data_mut().iter_mut().zip(&stats.var) {
            *r = (keep * *r as f64 + take * unbias * v) as f32;
        }
    }
}

impl<const D: usize> Module for BatchNorm<D> {
    #[track_caller]
    fn forward(&mut self, x: &Var) -> Var {
        let shape = x.shape();
        self.check_shape(&shape);
        if !self.training {
            // y = (x − running_mean)·γ/√(running_var + ε) + β, a fixed affine map per channel.
            let per_channel = self.per_channel(shape.len());
            let mean = Var::constant(self.running_mean.value().clone().reshape(&per_channel));
            let std = self.running_var.value().add_scalar(self.eps).sqrt();
            let std = Var::constant(std.reshape(&per_channel));
            let gamma = self.weight.reshape(&per_channel);
            let beta = self.bias.reshape(&per_channel);
            return x.sub(&mean).mul(&gamma.div(&std)).add(&beta);
        }
        let m = shape[0] * shape[2..].iter().product::<usize>();
        if m < 2 {
            // The unbiased variance m/(m − 1)·σ² is undefined, and x̂ would be 0 anyway.
            panic!(
                "{}: training needs more than one value per channel, found input {shape:?}",
                self.describe()
            );
        }
        let (y, stats) = batch_norm_train(x, &self.weight, &self.bias, self.eps);
        self.update_running(&stats);
        y
    }

    fn parameters(&self) -> Vec<Named> {
        vec![
            ("weight".to_string(), self.weight.clone()),
            ("bias".to_string(), self.bias.clone()),
        ]
    }

    fn buffers(&self) -> Vec<Named> {
        vec![
            ("running_mean".to_string(), self.running_mean.clone()),
            ("running_var".to_string(), self.running_var.clone()),
        ]
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    fn describe(&self) -> String {
        format!("BatchNorm{D}d({})", self.channels)
    }
}
