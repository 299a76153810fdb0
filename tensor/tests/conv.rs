//! Convolution against its definition.
//!
//! Every kernel is compared with its definition in `tensor::reference` (nested loops, f64
//! accumulation, bounds tested per element):
//! - with small integer inputs (−3..=3), where every product and partial sum is an integer far below
//!   2^24, so f32 arithmetic in any order is exact and the comparison is `==`;
//! - with random floats, with a tolerance derived from the f32 dot-product error bound
//!   `|error| ≤ γ_k · Σ|terms|`, `γ_k ≈ k·u`, `u = 2^-24` (Higham, *Accuracy and Stability of
//!   Numerical Algorithms*, §3.1), which holds whatever order `sgemm` adds in.
//!
//! Gradients are checked three ways: against the reference scatter definitions (exact, integers),
//! through the adjoint identities `⟨conv(x), g⟩ = ⟨x, dX(g)⟩` and `⟨conv_w(w), g⟩ = ⟨w, dW(g)⟩`
//! (f64 sums, floats), and by central differences on tiny cases.

mod common;

use common::{floats, ints, U};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::conv::*;
use tensor::reference::{self, dot};
use tensor::Tensor;

// ----- data -------------------------------------------------------------------------------------

fn abs(t: &Tensor) -> Tensor {
    let data = t.data().iter().map(|v| v.abs()).collect();
    Tensor::from_vec(data, t.shape()).unwrap()
}

/// The settings of a 2-D convolution: stride, padding and dilation, each (height, width).
fn p2(stride: (usize, usize), padding: (usize, usize), dilation: (usize, usize)) -> Conv2dParams {
    Conv2dParams {
        stride,
        padding,
        dilation,
    }
}

/// The settings of a 1-D convolution: stride, padding and dilation.
fn p1(stride: usize, padding: usize, dilation: usize) -> Conv1dParams {
    Conv1dParams {
        stride,
        padding,
        dilation,
    }
}

// ----- the cases --------------------------------------------------------------------------------

/// One 2-D convolution problem; a 1-D one is `h = kh = 1` with `stride.0 = dilation.0 = 1`,
/// `padding.0 = 0`.
#[derive(Debug, Clone, Copy)]
struct Case {
    n: usize,
    c: usize,
    o: usize,
    h: usize,
    w: usize,
    kh: usize,
    kw: usize,
    stride: (usize, usize),
    padding: (usize, usize),
    dilation: (usize, usize),
}

impl Case {
    fn fits(&self) -> bool {
        let span = |k: usize, d: usize| d * (k - 1) + 1;
        span(self.kh, self.dilation.0) <= self.h + 2 * self.padding.0
            && span(self.kw, self.dilation.1) <= self.w + 2 * self.padding.1
    }
    /// Output sizes by counting the kernel positions that fit (independent of the closed formula).
    fn out(&self) -> (usize, usize) {
        let count = |n: usize, k: usize, s: usize, p: usize, d: usize| {
            (0..)
                .take_while(|&o: &usize| o * s + d * (k - 1) < n + 2 * p)
                .count()
        };
        (
            count(
                self.h,
                self.kh,
                self.stride.0,
                self.padding.0,
                self.dilation.0,
            ),
            count(
                self.w,
                self.kw,
                self.stride.1,
                self.padding.1,
                self.dilation.1,
            ),
        )
    }
    fn params(&self) -> Conv2dParams {
        p2(self.stride, self.padding, self.dilation)
    }
    fn geometry(&self) -> Conv2dGeometry {
        Conv2dGeometry::new([self.c, self.h, self.w], [self.kh, self.kw], self.params())
    }
    fn x_shape(&self) -> [usize; 4] {
        [self.n, self.c, self.h, self.w]
    }
    fn w_shape(&self) -> [usize; 4] {
        [self.o, self.c, self.kh, self.kw]
    }
    fn y_shape(&self) -> [usize; 4] {
        let (oh, ow) = self.out();
        [self.n, self.o, oh, ow]
    }
    /// [`reference::conv2d`] with this case's settings.
    fn want_conv(&self, x: &Tensor, w: &Tensor, b: Option<&Tensor>) -> Vec<f64> {
        reference::conv2d(x, w, b, self.params())
    }
    fn want_back_input(&self, dy: &Tensor, w: &Tensor) -> Vec<f64> {
        reference::conv2d_backward_input(dy, w, &self.x_shape(), self.params())
    }
    fn want_back_weight(&self, dy: &Tensor, x: &Tensor) -> Vec<f64> {
        reference::conv2d_backward_weight(dy, x, &self.w_shape(), self.params())
    }
    fn conv(&self, x: &Tensor, w: &Tensor, b: Option<&Tensor>) -> Tensor {
        conv2d(x, w, b, self.params())
    }
    fn back_input(&self, dy: &Tensor, w: &Tensor) -> Tensor {
        conv2d_backward_input(dy, w, &self.x_shape(), self.params())
    }
    fn back_weight(&self, dy: &Tensor, x: &Tensor) -> Tensor {
        conv2d_backward_weight(dy, x, &self.w_shape(), self.params())
    }
}

/// Small problems: every size from 0 or 1 to a few, strides, paddings and dilations 1–2 (0–2 for
/// padding), keeping only those where the kernel fits.
fn case2d() -> impl Strategy<Value = Case> {
    (
        (0usize..3, 0usize..4, 1usize..4),
        (0usize..8, 0usize..8, 1usize..4, 1usize..4),
        (1usize..3, 1usize..3),
        (0usize..3, 0usize..3),
        (1usize..3, 1usize..3),
    )
        .prop_map(
            |((n, c, o), (h, w, kh, kw), stride, padding, dilation)| Case {
                n,
                c,
                o,
                h,
                w,
                kh,
                kw,
                stride,
                padding,
                dilation,
            },
        )
        .prop_filter("kernel fits", Case::fits)
}

/// Small 1-D problems in the same encoding.
fn case1d() -> impl Strategy<Value = Case> {
    (
        (0usize..3, 0usize..4, 1usize..4),
        (0usize..12, 1usize..5),
        (1usize..4, 0usize..3, 1usize..3),
    )
        .prop_map(|((n, c, o), (l, k), (s, p, d))| Case {
            n,
            c,
            o,
            h: 1,
            w: l,
            kh: 1,
            kw: k,
            stride: (1, s),
            padding: (0, p),
            dilation: (1, d),
        })
        .prop_filter("kernel fits", Case::fits)
}

fn exact(got: &Tensor, want: &[f64]) -> bool {
    exact_slice(got.data(), want)
}

fn exact_slice(got: &[f32], want: &[f64]) -> bool {
    got.len() == want.len() && got.iter().zip(want).all(|(&g, &w)| g as f64 == w)
}

// ----- geometry ---------------------------------------------------------------------------------

#[test]
fn geometry_sizes_match_hand_computed_examples() {
    // Expected values by hand from OH = ⌊(H + 2p − d(K−1) − 1)/s⌋ + 1.
    let g = Conv2dGeometry::new([3, 5, 7], [3, 3], p2((1, 2), (0, 1), (1, 1)));
    assert_eq!((g.out_height(), g.out_width()), (3, 4)); // (5−3)/1+1 ; (7+2−3)/2+1
    assert_eq!(g.rows(), 27);
    assert_eq!(g.cols(), 12);
    assert_eq!(g.columns_len(), 27 * 12);
    let g = Conv2dGeometry::new([1, 7, 7], [3, 2], p2((2, 1), (0, 0), (2, 3)));
    assert_eq!((g.out_height(), g.out_width()), (2, 4)); // (7−4−1)/2+1 ; (7−3−1)/1+1
    let g = Conv1dGeometry::new([2, 257], 5, p1(4, 2, 3));
    assert_eq!(g.out_length(), 63); // (257+4−12−1)/4+1 = 248/4+1
    assert_eq!((g.rows(), g.cols(), g.columns_len()), (10, 63, 630));
}

proptest! {
    #[test]
    fn geometry_sizes_count_the_positions_that_fit(case in case2d()) {
        let g = case.geometry();
        prop_assert_eq!((g.out_height(), g.out_width()), case.out());
        prop_assert_eq!(g.rows(), case.c * case.kh * case.kw);
    }
}

#[test]
#[should_panic(
    expected = "Conv2dGeometry::new: kernel 4 with dilation 2 spans 7 cells, more than \
                           the input width 4 with padding 1 on each side (6 cells)"
)]
fn geometry_rejects_a_kernel_that_does_not_fit() {
    Conv2dGeometry::new([1, 9, 4], [1, 4], p2((1, 1), (0, 1), (1, 2)));
}

#[test]
#[should_panic(expected = "Conv2dGeometry::new: stride along height must be at least 1")]
fn geometry_rejects_a_zero_stride() {
    Conv2dGeometry::new([1, 4, 4], [2, 2], p2((0, 1), (0, 0), (1, 1)));
}

#[test]
#[should_panic(expected = "Conv1dGeometry::new: dilation along length must be at least 1")]
fn geometry_rejects_a_zero_dilation() {
    Conv1dGeometry::new([1, 4], 2, p1(1, 0, 0));
}

#[test]
#[should_panic(expected = "Conv1dGeometry::new: kernel length must be at least 1")]
fn geometry_rejects_an_empty_kernel() {
    Conv1dGeometry::new([1, 4], 0, p1(1, 0, 1));
}

// ----- im2col / col2im --------------------------------------------------------------------------

proptest! {
    /// Bit-for-bit equal to the one-cell-at-a-time definition, into a NaN-filled buffer: any cell
    /// im2col forgot to write would still be NaN.
    #[test]
    fn im2col_matches_the_definition_and_writes_every_cell(case in case2d(), seed: u64) {
        let g = case.geometry();
        let image = floats(&[case.c, case.h, case.w], seed);
        let mut cols = vec![f32::NAN; g.columns_len()];
        im2col_2d(image.data(), &g, &mut cols);
        let want = reference::im2col_2d(image.data(), &g);
        prop_assert_eq!(cols.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                        want.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
    }

    /// col2im equals its definition, and ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩; both exactly (integer
    /// values, f64 sums).
    #[test]
    fn col2im_matches_the_definition_and_is_the_adjoint_of_im2col(case in case2d(), seed: u64) {
        let g = case.geometry();
        let x = ints(&[case.c, case.h, case.w], 3, seed);
        let c = ints(&[g.rows(), g.cols()], 3, seed ^ 1);
        let mut cols = vec![f32::NAN; g.columns_len()];
        im2col_2d(x.data(), &g, &mut cols);
        let mut back = vec![0.0; g.image_len()];
        col2im_2d(c.data(), &g, &mut back);
        prop_assert!(exact_slice(&back, &reference::col2im_2d(c.data(), &g)), "{:?}", case);
        prop_assert_eq!(dot(&cols, c.data()), dot(x.data(), &back));
    }

    #[test]
    fn col2im_accumulates_into_the_image(case in case2d(), seed: u64) {
        let g = case.geometry();
        let c = ints(&[g.rows(), g.cols()], 3, seed);
        let mut from_zero = vec![0.0; g.image_len()];
        col2im_2d(c.data(), &g, &mut from_zero);
        let mut from_seven = vec![7.0; g.image_len()];
        col2im_2d(c.data(), &g, &mut from_seven);
        let shifted: Vec<f32> = from_zero.iter().map(|v| v + 7.0).collect();
        prop_assert_eq!(from_seven, shifted);
    }

    #[test]
    fn im2col_1d_matches_the_definition_and_col2im_1d_is_its_adjoint(case in case1d(), seed: u64) {
        let params = p1(case.stride.1, case.padding.1, case.dilation.1);
        let g = Conv1dGeometry::new([case.c, case.w], case.kw, params);
        let x = ints(&[case.c, case.w], 3, seed);
        let mut cols = vec![f32::NAN; g.columns_len()];
        im2col_1d(x.data(), &g, &mut cols);
        prop_assert_eq!(&cols, &reference::im2col_1d(x.data(), &g));
        let c = ints(&[g.rows(), g.cols()], 3, seed ^ 1);
        let mut back = vec![0.0; case.c * case.w];
        col2im_1d(c.data(), &g, &mut back);
        prop_assert_eq!(dot(&cols, c.data()), dot(x.data(), &back));
    }
}

#[test]
#[should_panic(
    expected = "im2col_2d: geometry C=2 H=3 W=3 needs an image of 18 values and \
                           columns of 8·4 = 32 values, found 18 and 31"
)]
fn im2col_checks_buffer_lengths() {
    let g = Conv2dGeometry::new([2, 3, 3], [2, 2], p2((1, 1), (0, 0), (1, 1)));
    im2col_2d(&[0.0; 18], &g, &mut [0.0; 31]);
}

// ----- conv2d against the definition ------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Forward and both backward products, exact on integers.
    #[test]
    fn conv2d_and_its_backward_match_the_definition(case in case2d(), seed: u64, with_bias: bool) {
        let x = ints(&case.x_shape(), 3, seed);
        let w = ints(&case.w_shape(), 3, seed ^ 1);
        let b = ints(&[case.o], 3, seed ^ 2);
        let b = with_bias.then_some(&b);
        let y = case.conv(&x, &w, b);
        prop_assert_eq!(y.shape(), &case.y_shape());
        prop_assert!(exact(&y, &case.want_conv(&x, &w, b)), "forward {:?}", case);

        let dy = ints(&case.y_shape(), 3, seed ^ 3);
        let dx = case.back_input(&dy, &w);
        prop_assert_eq!(dx.shape(), &case.x_shape());
        prop_assert!(exact(&dx, &case.want_back_input(&dy, &w)), "input grad {:?}", case);
        let dw = case.back_weight(&dy, &x);
        prop_assert_eq!(dw.shape(), &case.w_shape());
        prop_assert!(exact(&dw, &case.want_back_weight(&dy, &x)), "weight grad {:?}", case);
    }

    /// Random floats: each output is a dot product of `C·KH·KW` terms plus the bias, so its error
    /// is at most (C·KH·KW + 1)·u·(Σ|w·x| + |b|) (the header's bound; +1 for the bias addition).
    #[test]
    fn conv2d_on_floats_is_within_the_dot_product_error_bound(case in case2d(), seed: u64) {
        let x = floats(&case.x_shape(), seed);
        let w = floats(&case.w_shape(), seed ^ 1);
        let b = floats(&[case.o], seed ^ 2);
        let y = case.conv(&x, &w, Some(&b));
        let want = case.want_conv(&x, &w, Some(&b));
        let magnitude = case.want_conv(&abs(&x), &abs(&w), Some(&abs(&b)));
        let k = (case.c * case.kh * case.kw + 1) as f64;
        for ((&g, &r), &m) in y.data().iter().zip(&want).zip(&magnitude) {
            prop_assert!((g as f64 - r).abs() <= k * U * m, "{} vs {} (bound {})", g, r, k * U * m);
        }
    }

    /// ⟨conv(x, w), g⟩ = ⟨x, dX(g)⟩ = ⟨w, dW(g)⟩ (the convolution is bilinear), on floats. Each side
    /// is an f64 sum of f32 results that each carry at most k·u relative error on their |terms|,
    /// where k is the longest sum involved; the bound below is 2·k·u·Σ|g|·(|W| ⊛ |X|).
    #[test]
    fn conv2d_backward_products_are_adjoint_to_the_forward(case in case2d(), seed: u64) {
        let x = floats(&case.x_shape(), seed);
        let w = floats(&case.w_shape(), seed ^ 1);
        let g = floats(&case.y_shape(), seed ^ 2);
        let y = case.conv(&x, &w, None);
        let lhs = dot(y.data(), g.data());
        let via_x = dot(x.data(), case.back_input(&g, &w).data());
        let via_w = dot(w.data(), case.back_weight(&g, &x).data());
        let (oh, ow) = case.out();
        let k = (case.c.max(case.o) * case.kh * case.kw).max(case.n * oh * ow) as f64;
        let scale = dot(abs(&g).data(), case.conv(&abs(&x), &abs(&w), None).data());
        let tol = 2.0 * k * U * scale + 1e-12;
        prop_assert!((lhs - via_x).abs() <= tol, "{} vs {} ({:?})", lhs, via_x, case);
        prop_assert!((lhs - via_w).abs() <= tol, "{} vs {} ({:?})", lhs, via_w, case);
    }

    #[test]
    fn conv1d_and_its_backward_match_the_definition(case in case1d(), seed: u64) {
        let (n, c, o, l, k) = (case.n, case.c, case.o, case.w, case.kw);
        let params = p1(case.stride.1, case.padding.1, case.dilation.1);
        let x = ints(&[n, c, l], 3, seed);
        let w = ints(&[o, c, k], 3, seed ^ 1);
        let b = ints(&[o], 3, seed ^ 2);
        let y = conv1d(&x, &w, Some(&b), params);
        prop_assert_eq!(y.shape(), &[n, o, case.out().1]);
        prop_assert!(exact(&y, &reference::conv1d(&x, &w, Some(&b), params)));

        let dy = ints(y.shape(), 3, seed ^ 3);
        let dx = conv1d_backward_input(&dy, &w, &[n, c, l], params);
        prop_assert_eq!(dx.shape(), &[n, c, l]);
        prop_assert!(exact(&dx, &reference::conv1d_backward_input(&dy, &w, &[n, c, l], params)));
        let dw = conv1d_backward_weight(&dy, &x, &[o, c, k], params);
        prop_assert_eq!(dw.shape(), &[o, c, k]);
        prop_assert!(exact(&dw, &reference::conv1d_backward_weight(&dy, &x, &[o, c, k], params)));
    }

    #[test]
    fn conv_backward_bias_sums_over_batch_and_positions(
        n in 0usize..4, o in 0usize..5, h in 1usize..6, w in 1usize..6, seed: u64,
    ) {
        for shape in [vec![n, o, h, w], vec![n, o, h * w]] {
            let dy = ints(&shape, 3, seed);
            let db = conv_backward_bias(&dy);
            prop_assert_eq!(db.shape(), &[o]);
            prop_assert!(exact(&db, &reference::conv_backward_bias(&dy)));
        }
    }
}

// ----- finite differences -----------------------------------------------------------------------

/// `L(x, w, b) = ⟨conv(x, w, b), g⟩` is linear in each argument, so a central difference is its
/// exact derivative up to rounding: with values in [−1, 1), |L| ≲ 10 and f32 outputs, the rounding
/// in L is ~1e-6, divided by the step 2h = 2⁻⁵ gives ~3e-5; the tolerance 1e-3 is well above that
/// and far below the size of a wrong gradient entry (the entries are O(1)).
fn finite_difference_check(
    forward: &dyn Fn(&Tensor, &Tensor, &Tensor) -> Tensor,
    x: &Tensor,
    w: &Tensor,
    b: &Tensor,
    analytic: [&Tensor; 3],
) {
    let g = floats(forward(x, w, b).shape(), 99);
    let loss = |x: &Tensor, w: &Tensor, b: &Tensor| dot(forward(x, w, b).data(), g.data());
    let h = 1.0 / 64.0;
    for (which, grad) in analytic.iter().enumerate() {
        for i in 0..grad.numel() {
            let mut args = [x.clone(), w.clone(), b.clone()];
            let v = args[which].data()[i];
            args[which].data_mut()[i] = v + h;
            let up = loss(&args[0], &args[1], &args[2]);
            let stepped_up = args[which].data()[i];
            args[which].data_mut()[i] = v - h;
            let down = loss(&args[0], &args[1], &args[2]);
            // Divide by the step actually taken in f32, not the intended one.
            let numeric = (up - down) / (stepped_up as f64 - args[which].data()[i] as f64);
            let got = grad.data()[i] as f64;
            assert!(
                (numeric - got).abs() <= 1e-3,
                "argument {which} element {i}: analytic {got}, numeric {numeric}"
            );
        }
    }
}

#[test]
fn conv2d_gradients_match_finite_differences() {
    let case = Case {
        n: 2,
        c: 2,
        o: 3,
        h: 5,
        w: 4,
        kh: 3,
        kw: 2,
        stride: (2, 1),
        padding: (1, 1),
        dilation: (1, 2),
    };
    let (x, w, b) = (
        floats(&case.x_shape(), 1),
        floats(&case.w_shape(), 2),
        floats(&[3], 3),
    );
    let g = floats(&case.y_shape(), 99);
    let analytic = [
        case.back_input(&g, &w),
        case.back_weight(&g, &x),
        conv_backward_bias(&g),
    ];
    finite_difference_check(
        &|x, w, b| case.conv(x, w, Some(b)),
        &x,
        &w,
        &b,
        [&analytic[0], &analytic[1], &analytic[2]],
    );
}

#[test]
fn conv1d_gradients_match_finite_differences() {
    let (s, p, d) = (2, 2, 2);
    let (x, w, b) = (
        floats(&[2, 3, 9], 1),
        floats(&[2, 3, 3], 2),
        floats(&[2], 3),
    );
    let forward = |x: &Tensor, w: &Tensor, b: &Tensor| conv1d(x, w, Some(b), p1(s, p, d));
    let g = floats(forward(&x, &w, &b).shape(), 99);
    let analytic = [
        conv1d_backward_input(&g, &w, x.shape(), p1(s, p, d)),
        conv1d_backward_weight(&g, &x, w.shape(), p1(s, p, d)),
        conv_backward_bias(&g),
    ];
    finite_difference_check(
        &forward,
        &x,
        &w,
        &b,
        [&analytic[0], &analytic[1], &analytic[2]],
    );
}

// ----- awkward sizes ----------------------------------------------------------------------------

/// Floats on larger, odd-sized problems (7 channels, 17×33 images, a 257-long signal), including the
/// 1×1 kernel whose columns are the image itself, against the reference with the bound above.
#[test]
fn awkward_sizes_match_the_definition() {
    let cases = [
        // 7 channels, 17×33, 3×3, padding 1.
        (2, 7, 5, 17, 33, 3, 3, (1, 1), (1, 1), (1, 1)),
        // 1×1, stride 1, no padding: im2col is skipped.
        (3, 7, 17, 17, 33, 1, 1, (1, 1), (0, 0), (1, 1)),
        // 1×1 with stride 2: not the identity.
        (1, 7, 2, 17, 33, 1, 1, (2, 2), (0, 0), (1, 1)),
        // 1-D, L = 257.
        (2, 3, 4, 1, 257, 1, 7, (1, 3), (0, 2), (1, 2)),
        // A kernel as large as the padded image: a single output.
        (1, 1, 1, 7, 7, 9, 9, (1, 1), (1, 1), (1, 1)),
        // A batch of 37 > 16: the weight gradient sums blocks of 3 images, then 13 partials.
        (37, 2, 3, 5, 4, 2, 3, (1, 2), (1, 0), (2, 1)),
    ];
    for (n, c, o, h, w, kh, kw, stride, padding, dilation) in cases {
        let case = Case {
            n,
            c,
            o,
            h,
            w,
            kh,
            kw,
            stride,
            padding,
            dilation,
        };
        let x = floats(&case.x_shape(), 1);
        let wt = floats(&case.w_shape(), 2);
        let b = floats(&[o], 3);
        let dy = floats(&case.y_shape(), 4);
        let check = |got: &Tensor, want: Vec<f64>, magnitude: Vec<f64>, k: usize, what: &str| {
            assert_eq!(got.numel(), want.len(), "{what} {case:?}");
            for ((&g, &r), &m) in got.data().iter().zip(&want).zip(&magnitude) {
                let tol = (k + 1) as f64 * U * m;
                assert!((g as f64 - r).abs() <= tol, "{what} {case:?}: {g} vs {r}");
            }
        };
        let (oh, ow) = case.out();
        check(
            &case.conv(&x, &wt, Some(&b)),
            case.want_conv(&x, &wt, Some(&b)),
            case.want_conv(&abs(&x), &abs(&wt), Some(&abs(&b))),
            c * kh * kw,
            "forward",
        );
        check(
            &case.back_input(&dy, &wt),
            case.want_back_input(&dy, &wt),
            case.want_back_input(&abs(&dy), &abs(&wt)),
            o * kh * kw,
            "input grad",
        );
        check(
            &case.back_weight(&dy, &x),
            case.want_back_weight(&dy, &x),
            case.want_back_weight(&abs(&dy), &abs(&x)),
            n * oh * ow,
            "weight grad",
        );
    }
}

#[test]
fn empty_batch_and_empty_channels_give_well_shaped_results() {
    // N = 0: nothing to compute, but every shape is still right.
    let x = Tensor::zeros(&[0, 3, 5, 5]);
    let w = ints(&[4, 3, 3, 3], 3, 1);
    let y = conv2d(&x, &w, None, p2((1, 1), (0, 0), (1, 1)));
    assert_eq!(y.shape(), &[0, 4, 3, 3]);
    let dw = conv2d_backward_weight(&y, &x, &[4, 3, 3, 3], p2((1, 1), (0, 0), (1, 1)));
    assert_eq!(dw, Tensor::zeros(&[4, 3, 3, 3]));
    let dx = conv2d_backward_input(&y, &w, &[0, 3, 5, 5], p2((1, 1), (0, 0), (1, 1)));
    assert_eq!(dx.shape(), &[0, 3, 5, 5]);
    // C = 0: a sum over no channels, so the output is the bias alone.
    let x = Tensor::zeros(&[2, 0, 4, 4]);
    let w = Tensor::zeros(&[3, 0, 2, 2]);
    let b = Tensor::from_vec(vec![1.0, -2.0, 5.0], &[3]).unwrap();
    let y = conv2d(&x, &w, Some(&b), p2((1, 1), (0, 0), (1, 1)));
    assert_eq!(y.shape(), &[2, 3, 3, 3]);
    assert!((0..2 * 3 * 9).all(|i| y.data()[i] == b.data()[(i / 9) % 3]));
    // An empty image with padding: every cell the kernel sees is padding.
    let x = Tensor::zeros(&[1, 1, 0, 0]);
    let w = Tensor::ones(&[1, 1, 1, 1]);
    let y = conv1d(
        &Tensor::zeros(&[1, 1, 0]),
        &w.reshape(&[1, 1, 1]),
        None,
        p1(1, 1, 1),
    );
    assert_eq!(y, Tensor::zeros(&[1, 1, 2]));
    let y = conv2d(
        &x,
        &Tensor::ones(&[1, 1, 1, 1]),
        None,
        p2((1, 1), (1, 2), (1, 1)),
    );
    assert_eq!(y, Tensor::zeros(&[1, 1, 2, 4]));
}

// ----- threads ----------------------------------------------------------------------------------

/// The same problem on a 1-thread and a 2-thread pool gives the same bits: images are independent,
/// and the weight gradient sums over fixed blocks of images that do not depend on the thread count.
/// The problem is large enough (33·16·72·289 ≈ 11M multiply-adds) to take the parallel path, and
/// its batch (33) is cut into blocks of 3 images for the weight gradient.
#[test]
fn one_and_two_threads_give_identical_results() {
    let case = Case {
        n: 33,
        c: 8,
        o: 16,
        h: 17,
        w: 17,
        kh: 3,
        kw: 3,
        stride: (1, 1),
        padding: (1, 1),
        dilation: (1, 1),
    };
    let x = floats(&case.x_shape(), 1);
    let w = floats(&case.w_shape(), 2);
    let b = floats(&[case.o], 3);
    let dy = floats(&case.y_shape(), 4);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            (
                case.conv(&x, &w, Some(&b)),
                case.back_input(&dy, &w),
                case.back_weight(&dy, &x),
            )
        })
    };
    let (one, two) = (run(1), run(2));
    let bits = |t: &Tensor| t.data().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&one.0), bits(&two.0), "forward");
    assert_eq!(bits(&one.1), bits(&two.1), "input grad");
    assert_eq!(bits(&one.2), bits(&two.2), "weight grad");
}

// ----- shape errors -----------------------------------------------------------------------------

#[test]
#[should_panic(expected = "conv2d: incompatible shapes [1, 3, 5, 5] and [2, 4, 3, 3]")]
fn conv2d_names_both_shapes_on_a_channel_mismatch() {
    conv2d(
        &Tensor::zeros(&[1, 3, 5, 5]),
        &Tensor::zeros(&[2, 4, 3, 3]),
        None,
        p2((1, 1), (0, 0), (1, 1)),
    );
}

#[test]
#[should_panic(expected = "conv2d: expected input [N, C, H, W] of rank 4, found shape [3, 5, 5]")]
fn conv2d_rejects_a_rank_3_input() {
    conv2d(
        &Tensor::zeros(&[3, 5, 5]),
        &Tensor::zeros(&[2, 3, 3, 3]),
        None,
        p2((1, 1), (0, 0), (1, 1)),
    );
}

#[test]
#[should_panic(
    expected = "conv2d: bias must have shape [O] = [2] for weight [2, 3, 3, 3], found [3]"
)]
fn conv2d_rejects_a_bias_of_the_wrong_length() {
    conv2d(
        &Tensor::zeros(&[1, 3, 5, 5]),
        &Tensor::zeros(&[2, 3, 3, 3]),
        Some(&Tensor::zeros(&[3])),
        p2((1, 1), (0, 0), (1, 1)),
    );
}

#[test]
#[should_panic(
    expected = "conv2d: kernel 6 with dilation 1 spans 6 cells, more than the input \
                           height 5 with padding 0 on each side (5 cells)"
)]
fn conv2d_rejects_a_kernel_larger_than_the_input() {
    conv2d(
        &Tensor::zeros(&[1, 3, 5, 5]),
        &Tensor::zeros(&[2, 3, 6, 1]),
        None,
        p2((1, 1), (0, 0), (1, 1)),
    );
}

#[test]
#[should_panic(
    expected = "conv2d_backward_input: incompatible shapes [1, 2, 3, 4] and [1, 2, 3, 3]"
)]
fn conv2d_backward_input_checks_the_gradient_shape() {
    conv2d_backward_input(
        &Tensor::zeros(&[1, 2, 3, 4]),
        &Tensor::zeros(&[2, 3, 3, 3]),
        &[1, 3, 5, 5],
        p2((1, 1), (0, 0), (1, 1)),
    );
}

#[test]
#[should_panic(
    expected = "conv2d_backward_weight: expected weight [O, C, KH, KW] of rank 4, found shape [2, 3, 3]"
)]
fn conv2d_backward_weight_checks_the_weight_rank() {
    conv2d_backward_weight(
        &Tensor::zeros(&[1, 2, 3, 3]),
        &Tensor::zeros(&[1, 3, 5, 5]),
        &[2, 3, 3],
        p2((1, 1), (0, 0), (1, 1)),
    );
}

#[test]
#[should_panic(expected = "conv1d: incompatible shapes [2, 3, 10] and [4, 2, 3]")]
fn conv1d_names_both_shapes_on_a_channel_mismatch() {
    conv1d(
        &Tensor::zeros(&[2, 3, 10]),
        &Tensor::zeros(&[4, 2, 3]),
        None,
        p1(1, 0, 1),
    );
}

#[test]
#[should_panic(expected = "conv1d_backward_weight: incompatible shapes [2, 4, 7] and [2, 4, 8]")]
fn conv1d_backward_weight_checks_the_gradient_shape() {
    conv1d_backward_weight(
        &Tensor::zeros(&[2, 4, 7]),
        &Tensor::zeros(&[2, 3, 10]),
        &[4, 3, 3],
        p1(1, 0, 1),
    );
}

#[test]
#[should_panic(
    expected = "conv_backward_bias: expected grad_out [N, O, L] or [N, O, H, W] \
                           (rank 3 or 4), found shape [2, 3]"
)]
fn conv_backward_bias_rejects_rank_2() {
    conv_backward_bias(&Tensor::zeros(&[2, 3]));
}

#[test]
fn conv_backward_bias_of_a_large_gradient_matches_f64_on_one_and_two_threads() {
    // [64, 32, 24, 24]: above the size where channels are spread over threads. Bound: each row of
    // 576 cells is summed pairwise in f32 (error ≤ ~log2(576)·ε·Σ|row| ≈ 10·6e-8·Σ|row|), the row
    // sums in f64; so |db − exact| ≤ 1e-6·Σ|dY| over the channel, with room to spare.
    let (n, o) = (64, 32);
    let mut rng = StdRng::seed_from_u64(5);
    let dy = Tensor::uniform(&[n, o, 24, 24], -1.0, 1.0, &mut rng);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| conv_backward_bias(&dy))
    };
    let (one, two) = (run(1), run(2));
    assert_eq!(
        one.data(),
        two.data(),
        "the thread count changed the bias gradient"
    );
    let (exact, magnitude) = (
        reference::conv_backward_bias(&dy),
        reference::conv_backward_bias(&abs(&dy)),
    );
    for ch in 0..o {
        let (exact, abs) = (exact[ch], magnitude[ch]);
        let err = (f64::from(one.data()[ch]) - exact).abs();
        assert!(
            err <= 1e-6 * abs,
            "channel {ch}: error {err:e}, sum of |dY| {abs}"
        );
    }
}
