//! Preemption support for compiler-inserted safepoints.
//!
//! The word compiled safepoints read, `blood_preempt_flag`, is defined in `blood-runtime-core`
//! (shared with the minimal runtime). Here it is set by the monitor (`time/monitor.rs`) when
//! *some* worker's running fiber overran its slice; the slow path decides for the current worker
//! (yield or return), so a false positive costs one call.

pub use blood_runtime_core::preempt::blood_preempt_flag;

/// The cold path of a safepoint: yields the current fiber if its worker was asked to preempt it.
pub fn safepoint_slow() {
    crate::scheduler::worker::safepoint_slow();
}
