//! Pooling: max and average, 1-D and 2-D, forward and backward.
//!
//! Layouts: images `[N, C, H, W]` → `[N, C, OH, OW]`; signals `[N, C, L]` → `[N, C, OL]`. A window of
//! `KH × KW` cells steps `(sh, sw)` cells at a time, so `OH = ⌊(H − KH)/sh⌋ + 1` (likewise OW, OL).
//!
//! - **No padding**: every window lies wholly on the input, so a max is always over real values
//!   and an average always divides by `KH·KW`. Windows that would hang off the end are dropped (the
//!   floor above), as in PyTorch with `ceil_mode=False`.
//! - Each `N·C` plane is pooled on its own, so planes are the unit of parallel work: they are
//!   spread over rayon threads when the whole job reads at least `2·MIN_CHUNK` cells.
//! - The 1-D forms are the 2-D ones with `H = KH = 1`, on the same buffers (`[N, C, L]` is laid out
//!   like `[N, C, 1, L]`).
//!
//! Files: `max` (max pools, with the argmax the backward needs), `max_pairs` (max pooling's fast
//! path for windows two cells wide stepping two) and `avg` (average pools).

mod avg;
mod max;
mod max_pairs;

pub use avg::{avg_pool1d, avg_pool1d_backward, avg_pool2d, avg_pool2d_backward};
pub use max::{
    max_pool1d, max_pool1d_argmax32, max_pool1d_backward, max_pool1d_backward32, max_pool1d_values,
    max_pool2d, max_pool2d_argmax32, max_pool2d_argmax32_with, max_pool2d_backward,
    max_pool2d_backward32, max_pool2d_values, max_pool2d_values_with, max_pool2d_with,
};

use std::mem::MaybeUninit;

use rayon::prelude::*;

use crate::error::{fail, TensorError};
use crate::parallel::MIN_CHUNK;

/// The sizes of one pooling op, checked. 1-D pools have `h = kh = sh = 1`.
#[derive(Debug, Clone)]
struct PoolGeometry {
    /// `N·C`, the number of planes.
    planes: usize,
    h: usize,
    w: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    oh: usize,
    ow: usize,
    /// `[N, C, OH, OW]` or `[N, C, OL]`: the output shape in the caller's rank.
    out_shape: Vec<usize>,
}

impl PoolGeometry {
    /// From an input shape `[N, C, H, W]`.
    #[track_caller]
    fn new_2d(
        op: &'static str,
        input: &[usize],
        kernel: (usize, usize),
        stride: (usize, usize),
    ) -> Self {
        let &[n, c, h, w] = input else {
            fail(TensorError::InvalidArgument {
                op,
                message: format!("expected input [N, C, H, W] of rank 4, found shape {input:?}"),
            })
        };
        check_axis(op, "height", h, kernel.0, stride.0);
        check_axis(op, "width", w, kernel.1, stride.1);
        let (oh, ow) = ((h - kernel.0) / stride.0 + 1, (w - kernel.1) / stride.1 + 1);
        PoolGeometry {
            planes: n * c,
            h,
            w,
            kh: kernel.0,
            kw: kernel.1,
            sh: stride.0,
            sw: stride.1,
            oh,
            ow,
            out_shape: vec![n, c, oh, ow],
        }
    }

    /// From an input shape `[N, C, L]`, as a 2-D pool of height 1.
    #[track_caller]
    fn new_1d(op: &'static str, input: &[usize], kernel: usize, stride: usize) -> Self {
        let &[n, c, l] = input else {
            fail(TensorError::InvalidArgument {
                op,
                message: format!("expected input [N, C, L] of rank 3, found shape {input:?}"),
            })
        };
        check_axis(op, "length", l, kernel, stride);
        let mut g = PoolGeometry::new_2d(op, &[n, c, 1, l], (1, kernel), (1, stride));
        g.out_shape = vec![n, c, g.ow];
        g
    }

    fn in_plane(&self) -> usize {
        self.h * self.w
    }

    fn out_plane(&self) -> usize {
        self.oh * self.ow
    }

    /// Cells read by the whole op: each output reads a window of `KH·KW`.
    fn work(&self) -> usize {
        self.planes * self.out_plane() * self.kh * self.kw
    }

    /// Panics unless `grad_out` has the shape the forward's output had.
    #[track_caller]
    fn check_grad_out(&self, op: &'static str, grad_out: &[usize]) {
        if grad_out != self.out_shape {
            fail(TensorError::ShapeMismatch {
                op,
                lhs: grad_out.to_vec(),
                rhs: self.out_shape.clone(),
            });
        }
    }
}

/// Panics unless kernel and stride are positive and the window fits on the input along this axis.
#[track_caller]
fn check_axis(op: &'static str, axis: &str, n: usize, k: usize, s: usize) {
    let message = if k == 0 {
        format!("kernel {axis} must be at least 1")
    } else if s == 0 {
        format!("stride along {axis} must be at least 1")
    } else if k > n {
        format!("kernel {k} is larger than the input {axis} {n} (pools do not pad)")
    } else {
        return;
    };
    fail(TensorError::InvalidArgument { op, message });
}

/// Calls `f(p, chunk_p)` on each plane-sized chunk of `out`, spread over threads when `work` (cells
/// read) is at least `2·MIN_CHUNK`, the same threshold as the elementwise kernels.
fn for_each_plane<T, F>(out: &mut [T], plane: usize, work: usize, f: F)
where
    T: Send,
    F: Fn(usize, &mut [T]) + Sync,
{
    if out.is_empty() || plane == 0 {
        return;
    }
    if work >= 2 * MIN_CHUNK {
        out.par_chunks_mut(plane)
            .enumerate()
            .for_each(|(p, chunk)| f(p, chunk));
    } else {
        for (p, chunk) in out.chunks_mut(plane).enumerate() {
            f(p, chunk);
        }
    }
}

/// A max forward's values and argmax: two new buffers cut into `planes` planes each, every plane
/// set to its `init` right before `f(p, values_p, argmax_p)` fills it in, spread over threads like
/// [`for_each_plane`] — the two-buffer form of [`crate::parallel::new_with_chunks`] (see there why
/// a buffer is initialised piece by piece by the thread that fills it, not all at once).
fn new_plane_pairs<A, B, F>(
    planes: usize,
    (plane_a, init_a): (usize, A),
    (plane_b, init_b): (usize, B),
    work: usize,
    f: F,
) -> (Vec<A>, Vec<B>)
where
    A: Copy + Send + Sync,
    B: Copy + Send + Sync,
    F: Fn(usize, &mut [A], &mut [B]) + Sync,
{
    let (len_a, len_b) = (planes * plane_a, planes * plane_b);
    let (mut a, mut b): (Vec<A>, Vec<B>) = (Vec::with_capacity(len_a), Vec::with_capacity(len_b));
    if planes > 0 && plane_a > 0 && plane_b > 0 {
        let chunks = |x: &mut [MaybeUninit<A>], y: &mut [MaybeUninit<B>], p: usize| {
            f(
                p,
                crate::parallel::init_chunk(x, init_a),
                crate::parallel::init_chunk(y, init_b),
            );
        };
        let (sa, sb) = (
            &mut a.spare_capacity_mut()[..len_a],
            &mut b.spare_capacity_mut()[..len_b],
        );
        if work >= 2 * MIN_CHUNK {
            sa.par_chunks_mut(plane_a)
                .zip(sb.par_chunks_mut(plane_b))
                .enumerate()
                .for_each(|(p, (x, y))| chunks(x, y, p));
        } else {
            for (p, (x, y)) in sa
                .chunks_mut(plane_a)
                .zip(sb.chunks_mut(plane_b))
                .enumerate()
            {
                chunks(x, y, p);
            }
        }
        // SAFETY: both loops visit all `planes` chunks of each buffer, which tile `..len_a` and
        // `..len_b` exactly, and `chunks` initialised each one.
        unsafe {
            a.set_len(len_a);
            b.set_len(len_b);
        }
    } else {
        // Some buffer is empty: nothing to compute, and the other is filled plainly.
        a.resize(len_a, init_a);
        b.resize(len_b, init_b);
    }
    (a, b)
}

/// Flat indices into `X` as the forward stores them: `usize` for the original API, `u32` (half the
/// memory and bandwidth) for the autograd op and `max_pool2d_argmax32` (max.rs).
pub(super) trait ArgIndex: Copy + Send + Sync {
    fn from_flat(i: usize) -> Self;
    fn flat(self) -> usize;
    /// The slice as `u32`s if that is what it holds: the vector fast path writes only those.
    /// That path is x86's (AVX2), so elsewhere nothing calls this.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    fn as_u32(slice: &mut [Self]) -> Option<&mut [u32]>;
}

impl ArgIndex for usize {
    fn from_flat(i: usize) -> Self {
        i
    }
    fn flat(self) -> usize {
        self
    }
    fn as_u32(_: &mut [Self]) -> Option<&mut [u32]> {
        None
    }
}

impl ArgIndex for u32 {
    fn from_flat(i: usize) -> Self {
        // Checked once per call by `forward` (the input has at most u32::MAX + 1 cells).
        i as u32
    }
    fn flat(self) -> usize {
        self as usize
    }
    fn as_u32(slice: &mut [Self]) -> Option<&mut [u32]> {
        Some(slice)
    }
}
