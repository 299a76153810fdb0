//! Convolution layers, `Conv2d` and `Conv1d`: a bank of `O` learned filters slid over the input.
//!
//! Shapes: `Conv2d` maps `x [N, C, H, W]` to `y [N, O, OH, OW]` with weight `W [O, C, KH, KW]` and
//! bias `b [O]`; `Conv1d` maps `[N, C, L]` to `[N, O, OL]` with `W [O, C, K]`. Output sizes:
//! `OH = ⌊(H + 2·padding − dilation·(KH − 1) − 1) / stride⌋ + 1` (likewise for W and L).
//! The op and its derivative (im2col, one matrix product per image) are in
//! `autograd/src/ops/conv.rs`; a layer only holds the weights and the geometry.

use autograd::{Conv1dParams, Conv2dParams, Var};
use rand::Rng;
use tensor::Tensor;

use crate::init::Init;
use crate::module::{Module, Named};

fn weight_and_bias(weight: Tensor, out_channels: usize) -> (Var, Option<Var>) {
    (
        Var::parameter(weight),
        Some(Var::parameter(Tensor::zeros(&[out_channels]))),
    )
}

fn named(weight: &Var, bias: &Option<Var>) -> Vec<Named> {
    let mut params = vec![("weight".to_string(), weight.clone())];
    if let Some(b) = bias {
        params.push(("bias".to_string(), b.clone()));
    }
    params
}

/// A 2-D convolution layer.
pub struct Conv2d {
    pub weight: Var,
    pub bias: Option<Var>,
    pub params: Conv2dParams,
    in_channels: usize,
    out_channels: usize,
    kernel: (usize, usize),
}

impl Conv2d {
    /// `in_channels → out_channels` with a `kernel` (height, width), stride 1, no padding, a bias,
    /// Kaiming-uniform weights. Change the geometry with [`stride`](Conv2d::stride),
    /// [`padding`](Conv2d::padding), [`dilation`](Conv2d::dilation), [`no_bias`](Conv2d::no_bias).
    pub fn new<R: Rng + ?Sized>(
        in_channels: usize,
        out_channels: usize,
        kernel: (usize, usize),
        rng: &mut R,
    ) -> Conv2d {
        Conv2d::with_init(in_channels, out_channels, kernel, Init::KaimingUniform, rng)
    }

    pub fn with_init<R: Rng + ?Sized>(
        in_channels: usize,
        out_channels: usize,
        kernel: (usize, usize),
        init: Init,
        rng: &mut R,
    ) -> Conv2d {
        let area = kernel.0 * kernel.1;
        let w = init.sample(
            &[out_channels, in_channels, kernel.0, kernel.1],
            in_channels * area,
            out_channels * area,
            rng,
        );
        let (weight, bias) = weight_and_bias(w, out_channels);
        Conv2d {
            weight,
            bias,
            params: Conv2dParams::default(),
            in_channels,
            out_channels,
            kernel,
        }
    }

    pub fn stride(mut self, stride: (usize, usize)) -> Conv2d {
        self.params.stride = stride;
        self
    }

    pub fn padding(mut self, padding: (usize, usize)) -> Conv2d {
        self.params.padding = padding;
        self
    }

    pub fn dilation(mut self, dilation: (usize, usize)) -> Conv2d {
        self.params.dilation = dilation;
        self
    }

    pub fn no_bias(mut self) -> Conv2d {
        self.bias = None;
        self
    }
}

impl Module for Conv2d {
    fn forward(&mut self, x: &Var) -> Var {
        let shape = x.shape();
        if shape.len() != 4 || shape[1] != self.in_channels {
            panic!(
                "{}: input must be [N, {}, H, W], found {shape:?}",
                self.describe(),
                self.in_channels
            );
        }
        x.conv2d(&self.weight, self.bias.as_ref(), self.params)
    }

    fn parameters(&self) -> Vec<Named> {
        named(&self.weight, &self.bias)
    }

    fn describe(&self) -> String {
        let p = self.params;
        format!(
            "Conv2d({}→{}, {}×{}, stride {:?}, padding {:?}, dilation {:?}{})",
            self.in_channels,
            self.out_channels,
            self.kernel.0,
            self.kernel.1,
            p.stride,
            p.padding,
            p.dilation,
            if self.bias.is_some() { "" } else { ", no bias" }
        )
    }
}

/// A 1-D convolution layer.
pub struct Conv1d {
    pub weight: Var,
    pub bias: Option<Var>,
    pub params: Conv1dParams,
    in_channels: usize,
    out_channels: usize,
    kernel: usize,
}

impl Conv1d {
    /// `in_channels → out_channels` with a kernel of `kernel` taps, stride 1, no padding, a bias,
    /// Kaiming-uniform weights.
    pub fn new<R: Rng + ?Sized>(
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        rng: &mut R,
    ) -> Conv1d {
        Conv1d::with_init(in_channels, out_channels, kernel, Init::KaimingUniform, rng)
    }

    pub fn with_init<R: Rng + ?Sized>(
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        init: Init,
        rng: &mut R,
    ) -> Conv1d {
        let w = init.sample(
            &[out_channels, in_channels, kernel],
            in_channels * kernel,
            out_channels * kernel,
            rng,
        );
        let (weight, bias) = weight_and_bias(w, out_channels);
        Conv1d {
            weight,
            bias,
            params: Conv1dParams::default(),
            in_channels,
            out_channels,
            kernel,
        }
    }

    pub fn stride(mut self, stride: usize) -> Conv1d {
        self.params.stride = stride;
        self
    }

    pub fn padding(mut self, padding: usize) -> Conv1d {
        self.params.padding = padding;
        self
    }

    pub fn dilation(mut self, dilation: usize) -> Conv1d {
        self.params.dilation = dilation;
        self
    }

    pub fn no_bias(mut self) -> Conv1d {
        self.bias = None;
        self
    }
}

impl Module for Conv1d {
    fn forward(&mut self, x: &Var) -> Var {
        let shape = x.shape();
        if shape.len() != 3 || shape[1] != self.in_channels {
            panic!(
                "{}: input must be [N, {}, L], found {shape:?}",
                self.describe(),
                self.in_channels
            );
        }
        x.conv1d(&self.weight, self.bias.as_ref(), self.params)
    }

    fn parameters(&self) -> Vec<Named> {
        named(&self.weight, &self.bias)
    }

    fn describe(&self) -> String {
        let p = self.params;
        format!(
            "Conv1d({}→{}, k{}, stride {}, padding {}, dilation {}{})",
            self.in_channels,
            self.out_channels,
            self.kernel,
            p.stride,
            p.padding,
            p.dilation,
            if self.bias.is_some() { "" } else { ", no bias" }
        )
    }
}
