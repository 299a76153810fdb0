//! Random expression DAGs: proptest builds graphs from the ops, reusing earlier values in several
//! places, and `gradcheck`s the whole. Single-op checks cannot catch a gradient that is right per
//! op but wrongly *combined* (overwritten instead of added, or lost at a node used twice); these can.
//!
//! Each case draws a shape `S = [N, C, H, W]` and a convolution geometry, then a list of steps
//! from the table [`Op::ALL`]: elementwise ops, broadcasting, matmul, linear, conv1d/conv2d, max
//! and average pooling, softmax / log_softmax, max over an axis, the fused losses, reshape,
//! permute, slice, concat and gather_rows. Every step reads values of shape `S` from the pool and
//! either adds a new one of shape `S` (an op that changes the shape is followed by a move back to
//! `S`: a permutation or reshape undone, or a slice of another value concatenated to fill what a
//! pooling window took away) or leaves a value of another shape (a pooled map, a loss) for the
//! output only. The output is
//! every value flattened and concatenated, so each is used at least twice.
//!
//! Kinks are kept away by construction, not by luck: a max (pooling, `max_axis`) only ever sees
//! `ladder + 0.05·tanh(x)`, where the ladder's values are 0.2 apart, so no perturbation can change
//! which element wins; relu, abs and leaky_relu only ever see `offset + 0.05·tanh(x)` with
//! `|offset| ≥ 0.1`, which never reaches 0. Values stay bounded (tanh after the products), so
//! finite differences stay accurate along chains.

use autograd::{gradcheck, Conv1dParams, Conv2dParams, Reduction, Var};
use distillery_tests::{away_from_zero, distinct, distributions, uniform};
use proptest::prelude::*;
use tensor::Tensor;

/// Graphs per run; raise (or set `PROPTEST_CASES`) for a deep run.
const CASES: u32 = 512;

/// The ops of the table. Each reads the values `a` (and `b`) from the pool; `extra` picks an axis,
/// a temperature or a variant.
#[derive(Debug, Clone, Copy)]
enum Op {
    Add,
    Sub,
    MulTanh,
    Tanh,
    Sigmoid,
    Exp,
    /// `a / (1 + b²)`: a divisor away from 0.
    Div,
    Softmax,
    LogSoftmax,
    /// `a + Σ_axis b` (or the mean), broadcast back over the reduced axis.
    BroadcastReduction,
    /// `tanh(a)·tanh(b)ᵀ·tanh(a)`, batched over `[N, C]`.
    Matmul,
    /// `tanh(a·Wᵀ + b)` over the rows of `a` viewed as `[N·C·H, W]`.
    Linear,
    Conv2d,
    /// Over `a` viewed as `[N, C, H·W]`.
    Conv1d,
    /// Windows `(1, 2)` with stride 1, the lost column filled from `b`.
    MaxPool2dBack,
    /// Windows `(2, 2)`, a pooled map for the output only.
    MaxPool2dSide,
    /// Windows `(2, 1)` with stride 1, the lost row filled from `b`.
    AvgPool2dBack,
    /// 1-D pooling over `a` viewed as `[N, C, H·W]` (max or average by `extra`), for the output.
    Pool1dSide,
    /// relu, abs or leaky_relu (by `extra`), away from 0.
    Kinked,
    /// `b + max_axis(a)`, broadcast back.
    MaxAxis,
    /// log_softmax over another axis: permuted last, then back.
    PermuteLogSoftmax,
    /// `a` up to index `k` along an axis, `b` after it.
    SliceConcat,
    /// The samples of `a` in another order, some twice.
    GatherRows,
    /// softmax over `H·W` at once: reshaped to `[N·C, H·W]` and back.
    ReshapeSoftmax,
    /// cross_entropy, cross_entropy_soft, kl_div or bce_with_logits (by `extra`) of `a` viewed as
    /// logits `[N·C·H, W]`, a scalar for the output.
    Loss,
}

impl Op {
    const ALL: [Op; 25] = [
        Op::Add,
        Op::Sub,
        Op::MulTanh,
        Op::Tanh,
        Op::Sigmoid,
        Op::Exp,
        Op::Div,
        Op::Softmax,
        Op::LogSoftmax,
        Op::BroadcastReduction,
        Op::Matmul,
        Op::Linear,
        Op::Conv2d,
        Op::Conv1d,
        Op::MaxPool2dBack,
        Op::MaxPool2dSide,
        Op::AvgPool2dBack,
        Op::Pool1dSide,
        Op::Kinked,
        Op::MaxAxis,
        Op::PermuteLogSoftmax,
        Op::SliceConcat,
        Op::GatherRows,
        Op::ReshapeSoftmax,
        Op::Loss,
    ];
}

/// One node of a random graph: an op and the indices (into the values so far) of its operands.
#[derive(Debug, Clone)]
struct Step {
    op: Op,
    lhs: usize,
    rhs: usize,
    extra: usize,
}

/// The shape of the pool and the convolutions' geometry.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    shape: [usize; 4],
    /// conv2d's kernel (odd sizes, so that "same" padding exists) and dilation.
    kernel2: (usize, usize),
    dilation2: usize,
    /// conv1d's kernel (odd) and dilation.
    kernel1: usize,
    dilation1: usize,
}

impl Geometry {
    /// The graph's inputs, all checked: three values of shape `S`, then the parameters of conv2d
    /// (weight, bias), conv1d (weight) and linear (weight, bias).
    fn inputs(&self, seed: u64) -> Vec<Tensor> {
        let [_, c, _, w] = self.shape;
        let (kh, kw) = self.kernel2;
        vec![
            uniform(&self.shape, -1.0, 1.0, seed),
            uniform(&self.shape, -1.0, 1.0, seed ^ 1),
            uniform(&self.shape, -1.0, 1.0, seed ^ 2),
            uniform(&[c, c, kh, kw], -1.0, 1.0, seed ^ 3),
            uniform(&[c], -1.0, 1.0, seed ^ 4),
            uniform(&[c, c, self.kernel1], -1.0, 1.0, seed ^ 5),
            uniform(&[w, w], -1.0, 1.0, seed ^ 6),
            uniform(&[w], -1.0, 1.0, seed ^ 7),
        ]
    }
}

/// The constants a graph reads: ladders and offsets that keep kinks away, loss targets.
struct Constants {
    /// Distinct values 0.2 apart (twice `distinct`'s spacing), for the maxima.
    ladder: Tensor,
    /// `|offset| ≥ 0.1`, for relu, abs and leaky_relu.
    offset: Tensor,
    /// For the losses over `[N·C·H, W]`: labels, distributions and binary targets.
    labels: Vec<usize>,
    distributions: Tensor,
    binary: Tensor,
    /// Rows for gather_rows (repeats allowed).
    rows: Vec<usize>,
}

impl Constants {
    fn new(g: &Geometry, seed: u64) -> Constants {
        let [n, c, h, w] = g.shape;
        let rows = n * c * h;
        let s = (seed % 1009) as usize;
        Constants {
            ladder: distinct(&g.shape, seed ^ 8).mul_scalar(2.0),
            offset: away_from_zero(&g.shape, seed ^ 9),
            labels: (0..rows).map(|i| (i * 7 + s) % w).collect(),
            distributions: distributions(rows, w, seed ^ 10),
            binary: uniform(&[rows, w], 0.0, 1.0, seed ^ 11),
            rows: (0..n).map(|i| (s / (i + 1)) % n).collect(),
        }
    }
}

/// What a step leaves: a value of shape `S` for the pool, or one for the output only.
enum Produced {
    Pooled(Var),
    Side(Var),
}

/// `x` made safe for a max: `ladder + 0.05·tanh(x)` (see the module doc).
fn laddered(x: &Var, k: &Constants) -> Var {
    Var::constant(k.ladder.clone()).add(&x.tanh().mul_scalar(0.05))
}

/// The graph's parameters, in the order of [`Geometry::inputs`].
struct Params<'a> {
    conv2d: (&'a Var, &'a Var),
    conv1d: &'a Var,
    linear: (&'a Var, &'a Var),
}

fn apply(step: &Step, pool: &[Var], g: &Geometry, p: &Params, k: &Constants) -> Produced {
    use Produced::{Pooled, Side};
    let a = &pool[step.lhs % pool.len()];
    let b = &pool[step.rhs % pool.len()];
    let e = step.extra;
    let [n, c, h, w] = g.shape;
    let temperature = [0.5, 1.0, 2.0, 20.0][e % 4];
    match step.op {
        Op::Add => Pooled(a.add(b)),
        Op::Sub => Pooled(a.sub(b)),
        Op::MulTanh => Pooled(a.mul(b).tanh()),
        Op::Tanh => Pooled(a.tanh()),
        Op::Sigmoid => Pooled(a.sigmoid()),
        Op::Exp => Pooled(a.mul_scalar(0.5).exp().mul_scalar(0.5)),
        Op::Div => Pooled(a.div(&b.mul(b).add_scalar(1.0))),
        Op::Softmax => Pooled(a.softmax(temperature)),
        Op::LogSoftmax => Pooled(a.log_softmax(temperature).mul_scalar(0.3)),
        Op::BroadcastReduction => {
            let axis = e % 4;
            // Axis 0 dropped altogether broadcasts too (a leading axis); the others are kept.
            let keepdim = axis != 0 || e % 8 < 4;
            let reduced = if e.is_multiple_of(3) {
                b.sum_axis(axis, keepdim)
            } else {
                b.mean_axis(axis, keepdim)
            };
            Pooled(a.add(&reduced).mul_scalar(0.5))
        }
        Op::Matmul => {
            // [N, C, H, W]·[N, C, W, H]·[N, C, H, W], transposes as flags.
            let (ta, tb) = (a.tanh(), b.tanh());
            let gram = ta.matmul_t(false, &tb, true).mul_scalar(1.0 / w as f32);
            Pooled(gram.matmul(&ta).mul_scalar(0.5))
        }
        Op::Linear => {
            let y = a
                .reshape(&[n * c * h, w])
                .linear(p.linear.0, Some(p.linear.1));
            Pooled(y.mul_scalar(0.5).tanh().reshape(&g.shape))
        }
        Op::Conv2d => {
            let d = g.dilation2;
            let params = Conv2dParams {
                stride: (1, 1),
                padding: (d * (g.kernel2.0 - 1) / 2, d * (g.kernel2.1 - 1) / 2),
                dilation: (d, d),
            };
            let y = a.conv2d(p.conv2d.0, Some(p.conv2d.1), params);
            Pooled(y.mul_scalar(0.3).tanh())
        }
        Op::Conv1d => {
            let d = g.dilation1;
            let params = Conv1dParams {
                stride: 1,
                padding: d * (g.kernel1 - 1) / 2,
                dilation: d,
            };
            let y = a.reshape(&[n, c, h * w]).conv1d(p.conv1d, None, params);
            Pooled(y.mul_scalar(0.3).tanh().reshape(&g.shape))
        }
        Op::MaxPool2dBack => {
            // The ladder's own pooling is subtracted: what is left is 0.05·tanh(a) at each
            // window's winner, scaled back up.
            let max = |x: &Var| x.max_pool2d((1, 2), (1, 1));
            let ladder = Var::constant(k.ladder.clone());
            let pooled = max(&laddered(a, k)).sub(&max(&ladder)).mul_scalar(10.0);
            Pooled(Var::concat(&[&pooled, &b.slice(3, w - 1, w)], 3))
        }
        Op::MaxPool2dSide => {
            let max = |x: &Var| x.max_pool2d((2, 2), (1, 1 + e % 2));
            let ladder = Var::constant(k.ladder.clone());
            Side(max(&laddered(a, k)).sub(&max(&ladder)).mul_scalar(10.0))
        }
        Op::AvgPool2dBack => {
            let pooled = a.avg_pool2d((2, 1), (1, 1));
            Pooled(Var::concat(&[&b.slice(2, 0, 1), &pooled], 2))
        }
        Op::Pool1dSide => {
            let signal = |x: &Var| x.reshape(&[n, c, h * w]);
            let (kernel, stride) = (2, 1 + e % 2);
            if e % 4 < 2 {
                let ladder = Var::constant(k.ladder.clone());
                let pooled = signal(&laddered(a, k)).max_pool1d(kernel, stride);
                Side(pooled.sub(&signal(&ladder).max_pool1d(kernel, stride)))
            } else {
                Side(signal(a).avg_pool1d(kernel, stride))
            }
        }
        Op::Kinked => {
            let x = Var::constant(k.offset.clone()).add(&a.tanh().mul_scalar(0.05));
            Pooled(match e % 3 {
                0 => x.relu(),
                1 => x.abs(),
                _ => x.leaky_relu(0.1),
            })
        }
        Op::MaxAxis => {
            let axis = e % 4;
            let ladder = Var::constant(k.ladder.clone());
            let top = laddered(a, k)
                .max_axis(axis, true)
                .sub(&ladder.max_axis(axis, true));
            Pooled(b.add(&top.mul_scalar(10.0)))
        }
        Op::PermuteLogSoftmax => {
            // Axis `e % 3` moved last, log_softmax there, and moved back.
            let mut order = vec![0, 1, 2, 3];
            let moved = order.remove(e % 3);
            order.push(moved);
            let mut inverse = [0; 4];
            for (i, &o) in order.iter().enumerate() {
                inverse[o] = i;
            }
            let y = a.permute(&order).log_softmax(1.0).permute(&inverse);
            Pooled(y.mul_scalar(0.3))
        }
        Op::SliceConcat => {
            // An axis of size ≥ 2 (H and W always are).
            let axis = [0, 1, 2, 3]
                .into_iter()
                .cycle()
                .skip(e % 4)
                .find(|&ax| g.shape[ax] >= 2)
                .expect("H ≥ 2");
            let size = g.shape[axis];
            let cut = 1 + e % (size - 1);
            let parts = [&a.slice(axis, 0, cut), &b.slice(axis, cut, size)];
            Pooled(Var::concat(&parts, axis))
        }
        Op::GatherRows => Pooled(a.gather_rows(&k.rows)),
        Op::ReshapeSoftmax => Pooled(
            a.reshape(&[n * c, h * w])
                .softmax(temperature)
                .reshape(&g.shape),
        ),
        Op::Loss => {
            let logits = a.reshape(&[n * c * h, w]).mul_scalar(2.0);
            let reduction = if e.is_multiple_of(2) {
                Reduction::Mean
            } else {
                Reduction::Sum
            };
            let loss = match (e / 2) % 4 {
                0 => logits.cross_entropy(&k.labels, reduction),
                1 => logits.cross_entropy_soft(&k.distributions, reduction),
                2 => logits.kl_div(&k.distributions, temperature, reduction),
                _ => logits.bce_with_logits(&k.binary, reduction),
            };
            Side(loss)
        }
    }
}

/// The whole graph on `x` (the inputs of [`Geometry::inputs`]): every value flattened, joined.
fn graph(x: &[Var], steps: &[Step], g: &Geometry, k: &Constants) -> Var {
    let params = Params {
        conv2d: (&x[3], &x[4]),
        conv1d: &x[5],
        linear: (&x[6], &x[7]),
    };
    let mut pool: Vec<Var> = x[..3].to_vec();
    let mut side = Vec::new();
    for step in steps {
        match apply(step, &pool, g, &params, k) {
            Produced::Pooled(v) => pool.push(v),
            Produced::Side(v) => side.push(v),
        }
    }
    let flat: Vec<Var> = pool
        .iter()
        .chain(&side)
        .map(|v| v.reshape(&[v.value().numel()]))
        .collect();
    Var::concat(&flat.iter().collect::<Vec<_>>(), 0)
}

fn geometry() -> impl Strategy<Value = Geometry> {
    (
        (1usize..3, 1usize..3, 2usize..4, 2usize..5),
        (
            prop::sample::select(vec![1usize, 3]),
            prop::sample::select(vec![1usize, 3]),
        ),
        1usize..3,
        prop::sample::select(vec![1usize, 3]),
        1usize..3,
    )
        .prop_map(
            |((n, c, h, w), kernel2, dilation2, kernel1, dilation1)| Geometry {
                shape: [n, c, h, w],
                kernel2,
                dilation2,
                kernel1,
                dilation1,
            },
        )
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        (
            prop::sample::select(Op::ALL.to_vec()),
            any::<usize>(),
            any::<usize>(),
            any::<usize>(),
        )
            .prop_map(|(op, lhs, rhs, extra)| Step {
                op,
                lhs,
                rhs,
                extra,
            }),
        1..12,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(CASES)
    ))]

    #[test]
    fn random_graphs_with_shared_values(g in geometry(), steps in steps(), seed in any::<u64>()) {
        let constants = Constants::new(&g, seed);
        let result = gradcheck("random graph", &g.inputs(seed), |x| {
            graph(x, &steps, &g, &constants)
        });
        prop_assert!(result.is_ok(), "{}\n{:?}\nsteps: {:?}", result.unwrap_err(), g, steps);
    }
}

/// Every op of the table, once each, in one graph on the largest shape the generator draws: the
/// random cases reach each op only by chance.
#[test]
fn a_graph_with_every_op() {
    let g = Geometry {
        shape: [2, 2, 3, 4],
        kernel2: (3, 3),
        dilation2: 1,
        kernel1: 3,
        dilation1: 2,
    };
    let steps: Vec<Step> = Op::ALL
        .iter()
        .enumerate()
        .map(|(i, &op)| Step {
            op,
            lhs: 3 * i + 1,
            rhs: 5 * i + 2,
            extra: i,
        })
        .collect();
    let constants = Constants::new(&g, 17);
    gradcheck("every op", &g.inputs(17), |x| {
        graph(x, &steps, &g, &constants)
    })
    .unwrap_or_else(|e| panic!("{e}\nsteps: {steps:?}"));
}
