//! The root frame of every fiber: runs the body, catches its panic, waits for its children,
//! publishes the outcome and leaves the stack for good.

use super::{Fiber, Outcome};
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
    // SAFETY: the body is only touched here, by the fiber itself, once.
    let mut body = std::mem::replace(unsafe { &mut *fiber.body.get() }, super::Body::empty());
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body.run().unwrap_or(super::Value::U64(0))));
    drop(body);
    wait_for_children(fiber);
    let w = worker::local_for(&fiber.rt).expect("fibers run on their runtime's workers");
    let counters = w.counters();
    let outcome = match result {
        Err(payload) => {
            WorkerCounters::bump(&counters.failed);
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "fiber panicked".to_string());
            Outcome::Failed(msg.into_boxed_str())
        }
        Ok(_) if fiber.is_cancelled() => {
            WorkerCounters::bump(&counters.cancelled);
            Outcome::Cancelled
        }
        Ok(value) => {
            WorkerCounters::bump(&counters.completed);
            Outcome::Completed(value)
        }
    };
    // Order: the outcome first (wakes joiners), then the parent (which must not complete before
    // its child has), or for a root fiber the runtime's count of live roots.
    fiber.complete(outcome);
    match &fiber.parent {
        Some(parent) => {
            let done = parent.children_done.fetch_add(1, Ordering::AcqRel) + 1;
            // Equal counts: possibly the last child. If the parent is still running and spawns
            // more, this wake is spurious (it re-checks the counts).
            if done == parent.children_spawned.load(Ordering::Acquire) {
                parent.wake();
            }
        }
        None => fiber.rt.root_finished(),
    }
    worker::exit_current()
}

/// Structured concurrency: a fiber is not complete before its children. Waits (not a
/// cancellation point: cancelled children end soon and must still be waited for).
fn wait_for_children(fiber: &Fiber) {
    while fiber.children_done.load(Ordering::Acquire) < fiber.children_spawned.load(Ordering::Relaxed) {
        // The last child wakes us after its decrement; a wake that races with this check leaves
        // the fiber NOTIFIED, so the park returns at once.
        worker::park_current();
    }
}
