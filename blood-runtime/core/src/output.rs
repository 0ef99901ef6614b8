//! Program output: the buffered standard output and the unbuffered standard error.
//!
//! Design (cf. Go's `runtime/print.go`, but buffered like a C stdio stream):
//! * Standard output is collected in one process-wide fixed buffer ([`FLUSH_THRESHOLD`] bytes, in
//!   `.bss`: no allocation, no growth) guarded by a lock. Every
//!   `blood_print_*` call formats its value into that buffer while holding the lock, so the bytes
//!   of one call are never interleaved with another thread's. The buffer is written to fd 1 when it
//!   exceeds [`FLUSH_THRESHOLD`], at shutdown, from an `atexit` hook, before anything is written to
//!   standard error, and before a panic or stack-overflow exit.
//! * Standard error is unbuffered: each call flushes stdout first and then `write(2)`s its bytes,
//!   so the interleaving seen on a terminal follows program order.
//!
//! Invariants:
//! * The stdout lock is never held across a fiber switch (formatting never switches), so a fiber
//!   cannot block its worker on it for longer than one write.
//! * Lock order: the stdout lock is a leaf; nothing else is acquired while it is held.
//! * Output errors (closed pipe, full disk) are ignored, as `print!` in C does; the program goes on.
//! * The lock is [`crate::lock::Lock`] (a `Mutex` in the full runtime, a spin lock in the minimal
//!   one, where only one thread prints).

use crate::lock::{Lock, LockGuard};
use alloc_crate::string::{String, ToString};
use alloc_crate::vec::Vec;
use core::fmt::Write as _;

/// Bytes kept in the stdout buffer before it is written out.
pub const FLUSH_THRESHOLD: usize = 32 * 1024;

/// The file descriptor of standard output.
const FD_STDOUT: i32 = 1;
/// The file descriptor of standard error.
const FD_STDERR: i32 = 2;

/// The buffered standard output: bytes `..len` of `bytes`.
pub struct StdoutBuf {
    len: usize,
    bytes: [u8; FLUSH_THRESHOLD],
}

impl StdoutBuf {
    fn filled(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }
    fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Appends `b`, which fits (the caller checked).
    fn append(&mut self, b: &[u8]) {
        if let Some(dst) = self.bytes.get_mut(self.len..self.len + b.len()) {
            // `zip`, not `copy_from_slice`: same memcpy, no length-mismatch panic path.
            dst.iter_mut().zip(b).for_each(|(d, s)| *d = *s);
            self.len += b.len();
        }
    }
}

static STDOUT_BUF: Lock<StdoutBuf> = Lock::new(StdoutBuf { len: 0, bytes: [0; FLUSH_THRESHOLD] });

/// Which stream a `blood_print_*` call writes to.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    /// Maps the ABI selector; anything that is not `STDERR` goes to stdout.
    pub fn from_abi(stream: i32) -> Stream {
        if stream == blood_abi::STDERR { Stream::Stderr } else { Stream::Stdout }
    }
}

fn lock_stdout() -> LockGuard<'static, StdoutBuf> {
    STDOUT_BUF.lock()
}

/// Writes all of `bytes` to `fd`, retrying on short writes and `EINTR`; gives up on other errors.
pub fn write_all_fd(fd: i32, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: `bytes` is a valid, initialised slice for the duration of the call; `write`
        // only reads `bytes.len()` bytes from it.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n < 0 {
            if crate::errno() == libc::EINTR {
                continue;
            }
            return;
        }
        if n == 0 {
            return;
        }
        bytes = bytes.get(n as usize..).unwrap_or(&[]);
    }
}

fn flush_locked(buf: &mut StdoutBuf) {
    if !buf.is_empty() {
        write_all_fd(FD_STDOUT, buf.filled());
        buf.len = 0;
    }
}

/// Writes the buffered standard output to fd 1.
pub fn flush_stdout() {
    flush_locked(&mut lock_stdout());
}

/// Appends `bytes` to `stream`.
pub fn write_bytes(stream: Stream, bytes: &[u8]) {
    match stream {
        Stream::Stdout => {
            let mut buf = lock_stdout();
            if buf.len + bytes.len() > FLUSH_THRESHOLD {
                flush_locked(&mut buf);
                if bytes.len() > FLUSH_THRESHOLD {
                    write_all_fd(FD_STDOUT, bytes);
                    return;
                }
            }
            buf.append(bytes);
        }
        Stream::Stderr => {
            // Hold the stdout lock while writing to stderr so that no other thread's stdout bytes
            // can be flushed between our flush and our write (keeps program order across streams).
            let mut buf = lock_stdout();
            flush_locked(&mut buf);
            write_all_fd(FD_STDERR, bytes);
        }
    }
}

/// Ends the process: flushes stdout, writes `stderr_bytes` to stderr and calls `_exit(status)`,
/// all under the stdout lock, so no other thread's output can come after. For the thread that
/// won `panic::claim_exit`.
pub fn flush_write_stderr_and_exit(stderr_bytes: &[u8], status: i32) -> ! {
    let mut buf = lock_stdout();
    flush_locked(&mut buf);
    write_all_fd(FD_STDERR, stderr_bytes);
    // SAFETY: `_exit` ends the process without running atexit handlers or destructors (stdout
    // was flushed just above, and the lock stays held until the process is gone).
    unsafe { libc::_exit(status) }
}

/// A small stack buffer for formatting one value without allocating.
pub struct FmtBuf {
    len: usize,
    bytes: [u8; 128],
}

impl FmtBuf {
    pub fn new() -> FmtBuf {
        FmtBuf { len: 0, bytes: [0; 128] }
    }
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }
}

impl Default for FmtBuf {
    fn default() -> Self {
        FmtBuf::new()
    }
}

impl core::fmt::Write for FmtBuf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len + s.len();
        let dst = self.bytes.get_mut(self.len..end).ok_or(core::fmt::Error)?;
        dst.iter_mut().zip(s.as_bytes()).for_each(|(d, s)| *d = *s);
        self.len = end;
        Ok(())
    }
}

/// Formats `value` with `Display` and writes it to `stream`. Values whose text exceeds the stack
/// buffer (very long floats) fall back to a heap `String`.
pub fn write_display(stream: Stream, value: impl core::fmt::Display) {
    let mut small = FmtBuf::new();
    if write!(small, "{value}").is_ok() {
        write_bytes(stream, small.as_bytes());
    } else {
        write_bytes(stream, value.to_string().as_bytes());
    }
}

/// The decimal text of an integer (at most 39 digits and a sign), formatted without `core::fmt`
/// (so programs that print only integers link no formatting machinery, and no panic path).
pub struct Decimal {
    bytes: [u8; 40],
    start: usize,
}

impl Decimal {
    /// `-magnitude` if `negative`, else `magnitude`.
    pub fn new(negative: bool, mut magnitude: u128) -> Decimal {
        let mut bytes = [0u8; 40];
        let mut start = bytes.len();
        for slot in bytes.iter_mut().rev() {
            // The 64-bit division is much cheaper; most values fit.
            let digit = if let Ok(small) = u64::try_from(magnitude) {
                magnitude = u128::from(small / 10);
                (small % 10) as u8
            } else {
                let d = (magnitude % 10) as u8;
                magnitude /= 10;
                d
            };
            *slot = b'0' + digit;
            start -= 1;
            if magnitude == 0 {
                break;
            }
        }
        if negative && let Some(sign) = start.checked_sub(1).and_then(|i| bytes.get_mut(i)) {
            *sign = b'-';
            start -= 1;
        }
        Decimal { bytes, start }
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(self.start..).unwrap_or(&[])
    }
}

/// Writes a signed integer in decimal to `stream`.
pub fn write_signed(stream: Stream, v: i128) {
    write_bytes(stream, Decimal::new(v < 0, v.unsigned_abs()).as_bytes());
}

/// Writes an unsigned integer in decimal to `stream`.
pub fn write_unsigned(stream: Stream, v: u128) {
    write_bytes(stream, Decimal::new(false, v).as_bytes());
}

/// The text `blood_print_f64` writes: Rust's `{}` (shortest round-trip digits, never an exponent).
pub fn format_f64(v: f64) -> String {
    alloc_crate::format!("{v}")
}

/// The text `blood_print_f32` writes.
pub fn format_f32(v: f32) -> String {
    alloc_crate::format!("{v}")
}

/// Clamps a `decimals` argument: negative counts as 0; absurd values are capped so a buggy
/// program cannot ask for gigabytes of zeros.
pub fn clamp_decimals(decimals: i32) -> usize {
    decimals.clamp(0, 1024) as usize
}

/// The text `blood_print_f64_prec` writes: fixed notation with `decimals` digits.
pub fn format_f64_prec(v: f64, decimals: i32) -> String {
    alloc_crate::format!("{v:.prec$}", prec = clamp_decimals(decimals))
}

/// The text `blood_print_f32_prec` writes.
pub fn format_f32_prec(v: f32, decimals: i32) -> String {
    alloc_crate::format!("{v:.prec$}", prec = clamp_decimals(decimals))
}

/// Test support: takes the current contents of the stdout buffer without writing them.
#[doc(hidden)]
pub fn take_stdout_buffer_for_tests() -> Vec<u8> {
    let mut buf = lock_stdout();
    let taken = buf.filled().to_vec();
    buf.len = 0;
    taken
}

/// Flushes stdout only if nobody holds the buffer lock (used from signal handlers).
pub fn try_flush_stdout() {
    if let Some(mut buf) = STDOUT_BUF.try_lock() {
        flush_locked(&mut buf);
    }
}
