//! `blood-runtime-core`: the part of Blood's runtime that both runtimes link, written against
//! `core`, `alloc` and `libc` only (`#![no_std]`).
//!
//! The full runtime (`blood-runtime`, `std`, M:N scheduler) and the minimal one
//! (`blood-runtime-minimal`, `no_std`, one thread) differ in how they schedule fibers; everything
//! else compiled code calls is here, once: program output (`output`), panics and fatal exits
//! (`panic`), the heap entry points (`alloc`), the `&str`/number/clock/argument entry points and
//! `blood_runtime_init` (`exports`, `lifecycle`), the preemption word (`preempt`), the context
//! switch (`arch`), stack slots, their reservation and the overflow handler (`stack`).
//!
//! Rules for code here:
//! * No allocation on paths a signal handler takes (`stack::overflow`); `output::try_flush_stdout`
//!   never blocks.
//! * Every `extern "C"` entry runs its body in [`panic::ffi_guard`]: with the `std` feature (the
//!   full runtime) a Rust panic is caught there and aborts with a message; without it
//!   (`panic = "abort"`) the minimal runtime's `#[panic_handler]` prints the same message and
//!   aborts. Either way no Rust panic unwinds into C or generated code.
//! * The one lock type is [`lock::Lock`]: `std::sync::Mutex` with `std`, a spin lock without.
//! * The crate's `#[no_mangle]` symbols are linked into exactly one runtime archive per program.

#![no_std]
#![allow(non_upper_case_globals)]

extern crate alloc as alloc_crate;
#[cfg(feature = "std")]
extern crate std;

pub mod alloc;
pub mod arch;
pub mod exports;
pub mod fiber_abi;
pub mod lifecycle;
pub mod lock;
pub mod output;
pub mod panic;
pub mod preempt;
pub mod stack;

/// The calling thread's `errno`.
pub fn errno() -> i32 {
    // SAFETY: `__errno_location` returns the calling thread's errno slot, valid for reads.
    unsafe { *libc::__errno_location() }
}
