//! Nearest-neighbour upsampling against its plain reference (`tensor::reference::upsample`), on
//! small and on large (threaded) tensors.

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::reference::upsample as reference;
use tensor::upsample::{upsample_nearest2d, upsample_nearest2d_backward};
use tensor::Tensor;

fn random(shape: &[usize], seed: u64) -> Tensor {
    Tensor::uniform(shape, -1.0, 1.0, &mut StdRng::seed_from_u64(seed))
}

proptest! {
    #[test]
    fn forward_and_backward_agree_with_the_reference(
        n in 1usize..3, c in 1usize..4, h in 1usize..6, w in 1usize..6, factor in 1usize..4,
        seed in any::<u64>(),
    ) {
        let x = random(&[n, c, h, w], seed);
        let y = upsample_nearest2d(&x, factor);
        prop_assert_eq!(y.shape(), &[n, c, h * factor, w * factor][..]);
        prop_assert_eq!(y.data(), &reference::upsample_nearest2d(&x, factor)[..]);
        let g = random(&[n, c, h * factor, w * factor], seed ^ 1);
        let dx = upsample_nearest2d_backward(&g, factor);
        prop_assert_eq!(dx.shape(), x.shape());
        for (a, b) in dx.data().iter().zip(reference::upsample_nearest2d_backward(&g, factor)) {
            // At most f² terms of size ≤ 1, each sum rounded in f32.
            prop_assert!((f64::from(*a) - b).abs() <= 1e-5, "{} vs {}", a, b);
        }
    }
}

/// Large enough to be split across threads: the same result as the reference.
#[test]
fn a_large_tensor_split_across_threads_agrees_too() {
    let x = random(&[4, 16, 32, 32], 7);
    let y = upsample_nearest2d(&x, 2);
    assert_eq!(y.data(), &reference::upsample_nearest2d(&x, 2)[..]);
    let dx = upsample_nearest2d_backward(&y, 2);
    // Each block holds four copies of its pixel: the gradient of ones·y is 4·x, exactly.
    assert_eq!(dx.data(), x.mul_scalar(4.0).data());
}

#[test]
#[should_panic(expected = "multiples of the factor 2, found 5 × 4")]
fn a_gradient_of_the_wrong_size_is_refused() {
    upsample_nearest2d_backward(&Tensor::zeros(&[1, 1, 5, 4]), 2);
}
