//! Softmax and log-softmax at a temperature, against their f64 definitions in `tensor::reference`,
//! including logits of ±1e4.

use proptest::prelude::*;
use tensor::reference;
use tensor::Tensor;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn rows_match_the_reference(
        rows in 1usize..5,
        z in prop::collection::vec(-50.0f32..50.0, 1..40),
        temperature in prop::sample::select(vec![0.5f32, 1.0, 2.0, 4.0, 20.0]),
    ) {
        let n = z.len();
        let data: Vec<f32> = (0..rows).flat_map(|r| z.iter().map(move |&v| v + r as f32)).collect();
        let logits = Tensor::from_vec(data, &[rows, n]).unwrap();
        let p = logits.softmax(temperature);
        let logp = logits.log_softmax(temperature);
        let want_all = reference::log_softmax(&logits, temperature);
        for r in 0..rows {
            let want = &want_all[r * n..(r + 1) * n];
            let mut total = 0.0f64;
            for (j, &w) in want.iter().enumerate() {
                let (gp, glp) = (p.data()[r * n + j] as f64, logp.data()[r * n + j] as f64);
                // Exponents reach (50+50)/0.5 = 200 in size; f32 rounding of z/T is then ~1e-5
                // absolute in log space, and exp's relative error is a few ε.
                prop_assert!((glp - w).abs() < 1e-4 * (1.0 + w.abs()), "log_softmax {} vs {}", glp, w);
                prop_assert!((gp - w.exp()).abs() < 1e-5, "softmax {} vs {}", gp, w.exp());
                total += gp;
            }
            prop_assert!((total - 1.0).abs() < 1e-5, "row sums to {}", total);
        }
    }
}

#[test]
fn huge_logits_are_stable() {
    // ±1e4 would overflow exp without the max subtracted. By hand: at T = 1 the first row's
    // softmax is [1, 0, 0] to f32 precision (the gaps are ≥ 1e4), and log_softmax is
    // [0, −1e4, −2e4] exactly (the max's term is e⁰ = 1 and the others underflow to 0).
    let logits = Tensor::from_vec(vec![1e4, 0.0, -1e4, 1e4, 1e4, -1e4], &[2, 3]).unwrap();
    let p = logits.softmax(1.0);
    assert_eq!(p.data(), &[1.0, 0.0, 0.0, 0.5, 0.5, 0.0]);
    let logp = logits.log_softmax(1.0);
    assert_eq!(&logp.data()[..3], &[0.0, -1e4, -2e4]);
    assert!(logp.data().iter().all(|v| v.is_finite()), "{logp:?}");
    // ln 2 for the tie.
    assert!((logp.data()[3] + std::f32::consts::LN_2).abs() < 1e-6);
    // A high temperature softens but stays finite: at T = 1e4 the first row is softmax([1, 0, −1]).
    let soft = logits.softmax(1e4);
    let e = [1f64.exp(), 1.0, (-1f64).exp()];
    let total: f64 = e.iter().sum();
    for (got, want) in soft.data()[..3].iter().zip(e.iter().map(|v| v / total)) {
        assert!((*got as f64 - want).abs() < 1e-6, "{got} vs {want}");
    }
}

#[test]
fn temperature_flattens_the_distribution() {
    let logits = Tensor::from_vec(vec![3.0, 1.0, 0.2], &[3]).unwrap();
    let sharp = logits.softmax(1.0);
    let soft = logits.softmax(4.0);
    assert!(soft.data()[0] < sharp.data()[0]);
    assert!(soft.data()[2] > sharp.data()[2]);
}

#[test]
fn bad_temperatures_are_refused_with_the_value() {
    let logits = Tensor::zeros(&[2, 3]);
    for t in [0.0, -1.0, f32::NAN, f32::INFINITY] {
        let err = std::panic::catch_unwind(|| logits.softmax(t)).unwrap_err();
        let message = err.downcast_ref::<String>().unwrap().clone();
        assert!(
            message.contains("softmax") && message.contains("temperature"),
            "{message}"
        );
    }
}

#[test]
fn large_batches_give_the_same_bits_on_one_and_two_threads() {
    let logits = Tensor::arange(0.0, 100_000.0, 1.0).reshape(&[100, 1000]);
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| (logits.softmax(3.0), logits.log_softmax(3.0)))
    };
    assert_eq!(run(1), run(2));
}
