//! Models described in one line, and built from it.
//!
//! A distillation study compares models of a few standard shapes; a one-line description names
//! each on a command line, in a report, and inside a checkpoint (so that a checkpoint can be
//! evaluated without repeating flags: the description is read back and the model rebuilt).
//!
//! ```text
//! mlp:800,800                      784 → 800 → 800 → classes, ReLU after each hidden layer
//! mlp:1200,1200,dropout=0.5        the same shape with dropout after each hidden layer
//! cnn:32,64,fc=128,dropout=0.5     conv3×3(32) → ReLU → pool2 → conv3×3(64) → ReLU → pool2 →
//!                                  flatten → dropout → dense(128) → ReLU → dropout → dense(classes)
//! cnn1d:64,64,fc=32                the 1-D form for signals: conv k5 (padding 2) → ReLU → pool2 …
//! cnn:32,64,fc=128,bn              batch normalisation after every convolution and hidden dense
//!                                  layer, before its ReLU (any kind of model)
//! ```
//!
//! Convolutions keep the size (3×3 with padding 1, or k5 with padding 2), and each is followed by
//! a max pool of window 2, so a 28×28 image becomes 14×14, then 7×7. Layers are named (`conv1`,
//! `pool1`, `fc1`, `relu1`, …, `logits`) so that hints can address them;
//! [`ModelSpec::feature_layer`] names the last hidden representation before the classifier.

use std::fmt;
use std::str::FromStr;

use nn::{
    BatchNorm1d, BatchNorm2d, Conv1d, Conv2d, Dense, Dropout, Flatten, MaxPool1d, MaxPool2d, Relu,
    Sequential,
};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// The kind of network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Mlp,
    Cnn,
    Cnn1d,
}

/// A model shape: kind, layer widths, dense width for CNNs, batch normalisation, dropout.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    pub kind: Kind,
    /// Hidden widths (MLP) or convolution channels (CNN).
    pub widths: Vec<usize>,
    /// The hidden dense layer of a CNN (0: none, the features go straight to the classifier).
    pub fc: usize,
    /// Batch normalisation between each hidden layer (convolution or dense) and its ReLU: it
    /// lets a deeper network train at a larger step, and regularises a little.
    pub batch_norm: bool,
    pub dropout: f32,
}

/// Why a model description could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError(pub String);

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SpecError {}

const GRAMMAR: &str = "expected mlp:W1,W2,… or cnn:C1,C2,…[,fc=N] or cnn1d:C1,…[,fc=N], each \
     optionally with ,bn (batch normalisation) and ,dropout=P";

impl FromStr for ModelSpec {
    type Err = SpecError;

    fn from_str(text: &str) -> Result<ModelSpec, SpecError> {
        let fail = |why: &str| SpecError(format!("model {text:?}: {why} ({GRAMMAR})"));
        let (kind, rest) = text.split_once(':').ok_or_else(|| fail("no ':'"))?;
        let kind = match kind {
            "mlp" => Kind::Mlp,
            "cnn" => Kind::Cnn,
            "cnn1d" => Kind::Cnn1d,
            other => return Err(fail(&format!("unknown kind {other:?}"))),
        };
        let mut spec = ModelSpec {
            kind,
            widths: Vec::new(),
            fc: 0,
            batch_norm: false,
            dropout: 0.0,
        };
        for item in rest.split(',').filter(|s| !s.is_empty()) {
            if let Some(p) = item.strip_prefix("dropout=") {
                spec.dropout = p
                    .parse()
                    .ok()
                    .filter(|p: &f32| (0.0..1.0).contains(p))
                    .ok_or_else(|| fail(&format!("dropout must be in [0, 1), found {p:?}")))?;
            } else if item == "bn" {
                spec.batch_norm = true;
            } else if let Some(n) = item.strip_prefix("fc=") {
                if kind == Kind::Mlp {
                    return Err(fail("fc= is for CNNs"));
                }
                spec.fc = n
                    .parse()
                    .map_err(|_| fail(&format!("fc must be a width, found {n:?}")))?;
            } else {
                let width: usize = item
                    .parse()
                    .ok()
                    .filter(|&w| w > 0)
                    .ok_or_else(|| fail(&format!("{item:?} is not a positive width")))?;
                spec.widths.push(width);
            }
        }
        if kind != Kind::Mlp && spec.widths.is_empty() {
            return Err(fail("a CNN needs at least one convolution"));
        }
        Ok(spec)
    }
}

impl fmt::Display for ModelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            Kind::Mlp => "mlp",
            Kind::Cnn => "cnn",
            Kind::Cnn1d => "cnn1d",
        };
        let mut items: Vec<String> = self.widths.iter().map(|w| w.to_string()).collect();
        if self.fc > 0 {
            items.push(format!("fc={}", self.fc));
        }
        if self.batch_norm {
            items.push("bn".to_string());
        }
        if self.dropout > 0.0 {
            items.push(format!("dropout={}", self.dropout));
        }
        write!(f, "{kind}:{}", items.join(","))
    }
}

impl ModelSpec {
    /// The name of the layer whose output is the last hidden representation (what a hint reads):
    /// the last hidden activation, or for a CNN without a dense layer its last pooling.
    pub fn feature_layer(&self) -> Option<String> {
        match self.kind {
            Kind::Mlp if self.widths.is_empty() => None,
            Kind::Mlp => Some(format!("relu{}", self.widths.len())),
            _ if self.fc > 0 => Some("relu_fc1".to_string()),
            _ => Some(format!("pool{}", self.widths.len())),
        }
    }

    /// Builds the model for samples of `sample_shape` (`[C, H, W]` for `cnn`, `[C, L]` for
    /// `cnn1d`, anything for `mlp`, which flattens) and `classes` outputs, weights drawn from
    /// `seed`. Dropout layers draw their masks from seeds derived from it too.
    pub fn build(
        &self,
        sample_shape: &[usize],
        classes: usize,
        seed: u64,
    ) -> Result<Sequential, SpecError> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut model = Sequential::new();
        let mut dropout_seed = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let mut next_dropout = || {
            dropout_seed = dropout_seed.wrapping_add(1);
            dropout_seed
        };
        let mut features: usize = sample_shape.iter().product();
        match self.kind {
            Kind::Mlp => {
                model = model.push_named("flatten", Flatten);
                for (i, &w) in self.widths.iter().enumerate() {
                    model =
                        model.push_named(format!("fc{}", i + 1), Dense::new(features, w, &mut rng));
                    if self.batch_norm {
                        model = model.push_named(format!("bn{}", i + 1), BatchNorm1d::new(w));
                    }
                    model = model.push_named(format!("relu{}", i + 1), Relu);
                    if self.dropout > 0.0 {
                        model = model.push_named(
                            format!("dropout{}", i + 1),
                            Dropout::new(self.dropout, next_dropout()),
                        );
                    }
                    features = w;
                }
            }
            Kind::Cnn | Kind::Cnn1d => {
                let two_d = self.kind == Kind::Cnn;
                let expected = if two_d { 3 } else { 2 };
                if sample_shape.len() != expected {
                    return Err(SpecError(format!(
                        "model {self}: needs samples shaped {}, found {sample_shape:?}",
                        if two_d { "[C, H, W]" } else { "[C, L]" }
                    )));
                }
                let mut channels = sample_shape[0];
                let mut spatial: Vec<usize> = sample_shape[1..].to_vec();
                for (i, &c) in self.widths.iter().enumerate() {
                    let name = format!("conv{}", i + 1);
                    model = if two_d {
                        model.push_named(
                            name,
                            Conv2d::new(channels, c, (3, 3), &mut rng).padding((1, 1)),
                        )
                    } else {
                        model.push_named(name, Conv1d::new(channels, c, 5, &mut rng).padding(2))
                    };
                    if self.batch_norm {
                        let name = format!("bn_conv{}", i + 1);
                        model = if two_d {
                            model.push_named(name, BatchNorm2d::new(c))
                        } else {
                            model.push_named(name, BatchNorm1d::new(c))
                        };
                    }
                    model = model.push_named(format!("relu_conv{}", i + 1), Relu);
                    model = if two_d {
                        model.push_named(format!("pool{}", i + 1), MaxPool2d::new((2, 2)))
                    } else {
                        model.push_named(format!("pool{}", i + 1), MaxPool1d::new(2))
                    };
                    spatial.iter_mut().for_each(|s| *s /= 2);
                    if spatial.contains(&0) {
                        return Err(SpecError(format!(
                            "model {self}: {} poolings leave nothing of a {sample_shape:?} input",
                            i + 1
                        )));
                    }
                    channels = c;
                }
                features = channels * spatial.iter().product::<usize>();
                model = model.push_named("flatten", Flatten);
                if self.dropout > 0.0 {
                    model =
                        model.push_named("dropout0", Dropout::new(self.dropout, next_dropout()));
                }
                if self.fc > 0 {
                    model = model.push_named("fc1", Dense::new(features, self.fc, &mut rng));
                    if self.batch_norm {
                        model = model.push_named("bn_fc1", BatchNorm1d::new(self.fc));
                    }
                    model = model.push_named("relu_fc1", Relu);
                    if self.dropout > 0.0 {
                        model = model
                            .push_named("dropout1", Dropout::new(self.dropout, next_dropout()));
                    }
                    features = self.fc;
                }
            }
        }
        Ok(model.push_named("logits", Dense::new(features, classes, &mut rng)))
    }
}
