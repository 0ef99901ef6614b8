//! The one blocking protocol every wait in the runtime uses.
//!
//! 1. **Describe the wait**: the waiting party is a [`Waker`], the current fiber or, outside
//!    fibers, the current OS thread.
//! 2. **Register** the waker wherever the awaited event will be produced (a channel wait list,
//!    a fiber's join list, a timer), under that object's lock.
//! 3. **Re-check** readiness and cancellation after registering (anything that happened before
//!    the registration is visible now; anything after will wake us).
//! 4. **Park**: [`park`] switches the fiber away (or parks the thread). The park is committed only
//!    after the switch (see `fiber/mod.rs`), so a wake between 3 and 4 is never lost: it turns the
//!    park into an immediate return.
//! 5. **Loop**: wake-ups may be spurious; every caller re-checks its condition and the
//!    cancellation flag, and deregisters on the way out if it gives up (timeout, cancellation).
//!
//! Parking never holds an OS lock across the switch, so a fiber waiting never blocks its worker.

use crate::fiber::{Fiber, FiberRef};
use crate::scheduler::worker;
use std::time::Instant;

/// Something that can be made runnable again.
#[derive(Clone, Debug)]
pub enum Waker {
    /// A fiber of some runtime.
    Fiber(FiberRef),
    /// An OS thread blocked outside any fiber.
    Thread(std::thread::Thread),
}

impl Waker {
    /// Wakes the party (idempotent until it parks again; spurious wakes are allowed).
    pub fn wake(&self) {
        match self {
            Waker::Fiber(f) => f.wake(),
            Waker::Thread(t) => t.unpark(),
        }
    }

    /// Whether two wakers wake the same party.
    pub fn same_as(&self, other: &Waker) -> bool {
        match (self, other) {
            (Waker::Fiber(a), Waker::Fiber(b)) => FiberRef::ptr_eq(a, b),
            (Waker::Thread(a), Waker::Thread(b)) => a.id() == b.id(),
            _ => false,
        }
    }
}

/// A waker borrowed by a wait-list node that lives on the waiting party's own stack: for a fiber
/// it is a plain pointer (no reference-count traffic per wait). It is valid while the node is
/// registered, because the waiting fiber cannot finish before it has left the wait (it either
/// unregisters under the list's lock or observes the completion); whoever completes the wait
/// turns it into an owned [`Waker`] *under that lock*, before publishing the completion.
#[derive(Clone, Debug)]
pub enum NodeWaker {
    Fiber(*const Fiber),
    Thread(std::thread::Thread),
}

// SAFETY: the pointer is only dereferenced under the wait list's lock while the fiber is alive
// (see above); `Fiber` is Sync.
unsafe impl Send for NodeWaker {}
// SAFETY: as above.
unsafe impl Sync for NodeWaker {}

impl NodeWaker {
    /// An owned waker for the party.
    ///
    /// # Safety
    /// The node holding `self` must still be registered (the waiting fiber is alive).
    pub unsafe fn to_waker(&self) -> Waker {
        match self {
            NodeWaker::Fiber(p) => {
                // SAFETY: the fiber is alive (contract) and `p` came from `FiberRef::as_ptr`.
                Waker::Fiber(unsafe { FiberRef::clone_from_ptr(*p) })
            }
            NodeWaker::Thread(t) => Waker::Thread(t.clone()),
        }
    }
}

/// The node waker of the current context (see [`NodeWaker`]).
pub fn current_node() -> NodeWaker {
    worker::with_current_fiber(|f| match f {
        Some(f) => NodeWaker::Fiber(FiberRef::as_ptr(f)),
        None => NodeWaker::Thread(std::thread::current()),
    })
}

/// The waker of the current context.
pub fn current() -> Waker {
    match worker::current_fiber() {
        Some(f) => Waker::Fiber(f),
        None => Waker::Thread(std::thread::current()),
    }
}

/// Whether the current fiber's token is cancelled (always false on a plain thread).
pub fn current_cancelled() -> bool {
    worker::with_current_fiber(|f| f.map(|f| f.cancel_observed()).unwrap_or(false))
}

/// Suspends the current fiber (or thread) until woken. May return spuriously.
pub fn park() {
    if worker::on_fiber() {
        worker::park_current();
    } else {
        std::thread::park();
    }
}

/// Like [`park`] but returns no later than `deadline` (a timer wakes a fiber).
pub fn park_until(deadline: Instant) {
    if worker::on_fiber() {
        let Some(f) = worker::current_fiber() else { return };
        let timer = f.rt.timers.insert(deadline, Waker::Fiber(f.clone()));
        drop(f);
        worker::park_current();
        timer.cancel();
    } else {
        let now = Instant::now();
        if deadline > now {
            std::thread::park_timeout(deadline - now);
        }
    }
}
