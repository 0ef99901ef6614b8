//! Every `extern "C"` entry point of the runtime (the symbols listed in
//! `blood_abi::RUNTIME_EXPORTS`, plus the fiber API of the concurrency spec §11.3).
//!
//! Most of `RUNTIME_EXPORTS` (output, strings, numbers, clock, arguments, allocation, panics,
//! `blood_runtime_init`, `blood_stack_overflow`) is shared with the minimal runtime and defined in
//! `blood-runtime-core` (`exports.rs`), re-exported here; the entry points that depend on the
//! scheduler are below and in `ffi_fiber.rs`. Each function is thin: it converts C arguments into
//! Rust values and calls into the module that does the work. No Rust panic crosses this boundary:
//! every body runs inside [`ffi_guard`], which turns a panic (a runtime bug) into a message and
//! `abort()`.

use crate::lifecycle;
use crate::panic::ffi_guard;

pub use blood_runtime_core::exports::*;
pub use blood_runtime_core::fiber_abi::blood_fiber_join;

/// `int32_t blood_runtime_shutdown(void)`: waits for the fibers still running, flushes standard
/// output and returns 0.
#[unsafe(no_mangle)]
pub extern "C" fn blood_runtime_shutdown() -> i32 {
    ffi_guard("blood_runtime_shutdown", lifecycle::shutdown)
}

/// `void blood_safepoint_slow(void)`: the cold path of a compiler-inserted safepoint, taken when
/// `blood_preempt_flag` is non-zero. Yields the current fiber if its worker was asked to, else
/// returns at once.
#[unsafe(no_mangle)]
pub extern "C" fn blood_safepoint_slow() {
    ffi_guard("blood_safepoint_slow", crate::preempt::safepoint_slow)
}

// ---------------------------------------------------------------------------------------------
// Scheduler and fibers (concurrency spec §11.3, LANGUAGE.md §7).

pub use crate::ffi_fiber::*;
