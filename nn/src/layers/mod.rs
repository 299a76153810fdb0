//! The layers: each a struct holding its parameters and settings, with a `forward` made of
//! autograd ops (whose files hold the derivatives).

pub mod dense;

pub use dense::Dense;
