//! Run queues and the order in which a worker looks for work.
//!
//! * Per worker: a crossbeam-deque FIFO `Worker` (stealable through its `Stealer`) for Normal
//!   fibers, plus a one-fiber `next` slot (not stealable) that receives fibers woken by a fiber
//!   running on this worker when the runtime has several workers: the waker usually blocks right
//!   after waking (channel ping-pong), so the woken fiber runs next on the same, cache-warm worker
//!   instead of bouncing to another thread (Go's `runnext`, Tokio's LIFO slot). With one worker
//!   everything is FIFO, as LANGUAGE.md §7.2 requires.
//! * Global: one crossbeam `Injector` per priority. Fibers made runnable outside a worker go to the
//!   injector of their priority; High and Critical fibers always go there so that every worker
//!   sees them first; Low fibers run only when no Normal work is found (every 61st pick checks
//!   the global queues first so nothing starves).
//!
//! Search order: [Critical, High] → next slot (at most [`NEXT_STREAK`] times in a row) → local
//! queue → Normal injector (batch) → Low injector → (scheduler loop only) steal a batch from the
//! other workers, starting at a random victim.

use super::worker::WorkerLocal;
use crate::fiber::{FiberRef, Priority};
use crate::metrics::WorkerCounters;
use crossbeam_deque::{Injector, Steal};

/// Consecutive runs from the `next` slot before it must wait its turn in the queue.
pub const NEXT_STREAK: u32 = 16;

/// The global queues, one per priority.
#[derive(Default)]
pub struct Global {
    pub by_priority: [Injector<FiberRef>; 4],
}

impl Global {
    pub fn push(&self, f: FiberRef) {
        self.by_priority[f.priority as usize].push(f);
    }
    pub fn is_empty(&self) -> bool {
        self.by_priority.iter().all(Injector::is_empty)
    }
    pub fn len(&self) -> usize {
        self.by_priority.iter().map(Injector::len).sum()
    }
}

fn steal_one(inj: &Injector<FiberRef>) -> Option<FiberRef> {
    loop {
        match inj.steal() {
            Steal::Success(f) => return Some(f),
            Steal::Empty => return None,
            Steal::Retry => continue,
        }
    }
}

/// Why a fiber is being queued.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    Spawned,
    Woken,
    Yielded,
}

impl WorkerLocal {
    /// Queues `f` on this worker according to its priority and `reason`.
    pub fn push(&self, f: FiberRef, reason: Reason) {
        let priority = f.priority;
        self.push_as(f, priority, reason);
    }

    /// [`WorkerLocal::push`] with `f`'s priority given: a spawn has it at hand, and reading it
    /// back from the record it has just written made the load wait for those stores to reach
    /// the cache (they were written wider than the byte read, so not forwarded).
    #[inline]
    pub fn push_as(&self, f: FiberRef, priority: Priority, reason: Reason) {
        let rt = &*self.rt;
        match priority {
            Priority::Normal => {
                // With one worker the `next` slot is used only when it keeps FIFO order (nothing
                // else is queued), saving a queue round trip for ping-pong hand-offs.
                let use_next = reason == Reason::Woken
                    // SAFETY: `next` is only touched by this worker's thread.
                    && (rt.workers.len() > 1 || (unsafe { (*self.next.get()).is_none() } && self.queue.is_empty()));
                if use_next {
                    // SAFETY: `next` is only touched by this worker's thread.
                    let old = unsafe { (*self.next.get()).replace(f) };
                    match old {
                        Some(old) => self.queue.push(old),
                        None => return,
                    }
                } else {
                    self.queue.push(f);
                }
            }
            _ => rt.global.push(f),
        }
        // A yielded fiber runs after the current one on this worker; only new work is worth
        // waking an idle worker for. With one worker there is nobody to wake.
        // It is in this worker's queues, which it drains before parking: a hint is enough. A
        // fiber spawning many in a row hints at its first spawn and every eighth after it (and
        // once more when it switches away, `worker::switch_to`): the hint reads the idle
        // workers' line, which they write as they start and stop searching.
        if reason != Reason::Yielded
            && rt.workers.len() > 1
            && (reason != Reason::Spawned || self.spawn_streak.get() % 8 <= 1)
        {
            super::park::hint_one(rt);
        }
    }

    fn global_fair(&self) -> Option<FiberRef> {
        let g = &self.rt.global;
        for p in [Priority::Critical, Priority::High, Priority::Normal, Priority::Low] {
            if let Some(f) = steal_one(&g.by_priority[p as usize]) {
                return Some(f);
            }
        }
        None
    }

    /// Work available without stealing from other workers.
    pub fn find_local(&self) -> Option<FiberRef> {
        let tick = self.tick.get().wrapping_add(1);
        self.tick.set(tick);
        let g = &self.rt.global;
        if tick.is_multiple_of(61)
            && let Some(f) = self.global_fair()
        {
            return Some(f);
        }
        for p in [Priority::Critical, Priority::High] {
            let inj = &g.by_priority[p as usize];
            if !inj.is_empty()
                && let Some(f) = steal_one(inj)
            {
                return Some(f);
            }
        }
        // SAFETY: `spawner` is only touched by this worker's thread.
        let spawner = unsafe { &mut *self.spawner.get() };
        if spawner.is_some() && self.queue.len() <= self.spawn_resume.get() {
            return spawner.take();
        }
        // SAFETY: `next` is only touched by this worker's thread.
        let next = unsafe { &mut *self.next.get() };
        if next.is_some() {
            if self.next_streak.get() < NEXT_STREAK {
                self.next_streak.set(self.next_streak.get() + 1);
                return next.take();
            }
            self.next_streak.set(0);
            self.queue.push(next.take().expect("checked"));
        } else {
            self.next_streak.set(0);
        }
        if let Some(f) = self.queue.pop() {
            return Some(f);
        }
        loop {
            match g.by_priority[Priority::Normal as usize].steal_batch_and_pop(&self.queue) {
                Steal::Success(f) => return Some(f),
                Steal::Empty => break,
                Steal::Retry => continue,
            }
        }
        steal_one(&g.by_priority[Priority::Low as usize])
    }

    /// Whether `find_local` would find something (cheap, racy).
    pub fn has_local(&self) -> bool {
        // SAFETY: `next` is only touched by this worker's thread.
        let has_next = unsafe { (*self.next.get()).is_some() || (*self.spawner.get()).is_some() };
        has_next || !self.queue.is_empty() || !self.rt.global.is_empty()
    }

    /// `find_local`, then stealing from the other workers.
    pub fn find_any(&self) -> Option<FiberRef> {
        if let Some(f) = self.find_local() {
            return Some(f);
        }
        let n = self.rt.workers.len();
        if n < 2 {
            return None;
        }
        let counters = &self.rt.workers[self.index].counters;
        let start = self.random() as usize % n;
        for k in 0..n {
            let victim = (start + k) % n;
            if victim == self.index {
                continue;
            }
            WorkerCounters::bump(&counters.steal_attempts);
            loop {
                match self.rt.workers[victim].stealer.steal_batch_and_pop(&self.queue) {
                    Steal::Success(f) => {
                        WorkerCounters::bump(&counters.steals);
                        return Some(f);
                    }
                    Steal::Empty => break,
                    Steal::Retry => continue,
                }
            }
        }
        None
    }

    fn random(&self) -> u64 {
        // xorshift64*
        let mut x = self.rng.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}
