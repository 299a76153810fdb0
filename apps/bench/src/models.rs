//! The three networks of `shared/BENCHMARKS.md`, built from `nn` layers exactly as
//! `shared/peers/torch_bench.py` builds them with `torch.nn` (same layers, same order, same shapes),
//! so that the two engines do the same arithmetic. The parameter counts are checked against the
//! torch script's in the tests below.
//!
//! Layers are pushed unnamed, so parameters get PyTorch's positional names (`0.weight`, `2.bias`).

use nn::{Conv1d, Conv2d, Dense, Flatten, MaxPool1d, MaxPool2d, Relu, Sequential};
use rand::Rng;

/// `mlp_train`, `mlp_infer_*` and the `kd_step` student: 784 → 800 → 800 → 10, ReLU between.
///
/// Parameters: 784·800 + 800 + 800·800 + 800 + 800·10 + 10 = 1 276 810.
pub fn mlp<R: Rng + ?Sized>(rng: &mut R) -> Sequential {
    Sequential::new()
        .push(Dense::new(784, 800, rng))
        .push(Relu)
        .push(Dense::new(800, 800, rng))
        .push(Relu)
        .push(Dense::new(800, 10, rng))
}

/// `cnn_train` and the `kd_step` teacher, on `[N, 1, 28, 28]`:
///
/// ```text
/// conv 1→32 3×3 → ReLU      [N, 32, 26, 26]
/// conv 32→64 3×3 → ReLU     [N, 64, 24, 24]
/// maxpool 2×2               [N, 64, 12, 12]
/// flatten                   [N, 9216]
/// dense 9216→128 → ReLU     [N, 128]
/// dense 128→10              [N, 10]
/// ```
///
/// Parameters: (32·9 + 32) + (64·32·9 + 64) + (9216·128 + 128) + (128·10 + 10) = 1 199 882.
pub fn cnn<R: Rng + ?Sized>(rng: &mut R) -> Sequential {
    Sequential::new()
        .push(Conv2d::new(1, 32, (3, 3), rng))
        .push(Relu)
        .push(Conv2d::new(32, 64, (3, 3), rng))
        .push(Relu)
        .push(MaxPool2d::new((2, 2)))
        .push(Flatten)
        .push(Dense::new(64 * 12 * 12, 128, rng))
        .push(Relu)
        .push(Dense::new(128, 10, rng))
}

/// `conv1d_train`, on `[N, 1, 187]` (a heartbeat-length signal):
///
/// ```text
/// conv 1→32 k5 → ReLU → maxpool 2    [N, 32, 183] → [N, 32, 91]
/// conv 32→64 k5 → ReLU → maxpool 2   [N, 64, 87]  → [N, 64, 43]
/// flatten                            [N, 2752]
/// dense 2752→64 → ReLU               [N, 64]
/// dense 64→5                         [N, 5]
/// ```
///
/// Parameters: (32·5 + 32) + (64·32·5 + 64) + (2752·64 + 64) + (64·5 + 5) = 187 013.
pub fn conv1d_net<R: Rng + ?Sized>(rng: &mut R) -> Sequential {
    Sequential::new()
        .push(Conv1d::new(1, 32, 5, rng))
        .push(Relu)
        .push(MaxPool1d::new(2))
        .push(Conv1d::new(32, 64, 5, rng))
        .push(Relu)
        .push(MaxPool1d::new(2))
        .push(Flatten)
        .push(Dense::new(64 * 43, 64, rng))
        .push(Relu)
        .push(Dense::new(64, 5, rng))
}

#[cfg(test)]
mod tests {
    use super::*;
    use autograd::{no_grad, Var};
    use nn::Module;
    use rand::rngs::StdRng;
    use rand::SeedableRng;
    use tensor::Tensor;

    // Expected counts: `sum(p.numel() for p in model.parameters())` of torch_bench.py's mlp(),
    // cnn() and conv1d_net(), worked by hand in the doc comments above.
    #[test]
    fn parameter_counts_match_the_torch_script() {
        let mut rng = StdRng::seed_from_u64(0);
        assert_eq!(mlp(&mut rng).num_parameters(), 1_276_810);
        assert_eq!(cnn(&mut rng).num_parameters(), 1_199_882);
        assert_eq!(conv1d_net(&mut rng).num_parameters(), 187_013);
    }

    #[test]
    fn output_shapes_are_batch_by_classes() {
        let mut rng = StdRng::seed_from_u64(0);
        let cases: [(Sequential, Vec<usize>, usize); 3] = [
            (mlp(&mut rng), vec![3, 784], 10),
            (cnn(&mut rng), vec![3, 1, 28, 28], 10),
            (conv1d_net(&mut rng), vec![3, 1, 187], 5),
        ];
        for (mut model, input_shape, classes) in cases {
            let x = Var::constant(Tensor::zeros(&input_shape));
            let y = no_grad(|| model.forward(&x));
            assert_eq!(y.shape(), vec![3, classes], "{}", model.describe());
        }
    }
}
