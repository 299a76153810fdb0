//! Random expression DAGs: proptest builds graphs from the ops, reusing earlier values in several
//! places, and `gradcheck`s the whole. Single-op checks cannot catch a gradient that is right per
//! op but wrongly *combined* (overwritten instead of added, or lost at a node used twice); these can.

use autograd::{gradcheck, Var};
use distillery_tests::uniform;
use proptest::prelude::*;

/// Graphs per run; raise (or set `PROPTEST_CASES`) for a deep run.
const CASES: u32 = 256;

/// One node of a random graph: an op and the indices (into the values so far) of its operands.
#[derive(Debug, Clone)]
struct Step {
    op: u8,
    lhs: usize,
    rhs: usize,
}

/// The smooth, bounded ops the graphs are built from (bounded so that long chains stay in a range
/// where finite differences are accurate). All keep the shape `[2, 3]`, except the broadcast rows.
fn apply(step: &Step, values: &[Var]) -> Var {
    let a = &values[step.lhs % values.len()];
    let b = &values[step.rhs % values.len()];
    match step.op % 10 {
        0 => a.add(b),
        1 => a.sub(b),
        2 => a.mul(b).tanh(),
        3 => a.tanh(),
        4 => a.sigmoid(),
        5 => a.mul_scalar(0.5).exp().mul_scalar(0.5),
        6 => a.softmax(2.0),
        7 => a.add(&b.sum_axis(0, true)).mul_scalar(0.5), // broadcast a row back over the rows
        8 => a.matmul_t(false, b, true).matmul(b).mul_scalar(0.3), // [2,3]·[3,2]·[2,3]
        _ => a.mul(&b.mean_axis(1, true)),
    }
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        (any::<u8>(), any::<usize>(), any::<usize>()).prop_map(|(op, lhs, rhs)| Step {
            op,
            lhs,
            rhs,
        }),
        1..12,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(CASES)
    ))]

    #[test]
    fn random_graphs_with_shared_values(steps in steps(), seed in any::<u64>()) {
        let inputs = [
            uniform(&[2, 3], -1.0, 1.0, seed),
            uniform(&[2, 3], -1.0, 1.0, seed ^ 1),
            uniform(&[2, 3], -1.0, 1.0, seed ^ 2),
        ];
        let result = gradcheck("random graph", &inputs, |x| {
            let mut values: Vec<Var> = x.to_vec();
            for step in &steps {
                let v = apply(step, &values);
                values.push(v);
            }
            // The output sums every value, so each intermediate is used at least twice (once
            // here, and by the steps that read it).
            let mut out = values[0].clone();
            for v in &values[1..] {
                out = out.add(v);
            }
            out
        });
        prop_assert!(result.is_ok(), "{}\nsteps: {:?}", result.unwrap_err(), steps);
    }
}
