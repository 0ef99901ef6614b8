//! How a fiber ends: the root frame of every fiber runs the body and catches its panic, and
//! [`finish_fiber`], the one exit path, publishes the outcome and leaves the stack for good.
//!
//! A fiber ends in one of two ways, both through `finish_fiber`:
//! * its body returns (or panics: caught here, the fiber is Failed), in [`fiber_entry`];
//! * generated code calls `blood_fiber_exit_cancelled` at a cancellation point that reported
//!   cancellation ([`exit_cancelled`]): the fiber ends as Cancelled right there and the frames
//!   above that call are abandoned, never resumed nor unwound (generated code has no unwind
//!   information). Nothing important lives in them: `fiber_entry` holds only the already consumed
//!   `Body` (its closure was moved out before it ran; a boxed closure's allocation is freed before
//!   the call, see `body.rs`), a `catch_unwind` frame (no registration) and a `&Fiber` (no count:
//!   the record is kept alive by the worker's `current` reference, which `exit_current` hands to
//!   the next context, which drops it). Open nurseries of the fiber are cancelled and freed by
//!   `finish_fiber` itself.
//!
//! Structured concurrency without a waiting stack: a fiber is not complete before its children.
//! If some are still running when it finishes, it leaves its outcome in its `Family` and exits
//! at once (its stack is recycled); the last child to complete publishes the parent's outcome
//! ([`settle`]), then tells the grandparent, and so on, iteratively. So `finish_fiber` never
//! blocks, and a parent that nobody joins does not hold a stack while its children run. Children
//! point at their parent without a count; the parent's family holds one count on it until it is
//! published (see `Family` in `fiber/mod.rs`).

use super::{Fiber, Outcome, Value};
use crate::metrics::WorkerCounters;
use crate::scheduler::worker;
use std::sync::atomic::Ordering;

/// First Rust code on a new fiber stack (called by the arch trampoline).
///
/// # Safety
/// `arg` is a `*const Fiber` kept alive by the worker's `current` reference for as long as the
/// fiber runs; `handed` is the worker that first switched to it (see `scheduler/worker.rs`).
pub(crate) unsafe extern "C" fn fiber_entry(arg: usize, handed: usize) -> ! {
    // Whatever the previous context left for us (e.g. re-queueing the fiber we switched from).
    worker::after_switch(worker::handed(handed));
    // SAFETY: see the function contract.
    let fiber: &Fiber = unsafe { &*(arg as *const Fiber) };
    let outcome = run_body(fiber);
    finish_fiber(fiber, outcome)
}

/// Runs the body once, catching a panic.
fn run_body(fiber: &Fiber) -> Outcome {
    // SAFETY: the body is only touched here, by the fiber itself, once.
    let mut body = std::mem::replace(unsafe { &mut *fiber.body.get() }, super::Body::empty());
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body.run().unwrap_or(Value::U64(0))));
    drop(body);
    match result {
        Ok(value) => Outcome::Completed(value),
        Err(payload) => {
            let msg = crate::panic::panic_message(payload.as_ref()).unwrap_or("fiber panicked");
            Outcome::Failed(Box::new(msg.to_string()))
        }
    }
}

/// Ends the current fiber as Cancelled without returning to its caller (the C ABI's
/// `blood_fiber_exit_cancelled`). The fiber's token is cancelled first if it was not already,
/// so its children and open nurseries are cancelled too.
///
/// # Safety
/// `fiber` is the fiber running on this worker (as from `worker::with_current_fiber`).
pub(crate) unsafe fn exit_cancelled(fiber: &Fiber) -> ! {
    if !fiber.is_cancelled() {
        // Its own flag (it may have observed an ancestor's only): cancels its token and children.
        worker::with_current_fiber(|cur| cur.expect("on a fiber").cancel());
    }
    finish_fiber(fiber, Outcome::Cancelled)
}

/// The one way a fiber ends: closes what it left open, publishes `outcome` (now, or through its
/// last child) and switches away for good. Never blocks.
///
/// `fiber` must be the fiber running on this worker; the reference stays valid until the final
/// switch (the worker's `current` holds the record).
pub(crate) fn finish_fiber(fiber: &Fiber, outcome: Outcome) -> ! {
    // Nurseries the body left open (it was cancelled inside them): cancel their fibers; they are
    // this fiber's children, so the completion below still waits for them.
    crate::scope::abandon_open_nurseries(fiber);
    if let Some(outcome) = defer_to_children(fiber, outcome) {
        settle(fiber, outcome);
    }
    worker::exit_current()
}

/// Structured concurrency: returns `outcome` if every child of `fiber` has completed; otherwise
/// stores it for the last child to publish and returns `None` (see `Family`).
fn defer_to_children(fiber: &Fiber, outcome: Outcome) -> Option<Outcome> {
    let Some(fam) = fiber.family() else { return Some(outcome) };
    // Only this fiber writes `spawned`, and it spawns no more.
    let spawned = fam.spawned.count.load(Ordering::Relaxed);
    // Every child counted itself already: none will touch the family again.
    if fam.done.load(Ordering::Acquire) == spawned {
        return Some(outcome);
    }
    *fam.spawned.pending.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
    let prev = fam.done.fetch_add(super::state::body_end_addend(spawned), Ordering::AcqRel);
    if !super::state::parent_publishes(prev, spawned) {
        // The last child will make `done` reach WAITING and publish.
        return None;
    }
    // Every child completed meanwhile: we publish after all.
    fam.spawned.pending.lock().unwrap_or_else(|e| e.into_inner()).take()
}

/// Publishes the outcome of `fiber`, whose children have all completed, then notifies its
/// parent (or, for a root fiber, the runtime's count of live roots); if that completes a parent
/// that was only waiting for this child, publishes the parent's outcome too, and so on up the
/// tree (a loop: trees can be deep). Each fiber published here that has spawned gets its family
/// hold released once done with (for `fiber` itself, the worker's `current` keeps it alive; for
/// the parents, their holds do until then).
fn settle(fiber: &Fiber, outcome: Outcome) {
    let counters = worker::local_for(&fiber.rt).expect("fibers run on their runtime's workers").counters();
    let (mut fiber, mut outcome) = (fiber, outcome);
    loop {
        let outcome_now = match outcome {
            // Cancelled before it completed (possibly while its children were still running).
            Outcome::Completed(_) if fiber.cancel_observed() => Outcome::Cancelled,
            o => o,
        };
        WorkerCounters::bump(match &outcome_now {
            Outcome::Completed(_) => &counters.completed,
            Outcome::Failed(_) => &counters.failed,
            Outcome::Cancelled => &counters.cancelled,
        });
        // Order: the outcome first (wakes joiners), then the parent (which must not complete
        // before its child has), or for a root fiber the runtime's count of live roots.
        fiber.complete(outcome_now);
        // SAFETY: `fiber` has not counted itself done in its parent's family yet.
        let next = match unsafe { fiber.parent() } {
            None => {
                fiber.rt.root_finished();
                None
            }
            // After a `None` the parent is not touched again (see `note_child_done`).
            Some(parent) => parent.note_child_done().map(|o| (parent, o)),
        };
        // SAFETY: we published `fiber` and are done with it.
        unsafe { fiber.release_family_hold() };
        match next {
            Some((parent, parent_outcome)) => {
                // Ours to publish; its family hold keeps it alive until we release it.
                fiber = parent;
                outcome = parent_outcome;
            }
            None => return,
        }
    }
}
