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
//!
//!   The *run reference*: from spawn until it exits, a fiber owns one strong reference to its
//!   record, held by whatever holds the fiber in its run state — a queue or `next` slot while
//!   RUNNABLE, the worker's `current` while RUNNING, and the SUSPENDED state itself while parked
//!   (the park commit forgets it; the wake that moves the fiber out of SUSPENDED adopts it and
//!   queues it). So a parked fiber stays alive even when nobody holds its handle: wait lists
//!   (channel nodes) only keep raw pointers to it. A fiber that is never woken is never freed
//!   (as a goroutine blocked forever).
//! * The **outcome**, kept in a separate, small [`Completion`] cell (under its mutex): pending
//!   until the body has ended *and* every child has completed (structured concurrency); then
//!   Completed, Failed (the body panicked) or Cancelled (the fiber's token was cancelled before it
//!   finished, or it left through `blood_fiber_exit_cancelled`). Joiners register in the same
//!   mutex, so none misses the completion. A fiber whose body ended before its children does not
//!   wait on its stack: it leaves its result in its [`Family`] and exits, and the last child to
//!   finish publishes it (see `entry.rs`).
//!
//! Join handles hold the completion cell, not the record: a program that keeps a million handles
//! of finished fibers keeps a million small cells, while the records (two cache lines) are
//! recycled as soon as the fibers end (the next spawns reuse them instead of fresh memory).
//! Until the fiber completes, its completion cell also holds a reference to the record
//! (`JoinState::fiber`, taken out by the completion), so a handle can still cancel, wake or
//! inspect the fiber.
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
pub(crate) use record::prepare_spare_regions;
pub use record::{CompletionRef, FiberRef, FiberWeak};
#[doc(hidden)]
pub use record::{cells_carved, completions_carved};

use crate::cancellation::CancelToken;
use crate::stack::Stack;
use crate::waiter::Waker;
use std::any::Any;
use std::cell::UnsafeCell;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, AtomicU64, Ordering};

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
    /// Spawned through the C ABI: the fiber id holds a count of the completion cell until the
    /// first join by id (see `ffi_fiber.rs`).
    pub(crate) by_id: bool,
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
/// Other values are boxed twice, so that the box is one word (this is part of the completion
/// cell, the memory a kept handle costs).
pub(crate) enum Value {
    U64(u64),
    #[allow(clippy::box_collection, clippy::redundant_allocation)]
    Any(Box<Box<dyn Any + Send>>),
}

impl Value {
    pub(crate) fn new<T: Send + 'static>(v: T) -> Value {
        if std::any::TypeId::of::<T>() == std::any::TypeId::of::<u64>() {
            // SAFETY: `T` is `u64` (same TypeId), so this is a plain copy of a u64.
            Value::U64(unsafe { std::mem::transmute_copy::<T, u64>(&v) })
        } else {
            Value::Any(Box::new(Box::new(v)))
        }
    }

    pub(crate) fn take<T: 'static>(self) -> Option<T> {
        match self {
            Value::U64(u) if std::any::TypeId::of::<T>() == std::any::TypeId::of::<u64>() => {
                // SAFETY: `T` is `u64` (same TypeId).
                Some(unsafe { std::mem::transmute_copy::<u64, T>(&u) })
            }
            Value::U64(_) => None,
            Value::Any(b) => (*b).downcast::<T>().ok().map(|b| *b),
        }
    }
}

/// How a fiber ended (16 bytes: the message is behind a thin box, see [`Value`]).
pub(crate) enum Outcome {
    Completed(Value),
    #[allow(clippy::box_collection)]
    Failed(Box<String>),
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
    /// Joiners waiting for the outcome (boxed: one word instead of three, and most fibers never
    /// have one, while this cell is the memory a kept handle costs).
    #[allow(clippy::box_collection)]
    pub(crate) waiters: Option<Box<Vec<Waker>>>,
    /// The fiber's record until it completes (then None: the record may be recycled).
    pub(crate) fiber: Option<FiberRef>,
}

/// What outlives a fiber for its joiners: the outcome, and the joiners waiting for it. Held by
/// the fiber record and by join handles (see the module header).
pub struct Completion {
    /// The cell's index (`record.rs`): with its generation, the fiber's id. Set by the cell's
    /// allocation, not by [`Completion::new`].
    pub(crate) index: u32,
    /// Set once the outcome is known (fast path for joins and `is_finished`).
    pub(crate) finished: AtomicBool,
    /// The fiber's cancellation flag: set once when the fiber (or an ancestor token) is
    /// cancelled. Here rather than in the record: descendants that inherit cancellation lazily
    /// read it (see `cancellation.rs`), and this line is rarely written.
    pub(crate) cancelled: AtomicBool,
    /// The fiber is reachable by cancellation cascades: a root, spawned with a token, or
    /// registered in its parent's token (see `cancellation.rs`).
    pub(crate) registered: AtomicBool,
    /// For a fiber whose cancellation parent is the fiber that spawned it: that fiber's
    /// completion cell, valid while this fiber has not completed (its parent's record, which holds
    /// the cell, is kept by the family hold until then).
    pub(crate) parent: Option<std::ptr::NonNull<Completion>>,
    pub(crate) join: Mutex<JoinState>,
}

// SAFETY: `parent` is only dereferenced under the rule stated on it; everything else is Sync.
unsafe impl Sync for Completion {}
// SAFETY: as above.
unsafe impl Send for Completion {}

impl Completion {
    pub(crate) fn new(parent: Option<std::ptr::NonNull<Completion>>) -> Completion {
        Completion {
            index: 0,
            finished: AtomicBool::new(false),
            cancelled: AtomicBool::new(false),
            registered: AtomicBool::new(parent.is_none()),
            parent,
            join: Mutex::new(JoinState::default()),
        }
    }

    /// The fiber's id: its cell's index and incarnation (see `record.rs`).
    pub fn id(&self) -> u64 {
        record::completion_id(self)
    }

    /// Whether the fiber has completed (any outcome).
    #[inline]
    pub fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }

    /// The fiber record while the fiber has not completed.
    pub fn fiber(&self) -> Option<FiberRef> {
        self.join.lock().unwrap_or_else(|e| e.into_inner()).fiber.clone()
    }

    /// Current state (racy snapshot).
    pub fn state(&self) -> FiberState {
        let j = self.join.lock().unwrap_or_else(|e| e.into_inner());
        if !self.is_finished() {
            return j.fiber.as_ref().map_or(FiberState::Runnable, |f| f.run_state());
        }
        match &j.outcome {
            Some(Outcome::Failed(_)) => FiberState::Failed,
            Some(Outcome::Cancelled) => FiberState::Cancelled,
            // Completed, or its value already taken by a join.
            _ => FiberState::Completed,
        }
    }

    /// Records the outcome, wakes joiners and lets go of the record.
    pub(crate) fn complete(&self, outcome: Outcome) {
        let (waiters, fiber) = {
            let mut j = self.join.lock().unwrap_or_else(|e| e.into_inner());
            j.outcome = Some(outcome);
            self.finished.store(true, Ordering::Release);
            (std::mem::take(&mut j.waiters), j.fiber.take())
        };
        for w in waiters.into_iter().flat_map(|b| *b) {
            w.wake();
        }
        // Possibly the last reference to the record: whoever completes a fiber holds another
        // (see `entry.rs`), so the record outlives the caller's use of it.
        drop(fiber);
    }
}

/// The fiber record. Shared ([`FiberRef`]) by the scheduler, wait lists and handles.
pub struct Fiber {
    pub(crate) rt: crate::scheduler::RtRef,
    pub(crate) run: AtomicU8,
    pub(crate) priority: Priority,
    /// The outcome, shared with join handles.
    pub(crate) completion: CompletionRef,
    /// Saved stack pointer while not running. Only the worker switching it touches it.
    pub(crate) sp: UnsafeCell<usize>,
    /// The stack, assigned when the fiber first runs.
    pub(crate) stack: StackSlot,
    pub(crate) stack_size: u32,
    pub(crate) body: UnsafeCell<Body>,
    /// Valid until this fiber counted itself done in the parent's family (see [`Family`]).
    pub(crate) parent: Option<ParentPtr>,
    /// What few fibers need, created on first need (see [`Extras`]).
    pub(crate) extras: std::sync::OnceLock<Box<Extras>>,
}

/// The parts of a fiber record that most fibers never use: a trivial fiber spawns nothing, has no
/// name, no token of its own and opens no nursery. Kept out of the record, they let it fit two
/// cache lines instead of three (a cell of 128 bytes instead of 192): the record is what moves
/// from the worker that spawns a fiber to the one that runs it, and back to the spawner's cache
/// when it is recycled. (Measured: 64 bytes less per live fiber; spawn + join time did not change
/// beyond noise.) A fiber that needs any of them pays one small allocation.
#[derive(Default)]
pub(crate) struct Extras {
    /// Counts of its children, created by the fiber's first spawn (see [`Family`]).
    pub(crate) family: std::sync::OnceLock<Box<Family>>,
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
/// store), `done` is incremented once by each finishing child and never read by it otherwise.
///
/// When the parent's body ends with children still running, the parent stores its result in
/// `spawned.pending`, adds `WAITING - spawned` to `done` (`state.rs`) and exits (its stack is
/// recycled at once). `done` then reaches exactly `WAITING` once every child has counted itself
/// (checked for every order by `tests/run_state_model.rs`), and whoever
/// makes it so publishes the parent's outcome (`entry.rs`): the parent itself if all children
/// were done before its own addition (it sees `done == spawned` in what it replaced), else the
/// child whose increment completes it. Each party decides from the value its own read-modify-
/// write returned (AcqRel: the publisher sees the other side's writes, `pending` included), so
/// exactly one publishes, and a child that does not touches nothing of its parent after its
/// increment.
///
/// That is what lets children point at their parent without a count ([`ParentPtr`]): creating
/// the family takes one count on the parent (the *family hold*), which whoever publishes the
/// parent releases once done with it. Until then every child that has not counted itself can
/// use its parent pointer. A per-child count would be incremented by the parent's worker at each
/// spawn and decremented by the child's worker when it is freed: one cache line bouncing between
/// the two for every fiber.
#[derive(Default)]
pub(crate) struct Family {
    pub(crate) spawned: crossbeam_utils::CachePadded<Spawned>,
    /// Children done, plus `WAITING - spawned` once the body ended (wrapping arithmetic).
    pub(crate) done: crossbeam_utils::CachePadded<AtomicU64>,
}

/// The parent's side of [`Family`] (one cache line).
#[derive(Default)]
pub(crate) struct Spawned {
    pub(crate) count: AtomicU64,
    /// The outcome of a body that ended before its children (taken by the publisher).
    pub(crate) pending: Mutex<Option<Outcome>>,
}

/// A child's pointer to its parent, without a count: valid until the child has counted itself
/// done in the parent's [`Family`] (the family hold keeps the parent until then).
#[derive(Copy, Clone)]
pub(crate) struct ParentPtr(std::ptr::NonNull<Fiber>);

// SAFETY: a pointer to a `Fiber` (Sync), dereferenced only under the rule above.
unsafe impl Send for ParentPtr {}
// SAFETY: as above.
unsafe impl Sync for ParentPtr {}

impl FiberRef {
    /// Records one more child and returns the child's pointer to this fiber; called by the fiber
    /// itself (it is the running fiber). The first call creates the family and its hold.
    pub(crate) fn note_child_spawned(&self) -> ParentPtr {
        let fam = self.extras().family.get_or_init(|| {
            // The family hold (see `Family`), released by whoever publishes this fiber.
            std::mem::forget(self.clone());
            Box::default()
        });
        fam.spawned.count.store(fam.spawned.count.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        ParentPtr(std::ptr::NonNull::from(&**self))
    }
}

impl Fiber {
    /// The parent, if this fiber was spawned by a fiber.
    ///
    /// # Safety
    /// Only until this fiber has counted itself done in its parent's family
    /// ([`Fiber::note_child_done`] on the parent): the reference must not be used after that.
    pub(crate) unsafe fn parent(&self) -> Option<&Fiber> {
        // SAFETY: the family hold keeps the parent alive until then (see `Family`).
        self.parent.map(|p| unsafe { p.0.as_ref() })
    }

    /// Lets go of the family hold (see `Family`), if this fiber has spawned.
    ///
    /// # Safety
    /// Called once, by whoever published this fiber's outcome, after its last use of the fiber
    /// through the hold (the fiber may be freed here).
    pub(crate) unsafe fn release_family_hold(&self) {
        if self.family().is_some() {
            // SAFETY: the hold is one count forgotten by `note_child_spawned`; it is given back
            // once (contract).
            drop(unsafe { FiberRef::adopt(self) });
        }
    }

    /// The fiber's id (never 0; kept in the completion cell): the cell's index and incarnation
    /// (`record.rs`), so ids are unique in the process until one cell has been reused 2^32 times.
    pub fn id(&self) -> u64 {
        self.completion.id()
    }
    /// The fiber's name, if any.
    pub fn name(&self) -> Option<&str> {
        self.extras.get()?.name.as_deref()
    }

    /// The record's [`Extras`], created if need be.
    pub(crate) fn extras(&self) -> &Extras {
        self.extras.get_or_init(Box::default)
    }

    /// The fiber's children counts, if it has spawned.
    pub(crate) fn family(&self) -> Option<&Family> {
        self.extras.get()?.family.get().map(|f| &**f)
    }

    /// The fiber's own cancellation token, if it has been created.
    pub(crate) fn node(&self) -> Option<&CancelToken> {
        self.extras.get()?.node.get()
    }

    /// The innermost nursery the fiber has open (null: none).
    pub(crate) fn innermost_nursery(&self) -> *mut crate::scope::Nursery {
        self.extras.get().map_or(std::ptr::null_mut(), |e| e.nursery.load(Ordering::Relaxed))
    }

    /// Whether the fiber's own cancellation flag is set (a fiber that inherits cancellation
    /// lazily may also be cancelled through an ancestor: see [`Fiber::cancel_observed`]).
    #[inline]
    pub fn is_cancelled(&self) -> bool {
        self.completion.cancelled.load(Ordering::Acquire)
    }

    /// Whether this fiber, which must be running (or completing, not yet counted done in its
    /// parent's family), is cancelled: its own flag, or that of an ancestor it inherits
    /// cancellation from lazily, up to the first one reachable by cascades (see
    /// `cancellation.rs`).
    #[inline]
    pub(crate) fn cancel_observed(&self) -> bool {
        let mut c: &Completion = &self.completion;
        loop {
            if c.cancelled.load(Ordering::Acquire) {
                return true;
            }
            match c.parent {
                Some(p) if !c.registered.load(Ordering::Acquire) => {
                    // SAFETY: the fibers on this chain have not completed (a parent completes
                    // after its children, and this one has not), so each parent cell is alive.
                    c = unsafe { p.as_ref() };
                }
                _ => return false,
            }
        }
    }

    /// Makes this fiber reachable by cancellation cascades if it inherits cancellation lazily:
    /// registers it (and first its unregistered ancestors, top-down) in its parent's token.
    /// Called by the fiber itself before it first parks and before its token is created, so it
    /// has not completed and its ancestor chain is alive.
    pub(crate) fn ensure_registered(&self) {
        if self.completion.registered.load(Ordering::Acquire) {
            return;
        }
        self.register_slow();
    }

    #[cold]
    fn register_slow(&self) {
        // SAFETY: this fiber has not completed (see `ensure_registered`), so its parent is alive.
        if let Some(p) = unsafe { self.parent() }
            && p.completion.registered.load(Ordering::Acquire)
        {
            // The common case: only this fiber is unregistered.
            self.register_in_parent();
            return;
        }
        let mut chain: Vec<&Fiber> = vec![self];
        let mut f = self;
        // SAFETY: `f` has not completed (see above), so its parent is alive.
        while let Some(p) = unsafe { f.parent() } {
            if p.completion.registered.load(Ordering::Acquire) {
                break;
            }
            chain.push(p);
            f = p;
        }
        for x in chain.into_iter().rev() {
            x.register_in_parent();
        }
    }

    /// Registers this unregistered fiber in its parent's token (its parent is registered, or
    /// being registered by this very walk).
    fn register_in_parent(&self) {
        if self.completion.registered.swap(true, Ordering::AcqRel) {
            return; // registered concurrently by itself or another descendant
        }
        // SAFETY: unregistered fibers inherit from a parent, alive as in `ensure_registered`.
        let parent = unsafe { self.parent() }.expect("an unregistered fiber has a parent");
        // SAFETY: this record is alive (it is running); a new counted reference to it.
        let me = unsafe { FiberRef::clone_from_ptr(self) };
        // The parent is registered by now (top-down), so its token is reachable; the
        // registration re-checks it, so a cascade that ran before is not missed. No count on the
        // parent unless its token must be created: its siblings register from other workers.
        match parent.node() {
            Some(t) => t.register_fiber(&me),
            // SAFETY: the parent is alive (see above); a new counted reference to it.
            None => unsafe { FiberRef::clone_from_ptr(parent) }.token().register_fiber(&me),
        }
    }
    /// Whether the fiber has completed (any outcome).
    pub fn is_finished(&self) -> bool {
        self.completion.is_finished()
    }

    /// The fiber's completion cell (what join handles hold).
    pub fn completion(&self) -> &CompletionRef {
        &self.completion
    }

    /// Current state (racy snapshot).
    pub fn state(&self) -> FiberState {
        if self.is_finished() {
            return self.completion.state();
        }
        self.run_state()
    }

    /// The state from the run state alone (the fiber has not completed).
    fn run_state(&self) -> FiberState {
        match self.run.load(Ordering::Acquire) {
            RUNNABLE => FiberState::Runnable,
            // DONE but not finished: the body ended, children are still running.
            SUSPENDED | DONE => FiberState::Suspended,
            _ => FiberState::Running,
        }
    }

    /// Records the outcome and wakes joiners (see [`Completion::complete`]).
    pub(crate) fn complete(&self, outcome: Outcome) {
        self.completion.complete(outcome);
    }
}

/// Operations that need a counted reference to the fiber (they hand out new ones).
impl FiberRef {
    /// The fiber's cancellation token (created on first use): cancelling it cancels the fiber
    /// and everything it spawned. Called on the running fiber itself (or on a registered one:
    /// creating the token registers the fiber, which walks its ancestors).
    pub(crate) fn token(&self) -> &CancelToken {
        if let Some(t) = self.node() {
            return t;
        }
        self.ensure_registered();
        let t = self.extras().node.get_or_init(|| {
            let t = CancelToken::new();
            t.bind_fiber(self);
            t
        });
        // Cancelled before its token existed: the token must say so too (SeqCst pairs with the
        // flag swap and `node.get()` in `cancel_all`).
        if self.completion.cancelled.load(std::sync::atomic::Ordering::SeqCst) && !t.is_cancelled() {
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
                        // SAFETY: we moved the fiber out of SUSPENDED, so the run reference the
                        // suspended state owned (see the module header) is ours to queue.
                        crate::scheduler::schedule_woken(unsafe { FiberRef::adopt(FiberRef::as_ptr(self)) });
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
    /// Called by a child as it completes, after publishing its outcome: counts it done. Returns
    /// the parent's pending outcome if that made the parent, whose body has ended, complete: the
    /// caller must then publish it and release its family hold (see [`Family`]). The caller must
    /// not use the parent after a `None`.
    pub(crate) fn note_child_done(&self) -> Option<Outcome> {
        let fam = self.family().expect("a parent counted its child");
        let prev = fam.done.fetch_add(1, Ordering::AcqRel);
        if !state::child_publishes(prev) {
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
        f.debug_struct("Fiber")
            .field("id", &self.id())
            .field("name", &self.name())
            .field("state", &self.state())
            .finish()
    }
}

/// A fiber's stack, once it has one. Only the worker that owns the fiber touches it (see the
/// `Sync` impl of [`Fiber`]).
#[derive(Default)]
pub(crate) struct StackSlot(UnsafeCell<Option<Stack>>);

impl StackSlot {
    pub(crate) fn get(&self) -> *mut Option<Stack> {
        self.0.get()
    }
}

impl Drop for StackSlot {
    fn drop(&mut self) {
        // A fiber dropped while it still had a stack (it was left in a queue when its runtime
        // shut down; a suspended fiber is never dropped, see the run reference) gives it back.
        // Here rather than in a `Drop` of `Fiber`, so that a record can be taken apart into its
        // fields (`FiberRef::new_pair_with`).
        if let Some(stack) = self.0.get_mut().take() {
            crate::stack::pool().release_many([stack]);
        }
    }
}
