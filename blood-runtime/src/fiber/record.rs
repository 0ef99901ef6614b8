//! Where fiber records live: [`FiberRef`], the runtime's `Arc<Fiber>`, and [`FiberWeak`], whose
//! memory comes from fixed-size cells recycled through per-thread caches; and the same for the
//! small completion cells ([`CompletionRef`], strong counts only) that join handles hold, so a
//! kept handle does not keep the whole record (see `fiber/mod.rs`). Each kind has its own pool
//! ([`Slab`]) and per-thread cache.
//!
//! # Why not `Arc`
//! `Arc::new` goes to `malloc`, and glibc grows a worker thread's arena (a non-main arena) one
//! page at a time, with one `mprotect` system call per page: spawning a million fibers whose
//! handles are kept made 58,000 `mprotect` calls (a third of the spawn time on the dev VM). Cells
//! are carved instead from [`CHUNK_BYTES`] anonymous mappings, [`CARVE_BATCH`] at a time, so
//! growth costs one `mmap` per chunk, with `MAP_POPULATE` (the kernel fills the chunk in one go,
//! cheaper than a page fault per page; the cells are about to be used anyway).
//!
//! # Recycling
//! A freed cell goes to the freeing thread's cache (LIFO, so the next spawn reuses a cache-warm
//! record), which spills half of itself to a global pool beyond [`CACHE_MAX`] cells; an empty
//! cache refills a batch from the pool, else carves fresh cells. Cells are never unmapped (like
//! stacks, the memory is kept for the next burst of fibers).
//!
//! # Reference counts (as `Arc`'s; a completion cell has only `strong`)
//! `strong` counts `FiberRef`s; `weak` counts `FiberWeak`s plus one held by all strong references
//! together. Increments are Relaxed (a new reference is made from an existing one); decrements
//! are Release, and whoever drops a count to zero issues an Acquire fence before destroying the
//! fiber (strong) or recycling the cell (weak), so every use happens-before the destruction.
//! `upgrade` increments `strong` with a CAS loop that never revives a zero count.

use super::{Completion, Fiber};
use std::cell::RefCell;
use std::mem::{MaybeUninit, offset_of};
use std::ptr::NonNull;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering, fence};

/// Bytes per mapping cells are carved from (populated at once: a program that spawns one fiber
/// pays this much resident memory per kind of cell).
pub const CHUNK_BYTES: usize = 256 << 10;
/// Cells a thread takes from the pool (or carves) at once.
pub const CARVE_BATCH: usize = 64;
/// Cells a thread keeps before spilling half to the pool.
pub const CACHE_MAX: usize = 256;

#[repr(C)]
struct Cell {
    strong: AtomicUsize,
    weak: AtomicUsize,
    fiber: MaybeUninit<Fiber>,
}

#[repr(C)]
struct CompletionCell {
    strong: AtomicUsize,
    value: MaybeUninit<Completion>,
}

/// A cell pointer that may move between threads (a free cell belongs to whoever holds it).
struct Free(NonNull<u8>);
// SAFETY: a free cell is plain memory owned by the list holding it.
unsafe impl Send for Free {}

struct Pool {
    free: Vec<Free>,
    /// Unused part of the current chunk.
    next: usize,
    end: usize,
}

/// The cells of one size: a global pool and the count of cells carved so far.
struct Slab {
    size: usize,
    pool: Mutex<Pool>,
    /// Cells carved from chunks so far (never decreases; recycled cells are not counted again).
    carved: AtomicUsize,
}

impl Slab {
    const fn new(size: usize) -> Slab {
        Slab { size, pool: Mutex::new(Pool { free: Vec::new(), next: 0, end: 0 }), carved: AtomicUsize::new(0) }
    }
}

static FIBERS: Slab = Slab::new(std::mem::size_of::<Cell>());
static COMPLETIONS: Slab = Slab::new(std::mem::size_of::<CompletionCell>());

/// How many fiber record cells were ever carved (tests check that records are recycled).
pub fn cells_carved() -> usize {
    FIBERS.carved.load(Ordering::Relaxed)
}

/// How many completion cells were ever carved.
pub fn completions_carved() -> usize {
    COMPLETIONS.carved.load(Ordering::Relaxed)
}

struct Cache {
    slab: &'static Slab,
    cells: RefCell<Vec<Free>>,
}

impl Drop for Cache {
    fn drop(&mut self) {
        let cells = std::mem::take(self.cells.get_mut());
        self.slab.pool.lock().unwrap_or_else(|e| e.into_inner()).free.extend(cells);
    }
}

thread_local! {
    static FIBER_CACHE: Cache = const { Cache { slab: &FIBERS, cells: RefCell::new(Vec::new()) } };
    static COMPLETION_CACHE: Cache = const { Cache { slab: &COMPLETIONS, cells: RefCell::new(Vec::new()) } };
}

/// Refills `out` with up to [`CARVE_BATCH`] cells of `slab` from its pool or fresh chunks.
fn refill(slab: &Slab, out: &mut Vec<Free>) {
    let mut pool = slab.pool.lock().unwrap_or_else(|e| e.into_inner());
    let take = pool.free.len().min(CARVE_BATCH);
    if take > 0 {
        let at = pool.free.len() - take;
        out.extend(pool.free.drain(at..));
        return;
    }
    for _ in 0..CARVE_BATCH {
        if pool.end - pool.next < slab.size {
            let base = map_chunk();
            pool.next = base;
            pool.end = base + CHUNK_BYTES;
        }
        // SAFETY: `next` is a non-null address inside a live mapping, aligned for the cell type
        // (chunks are page-aligned and `size` is a multiple of the alignment).
        out.push(Free(unsafe { NonNull::new_unchecked(pool.next as *mut u8) }));
        pool.next += slab.size;
    }
    slab.carved.fetch_add(CARVE_BATCH, Ordering::Relaxed);
}

fn map_chunk() -> usize {
    // SAFETY: a fresh private anonymous mapping; no existing memory is affected.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            CHUNK_BYTES,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_POPULATE,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        crate::panic::die("blood runtime: ", b"out of memory for fiber records", blood_abi::EXIT_RUNTIME_INIT_FAILED);
    }
    p as usize
}

fn alloc_cell(cache: &'static std::thread::LocalKey<Cache>, slab: &'static Slab) -> NonNull<u8> {
    let from_cache = cache.try_with(|c| {
        let mut c = c.cells.borrow_mut();
        if c.is_empty() {
            refill(slab, &mut c);
        }
        c.pop().map(|f| f.0)
    });
    match from_cache {
        Ok(Some(p)) => p,
        // No cache (thread exiting): straight from the pool.
        _ => {
            let mut v = Vec::new();
            refill(slab, &mut v);
            let p = v.pop().expect("refill yields cells").0;
            slab.pool.lock().unwrap_or_else(|e| e.into_inner()).free.extend(v);
            p
        }
    }
}

fn free_cell(cache: &'static std::thread::LocalKey<Cache>, slab: &'static Slab, p: NonNull<u8>) {
    let pushed = cache.try_with(|c| {
        let mut c = c.cells.borrow_mut();
        c.push(Free(p));
        if c.len() > CACHE_MAX {
            let spill = c.split_off(CACHE_MAX / 2);
            slab.pool.lock().unwrap_or_else(|e| e.into_inner()).free.extend(spill);
        }
    });
    if pushed.is_err() {
        slab.pool.lock().unwrap_or_else(|e| e.into_inner()).free.push(Free(p));
    }
}

/// A counted reference to a fiber's completion cell (see `fiber/mod.rs`).
pub struct CompletionRef {
    cell: NonNull<CompletionCell>,
}

// SAFETY: `Completion` is Send + Sync and the count is atomic, exactly as for `Arc<Completion>`.
unsafe impl Send for CompletionRef {}
// SAFETY: as above.
unsafe impl Sync for CompletionRef {}

impl CompletionRef {
    /// Moves `value` into a fresh cell and returns two references to it (without a
    /// read-modify-write of the count).
    pub(crate) fn new_pair(value: Completion) -> (CompletionRef, CompletionRef) {
        let cell = alloc_cell(&COMPLETION_CACHE, &COMPLETIONS).cast::<CompletionCell>();
        // SAFETY: the cell is free memory owned by us, valid and aligned for a `CompletionCell`.
        unsafe { cell.as_ptr().write(CompletionCell { strong: AtomicUsize::new(2), value: MaybeUninit::new(value) }) };
        (CompletionRef { cell }, CompletionRef { cell })
    }

    fn cell(&self) -> &CompletionCell {
        // SAFETY: a reference keeps the cell initialised.
        unsafe { self.cell.as_ref() }
    }

    /// Mutable access while the cell is not yet shared with another thread.
    ///
    /// # Safety
    /// No other reference to the cell may be used while the returned one lives (at spawn, before
    /// the fiber and the handle are published).
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn get_mut_unshared(&self) -> &mut Completion {
        // SAFETY: initialised (we hold a reference); exclusive by the contract.
        unsafe { (*self.cell.as_ptr()).value.assume_init_mut() }
    }

    /// Whether two references name the same cell.
    pub fn ptr_eq(a: &CompletionRef, b: &CompletionRef) -> bool {
        a.cell == b.cell
    }
}

impl Clone for CompletionRef {
    #[inline]
    fn clone(&self) -> CompletionRef {
        self.cell().strong.fetch_add(1, Ordering::Relaxed);
        CompletionRef { cell: self.cell }
    }
}

impl std::ops::Deref for CompletionRef {
    type Target = Completion;
    #[inline]
    fn deref(&self) -> &Completion {
        // SAFETY: a reference keeps the value initialised.
        unsafe { self.cell().value.assume_init_ref() }
    }
}

impl Drop for CompletionRef {
    fn drop(&mut self) {
        if self.cell().strong.fetch_sub(1, Ordering::Release) != 1 {
            return;
        }
        fence(Ordering::Acquire);
        // SAFETY: the last reference: nobody else can reach the value; it is dropped once, then
        // the cell goes back to the free lists.
        unsafe { (*self.cell.as_ptr()).value.assume_init_drop() };
        free_cell(&COMPLETION_CACHE, &COMPLETIONS, self.cell.cast());
    }
}

/// A counted reference to a fiber record (see the module header).
pub struct FiberRef {
    cell: NonNull<Cell>,
}

/// A weak reference: keeps the record's memory, not the fiber.
pub struct FiberWeak {
    cell: NonNull<Cell>,
}

// SAFETY: `Fiber` is Send + Sync and the counts are atomic, exactly as for `Arc<Fiber>`.
unsafe impl Send for FiberRef {}
// SAFETY: as above.
unsafe impl Sync for FiberRef {}
// SAFETY: as above.
unsafe impl Send for FiberWeak {}
// SAFETY: as above.
unsafe impl Sync for FiberWeak {}

impl FiberRef {
    /// Moves `fiber` into a fresh record and returns two references to it (without a
    /// read-modify-write of the count).
    pub(crate) fn new_pair(fiber: Fiber) -> (FiberRef, FiberRef) {
        let a = Self::new_counted(fiber, 2);
        let b = FiberRef { cell: a.cell };
        (a, b)
    }

    fn new_counted(fiber: Fiber, strong: usize) -> FiberRef {
        let cell = alloc_cell(&FIBER_CACHE, &FIBERS).cast::<Cell>();
        // SAFETY: the cell is free memory owned by us, valid and aligned for a `Cell`.
        unsafe {
            cell.as_ptr().write(Cell {
                strong: AtomicUsize::new(strong),
                weak: AtomicUsize::new(1),
                fiber: MaybeUninit::new(fiber),
            })
        };
        FiberRef { cell }
    }

    fn counts(&self) -> &Cell {
        // SAFETY: a strong reference keeps the cell initialised.
        unsafe { self.cell.as_ref() }
    }

    /// The record's address (stable while any reference exists).
    pub fn as_ptr(this: &FiberRef) -> *const Fiber {
        this.counts().fiber.as_ptr()
    }

    /// A new strong reference from a record address.
    ///
    /// # Safety
    /// `p` must come from [`FiberRef::as_ptr`] of a record that still has a strong reference.
    pub unsafe fn clone_from_ptr(p: *const Fiber) -> FiberRef {
        // SAFETY: `p` points at the `fiber` field of a live cell (contract).
        let cell = unsafe { p.cast::<u8>().sub(offset_of!(Cell, fiber)).cast::<Cell>() };
        // SAFETY: as above; the cell pointer is non-null.
        let r = FiberRef { cell: unsafe { NonNull::new_unchecked(cell.cast_mut()) } };
        r.counts().strong.fetch_add(1, Ordering::Relaxed);
        r
    }

    /// Takes over the strong reference that `p`'s owner gave up (see the run reference in
    /// `fiber/mod.rs`); no count changes.
    ///
    /// # Safety
    /// `p` must come from [`FiberRef::as_ptr`], and the caller must own one strong count of the
    /// record that no `FiberRef` represents (one that was [`std::mem::forget`]ten).
    pub(crate) unsafe fn adopt(p: *const Fiber) -> FiberRef {
        // SAFETY: `p` points at the `fiber` field of a live cell (contract).
        let cell = unsafe { p.cast::<u8>().sub(offset_of!(Cell, fiber)).cast::<Cell>() };
        // SAFETY: as above; the cell pointer is non-null.
        FiberRef { cell: unsafe { NonNull::new_unchecked(cell.cast_mut()) } }
    }

    /// Whether two references name the same record.
    pub fn ptr_eq(a: &FiberRef, b: &FiberRef) -> bool {
        a.cell == b.cell
    }

    /// A weak reference to the record.
    pub fn downgrade(this: &FiberRef) -> FiberWeak {
        this.counts().weak.fetch_add(1, Ordering::Relaxed);
        FiberWeak { cell: this.cell }
    }
}

impl Clone for FiberRef {
    #[inline]
    fn clone(&self) -> FiberRef {
        self.counts().strong.fetch_add(1, Ordering::Relaxed);
        FiberRef { cell: self.cell }
    }
}

impl std::ops::Deref for FiberRef {
    type Target = Fiber;
    #[inline]
    fn deref(&self) -> &Fiber {
        // SAFETY: a strong reference keeps the fiber initialised.
        unsafe { self.counts().fiber.assume_init_ref() }
    }
}

impl Drop for FiberRef {
    fn drop(&mut self) {
        if self.counts().strong.fetch_sub(1, Ordering::Release) != 1 {
            return;
        }
        fence(Ordering::Acquire);
        // SAFETY: the last strong reference: nobody can reach the fiber any more (weak
        // references only read the counts); it is dropped exactly once.
        unsafe { (*self.cell.as_ptr()).fiber.assume_init_drop() };
        // The weak reference held by the strong ones.
        drop(FiberWeak { cell: self.cell });
    }
}

impl std::fmt::Debug for FiberRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

impl FiberWeak {
    fn counts(&self) -> &Cell {
        // SAFETY: a weak reference keeps the cell (its counts) allocated.
        unsafe { self.cell.as_ref() }
    }

    /// A strong reference if the fiber record is still alive.
    pub fn upgrade(&self) -> Option<FiberRef> {
        let strong = &self.counts().strong;
        let mut n = strong.load(Ordering::Relaxed);
        loop {
            if n == 0 {
                return None;
            }
            match strong.compare_exchange_weak(n, n + 1, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => return Some(FiberRef { cell: self.cell }),
                Err(m) => n = m,
            }
        }
    }

    /// Number of strong references (a racy snapshot).
    pub fn strong_count(&self) -> usize {
        self.counts().strong.load(Ordering::Relaxed)
    }
}

impl Drop for FiberWeak {
    fn drop(&mut self) {
        if self.counts().weak.fetch_sub(1, Ordering::Release) != 1 {
            return;
        }
        fence(Ordering::Acquire);
        free_cell(&FIBER_CACHE, &FIBERS, self.cell.cast());
    }
}
