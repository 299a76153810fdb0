//! The sorted columns keep their invariant through splits: every leaf's range holds its rows,
//! and each column's values over the range are the leaf's values of that feature, sorted.

use proptest::prelude::*;
use trees::columns::SortedColumns;
use trees::Features;

proptest! {
    #[test]
    fn every_leaf_keeps_its_rows_and_sorted_values(
        (n, values) in (2usize..60).prop_flat_map(|n| {
            (Just(n), prop::collection::vec((0i32..5).prop_map(|v| v as f32), n * 3))
        }),
        splits in prop::collection::vec((any::<prop::sample::Index>(), 0usize..3, 0i32..5), 1..8),
    ) {
        let features = Features::new(n, 3, values).unwrap();
        let mut columns = SortedColumns::new(&features);
        let mut leaves = Vec::new();
        leaves.push(0..n);
        for (which, feature, cut) in splits {
            let range = leaves.swap_remove(which.index(leaves.len()));
            let threshold = cut as f32 + 0.5;
            let boundary = columns.split(range.clone(), feature, threshold);
            let left = columns.rows_of(range.start..boundary);
            prop_assert!(left.iter().all(|&r| features.get(r, feature) <= threshold));
            let right = columns.rows_of(boundary..range.end);
            prop_assert!(right.iter().all(|&r| features.get(r, feature) > threshold));
            leaves.push(range.start..boundary);
            leaves.push(boundary..range.end);
        }
        for range in leaves {
            let rows = columns.rows_of(range.clone());
            prop_assert!(rows.windows(2).all(|w| w[0] < w[1]), "rows in increasing order");
            for f in 0..3 {
                let mut expected: Vec<f32> = rows.iter().map(|&r| features.get(r, f)).collect();
                expected.sort_by(f32::total_cmp);
                let column = columns.column(f, range.clone());
                let held: Vec<f32> = column.iter().map(|e| e.value).collect();
                prop_assert_eq!(&held, &expected, "feature {} over {:?}", f, range);
                // Rows are only promised where the values differ (see `columns`).
                if held.first() != held.last() {
                    prop_assert!(column.iter().all(|e| features.get(e.row as usize, f) == e.value
                        && rows.contains(&(e.row as usize))));
                }
            }
        }
    }
}
