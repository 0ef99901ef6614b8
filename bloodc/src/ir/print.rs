//! IR text form. Placeholder.
