//! `gradcheck` for every differentiable op in `autograd`, on generated shapes and values.
//!
//! Each property draws a shape (size-1 axes and odd sizes included) and a seed for the values, from
//! generators that keep inputs away from kinks and out of forbidden domains (see
//! `distillery_tests`), and checks the op's backward against finite differences.

use autograd::{Conv1dParams, Conv2dParams, Reduction, Var};
use distillery_tests::{away_from_zero, check, distinct, distributions, uniform};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;

/// Cases per property. 256 runs the whole file in about a second in release mode; for a deep run,
/// raise it (or set `PROPTEST_CASES=1000` in the environment, which overrides this).
const CASES: u32 = 256;

fn config() -> ProptestConfig {
    distillery_tests::proptest_config(CASES)
}

/// Shapes of rank 1 to 3 with sizes 1 to 4.
fn shape() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..5, 1..4)
}

/// A shape and another that broadcasts against it: some axes set to 1, some leading axes dropped.
fn broadcast_pair() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    (shape(), any::<u32>(), any::<bool>()).prop_map(|(a, mask, swap)| {
        let drop = (mask as usize) % a.len();
        let b: Vec<usize> = a
            .iter()
            .enumerate()
            .skip(drop)
            .map(|(i, &s)| if mask >> (i + 4) & 1 == 1 { 1 } else { s })
            .collect();
        if swap {
            (b, a)
        } else {
            (a, b)
        }
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn binary_ops_with_broadcasting((sa, sb) in broadcast_pair(), seed in any::<u64>()) {
        let a = uniform(&sa, -2.0, 2.0, seed);
        let b = uniform(&sb, -2.0, 2.0, seed ^ 1);
        // Divisors in [0.5, 2] (either sign would do; positive keeps 1/b² moderate).
        let divisor = uniform(&sb, 0.5, 2.0, seed ^ 2);
        check("add", &[a.clone(), b.clone()], |v| v[0].add(&v[1]))?;
        check("sub", &[a.clone(), b.clone()], |v| v[0].sub(&v[1]))?;
        check("mul", &[a.clone(), b.clone()], |v| v[0].mul(&v[1]))?;
        check("div", &[a.clone(), divisor], |v| v[0].div(&v[1]))?;
        check("neg, add_scalar, mul_scalar", &[a], |v| v[0].neg().add_scalar(0.5).mul_scalar(-1.5))?;
    }

    #[test]
    fn unary_ops(s in shape(), seed in any::<u64>()) {
        let x = uniform(&s, -2.0, 2.0, seed);
        let kinked = away_from_zero(&s, seed);
        let positive = uniform(&s, 0.5, 2.0, seed);
        check("exp", std::slice::from_ref(&x), |v| v[0].exp())?;
        check("sigmoid", std::slice::from_ref(&x), |v| v[0].sigmoid())?;
        check("tanh", &[x], |v| v[0].tanh())?;
        check("ln", std::slice::from_ref(&positive), |v| v[0].ln())?;
        check("sqrt", std::slice::from_ref(&positive), |v| v[0].sqrt())?;
        check("powf", &[positive], |v| v[0].powf(2.5))?;
        check("abs", std::slice::from_ref(&kinked), |v| v[0].abs())?;
        check("relu", std::slice::from_ref(&kinked), |v| v[0].relu())?;
        check("leaky_relu", &[kinked], |v| v[0].leaky_relu(0.1))?;
    }

    #[test]
    fn reductions(s in shape(), seed in any::<u64>(), pick in any::<usize>(), keepdim in any::<bool>()) {
        let axis = pick % s.len();
        let x = uniform(&s, -2.0, 2.0, seed);
        check("sum_all", std::slice::from_ref(&x), |v| v[0].sum_all())?;
        check("mean_all", std::slice::from_ref(&x), |v| v[0].mean_all())?;
        check("sum_axis", std::slice::from_ref(&x), |v| v[0].sum_axis(axis, keepdim))?;
        check("mean_axis", &[x], |v| v[0].mean_axis(axis, keepdim))?;
        check("max_axis", &[distinct(&s, seed)], |v| v[0].max_axis(axis, keepdim))?;
    }

    #[test]
    fn matmul_with_transposes_and_batches(
        m in 1usize..5, k in 1usize..5, n in 1usize..5, batch in 1usize..3,
        ta in any::<bool>(), tb in any::<bool>(), shared_rhs in any::<bool>(), seed in any::<u64>(),
    ) {
        let a_mat = if ta { [k, m] } else { [m, k] };
        let b_mat = if tb { [n, k] } else { [k, n] };
        let a = uniform(&[batch, a_mat[0], a_mat[1]], -1.0, 1.0, seed);
        let b = if shared_rhs {
            uniform(&b_mat, -1.0, 1.0, seed ^ 1)
        } else {
            uniform(&[batch, b_mat[0], b_mat[1]], -1.0, 1.0, seed ^ 1)
        };
        check("matmul", &[a, b], |v| v[0].matmul_t(ta, &v[1], tb))?;
        // The left operand broadcast over a batch of right operands, and a size-1 batch axis.
        let rhs_batch = uniform(&[batch, b_mat[0], b_mat[1]], -1.0, 1.0, seed ^ 4);
        let lhs = uniform(&a_mat, -1.0, 1.0, seed ^ 5);
        check("matmul (shared lhs)", &[lhs, rhs_batch.clone()], |v| v[0].matmul_t(ta, &v[1], tb))?;
        let one = uniform(&[1, a_mat[0], a_mat[1]], -1.0, 1.0, seed ^ 6);
        check("matmul (size-1 batch)", &[one, rhs_batch], |v| v[0].matmul_t(ta, &v[1], tb))?;
        let a2 = uniform(&a_mat, -1.0, 1.0, seed ^ 2);
        let b2 = uniform(&b_mat, -1.0, 1.0, seed ^ 3);
        check("matmul (2-D)", &[a2, b2], |v| v[0].matmul_t(ta, &v[1], tb))?;
    }

    #[test]
    fn shape_ops(s in shape(), seed in any::<u64>(), pick in any::<(usize, usize, usize)>()) {
        let x = uniform(&s, -2.0, 2.0, seed);
        let axis = pick.0 % s.len();
        let n = s[axis];
        let start = pick.1 % n;
        let end = start + 1 + pick.2 % (n - start);
        let total: usize = s.iter().product();
        check("reshape", std::slice::from_ref(&x), |v| v[0].reshape(&[total]))?;
        let mut order: Vec<usize> = (0..s.len()).collect();
        order.rotate_left(pick.1 % s.len());
        check("permute", std::slice::from_ref(&x), |v| v[0].permute(&order))?;
        check("slice", std::slice::from_ref(&x), |v| v[0].slice(axis, start, end))?;
        let other = uniform(&s, -2.0, 2.0, seed ^ 4);
        check("concat", &[x.clone(), other], |v| Var::concat(&[&v[0], &v[1]], axis))?;
        let rows: Vec<usize> = (0..5).map(|i| (pick.0 + i * pick.2) % s[0]).collect();
        check("gather_rows", &[x], |v| v[0].gather_rows(&rows))?;
    }

    #[test]
    fn softmax_and_log_softmax(rows in 1usize..4, classes in 1usize..7, depth in 1usize..3, seed in any::<u64>(),
                               temperature in prop::sample::select(vec![0.5f32, 1.0, 2.0, 4.0])) {
        // 3-D as well as 2-D logits: the op works on the last axis whatever comes before. Logits
        // within ±1.5 (differences up to 6 at T = 0.5): where a softmax saturates, its gradient
        // falls below what its f32 outputs resolve — an output near 1 is an exp, a sum and a
        // division, a few roundings, which gradcheck's allowance of one rounding per output
        // (autograd/src/gradcheck.rs) does not cover (logits in ±3 at T = 0.5 once gave a gradient
        // of 4e-5 whose numeric value was 2 % off, the correct backward failing; the case is kept
        // in autograd_ops.proptest-regressions).
        let z = uniform(&[depth, rows, classes], -1.5, 1.5, seed);
        check("softmax", std::slice::from_ref(&z), |v| v[0].softmax(temperature))?;
        check("log_softmax", &[z], |v| v[0].log_softmax(temperature))?;
    }

    #[test]
    fn conv2d(n in 1usize..3, c in 1usize..3, o in 1usize..3, h in 3usize..7, w in 3usize..7,
              kh in 1usize..4, kw in 1usize..4, stride in 1usize..3, padding in 0usize..2,
              dilation in 1usize..3, with_bias in any::<bool>(), flip in any::<bool>(), seed in any::<u64>()) {
        // Keep the (dilated) kernel inside the padded image (checked for the larger setting on both axes).
        prop_assume!((kh - 1) * dilation < h && (kw - 1) * dilation < w);
        // Height and width get different settings (stride/dilation swap roles with `flip`), so a
        // backward that mixed up the two axes would show.
        let p = if flip {
            Conv2dParams { stride: (1, stride), padding: (0, padding), dilation: (1, dilation) }
        } else {
            Conv2dParams { stride: (stride, 1), padding: (padding, 0), dilation: (dilation, 1) }
        };
        let mut inputs = vec![
            uniform(&[n, c, h, w], -1.0, 1.0, seed),
            uniform(&[o, c, kh, kw], -1.0, 1.0, seed ^ 1),
        ];
        if with_bias {
            inputs.push(uniform(&[o], -1.0, 1.0, seed ^ 2));
        }
        check("conv2d", &inputs, |v| v[0].conv2d(&v[1], v.get(2), p))?;
    }

    #[test]
    fn conv1d(n in 1usize..3, c in 1usize..3, o in 1usize..3, l in 3usize..10, k in 1usize..4,
              stride in 1usize..3, padding in 0usize..2, dilation in 1usize..3, seed in any::<u64>()) {
        prop_assume!((k - 1) * dilation < l + 2 * padding);
        let p = Conv1dParams { stride, padding, dilation };
        let inputs = [
            uniform(&[n, c, l], -1.0, 1.0, seed),
            uniform(&[o, c, k], -1.0, 1.0, seed ^ 1),
            uniform(&[o], -1.0, 1.0, seed ^ 2),
        ];
        check("conv1d", &inputs, |v| v[0].conv1d(&v[1], Some(&v[2]), p))?;
    }

    #[test]
    fn pooling(n in 1usize..3, c in 1usize..3, h in 2usize..7, w in 2usize..7,
               k in 1usize..3, stride in 1usize..3, seed in any::<u64>()) {
        prop_assume!(k <= h && k <= w);
        let x = distinct(&[n, c, h, w], seed);
        // Non-square windows and strides: (k, k + 1) and (stride, 1) when the width allows.
        let kw = if k < w { k + 1 } else { k };
        check("max_pool2d", std::slice::from_ref(&x), |v| v[0].max_pool2d((k, kw), (stride, 1)))?;
        check("avg_pool2d", std::slice::from_ref(&x), |v| v[0].avg_pool2d((k, kw), (stride, 1)))?;
        let signal = x.reshape(&[n, c, h * w]);
        check("max_pool1d", std::slice::from_ref(&signal), |v| v[0].max_pool1d(k + 1, stride))?;
        check("avg_pool1d", &[signal], |v| v[0].avg_pool1d(k + 1, stride))?;
    }

    #[test]
    fn upsampling(n in 1usize..3, c in 1usize..3, h in 1usize..5, w in 1usize..5,
                  factor in 1usize..4, seed in any::<u64>()) {
        let x = uniform(&[n, c, h, w], -2.0, 2.0, seed);
        check("upsample_nearest2d", &[x], |v| v[0].upsample_nearest2d(factor))?;
    }

    #[test]
    fn dropout(s in shape(), seed in any::<u64>(), p in prop::sample::select(vec![0.0f32, 0.3, 0.5])) {
        let x = uniform(&s, -2.0, 2.0, seed);
        // The same seed inside f: every evaluation of the check draws the same mask.
        check("dropout", &[x], |v| v[0].dropout(p, &mut StdRng::seed_from_u64(seed)))?;
    }

    #[test]
    fn losses(rows in 1usize..5, classes in 2usize..6, seed in any::<u64>(), sum in any::<bool>(),
              temperature in prop::sample::select(vec![1.0f32, 2.0, 4.0, 20.0])) {
        let reduction = if sum { Reduction::Sum } else { Reduction::Mean };
        let z = uniform(&[rows, classes], -3.0, 3.0, seed);
        let labels: Vec<usize> = (0..rows).map(|i| (seed as usize / 7 + i) % classes).collect();
        let q = distributions(rows, classes, seed ^ 1);
        let t = uniform(&[rows, classes], 0.0, 1.0, seed ^ 2);
        check("cross_entropy", std::slice::from_ref(&z), |v| v[0].cross_entropy(&labels, reduction))?;
        check("cross_entropy_soft", std::slice::from_ref(&z), |v| v[0].cross_entropy_soft(&q, reduction))?;
        check("bce_with_logits", std::slice::from_ref(&z), |v| v[0].bce_with_logits(&t, reduction))?;
        check("kl_div", &[z], |v| v[0].kl_div(&q, temperature, reduction))?;
    }
}
