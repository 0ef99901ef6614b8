//! Chunk reservations: large `mmap`s cut into aligned stack slots, and the lock-free chunk table
//! the overflow handler reads.

use super::StackGeometry;
use crate::lock::Lock;
use alloc_crate::string::String;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Page size assumed for guard pages and trimming (checked against `sysconf` at start-up).
pub const PAGE_SIZE: usize = 4096;
/// Slots per `mmap`.
pub const SLOTS_PER_CHUNK: usize = 256;
/// Maximum number of chunks (≥ 4M stacks of 1 MiB with 256-slot chunks).
const MAX_CHUNKS: usize = 16 * 1024;

/// Base addresses of the chunks, published for the signal handler. 0 = unused entry.
static CHUNKS: [AtomicUsize; MAX_CHUNKS] = [const { AtomicUsize::new(0) }; MAX_CHUNKS];
/// Number of published chunks.
static CHUNK_COUNT: AtomicUsize = AtomicUsize::new(0);
/// Size of each chunk in bytes (slot size × slots per chunk), published once.
static CHUNK_BYTES: AtomicUsize = AtomicUsize::new(0);
/// Slot size, published once.
static SLOT_BYTES: AtomicUsize = AtomicUsize::new(0);

/// The slot size in force (0 before the first [`Reservations::new`]).
pub fn slot_size() -> usize {
    SLOT_BYTES.load(Ordering::Relaxed)
}

/// Where a faulting address lies relative to the stack slots.
#[derive(Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// Not inside any stack chunk.
    Outside,
    /// Inside the guard page (or the lowest page) of a slot: a stack overflow.
    Guard,
    /// Elsewhere inside a slot.
    Slot,
}

/// Classifies `addr` (async-signal-safe: only atomic loads).
pub fn classify(addr: usize) -> FaultKind {
    let chunk_bytes = CHUNK_BYTES.load(Ordering::Acquire);
    let slot = SLOT_BYTES.load(Ordering::Acquire);
    if chunk_bytes == 0 || slot == 0 {
        return FaultKind::Outside;
    }
    let n = CHUNK_COUNT.load(Ordering::Acquire).min(MAX_CHUNKS);
    for entry in &CHUNKS[..n] {
        let base = entry.load(Ordering::Acquire);
        if base != 0 && addr >= base && addr < base + chunk_bytes {
            let off = (addr - base) % slot;
            return if off < super::PAGE_SIZE { FaultKind::Guard } else { FaultKind::Slot };
        }
    }
    FaultKind::Outside
}

/// `MADV_GUARD_INSTALL` (Linux 6.13): guard pages as page-table markers, without splitting the
/// mapping into more VMAs (libc does not name it yet).
const MADV_GUARD_INSTALL: libc::c_int = 102;
/// Whether `MADV_GUARD_INSTALL` failed once (older kernel): use `mprotect` from then on.
static NO_GUARD_MADVISE: AtomicBool = AtomicBool::new(false);

/// Makes the first page of the slot at `slot` inaccessible; returns whether it worked.
///
/// A `PROT_NONE` page inside the chunk splits its VMA in three: expensive (a write lock on the
/// address space that stalls other workers' page faults, ~3.5 µs) and it makes every later fault
/// in the chunk slower (13 µs per guarded stack with its first touch, against 5 µs with a
/// guard marker, measured on the 2-core dev VM). Guard markers cost no VMA, so the 10,000-slot
/// budget only matters on kernels without them.
fn install_guard(slot: usize) -> bool {
    if !NO_GUARD_MADVISE.load(Ordering::Relaxed) {
        // SAFETY: the page is inside our private anonymous mapping and not yet in use; installing
        // a guard marker only makes it fault on access.
        if unsafe { libc::madvise(slot as *mut libc::c_void, PAGE_SIZE, MADV_GUARD_INSTALL) } == 0 {
            return true;
        }
        NO_GUARD_MADVISE.store(true, Ordering::Relaxed);
    }
    // SAFETY: as above; the page becomes PROT_NONE.
    unsafe { libc::mprotect(slot as *mut libc::c_void, PAGE_SIZE, libc::PROT_NONE) == 0 }
}

struct State {
    /// Next unused slot of the current chunk, and the chunk's end.
    next: usize,
    end: usize,
    carved: usize,
    guarded: usize,
}

/// The chunk allocator.
pub struct Reservations {
    geometry: StackGeometry,
    state: Lock<State>,
}

impl Reservations {
    pub fn new(geometry: StackGeometry) -> Reservations {
        SLOT_BYTES.store(geometry.slot_size, Ordering::Release);
        CHUNK_BYTES.store(geometry.slot_size * SLOTS_PER_CHUNK, Ordering::Release);
        Reservations { geometry, state: Lock::new(State { next: 0, end: 0, carved: 0, guarded: 0 }) }
    }

    /// (slots carved, slots guarded).
    pub fn carved(&self) -> (usize, usize) {
        let s = self.state.lock();
        (s.carved, s.guarded)
    }

    /// Hands out a fresh slot base address.
    pub fn carve(&self) -> Result<usize, super::StackError> {
        let mut s = self.state.lock();
        if s.next == s.end {
            let base = self.map_chunk()?;
            s.next = base;
            s.end = base + self.geometry.slot_size * SLOTS_PER_CHUNK;
        }
        let slot = s.next;
        s.next += self.geometry.slot_size;
        s.carved += 1;
        if s.guarded < self.geometry.guarded_slots && install_guard(slot) {
            s.guarded += 1;
        }
        Ok(slot)
    }

    /// Maps one chunk aligned to the slot size and publishes it.
    fn map_chunk(&self) -> Result<usize, super::StackError> {
        let idx = CHUNK_COUNT.load(Ordering::Acquire);
        if idx >= MAX_CHUNKS {
            return Err(super::StackError(String::from("fiber stack address space exhausted")));
        }
        let slot = self.geometry.slot_size;
        let bytes = slot * SLOTS_PER_CHUNK;
        let len = bytes + slot; // extra slot so we can align
        // SAFETY: anonymous private mapping at an address the kernel chooses; no existing memory
        // is affected.
        let p = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            // Built without `core::fmt` (the minimal runtime links none of it otherwise).
            let mib = crate::output::Decimal::new(false, (len >> 20) as u128);
            let errno = crate::output::Decimal::new(false, crate::errno() as u128);
            let parts =
                [b"cannot reserve ".as_slice(), mib.as_bytes(), b" MiB for fiber stacks: os error ", errno.as_bytes()];
            return Err(super::StackError(String::from_utf8_lossy(&parts.concat()).into_owned()));
        }
        let start = p as usize;
        let aligned = (start + slot - 1) & !(slot - 1);
        // SAFETY: both ranges are parts of the mapping just created that we do not use.
        unsafe {
            if aligned > start {
                libc::munmap(start as *mut libc::c_void, aligned - start);
            }
            let tail = aligned + bytes;
            if start + len > tail {
                libc::munmap(tail as *mut libc::c_void, start + len - tail);
            }
        }
        CHUNKS[idx].store(aligned, Ordering::Release);
        CHUNK_COUNT.store(idx + 1, Ordering::Release);
        Ok(aligned)
    }
}
