//! Shifting output biases: the correction Hinton et al. apply to a student whose transfer set
//! lacked some classes.
//!
//! A student that never saw a 3 learns from the teacher's soft targets what a 3 looks like — the
//! small probability every 5 or 8 gives to "3" — but it also learns that "3" is never the answer:
//! on its transfer set the teacher never put most of its mass there. Its 3-logit rises on threes,
//! yet not far enough to win. The output bias of a class adds the same number to its logit for
//! every input, so raising it by `s` moves the decision boundary without changing what the
//! network has learnt:
//!
//! ```text
//! z_c(x) = w_c · h(x) + b_c      →      z_c(x) + s   for c in the shifted classes
//! ```
//!
//! Raising the absent classes by `s` is the same as lowering all the others by `s` (a softmax and
//! an argmax ignore a constant added to every logit), which is how the paper describes the
//! two-digit experiment ("the biases for the 7 and 8 were reduced by 7.6").
//!
//! The shift is chosen on the validation split — which holds every class — and only then is the
//! test set scored.

use nn::{Module, Sequential};
use tensor::Tensor;

/// Adds `shift` to the output bias of each class in `classes`: the last parameter of `model`,
/// which must be a bias of one value for each of the model's `outputs`.
pub fn shift_output_bias(
    model: &Sequential,
    outputs: usize,
    classes: &[usize],
    shift: f32,
) -> Result<(), String> {
    let parameters = model.parameters();
    let (name, bias) = parameters
        .last()
        .ok_or("the model has no parameters, so no output bias to shift")?;
    let width = bias.shape();
    if !name.ends_with("bias") || width != [outputs] {
        return Err(format!(
            "expected the model's last parameter to be its output bias, of shape [{outputs}], \
             found {name} of shape {width:?}"
        ));
    }
    if let Some(&c) = classes.iter().find(|&&c| c >= width[0]) {
        return Err(format!(
            "class {c} has no output: the model has {} outputs",
            width[0]
        ));
    }
    let mut value = bias.value_mut();
    let data = value.data_mut();
    for &c in classes {
        data[c] += shift;
    }
    Ok(())
}

/// Errors of `logits` against `labels` once `shift` is added to the logits of `classes`: what
/// [`shift_output_bias`] would give, computed from logits already at hand.
pub fn errors_with_shift(
    logits: &Tensor,
    labels: &[usize],
    classes: &[usize],
    shift: f32,
) -> usize {
    let width = logits.shape()[1];
    let mut shifted = vec![false; width];
    for &c in classes {
        shifted[c] = true;
    }
    logits
        .data()
        .chunks(width)
        .zip(labels)
        .filter(|(row, &label)| {
            let mut best = 0;
            let mut best_value = f32::NEG_INFINITY;
            for (c, &z) in row.iter().enumerate() {
                let z = if shifted[c] { z + shift } else { z };
                // The first of equal logits wins, as `kd::predictions` decides.
                if z > best_value {
                    best = c;
                    best_value = z;
                }
            }
            best != label
        })
        .count()
}

/// The shift of `grid` with the fewest errors on the given (validation) logits and labels; among
/// equals, the smallest, so that no shift is made without a gain. Returns the shift and its
/// errors.
pub fn choose_shift(
    logits: &Tensor,
    labels: &[usize],
    classes: &[usize],
    grid: &[f32],
) -> (f32, usize) {
    let mut best: (f32, usize) = (0.0, errors_with_shift(logits, labels, classes, 0.0));
    for &s in grid {
        let errors = errors_with_shift(logits, labels, classes, s);
        if errors < best.1 || (errors == best.1 && s.abs() < best.0.abs()) {
            best = (s, errors);
        }
    }
    best
}

/// The shifts tried: 0 to `max` in steps of `step`.
pub fn shift_grid(max: f32, step: f32) -> Vec<f32> {
    let n = (max / step).round() as usize;
    (0..=n).map(|i| i as f32 * step).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use autograd::{no_grad, Var};
    use kd::ModelSpec;

    fn mlp() -> Sequential {
        let spec: ModelSpec = "mlp:6".parse().unwrap();
        spec.build(&[4], 5, 7).unwrap()
    }

    fn logits(model: &mut Sequential, x: &Tensor) -> Tensor {
        no_grad(|| model.forward(&Var::constant(x.clone())).value().clone())
    }

    #[test]
    fn the_shift_changes_only_the_shifted_classes_logits_and_by_the_shift() {
        let mut model = mlp();
        let x =
            Tensor::from_vec((0..12).map(|i| (i as f32 * 0.37).sin()).collect(), &[3, 4]).unwrap();
        let before = logits(&mut model, &x);
        shift_output_bias(&model, 5, &[3], 2.5).unwrap();
        let after = logits(&mut model, &x);
        for (i, (a, b)) in after.data().iter().zip(before.data()).enumerate() {
            if i % 5 == 3 {
                assert!((a - b - 2.5).abs() < 1e-5, "row {}: {b} → {a}", i / 5);
            } else {
                assert_eq!(a.to_bits(), b.to_bits(), "logit {i} moved");
            }
        }
    }

    #[test]
    fn a_class_without_an_output_is_refused() {
        let err = shift_output_bias(&mlp(), 5, &[5], 1.0).unwrap_err();
        assert_eq!(err, "class 5 has no output: the model has 5 outputs");
        // A model whose last parameter is not a bias of one value per output.
        let err = shift_output_bias(&mlp(), 6, &[1], 1.0).unwrap_err();
        assert!(err.contains("of shape [6], found"), "{err}");
    }

    #[test]
    fn shifting_several_classes_gives_the_errors_computed_from_the_logits() {
        let mut model = mlp();
        let x =
            Tensor::from_vec((0..80).map(|i| (i as f32 * 0.71).cos()).collect(), &[20, 4]).unwrap();
        let before = logits(&mut model, &x);
        let labels: Vec<usize> = (0..20).map(|i| i % 5).collect();
        let classes = [0, 2, 4];
        for shift in [0.3, 1.0, 4.0] {
            let predicted = errors_with_shift(&before, &labels, &classes, shift);
            let mut shifted = mlp();
            shift_output_bias(&shifted, 5, &classes, shift).unwrap();
            let after = logits(&mut shifted, &x);
            assert_eq!(
                errors_with_shift(&after, &labels, &[], 0.0),
                predicted,
                "{shift}"
            );
        }
    }

    #[test]
    fn the_chosen_shift_is_the_smallest_with_the_fewest_validation_errors() {
        // Three samples of class 2 whose 2-logit trails the best by 1, 2 and 5; one sample of
        // class 0 that a shift above 3 turns into a 2.
        let logits = Tensor::from_vec(
            vec![
                1.0, 0.0, 0.0, //
                0.0, 2.0, 0.0, //
                5.0, 0.0, 0.0, //
                3.0, 0.0, 0.0,
            ],
            &[4, 3],
        )
        .unwrap();
        let labels = [2, 2, 2, 0];
        assert_eq!(errors_with_shift(&logits, &labels, &[2], 0.0), 3);
        // Past 1 the first is right, past 2 the second; past 3 the class-0 sample turns; past 5
        // the third.
        let grid = shift_grid(6.0, 0.5);
        assert_eq!(choose_shift(&logits, &labels, &[2], &grid), (2.5, 1));
        // Nothing to gain: no shift.
        assert_eq!(choose_shift(&logits, &[0, 1, 0, 0], &[2], &grid), (0.0, 0));
    }
}
