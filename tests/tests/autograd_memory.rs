//! A training loop keeps flat memory: after each step's backward, no node of that step survives.
//!
//! (Its own test binary, so that no other test creates nodes on another thread while this one
//! counts them: the count is process-wide.)

use autograd::{live_nodes, Var};
use distillery_tests::uniform;

#[test]
fn a_thousand_steps_leave_only_the_parameters() {
    let before = live_nodes();
    let w1 = Var::parameter(uniform(&[4, 8], -0.5, 0.5, 1));
    let w2 = Var::parameter(uniform(&[8, 3], -0.5, 0.5, 2));
    let params = [&w1, &w2];
    let x = uniform(&[16, 4], -1.0, 1.0, 3);
    let labels: Vec<usize> = (0..16).map(|i| i % 3).collect();
    let mut first_loss = None;
    let mut last_loss = 0.0;
    for step in 0..1000 {
        let input = Var::constant(x.clone());
        let logits = input.matmul(&w1).tanh().matmul(&w2);
        let loss = logits.cross_entropy(&labels, autograd::Reduction::Mean);
        loss.backward();
        last_loss = loss.value().item();
        first_loss.get_or_insert(last_loss);
        // While `loss`, `logits` and `input` are still in scope, backward has already freed every
        // recipe: only these three handles and the parameters remain.
        assert_eq!(live_nodes(), before + 2 + 3, "step {step}");
        drop((input, logits, loss));
        assert_eq!(
            live_nodes(),
            before + 2,
            "step {step}: only the parameters remain"
        );
        for p in params {
            let g = p.take_grad().expect("every parameter gets a gradient");
            p.value_mut().axpy_(-0.5, &g);
        }
    }
    // And the loop was really training something.
    assert!(
        last_loss < 0.5 * first_loss.unwrap(),
        "{first_loss:?} → {last_loss}"
    );
}
