//! Workspace-level integration and property tests live in `tests/tests/`; this library holds
//! helpers they share.
