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
        Some(parent) => parent.note_child_done(),
        None => fiber.rt.root_finished(),
    }
    worker::exit_current()
}

/// Structured concurrency: a fiber is not complete before its children. Waits (not a
/// cancellation point: cancelled children end soon and must still be waited for).
fn wait_for_children(fiber: &Fiber) {
    let Some(fam) = fiber.family.get() else { return };
    // Only this fiber writes `spawned`, and it spawns no more.
    let spawned = fam.spawned.load(Ordering::Relaxed);
    if fam.done.count.load(Ordering::Acquire) >= spawned {
        return;
    }
    // See `Family` for why this cannot miss the last child.
    fam.done.waiting.store(true, Ordering::SeqCst);
    while fam.done.count.load(Ordering::SeqCst) < spawned {
        // A wake that races with this check leaves the fiber NOTIFIED: the park returns at once.
        worker::park_current();
    }
    fam.done.waiting.store(false, Ordering::Relaxed);
}
