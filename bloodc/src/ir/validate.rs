//! IR validator. Placeholder.
