//! The fiber record, its state machines, spawn configuration and join results.
//!
//! Two state machines live in a fiber:
//!
//! * The **run state** (`run`, one atomic byte) drives scheduling and is what makes wake-ups
//!   never lost and never duplicated:
//!
//!   ```text
//!              wake (enqueue)                 picked by a worker
//!   SUSPENDED ───────────────▶ RUNNABLE ─────────────────────────▶ RUNNING ──▶ DONE
//!       ▲                                                          │   ▲
//!       │ park committed after the switch (CAS RUNNING→SUSPENDED)  │   │ wake while running
//!       └──────────────────────────────────────────────────────────┘   ▼
//!                          park finds NOTIFIED: re-enqueue          NOTIFIED
//!   ```
//!   A fiber that parks first switches away; the worker that resumes next commits the park with
//!   a CAS (Go's `gopark` unlock-after-switch). A wake that arrives before the commit turns
//!   RUNNING into NOTIFIED, the CAS fails and the fiber is re-enqueued; a wake of a SUSPENDED
//!   fiber enqueues it exactly once (CAS). RUNNABLE and DONE absorb wakes. Every wait loops and
//!   re-checks its condition, so a stale NOTIFIED only costs one spurious wake-up.
//! * The **outcome** (`join`, under a mutex): pending until the body has ended *and* every
//!   child has completed (structured concurrency); then Completed, Failed (the body panicked) or
//!   Cancelled (the fiber's token was cancelled before it finished, or it left through
//!   `blood_fiber_exit_cancelled`). Joiners register in the same mutex, so none misses the
//!   completion. A fiber whose body ended before its children does not wait on its stack: it
//!   leaves its result in its [`Family`] and exits, and the last child to finish publishes it
//!   (see `entry.rs`).
//!
//! A fiber gets its stack only when it first runs (spawn is a record from a per-thread cache and
//! a queue push), and gives it back when it exits. Records are reference-counted [`FiberRef`]s
//! (`record.rs`: `Arc`'s protocol, cells recycled without `malloc`).

mod body;
mod entry;
pub mod handle;
mod record;
#[doc(hidden)]
pub mod state;

pub use handle::{JoinError, JoinHandle};
#[doc(hidden)]
pub use record::cells_carved;
pub use record::{FiberRef, FiberWeak};

use crate::cancellation::CancelToken;
use crate::scheduler::RuntimeInner;
use crate::stack::Stack;
use crate::waiter::Waker;
use std::any::Any;
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub(crate) use entry::{exit_cancelled, fiber_entry};

/// Scheduling priority (concurrency spec §3.6). Higher priorities run first.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(u8)]
pub enum Priority {
    Low = 0,
    #[default]
    Normal = 1,
    High = 2,
    Critical = 3,
}

impl Priority {
    /// From the C ABI encoding (0..=3); anything else is Normal.
    pub fn from_abi(v: i32) -> Priority {
        match v {
            0 => Priority::Low,
            2 => Priority::High,
            3 => Priority::Critical,
            _ => Priority::Normal,
        }
    }
}

/// How to spawn a fiber.
#[derive(Clone, Debug, Default)]
pub struct FiberConfig {
    /// A name for diagnostics.
    pub name: Option<String>,
    /// Usable stack bytes; 0 = the maximum (`BLOOD_MAX_STACK_SIZE`).
    pub stack_size: usize,
    pub priority: Priority,
    /// Parent cancellation token; default: the spawning fiber's token (none on a plain thread).
    pub cancel_parent: Option<CancelToken>,
}

impl FiberConfig {
    pub fn named(name: impl Into<String>) -> FiberConfig {
        FiberConfig { name: Some(name.into()), ..FiberConfig::default() }
    }
    pub fn priority(mut self, p: Priority) -> FiberConfig {
        self.priority = p;
        self
    }
    pub fn stack_size(mut self, bytes: usize) -> FiberConfig {
        self.stack_size = bytes;
        self
    }
    pub fn cancel_parent(mut self, token: &CancelToken) -> FiberConfig {
        self.cancel_parent = Some(token.clone());
        self
    }
}

pub(crate) use state::{DONE, RUNNABLE, RUNNING, SUSPENDED};

pub(crate) use body::Body;

/// A fiber's result, type-erased; `u64` (every C ABI fiber) is stored inline, without a box.
pub(crate) enum Value {
    U64(u64),
    Any(Box<dyn Any + Send>),
}

impl Value {
    pub(crate) fn new<T: Send + 'static>(v: T) -> Value {
        if std::any::TypeId::of::<T>() == std::any::TypeId::of::<u64>() {
            // SAFETY: `T` is `u64` (same TypeId), so this is a plain copy of a u64.
            Value::U64(unsafe { std::mem::transmute_copy::<T, u64>(&v) })
        } else {
            Value::Any(Box::new(v))
        }
    }

    pub(crate) fn take<T: 'static>(self) -> Option<T> {
        match self {
            Value::U64(u) if std::any::TypeId::of::<T>() == std::any::TypeId::of::<u64>() => {
                // SAFETY: `T` is `u64` (same TypeId).
                Some(unsafe { std::mem::transmute_copy::<u64, T>(&u) })
            }
            Value::U64(_) => None,
            Value::Any(b) => b.downcast::<T>().ok().map(|b| *b),
        }
    }
}

/// How a fiber ended.
pub(crate) enum Outcome {
    Completed(Value),
    Failed(Box<str>),
    Cancelled,
}

/// Visible state of a fiber (for diagnostics and the C ABI).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FiberState {
    Runnable,
    Running,
    Suspended,
    Completed,
    Failed,
    Cancelled,
}

#[derive(Default)]
pub(crate) struct JoinState {
    pub(crate) outcome: Option<Outcome>,
    /// Whether the value was taken by a join (a second join reports `AlreadyJoined`).
    pub(crate) taken: bool,
    pub(crate) waiters: Vec<Waker>,
}

/// The fiber record. Shared ([`FiberRef`]) by the scheduler, wait lists and handles.
pub struct Fiber {
    pub(crate) id: u64,
    pub(crate) rt: Arc<RuntimeInner>,
    pub(crate) run: AtomicU8,
    pub(crate) priority: Priority,
    /// Set once the outcome is known (fast path for joins and `is_finished`).
    pub(crate) finished: AtomicBool,
    /// Saved stack pointer while not running. Only the worker switching it touches it.
    pub(crate) sp: UnsafeCell<usize>,
    /// The stack, assigned when the fiber first runs.
    pub(crate) stack: UnsafeCell<Option<Stack>>,
    pub(crate) stack_size: u32,
    pub(crate) body: UnsafeCell<Body>,
    pub(crate) join: Mutex<JoinState>,
    pub(crate) parent: Option<FiberRef>,
    /// Counts of its children, created by the fiber's first spawn (see [`Family`]).
    pub(crate) family: std::sync::OnceLock<Box<Family>>,
    /// Set once when the fiber (or an ancestor token) is cancelled.
    pub(crate) cancelled: AtomicBool,
    /// The fiber's own token, created on first need (see `cancellation.rs`).
    pub(crate) node: std::sync::OnceLock<CancelToken>,
    pub(crate) name: Option<Box<str>>,
    /// The innermost nursery this fiber opened with `blood_nursery_begin` and has not ended yet
    /// (null: none); the open ones form a stack through their `outer` links (see `scope.rs`).
    /// Only the fiber itself reads and writes it, so Relaxed accesses suffice.
    pub(crate) nursery: AtomicPtr<crate::scope::Nursery>,
}

/// The children counts of a fiber that has spawned (structured concurrency: it completes only
/// after all of them). The parent spawns on one worker while its children finish on others, so
/// the two sides write different cache lines: `spawned` is written only by the parent (load +
/// store), `done` is incremented by each finishing child, which then reads `waiting` (same line).
///
/// When the parent's body ends with children still running, the parent stores its result in
/// `spawned.pending`, sets `waiting` and exits (its stack is recycled at once); whoever sees the
/// last child done while `waiting` is set publishes the parent's outcome (`entry.rs`).
///
/// Nobody misses the last child (Dekker, all SeqCst): the parent stores `waiting = true` and then
/// reads `done`; a child increments `done` and then reads `waiting`. In the total order one of
/// them comes second and sees the other's write: the parent finds every child done, or the last
/// child finds the parent waiting (and, through that Release/Acquire pair, the final `spawned`
/// and `pending`). Both may see it; `claimed` (a one-shot swap) picks exactly one publisher.
#[derive(Default)]
pub(crate) struct Family {
    pub(crate) spawned: crossbeam_utils::CachePadded<Spawned>,
    pub(crate) done: crossbeam_utils::CachePadded<Done>,
}

/// The parent's side of [`Family`] (one cache line).
#[derive(Default)]
pub(crate) struct Spawned {
    pub(crate) count: AtomicUsize,
    /// The outcome of a body that ended before its children (taken by the publisher).
    pub(crate) pending: Mutex<Option<Outcome>>,
}

/// The children's side of [`Family`] (one cache line).
#[derive(Default)]
pub(crate) struct Done {
    pub(crate) count: AtomicUsize,
    /// The body has ended and `pending` holds its outcome.
    pub(crate) waiting: AtomicBool,
    /// The outcome in `pending` was taken for publication.
    pub(crate) claimed: AtomicBool,
}

impl Fiber {
    /// Records one more child; called by the fiber itself (it is the running fiber).
    pub(crate) fn note_child_spawned(&self) {
        let fam = self.family.get_or_init(Box::default);
        fam.spawned.count.store(fam.spawned.count.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }

    /// The fiber's id (unique in the process, never 0).
    pub fn id(&self) -> u64 {
        self.id
    }
    /// The fiber's name, if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Whether the fiber was cancelled.
    #[inline]
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }
    /// Whether the fiber has completed (any outcome).
    pub fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }

    /// Current state (racy snapshot).
    pub fn state(&self) -> FiberState {
        if self.is_finished() {
            return match self.join.lock().unwrap_or_else(|e| e.into_inner()).outcome {
                Some(Outcome::Failed(_)) => FiberState::Failed,
                Some(Outcome::Cancelled) => FiberState::Cancelled,
                _ => FiberState::Completed,
            };
        }
        match self.run.load(Ordering::Acquire) {
            RUNNABLE => FiberState::Runnable,
            // DONE but not finished: the body ended, children are still running.
            SUSPENDED | DONE => FiberState::Suspended,
            _ => FiberState::Running,
        }
    }

    /// Records the outcome and wakes joiners (runs on the fiber's own stack, at its end).
    pub(crate) fn complete(&self, outcome: Outcome) {
        let waiters = {
            let mut j = self.join.lock().unwrap_or_else(|e| e.into_inner());
            j.outcome = Some(outcome);
            self.finished.store(true, Ordering::Release);
            std::mem::take(&mut j.waiters)
        };
        for w in waiters {
            w.wake();
        }
    }
}

/// Operations that need a counted reference to the fiber (they hand out new ones).
impl FiberRef {
    /// The fiber's cancellation token (created on first use): cancelling it cancels the fiber
    /// and everything it spawned.
    pub fn token(&self) -> &CancelToken {
        self.node.get_or_init(|| {
            let t = CancelToken::new();
            t.bind_fiber(self);
            t
        });
        let t = self.node.get().expect("initialised");
        // Cancelled before its token existed: the token must say so too (SeqCst pairs with the
        // flag swap and `node.get()` in `cancel_all`).
        if self.cancelled.load(std::sync::atomic::Ordering::SeqCst) && !t.is_cancelled() {
            t.cancel();
        }
        t
    }

    /// Requests cancellation (cooperative; see `cancellation.rs`).
    pub fn cancel(&self) {
        crate::cancellation::cancel_fiber(self);
    }

    /// Makes the fiber runnable if it is suspended; records the wake if it is running.
    pub(crate) fn wake(&self) {
        let mut s = self.run.load(Ordering::Acquire);
        loop {
            let Some((target, enqueue)) = state::wake_step(s) else { return };
            match self.run.compare_exchange_weak(s, target, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => {
                    if enqueue {
                        crate::scheduler::schedule_woken(self.clone());
                    }
                    return;
                }
                Err(actual) => s = actual,
            }
        }
    }

    /// Called by the token when this fiber is cancelled.
    pub(crate) fn note_cancelled(&self) {
        self.rt.counters.cancel_requests.fetch_add(1, Ordering::Relaxed);
        self.wake();
    }
}

impl Fiber {
    /// Called by a child as it completes, after publishing its outcome. Returns the parent's
    /// pending outcome if this was the last child of a parent whose body has ended: the caller
    /// must then publish it (see [`Family`]).
    pub(crate) fn note_child_done(&self) -> Option<Outcome> {
        let fam = self.family.get().expect("a parent counted its child");
        let done = fam.done.count.fetch_add(1, Ordering::SeqCst) + 1;
        if !fam.done.waiting.load(Ordering::SeqCst) {
            return None;
        }
        // The body has ended: `spawned` is final (published by the `waiting` store we read).
        if done < fam.spawned.count.load(Ordering::Relaxed) || fam.done.claimed.swap(true, Ordering::AcqRel) {
            return None;
        }
        fam.spawned.pending.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

// SAFETY: the UnsafeCell fields (`sp`, `stack`, `body`) are only accessed by the worker thread
// that currently owns the fiber (it is running there, or being switched in or out there); the
// run-state protocol above guarantees a single owner at a time, with Acquire/Release handover
// through the queues and the `run` CAS.
unsafe impl Sync for Fiber {}
// SAFETY: as above; every other field is Send + Sync.
unsafe impl Send for Fiber {}

impl std::fmt::Debug for Fiber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fiber").field("id", &self.id).field("name", &self.name).field("state", &self.state()).finish()
    }
}

impl Drop for Fiber {
    fn drop(&mut self) {
        // A fiber dropped while suspended forever (nobody can wake it) still owns its stack.
        if let Some(stack) = self.stack.get_mut().take() {
            crate::stack::pool().release_many([stack]);
        }
    }
}
