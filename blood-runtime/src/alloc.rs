//! Heap memory for generated code: `blood_alloc` / `blood_free` (descriptors `blood_abi::ALLOC`
//! and `blood_abi::FREE`).
//!
//! The one allocation entry point of compiled programs, so every heap object (closure
//! environments now, the L2 library types later) comes from the same allocator and can be
//! counted or replaced in one place. It is Rust's global allocator with an explicit layout: the
//! caller passes the same `size` and `align` to `blood_free`, which is what `dealloc` needs (no
//! header is stored). Out of memory and invalid layouts abort with a message; a zero size yields
//! a dangling, aligned, non-null pointer (never dereferenced, and `blood_free` ignores it).

use std::alloc::{Layout, alloc, dealloc, handle_alloc_error};

use crate::output::{self, Stream};
use crate::panic::ffi_guard;

/// The layout of a request, or an abort for an invalid one (a compiler bug).
fn layout(size: i64, align: i64) -> Layout {
    let checked = usize::try_from(size).ok().zip(usize::try_from(align).ok());
    match checked.and_then(|(s, a)| Layout::from_size_align(s, a).ok()) {
        Some(l) => l,
        None => {
            let msg = format!("blood_alloc: invalid layout (size {size}, align {align})\n");
            output::write_bytes(Stream::Stderr, msg.as_bytes());
            std::process::abort()
        }
    }
}

/// `void *blood_alloc(int64_t size, int64_t align)`.
#[unsafe(no_mangle)]
pub extern "C" fn blood_alloc(size: i64, align: i64) -> *mut u8 {
    ffi_guard("blood_alloc", || {
        let layout = layout(size, align);
        if layout.size() == 0 {
            return std::ptr::without_provenance_mut(layout.align());
        }
        // SAFETY: `layout` has a non-zero size (checked above).
        let p = unsafe { alloc(layout) };
        if p.is_null() {
            handle_alloc_error(layout);
        }
        p
    })
}

/// `void blood_free(void *ptr, int64_t size, int64_t align)`.
///
/// # Safety
/// `ptr` must come from `blood_alloc(size, align)` with the same arguments and not have been
/// freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_free(ptr: *mut u8, size: i64, align: i64) {
    ffi_guard("blood_free", || {
        let layout = layout(size, align);
        if layout.size() == 0 || ptr.is_null() {
            return;
        }
        // SAFETY: the caller guarantees `ptr` was allocated with this layout and is live.
        unsafe { dealloc(ptr, layout) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocations_are_aligned_and_writable() {
        for (size, align) in [(1i64, 1i64), (24, 8), (16, 16), (0, 8)] {
            let p = blood_alloc(size, align);
            assert!(!p.is_null());
            assert_eq!(p as usize % align as usize, 0);
            if size > 0 {
                // SAFETY: `p` points to `size` writable bytes.
                unsafe { std::ptr::write_bytes(p, 0xAB, size as usize) };
            }
            // SAFETY: allocated above with the same layout.
            unsafe { blood_free(p, size, align) };
        }
    }
}
