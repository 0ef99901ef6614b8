//! Typed HIR → Blood IR. Placeholder.
