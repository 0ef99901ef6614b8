//! Preemption support for compiler-inserted safepoints.
//!
//! The compiler emits, at function entries and loop back-edges, `load.i32 blood_preempt_flag;
//! brif ≠ 0 → cold`, the cold block calling `blood_safepoint_slow`. The global word is set by the
//! runtime's monitor (`time/monitor.rs`) when *some* worker's running fiber overran its slice;
//! the slow path decides for the current worker (yield or return), so a false positive costs one
//! call. Compiled code therefore needs no thread-local storage and no context register.

use std::sync::atomic::AtomicU32;

/// The global preemption word read by compiled safepoints (see `blood_abi::PREEMPT_FLAG_SYMBOL`).
#[unsafe(no_mangle)]
pub static blood_preempt_flag: AtomicU32 = AtomicU32::new(0);

/// The cold path of a safepoint: yields the current fiber if its worker was asked to preempt it.
pub fn safepoint_slow() {
    crate::scheduler::worker::safepoint_slow();
}
