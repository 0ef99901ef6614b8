//! Blood panics and fatal runtime errors.
//!
//! A Blood panic never unwinds (LANGUAGE.md §3.10): it flushes standard output, writes
//! `panic: <message>\n` to standard error and terminates the process with
//! [`blood_abi::EXIT_PANIC`] through `_exit`, so no `atexit` handler or destructor can run user
//! code or re-enter the runtime after the message. (Inside a fiber, a panic of the *fiber body*
//! is a different thing: it is caught at the fiber root and marks the fiber Failed; see `fiber/`.)
//!
//! Fatal runtime errors (a Rust panic that reached an FFI boundary, a fiber stack overflow) use
//! the same path with their own message and exit status.
//!
//! One process, one ending: panics can happen on several worker threads at once (each fiber
//! runs on some worker). [`claim_exit`] lets exactly one thread proceed (a compare-and-swap on
//! the thread's identity); the others block until its `_exit`. The winner holds the stdout lock
//! from the final flush until `_exit`, so everything printed before the panic (in happens-before
//! order, by any fiber) is written first and nothing printed concurrently appears after the
//! message. The stack-overflow reporter and `blood_exit` claim the same way.

use crate::output;
use alloc_crate::string::String;
use alloc_crate::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

/// The thread (`pthread_self`) ending the process, 0 while none is.
static EXITING: AtomicUsize = AtomicUsize::new(0);

/// Makes the calling thread the one that ends the process. If another thread already is, blocks
/// forever (that thread's `_exit` ends this one too). Returns false if the calling thread had
/// already claimed (re-entry, e.g. a stack overflow while reporting): it should then exit at
/// once without more output. Async-signal-safe.
pub fn claim_exit() -> bool {
    // SAFETY: `pthread_self` has no preconditions.
    let me = unsafe { libc::pthread_self() } as usize;
    match EXITING.compare_exchange(0, me, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => true,
        Err(owner) if owner == me => false,
        Err(_) => loop {
            // SAFETY: `pause` only suspends the calling thread until a signal arrives.
            unsafe { libc::pause() };
        },
    }
}

/// Flushes stdout, writes `prefix` + `message` + `\n` to stderr and exits with `status`; only
/// one thread gets to do so (see the module header).
pub fn die(prefix: &str, message: &[u8], status: i32) -> ! {
    if !claim_exit() {
        // SAFETY: `_exit` is always safe to call.
        unsafe { libc::_exit(status) }
    }
    let mut line = Vec::with_capacity(prefix.len() + message.len() + 1);
    line.extend_from_slice(prefix.as_bytes());
    line.extend_from_slice(message);
    line.push(b'\n');
    output::flush_write_stderr_and_exit(&line, status)
}

/// The Blood panic: `panic: <message>`, exit status 101.
pub fn blood_panic(message: &[u8]) -> ! {
    die("panic: ", message, blood_abi::EXIT_PANIC)
}

/// The message of an out-of-bounds index panic.
pub fn bounds_message(index: i64, len: i64) -> String {
    alloc_crate::format!("index out of bounds: index {index} but length is {len}")
}

/// The message of a caught Rust panic: its `&str` or `String` payload, if it has one.
#[cfg(feature = "std")]
pub fn panic_message(payload: &(dyn core::any::Any + Send)) -> Option<&str> {
    payload.downcast_ref::<&str>().copied().or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

/// Runs `f`; if it panics (a bug in the runtime), reports it and aborts the process instead of
/// unwinding into C or generated code. Every `extern "C"` entry point goes through this.
///
/// With `std` (the full runtime) the panic is caught here and reported as `internal runtime
/// error in <entry>: <message>`; without it the runtime is built with `panic = "abort"` and the
/// minimal runtime's `#[panic_handler]` reports it through [`internal_error`] (without the entry's
/// name, which would cost a frame per call).
#[inline(always)]
pub fn ffi_guard<R>(name: &'static str, f: impl FnOnce() -> R) -> R {
    #[cfg(feature = "std")]
    {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
            Ok(r) => r,
            Err(payload) => {
                let what = panic_message(payload.as_ref()).unwrap_or("unknown panic");
                internal_error(format_args!("in {name}: {what}"))
            }
        }
    }
    #[cfg(not(feature = "std"))]
    {
        let _ = name;
        f()
    }
}

/// Reports a Rust panic (a runtime bug) as `internal runtime error <what>` on stderr (stdout
/// flushed first) and aborts (SIGABRT): the common tail of `ffi_guard` and the minimal runtime's
/// panic handler.
pub fn internal_error(what: core::fmt::Arguments<'_>) -> ! {
    /// Writes each formatted piece to stderr (no allocation: the heap may be what failed).
    struct Stderr;
    impl core::fmt::Write for Stderr {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            output::write_bytes(output::Stream::Stderr, s.as_bytes());
            Ok(())
        }
    }
    let _ = core::fmt::Write::write_fmt(&mut Stderr, format_args!("internal runtime error {what}\n"));
    // SAFETY: `abort` has no preconditions; it ends the process with SIGABRT.
    unsafe { libc::abort() }
}
