//! (placeholder: filled in by the tensor issue)
