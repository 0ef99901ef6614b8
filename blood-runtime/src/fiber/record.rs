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
//! are carved instead from [`CHUNK_BYTES`] anonymous mappings, [`CARVE_BATCH`] at a time, so growth
//! costs one `mmap` per chunk, with `MAP_POPULATE` (the kernel fills the chunk in one go, cheaper
//! than a page fault per page; the cells are about to be used anyway). After the first
//! [`SMALL_CHUNKS`] chunks, chunks are cut from 2 MiB regions, and a worker with nothing to run
//! maps and populates the next region ahead of need ([`prepare_spare_regions`]): a million kept
//! join handles are 64 MB of completion cells, which the kernel must zero, and a spawning loop no
//! longer waits for it while another worker idles (spawn + join at two workers: 11% faster). Since
//! a spawner whose children other workers take no longer stops to run them
//! (`scheduler::worker::spawn_backpressure`), the other workers are seldom idle during such a loop,
//! and the spawner mostly maps its regions itself: in a profile of spawn + join of a million fibers
//! at two workers (`perf record`), the kernel filling pages (these cells and the program's vector
//! of handles) took a third of the spawning worker's samples. Handing the regions to a busy worker
//! every 64 fibers measured 6% slower. A program with few fibers still maps only small chunks, and
//! one that uses regions keeps at most one spare region per kind. Regions are not backed by
//! transparent huge pages: with `MADV_HUGEPAGE` the kernel compacts memory to find one, and after a
//! memory-hungry process (Go's own spawn benchmark) that stalled some runs by 50% or more.
//!
//! # Recycling
//! A freed cell goes to the freeing thread's cache (LIFO, so the next spawn reuses a cache-warm
//! record), which spills half of itself to a global pool beyond [`CACHE_MAX`] cells, as one batch;
//! an empty cache takes a batch back from the pool, else carves fresh cells. The pool keeps the
//! batches as they are (a loop joining a million kept handles frees a million cells, and one
//! growing vector of them cost it 3 ns per join in copies and page faults). Cells are never
//! unmapped (like stacks, the memory is kept for the next burst of fibers).
//!
//! # Completion cells are type-stable, and fiber ids name them
//! A completion cell's chunk is entered in a table when mapped, each cell gets a fixed index, and
//! every allocation bumps the cell's *generation*; a fiber's id is `generation << 32 | index`.
//! Since completion chunks are never unmapped nor reused for anything else and the cell header is
//! only accessed atomically, the C ABI looks a fiber up by id with no map at all
//! ([`CompletionRef::from_id`]: one CAS on the header, which packs the generation, two flags and
//! the count, takes a count only of a live cell of the id's incarnation).
//!
//! # Joining without a lock
//! Most joins find the fiber completed and its record gone, so the handle (or the id) holds the
//! only count of the cell: one CAS from a count of 1 to 0 then gives the joiner the cell alone
//! ([`UniqueCompletion`]), with no lock and no further count traffic; before, a join made four
//! atomic read-modify-writes (count, lock, unlock, count). Fresh cells are handed out in address
//! order, so a loop that joins the handles it kept in spawn order walks them upwards. Together:
//! spawn + join of a million fibers on one worker 149 → 130 ns per fiber.
//!
//! # Reference counts (as `Arc`'s; a completion cell has only a strong count)
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
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering, fence};

/// Bytes per mapping cells are carved from (populated at once: a program that spawns one fiber
/// pays this much resident memory per kind of cell).
pub const CHUNK_BYTES: usize = 256 << 10;
/// Cells a thread takes from the pool (or carves) at once.
pub const CARVE_BATCH: usize = 64;
/// Cells a thread keeps before spilling half to the pool.
pub const CACHE_MAX: usize = 256;
/// Emptied batch vectors a pool keeps for reuse.
const SPARE_BATCHES: usize = 64;

/// A record's cell. Whole cache lines: records next to each other belong to fibers at different
/// stages on different workers (one being set up by its spawner while its neighbour runs), and
/// cells that shared a line made the two workers take it from each other (spawn + join at two
/// workers: 5% faster aligned).
#[repr(C, align(64))]
struct Cell {
    strong: AtomicUsize,
    weak: AtomicUsize,
    fiber: MaybeUninit<Fiber>,
}

#[repr(C, align(64))]
struct CompletionCell {
    /// The cell's incarnation, two flags and the count of references, in one word (see
    /// [`Header`]): every change to it is one atomic operation, so an id can be checked and a
    /// count taken or claimed in one step.
    header: AtomicU64,
    /// Its `index` (the cell's place in [`COMPLETION_TABLE`]) is set when the cell is carved and
    /// carried over by every allocation of the cell.
    value: MaybeUninit<Completion>,
}

/// The bits of [`CompletionCell::header`]: `generation << 32 | BY_ID | ID_JOINED | count`.
///
/// * The generation (the cell's incarnation, bumped, never to 0, each time it is allocated) is,
///   with `index`, the fiber's id (see [`CompletionRef::from_id`]).
/// * `BY_ID`: the fiber was spawned through the C ABI; the id holds one count of the cell until
///   the first join by id (`ffi_fiber.rs`), which sets `ID_JOINED` as it releases it.
/// * The count of references, as `Arc`'s strong count (0: the cell is free).
///
/// Counts only ever change by adding or subtracting small numbers to the whole word while they
/// are far from both ends of their field, so they never carry into the flags.
struct Header;

impl Header {
    const COUNT: u64 = (1 << 30) - 1;
    const ID_JOINED: u64 = 1 << 30;
    const BY_ID: u64 = 1 << 31;

    fn generation(h: u64) -> u32 {
        (h >> 32) as u32
    }
    fn count(h: u64) -> u64 {
        h & Header::COUNT
    }
}

/// A cell pointer that may move between threads (a free cell belongs to whoever holds it).
struct Free(NonNull<u8>);
// SAFETY: a free cell is plain memory owned by the list holding it.
unsafe impl Send for Free {}

struct Pool {
    /// Free cells, in batches (none empty) that move between the pool and a thread's cache
    /// whole. One flat vector, which a loop joining a million kept handles grew to 8 MB, made
    /// every doubling copy it into freshly faulted pages: a fifth of that loop's time.
    batches: Vec<Vec<Free>>,
    /// Emptied batch vectors kept for the next spill (at most [`SPARE_BATCHES`]).
    spare: Vec<Vec<Free>>,
    /// Unused part of the current chunk.
    next: usize,
    end: usize,
    /// The unused part of the current region: chunks are taken from regions of
    /// [`REGION_BYTES`] once [`SMALL_CHUNKS`] chunks have been mapped one at a time.
    region_next: usize,
    region_end: usize,
    /// Chunks mapped so far.
    chunks: usize,
}

/// The cells of one size: a global pool and the count of cells carved so far.
struct Slab {
    size: usize,
    pool: Mutex<Pool>,
    /// Cells carved from chunks so far (never decreases; recycled cells are not counted again).
    carved: AtomicUsize,
    /// For completion cells: the table their chunks are entered in (see [`ChunkTable`]).
    table: Option<&'static ChunkTable>,
    /// A region mapped and populated ahead of need by an idle worker (0: none), see
    /// [`prepare_spare_regions`].
    spare_region: AtomicUsize,
    /// Chunks are being cut from regions: a spare one is worth preparing.
    uses_regions: AtomicBool,
}

impl Slab {
    const fn new(size: usize, table: Option<&'static ChunkTable>) -> Slab {
        Slab {
            size,
            pool: Mutex::new(Pool {
                batches: Vec::new(),
                spare: Vec::new(),
                next: 0,
                end: 0,
                region_next: 0,
                region_end: 0,
                chunks: 0,
            }),
            carved: AtomicUsize::new(0),
            table,
            spare_region: AtomicUsize::new(0),
            uses_regions: AtomicBool::new(false),
        }
    }
}

static FIBERS: Slab = Slab::new(std::mem::size_of::<Cell>(), None);
static COMPLETIONS: Slab = Slab::new(std::mem::size_of::<CompletionCell>(), Some(&COMPLETION_TABLE));

/// Most chunks of completion cells (16 GiB of cells, some 170 million; the table is 512 KiB of
/// zero pages until used).
const MAX_COMPLETION_CHUNKS: usize = 1 << 16;
/// Completion cells per chunk.
const COMPLETIONS_PER_CHUNK: usize = CHUNK_BYTES / std::mem::size_of::<CompletionCell>();

/// Where the chunks of completion cells are, so that a fiber id (a cell's index and incarnation)
/// leads to its cell without a map: entry `k` is the base address of the `k`-th chunk (0: not
/// mapped yet). Written under the slab's pool lock, read by [`CompletionRef::from_id`].
struct ChunkTable {
    chunks: [AtomicUsize; MAX_COMPLETION_CHUNKS],
    len: AtomicUsize,
}

static COMPLETION_TABLE: ChunkTable =
    ChunkTable { chunks: [const { AtomicUsize::new(0) }; MAX_COMPLETION_CHUNKS], len: AtomicUsize::new(0) };

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
        if !cells.is_empty() {
            self.slab.pool.lock().unwrap_or_else(|e| e.into_inner()).batches.push(cells);
        }
    }
}

thread_local! {
    static FIBER_CACHE: Cache = const { Cache { slab: &FIBERS, cells: RefCell::new(Vec::new()) } };
    static COMPLETION_CACHE: Cache = const { Cache { slab: &COMPLETIONS, cells: RefCell::new(Vec::new()) } };
}

/// Refills `out` with a batch of free cells of `slab` from its pool, else [`CARVE_BATCH`] fresh
/// cells.
fn refill(slab: &Slab, out: &mut Vec<Free>) {
    let mut pool = slab.pool.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(mut batch) = pool.batches.pop() {
        out.append(&mut batch);
        if pool.spare.len() < SPARE_BATCHES {
            pool.spare.push(batch);
        }
        return;
    }
    for _ in 0..CARVE_BATCH {
        if pool.end - pool.next < slab.size {
            let base = next_chunk(slab, &mut pool);
            pool.next = base;
            pool.end = base + CHUNK_BYTES;
            if let Some(t) = slab.table {
                // Only under the pool lock, so `len` is ours to bump.
                let k = t.len.load(Ordering::Relaxed);
                if k == MAX_COMPLETION_CHUNKS {
                    crate::panic::die("blood runtime: ", b"too many fibers kept", blood_abi::EXIT_RUNTIME_INIT_FAILED);
                }
                t.chunks[k].store(base, Ordering::Release);
                t.len.store(k + 1, Ordering::Relaxed);
                // The chunk's cells are zero (no count: `from_id` finds nothing) until carved.
                pool.end = base + COMPLETIONS_PER_CHUNK * slab.size;
            }
        }
        if let Some(t) = slab.table {
            let k = t.len.load(Ordering::Relaxed) - 1;
            let slot = (pool.next - t.chunks[k].load(Ordering::Relaxed)) / slab.size;
            let cell = pool.next as *mut CompletionCell;
            // SAFETY: a fresh cell of the current completion chunk, mapped and zeroed (count 0, so
            // nobody reads its value); only its index is written, for `new_pair` to carry over.
            unsafe {
                std::ptr::addr_of_mut!((*(*cell).value.as_mut_ptr()).index)
                    .write((k * COMPLETIONS_PER_CHUNK + slot) as u32)
            };
        }
        // SAFETY: `next` is a non-null address inside a live mapping, aligned for the cell type
        // (chunks are page-aligned and `size` is a multiple of the alignment).
        out.push(Free(unsafe { NonNull::new_unchecked(pool.next as *mut u8) }));
        pool.next += slab.size;
    }
    // Caches hand cells out from the end: reversed, fresh cells go out in address order, which
    // is the order a program that keeps its handles walks them in when it joins them (the
    // hardware prefetcher follows a rising stream best).
    let n = out.len();
    out[n - CARVE_BATCH..].reverse();
    slab.carved.fetch_add(CARVE_BATCH, Ordering::Relaxed);
}

/// Chunks mapped one at a time (with `MAP_POPULATE`) before chunks come from regions: a program
/// with few fibers keeps a small footprint.
const SMALL_CHUNKS: usize = 4;
/// Bytes of a region: eight chunks, mapped and populated by one system call.
const REGION_BYTES: usize = 2 << 20;

/// The base of the next chunk of the pool's slab (under its lock).
fn next_chunk(slab: &Slab, pool: &mut Pool) -> usize {
    pool.chunks += 1;
    if pool.chunks <= SMALL_CHUNKS {
        return map_chunk();
    }
    if pool.region_next == pool.region_end {
        slab.uses_regions.store(true, Ordering::Relaxed);
        let base = match slab.spare_region.swap(0, Ordering::Acquire) {
            0 => map_region(),
            spare => spare,
        };
        pool.region_next = base;
        pool.region_end = base + REGION_BYTES;
    }
    let base = pool.region_next;
    pool.region_next += CHUNK_BYTES;
    base
}

/// Maps and populates the next region of each kind of cell that is cut from regions, unless one
/// is ready already. Called by workers with nothing to run: populating a region (the kernel
/// zeroes 2 MiB) costs a spawning loop several nanoseconds per fiber when it does it itself.
/// Programs that keep few fibers never get here (their cells come from small chunks).
pub fn prepare_spare_regions() {
    for slab in [&FIBERS, &COMPLETIONS] {
        if slab.uses_regions.load(Ordering::Relaxed) && slab.spare_region.load(Ordering::Relaxed) == 0 {
            let r = map_region();
            if slab.spare_region.compare_exchange(0, r, Ordering::Release, Ordering::Relaxed).is_err() {
                // Another idle worker was faster.
                // SAFETY: `r` is the region just mapped, used by nobody.
                unsafe { libc::munmap(r as *mut libc::c_void, REGION_BYTES) };
            }
        }
    }
}

/// Maps a populated [`REGION_BYTES`] region.
fn map_region() -> usize {
    map_populated(REGION_BYTES)
}

fn map_chunk() -> usize {
    map_populated(CHUNK_BYTES)
}

/// Maps `len` bytes of fresh memory, populated at once (`MAP_POPULATE`).
fn map_populated(len: usize) -> usize {
    // SAFETY: a fresh private anonymous mapping; no existing memory is affected.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
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

/// Cells ahead in a thread's cache whose lines an allocation asks for (see [`alloc_cell`]).
const PREFETCH_AHEAD: usize = 4;

/// Asks for the `size` bytes at `p` with the intent to write them. A recycled record was last
/// written by the worker that ran its fiber, often another one than the spawner now reusing it,
/// and its cache lines are not in address order, so the hardware prefetcher does not fetch them:
/// asked for four spawns ahead, they arrive while the spawns in between run (spawn + join at two
/// workers: 2–3% faster, at one worker 2%).
#[inline(always)]
fn prefetch_for_write(p: NonNull<u8>, size: usize) {
    #[cfg(target_arch = "x86_64")]
    for line in (0..size).step_by(64) {
        // SAFETY: a prefetch is a hint: it never faults and changes no memory (`p` is a free
        // cell of `size` bytes anyway).
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_ET0 }>(p.as_ptr().cast::<i8>().add(line))
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (p, size);
}

fn alloc_cell(cache: &'static std::thread::LocalKey<Cache>, slab: &'static Slab) -> NonNull<u8> {
    let from_cache = cache.try_with(|c| {
        let mut c = c.cells.borrow_mut();
        if c.is_empty() {
            refill(slab, &mut c);
        }
        let p = c.pop().map(|f| f.0);
        if let Some(ahead) = c.len().checked_sub(PREFETCH_AHEAD).and_then(|i| c.get(i)) {
            prefetch_for_write(ahead.0, slab.size);
        }
        p
    });
    match from_cache {
        Ok(Some(p)) => p,
        // No cache (thread exiting): straight from the pool.
        _ => {
            let mut v = Vec::new();
            refill(slab, &mut v);
            let p = v.pop().expect("refill yields cells").0;
            if !v.is_empty() {
                slab.pool.lock().unwrap_or_else(|e| e.into_inner()).batches.push(v);
            }
            p
        }
    }
}

fn free_cell(cache: &'static std::thread::LocalKey<Cache>, slab: &'static Slab, p: NonNull<u8>) {
    let pushed = cache.try_with(|c| {
        let mut c = c.cells.borrow_mut();
        c.push(Free(p));
        if c.len() > CACHE_MAX {
            let mut pool = slab.pool.lock().unwrap_or_else(|e| e.into_inner());
            let mut batch = pool.spare.pop().unwrap_or_default();
            batch.extend(c.drain(CACHE_MAX / 2..));
            pool.batches.push(batch);
        }
    });
    if pushed.is_err() {
        slab.pool.lock().unwrap_or_else(|e| e.into_inner()).batches.push(vec![Free(p)]);
    }
}

/// The id of the fiber whose completion `c` is: its cell's incarnation and index (never 0: the
/// generation of an allocated cell is not).
pub(crate) fn completion_id(c: &Completion) -> u64 {
    // SAFETY: every `Completion` lives in the `value` field of a `CompletionCell` (only
    // `CompletionRef::new_pair` moves one anywhere, and `new` is crate-private), and `c` is
    // borrowed from a counted reference, so the cell is allocated; its header is read atomically.
    let header = unsafe {
        let cell = (c as *const Completion).byte_sub(offset_of!(CompletionCell, value)).cast::<CompletionCell>();
        (*cell).header.load(Ordering::Relaxed)
    };
    (u64::from(Header::generation(header)) << 32) | u64::from(c.index)
}

/// The cell an id names, if its chunk is mapped (whatever it holds now).
fn cell_of_id(id: u64) -> Option<NonNull<CompletionCell>> {
    let index = id as u32 as usize;
    let (k, slot) = (index / COMPLETIONS_PER_CHUNK, index % COMPLETIONS_PER_CHUNK);
    if (id >> 32) == 0 || k >= MAX_COMPLETION_CHUNKS {
        return None;
    }
    let base = COMPLETION_TABLE.chunks[k].load(Ordering::Acquire);
    if base == 0 {
        return None;
    }
    NonNull::new((base + slot * std::mem::size_of::<CompletionCell>()) as *mut CompletionCell)
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
    /// A fresh cell holding `Completion::new(parent)`, with a new incarnation (so a new fiber
    /// id), and two references to it (without a read-modify-write of the count).
    ///
    /// The value is written field by field into the cell. Built on the stack with narrow stores
    /// and then copied in 16 bytes at a time, its copy had to wait for those stores to reach the
    /// cache, and so for every older store, the previous spawn's misses included.
    #[inline(always)]
    pub(crate) fn new_pair(parent: Option<NonNull<Completion>>, by_id: bool) -> (CompletionRef, CompletionRef) {
        let cell = alloc_cell(&COMPLETION_CACHE, &COMPLETIONS).cast::<CompletionCell>();
        let p = cell.as_ptr();
        // SAFETY: the cell is free memory owned by us (its count is 0, so `from_id` leaves it
        // alone), valid and aligned for a `CompletionCell`. Its header is written atomically
        // (`from_id` may read it at any time); the value is ours alone until the count is
        // published, with Release, after it.
        unsafe {
            let generation = match Header::generation((*p).header.load(Ordering::Relaxed)).wrapping_add(1) {
                0 => 1,
                g => g,
            };
            let by_id = if by_id { Header::BY_ID } else { 0 };
            // Every field but the cell's index, written when it was carved and kept by every
            // incarnation (a plain integer: dropping the previous value left it as it was).
            let v = (*p).value.as_mut_ptr();
            let Completion { index: _, finished, cancelled, registered, parent, join } = Completion::new(parent);
            std::ptr::addr_of_mut!((*v).finished).write(finished);
            std::ptr::addr_of_mut!((*v).cancelled).write(cancelled);
            std::ptr::addr_of_mut!((*v).registered).write(registered);
            std::ptr::addr_of_mut!((*v).parent).write(parent);
            std::ptr::addr_of_mut!((*v).join).write(join);
            (*p).header.store((u64::from(generation) << 32) | by_id | 2, Ordering::Release);
        }
        (CompletionRef { cell }, CompletionRef { cell })
    }

    /// A counted reference to the completion cell of the fiber with this id, if that cell still
    /// holds it (None once the cell was freed, or recycled for another fiber).
    ///
    /// Completion cells are type-stable: their chunks are never unmapped nor used for anything
    /// else, and the header is only accessed atomically. So the cell an id names can
    /// always be read, and one CAS takes a count only if the cell holds the id's incarnation and
    /// its count is not 0 (a free cell stays free; as `FiberWeak::upgrade`). The allocator
    /// publishes the header with Release after writing the value, and the CAS is Acquire.
    pub fn from_id(id: u64) -> Option<CompletionRef> {
        let cell = cell_of_id(id)?;
        // SAFETY: a cell slot of a mapped completion chunk (never unmapped): its header is a
        // valid atomic (zero if never carved).
        let header = unsafe { &cell.as_ref().header };
        let mut h = header.load(Ordering::Relaxed);
        loop {
            if Header::count(h) == 0 || Header::generation(h) != (id >> 32) as u32 {
                return None;
            }
            match header.compare_exchange_weak(h, h + 1, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => return Some(CompletionRef { cell }),
                Err(now) => h = now,
            }
        }
    }

    /// Joins a fiber spawned through the C ABI by id in one step when nobody else holds its
    /// completion cell: the fiber's record is gone (it completed) and the id holds the only count.
    /// A CAS then takes that count and marks the id joined at once, and the cell is the caller's
    /// alone ([`UniqueCompletion`]). None if the id names nothing (any more), or if the join must
    /// take the general path (the fiber has not completed, or someone else holds a count).
    #[inline]
    pub(crate) fn claim_by_id(id: u64) -> Option<UniqueCompletion> {
        let cell = cell_of_id(id)?;
        // SAFETY: as in `from_id`.
        let header = unsafe { &cell.as_ref().header };
        let only_the_id = ((id >> 32) << 32) | Header::BY_ID | 1;
        let claimed = ((id >> 32) << 32) | Header::BY_ID | Header::ID_JOINED;
        // Acquire: pairs with the Release decrements of the other counts, so the fiber's outcome
        // and everything else written to the cell is visible.
        header.compare_exchange(only_the_id, claimed, Ordering::Acquire, Ordering::Relaxed).ok()?;
        Some(UniqueCompletion { cell })
    }

    /// The cell alone if this is its only reference (one CAS), else the reference back.
    pub(crate) fn into_unique(self) -> Result<UniqueCompletion, CompletionRef> {
        let header = &self.cell().header;
        let h = header.load(Ordering::Relaxed);
        if Header::count(h) != 1 || header.compare_exchange(h, h - 1, Ordering::Acquire, Ordering::Relaxed).is_err() {
            return Err(self);
        }
        let this = std::mem::ManuallyDrop::new(self);
        Ok(UniqueCompletion { cell: this.cell })
    }

    /// Whether the fiber was spawned through the C ABI (`FiberConfig::by_id`): its id holds a
    /// count of this cell until the first join by id (see [`Header`]).
    pub(crate) fn by_id(&self) -> bool {
        self.cell().header.load(Ordering::Relaxed) & Header::BY_ID != 0
    }

    /// Whether the fiber was spawned through the C ABI and its id has been joined (see
    /// [`Header`]).
    pub(crate) fn id_joined(&self) -> bool {
        self.cell().header.load(Ordering::Acquire) & Header::ID_JOINED != 0
    }

    /// Marks the id joined; false if it already was.
    pub(crate) fn mark_id_joined(&self) -> bool {
        self.cell().header.fetch_or(Header::ID_JOINED, Ordering::AcqRel) & Header::ID_JOINED == 0
    }

    /// Gives up this reference without dropping its count: [`CompletionRef::from_id`] and
    /// [`CompletionRef::drop_with_forgotten`] reach it through the fiber id.
    pub(crate) fn forget(self) {
        std::mem::forget(self)
    }

    /// Drops this reference together with one count that was given up by
    /// [`CompletionRef::forget`] on this cell (one read-modify-write for both).
    ///
    /// # Safety
    /// Such a count exists and is released once.
    pub(crate) unsafe fn drop_with_forgotten(self) {
        let this = std::mem::ManuallyDrop::new(self);
        if Header::count(this.cell().header.fetch_sub(2, Ordering::Release)) == 2 {
            fence(Ordering::Acquire);
            // SAFETY: both counts were the last ones (see `Drop`).
            unsafe { this.destroy() };
        }
    }

    /// Drops the value and recycles the cell.
    ///
    /// # Safety
    /// The count has just dropped to 0 (followed by an Acquire fence); called once.
    unsafe fn destroy(&self) {
        // SAFETY: forwarded contract.
        unsafe { destroy_completion(self.cell) }
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

/// Drops the value of a cell whose count has just dropped to 0 (followed by an Acquire fence)
/// and recycles the cell.
///
/// # Safety
/// As stated; called once per incarnation.
#[inline]
unsafe fn destroy_completion(cell: NonNull<CompletionCell>) {
    // SAFETY: nobody else can reach the value (`from_id` takes no count of a cell at 0); it is
    // dropped once, then the cell goes back to the free lists.
    unsafe { (*cell.as_ptr()).value.assume_init_drop() };
    free_cell(&COMPLETION_CACHE, &COMPLETIONS, cell.cast());
}

/// A completion cell that the caller owns alone: its count is 0, so nobody can take a reference
/// to it, and it is recycled when this is dropped.
pub(crate) struct UniqueCompletion {
    cell: NonNull<CompletionCell>,
}

impl UniqueCompletion {
    /// The fiber's completion, exclusively.
    pub(crate) fn get_mut(&mut self) -> &mut Completion {
        // SAFETY: the value is initialised and nobody else can reach it (see the type).
        unsafe { (*self.cell.as_ptr()).value.assume_init_mut() }
    }
}

impl Drop for UniqueCompletion {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the count is 0 (claimed with Acquire) and this is the only owner.
        unsafe { destroy_completion(self.cell) }
    }
}

impl Clone for CompletionRef {
    #[inline]
    fn clone(&self) -> CompletionRef {
        let old = self.cell().header.fetch_add(1, Ordering::Relaxed);
        if Header::count(old) >= Header::COUNT / 2 {
            // As `Arc`: so many clones can only come from leaks; the count must not reach the flags.
            std::process::abort();
        }
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
        if Header::count(self.cell().header.fetch_sub(1, Ordering::Release)) != 1 {
            return;
        }
        fence(Ordering::Acquire);
        // SAFETY: the last reference, released once.
        unsafe { self.destroy() };
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
    /// A fresh record built by `init` right in its cell (no copy of the whole record through
    /// the stack: spawning writes each of its lines once), and two references to it (without a
    /// read-modify-write of the count).
    #[inline(always)]
    pub(crate) fn new_pair_with(init: impl FnOnce() -> Fiber) -> (FiberRef, FiberRef) {
        let cell = alloc_cell(&FIBER_CACHE, &FIBERS).cast::<Cell>();
        let p = cell.as_ptr();
        // SAFETY: the cell is free memory owned by us, valid and aligned for a `Cell`; each field
        // is written once.
        unsafe {
            std::ptr::addr_of_mut!((*p).strong).write(AtomicUsize::new(2));
            std::ptr::addr_of_mut!((*p).weak).write(AtomicUsize::new(1));
            // Field by field (the pattern names every field, so none is left out): written whole,
            // the record was first assembled on the stack and copied, and some of those copies
            // read 16 bytes over narrower stores still in flight, which made them wait for every
            // older store (see `RuntimeInner::spawn_body_on`).
            let f = std::ptr::addr_of_mut!((*p).fiber).cast::<Fiber>();
            let Fiber { rt, run, priority, completion, sp, stack, stack_size, body, parent, extras } = init();
            std::ptr::addr_of_mut!((*f).rt).write(rt);
            std::ptr::addr_of_mut!((*f).run).write(run);
            std::ptr::addr_of_mut!((*f).priority).write(priority);
            std::ptr::addr_of_mut!((*f).completion).write(completion);
            std::ptr::addr_of_mut!((*f).sp).write(sp);
            std::ptr::addr_of_mut!((*f).stack).write(stack);
            std::ptr::addr_of_mut!((*f).stack_size).write(stack_size);
            std::ptr::addr_of_mut!((*f).body).write(body);
            std::ptr::addr_of_mut!((*f).parent).write(parent);
            std::ptr::addr_of_mut!((*f).extras).write(extras);
        }
        (FiberRef { cell }, FiberRef { cell })
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
#[cfg(test)]
mod tests {
    /// The completion cell is what a kept handle costs (a million kept handles: 64 MB), and one
    /// cache line: the spawning worker writes it, the one that runs the fiber completes it, and
    /// neighbouring cells of fibers at different stages must not share a line.
    #[test]
    fn completion_cell_is_one_cache_line() {
        assert_eq!(std::mem::size_of::<Option<crate::fiber::Outcome>>(), 16);
        assert_eq!(std::mem::size_of::<super::CompletionCell>(), 64);
        assert_eq!(std::mem::align_of::<super::CompletionCell>(), 64);
    }

    /// Record cells are two cache lines and never share one (see [`super::Cell`] and
    /// `fiber::Extras`).
    #[test]
    fn record_cells_are_two_cache_lines() {
        assert_eq!(std::mem::align_of::<super::Cell>(), 64);
        assert_eq!(std::mem::size_of::<super::Cell>(), 128);
    }

    /// A thread that frees many more cells than its cache keeps hands them to the pool in
    /// batches, and another thread gets them back from there instead of carving fresh ones.
    #[test]
    fn cells_freed_on_one_thread_are_reused_by_another() {
        use super::*;
        let cells: Vec<NonNull<u8>> = (0..3 * CACHE_MAX).map(|_| alloc_cell(&COMPLETION_CACHE, &COMPLETIONS)).collect();
        let addrs: std::collections::HashSet<usize> = cells.iter().map(|p| p.as_ptr() as usize).collect();
        let cells: Vec<Free> = cells.into_iter().map(Free).collect();
        std::thread::spawn(move || {
            for c in cells {
                free_cell(&COMPLETION_CACHE, &COMPLETIONS, c.0);
            }
        })
        .join()
        .unwrap();
        // The freeing thread's exit gave its cache to the pool too: every cell is there, in
        // batches; none may come back twice.
        let again: Vec<usize> =
            (0..3 * CACHE_MAX).map(|_| alloc_cell(&COMPLETION_CACHE, &COMPLETIONS).as_ptr() as usize).collect();
        let distinct: std::collections::HashSet<usize> = again.iter().copied().collect();
        assert_eq!(distinct.len(), again.len(), "a cell was handed out twice");
        assert!(again.iter().filter(|a| addrs.contains(a)).count() >= 2 * CACHE_MAX, "freed cells were not reused");
    }
}
