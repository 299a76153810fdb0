//! Shift augmentation: translate a sample by a few whole pixels (or positions, for 1-D signals).
//!
//! For a sample `x` of shape `[C, H, W]` moved by `(dy, dx)`:
//!
//! ```text
//! out[c, y, x] = x[c, y − dy, x − dx]   where 0 ≤ y − dy < H and 0 ≤ x − dx < W
//!              = background              elsewhere (the strip the sample moved away from)
//! ```
//!
//! and for `[C, L]` moved by `d`: `out[c, l] = x[c, l − d]`, or background. Positive offsets move
//! the content down / right.
//!
//! The background is the *minimum of the sample*, not 0. Before normalisation the two are the same
//! for MNIST (the paper is 0); after `(x − mean) / std` the paper is `−mean/std` ≈ −0.42 and 0 is a
//! light grey. Filling with 0 would draw a grey bar along one edge of every shifted digit, a feature
//! the network could learn that no unshifted test image has. The minimum finds the paper whatever
//! normalisation was applied, without the augmentation needing to know about it.
//!
//! The loops copy whole overlapping row segments with `copy_from_slice` rather than testing every
//! pixel; the tests hold a per-pixel version (the formula above, read literally) and compare.

/// The value a shift fills vacated positions with: the smallest value in the sample.
pub fn background(sample: &[f32]) -> f32 {
    sample.iter().copied().fold(f32::INFINITY, f32::min)
}

/// `dst = src` moved by `(dy, dx)` within each of its `channels` planes of `height × width` (the
/// sample's shape `[C, H, W]`), the vacated pixels set to `fill`.
///
/// # Panics
/// If `src` or `dst` does not hold `channels × height × width` values.
pub fn shift_2d(
    src: &[f32],
    dst: &mut [f32],
    [channels, height, width]: [usize; 3],
    (dy, dx): (isize, isize),
    fill: f32,
) {
    let plane = height * width;
    assert!(
        src.len() == channels * plane && dst.len() == channels * plane,
        "shift_2d: shape [{channels}, {height}, {width}] needs {} values, got src {} and dst {}",
        channels * plane,
        src.len(),
        dst.len()
    );
    // Along x the same column ranges serve every row: output columns [x0, x1) read input columns
    // [x0 − dx, x1 − dx).
    let (x0, x1) = overlap(width, dx);
    for (src_plane, dst_plane) in src.chunks_exact(plane).zip(dst.chunks_exact_mut(plane)) {
        for (y, dst_row) in dst_plane.chunks_exact_mut(width).enumerate() {
            let sy = y as isize - dy;
            if sy < 0 || sy >= height as isize || x0 >= x1 {
                dst_row.fill(fill);
                continue;
            }
            let src_row = &src_plane[sy as usize * width..(sy as usize + 1) * width];
            let sx0 = (x0 as isize - dx) as usize;
            dst_row[..x0].fill(fill);
            dst_row[x0..x1].copy_from_slice(&src_row[sx0..sx0 + (x1 - x0)]);
            dst_row[x1..].fill(fill);
        }
    }
}

/// `dst = src` moved by `d` along each of its `channels` rows of `length` (the sample's shape
/// `[C, L]`), the vacated positions set to `fill`. A 1-D shift is a 2-D shift of a `1 × length`
/// image.
pub fn shift_1d(src: &[f32], dst: &mut [f32], [channels, length]: [usize; 2], d: isize, fill: f32) {
    shift_2d(src, dst, [channels, 1, length], (0, d), fill);
}

/// The output range `[lo, hi)` of an axis of `size` positions that a shift by `d` fills from the
/// input; empty (`lo ≥ hi`) when the shift is the whole axis or more.
fn overlap(size: usize, d: isize) -> (usize, usize) {
    let size = size as isize;
    let lo = d.clamp(0, size);
    let hi = (size + d).clamp(0, size);
    (lo as usize, hi as usize)
}
