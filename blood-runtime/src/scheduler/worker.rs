//! Worker threads: the scheduler loop, switching between fibers, and the per-thread state
//! fibers reach through thread-local storage.
//!
//! Switching is direct: a fiber that blocks, yields or exits picks the next runnable fiber of its
//! worker itself and switches straight to it (one context switch per hand-off); only when the
//! worker has nothing local does it switch to the scheduler loop, which runs on the worker
//! thread's own stack, steals, and parks.
//!
//! What the departing fiber wants done with itself (re-queue, commit a park, free its stack) is
//! left in `pending` and executed by whichever context runs next on this worker, right after the
//! switch ([`after_switch`]): doing it before the switch would let another worker resume the
//! fiber while its stack is still in use here.
//!
//! Thread-local access: fibers migrate between workers, so code running on a fiber must re-read
//! the worker pointer after every switch. The accessor is `#[inline(never)]` so the compiler
//! cannot reuse a thread-local address computed before a switch. The switch itself hands the
//! resuming side its worker: every `arch::switch` on a worker passes a pointer to that worker's
//! `WorkerLocal` as the handed-over value, so the code right after a switch (and a new fiber's
//! entry) knows its worker without a thread-local lookup.
//!
//! `running` (read by the preemption monitor) is set by the scheduler loop when it switches into
//! a fiber and cleared when it gets control back; direct fiber-to-fiber switches leave it set.

use super::RuntimeInner;
use super::queue::Reason;
use crate::arch;
use crate::fiber::{self, FiberRef};
use crate::metrics::WorkerCounters;
use crate::stack::StackCache;
use crossbeam_deque::Worker as LocalQueue;
use std::cell::{Cell, RefCell, UnsafeCell};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// What the context that runs next must do for the fiber that just switched away.
#[derive(Default)]
pub enum Pending {
    #[default]
    Nothing,
    Yield(FiberRef),
    /// A spawning fiber that yielded to its backlog of children (see [`spawn_backpressure`]).
    YieldToChildren(FiberRef),
    Park(FiberRef),
    Exit(FiberRef),
}

/// A worker's thread-private state.
pub struct WorkerLocal {
    pub rt: Arc<RuntimeInner>,
    pub index: usize,
    pub queue: LocalQueue<FiberRef>,
    pub next: UnsafeCell<Option<FiberRef>>,
    /// A spawning fiber waiting for its worker's queue to drain (see [`spawn_backpressure`]); not
    /// stealable.
    pub spawner: UnsafeCell<Option<FiberRef>>,
    pub next_streak: Cell<u32>,
    pub tick: Cell<u32>,
    pub rng: Cell<u64>,
    current: UnsafeCell<Option<FiberRef>>,
    sched_sp: UnsafeCell<usize>,
    pending: Cell<Pending>,
    stacks: RefCell<StackCache>,
    /// Counts of `rt`'s `Arc` this worker holds for fibers to come (see `RtRef`).
    rt_lease: Cell<usize>,
    /// Fibers spawned by the running fiber since it was switched in (see [`spawn_backpressure`]).
    pub(crate) spawn_streak: Cell<u32>,
    /// The queue's length at the last backpressure check (see [`spawn_backpressure`]).
    spawn_len_seen: Cell<usize>,
    /// Backpressure checks in a row that saw no other worker take from the queue.
    spawn_unshared: Cell<u32>,
    /// The queue length at which a spawner that yielded to its backlog resumes.
    pub(crate) spawn_resume: Cell<usize>,
}

/// Spawns in a row after which the spawning fiber looks at its worker's queue (see
/// [`spawn_backpressure`]).
pub const SPAWN_STREAK: u32 = 64;
/// Fibers waiting in the worker's queue at which a spawning fiber yields to them, while no other
/// worker takes any of them.
pub const SPAWN_BACKLOG: usize = 256;
/// The same while other workers are taking them (see [`spawn_backpressure`]).
pub const SPAWN_BACKLOG_SHARED: usize = 64 << 10;
/// Backpressure checks in a row without a theft after which [`SPAWN_BACKLOG`] applies again.
const SPAWN_SHARED_CHECKS: u32 = 64;

/// Counts of the runtime's `Arc` a worker takes at once for its lease; it keeps at most twice as
/// many.
const RT_LEASE_BATCH: usize = 256;

thread_local! {
    static WORKER: Cell<*const WorkerLocal> = const { Cell::new(std::ptr::null()) };
}

/// The current thread's worker, if it is one. Never inlined (see the module header).
#[inline(never)]
fn worker_ptr() -> *const WorkerLocal {
    WORKER.with(Cell::get)
}

/// The calling thread's worker, if it is one (of any runtime).
pub(crate) fn current_worker() -> Option<&'static WorkerLocal> {
    worker()
}

fn worker() -> Option<&'static WorkerLocal> {
    let p = worker_ptr();
    // SAFETY: the pointer is set by `run` for the lifetime of the worker thread's loop and
    // cleared before the `WorkerLocal` is dropped; only this thread reads it.
    if p.is_null() { None } else { Some(unsafe { &*p }) }
}

/// The worker running on this thread, if it belongs to `rt`.
pub(crate) fn local_for(rt: &RuntimeInner) -> Option<&'static WorkerLocal> {
    worker().filter(|w| std::ptr::eq(&*w.rt, rt))
}

/// Whether the caller runs on a fiber.
pub fn on_fiber() -> bool {
    // SAFETY: `current` is only accessed by this worker's thread.
    worker().is_some_and(|w| unsafe { (*w.current.get()).is_some() })
}

/// The running fiber, if any.
pub fn current_fiber() -> Option<FiberRef> {
    with_current_fiber(|f| f.cloned())
}

/// Runs `f` with the running fiber (without touching its reference count).
pub fn with_current_fiber<R>(f: impl FnOnce(Option<&FiberRef>) -> R) -> R {
    match worker() {
        // SAFETY: `current` is only accessed by this worker's thread, and not re-entrantly.
        Some(w) => f(unsafe { (*w.current.get()).as_ref() }),
        None => f(None),
    }
}

impl WorkerLocal {
    pub fn new(rt: Arc<RuntimeInner>, index: usize, queue: LocalQueue<FiberRef>) -> WorkerLocal {
        WorkerLocal {
            rt,
            index,
            queue,
            next: UnsafeCell::new(None),
            spawner: UnsafeCell::new(None),
            next_streak: Cell::new(0),
            tick: Cell::new(0),
            rng: Cell::new(0x9e37_79b9_7f4a_7c15 ^ ((index as u64 + 1) << 17)),
            current: UnsafeCell::new(None),
            sched_sp: UnsafeCell::new(0),
            pending: Cell::new(Pending::Nothing),
            stacks: RefCell::new(StackCache::default()),
            rt_lease: Cell::new(0),
            spawn_streak: Cell::new(0),
            spawn_len_seen: Cell::new(0),
            spawn_unshared: Cell::new(SPAWN_SHARED_CHECKS),
            spawn_resume: Cell::new(SPAWN_BACKLOG / 4),
        }
    }

    /// The fiber running on this worker (only meaningful on the worker's own thread).
    pub fn current(&self) -> Option<&FiberRef> {
        // SAFETY: `current` is only accessed by this worker's thread, and not re-entrantly; the
        // reference does not outlive the running fiber's turn.
        unsafe { (*self.current.get()).as_ref() }
    }

    /// One counted reference to the runtime, from this worker's lease (see `RtRef`).
    pub(crate) fn lease_rt(&self) -> Arc<RuntimeInner> {
        let mut n = self.rt_lease.get();
        if n == 0 {
            if !self.rt.spare_rt_counts.take(RT_LEASE_BATCH) {
                for _ in 0..RT_LEASE_BATCH {
                    std::mem::forget(Arc::clone(&self.rt));
                }
            }
            n = RT_LEASE_BATCH;
        }
        self.rt_lease.set(n - 1);
        // SAFETY: one of the counts the lease owns (forgotten clones of `self.rt`) becomes this
        // `Arc`'s.
        unsafe { Arc::from_raw(Arc::as_ptr(&self.rt)) }
    }

    /// Gives a counted reference to this worker's runtime back to the lease.
    pub(crate) fn return_rt(&self, rt: Arc<RuntimeInner>) {
        debug_assert!(Arc::ptr_eq(&rt, &self.rt));
        let mut n = self.rt_lease.get();
        if n >= 2 * RT_LEASE_BATCH {
            // Fibers spawned on one worker and freed on another move counts one way: the surplus
            // goes to the runtime's spare counts, where the spawning worker's lease takes it
            // back, a batch at a time (dropping counts here and cloning them there moved the
            // `Arc`'s counter line between the two workers for every fiber).
            self.rt.spare_rt_counts.put(RT_LEASE_BATCH);
            n -= RT_LEASE_BATCH;
        }
        std::mem::forget(rt);
        self.rt_lease.set(n + 1);
    }

    /// This worker's counters.
    pub fn counters(&self) -> &WorkerCounters {
        &self.rt.workers[self.index].counters
    }

    /// Makes `f` the current fiber and returns the stack pointer to switch to (giving it a stack
    /// on its first run).
    fn prepare(&self, f: FiberRef) -> usize {
        f.run.store(fiber::RUNNING, Ordering::Release);
        self.spawn_streak.set(0);
        let shared = &self.rt.workers[self.index];
        WorkerCounters::bump(&shared.counters.switches);
        // A request aimed at the previous fiber does not apply to this one (load first: the
        // line is only written when a request was pending).
        if shared.preempt.load(Ordering::Relaxed) {
            shared.preempt.store(false, Ordering::Relaxed);
        }
        // SAFETY: this worker now owns `f` (it was taken from a queue or handed over by the run
        // state protocol), so it alone touches the UnsafeCell fields.
        let sp = unsafe {
            match &*f.stack.get() {
                Some(_) => *f.sp.get(),
                None => self.first_run(&f),
            }
        };
        // SAFETY: `current` is only accessed by this worker's thread.
        unsafe { *self.current.get() = Some(f) };
        sp
    }

    /// # Safety
    /// The caller owns `f` (see `prepare`).
    unsafe fn first_run(&self, f: &FiberRef) -> usize {
        let stack = match self.stacks.borrow_mut().alloc() {
            Ok(s) => s,
            Err(e) => crate::panic::die("blood runtime: ", e.0.as_bytes(), blood_abi::EXIT_RUNTIME_INIT_FAILED),
        };
        stack.set_limit(if f.stack_size == 0 { usize::MAX } else { f.stack_size as usize });
        // SAFETY: the stack's top is 16-aligned with its whole page writable; the entry receives
        // a pointer to the fiber, which `current` keeps alive while it runs.
        let sp = unsafe { arch::init_stack(stack.top(), fiber::fiber_entry, FiberRef::as_ptr(f) as usize) };
        // SAFETY: per the contract, we own the fiber's cells.
        unsafe { *f.stack.get() = Some(stack) };
        sp
    }
}

/// The worker handed over by `arch::switch` (see the module header).
#[inline]
pub(crate) fn handed(v: usize) -> &'static WorkerLocal {
    debug_assert_eq!(v, worker_ptr() as usize);
    // SAFETY: every switch on a worker hands over the address of that worker's `WorkerLocal`,
    // which outlives every fiber the worker runs (see `run`).
    unsafe { &*(v as *const WorkerLocal) }
}

/// Executes what the previous context left in `pending`. Called right after every switch, with
/// the worker the switch handed over.
pub(crate) fn after_switch(w: &WorkerLocal) {
    match w.pending.take() {
        Pending::Nothing => {}
        Pending::Yield(f) => {
            f.run.store(fiber::RUNNABLE, Ordering::Release);
            w.push(f, Reason::Yielded);
        }
        Pending::YieldToChildren(f) => {
            f.run.store(fiber::RUNNABLE, Ordering::Release);
            // SAFETY: `spawner` is only touched by this worker's thread; `spawn_backpressure`
            // checked that it was empty.
            unsafe { *w.spawner.get() = Some(f) };
        }
        Pending::Park(f) => {
            use crate::fiber::state::{PARK_FAILED_TO, PARK_FROM, PARK_TO};
            // Before the CAS: once SUSPENDED the fiber may be woken (and its reference adopted)
            // at once, so the run reference must already belong to the suspended state.
            let f = std::mem::ManuallyDrop::new(f);
            if f.run.compare_exchange(PARK_FROM, PARK_TO, Ordering::AcqRel, Ordering::Acquire).is_err() {
                // Woken between registering and parking: run it again.
                f.run.store(PARK_FAILED_TO, Ordering::Release);
                w.push(std::mem::ManuallyDrop::into_inner(f), Reason::Yielded);
            }
            // Parked: the suspended state owns the run reference (see `fiber/mod.rs`).
        }
        Pending::Exit(f) => {
            f.run.store(fiber::DONE, Ordering::Release);
            // SAFETY: the fiber has left its stack for good (we are on another one).
            if let Some(stack) = unsafe { (*f.stack.get()).take() } {
                w.stacks.borrow_mut().release(stack);
            }
        }
    }
}

/// Leaves the current fiber with `action` and runs the next fiber (or the scheduler loop).
/// Returns when the fiber is resumed (never for `Exit`).
fn switch_away(w: &WorkerLocal, action: impl FnOnce(FiberRef) -> Pending) {
    let next = w.find_local();
    switch_to(w, next, action);
}

/// Like [`switch_away`] with the next fiber already chosen (`None`: the scheduler loop).
fn switch_to(w: &WorkerLocal, next: Option<FiberRef>, action: impl FnOnce(FiberRef) -> Pending) {
    // The departing fiber spawned since its last hint to idle workers (a spawn loop hints only
    // every eighth spawn, see `WorkerLocal::push`): its children may be all the work there is
    // while it waits, so make up for the skipped hints now.
    if w.spawn_streak.get() % 8 > 1 && w.rt.workers.len() > 1 {
        super::park::hint_one(&w.rt);
    }
    // SAFETY: `current` is only accessed by this worker's thread; a fiber is running.
    let me = unsafe { (*w.current.get()).take() }.expect("switch_away outside a fiber");
    let save: *mut usize = me.sp.get();
    w.pending.set(action(me));
    let target = match next {
        Some(next) => w.prepare(next),
        // SAFETY: read by the worker's own thread; the scheduler loop saved it.
        None => unsafe { *w.sched_sp.get() },
    };
    // SAFETY: `save` points into the departing fiber, kept alive by `pending`; `target` is a
    // context saved by `switch` or prepared by `init_stack` and owned by this worker.
    let back = unsafe { arch::switch(save, target, w as *const WorkerLocal as usize) };
    // Possibly on another worker now: only the handed-over one is ours.
    after_switch(handed(back));
}

/// Suspends the current fiber until it is woken (see `waiter.rs`).
pub fn park_current() {
    let w = worker().expect("park_current on a fiber");
    // A suspended fiber must be reachable by cancellation cascades (they wake it).
    w.current().expect("park_current on a fiber").ensure_registered();
    switch_away(w, Pending::Park);
}

/// Lets other runnable fibers of this worker run; a no-op if there are none. Returns false (and
/// does nothing) when not called on a fiber.
pub fn yield_current() -> bool {
    let Some(w) = worker() else { return false };
    // SAFETY: `current` is only accessed by this worker's thread.
    if unsafe { (*w.current.get()).is_none() } {
        return false;
    }
    // Nothing else runnable here: a no-op (the queues were checked in the same pass).
    if let Some(next) = w.find_local() {
        switch_to(w, Some(next), Pending::Yield);
    }
    true
}

/// Called after a fiber spawned (outside any borrow of the worker's state, with no lock held):
/// every [`SPAWN_STREAK`] spawns in a row, if [`SPAWN_BACKLOG`] fibers wait in this worker's
/// queue, the spawning fiber yields, so that the fibers it spawned run while their records,
/// stacks and queue slots are still in cache; it resumes, on this worker, once the queue is down
/// to a quarter of that (it waits in the worker's `spawner` slot, which is not stealable: when it
/// went back to the queue, other workers stole it with a batch of its children, and half of a
/// million spawns then ran on each worker, each move carrying its memory along). Without it a
/// loop spawning a million fibers runs for a whole time slice (tens of thousands of fibers)
/// before its children start, and they then run from memory. A yield is what a safepoint may do
/// at any time, so no program can tell.
///
/// While other workers are taking children from the queue (it grew by less than the spawns
/// since the last check, within the last [`SPAWN_SHARED_CHECKS`] checks), the backlog may grow to
/// [`SPAWN_BACKLOG_SHARED`] before the spawner helps: children its own worker runs then cost
/// several times what they cost the others (its queue's front and the parent's child counts
/// bounce between the workers, and its atomic operations wait behind the spawn's stores), and
/// with the spawner only spawning, spawn + join of a million fibers at two workers took 9% less
/// time (a fixed two-worker backlog of 64 Ki against 256, 11 interleaved pairs; 16 Ki gave 3%,
/// 256 Ki the same as 64 Ki; this rule, 15 pairs: 8.6%). The bound keeps at most that many
/// records and completions (some 13 MB) waiting per spawning worker.
pub(crate) fn spawn_backpressure(w: &WorkerLocal) {
    if w.spawn_streak.get() < SPAWN_STREAK {
        return;
    }
    w.spawn_streak.set(0);
    let len = w.queue.len();
    let (backlog, unshared) =
        spawn_backlog(len, w.spawn_len_seen.replace(len), w.spawn_unshared.get(), w.rt.workers.len());
    w.spawn_unshared.set(unshared);
    // SAFETY: `spawner` is only touched by this worker's thread.
    if len >= backlog && unsafe { (*w.spawner.get()).is_none() } {
        w.spawn_resume.set(backlog / 4);
        // Its children run next, here and on the workers that steal them; the spawner itself
        // waits in this worker's `spawner` slot, where nobody steals it, until the queue is
        // down to `spawn_resume` (`find_local`): moving it to another worker would move the
        // memory it is filling (its stack, its handles, its cell caches) with it.
        if let Some(next) = w.find_local() {
            switch_to(w, Some(next), Pending::YieldToChildren);
        }
    }
}

/// The backlog at which a spawner yields (see [`spawn_backpressure`]), from the queue's length
/// now and at the previous check ([`SPAWN_STREAK`] spawns ago), the checks in a row that saw no
/// theft before this one, and the runtime's worker count; and the new count of checks without a
/// theft.
fn spawn_backlog(len: usize, len_seen: usize, unshared: u32, workers: usize) -> (usize, u32) {
    // Other workers took some fibers if the queue grew by less than the spawns since then.
    let taken = len_seen + SPAWN_STREAK as usize > len;
    let unshared = if taken { 0 } else { unshared.saturating_add(1) };
    let shared = workers > 1 && unshared < SPAWN_SHARED_CHECKS;
    (if shared { SPAWN_BACKLOG_SHARED } else { SPAWN_BACKLOG }, unshared)
}

/// Ends the current fiber: switches away for the last time.
pub(crate) fn exit_current() -> ! {
    let w = worker().expect("exit_current on a fiber");
    switch_away(w, Pending::Exit);
    unreachable!("an exited fiber was resumed")
}

/// The cold path of a safepoint: yields if this worker was asked to preempt its fiber.
pub fn safepoint_slow() {
    let Some(w) = worker() else { return };
    // SAFETY: `current` is only accessed by this worker's thread.
    if unsafe { (*w.current.get()).is_none() } {
        return;
    }
    let shared = &w.rt.workers[w.index];
    let mine = shared.preempt.swap(false, Ordering::AcqRel);
    // Whether for us or a false positive (another worker's request, or one whose fiber already
    // switched away), clear the global word unless some worker still needs it, so other
    // safepoints stop taking the slow path.
    clear_preempt_word(&w.rt);
    if !mine {
        return;
    }
    w.rt.counters.preemptions.fetch_add(1, Ordering::Relaxed);
    yield_current();
}

/// Clears `blood_preempt_flag` if no worker of `rt` has a pending request. A request made
/// concurrently is not lost (Dekker, SeqCst): the requester stores its worker's flag, then the
/// word; we store the word, then read the workers' flags. If we miss the new request, its word
/// store comes after ours in the total order and the word stays set; if we see it, we set the
/// word again ourselves.
fn clear_preempt_word(rt: &RuntimeInner) {
    use crate::preempt::blood_preempt_flag;
    if rt.workers.iter().any(|s| s.preempt.load(Ordering::SeqCst)) {
        return;
    }
    blood_preempt_flag.store(0, Ordering::SeqCst);
    if rt.workers.iter().any(|s| s.preempt.load(Ordering::SeqCst)) {
        blood_preempt_flag.store(1, Ordering::SeqCst);
    }
}

/// Asks the current worker to yield at its next safepoint (`__builtin_safepoint_request`).
pub fn request_preempt_current() {
    if let Some(w) = worker() {
        w.rt.workers[w.index].preempt.store(true, Ordering::SeqCst);
        crate::preempt::blood_preempt_flag.store(1, Ordering::SeqCst);
    }
}

/// Withdraws the current worker's pending preemption request.
pub fn clear_preempt_current() {
    if let Some(w) = worker() {
        w.rt.workers[w.index].preempt.store(false, Ordering::Release);
    }
}

/// Queues a fiber that became runnable (from a wake or a spawn).
pub(crate) fn schedule(f: FiberRef, reason: Reason) {
    match local_for(&f.rt) {
        Some(w) => w.push(f, reason),
        None => {
            let rt = Arc::clone(&f.rt);
            rt.global.push(f);
            super::park::notify_one(&rt);
        }
    }
}

/// The worker thread's body.
pub(crate) fn run(local: WorkerLocal) {
    crate::stack::overflow::ensure_altstack();
    WORKER.with(|c| c.set(&local));
    let w = &local;
    let rt = w.rt.clone();
    let shared = &rt.workers[w.index];
    loop {
        if let Some(f) = w.find_any() {
            let sp = w.prepare(f);
            shared.running.store(true, Ordering::Relaxed);
            // SAFETY: `sched_sp` is this worker's own save slot; `sp` belongs to a fiber this
            // worker now owns. Whoever switches back runs on this worker and hands over `w`.
            unsafe { arch::switch(w.sched_sp.get(), sp, w as *const WorkerLocal as usize) };
            after_switch(w);
            shared.running.store(false, Ordering::Relaxed);
            continue;
        }
        if rt.is_shutting_down() && rt.live() == 0 {
            break;
        }
        // Nothing to run: a moment to map memory the spawning workers will soon need.
        crate::fiber::prepare_spare_regions();
        if rt.workers.len() > 1 && super::park::spin_for_work(&rt) {
            continue;
        }
        WorkerCounters::bump(&shared.counters.parks);
        super::park::park(&rt, w.index, &shared.notified);
        // Awake again (no longer counted as parked): the preemption monitor must watch us.
        rt.timers.worker_woke();
    }
    w.stacks.borrow_mut().drain();
    WORKER.with(|c| c.set(std::ptr::null()));
    // Fibers freed from now on on this thread drop their counts directly.
    for _ in 0..w.rt_lease.replace(0) {
        // SAFETY: each count of the lease was a forgotten clone of `w.rt`.
        unsafe { Arc::decrement_strong_count(Arc::as_ptr(&w.rt)) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A spawner alone with its queue yields at the small backlog; once another worker takes
    /// from the queue, the large one applies until `SPAWN_SHARED_CHECKS` checks in a row see no
    /// theft; one worker always means the small one.
    #[test]
    fn the_spawn_backlog_grows_only_while_other_workers_take_from_the_queue() {
        let streak = SPAWN_STREAK as usize;
        // Nobody took anything: the queue grew by the spawns.
        assert_eq!(spawn_backlog(2 * streak, streak, SPAWN_SHARED_CHECKS, 2), (SPAWN_BACKLOG, SPAWN_SHARED_CHECKS + 1));
        // A theft: it grew by less.
        let (backlog, mut unshared) = spawn_backlog(streak + 10, streak, SPAWN_SHARED_CHECKS, 2);
        assert_eq!((backlog, unshared), (SPAWN_BACKLOG_SHARED, 0));
        let mut len = streak + 10;
        for check in 1..=SPAWN_SHARED_CHECKS {
            let (backlog, u) = spawn_backlog(len + streak, len, unshared, 2);
            len += streak;
            unshared = u;
            let want = if check < SPAWN_SHARED_CHECKS { SPAWN_BACKLOG_SHARED } else { SPAWN_BACKLOG };
            assert_eq!(backlog, want, "check {check} without a theft");
        }
        // One worker: there are no thieves, whatever the lengths say.
        assert_eq!(spawn_backlog(10, 500, 0, 1).0, SPAWN_BACKLOG);
    }
}
