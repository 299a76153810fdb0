//! Shape ops: each against an index-by-index definition, and each adjoint pair against the identity
//! ⟨op(x), g⟩ = ⟨x, adjoint(g)⟩ that its backward relies on.

mod common;

use common::floats;
use proptest::prelude::*;
use tensor::reference;
use tensor::Tensor;

/// Row-major multi-index of flat position `flat` in `shape`.
fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for a in (0..shape.len()).rev() {
        index[a] = flat % shape[a];
        flat /= shape[a];
    }
    index
}

/// `⟨a, b⟩` in f64 ([`reference::dot`]).
fn dot(a: &Tensor, b: &Tensor) -> f64 {
    reference::dot(a.data(), b.data())
}

fn shape_strategy() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..5, 1..5)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn permute_moves_every_element_where_its_definition_says(
        shape in shape_strategy(), seed in any::<u64>(), shuffle in any::<u64>(),
    ) {
        let t = floats(&shape, seed);
        // A permutation of the axes drawn from `shuffle`.
        let mut order: Vec<usize> = (0..shape.len()).collect();
        let mut s = shuffle;
        for i in (1..order.len()).rev() {
            order.swap(i, (s % (i as u64 + 1)) as usize);
            s /= i as u64 + 1;
        }
        let p = t.permute(&order);
        for flat in 0..p.numel() {
            let out_index = unravel(flat, p.shape());
            let mut in_index = vec![0; shape.len()];
            for (i, &a) in order.iter().enumerate() {
                in_index[a] = out_index[i];
            }
            prop_assert_eq!(p.data()[flat], t.at(&in_index));
        }
    }

    #[test]
    fn slice_and_slice_add_are_adjoint(shape in shape_strategy(), seed in any::<u64>(), pick in any::<(usize, usize, usize)>()) {
        let axis = pick.0 % shape.len();
        let n = shape[axis];
        let start = pick.1 % (n + 1);
        let end = start + pick.2 % (n - start + 1);
        let x = floats(&shape, seed);
        let y = x.slice(axis, start, end);
        // Index-by-index: y[…, j, …] = x[…, start + j, …].
        for flat in 0..y.numel() {
            let mut index = unravel(flat, y.shape());
            let got = y.data()[flat];
            index[axis] += start;
            prop_assert_eq!(got, x.at(&index));
        }
        let g = floats(y.shape(), seed ^ 9);
        let mut back = Tensor::zeros(&shape);
        back.slice_add_(axis, start, &g);
        prop_assert!((dot(&y, &g) - dot(&x, &back)).abs() < 1e-4);
    }

    #[test]
    fn gather_and_scatter_add_rows_are_adjoint(rows in 1usize..8, cols in 0usize..5, seed in any::<u64>(), picks in prop::collection::vec(any::<usize>(), 0..12)) {
        let x = floats(&[rows, cols], seed);
        let indices: Vec<usize> = picks.iter().map(|p| p % rows).collect();
        let y = x.gather_rows(&indices);
        prop_assert_eq!(y.shape(), &[indices.len(), cols]);
        for (i, &r) in indices.iter().enumerate() {
            prop_assert_eq!(&y.data()[i * cols..(i + 1) * cols], &x.data()[r * cols..(r + 1) * cols]);
        }
        let g = floats(y.shape(), seed ^ 3);
        let mut back = Tensor::zeros(&[rows, cols]);
        back.scatter_add_rows(&indices, &g);
        prop_assert!((dot(&y, &g) - dot(&x, &back)).abs() < 1e-4);
    }

    #[test]
    fn concat_undoes_slicing(shape in shape_strategy(), seed in any::<u64>(), pick in any::<(usize, usize)>()) {
        let axis = pick.0 % shape.len();
        let cut = pick.1 % (shape[axis] + 1);
        let x = floats(&shape, seed);
        let parts = [x.slice(axis, 0, cut), x.slice(axis, cut, shape[axis])];
        prop_assert_eq!(Tensor::concat(&[&parts[0], &parts[1]], axis), x);
    }
}

#[test]
fn transpose_of_a_matrix() {
    let m = Tensor::arange(0.0, 6.0, 1.0).reshape(&[2, 3]);
    let t = m.transpose(0, 1);
    assert_eq!(t.shape(), &[3, 2]);
    assert_eq!(t.data(), &[0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
}

#[test]
fn stack_inserts_a_new_axis() {
    let a = Tensor::from_vec(vec![1.0, 2.0], &[2]).unwrap();
    let b = Tensor::from_vec(vec![3.0, 4.0], &[2]).unwrap();
    let rows = Tensor::stack(&[&a, &b], 0);
    assert_eq!(rows.shape(), &[2, 2]);
    assert_eq!(rows.data(), &[1.0, 2.0, 3.0, 4.0]);
    let columns = Tensor::stack(&[&a, &b], 1);
    assert_eq!(columns.data(), &[1.0, 3.0, 2.0, 4.0]);
}

#[test]
fn broadcast_to_repeats_size_one_axes() {
    let col = Tensor::from_vec(vec![1.0, 2.0], &[2, 1]).unwrap();
    let b = col.broadcast_to(&[3, 2, 2]);
    assert_eq!(b.data(), &[1.0, 1.0, 2.0, 2.0].repeat(3)[..]);
    let err = std::panic::catch_unwind(|| col.broadcast_to(&[3, 3])).unwrap_err();
    let message = err.downcast_ref::<String>().unwrap().clone();
    assert!(
        message.contains("broadcast_to")
            && message.contains("[2, 1]")
            && message.contains("[3, 3]"),
        "{message}"
    );
}

#[test]
fn bad_arguments_are_named() {
    let t = Tensor::zeros(&[4, 3]);
    let message = |f: &dyn Fn()| {
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_err();
        err.downcast_ref::<String>().unwrap().clone()
    };
    assert!(message(&|| drop(t.gather_rows(&[0, 4])))
        .contains("row index 4 is out of range for 4 rows"));
    assert!(message(&|| drop(t.slice(1, 2, 5))).contains("2..5"));
    assert!(message(&|| drop(t.permute(&[0, 0]))).contains("permute"));
    let other = Tensor::zeros(&[4, 2, 1]);
    assert!(message(&|| drop(Tensor::concat(&[&t, &other], 0))).contains("concat"));
}
