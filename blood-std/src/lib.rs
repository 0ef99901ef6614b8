//! Blood's standard library is written in Blood and lives in `blood-std/lib/`. This crate embeds
//! those sources so that `bloodc` compiles them with every program without needing the source
//! tree at run time (a copied `blood` binary works on its own).
//!
//! The builtins of LANGUAGE.md §3.9 stay in the compiler; what is best written in Blood lives
//! here: `Option` and `Result` with their methods (§5.4), and fibers, cancellation and channels
//! over the runtime's C ABI (§7.2). The prelude is an outer scope of every
//! module, so user items shadow it.

/// One file of the standard library.
#[derive(Debug, Clone, Copy)]
pub struct StdFile {
    /// Path relative to `blood-std/lib/`, used in diagnostics.
    pub path: &'static str,
    /// Blood source text.
    pub source: &'static str,
}

/// The files compiled into every program, in order.
pub const PRELUDE: &[StdFile] = &[
    StdFile { path: "<blood-std>/prelude.blood", source: include_str!("../lib/prelude.blood") },
    StdFile { path: "<blood-std>/concurrency.blood", source: include_str!("../lib/concurrency.blood") },
];
