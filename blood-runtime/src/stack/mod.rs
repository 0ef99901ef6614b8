//! Fiber stacks: carved from a few large virtual-memory reservations, committed lazily by the
//! kernel as the fiber touches them, recycled through a pool, overflow reported as
//! `fiber stack overflow` with exit status [`blood_abi::EXIT_STACK_OVERFLOW`].
//!
//! The slot layout, the slot type, the chunk reservations and the overflow handler are shared
//! with the minimal runtime (`blood-runtime-core`'s `stack/`, re-exported here); this module is
//! the full runtime's pool in front of them.
//!
//! # Why not one mapping plus a guard page per stack
//! Each `mmap`, and each `mprotect` that makes a guard page inside a mapping, adds VMAs; Linux
//! caps a process at `vm.max_map_count` (65,530 by default), i.e. about 32,000 guarded stacks.
//! One million fibers therefore cannot all have hardware guard pages. The policy:
//! * The first `BLOOD_STACK_GUARDS` slots ever carved (default [`DEFAULT_GUARDED_SLOTS`]) get a
//!   guard page: a `MADV_GUARD_INSTALL` marker (Linux ≥ 6.13: no VMA, no address-space write
//!   lock), else a `PROT_NONE` page (2 VMAs each). Slots are recycled LIFO through the pool, so in
//!   programs with fewer live fibers than that, every stack is guarded. A fault in a guard page is
//!   recognised by the SIGSEGV/SIGBUS handler in [`overflow`], which runs on an alternate signal
//!   stack, prints `fiber stack overflow` and exits with status 134.
//! * Beyond the budget, slots have no hardware guard; overflow detection relies on the stack
//!   limit check compiled Blood code performs in function prologues against the limit word in the
//!   slot metadata (published in blood-abi; a failed check calls `blood_stack_overflow`). Native
//!   (Rust or C) code running on such a stack is not checked.
//!
//! Rust and Cranelift emit stack probes for frames larger than a page, so a large frame cannot
//! jump over a guard page.
//!
//! # Pool
//! Free stacks go to a per-worker cache first (no locking on the spawn/exit hot path), then to a
//! global pool (`Mutex<Vec>`). Stacks keep their committed pages while pooled (like Go's stack
//! cache); when the global pool holds more than [`TRIM_THRESHOLD`] untrimmed stacks and nobody
//! has taken a stack from it since the previous poll ([`StackPool::demand`]), the timer thread
//! trims the surplus, a batch per tick, to `BLOOD_STACK_SIZE` resident bytes with
//! `madvise(MADV_DONTNEED)` (off the workers' path: 100,000 fibers exiting at once must not pay
//! 100,000 system calls; and not during a burst, whose next fibers would fault the pages in
//! again). Allocation prefers untrimmed (warm) stacks.
//!
//! Invariants: a slot is owned by at most one `Stack` value; chunk base addresses are published
//! (Release) before any slot of theirs is handed out, so the signal handler (Acquire) sees every
//! chunk that can hold a running stack.

use std::sync::{Mutex, OnceLock};

use blood_runtime_core::stack::Reservations;
pub use blood_runtime_core::stack::{
    META_SIZE, PAGE_SIZE, SLOTS_PER_CHUNK, Stack, StackError, StackGeometry, overflow,
};

/// Default number of slots that get a hardware guard page (2 VMAs each).
pub const DEFAULT_GUARDED_SLOTS: usize = 10_000;
/// Stacks in the global pool beyond which entering stacks are trimmed.
pub const TRIM_THRESHOLD: usize = 1024;
/// Stacks a worker keeps for itself before returning some to the global pool.
const WORKER_CACHE_MAX: usize = 64;

/// The process-wide stack pool.
pub struct StackPool {
    /// Geometry of every slot.
    pub geometry: StackGeometry,
    free: Mutex<Vec<Stack>>,
    trimmed: Mutex<Vec<Stack>>,
    reserve: Reservations,
    /// Allocations served by the global pool so far (see [`StackPool::demand`]).
    takes: std::sync::atomic::AtomicU64,
}

static POOL: OnceLock<StackPool> = OnceLock::new();

/// Initialises the process-wide pool with `geometry` if it is not yet initialised; returns the
/// geometry in force (the first caller's).
pub fn init_pool(geometry: StackGeometry) -> StackGeometry {
    let pool = POOL.get_or_init(|| {
        overflow::install_handler();
        StackPool {
            geometry,
            free: Mutex::new(Vec::new()),
            trimmed: Mutex::new(Vec::new()),
            reserve: Reservations::new(geometry),
            takes: std::sync::atomic::AtomicU64::new(0),
        }
    });
    blood_runtime_core::exports::blood_stack_slot_mask
        .store(pool.geometry.slot_size as u64 - 1, std::sync::atomic::Ordering::Release);
    pool.geometry
}

/// The process-wide pool (initialised with defaults on first use).
pub fn pool() -> &'static StackPool {
    match POOL.get() {
        Some(p) => p,
        None => {
            init_pool(StackGeometry::new(1 << 20, 8 << 10, DEFAULT_GUARDED_SLOTS));
            POOL.get().expect("pool initialised")
        }
    }
}

impl StackPool {
    /// Takes a stack from the global pool or carves a new slot.
    pub fn alloc(&self) -> Result<Stack, StackError> {
        self.takes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Some(s) = self.free.lock().unwrap_or_else(|e| e.into_inner()).pop() {
            return Ok(s);
        }
        if let Some(s) = self.trimmed.lock().unwrap_or_else(|e| e.into_inner()).pop() {
            return Ok(s);
        }
        self.reserve
            .carve()
            .map(|base| Stack::from_slot(std::num::NonZeroUsize::new(base).expect("slot addresses are not 0")))
    }

    /// Returns stacks to the global pool.
    pub fn release_many(&self, stacks: impl IntoIterator<Item = Stack>) {
        self.free.lock().unwrap_or_else(|e| e.into_inner()).extend(stacks);
    }

    /// Number of allocations that reached the global pool so far. The trimmer compares it between
    /// two polls and trims only when it has not moved: stacks that the workers are still
    /// exchanging through the pool (fibers exiting on one worker, spawned on another) would be
    /// faulted in again right after `madvise` dropped their pages.
    pub fn demand(&self) -> u64 {
        self.takes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Trims up to `max` of the untrimmed stacks beyond [`TRIM_THRESHOLD`] (the coldest first);
    /// returns how many it trimmed. Called by the timer thread.
    pub fn trim_some(&self, max: usize) -> usize {
        let batch: Vec<Stack> = {
            let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
            let surplus = free.len().saturating_sub(TRIM_THRESHOLD).min(max);
            free.drain(..surplus).collect()
        };
        for s in &batch {
            self.trim(s);
        }
        let n = batch.len();
        self.trimmed.lock().unwrap_or_else(|e| e.into_inner()).extend(batch);
        n
    }

    fn trim(&self, s: &Stack) {
        let g = &self.geometry;
        let start = s.slot_base() + PAGE_SIZE;
        let end = s.slot_base() + g.slot_size - g.resident;
        if end > start {
            // SAFETY: the range lies inside a slot we own and is part of a private anonymous
            // mapping; MADV_DONTNEED only discards its contents (it reads as zero afterwards).
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
        }
    }

    /// Number of stacks idle in the global pool (untrimmed, trimmed).
    pub fn pooled(&self) -> (usize, usize) {
        (
            self.free.lock().unwrap_or_else(|e| e.into_inner()).len(),
            self.trimmed.lock().unwrap_or_else(|e| e.into_inner()).len(),
        )
    }

    /// Slots carved so far, and how many of them are guarded.
    pub fn carved(&self) -> (usize, usize) {
        self.reserve.carved()
    }
}

/// A worker's private stack cache in front of the global pool.
#[derive(Default)]
pub struct StackCache {
    stacks: Vec<Stack>,
}

impl StackCache {
    /// A stack, from the cache if possible.
    pub fn alloc(&mut self) -> Result<Stack, StackError> {
        match self.stacks.pop() {
            Some(s) => Ok(s),
            None => pool().alloc(),
        }
    }
    /// Keeps `s` for reuse, spilling half the cache to the global pool when full.
    pub fn release(&mut self, s: Stack) {
        self.stacks.push(s);
        if self.stacks.len() > WORKER_CACHE_MAX {
            let spill = self.stacks.split_off(WORKER_CACHE_MAX / 2);
            pool().release_many(spill);
        }
    }
    /// Returns every cached stack to the global pool.
    pub fn drain(&mut self) {
        pool().release_many(std::mem::take(&mut self.stacks));
    }
}

impl Drop for StackCache {
    fn drop(&mut self) {
        self.drain();
    }
}
