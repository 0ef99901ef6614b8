//! Where fiber records live: [`FiberRef`], the runtime's `Arc<Fiber>`, and [`FiberWeak`], whose
//! memory comes from fixed-size cells recycled through per-thread caches.
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
//! # Reference counts (as `Arc`'s)
//! `strong` counts `FiberRef`s; `weak` counts `FiberWeak`s plus one held by all strong references
//! together. Increments are Relaxed (a new reference is made from an existing one); decrements
//! are Release, and whoever drops a count to zero issues an Acquire fence before destroying the
//! fiber (strong) or recycling the cell (weak), so every use happens-before the destruction.
//! `upgrade` increments `strong` with a CAS loop that never revives a zero count.

use super::Fiber;
use std::cell::RefCell;
use std::mem::{MaybeUninit, offset_of};
use std::ptr::NonNull;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering, fence};

/// Bytes per mapping cells are carved from (populated at once: a program that spawns one fiber
/// pays this much resident memory).
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

/// A cell pointer that may move between threads (a free cell belongs to whoever holds it).
struct Free(NonNull<Cell>);
// SAFETY: a free cell is plain memory owned by the list holding it.
unsafe impl Send for Free {}

struct Pool {
    free: Vec<Free>,
    /// Unused part of the current chunk.
    next: usize,
    end: usize,
}

static POOL: Mutex<Pool> = Mutex::new(Pool { free: Vec::new(), next: 0, end: 0 });
/// Cells carved from chunks so far (never decreases; recycled cells are not counted again).
static CARVED: AtomicUsize = AtomicUsize::new(0);

/// How many fiber record cells were ever carved (tests check that records are recycled).
pub fn cells_carved() -> usize {
    CARVED.load(Ordering::Relaxed)
}

struct Cache(RefCell<Vec<Free>>);

impl Drop for Cache {
    fn drop(&mut self) {
        let cells = std::mem::take(self.0.get_mut());
        POOL.lock().unwrap_or_else(|e| e.into_inner()).free.extend(cells);
    }
}

thread_local! {
    static CACHE: Cache = const { Cache(RefCell::new(Vec::new())) };
}

/// Refills `out` with up to [`CARVE_BATCH`] cells from the pool or fresh chunks.
fn refill(out: &mut Vec<Free>) {
    let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
    let take = pool.free.len().min(CARVE_BATCH);
    if take > 0 {
        let at = pool.free.len() - take;
        out.extend(pool.free.drain(at..));
        return;
    }
    let size = std::mem::size_of::<Cell>();
    for _ in 0..CARVE_BATCH {
        if pool.end - pool.next < size {
            let base = map_chunk();
            pool.next = base;
            pool.end = base + CHUNK_BYTES;
        }
        // SAFETY: `next` is a non-null address inside a live mapping, aligned for `Cell` (chunks
        // are page-aligned and `size` is a multiple of the alignment).
        out.push(Free(unsafe { NonNull::new_unchecked(pool.next as *mut Cell) }));
        pool.next += size;
    }
    CARVED.fetch_add(CARVE_BATCH, Ordering::Relaxed);
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

fn alloc_cell() -> NonNull<Cell> {
    let from_cache = CACHE.try_with(|c| {
        let mut c = c.0.borrow_mut();
        if c.is_empty() {
            refill(&mut c);
        }
        c.pop().map(|f| f.0)
    });
    match from_cache {
        Ok(Some(p)) => p,
        // No cache (thread exiting): straight from the pool.
        _ => {
            let mut v = Vec::new();
            refill(&mut v);
            let p = v.pop().expect("refill yields cells").0;
            POOL.lock().unwrap_or_else(|e| e.into_inner()).free.extend(v);
            p
        }
    }
}

fn free_cell(p: NonNull<Cell>) {
    let pushed = CACHE.try_with(|c| {
        let mut c = c.0.borrow_mut();
        c.push(Free(p));
        if c.len() > CACHE_MAX {
            let spill = c.split_off(CACHE_MAX / 2);
            POOL.lock().unwrap_or_else(|e| e.into_inner()).free.extend(spill);
        }
    });
    if pushed.is_err() {
        POOL.lock().unwrap_or_else(|e| e.into_inner()).free.push(Free(p));
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
    /// Moves `fiber` into a fresh record.
    pub(crate) fn new(fiber: Fiber) -> FiberRef {
        let cell = alloc_cell();
        // SAFETY: the cell is free memory owned by us, valid and aligned for a `Cell`.
        unsafe {
            cell.as_ptr().write(Cell {
                strong: AtomicUsize::new(1),
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
        // Releases this reference, and iteratively the parent reference of every record this
        // frees: a chain of finished fibers, each holding the last reference to its parent (a
        // deep spawn tree whose parents exited before their children), is freed in a loop
        // instead of a recursion as deep as the chain.
        let mut cell = self.cell;
        loop {
            // SAFETY: `cell` carries one strong count owned by this loop (ours, then the parent
            // reference taken out below), so it is initialised.
            if unsafe { cell.as_ref() }.strong.fetch_sub(1, Ordering::Release) != 1 {
                return;
            }
            fence(Ordering::Acquire);
            // SAFETY: the last strong reference: nobody can reach the fiber any more (weak
            // references only read the counts); its parent reference is moved out, then the
            // fiber is dropped exactly once.
            let parent = unsafe {
                let fiber = (*cell.as_ptr()).fiber.as_mut_ptr();
                let parent = (*fiber).parent.take();
                (*cell.as_ptr()).fiber.assume_init_drop();
                parent
            };
            // The weak reference held by the strong ones.
            drop(FiberWeak { cell });
            let Some(parent) = parent else { return };
            // Its strong count is released by the next iteration.
            cell = std::mem::ManuallyDrop::new(parent).cell;
        }
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
        free_cell(self.cell);
    }
}
