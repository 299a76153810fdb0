//! Model descriptions: what each item of the one-line grammar builds, and that a description reads
//! back from what it prints (checkpoints store it and rebuild the model from it).

use autograd::{no_grad, Var};
use distillery_tests::uniform;
use kd::spec::ModelSpec;
use nn::Module;

fn spec(text: &str) -> ModelSpec {
    text.parse()
        .unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
}

#[test]
fn descriptions_print_as_they_are_read() {
    for text in [
        "mlp:100,100",
        "mlp:32,bn",
        "cnn:32,64,fc=128,dropout=0.3",
        "cnn:8,16,fc=32,bn,dropout=0.25",
        "cnn1d:16,16,bn",
    ] {
        assert_eq!(spec(text).to_string(), text);
    }
    // Order of the items does not matter on the way in; the printed form is canonical.
    assert_eq!(spec("cnn:8,bn,fc=4").to_string(), "cnn:8,fc=4,bn");
}

#[test]
fn bn_puts_a_batch_norm_between_every_hidden_layer_and_its_relu() {
    let cases: [(&str, &[usize], &[&str]); 3] = [
        (
            "mlp:20,10,bn",
            &[1, 6, 6],
            &["fc1", "bn1", "relu1", "fc2", "bn2", "relu2"],
        ),
        (
            "cnn:4,8,fc=16,bn",
            &[1, 12, 12],
            &[
                "conv1",
                "bn_conv1",
                "relu_conv1",
                "pool1",
                "conv2",
                "bn_conv2",
                "relu_conv2",
            ],
        ),
        (
            "cnn1d:4,bn",
            &[2, 16],
            &["conv1", "bn_conv1", "relu_conv1", "pool1"],
        ),
    ];
    for (text, sample, order) in cases {
        let model = spec(text).build(sample, 3, 7).unwrap();
        let names = model.layer_names();
        let positions: Vec<usize> = order
            .iter()
            .map(|n| {
                names
                    .iter()
                    .position(|m| m == n)
                    .unwrap_or_else(|| panic!("{text}: no {n} in {names:?}"))
            })
            .collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "{text}: {names:?}"
        );
        // Each batch norm brings γ and β (trained) and its running statistics (buffers, saved in
        // checkpoints).
        let bn_layers = names.iter().filter(|n| n.starts_with("bn")).count();
        let params = model.parameters();
        let buffers = model.buffers();
        assert_eq!(
            params.iter().filter(|(n, _)| n.starts_with("bn")).count(),
            2 * bn_layers
        );
        assert_eq!(
            buffers.iter().filter(|(n, _)| n.starts_with("bn")).count(),
            2 * bn_layers
        );
        // Without `bn`, none.
        let plain = text.replace(",bn", "");
        let plain_model = spec(&plain).build(sample, 3, 7).unwrap();
        assert!(
            !plain_model
                .layer_names()
                .iter()
                .any(|n| n.starts_with("bn")),
            "{plain}"
        );
    }
    let fc_model = spec("cnn:4,fc=16,bn").build(&[1, 8, 8], 3, 1).unwrap();
    let names = fc_model.layer_names();
    let at = |n: &str| names.iter().position(|m| *m == n).unwrap();
    assert!(
        at("fc1") < at("bn_fc1") && at("bn_fc1") < at("relu_fc1"),
        "{names:?}"
    );
}

#[test]
fn a_batch_normalised_model_evaluates_each_sample_on_its_own() {
    // In evaluation mode batch norm uses its running statistics, so a sample's logits do not
    // depend on the other samples of the batch (in training mode they would).
    let mut model = spec("cnn:4,8,fc=16,bn").build(&[1, 12, 12], 3, 5).unwrap();
    model.set_training(false);
    let images = uniform(&[4, 1, 12, 12], 0.0, 1.0, 9);
    let mut logits =
        |x: &tensor::Tensor| no_grad(|| model.forward(&Var::constant(x.clone())).value().clone());
    let all = logits(&images);
    for i in 0..4 {
        let one = logits(&images.slice(0, i, i + 1));
        assert_eq!(one.data(), all.slice(0, i, i + 1).data(), "sample {i}");
    }
}

#[test]
fn bad_items_are_named_in_the_error() {
    for (text, needle) in [("cnn:8,bnx", "\"bnx\""), ("mlp:8,fc=3", "fc= is for CNNs")] {
        let err = text.parse::<ModelSpec>().unwrap_err().to_string();
        assert!(err.contains(needle) && err.contains(",bn"), "{text}: {err}");
    }
}
