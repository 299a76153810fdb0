//! The fully convolutional networks: an encoder that halves the map twice, a decoder that grows
//! it back with nearest upsampling, and a 1 × 1 convolution that gives each pixel its class
//! logits. Written `fcn:a,b,c` (the channel widths of the three encoder stages):
//!
//! ```text
//! [N, 1, S, S]   conv 3×3 (a) → maxpool 2 → conv 3×3 (b) → maxpool 2
//!                → conv 3×3 (c), dilation 2               "encoder": [N, c, S/4, S/4]
//!                → upsample 2 → conv 3×3 (b) → upsample 2 → conv 3×3 (a)
//!                → conv 1×1 (classes)                     logits: [N, classes, S, S]
//! ```
//!
//! Every 3 × 3 convolution is followed by batch normalisation and a ReLU, and the deepest one is
//! dilated by 2 (its taps two pixels apart), which widens what an output pixel sees to about the
//! size of a digit at no extra cost; both were chosen on the validation scenes
//! (docs/segmentation.md).
//!
//! Every 3 × 3 convolution is padded by one pixel, so only the pools and upsamplings change the
//! size, and `S` must be a multiple of 4. The map named `encoder` is what feature distillation
//! matches between teacher and student.

use std::fmt;
use std::str::FromStr;

use nn::{BatchNorm2d, Conv2d, MaxPool2d, Relu, Sequential, Upsample};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// The layer whose output feature distillation matches.
pub const ENCODER: &str = "encoder";

/// `fcn:a,b,c`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FcnSpec {
    pub widths: [usize; 3],
}

impl FromStr for FcnSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<FcnSpec, String> {
        let expected =
            || format!("expected a model like fcn:16,32,64 (three channel widths), found {text:?}");
        let widths = text.strip_prefix("fcn:").ok_or_else(expected)?;
        let widths: Vec<usize> = widths
            .split(',')
            .map(|w| w.trim().parse::<usize>().ok().filter(|&w| w > 0))
            .collect::<Option<_>>()
            .ok_or_else(expected)?;
        let widths: [usize; 3] = widths.try_into().map_err(|_| expected())?;
        Ok(FcnSpec { widths })
    }
}

impl fmt::Display for FcnSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c] = self.widths;
        write!(f, "fcn:{a},{b},{c}")
    }
}

impl FcnSpec {
    /// Channels of the `encoder` map.
    pub fn encoder_channels(&self) -> usize {
        self.widths[2]
    }

    /// The network for `classes` classes, weights drawn from `seed`.
    pub fn build(&self, classes: usize, seed: u64) -> Sequential {
        let mut rng = StdRng::seed_from_u64(seed);
        let [a, b, c] = self.widths;
        let conv = |from, to, rng: &mut StdRng| Conv2d::new(from, to, (3, 3), rng).padding((1, 1));
        Sequential::new()
            .push_named("enc1", conv(1, a, &mut rng))
            .push_named("bn1", BatchNorm2d::new(a))
            .push_named("relu1", Relu)
            .push_named("pool1", MaxPool2d::new((2, 2)))
            .push_named("enc2", conv(a, b, &mut rng))
            .push_named("bn2", BatchNorm2d::new(b))
            .push_named("relu2", Relu)
            .push_named("pool2", MaxPool2d::new((2, 2)))
            .push_named(
                "enc3",
                Conv2d::new(b, c, (3, 3), &mut rng)
                    .padding((2, 2))
                    .dilation((2, 2)),
            )
            .push_named("bn3", BatchNorm2d::new(c))
            .push_named(ENCODER, Relu)
            .push_named("up1", Upsample { factor: 2 })
            .push_named("dec1", conv(c, b, &mut rng))
            .push_named("bn4", BatchNorm2d::new(b))
            .push_named("relu4", Relu)
            .push_named("up2", Upsample { factor: 2 })
            .push_named("dec2", conv(b, a, &mut rng))
            .push_named("bn5", BatchNorm2d::new(a))
            .push_named("relu5", Relu)
            .push_named("head", Conv2d::new(a, classes, (1, 1), &mut rng))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use autograd::Var;
    use nn::Module;
    use tensor::Tensor;

    #[test]
    fn specs_parse_print_and_refuse() {
        let spec: FcnSpec = "fcn:8,16,32".parse().unwrap();
        assert_eq!(spec.widths, [8, 16, 32]);
        assert_eq!(spec.to_string(), "fcn:8,16,32");
        for bad in ["fcn:8,16", "cnn:8,16,32", "fcn:8,0,32", "fcn:a,b,c"] {
            assert!(
                bad.parse::<FcnSpec>().unwrap_err().contains("fcn:16,32,64"),
                "{bad}"
            );
        }
    }

    #[test]
    fn logits_cover_every_pixel_and_the_encoder_map_is_a_quarter() {
        let spec: FcnSpec = "fcn:4,6,8".parse().unwrap();
        let mut model = spec.build(11, 1);
        let x = Var::constant(Tensor::zeros(&[2, 1, 16, 16]));
        let (logits, features) = model.forward_with_features(&x, &[ENCODER]);
        assert_eq!(logits.shape(), vec![2, 11, 16, 16]);
        assert_eq!(features[0].shape(), vec![2, 8, 4, 4]);
    }
}
