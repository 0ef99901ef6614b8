//! Runtime counters, kept cheaply: one relaxed atomic add per event on a cache-padded counter
//! (the hot ones — context switches, steals — are per worker and written only by their owner),
//! summed when read. Readable through [`crate::Runtime::counters`] and `blood_runtime_stats`.

use crossbeam_utils::CachePadded;
use std::sync::atomic::{AtomicU64, Ordering};

/// Runtime-wide counters (events outside workers; the per-worker ones are added when read).
#[derive(Default)]
pub struct Counters {
    pub spawned: CachePadded<AtomicU64>,
    pub completed: CachePadded<AtomicU64>,
    pub cancelled: CachePadded<AtomicU64>,
    pub failed: CachePadded<AtomicU64>,
    /// Calls of `cancel` that reached a live fiber's token.
    pub cancel_requests: AtomicU64,
    /// Fibers asked to yield by the preemption monitor.
    pub preempt_requests: AtomicU64,
    /// Safepoints that actually yielded because of such a request.
    pub preemptions: AtomicU64,
}

/// Counters kept by one worker (written only by it).
#[derive(Default)]
pub struct WorkerCounters {
    pub spawned: AtomicU64,
    pub completed: AtomicU64,
    pub cancelled: AtomicU64,
    pub failed: AtomicU64,
    pub switches: AtomicU64,
    pub steal_attempts: AtomicU64,
    pub steals: AtomicU64,
    pub parks: AtomicU64,
}

impl WorkerCounters {
    /// Owner-only increment (no read-modify-write needed).
    #[inline]
    pub fn bump(c: &AtomicU64) {
        c.store(c.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }
}

/// A point-in-time copy of every counter. Field order and meaning are also the layout of
/// `blood_abi::RuntimeStats` (all `u64`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Snapshot {
    pub spawned: u64,
    pub completed: u64,
    pub cancelled: u64,
    pub failed: u64,
    /// Fibers spawned and not yet finished.
    pub active: u64,
    pub context_switches: u64,
    pub steal_attempts: u64,
    pub steals: u64,
    pub worker_parks: u64,
    pub preemptions: u64,
    /// Fibers waiting in the global queues.
    pub global_queue_depth: u64,
    /// Fibers waiting in the workers' local queues (sum).
    pub local_queue_depth: u64,
    pub workers: u64,
    pub timers: u64,
}
