//! The M:N scheduler: N worker threads running M fibers, with per-worker work-stealing queues, a
//! global injector per priority, parking without busy-waiting, a timer thread that doubles as the
//! preemption monitor, and a shutdown that waits for every fiber.
//!
//! Split like Tokio's: [`worker`] (the loop and the switching), [`queue`] (queues and search
//! order), [`park`] (idle workers and wake-ups). A [`Runtime`] value owns one scheduler; the C
//! ABI uses one process-wide instance ([`global`]). Fibers find their runtime through the worker
//! thread they run on.
//!
//! Invariants:
//! * A runnable fiber is in exactly one place: a queue, a `next` slot, or `current` of one
//!   worker (the run-state CAS in `fiber/` guarantees single enqueueing).
//! * `live` counts *root* fibers (spawned outside any fiber of this runtime) not yet finished.
//!   By structured concurrency a root completes only after all its descendants, so `live == 0`
//!   means no fiber is left; fibers spawned by fibers never touch this shared counter. Shutdown
//!   waits for it to reach 0 under `live_lock`; the last finishing root notifies under the lock.
//! * Without the `multi-worker` feature (the minimal runtime) the worker count is forced to 1.

pub mod park;
pub mod queue;
pub mod worker;

use crate::config::{Config, ConfigError};
use crate::fiber::{
    Body, CompletionRef, Extras, Fiber, FiberConfig, FiberRef, JoinError, JoinHandle, RUNNABLE, StackSlot,
};
use crate::metrics::{Counters, Snapshot, WorkerCounters};
use crate::time::Timers;
use crossbeam_deque::Stealer;
use crossbeam_utils::CachePadded;
use std::cell::UnsafeCell;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use worker::WorkerLocal;

pub use queue::Reason;

/// What other threads may see of a worker.
pub struct WorkerShared {
    pub(crate) stealer: Stealer<FiberRef>,
    pub(crate) thread: OnceLock<std::thread::Thread>,
    /// Set by `park::notify_*` before unparking.
    pub(crate) notified: AtomicBool,
    /// A fiber is running on this worker (read by the preemption monitor).
    pub(crate) running: AtomicBool,
    /// Set by the monitor: the running fiber overran its slice.
    pub(crate) preempt: AtomicBool,
    pub(crate) counters: CachePadded<WorkerCounters>,
}

/// State shared by a runtime's workers, fibers and handles.
///
/// Aligned to 128 bytes so that the `Arc`'s reference counts (before the data) have their cache
/// line to themselves: every spawn increments them, while idle workers keep reading the queues'
/// fields here; sharing a line made that increment a cache miss on every spawn.
#[repr(align(128))]
pub struct RuntimeInner {
    pub(crate) config: Config,
    pub(crate) global: queue::Global,
    pub(crate) workers: Box<[WorkerShared]>,
    pub(crate) idle: park::Idle,
    pub(crate) timers: Timers,
    pub(crate) counters: Counters,
    live: CachePadded<AtomicUsize>,
    /// Counts of this `Arc` held for workers' leases (see `RtRef`).
    pub(crate) spare_rt_counts: SpareCounts,
    live_lock: Mutex<()>,
    live_cond: Condvar,
    shutdown: AtomicBool,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

/// A fiber's counted reference to its runtime. Its count comes from, and goes back to, the
/// *lease* of the worker it is created or freed on (`WorkerLocal::lease_rt`): a block of counts
/// taken at once and kept by the worker, so that spawning fibers on one worker and freeing them on
/// another does not bounce the `Arc`'s counter line between the two for every fiber. Counts flow
/// from spawning workers to the workers that free the fibers; a lease past twice its batch puts a
/// batch into the runtime's spare counts ([`SpareCounts`]), which an empty lease takes before it
/// clones the `Arc`. Only fibers created or freed off the runtime's workers touch the `Arc`'s
/// counter. Each worker hands its leftover counts back when it exits, and the spare ones are given
/// back at shutdown; until then they keep the runtime alive, as the fibers' counts would.
pub(crate) struct RtRef(std::mem::ManuallyDrop<Arc<RuntimeInner>>);

impl RtRef {
    /// A count from the lease of `w`, a worker of the runtime, on its own thread.
    pub(crate) fn leased(w: &WorkerLocal) -> RtRef {
        RtRef(std::mem::ManuallyDrop::new(w.lease_rt()))
    }

    pub(crate) fn new(rt: &Arc<RuntimeInner>) -> RtRef {
        match worker::local_for(rt) {
            Some(w) => RtRef(std::mem::ManuallyDrop::new(w.lease_rt())),
            None => RtRef(std::mem::ManuallyDrop::new(rt.clone())),
        }
    }
}

/// Counts of the runtime's `Arc` that no `Arc` value represents (forgotten clones), moved between
/// workers' leases in batches (see `RtRef`). They are given back when the runtime shuts down.
#[derive(Default)]
pub(crate) struct SpareCounts(CachePadded<AtomicUsize>);

impl SpareCounts {
    /// Deposits `n` counts the caller owns.
    pub(crate) fn put(&self, n: usize) {
        self.0.fetch_add(n, Ordering::Release);
    }

    /// Withdraws `n` counts if there are that many (the caller then owns them).
    pub(crate) fn take(&self, n: usize) -> bool {
        let mut have = self.0.load(Ordering::Relaxed);
        while have >= n {
            match self.0.compare_exchange_weak(have, have - n, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => return true,
                Err(now) => have = now,
            }
        }
        false
    }

    /// Withdraws every count.
    fn take_all(&self) -> usize {
        self.0.swap(0, Ordering::Acquire)
    }
}

impl std::ops::Deref for RtRef {
    type Target = Arc<RuntimeInner>;
    #[inline]
    fn deref(&self) -> &Arc<RuntimeInner> {
        &self.0
    }
}

impl Drop for RtRef {
    fn drop(&mut self) {
        // SAFETY: taken once, here; the field is not used again.
        let rt = unsafe { std::mem::ManuallyDrop::take(&mut self.0) };
        match worker::local_for(&rt) {
            Some(w) => w.return_rt(rt),
            None => drop(rt),
        }
    }
}

impl RuntimeInner {
    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    pub(crate) fn live(&self) -> usize {
        self.live.load(Ordering::Acquire)
    }

    /// Work any worker could take right now (global queues or a stealable local queue).
    pub(crate) fn has_visible_work(&self) -> bool {
        !self.global.is_empty() || self.workers.iter().any(|w| !w.stealer.is_empty())
    }

    /// Called once per root fiber when it has finished (after all its descendants).
    pub(crate) fn root_finished(&self) {
        if self.live.fetch_sub(1, Ordering::AcqRel) == 1 {
            let _g = self.live_lock.lock().unwrap_or_else(|e| e.into_inner());
            self.live_cond.notify_all();
            drop(_g);
            if self.is_shutting_down() {
                park::notify_all(self);
            }
        }
    }

    /// Blocks the calling thread until no fiber is live (no root fiber is left).
    fn wait_all_finished(&self) {
        let mut g = self.live_lock.lock().unwrap_or_else(|e| e.into_inner());
        while self.live() > 0 {
            g = self.live_cond.wait(g).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Creates a fiber and queues it; returns its completion cell.
    pub(crate) fn spawn_body(self: &Arc<Self>, cfg: FiberConfig, body: Body) -> CompletionRef {
        self.spawn_body_on(worker::local_for(self), cfg, body)
    }

    /// [`RuntimeInner::spawn_body`] from `w`, the calling thread's worker if it is one of this
    /// runtime's (looked up once by the caller: spawning is the hot path of spawn loops).
    /// Inlined, with the functions that lead here from the C ABI's spawn entries (`spawn_c`,
    /// `spawn_in_innermost`, `spawn_with`, `Body::new`): the body's words then go from the
    /// caller's registers into the record. Passed down through stack copies, they were stored 8
    /// bytes at a time and loaded back 16 at a time, loads the processor cannot serve from its
    /// store buffer, so each waited for every older store, the previous spawn's cache misses
    /// included (spawn + join of a million fibers at two workers: 7–10% faster inlined).
    #[inline(always)]
    fn spawn_body_on(self: &Arc<Self>, w: Option<&WorkerLocal>, cfg: FiberConfig, body: Body) -> CompletionRef {
        let spawner = w.and_then(|w| w.current());
        let parent = match spawner {
            Some(p) => Some(p.note_child_spawned()),
            None => {
                self.live.fetch_add(1, Ordering::AcqRel);
                None
            }
        };
        let stack_size = if cfg.stack_size == 0 { 0 } else { cfg.stack_size.clamp(4096, u32::MAX as usize) as u32 };
        match w {
            Some(w) => {
                WorkerCounters::bump(&self.workers[w.index].counters.spawned);
                if spawner.is_some() {
                    w.spawn_streak.set(w.spawn_streak.get() + 1);
                }
            }
            None => {
                self.counters.spawned.fetch_add(1, Ordering::Relaxed);
            }
        }
        // A child spawned without a token inherits its spawner's cancellation lazily (see
        // `cancellation.rs`): no registration now.
        let inherit_from = match (&cfg.cancel_parent, spawner) {
            (None, Some(p)) => Some(std::ptr::NonNull::from(&**p.completion())),
            _ => None,
        };
        let (completion, completion_of_fiber) = CompletionRef::new_pair(inherit_from, cfg.by_id);
        let rt = match w {
            Some(w) => RtRef::leased(w),
            None => RtRef::new(self),
        };
        let (fiber, link) = FiberRef::new_pair_with(|| Fiber {
            rt,
            run: AtomicU8::new(RUNNABLE),
            priority: cfg.priority,
            completion: completion_of_fiber,
            sp: UnsafeCell::new(0),
            stack: StackSlot::default(),
            stack_size,
            body: UnsafeCell::new(body),
            parent,
            // Set below if need be: a constant here is written straight into the record.
            extras: OnceLock::new(),
        });
        if let Some(name) = cfg.name {
            let extras = Box::new(Extras { name: Some(name.into_boxed_str()), ..Extras::default() });
            // The record is ours alone yet: nothing else can have set it.
            let _ = fiber.extras.set(extras);
        }
        if let Some(t) = &cfg.cancel_parent {
            t.register_fiber(&fiber);
        }
        // SAFETY: the cell is not shared yet: only this thread holds its references (ours and
        // the record's, and the record is not queued yet).
        let c = unsafe { completion.get_mut_unshared() };
        c.join.get_mut().unwrap_or_else(|e| e.into_inner()).fiber = Some(link);
        // The run reference (see `fiber/mod.rs`).
        match w {
            Some(w) => w.push_as(fiber, cfg.priority, Reason::Spawned),
            None => worker::schedule(fiber, Reason::Spawned),
        }
        completion
    }

    /// A snapshot of the counters.
    pub fn snapshot(&self) -> Snapshot {
        let c = &self.counters;
        let mut s = Snapshot {
            spawned: c.spawned.load(Ordering::Relaxed),
            completed: c.completed.load(Ordering::Relaxed),
            cancelled: c.cancelled.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            active: 0,
            preemptions: c.preemptions.load(Ordering::Relaxed),
            global_queue_depth: self.global.len() as u64,
            workers: self.workers.len() as u64,
            timers: self.timers.len() as u64,
            ..Snapshot::default()
        };
        for w in self.workers.iter() {
            s.spawned += w.counters.spawned.load(Ordering::Relaxed);
            s.completed += w.counters.completed.load(Ordering::Relaxed);
            s.cancelled += w.counters.cancelled.load(Ordering::Relaxed);
            s.failed += w.counters.failed.load(Ordering::Relaxed);
            s.context_switches += w.counters.switches.load(Ordering::Relaxed);
            s.steal_attempts += w.counters.steal_attempts.load(Ordering::Relaxed);
            s.steals += w.counters.steals.load(Ordering::Relaxed);
            s.worker_parks += w.counters.parks.load(Ordering::Relaxed);
            s.local_queue_depth += w.stealer.len() as u64;
        }
        s.active = s.spawned.saturating_sub(s.completed + s.cancelled + s.failed);
        s
    }
}

/// Wakes a fiber whose run state just became RUNNABLE.
pub(crate) fn schedule_woken(f: FiberRef) {
    worker::schedule(f, Reason::Woken);
}

/// A running scheduler. Dropping it shuts it down (waiting for every fiber).
pub struct Runtime {
    inner: Arc<RuntimeInner>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").field("workers", &self.inner.workers.len()).finish()
    }
}

impl Runtime {
    /// Starts a runtime with the configuration from the environment.
    pub fn from_env() -> Result<Runtime, ConfigError> {
        Runtime::new(Config::from_env()?)
    }

    /// Starts `config.workers` worker threads and the timer thread.
    pub fn new(mut config: Config) -> Result<Runtime, ConfigError> {
        if !cfg!(feature = "multi-worker") {
            config.workers = 1;
        }
        if config.workers == 0 {
            return Err(ConfigError("the runtime needs at least one worker".into()));
        }
        crate::stack::init_pool(crate::stack::StackGeometry::new(
            config.max_stack_size,
            config.stack_size,
            config.stack_guards,
        ));
        let locals: Vec<_> = (0..config.workers).map(|_| crossbeam_deque::Worker::new_fifo()).collect();
        let workers = locals
            .iter()
            .map(|q| WorkerShared {
                stealer: q.stealer(),
                thread: OnceLock::new(),
                notified: AtomicBool::new(false),
                running: AtomicBool::new(false),
                preempt: AtomicBool::new(false),
                counters: CachePadded::new(WorkerCounters::default()),
            })
            .collect();
        let inner = Arc::new(RuntimeInner {
            config,
            global: queue::Global::default(),
            workers,
            idle: park::Idle::default(),
            timers: Timers::new(),
            counters: Counters::default(),
            live: CachePadded::new(AtomicUsize::new(0)),
            spare_rt_counts: SpareCounts::default(),
            live_lock: Mutex::new(()),
            live_cond: Condvar::new(),
            shutdown: AtomicBool::new(false),
            threads: Mutex::new(Vec::new()),
        });
        let mut threads = Vec::new();
        for (index, queue) in locals.into_iter().enumerate() {
            let local = worker::WorkerLocal::new(inner.clone(), index, queue);
            let t = std::thread::Builder::new()
                .name(format!("blood-worker-{index}"))
                .spawn(move || worker::run(local))
                .map_err(|e| ConfigError(format!("cannot start worker thread: {e}")))?;
            let _ = inner.workers[index].thread.set(t.thread().clone());
            threads.push(t);
        }
        let rt = inner.clone();
        let timer = std::thread::Builder::new()
            .name("blood-timer".into())
            .spawn(move || {
                let mut mon = crate::time::monitor::Monitor::new(&rt);
                rt.timers.run(|now| mon.poll(now));
            })
            .map_err(|e| ConfigError(format!("cannot start timer thread: {e}")))?;
        threads.push(timer);
        *inner.threads.lock().unwrap_or_else(|e| e.into_inner()) = threads;
        Ok(Runtime { inner })
    }

    /// The shared state (for the C ABI and tests).
    pub fn inner(&self) -> &Arc<RuntimeInner> {
        &self.inner
    }

    /// Number of workers.
    pub fn workers(&self) -> usize {
        self.inner.workers.len()
    }

    /// Spawns a fiber running `f`.
    pub fn spawn<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> JoinHandle<T> {
        self.spawn_with(FiberConfig::default(), f)
    }

    /// Spawns a fiber with a configuration.
    pub fn spawn_with<T: Send + 'static>(
        &self,
        cfg: FiberConfig,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> JoinHandle<T> {
        spawn_on(&self.inner, cfg, f)
    }

    /// Runs `f` as a root fiber and blocks the calling thread until it (and its children) end.
    pub fn block_on<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, JoinError> {
        self.spawn(f).join()
    }

    /// Counters.
    pub fn counters(&self) -> Snapshot {
        self.inner.snapshot()
    }

    /// Waits until every fiber has finished (the runtime keeps running).
    pub fn wait_idle(&self) {
        self.inner.wait_all_finished();
    }

    /// Waits for every fiber, then stops the workers and the timer thread.
    pub fn shutdown(self) {
        drop(self);
    }

    fn shutdown_inner(&self) {
        if worker::local_for(&self.inner).is_some() {
            // Joining our own worker thread would deadlock; the runtime is leaked instead.
            return;
        }
        self.inner.wait_all_finished();
        self.inner.shutdown.store(true, Ordering::Release);
        park::notify_all(&self.inner);
        self.inner.timers.shutdown();
        let threads = std::mem::take(&mut *self.inner.threads.lock().unwrap_or_else(|e| e.into_inner()));
        for t in threads {
            let _ = t.join();
        }
        // The workers are gone (they gave back their own leases as they exited).
        for _ in 0..self.inner.spare_rt_counts.take_all() {
            // SAFETY: each spare count is a forgotten clone of `self.inner`.
            unsafe { Arc::decrement_strong_count(Arc::as_ptr(&self.inner)) };
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown_inner();
    }
}

fn spawn_on<T: Send + 'static>(
    rt: &Arc<RuntimeInner>,
    cfg: FiberConfig,
    f: impl FnOnce() -> T + Send + 'static,
) -> JoinHandle<T> {
    let body = Body::new(move || crate::fiber::Value::new(f()));
    JoinHandle { completion: rt.spawn_body(cfg, body), _t: PhantomData }
}

/// The runtime of the calling fiber's worker.
pub fn current_runtime() -> Option<Arc<RuntimeInner>> {
    worker::current_fiber().map(|f| Arc::clone(&f.rt))
}

/// Spawns a fiber on the caller's runtime, or on the process-wide runtime outside fibers.
pub fn spawn<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> JoinHandle<T> {
    spawn_with(FiberConfig::default(), f)
}

/// [`spawn`] with a configuration.
// Inlined: see `RuntimeInner::spawn_body_on`.
#[inline(always)]
pub fn spawn_with<T: Send + 'static>(cfg: FiberConfig, f: impl FnOnce() -> T + Send + 'static) -> JoinHandle<T> {
    // The worker is looked up once for the whole spawn (a thread-local access each time).
    match worker::current_worker().filter(|w| w.current().is_some()) {
        // On a fiber: its runtime is its worker's.
        Some(w) => {
            let body = Body::new(move || crate::fiber::Value::new(f()));
            let h = JoinHandle { completion: w.rt.spawn_body_on(Some(w), cfg, body), _t: PhantomData };
            // Only now: it may switch to another fiber.
            worker::spawn_backpressure(w);
            h
        }
        None => spawn_on(global().inner(), cfg, f),
    }
}

/// Yields the current fiber (a thread yield outside fibers).
pub fn yield_now() {
    if !worker::yield_current() {
        std::thread::yield_now();
    }
}

/// The current fiber's id; 0 outside fibers and on the root fiber of the C ABI.
pub fn current_id() -> u64 {
    worker::with_current_fiber(|f| f.map(|f| f.id()).unwrap_or(0))
}

static GLOBAL: OnceLock<Runtime> = OnceLock::new();

/// The process-wide runtime used by the C ABI, started on first use from the environment.
/// An invalid configuration is reported and the process exits with EXIT_RUNTIME_INIT_FAILED.
pub fn global() -> &'static Runtime {
    GLOBAL.get_or_init(|| match Runtime::from_env() {
        Ok(rt) => rt,
        Err(e) => crate::panic::die("blood runtime: ", e.0.as_bytes(), blood_abi::EXIT_RUNTIME_INIT_FAILED),
    })
}

/// Starts the process-wide runtime with `config` unless it is already running.
pub fn init_global(config: Config) -> Result<&'static Runtime, ConfigError> {
    if let Some(rt) = GLOBAL.get() {
        return Ok(rt);
    }
    let rt = Runtime::new(config)?;
    // A concurrent initialiser may win; ours is then shut down (it has no fibers).
    Ok(GLOBAL.get_or_init(|| rt))
}

/// The process-wide runtime if it was started.
pub fn global_if_started() -> Option<&'static Runtime> {
    GLOBAL.get()
}

/// Waits for every fiber of the process-wide runtime and stops its threads (it cannot be
/// restarted: later spawns would wait forever, so this is only for process exit).
pub fn shutdown_global() {
    if let Some(rt) = GLOBAL.get() {
        rt.shutdown_inner();
    }
}
