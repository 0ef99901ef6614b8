//! The run-state protocol of a fiber as pure transition functions, shared by the runtime's CAS
//! loops (`Fiber::wake`, the park commit in `scheduler/worker.rs`) and by the exhaustive
//! interleaving test `tests/run_state_model.rs`, which checks every interleaving of a park commit
//! with concurrent wakes: a wake after registration is never lost and a fiber is enqueued at most
//! once per suspension. (This is the runtime's only hand-written lock-free protocol besides
//! one-shot CAS claims; queues are crossbeam's, everything else uses std locks.)

/// In a queue (or about to be), or never run yet.
pub const RUNNABLE: u8 = 0;
/// Running on a worker.
pub const RUNNING: u8 = 1;
/// Running, and a wake arrived: its next park returns at once.
pub const NOTIFIED: u8 = 2;
/// Parked; a wake must enqueue it.
pub const SUSPENDED: u8 = 3;
/// Finished.
pub const DONE: u8 = 4;

/// A wake observed state `s`: `Some((new_state, must_enqueue))` to attempt with a CAS from `s`,
/// or `None` if the wake has nothing to do (already runnable, already notified, finished).
#[inline]
pub fn wake_step(s: u8) -> Option<(u8, bool)> {
    match s {
        SUSPENDED => Some((RUNNABLE, true)),
        RUNNING => Some((NOTIFIED, false)),
        _ => None,
    }
}

/// The park commit, run after the fiber switched away: CAS `PARK_FROM` → `PARK_TO`. If the CAS
/// fails the state is NOTIFIED (only wakes write while the fiber is off-CPU and unqueued), and the
/// committer stores `PARK_FAILED_TO` and enqueues the fiber itself.
pub const PARK_FROM: u8 = RUNNING;
/// See [`PARK_FROM`].
pub const PARK_TO: u8 = SUSPENDED;
/// See [`PARK_FROM`].
pub const PARK_FAILED_TO: u8 = RUNNABLE;
