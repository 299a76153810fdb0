//! The feature matrix: `rows` samples by `cols` features, stored row-major, so sample `r`'s
//! feature `c` is `values[r · cols + c]` and a sample is one contiguous slice.

use crate::error::TreeError;

/// A checked feature matrix: non-empty, of the stated size, every value finite.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    rows: usize,
    cols: usize,
    values: Vec<f32>,
}

impl Features {
    /// Takes `values` as `rows × cols`, row-major. Fails on zero rows or columns, on a length
    /// other than `rows · cols`, on more than `u32::MAX` rows, and on any NaN or infinity.
    pub fn new(rows: usize, cols: usize, values: Vec<f32>) -> Result<Self, TreeError> {
        if rows == 0 {
            return Err(TreeError::Empty {
                what: "feature rows",
            });
        }
        if cols == 0 {
            return Err(TreeError::Empty {
                what: "feature columns",
            });
        }
        // Sorted columns store rows as u32 (see `columns`), halving their memory.
        if u32::try_from(rows).is_err() {
            return Err(TreeError::TooLarge {
                what: "feature rows",
                limit: u32::MAX as usize,
                found: rows,
            });
        }
        if values.len() != rows * cols {
            return Err(TreeError::LengthMismatch {
                what: "feature values (rows × cols)",
                expected: rows * cols,
                found: values.len(),
            });
        }
        check_finite("feature values", &values)?;
        Ok(Features { rows, cols, values })
    }

    /// Number of samples.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of features per sample.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Sample `r`'s features.
    pub fn row(&self, r: usize) -> &[f32] {
        &self.values[r * self.cols..(r + 1) * self.cols]
    }

    /// Sample `r`'s feature `c`.
    pub fn get(&self, r: usize, c: usize) -> f32 {
        self.values[r * self.cols + c]
    }
}

/// Fails on the first NaN or infinity in `values`, naming it and its index.
pub fn check_finite(what: &'static str, values: &[f32]) -> Result<(), TreeError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(TreeError::NotFinite {
            what,
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}
