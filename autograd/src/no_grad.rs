//! Running ops without recording: evaluation, and a teacher's outputs during distillation.
//!
//! Inside [`no_grad`], every op computes its value and records nothing — no inputs kept, no
//! backward closure allocated — so inference costs what the tensor kernels cost and no more.

use std::cell::Cell;

thread_local! {
    /// How many `no_grad` scopes are open on this thread. (Graphs are per thread: `Var` is not
    /// `Send`. The kernels underneath still use every core.)
    static PAUSED: Cell<usize> = const { Cell::new(0) };
}

/// Whether ops record their backward right now.
pub fn is_recording() -> bool {
    PAUSED.with(|p| p.get() == 0)
}

/// Runs `f` with recording switched off, and switches it back on afterwards (even if `f` panics).
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    struct Resume;
    impl Drop for Resume {
        fn drop(&mut self) {
            PAUSED.with(|p| p.set(p.get() - 1));
        }
    }
    PAUSED.with(|p| p.set(p.get() + 1));
    let _resume = Resume;
    f()
}
