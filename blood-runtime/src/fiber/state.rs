//! The run-state protocol of a fiber as pure transition functions, shared by the runtime's CAS
//! loops (`Fiber::wake`, the park commit in `scheduler/worker.rs`) and by the exhaustive
//! interleaving test `tests/run_state_model.rs`, which checks every interleaving of a park commit
//! with concurrent wakes: a wake after registration is never lost and a fiber is enqueued at most
//! once per suspension. The family counter's decisions (who publishes a parent whose body ended
//! before its children, see `Family` in `fiber/mod.rs`) are pure functions here too, checked in
//! every order of the parties' read-modify-writes by the same test file. (These are the runtime's
//! hand-written lock-free protocols besides one-shot CAS claims and the preemption flag's Dekker
//! pairs; queues are crossbeam's, everything else uses locks.)

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

/// Added to a family's `done` counter when the parent's body ends (with `- spawned`).
pub const WAITING: u64 = 1 << 62;

/// What the parent adds to `done` when its body ends after spawning `spawned` children.
#[inline]
pub fn body_end_addend(spawned: u64) -> u64 {
    WAITING.wrapping_sub(spawned)
}

/// Whether the child whose `done += 1` returned `prev` completed a waiting parent (and must
/// publish it).
#[inline]
pub fn child_publishes(prev: u64) -> bool {
    prev.wrapping_add(1) == WAITING
}

/// Whether the parent whose `done += body_end_addend(spawned)` returned `prev` found every child
/// done (and must publish itself).
#[inline]
pub fn parent_publishes(prev: u64, spawned: u64) -> bool {
    prev == spawned
}
