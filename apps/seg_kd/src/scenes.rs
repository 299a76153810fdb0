//! Scenes of digits to segment, built from MNIST.
//!
//! A scene is a `size × size` canvas holding 1 to a few MNIST digits, each scaled to a random size
//! and put at a random place, and a label for every pixel: 0 for the background, `d + 1` for a
//! pixel of digit `d` (11 classes). As in PASCAL VOC, the thin band where a digit's stroke fades
//! into the background carries the label [`IGNORE`]: whether such a pixel belongs to the digit is
//! a matter of opinion, so losses and metrics leave it out.
//!
//! Per pixel, the digit drawn most brightly there owns it:
//!
//! ```text
//! label = owner's class + 1   if its brightness ≥ STROKE
//!         IGNORE              if FADE < its brightness < STROKE
//!         0                   otherwise (brightness ≤ FADE: background)
//! ```
//!
//! and the canvas holds the brightest value of any digit there. Training scenes are made from the
//! MNIST training images, test scenes from the test images, never mixed. A scene depends only on
//! its seed and its index, so the first `n` scenes are the same whatever the count asked for.

use std::path::Path;

use nn::data::{write_idx_u8, Dataset};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Background and the ten digits.
pub const CLASSES: usize = 11;
/// The label of a pixel that no loss or metric counts.
pub const IGNORE: u8 = 255;
/// A digit's pixel at least this bright (in [0, 1]) is part of its stroke.
pub const STROKE: f32 = 0.5;
/// A pixel this bright or less is background.
pub const FADE: f32 = 0.1;

/// What scenes look like.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SceneSpec {
    /// Canvas side, in pixels.
    pub size: usize,
    pub min_digits: usize,
    pub max_digits: usize,
    /// Side of a placed digit (its 28 × 28 image scaled), in pixels.
    pub min_scale: usize,
    pub max_scale: usize,
}

impl SceneSpec {
    /// Refuses specs that cannot be drawn.
    pub fn check(&self) -> Result<(), String> {
        if self.min_digits == 0 || self.min_digits > self.max_digits {
            return Err(format!(
                "--digits must be a range of at least one digit, like 1..3, found {}..{}",
                self.min_digits, self.max_digits
            ));
        }
        if self.min_scale < 8 || self.min_scale > self.max_scale || self.max_scale > self.size {
            return Err(format!(
                "--scales must lie between 8 and the canvas size {}, lowest first, found {}..{}",
                self.size, self.min_scale, self.max_scale
            ));
        }
        Ok(())
    }
}

/// Scenes and their per-pixel labels, row-major: scene `i` is `[i·size², (i + 1)·size²)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenes {
    pub size: usize,
    pub pixels: Vec<f32>,
    pub labels: Vec<u8>,
}

impl Scenes {
    pub fn len(&self) -> usize {
        self.labels.len() / (self.size * self.size)
    }

    /// Scene `i`'s pixels.
    pub fn scene(&self, i: usize) -> &[f32] {
        let area = self.size * self.size;
        &self.pixels[i * area..(i + 1) * area]
    }

    /// Scene `i`'s labels.
    pub fn scene_labels(&self, i: usize) -> &[u8] {
        let area = self.size * self.size;
        &self.labels[i * area..(i + 1) * area]
    }

    /// Writes the scenes as two IDX files, `<prefix>-images-idx3-ubyte` (pixels × 255, rounded)
    /// and `<prefix>-labels-idx3-ubyte` (one byte per pixel, 255 = ignore), the format MNIST
    /// itself comes in.
    pub fn write_idx(&self, dir: &Path, prefix: &str) -> Result<(), String> {
        let dims = [self.len(), self.size, self.size];
        let bytes: Vec<u8> = self
            .pixels
            .iter()
            .map(|&p| (p.clamp(0.0, 1.0) * 255.0).round() as u8)
            .collect();
        let write = |name: String, data: &[u8]| {
            write_idx_u8(&dir.join(&name), &dims, data).map_err(|e| format!("{name}: {e}"))
        };
        write(format!("{prefix}-images-idx3-ubyte"), &bytes)?;
        write(format!("{prefix}-labels-idx3-ubyte"), &self.labels)
    }
}

/// `image` (`side × side`, brightness in [0, 1]) scaled to `scale × scale` by bilinear
/// interpolation, sampling at pixel centres.
pub fn rescale(image: &[f32], side: usize, scale: usize) -> Vec<f32> {
    let ratio = side as f32 / scale as f32;
    let at = |y: isize, x: isize| {
        let (y, x) = (y.clamp(0, side as isize - 1), x.clamp(0, side as isize - 1));
        image[y as usize * side + x as usize]
    };
    let mut out = Vec::with_capacity(scale * scale);
    for i in 0..scale {
        for j in 0..scale {
            let (sy, sx) = (
                (i as f32 + 0.5) * ratio - 0.5,
                (j as f32 + 0.5) * ratio - 0.5,
            );
            let (y0, x0) = (sy.floor(), sx.floor());
            let (fy, fx) = (sy - y0, sx - x0);
            let (y0, x0) = (y0 as isize, x0 as isize);
            let top = at(y0, x0) * (1.0 - fx) + at(y0, x0 + 1) * fx;
            let bottom = at(y0 + 1, x0) * (1.0 - fx) + at(y0 + 1, x0 + 1) * fx;
            out.push(top * (1.0 - fy) + bottom * fy);
        }
    }
    out
}

/// `count` scenes from the images of `source` (28 × 28 digits, brightness in [0, 1], as
/// `nn::data::load_mnist` loads them), scene `i` drawn from `(seed, i)`.
pub fn generate(source: &Dataset, count: usize, spec: &SceneSpec, seed: u64) -> Scenes {
    let side = (source.sample_len() as f64).sqrt() as usize;
    let area = spec.size * spec.size;
    let mut scenes = Scenes {
        size: spec.size,
        pixels: vec![0.0; count * area],
        labels: vec![0; count * area],
    };
    for i in 0..count {
        let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9).wrapping_add(i as u64));
        // The brightest digit so far at each pixel, and its class.
        let mut brightest = vec![0.0f32; area];
        let mut owner = vec![0usize; area];
        for _ in 0..rng.random_range(spec.min_digits..=spec.max_digits) {
            let index = rng.random_range(0..source.len());
            let scale = rng.random_range(spec.min_scale..=spec.max_scale);
            let (top, left) = (
                rng.random_range(0..=spec.size - scale),
                rng.random_range(0..=spec.size - scale),
            );
            let digit = rescale(source.sample(index), side, scale);
            for (r, row) in digit.chunks(scale).enumerate() {
                for (c, &v) in row.iter().enumerate() {
                    let p = (top + r) * spec.size + left + c;
                    if v > brightest[p] {
                        brightest[p] = v;
                        owner[p] = source.labels[index];
                    }
                }
            }
        }
        let pixels = &mut scenes.pixels[i * area..(i + 1) * area];
        let labels = &mut scenes.labels[i * area..(i + 1) * area];
        for p in 0..area {
            pixels[p] = brightest[p];
            labels[p] = if brightest[p] >= STROKE {
                owner[p] as u8 + 1
            } else if brightest[p] > FADE {
                IGNORE
            } else {
                0
            };
        }
    }
    scenes
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two 28 × 28 "digits": a bright square of class 3 and one of class 7.
    fn source() -> Dataset {
        let mut inputs = vec![0.0; 2 * 784];
        for y in 8..20 {
            for x in 8..20 {
                inputs[y * 28 + x] = 1.0;
                inputs[784 + y * 28 + x] = 0.3;
            }
        }
        Dataset::new(inputs, vec![1, 28, 28], vec![3, 7], 10)
    }

    fn spec(digits: usize) -> SceneSpec {
        SceneSpec {
            size: 40,
            min_digits: digits,
            max_digits: digits,
            min_scale: 28,
            max_scale: 28,
        }
    }

    #[test]
    fn scenes_are_determined_by_seed_and_index() {
        let a = generate(&source(), 5, &spec(2), 9);
        assert_eq!(a, generate(&source(), 5, &spec(2), 9));
        let more = generate(&source(), 8, &spec(2), 9);
        assert_eq!(&more.pixels[..a.pixels.len()], &a.pixels[..]);
        assert_ne!(a, generate(&source(), 5, &spec(2), 10));
    }

    #[test]
    fn every_pixel_is_labelled_by_its_brightness_and_owner() {
        let scenes = generate(&source(), 20, &spec(1), 1);
        for i in 0..scenes.len() {
            for (&p, &l) in scenes.scene(i).iter().zip(scenes.scene_labels(i)) {
                let expected = if p >= STROKE {
                    // Only the class-3 square is bright enough to be a stroke.
                    4
                } else if p > FADE {
                    IGNORE
                } else {
                    0
                };
                assert_eq!(l, expected, "scene {i}: brightness {p}");
            }
        }
        // The faint class-7 square never reaches the stroke level: ignored, never labelled 8.
        assert!(!scenes.labels.contains(&8));
        assert!(scenes.labels.contains(&4) && scenes.labels.contains(&IGNORE));
    }

    #[test]
    fn rescaling_keeps_a_constant_image_constant_and_samples_centres() {
        assert!(rescale(&[0.5; 16], 4, 7)
            .iter()
            .all(|&v| (v - 0.5).abs() < 1e-6));
        // Scaling by one is the identity.
        let image: Vec<f32> = (0..9).map(|v| v as f32 / 8.0).collect();
        assert_eq!(rescale(&image, 3, 3), image);
    }

    #[test]
    fn bad_specs_are_refused() {
        let mut s = spec(1);
        s.min_digits = 0;
        assert!(s.check().unwrap_err().contains("--digits"));
        let mut s = spec(1);
        s.max_scale = 41;
        assert!(s.check().unwrap_err().contains("--scales"));
    }
}
