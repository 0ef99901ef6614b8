//! IR passes. Placeholder.
