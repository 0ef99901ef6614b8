//! The process-wide items of the archive: the global allocator over `malloc`, the panic
//! handler, and the personality stub the precompiled `core` references.

/// The global allocator: the C library's `malloc`, as `std`'s `System` allocator on Linux.
struct Malloc;

/// Alignment `malloc` guarantees on the supported 64-bit targets.
const MALLOC_ALIGN: usize = 16;

// SAFETY: every method forwards to the C allocator with the layout's size, using
// `posix_memalign` when the alignment exceeds what `malloc` guarantees, as `GlobalAlloc` requires.
unsafe impl core::alloc::GlobalAlloc for Malloc {
    unsafe fn alloc(&self, layout: core::alloc::Layout) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN && layout.align() <= layout.size() {
            // SAFETY: `malloc` has no preconditions; a null result is reported to the caller.
            unsafe { libc::malloc(layout.size()).cast() }
        } else {
            let mut out: *mut libc::c_void = core::ptr::null_mut();
            let align = layout.align().max(core::mem::size_of::<usize>());
            // SAFETY: `align` is a power of two and a multiple of the pointer size; `out` is a
            // valid place for the result.
            if unsafe { libc::posix_memalign(&mut out, align, layout.size()) } != 0 {
                return core::ptr::null_mut();
            }
            out.cast()
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: core::alloc::Layout) {
        // SAFETY: `ptr` came from `malloc`/`posix_memalign`/`realloc` (the trait's contract).
        unsafe { libc::free(ptr.cast()) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: core::alloc::Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN && layout.align() <= new_size {
            // SAFETY: `ptr` came from this allocator with `layout`; `realloc` keeps the contents.
            unsafe { libc::realloc(ptr.cast(), new_size).cast() }
        } else {
            // SAFETY: the trait's contract; `new_size` with the old alignment is a valid layout.
            unsafe {
                let new = core::alloc::Layout::from_size_align_unchecked(new_size, layout.align());
                let p = self.alloc(new);
                if !p.is_null() {
                    core::ptr::copy_nonoverlapping(ptr, p, layout.size().min(new_size));
                    self.dealloc(ptr, layout);
                }
                p
            }
        }
    }
}

#[global_allocator]
static ALLOCATOR: Malloc = Malloc;

/// A Rust panic is a runtime bug: report it like the full runtime's `ffi_guard` and abort.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    blood_runtime_core::panic::internal_error(format_args!(": {}", info.message()))
}

/// The precompiled `core` and `alloc` carry unwind tables that name the personality routine,
/// although with `panic = "abort"` nothing ever unwinds; this definition satisfies the linker.
/// It is never called.
#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() {}
