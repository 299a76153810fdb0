//! # trees — decision trees
//!
//! Classification and regression trees (Breiman et al. 1984, CART), built for one experiment:
//! distilling a network into a tree, by fitting the tree on the teacher's soft targets (target
//! vectors, squared error) rather than on hard labels (Gini). Trees are compared at equal leaf
//! counts, so growth is best-first and stops at `max_leaves`.
//!
//! ## What is here
//! - [`data`]: the feature matrix, checked on construction.
//! - [`criterion`]: what is fitted (labels or vectors) and its impurity, Gini or squared error.
//! - [`split`]: the best threshold on one feature, by one sort and one sweep.
//! - [`reference`](mod@reference): the same by trying every threshold, which the sweep is tested against.
//! - [`columns`]: every feature's samples sorted once, kept sorted per leaf as the tree grows.
//! - [`tree`]: best-first growth under limits, the feature search in parallel, prediction.
//! - [`print`](mod@print): a tree as indented text.
//! - [`save`]: a tree as JSON, saved and loaded back checked.
//!
//! ## Reading order
//! `criterion` → `reference` → `split` → `columns` → `tree`.
//!
//! Non-goals: ensembles (forests, boosting), pruning, missing values, categorical splits.

pub mod columns;
pub mod criterion;
pub mod data;
pub mod error;
pub mod print;
pub mod reference;
pub mod save;
pub mod split;
pub mod tree;

pub use criterion::Targets;
pub use data::Features;
pub use error::TreeError;
pub use split::Split;
pub use tree::{Limits, Node, Tree};
