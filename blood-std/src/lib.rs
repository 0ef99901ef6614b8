//! Blood's standard library is written in Blood and lives in `blood-std/lib/`. This crate embeds
//! those sources so that `bloodc` compiles them with every program without needing the source
//! tree at run time (a copied `blood` binary works on its own).
//!
//! At level L0 every prelude item is a compiler builtin (LANGUAGE.md §3.9), so the library is
//! still empty; later levels move what is best written in Blood (Option/Result methods, fiber
//! helpers) here.

/// One file of the standard library.
#[derive(Debug, Clone, Copy)]
pub struct StdFile {
    /// Path relative to `blood-std/lib/`, used in diagnostics.
    pub path: &'static str,
    /// Blood source text.
    pub source: &'static str,
}

/// The files compiled into every program, in order.
pub const PRELUDE: &[StdFile] = &[];
