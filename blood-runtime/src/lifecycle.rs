//! Process lifecycle: `blood_runtime_init` and the argument store are shared with the minimal
//! runtime (`blood-runtime-core`'s `lifecycle`, re-exported here); `shutdown` waits for this
//! runtime's fibers.

pub use blood_runtime_core::lifecycle::*;

/// Flushes output; returns the status the generated `main` adds to its own (always 0 for now).
pub fn shutdown() -> i32 {
    crate::output::flush_stdout();
    if !crate::scheduler::worker::on_fiber() {
        crate::scheduler::shutdown_global();
    }
    crate::output::flush_stdout();
    0
}
