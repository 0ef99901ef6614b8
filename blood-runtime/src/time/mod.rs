//! Timers for `sleep`, timeouts and `select`, and the thread that fires them.
//!
//! The queue is a map from *tick* (100 µs since the runtime started) to the timers due in that
//! tick: inserting is O(log ticks), and firing drains whole ticks, so 100,000 fibers sleeping
//! 10 ms cost a few map nodes and no CPU until they are due. Deadlines round *up* to a tick, so a
//! sleep never ends early.
//!
//! One thread per runtime (`blood-timer`) waits on a condition variable until the earliest tick
//! (or until a new earlier timer is inserted, or a worker pokes it), fires due timers, and also
//! runs the preemption monitor (`monitor.rs`), often while workers are awake and a few times a
//! second while they are all parked, so an idle runtime uses (almost) no CPU. A worker that
//! leaves its park while the monitor is in that idle mode pokes the thread ([`Timers::poke`]).
//!
//! A timer is an `Arc<TimerEntry>` shared by the queue and the waiting party; whoever flips its
//! state first (fire or cancel) wins, takes the waker out (firing wakes it, cancelling drops it)
//! and the other side does nothing. Cancelled timers stay in the map until their tick and are
//! then skipped, but without their waker: a fiber cancelled during a 60 s sleep does not keep its
//! record alive for 60 s.
//!
//! Lock order: the queue lock is a leaf; wakers are invoked after releasing it.

pub mod monitor;

use crate::waiter::Waker;
use std::cell::UnsafeCell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Timer resolution.
pub const TICK: Duration = Duration::from_micros(100);

const PENDING: u8 = 0;
const FIRED: u8 = 1;
const CANCELLED: u8 = 2;

/// One registered timer.
pub struct TimerEntry {
    state: AtomicU8,
    /// Taken (only) by whoever moves `state` away from PENDING.
    waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: `waker` is accessed only by the single thread that wins the CAS out of PENDING (the
// AcqRel CAS orders the insertion's write before that access); everything else is atomic.
unsafe impl Sync for TimerEntry {}

impl TimerEntry {
    /// Moves the state from PENDING to `to`; on success returns the waker (ours now).
    fn settle(&self, to: u8) -> Option<Waker> {
        self.state.compare_exchange(PENDING, to, Ordering::AcqRel, Ordering::Acquire).ok()?;
        // SAFETY: we won the CAS, so no other thread touches `waker` (see the Sync impl).
        unsafe { (*self.waker.get()).take() }
    }
}

impl std::fmt::Debug for TimerEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimerEntry").field("state", &self.state.load(Ordering::Relaxed)).finish()
    }
}

/// The waiting party's handle to its timer.
#[derive(Debug)]
pub struct TimerRef(Arc<TimerEntry>);

impl TimerRef {
    /// Disarms the timer if it has not fired, dropping its waker at once.
    pub fn cancel(&self) {
        drop(self.0.settle(CANCELLED));
    }
    /// Whether it fired.
    pub fn fired(&self) -> bool {
        self.0.state.load(Ordering::Acquire) == FIRED
    }
}

struct Queue {
    map: BTreeMap<u64, Vec<Arc<TimerEntry>>>,
    shutdown: bool,
    /// Set by [`Timers::poke`]: poll again before waiting (a notification sent before the timer
    /// thread waits would otherwise be lost).
    poked: bool,
}

/// A runtime's timer queue.
pub struct Timers {
    epoch: Instant,
    queue: Mutex<Queue>,
    cond: Condvar,
    /// The monitor polls rarely because every worker was parked: a waking worker must poke it
    /// (see `monitor.rs` for the protocol).
    pub(crate) monitor_idle: AtomicBool,
}

impl Default for Timers {
    fn default() -> Self {
        Timers::new()
    }
}

impl Timers {
    pub fn new() -> Timers {
        Timers {
            epoch: Instant::now(),
            queue: Mutex::new(Queue { map: BTreeMap::new(), shutdown: false, poked: false }),
            cond: Condvar::new(),
            monitor_idle: AtomicBool::new(false),
        }
    }

    fn tick_of(&self, t: Instant) -> u64 {
        let d = t.saturating_duration_since(self.epoch);
        let ticks = d.as_nanos().div_ceil(TICK.as_nanos());
        ticks.min(u64::MAX as u128) as u64
    }

    fn instant_of(&self, tick: u64) -> Instant {
        self.epoch + TICK * (tick.min(u32::MAX as u64) as u32)
    }

    /// Arms a timer that wakes `waker` at or after `deadline`.
    pub fn insert(&self, deadline: Instant, waker: Waker) -> TimerRef {
        let entry = Arc::new(TimerEntry { state: AtomicU8::new(PENDING), waker: UnsafeCell::new(Some(waker)) });
        let tick = self.tick_of(deadline);
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let earliest = q.map.keys().next().copied();
        q.map.entry(tick).or_default().push(entry.clone());
        drop(q);
        if earliest.is_none_or(|e| tick < e) {
            self.cond.notify_one();
        }
        TimerRef(entry)
    }

    /// Number of armed (not yet fired or skipped) entries, including cancelled ones.
    pub fn len(&self) -> usize {
        self.queue.lock().unwrap_or_else(|e| e.into_inner()).map.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fires every due timer; returns when the next one is due (None: no timers).
    fn fire_due(&self) -> Option<Instant> {
        let now_tick = self.tick_of(Instant::now());
        let (due, next) = {
            let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            let later = q.map.split_off(&(now_tick + 1));
            let due = std::mem::replace(&mut q.map, later);
            (due, q.map.keys().next().copied())
        };
        for entry in due.into_values().flatten() {
            if let Some(waker) = entry.settle(FIRED) {
                waker.wake();
            }
        }
        next.map(|t| self.instant_of(t))
    }

    /// Stops the timer thread.
    pub fn shutdown(&self) {
        self.queue.lock().unwrap_or_else(|e| e.into_inner()).shutdown = true;
        self.cond.notify_all();
    }

    /// The timer thread's loop. `monitor` is polled with the current time and returns how soon it
    /// wants to run again (None = not needed).
    pub fn run(&self, mut monitor: impl FnMut(Instant) -> Option<Duration>) {
        loop {
            let next_timer = self.fire_due();
            let now = Instant::now();
            let monitor_wait = monitor(now);
            let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            if q.shutdown {
                return;
            }
            if std::mem::take(&mut q.poked) {
                continue;
            }
            // Re-read the earliest tick under the lock: an insert may have raced with fire_due.
            let next_timer = q.map.keys().next().map(|&t| self.instant_of(t)).or(next_timer);
            let wait = match (next_timer.map(|t| t.saturating_duration_since(now)), monitor_wait) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            match wait {
                Some(d) if d.is_zero() => continue,
                Some(d) => drop(self.cond.wait_timeout(q, d).unwrap_or_else(|e| e.into_inner())),
                None => drop(self.cond.wait(q).unwrap_or_else(|e| e.into_inner())),
            }
        }
    }

    /// Wakes the timer thread (e.g. when the monitor should start watching again); it polls the
    /// monitor again even if it has not started waiting yet.
    pub fn poke(&self) {
        self.queue.lock().unwrap_or_else(|e| e.into_inner()).poked = true;
        self.cond.notify_one();
    }

    /// Called by a worker that has just left its park: pokes the timer thread if the monitor
    /// went to its idle mode (see `monitor.rs`). A load first, so the common case writes nothing.
    #[inline]
    pub(crate) fn worker_woke(&self) {
        if self.monitor_idle.load(Ordering::SeqCst) && self.monitor_idle.swap(false, Ordering::SeqCst) {
            self.poke();
        }
    }
}

/// Suspends the current fiber (or thread) for at least `d`. A cancellation point.
pub fn sleep(d: Duration) -> Result<(), crate::cancellation::Cancelled> {
    sleep_until(Instant::now() + d)
}

/// Suspends until `deadline`. A cancellation point.
pub fn sleep_until(deadline: Instant) -> Result<(), crate::cancellation::Cancelled> {
    loop {
        crate::cancellation::check_cancelled()?;
        if Instant::now() >= deadline {
            return Ok(());
        }
        crate::waiter::park_until(deadline);
    }
}
