//! SIMD kernels on slices, with the instruction set chosen at run time.
//!
//! Every hot elementwise loop and reduction of the engine ends up in one of the functions below. Each
//! exists in up to four forms:
//!
//! | level            | file          | lanes | notes                                             |
//! |------------------|---------------|-------|---------------------------------------------------|
//! | [`Level::Scalar`] | [`scalar`]    | 1     | plain loops; the reference the others are tested against |
//! | [`Level::Avx2`]   | `avx2.rs`     | 8     | x86-64 with AVX2 **and** FMA                       |
//! | [`Level::Avx512`] | `avx512.rs`   | 16    | x86-64 with AVX-512F; tails done with lane masks   |
//! | [`Level::Neon`]   | `neon.rs`     | 4     | aarch64 (NEON is always there)                     |
//!
//! ## How a path is chosen
//! [`level()`] asks the CPU once (cached in a `OnceLock`) and picks the widest level it can run. The
//! environment variable `DISTILLERY_SIMD=scalar|avx2|avx512|neon` overrides that — to compare paths,
//! or to rule the vector code out while hunting a bug; a level the CPU cannot run is refused with a
//! warning on stderr, since executing AVX-512 instructions on a CPU without them is undefined
//! behaviour, not a slow path.
//!
//! The plain functions (`add`, `sum`, …) dispatch on [`level()`]. Each has an explicit twin taking
//! the level (`add_with(level, …)`), so tests can run every path that [`available_levels()`] lists
//! on the machine at hand; the twins check that the level is available and panic otherwise.
//!
//! ## Contracts shared by all levels
//! - Slices passed together must have equal lengths (checked, with a message naming the kernel).
//! - Elementwise arithmetic (`add` … `mul_scalar`, `relu`, `maximum`) is exact IEEE arithmetic, so
//!   all levels agree bit for bit. `axpy` and `dot` use fused multiply-add on the vector levels and
//!   so may differ from the scalar path in the last bit.
//! - **NaN propagates** through `maximum`, `relu` and `max` on every level: a NaN in the input gives
//!   NaN in the output (as in PyTorch), so a diverging run is seen, not hidden. `f32::max` would
//!   ignore the NaN; the scalar reference is written to propagate it instead.
//! - `sum` and `dot` are *pairwise*: blocks of [`SUM_BLOCK`] elements are summed plainly (on the
//!   vector levels, in several independent vector accumulators), and the block totals are added in a
//!   balanced binary tree. The rounding error then grows like `(SUM_BLOCK + log₂ n)·ε` instead of
//!   `n·ε`, which matters for a loss summed over a million elements. The vector levels do not give
//!   the same bits as the scalar one (the additions are grouped differently), only the same bound.
//! - `exp` on the vector levels is a polynomial (see `avx2::exp8` for the method). Its relative error
//!   against f64 `exp`, measured over every f32 input with a normal result on AVX2, is at most
//!   8.5e-8 (under 1.5 ulp; the scalar level's `f32::exp` is correctly rounded, 6.0e-8). Below about
//!   −103.97 it returns 0, above about 88.72 +∞, and NaN for NaN, like `f32::exp`.

use std::sync::OnceLock;

pub mod scalar;

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(target_arch = "aarch64")]
mod neon;

/// Length of the blocks that `sum` and `dot` add up plainly before combining block totals pairwise.
/// 128 keeps the plain chains short (the error bound is about `(128 + log₂ n)·ε`) while leaving
/// the recursion over blocks a small cost next to the plain sums inside them.
pub const SUM_BLOCK: usize = 128;

/// An instruction set the kernels can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Plain Rust loops (what the compiler auto-vectorises for the baseline target, if anything).
    Scalar,
    /// x86-64 AVX2 with FMA: 8 lanes of `f32`.
    Avx2,
    /// x86-64 AVX-512F: 16 lanes of `f32`, with masked loads and stores for the tails.
    Avx512,
    /// aarch64 NEON (Advanced SIMD): 4 lanes of `f32`.
    Neon,
}

impl Level {
    /// The name used by `DISTILLERY_SIMD`: `scalar`, `avx2`, `avx512` or `neon`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Scalar => "scalar",
            Level::Avx2 => "avx2",
            Level::Avx512 => "avx512",
            Level::Neon => "neon",
        }
    }

    /// The level with this name (case-insensitive), or `None`.
    pub fn from_name(name: &str) -> Option<Level> {
        [Level::Scalar, Level::Avx2, Level::Avx512, Level::Neon]
            .into_iter()
            .find(|l| l.name().eq_ignore_ascii_case(name.trim()))
    }

    /// The number of `f32` lanes of one vector register at this level.
    pub fn lanes(self) -> usize {
        match self {
            Level::Scalar => 1,
            Level::Avx2 => 8,
            Level::Avx512 => 16,
            Level::Neon => 4,
        }
    }

    /// Whether this CPU can run the level.
    pub fn is_available(self) -> bool {
        match self {
            Level::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(target_arch = "aarch64")]
            Level::Neon => std::arch::is_aarch64_feature_detected!("neon"),
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }
}

/// Every level this CPU can run, `Scalar` first and the widest last.
pub fn available_levels() -> Vec<Level> {
    [Level::Scalar, Level::Neon, Level::Avx2, Level::Avx512]
        .into_iter()
        .filter(|l| l.is_available())
        .collect()
}

/// The level the plain kernels use: the widest available, unless `DISTILLERY_SIMD` names another
/// available one. Decided on the first call and fixed for the life of the process.
pub fn level() -> Level {
    static LEVEL: OnceLock<Level> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        let detected = *available_levels()
            .last()
            .expect("Scalar is always available");
        choose_level(std::env::var("DISTILLERY_SIMD").ok().as_deref(), detected)
    })
}

/// Applies the `DISTILLERY_SIMD` override (if any) to the detected level, warning about names it
/// does not know and levels this CPU cannot run.
fn choose_level(requested: Option<&str>, detected: Level) -> Level {
    let Some(name) = requested.filter(|s| !s.trim().is_empty()) else {
        return detected;
    };
    match Level::from_name(name) {
        Some(wanted) if wanted.is_available() => wanted,
        Some(wanted) => {
            eprintln!(
                "distillery: DISTILLERY_SIMD={name}: this CPU cannot run {}; using {}",
                wanted.name(),
                detected.name()
            );
            detected
        }
        None => {
            eprintln!(
                "distillery: DISTILLERY_SIMD={name} is not one of scalar, avx2, avx512, neon; \
                 using {}",
                detected.name()
            );
            detected
        }
    }
}

/// Panics unless the CPU can run `level`: the explicit `*_with` kernels are safe functions, so they
/// must never reach an instruction the CPU lacks.
#[track_caller]
fn check_level(kernel: &str, level: Level) {
    assert!(
        level.is_available(),
        "simd::{kernel}: level {level:?} is not available on this CPU (available: {:?})",
        available_levels()
    );
}

#[track_caller]
fn check_len(kernel: &str, what: &str, a: usize, b: usize) {
    assert!(
        a == b,
        "simd::{kernel}: slices must have equal lengths, found {what} = {a} and {b}"
    );
}

/// Calls `$f` from the module of `$level` (the scalar one for levels this target has no code for).
///
/// SAFETY (of the `unsafe` blocks this expands to): the vector functions are `unsafe` only because
/// of `#[target_feature]`; every caller has checked that `$level` is available (`check_level`, or
/// `level()` which only returns available levels), and the slice lengths have been checked.
macro_rules! dispatch {
    ($level:expr, $f:ident($($arg:expr),*)) => {
        match $level {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: see the macro's doc: the level is available, the lengths checked.
            Level::Avx512 => unsafe { avx512::$f($($arg),*) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            Level::Avx2 => unsafe { avx2::$f($($arg),*) },
            #[cfg(target_arch = "aarch64")]
            // SAFETY: as above.
            Level::Neon => unsafe { neon::$f($($arg),*) },
            _ => scalar::$f($($arg),*),
        }
    };
}

/// Defines `$name(a, b, out)` and `$with(level, a, b, out)` for a binary elementwise kernel.
macro_rules! binary_kernel {
    ($(#[$doc:meta])* $name:ident, $with:ident) => {
        $(#[$doc])*
        #[track_caller]
        pub fn $name(a: &[f32], b: &[f32], out: &mut [f32]) {
            check_len(stringify!($name), "a, b", a.len(), b.len());
            check_len(stringify!($name), "a, out", a.len(), out.len());
            dispatch!(level(), $name(a, b, out))
        }
        #[doc = concat!("[`", stringify!($name), "`] on an explicit level (which must be available).")]
        #[track_caller]
        pub fn $with(level: Level, a: &[f32], b: &[f32], out: &mut [f32]) {
            check_level(stringify!($with), level);
            check_len(stringify!($with), "a, b", a.len(), b.len());
            check_len(stringify!($with), "a, out", a.len(), out.len());
            dispatch!(level, $name(a, b, out))
        }
    };
}

/// Defines `$name(a, out)` and `$with(level, a, out)` for a unary elementwise kernel.
macro_rules! unary_kernel {
    ($(#[$doc:meta])* $name:ident, $with:ident) => {
        $(#[$doc])*
        #[track_caller]
        pub fn $name(a: &[f32], out: &mut [f32]) {
            check_len(stringify!($name), "a, out", a.len(), out.len());
            dispatch!(level(), $name(a, out))
        }
        #[doc = concat!("[`", stringify!($name), "`] on an explicit level (which must be available).")]
        #[track_caller]
        pub fn $with(level: Level, a: &[f32], out: &mut [f32]) {
            check_level(stringify!($with), level);
            check_len(stringify!($with), "a, out", a.len(), out.len());
            dispatch!(level, $name(a, out))
        }
    };
}

/// Defines `$name(a, s, out)` and `$with(level, a, s, out)` for a kernel with a scalar operand.
macro_rules! scalar_kernel {
    ($(#[$doc:meta])* $name:ident, $with:ident) => {
        $(#[$doc])*
        #[track_caller]
        pub fn $name(a: &[f32], s: f32, out: &mut [f32]) {
            check_len(stringify!($name), "a, out", a.len(), out.len());
            dispatch!(level(), $name(a, s, out))
        }
        #[doc = concat!("[`", stringify!($name), "`] on an explicit level (which must be available).")]
        #[track_caller]
        pub fn $with(level: Level, a: &[f32], s: f32, out: &mut [f32]) {
            check_level(stringify!($with), level);
            check_len(stringify!($with), "a, out", a.len(), out.len());
            dispatch!(level, $name(a, s, out))
        }
    };
}

binary_kernel!(
    /// `out[i] = a[i] + b[i]`.
    add,
    add_with
);
binary_kernel!(
    /// `out[i] = a[i] − b[i]`.
    sub,
    sub_with
);
binary_kernel!(
    /// `out[i] = a[i] · b[i]`.
    mul,
    mul_with
);
binary_kernel!(
    /// `out[i] = a[i] / b[i]`.
    div,
    div_with
);
binary_kernel!(
    /// `out[i] = max(a[i], b[i])`, NaN if either is NaN.
    maximum,
    maximum_with
);
scalar_kernel!(
    /// `out[i] = a[i] + s`.
    add_scalar,
    add_scalar_with
);
scalar_kernel!(
    /// `out[i] = a[i] · s`.
    mul_scalar,
    mul_scalar_with
);
unary_kernel!(
    /// `out[i] = max(a[i], 0)`, NaN for NaN.
    relu,
    relu_with
);
unary_kernel!(
    /// `out[i] = exp(a[i])`: 0 below about −103.3, +∞ above about 88.72, NaN for NaN.
    exp,
    exp_with
);

/// `y[i] += alpha · x[i]` (BLAS's axpy). Fused multiply-add on the vector levels.
///
/// The definition, as plain loops: [`reference::axpy`](crate::reference::axpy).
#[track_caller]
pub fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    check_len("axpy", "x, y", x.len(), y.len());
    dispatch!(level(), axpy(alpha, x, y))
}
/// [`axpy`] on an explicit level (which must be available).
#[track_caller]
pub fn axpy_with(level: Level, alpha: f32, x: &[f32], y: &mut [f32]) {
    check_level("axpy_with", level);
    check_len("axpy_with", "x, y", x.len(), y.len());
    dispatch!(level, axpy(alpha, x, y))
}

/// `Σ a[i]`, summed pairwise (see the module notes); 0 for an empty slice.
///
/// The definition, as plain loops: [`reference::sum`](crate::reference::sum).
pub fn sum(a: &[f32]) -> f32 {
    dispatch!(level(), sum(a))
}
/// [`sum`] on an explicit level (which must be available).
#[track_caller]
pub fn sum_with(level: Level, a: &[f32]) -> f32 {
    check_level("sum_with", level);
    dispatch!(level, sum(a))
}

/// `max a[i]`: −∞ for an empty slice, NaN if any element is NaN.
pub fn max(a: &[f32]) -> f32 {
    dispatch!(level(), max(a))
}
/// [`max`] on an explicit level (which must be available).
#[track_caller]
pub fn max_with(level: Level, a: &[f32]) -> f32 {
    check_level("max_with", level);
    dispatch!(level, max(a))
}

/// `Σ a[i]·b[i]`, summed pairwise like [`sum`]; 0 for empty slices.
///
/// The definition, as plain loops: [`reference::dot`](crate::reference::dot).
#[track_caller]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    check_len("dot", "a, b", a.len(), b.len());
    dispatch!(level(), dot(a, b))
}
/// [`dot`] on an explicit level (which must be available).
#[track_caller]
pub fn dot_with(level: Level, a: &[f32], b: &[f32]) -> f32 {
    check_level("dot_with", level);
    check_len("dot_with", "a, b", a.len(), b.len());
    dispatch!(level, dot(a, b))
}

/// Where `sum` and `dot` split a slice of more than one block: after the first half of its blocks,
/// so that both halves (except the last one's tail) are whole blocks and the tree stays balanced.
pub(crate) fn pairwise_split(len: usize, block: usize) -> usize {
    debug_assert!(len > block);
    (len.div_ceil(block) / 2) * block
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_names_round_trip() {
        for l in [Level::Scalar, Level::Avx2, Level::Avx512, Level::Neon] {
            assert_eq!(Level::from_name(l.name()), Some(l));
        }
        assert_eq!(Level::from_name(" AVX2 "), Some(Level::Avx2));
        assert_eq!(Level::from_name("sse"), None);
    }

    #[test]
    fn override_is_taken_only_when_available() {
        let detected = *available_levels().last().unwrap();
        assert_eq!(choose_level(None, detected), detected);
        assert_eq!(choose_level(Some(""), detected), detected);
        assert_eq!(choose_level(Some("scalar"), detected), Level::Scalar);
        assert_eq!(choose_level(Some("nonsense"), detected), detected);
        for l in [Level::Avx2, Level::Avx512, Level::Neon] {
            let want = if l.is_available() { l } else { detected };
            assert_eq!(choose_level(Some(l.name()), detected), want);
        }
    }

    #[test]
    fn pairwise_split_lands_on_a_block_boundary() {
        assert_eq!(pairwise_split(129, 128), 128);
        assert_eq!(pairwise_split(256, 128), 128);
        assert_eq!(pairwise_split(1000, 128), 512);
        for len in 129..2000 {
            let mid = pairwise_split(len, 128);
            assert!(mid.is_multiple_of(128) && mid > 0 && mid < len);
        }
    }
}
