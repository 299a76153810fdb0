//! Every feature's samples, sorted once for the whole fit.
//!
//! Sorting a node's samples by every feature at every node costs `O(n log n)` per feature per
//! node. Instead, sort each feature's column once, and keep one invariant while the tree grows:
//!
//! > every leaf owns the same range `start..end` of every column, and within that range the
//! > column holds the leaf's values of that feature in increasing order, each with its row —
//! > except in a column whose values in the range are all equal, where the rows may be others'.
//!
//! The root owns `0..n`. Splitting a leaf on feature `f` at a threshold sends the first `n_L`
//! entries of column `f`'s range left; every other column's range is then *stably* partitioned
//! into those samples and the rest, which keeps each half sorted. The left child owns
//! `start..start + n_L` and the right child the remainder, so a node's split search is a
//! [`sweep`](crate::split::sweep) over slices that are already sorted, and a split costs
//! `O(n_node)` per column instead of a sort.
//!
//! The exception is what saves most of that cost on images: a column that is constant over a
//! leaf (a border pixel, always background) is constant over every descendant, cannot split any
//! of them, and is never read for its rows (a sweep returns at once when the first value equals
//! the last); so it is not partitioned at all. Its values in each child's range are still right,
//! since they are all the same value. The leaf's rows themselves are kept in a column of their
//! own, partitioned at every split.
//!
//! Columns are independent, so both the sort and the partition run in parallel over them.

use std::ops::Range;

use rayon::prelude::*;

use crate::data::Features;
use crate::split::Entry;

/// The columns of a feature matrix as [`Entry`]s, column-major: column `f` is
/// `entries[f·rows .. (f + 1)·rows]`.
pub struct SortedColumns {
    rows: usize,
    cols: usize,
    entries: Vec<Entry>,
    /// Every leaf's rows, in its range, in increasing order.
    rows_by_leaf: Vec<u32>,
    /// Scratch for [`split`](SortedColumns::split): for each row of the range being split,
    /// whether it goes left. Only the rows of that range are read, and all of them are written
    /// first, so it is never cleared.
    goes_left: Vec<bool>,
}

thread_local! {
    /// Each thread's scratch for the right side of a partition, kept between splits: a fresh one
    /// per split would have the kernel zero its pages again every time.
    static RIGHT: std::cell::RefCell<Vec<Entry>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Enough entries per parallel task that the work outweighs handing it to a thread.
const ENTRIES_PER_TASK: usize = 16 * 1024;

/// The fewest columns a parallel task over a range of `len` entries per column should take.
pub fn columns_per_task(len: usize) -> usize {
    ENTRIES_PER_TASK.div_ceil(len.max(1))
}

impl SortedColumns {
    /// Sorts every column of `features`; equal values keep the order of their rows (a stable
    /// sort), so the result does not depend on the number of threads.
    pub fn new(features: &Features) -> Self {
        let (rows, cols) = (features.rows(), features.cols());
        let mut entries = vec![Entry { value: 0.0, row: 0 }; rows * cols];
        entries
            .par_chunks_mut(rows)
            .enumerate()
            .for_each(|(feature, column)| {
                for (row, entry) in column.iter_mut().enumerate() {
                    *entry = Entry {
                        value: features.get(row, feature),
                        row: row as u32,
                    };
                }
                column.sort_by(|a, b| a.value.total_cmp(&b.value));
            });
        SortedColumns {
            rows,
            cols,
            entries,
            rows_by_leaf: (0..rows as u32).collect(),
            goes_left: vec![false; rows],
        }
    }

    /// Number of columns (features).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Column `feature`'s entries in `range`: one leaf's samples, sorted by that feature.
    pub fn column(&self, feature: usize, range: Range<usize>) -> &[Entry] {
        let column = &self.entries[feature * self.rows..(feature + 1) * self.rows];
        &column[range]
    }

    /// The rows of the leaf owning `range`, in increasing order.
    pub fn rows_of(&self, range: Range<usize>) -> Vec<usize> {
        self.rows_by_leaf[range]
            .iter()
            .map(|&r| r as usize)
            .collect()
    }

    /// Splits the leaf owning `range` at `x_feature ≤ threshold` and returns where its left
    /// child's range ends: the left child owns `range.start..boundary`, the right child
    /// `boundary..range.end`, both in every column (the invariant in the module's documentation).
    pub fn split(&mut self, range: Range<usize>, feature: usize, threshold: f32) -> usize {
        let rows = self.rows;
        let split_column = &self.entries[feature * rows..(feature + 1) * rows][range.clone()];
        let n_left = split_column.partition_point(|e| e.value <= threshold);
        if n_left == 0 || n_left == range.len() {
            // Everything goes one way (the split column may then be constant over the range, so
            // its rows cannot be trusted, but there is nothing to move either).
            return range.start + n_left;
        }
        for (i, e) in split_column.iter().enumerate() {
            self.goes_left[e.row as usize] = i < n_left;
        }
        let goes_left = &self.goes_left;
        stable_partition(
            &mut self.rows_by_leaf[range.clone()],
            &mut Vec::new(),
            |&r| goes_left[r as usize],
        );
        self.entries
            .par_chunks_mut(rows)
            .with_min_len(columns_per_task(range.len()))
            .for_each(|column| {
                let part = &mut column[range.clone()];
                if part.first().map(|e| e.value) != part.last().map(|e| e.value) {
                    RIGHT.with_borrow_mut(|right| {
                        stable_partition(part, right, |e| goes_left[e.row as usize])
                    });
                }
            });
        range.start + n_left
    }
}

/// Reorders `part` so that the items for which `goes_left` holds come first, each side keeping
/// its order. In place: left items are compacted forward (the write position never passes the
/// read position), right ones wait in `right`, then fill the end.
fn stable_partition<T: Copy>(part: &mut [T], right: &mut Vec<T>, goes_left: impl Fn(&T) -> bool) {
    right.clear();
    let mut written = 0;
    for i in 0..part.len() {
        let item = part[i];
        if goes_left(&item) {
            part[written] = item;
            written += 1;
        } else {
            right.push(item);
        }
    }
    part[written..].copy_from_slice(right);
}
