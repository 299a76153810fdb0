//! The layers: each a struct holding its parameters and settings, with a `forward` made of
//! autograd ops (whose files hold the derivatives).

pub mod batch_norm;
pub mod dense;

pub use batch_norm::{BatchNorm1d, BatchNorm2d};
pub use dense::Dense;
