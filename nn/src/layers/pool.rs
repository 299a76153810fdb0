//! Pooling layers: summarise each window of a feature map by its maximum or its mean.
//!
//! `MaxPool2d`/`AvgPool2d` take `[N, C, H, W]`, `MaxPool1d`/`AvgPool1d` take `[N, C, L]`; the
//! window slides by `stride` (by default the window's own size, so windows do not overlap) and no
//! padding is added. `GlobalAvgPool` averages each channel over all its positions, `[N, C, …] →
//! [N, C]`, the usual bridge from convolutions to a classifier that works for any input size.
//! None has parameters; the derivatives are in `autograd/src/ops/pool.rs` and `ops/reduce.rs`.

use autograd::Var;

use crate::module::{Module, Named};

/// Max over `kernel` windows of a `[N, C, H, W]` input.
pub struct MaxPool2d {
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
}

impl MaxPool2d {
    /// Non-overlapping windows: the stride is the kernel.
    pub fn new(kernel: (usize, usize)) -> MaxPool2d {
        MaxPool2d {
            kernel,
            stride: kernel,
        }
    }
}

impl Module for MaxPool2d {
    fn forward(&mut self, x: &Var) -> Var {
        x.max_pool2d(self.kernel, self.stride)
    }
    fn parameters(&self) -> Vec<Named> {
        Vec::new()
    }
    fn describe(&self) -> String {
        format!("MaxPool2d({:?}, stride {:?})", self.kernel, self.stride)
    }
}

/// Mean over `kernel` windows of a `[N, C, H, W]` input.
pub struct AvgPool2d {
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
}

impl AvgPool2d {
    pub fn new(kernel: (usize, usize)) -> AvgPool2d {
        AvgPool2d {
            kernel,
            stride: kernel,
        }
    }
}

impl Module for AvgPool2d {
    fn forward(&mut self, x: &Var) -> Var {
        x.avg_pool2d(self.kernel, self.stride)
    }
    fn parameters(&self) -> Vec<Named> {
        Vec::new()
    }
    fn describe(&self) -> String {
        format!("AvgPool2d({:?}, stride {:?})", self.kernel, self.stride)
    }
}

/// Max over windows of `kernel` positions of a `[N, C, L]` input.
pub struct MaxPool1d {
    pub kernel: usize,
    pub stride: usize,
}

impl MaxPool1d {
    pub fn new(kernel: usize) -> MaxPool1d {
        MaxPool1d {
            kernel,
            stride: kernel,
        }
    }
}

impl Module for MaxPool1d {
    fn forward(&mut self, x: &Var) -> Var {
        x.max_pool1d(self.kernel, self.stride)
    }
    fn parameters(&self) -> Vec<Named> {
        Vec::new()
    }
    fn describe(&self) -> String {
        format!("MaxPool1d({}, stride {})", self.kernel, self.stride)
    }
}

/// Mean over windows of `kernel` positions of a `[N, C, L]` input.
pub struct AvgPool1d {
    pub kernel: usize,
    pub stride: usize,
}

impl AvgPool1d {
    pub fn new(kernel: usize) -> AvgPool1d {
        AvgPool1d {
            kernel,
            stride: kernel,
        }
    }
}

impl Module for AvgPool1d {
    fn forward(&mut self, x: &Var) -> Var {
        x.avg_pool1d(self.kernel, self.stride)
    }
    fn parameters(&self) -> Vec<Named> {
        Vec::new()
    }
    fn describe(&self) -> String {
        format!("AvgPool1d({}, stride {})", self.kernel, self.stride)
    }
}

/// The mean of each channel over all its positions: `[N, C, …] → [N, C]`.
pub struct GlobalAvgPool;

impl Module for GlobalAvgPool {
    fn forward(&mut self, x: &Var) -> Var {
        let shape = x.shape();
        if shape.len() < 3 {
            panic!("GlobalAvgPool: input must be [N, C, …positions], found {shape:?}");
        }
        let positions: usize = shape[2..].iter().product();
        x.reshape(&[shape[0], shape[1], positions])
            .mean_axis(2, false)
    }
    fn parameters(&self) -> Vec<Named> {
        Vec::new()
    }
    fn describe(&self) -> String {
        "GlobalAvgPool".to_string()
    }
}
