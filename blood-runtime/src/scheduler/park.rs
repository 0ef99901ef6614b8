//! Idle workers: parking without busy-waiting, and waking one when work appears.
//!
//! Protocol (no lost wake-ups): a producer outside the workers makes work visible (a global
//! queue push), then executes a SeqCst fence and reads `count` ([`notify_one`]); a worker about to
//! park pushes itself on the idle list, increments `count` (SeqCst), then re-checks every visible
//! queue before blocking. Whichever side runs second sees the other's write, so either the
//! producer finds the idle worker to wake or the worker finds the work. Each worker blocks in
//! `std::thread::park`, whose token makes an `unpark` that precedes the `park` count.
//!
//! A worker that queues work (a spawn, a wake) only *hints* ([`hint_one`]: the same check without
//! the fence, which would cost a store-buffer drain per spawn): the work is in its own queues,
//! which it drains itself before it parks, so a missed wake-up costs parallelism for a moment,
//! never progress (and the next push sees the idle worker).

use super::RuntimeInner;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering, fence};

#[derive(Default)]
pub struct Idle {
    count: AtomicUsize,
    list: Mutex<Vec<usize>>,
    /// Workers spinning for work before they park; a producer need not wake anyone while one is.
    pub(crate) searching: AtomicUsize,
}

/// How long a worker that ran out of work keeps looking before it parks. Short enough that an
/// idle runtime stays idle; long enough to absorb bursts without a futex round trip per fiber.
pub const SPIN_BEFORE_PARK: std::time::Duration = std::time::Duration::from_micros(50);

impl Idle {
    /// Number of parked workers.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

/// Wakes one parked worker, if any (called after making work visible outside the workers).
#[inline]
pub fn notify_one(rt: &RuntimeInner) {
    fence(Ordering::SeqCst);
    if rt.idle.count.load(Ordering::SeqCst) == 0 || rt.idle.searching.load(Ordering::SeqCst) > 0 {
        return;
    }
    notify_slow(rt);
}

/// [`notify_one`] for work a worker queued on itself: no fence (see the module header).
#[inline]
pub fn hint_one(rt: &RuntimeInner) {
    if rt.idle.count.load(Ordering::Relaxed) == 0 || rt.idle.searching.load(Ordering::Relaxed) > 0 {
        return;
    }
    notify_slow(rt);
}

#[cold]
fn notify_slow(rt: &RuntimeInner) {
    let idx = {
        let mut list = rt.idle.list.lock().unwrap_or_else(|e| e.into_inner());
        let idx = list.pop();
        if idx.is_some() {
            rt.idle.count.fetch_sub(1, Ordering::SeqCst);
        }
        idx
    };
    if let Some(i) = idx {
        let w = &rt.workers[i];
        w.notified.store(true, Ordering::Release);
        if let Some(t) = w.thread.get() {
            t.unpark();
        }
    }
}

/// Wakes every parked worker (shutdown).
pub fn notify_all(rt: &RuntimeInner) {
    let all: Vec<usize> = {
        let mut list = rt.idle.list.lock().unwrap_or_else(|e| e.into_inner());
        rt.idle.count.fetch_sub(list.len(), Ordering::SeqCst);
        std::mem::take(&mut *list)
    };
    for i in all {
        rt.workers[i].notified.store(true, Ordering::Release);
    }
    for w in rt.workers.iter() {
        if let Some(t) = w.thread.get() {
            t.unpark();
        }
    }
}

fn remove_self(rt: &RuntimeInner, index: usize) {
    let mut list = rt.idle.list.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(pos) = list.iter().position(|&i| i == index) {
        list.swap_remove(pos);
        rt.idle.count.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Spins (with `pause`) for up to [`SPIN_BEFORE_PARK`] waiting for visible work; returns whether
/// some appeared. While spinning the worker counts as *searching*, which spares producers a wake.
pub fn spin_for_work(rt: &RuntimeInner) -> bool {
    rt.idle.searching.fetch_add(1, Ordering::SeqCst);
    let start = std::time::Instant::now();
    let mut found = false;
    'spin: while start.elapsed() < SPIN_BEFORE_PARK && !rt.is_shutting_down() {
        for _ in 0..64 {
            std::hint::spin_loop();
        }
        if rt.has_visible_work() {
            found = true;
            break 'spin;
        }
    }
    // Leaving the searching state before parking: `park` re-checks the queues after registering
    // as idle, so work pushed by a producer that saw us searching is not missed.
    rt.idle.searching.fetch_sub(1, Ordering::SeqCst);
    found
}

/// Parks worker `index` until it is notified or work becomes visible.
pub fn park(rt: &RuntimeInner, index: usize, notified: &AtomicBool) {
    {
        let mut list = rt.idle.list.lock().unwrap_or_else(|e| e.into_inner());
        list.push(index);
        rt.idle.count.fetch_add(1, Ordering::SeqCst);
    }
    fence(Ordering::SeqCst);
    if rt.has_visible_work() || rt.is_shutting_down() {
        remove_self(rt, index);
        notified.store(false, Ordering::Relaxed);
        return;
    }
    loop {
        std::thread::park();
        if notified.swap(false, Ordering::AcqRel) {
            return;
        }
        if rt.has_visible_work() || rt.is_shutting_down() {
            remove_self(rt, index);
            notified.store(false, Ordering::Relaxed);
            return;
        }
    }
}
