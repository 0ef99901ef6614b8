//! The preemption word read by compiler-inserted safepoints.
//!
//! The compiler emits, at function entries and loop back-edges, `load.i32 blood_preempt_flag;
//! brif ≠ 0 → cold`, the cold block calling `blood_safepoint_slow`. Each runtime sets the word
//! when a running fiber overran its slice (the full runtime from its monitor thread, the minimal
//! one from a timer signal) and defines `blood_safepoint_slow`, which decides whether the current
//! fiber yields; a false positive costs one call. Compiled code needs no thread-local storage.

use core::sync::atomic::AtomicU32;

/// The global preemption word read by compiled safepoints (see `blood_abi::PREEMPT_FLAG_SYMBOL`).
#[unsafe(no_mangle)]
pub static blood_preempt_flag: AtomicU32 = AtomicU32::new(0);
