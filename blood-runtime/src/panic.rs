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

use crate::output::{self, Stream};

/// Flushes stdout, writes `prefix` + `message` + `\n` to stderr and exits with `status`.
pub fn die(prefix: &str, message: &[u8], status: i32) -> ! {
    let mut line = Vec::with_capacity(prefix.len() + message.len() + 1);
    line.extend_from_slice(prefix.as_bytes());
    line.extend_from_slice(message);
    line.push(b'\n');
    output::write_bytes(Stream::Stderr, &line);
    output::flush_stdout();
    // SAFETY: `_exit` is async-signal-safe and always safe to call; it ends the process without
    // running atexit handlers (stdout was flushed above).
    unsafe { libc::_exit(status) }
}

/// The Blood panic: `panic: <message>`, exit status 101.
pub fn blood_panic(message: &[u8]) -> ! {
    die("panic: ", message, blood_abi::EXIT_PANIC)
}

/// The message of an out-of-bounds index panic.
pub fn bounds_message(index: i64, len: i64) -> String {
    format!("index out of bounds: index {index} but length is {len}")
}

/// Runs `f`; if it panics (a bug in the runtime), reports it and aborts the process instead of
/// unwinding into C or generated code. Every `extern "C"` entry point goes through this.
#[inline(always)]
pub fn ffi_guard<R>(name: &'static str, f: impl FnOnce() -> R) -> R {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            let msg = format!("internal runtime error in {name}: {what}");
            output::write_bytes(Stream::Stderr, msg.as_bytes());
            output::write_bytes(Stream::Stderr, b"\n");
            std::process::abort()
        }
    }
}
