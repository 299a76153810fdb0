//! The block cache installed as this test binary's global allocator, under real tensor work: a
//! "training step" (products, elementwise ops, a reduction) repeated gives the same numbers every
//! time, and from the second repetition on its large buffers come from the cache.

use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::{BlockCache, Tensor};

#[global_allocator]
static ALLOCATOR: BlockCache = BlockCache::new();

/// A step's worth of large temporaries: 256×512 activations (512 KiB each), a product, a ReLU,
/// a sum over the batch.
fn step(x: &Tensor, w: &Tensor) -> Vec<f32> {
    let h = x.matmul(w).relu();
    let g = h.mul(&h).add_scalar(1.0);
    g.sum_axis(0, false).data().to_vec()
}

#[test]
fn repeated_steps_reuse_their_buffers_and_compute_the_same() {
    let mut rng = StdRng::seed_from_u64(7);
    let x = Tensor::normal(&[256, 512], 0.0, 1.0, &mut rng);
    let w = Tensor::normal(&[512, 512], 0.0, 0.05, &mut rng);
    let first = step(&x, &w);
    let hits_after_first = ALLOCATOR.stats().hits;
    for _ in 0..3 {
        assert_eq!(step(&x, &w), first, "a reused block changed a result");
    }
    let stats = ALLOCATOR.stats();
    // Each later step allocates at least its three 512 KiB activations: all can be reused.
    assert!(
        stats.hits >= hits_after_first + 9,
        "expected the later steps to reuse their buffers: {stats:?}"
    );
    assert!(stats.cached_bytes >= 512 << 10, "{stats:?}");
}
