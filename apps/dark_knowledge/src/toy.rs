//! The two-class toy problem of the tree-student experiment (`trees toy`).
//!
//! Points lie uniformly in the square `[−3, 3]²`. Their class is a coin tossed with a probability
//! that changes smoothly across a curved boundary:
//!
//! ```text
//! boundary:          x₂ = BEND · sin(FREQUENCY · x₁)
//! P(class 1 | x) = σ(SLOPE · (x₂ − BEND · sin(FREQUENCY · x₁)))      σ(z) = 1 / (1 + e^−z)
//! ```
//!
//! Far from the curve a label is almost always the side it lies on; near it, labels are nearly
//! coin flips. So even the best possible classifier, the one that knows `P` and answers the more
//! likely class, errs on about a tenth of the points (the Bayes error; the report computes it on
//! each test set from `P`). A model that fits the noisy labels exactly learns the noise with them;
//! a model that learns `P`, or a teacher's estimate of it, does not.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// How sharply the class probability changes across the boundary: chosen so that the Bayes
/// accuracy over the square (the mean of max(σ, 1 − σ) over the distance to the curve) is close
/// to the article's network, which a test of this file pins to a range.
pub const SLOPE: f64 = 2.3;
pub const BEND: f64 = 1.0;
pub const FREQUENCY: f64 = 1.5;
/// The square is `[−HALF_WIDTH, HALF_WIDTH]²`.
pub const HALF_WIDTH: f64 = 3.0;

/// `n` points of the problem: coordinates (`n × 2`, row-major), labels, and each point's true
/// `P(class 1 | x)`.
pub struct ToyData {
    pub points: Vec<f32>,
    pub labels: Vec<usize>,
    pub p_one: Vec<f64>,
}

/// `P(class 1 | x)` at `(x1, x2)`.
pub fn p_one(x1: f64, x2: f64) -> f64 {
    let distance = x2 - BEND * (FREQUENCY * x1).sin();
    1.0 / (1.0 + (-SLOPE * distance).exp())
}

/// `n` points drawn from `seed`: the same seed gives the same points and labels on every machine.
pub fn generate(n: usize, seed: u64) -> ToyData {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut data = ToyData {
        points: Vec::with_capacity(2 * n),
        labels: Vec::with_capacity(n),
        p_one: Vec::with_capacity(n),
    };
    for _ in 0..n {
        let x1 = rng.random_range(-HALF_WIDTH..HALF_WIDTH);
        let x2 = rng.random_range(-HALF_WIDTH..HALF_WIDTH);
        let p = p_one(x1, x2);
        data.points.extend([x1 as f32, x2 as f32]);
        data.labels.push(usize::from(rng.random::<f64>() < p));
        data.p_one.push(p);
    }
    data
}

/// The accuracy (%) of the best possible classifier on points of known `P(class 1 | x)`: the
/// expected share of labels equal to the more likely class.
pub fn bayes_accuracy(p_one: &[f64]) -> f64 {
    100.0 * p_one.iter().map(|p| p.max(1.0 - p)).sum::<f64>() / p_one.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_data_and_another_seed_other_data() {
        let (a, b, c) = (generate(500, 7), generate(500, 7), generate(500, 8));
        assert_eq!(a.points, b.points);
        assert_eq!(a.labels, b.labels);
        assert_ne!(a.points, c.points);
    }

    #[test]
    fn points_fill_the_square_and_labels_follow_the_probability() {
        let data = generate(20_000, 1);
        assert!(data
            .points
            .iter()
            .all(|&v| f64::from(v).abs() <= HALF_WIDTH));
        // Far above the curve (P > 0.99) almost every label is 1, far below almost every one 0.
        let share_one = |keep: &dyn Fn(f64) -> bool| {
            let picked: Vec<usize> = (0..20_000).filter(|&i| keep(data.p_one[i])).collect();
            picked.iter().filter(|&&i| data.labels[i] == 1).count() as f64 / picked.len() as f64
        };
        assert!(share_one(&|p| p > 0.99) > 0.98);
        assert!(share_one(&|p| p < 0.01) < 0.02);
        let middle = share_one(&|p| (0.4..0.6).contains(&p));
        assert!((0.35..0.65).contains(&middle), "{middle}");
    }

    #[test]
    fn the_probability_is_one_half_on_the_boundary_and_the_bayes_accuracy_near_ninety() {
        let x1: f64 = 0.7;
        assert!((p_one(x1, BEND * (FREQUENCY * x1).sin()) - 0.5).abs() < 1e-12);
        assert!(p_one(0.0, 2.0) > 0.99 && p_one(0.0, -2.0) < 0.01);
        assert_eq!(
            bayes_accuracy(&[0.5, 0.9, 0.2]),
            100.0 * (0.5 + 0.9 + 0.8) / 3.0
        );
        let accuracy = bayes_accuracy(&generate(50_000, 3).p_one);
        assert!((88.0..92.0).contains(&accuracy), "{accuracy}");
    }
}
