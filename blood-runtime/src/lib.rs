//! `blood-runtime`: the runtime linked into every Blood program.
//!
//! It provides program output (buffered stdout, unbuffered stderr), panics, the process
//! lifecycle, and the fiber runtime. Generated code reaches it only through the `extern "C"`
//! functions in [`ffi_exports`], whose names and signatures are fixed by `blood-abi`.

#![allow(non_upper_case_globals)]

pub mod ffi_exports;
pub mod lifecycle;
pub mod output;
pub mod panic;
pub mod preempt;
