//! The layers: each a struct holding its parameters and settings, with a `forward` made of
//! autograd ops (whose files hold the derivatives).

pub mod activation;
pub mod batch_norm;
pub mod conv;
pub mod dense;
pub mod dropout;
pub mod flatten;
pub mod pool;
pub mod upsample;

pub use activation::{LeakyRelu, Relu, Sigmoid, Tanh};
pub use batch_norm::{BatchNorm1d, BatchNorm2d};
pub use conv::{Conv1d, Conv2d};
pub use dense::Dense;
pub use dropout::Dropout;
pub use flatten::Flatten;
pub use pool::{AvgPool1d, AvgPool2d, GlobalAvgPool, MaxPool1d, MaxPool2d};
pub use upsample::Upsample;
