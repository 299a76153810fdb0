//! Elementwise ops on tensors: `y[i] = f(x[i])` and `z[i] = f(x[i], y[i])` with NumPy broadcasting.
//!
//! What an op computes is separated from how it is looped (the dfdx habit): each op here is one line
//! naming its scalar function (and its SIMD slice kernel where one exists), and two generic loops in
//! [`kernel`] run all of them — splitting large tensors across threads with
//! [`for_each_chunk_mut`](crate::parallel::for_each_chunk_mut) and walking broadcast operands by
//! rows. Read `kernel.rs` first.
//!
//! | file          | what                                                                    |
//! |---------------|-------------------------------------------------------------------------|
//! | `kernel.rs`   | `map`, `zip_map`, and the broadcasting row walk behind every binary op  |
//! | `unary.rs`    | `neg exp ln sqrt relu sigmoid tanh abs powf clamp leaky_relu`           |
//! | `binary.rs`   | `add sub mul div maximum` (broadcasting), `add_scalar` … `div_scalar`   |
//! | `ops.rs`      | `std::ops`: `&a + &b`, `&a * 2.0`, `-&a`, …                             |
//! | `inplace.rs`  | `add_ sub_ mul_ scale_ axpy_ fill_`, the optimiser's in-place updates   |
//!
//! Non-goals: no derivatives here (they live in `autograd`, which calls these ops); no views, so a
//! broadcast operand is read through stride-0 axes, never materialised.

mod binary;
mod inplace;
mod kernel;
mod ops;
mod unary;
