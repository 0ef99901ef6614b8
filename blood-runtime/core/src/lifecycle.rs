//! Process start: `blood_runtime_init`, program arguments, the exit-time flush. (Each runtime
//! defines its own `blood_runtime_shutdown`, which waits for its fibers.)
//!
//! `init` stores `argc`/`argv` (the C `main` arguments live until the process ends, so keeping
//! the pointer is sound) and registers an `atexit` hook that flushes standard output, so a program
//! that ends through `exit(3)` loses no buffered output. It also starts watching the main
//! thread's stack, so deep recursion in `main` is reported as a stack overflow.

use alloc_crate::string::String;
use alloc_crate::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, Ordering};

static ARGC: AtomicI32 = AtomicI32::new(0);
static ARGV: AtomicPtr<*const libc::c_char> = AtomicPtr::new(core::ptr::null_mut());
static ATEXIT_INSTALLED: AtomicBool = AtomicBool::new(false);

extern "C" fn flush_at_exit() {
    // A panic here would unwind into libc's exit: `ffi_guard` never lets it.
    crate::panic::ffi_guard("atexit", crate::output::flush_stdout);
}

/// Installs the `atexit` flush once per process.
pub fn install_exit_flush() {
    if !ATEXIT_INSTALLED.swap(true, Ordering::AcqRel) {
        // SAFETY: `flush_at_exit` is a plain `extern "C" fn()` that never unwinds.
        unsafe {
            libc::atexit(flush_at_exit);
        }
    }
}

/// Records the arguments and installs the exit-time flush.
///
/// # Safety
/// `argv` must be null or point to `argc` NUL-terminated strings alive for the rest of the process.
pub unsafe fn init(argc: i32, argv: *const *const libc::c_char) {
    ARGC.store(argc.max(0), Ordering::Release);
    ARGV.store(argv.cast_mut(), Ordering::Release);
    install_exit_flush();
    crate::stack::overflow::watch_main_thread_stack();
}

/// The program arguments recorded by `init` (lossy UTF-8), empty before `init`.
pub fn args() -> Vec<String> {
    let argc = ARGC.load(Ordering::Acquire);
    let argv = ARGV.load(Ordering::Acquire);
    if argv.is_null() {
        return Vec::new();
    }
    (0..argc as usize)
        .filter_map(|i| {
            // SAFETY: `init`'s contract: `argv` holds `argc` valid pointers for the whole run.
            let p = unsafe { *argv.add(i) };
            if p.is_null() {
                return None;
            }
            // SAFETY: each non-null entry is a valid NUL-terminated string (init's contract).
            Some(String::from_utf8_lossy(unsafe { core::ffi::CStr::from_ptr(p) }.to_bytes()).into_owned())
        })
        .collect()
}
