//! Nearest-neighbour upsampling by an integer factor `f`, straight from its definition: what
//! [`upsample`](crate::upsample) computes plane by plane with row copies.

use crate::Tensor;

/// `y[n, c, i, j] = x[n, c, ⌊i/f⌋, ⌊j/f⌋]` for `i < H·f`, `j < W·f`: one output element at a
/// time, in the row-major order of `[N, C, H·f, W·f]`.
pub fn upsample_nearest2d(x: &Tensor, factor: usize) -> Vec<f32> {
    let &[n, c, h, w] = x.shape() else {
        panic!(
            "reference: upsample needs [N, C, H, W], found {:?}",
            x.shape()
        );
    };
    let mut y = Vec::with_capacity(n * c * h * factor * w * factor);
    for ni in 0..n {
        for ci in 0..c {
            for i in 0..h * factor {
                for j in 0..w * factor {
                    y.push(x.data()[((ni * c + ci) * h + i / factor) * w + j / factor]);
                }
            }
        }
    }
    y
}

/// `∂L/∂x[n, c, h, w] = Σ_{a<f} Σ_{b<f} g[n, c, h·f + a, w·f + b]`, in f64, in the row-major
/// order of `[N, C, H, W]` (`g` is `[N, C, H·f, W·f]`).
pub fn upsample_nearest2d_backward(g: &Tensor, factor: usize) -> Vec<f64> {
    let &[n, c, oh, ow] = g.shape() else {
        panic!(
            "reference: upsample's gradient needs [N, C, H, W], found {:?}",
            g.shape()
        );
    };
    let (h, w) = (oh / factor, ow / factor);
    let mut dx = Vec::with_capacity(n * c * h * w);
    for ni in 0..n {
        for ci in 0..c {
            for hi in 0..h {
                for wi in 0..w {
                    let mut sum = 0.0;
                    for a in 0..factor {
                        for b in 0..factor {
                            let (i, j) = (hi * factor + a, wi * factor + b);
                            sum += f64::from(g.data()[((ni * c + ci) * oh + i) * ow + j]);
                        }
                    }
                    dx.push(sum);
                }
            }
        }
    }
    dx
}
