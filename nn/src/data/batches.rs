//! Mini-batches over a data set: an epoch's order (shuffled or not), cut into batches, each sample
//! optionally shifted a few pixels.
//!
//! Reproducibility: the order of epoch `e` is a permutation drawn from an RNG seeded by
//! `(shuffle_seed, e)`, and the shifts from one seeded by `(augment_seed, e)`. So every epoch
//! differs, an epoch can be replayed on its own (resuming from a checkpoint at epoch 7 sees exactly
//! the batches the first run saw), and a run is reproducible bit for bit. The two streams are kept
//! apart by a tag in the seed, so turning augmentation on does not change the order.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tensor::Tensor;

use super::augment::{background, shift_1d, shift_2d};
use super::dataset::Dataset;

/// How to cut a data set into batches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchConfig {
    /// Samples per batch (the last batch may hold fewer, unless `drop_last`).
    pub batch_size: usize,
    /// `Some(seed)`: a fresh permutation every epoch, from `(seed, epoch)`. `None`: dataset order.
    pub shuffle_seed: Option<u64>,
    /// Largest random translation in pixels (positions, for 1-D samples); 0 turns it off.
    pub shift: usize,
    /// Seeds the shift offsets, with the epoch.
    pub augment_seed: u64,
    /// Leave out a last batch smaller than `batch_size` (keeps batch statistics comparable).
    pub drop_last: bool,
}

impl BatchConfig {
    /// Batches of `batch_size` in dataset order, no augmentation, last partial batch kept.
    pub fn new(batch_size: usize) -> BatchConfig {
        BatchConfig {
            batch_size,
            shuffle_seed: None,
            shift: 0,
            augment_seed: 0,
            drop_last: false,
        }
    }
}

/// One mini-batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// `[B, ..sample_shape]`.
    pub inputs: Tensor,
    /// The B class labels.
    pub labels: Vec<usize>,
    /// Which samples of the data set these are, in batch order.
    pub indices: Vec<usize>,
}

/// The batches of epoch `epoch` (0-based) of `ds` under `cfg`.
///
/// # Panics
/// If `cfg.batch_size` is 0, or `cfg.shift > 0` for samples that are neither `[C, H, W]`, `[C, L]`
/// nor `[L]`.
pub fn batches<'a>(ds: &'a Dataset, cfg: &BatchConfig, epoch: usize) -> Batches<'a> {
    assert!(cfg.batch_size > 0, "batches: batch_size must be at least 1");
    assert!(
        cfg.shift == 0 || (1..=3).contains(&ds.sample_shape.len()),
        "batches: shift augmentation needs samples shaped [C, H, W], [C, L] or [L], got {:?}",
        ds.sample_shape
    );
    let mut order: Vec<usize> = (0..ds.len()).collect();
    if let Some(seed) = cfg.shuffle_seed {
        shuffle(&mut order, &mut epoch_rng(seed, epoch, Stream::Shuffle));
    }
    let count = if cfg.drop_last {
        ds.len() / cfg.batch_size
    } else {
        ds.len().div_ceil(cfg.batch_size)
    };
    let augment = (cfg.shift > 0).then(|| epoch_rng(cfg.augment_seed, epoch, Stream::Augment));
    Batches {
        ds,
        order,
        batch_size: cfg.batch_size,
        shift: cfg.shift,
        augment,
        next: 0,
        count,
    }
}

/// The iterator [`batches`] returns.
pub struct Batches<'a> {
    ds: &'a Dataset,
    order: Vec<usize>,
    batch_size: usize,
    shift: usize,
    augment: Option<StdRng>,
    /// The index of the next batch.
    next: usize,
    /// How many batches this epoch has.
    count: usize,
}

impl Iterator for Batches<'_> {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        if self.next >= self.count {
            return None;
        }
        let start = self.next * self.batch_size;
        let end = (start + self.batch_size).min(self.order.len());
        self.next += 1;
        let indices = self.order[start..end].to_vec();

        let s = self.ds.sample_len();
        let mut inputs = vec![0.0f32; indices.len() * s];
        for (&i, dst) in indices.iter().zip(inputs.chunks_exact_mut(s)) {
            let src = self.ds.sample(i);
            match self.augment.as_mut() {
                None => dst.copy_from_slice(src),
                Some(rng) => shift_sample(src, dst, &self.ds.sample_shape, self.shift, rng),
            }
        }
        let labels = indices.iter().map(|&i| self.ds.labels[i]).collect();

        let mut shape = vec![indices.len()];
        shape.extend_from_slice(&self.ds.sample_shape);
        let inputs = Tensor::from_vec(inputs, &shape).expect("B samples of sample_shape");
        Some(Batch {
            inputs,
            labels,
            indices,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.count - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Batches<'_> {}

/// Moves one sample by offsets uniform in `[−shift, shift]` (one per spatial axis).
fn shift_sample(src: &[f32], dst: &mut [f32], shape: &[usize], shift: usize, rng: &mut StdRng) {
    let fill = background(src);
    // rand samples no isize (its width varies by platform, and so would the stream), so draw an
    // i64 and narrow it: |offset| ≤ shift, a few pixels.
    let mut offset = || rng.random_range(-(shift as i64)..=shift as i64) as isize;
    match *shape {
        [c, h, w] => {
            let dy = offset();
            let dx = offset();
            shift_2d(src, dst, [c, h, w], (dy, dx), fill);
        }
        [c, l] => shift_1d(src, dst, [c, l], offset(), fill),
        [l] => shift_1d(src, dst, [1, l], offset(), fill),
        _ => unreachable!("batches() checked the sample rank"),
    }
}

/// Fisher–Yates: for i from the end down, swap element i with a uniformly chosen one of 0..=i.
/// Written out rather than taken from `rand::seq` so the permutation for a seed is defined here.
fn shuffle(order: &mut [usize], rng: &mut StdRng) {
    for i in (1..order.len()).rev() {
        order.swap(i, rng.random_range(0..=i));
    }
}

/// The independent random streams of an epoch.
#[derive(Clone, Copy)]
enum Stream {
    Shuffle = 1,
    Augment = 2,
}

/// An RNG for `(seed, epoch, stream)`. The three go side by side into ChaCha's 256-bit key, so
/// distinct triples give unrelated streams with no hashing or mixing to get wrong.
fn epoch_rng(seed: u64, epoch: usize, stream: Stream) -> StdRng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&(epoch as u64).to_le_bytes());
    key[16..24].copy_from_slice(&(stream as u64).to_le_bytes());
    StdRng::from_seed(key)
}
