//! Fiber stack slots: their geometry, the slot type, the chunk reservations they are carved
//! from (`reserve`) and the overflow handler (`overflow`). Pooling is each runtime's own (the
//! full runtime's per-worker caches and trimmer in `blood-runtime/src/stack/`, the minimal
//! runtime's free list).
//!
//! # Layout
//! Every stack lives in a *slot* of `slot_size` bytes, a power of two ≥ the maximum stack size
//! plus one page, aligned to its size inside a *chunk* (one `mmap` of [`SLOTS_PER_CHUNK`] slots,
//! `PROT_READ|PROT_WRITE`, `MAP_NORESERVE`, so untouched pages cost neither RAM nor commit
//! charge):
//!
//! ```text
//!  slot base                                                             slot base + slot_size
//!  | guard page | ........ lazily committed, grows down ........ | frame | meta (64 B) |
//!               ^ lowest usable byte                                     ^ top (16-aligned)
//! ```
//! The 64-byte metadata block at the end of the slot holds the stack limit word (see
//! `blood_abi::STACK_LIMIT_*`): because slots are aligned to `slot_size`, code running on a fiber
//! finds it as `(rsp | (slot_size - 1)) - 63` without thread-local storage.
//!
//! The first `guarded_slots` slots carved get a hardware guard page (see `reserve.rs`); a fault
//! in one is reported by the SIGSEGV/SIGBUS handler in [`overflow`] (alternate signal stack,
//! `fiber stack overflow`, exit status 134). Beyond that budget, overflow detection relies on
//! the stack-limit check compiled Blood code performs in function prologues.

pub mod overflow;
mod reserve;

use alloc_crate::string::String;

pub use reserve::{FaultKind, PAGE_SIZE, Reservations, SLOTS_PER_CHUNK, classify, slot_size};

/// Bytes at the end of a slot reserved for stack metadata.
pub const META_SIZE: usize = 64;

/// Process-wide stack geometry, fixed by the first runtime that starts.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct StackGeometry {
    /// Slot size (a power of two).
    pub slot_size: usize,
    /// Usable bytes of a stack (slot size minus guard page and metadata).
    pub max_usable: usize,
    /// Bytes a pooled stack keeps committed after trimming.
    pub resident: usize,
    /// How many slots receive a hardware guard page.
    pub guarded_slots: usize,
}

impl StackGeometry {
    /// Geometry for a maximum stack size, resident size and guard budget.
    pub fn new(max_stack: usize, resident: usize, guarded_slots: usize) -> StackGeometry {
        let needed = max_stack.max(16 * 1024) + PAGE_SIZE + META_SIZE;
        let slot_size = needed.next_power_of_two();
        StackGeometry {
            slot_size,
            max_usable: slot_size - PAGE_SIZE - META_SIZE,
            resident: resident.clamp(PAGE_SIZE, slot_size - PAGE_SIZE),
            guarded_slots,
        }
    }
}

/// One fiber stack (a slot). Dropping it without giving it back to its pool leaks the slot.
#[derive(Debug)]
pub struct Stack {
    /// Never 0 (a slot address), so `Option<Stack>` (in every fiber record) is one word.
    base: core::num::NonZeroUsize,
}

impl Stack {
    /// The slot at `base`, handed out by [`Reservations::carve`].
    pub fn from_slot(base: core::num::NonZeroUsize) -> Stack {
        Stack { base }
    }
    /// Lowest address of the slot (the guard page, if any).
    pub fn slot_base(&self) -> usize {
        self.base.get()
    }
    /// Initial stack pointer region end: 16-byte aligned, just below the metadata block.
    pub fn top(&self) -> usize {
        self.base.get() + slot_size() - META_SIZE
    }
    /// Writes the stack limit word for a fiber allowed `usable` bytes (clamped to the slot).
    /// The word lives at `slot end - META_SIZE` (`blood_abi::STACK_LIMIT_OFFSET_FROM_SLOT_END`).
    pub fn set_limit(&self, usable: usize) {
        let max_usable = slot_size() - PAGE_SIZE - META_SIZE;
        let usable = usable.clamp(PAGE_SIZE, max_usable);
        // Keep `STACK_RED_ZONE` bytes for runtime code called from a frame that passed its check.
        let floor = self.base.get() + PAGE_SIZE + blood_abi::STACK_RED_ZONE as usize;
        let limit = (self.top() - usable).max(floor.min(self.top() - PAGE_SIZE));
        // SAFETY: the metadata block lies inside this slot, which we own; it is committed because
        // the initial frame shares its page.
        unsafe { (self.top() as *mut usize).write(limit) };
    }
}

/// Allocation failure: address space or the chunk table exhausted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackError(pub String);
