//! The `extern "C"` entry points both runtimes share: the symbols of
//! `blood_abi::RUNTIME_EXPORTS` except `blood_runtime_shutdown` and `blood_safepoint_slow` (which
//! depend on the scheduler and are defined by each runtime), plus `blood_stack_overflow` and
//! `blood_stack_slot_mask`. The fiber API (`blood_abi::FIBER_EXPORTS`) is each runtime's own.
//!
//! Each function is thin: it converts C arguments into Rust values and calls into the module that
//! does the work. Contracts are documented per function and match the descriptors in `blood-abi`.
//! No Rust panic crosses this boundary: every body runs inside [`ffi_guard`], which turns a panic
//! (a runtime bug) into a message and `abort()`.

use crate::lifecycle;
use crate::output::{self, Stream};
use crate::panic::{self as bpanic, ffi_guard};
use alloc_crate::boxed::Box;
use alloc_crate::string::{String, ToString};
use alloc_crate::vec::Vec;

// ---------------------------------------------------------------------------------------------
// Lifecycle.

/// `void blood_runtime_init(int32_t argc, char **argv)`: records the program arguments and
/// installs the exit-time stdout flush. Called once, first, by the generated `main`.
///
/// # Safety
/// `argv` must be null or point to `argc` valid NUL-terminated strings that stay alive for the
/// whole run (the C `main` arguments do).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_runtime_init(argc: i32, argv: *const *const libc::c_char) {
    ffi_guard("blood_runtime_init", || {
        // SAFETY: forwarded from the caller's contract.
        unsafe { lifecycle::init(argc, argv) }
    })
}

// ---------------------------------------------------------------------------------------------
// Output.

/// `void blood_print_str(int32_t stream, const uint8_t *ptr, int64_t len)`: writes the bytes.
///
/// # Safety
/// `ptr` must point to `len` readable bytes (it may dangle when `len` is 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_print_str(stream: i32, ptr: *const u8, len: i64) {
    ffi_guard("blood_print_str", || {
        if len <= 0 || ptr.is_null() {
            return;
        }
        // SAFETY: the caller guarantees `ptr` points to `len` readable bytes.
        let bytes = unsafe { core::slice::from_raw_parts(ptr, len as usize) };
        output::write_bytes(Stream::from_abi(stream), bytes);
    })
}

/// `void blood_print_i64(int32_t stream, int64_t v)`: decimal.
#[unsafe(no_mangle)]
pub extern "C" fn blood_print_i64(stream: i32, v: i64) {
    ffi_guard("blood_print_i64", || output::write_signed(Stream::from_abi(stream), v.into()))
}

/// `void blood_print_u64(int32_t stream, uint64_t v)`: decimal.
#[unsafe(no_mangle)]
pub extern "C" fn blood_print_u64(stream: i32, v: u64) {
    ffi_guard("blood_print_u64", || output::write_unsigned(Stream::from_abi(stream), v.into()))
}

/// `void blood_print_i128(int32_t stream, __int128 v)`: decimal. On x86_64 SysV the value
/// arrives in two GPRs (low half first), which is how both Rust and Cranelift pass `i128`.
#[unsafe(no_mangle)]
pub extern "C" fn blood_print_i128(stream: i32, v: i128) {
    ffi_guard("blood_print_i128", || output::write_signed(Stream::from_abi(stream), v))
}

/// `void blood_print_u128(int32_t stream, unsigned __int128 v)`: decimal.
#[unsafe(no_mangle)]
pub extern "C" fn blood_print_u128(stream: i32, v: u128) {
    ffi_guard("blood_print_u128", || output::write_unsigned(Stream::from_abi(stream), v))
}

/// `void blood_print_f64(int32_t stream, double v)`: Rust `{}` formatting (shortest round-trip
/// digits, no exponent, `3` for 3.0, `NaN`, `inf`, `-inf`, `-0`).
#[unsafe(no_mangle)]
pub extern "C" fn blood_print_f64(stream: i32, v: f64) {
    ffi_guard("blood_print_f64", || output::write_display(Stream::from_abi(stream), v))
}

/// `void blood_print_f32(int32_t stream, float v)`: as `blood_print_f64` with f32 digits.
#[unsafe(no_mangle)]
pub extern "C" fn blood_print_f32(stream: i32, v: f32) {
    ffi_guard("blood_print_f32", || output::write_display(Stream::from_abi(stream), v))
}

/// `void blood_print_f64_prec(int32_t stream, double v, int32_t decimals)`: fixed notation,
/// negative `decimals` counts as 0.
#[unsafe(no_mangle)]
pub extern "C" fn blood_print_f64_prec(stream: i32, v: f64, decimals: i32) {
    ffi_guard("blood_print_f64_prec", || {
        let text = output::format_f64_prec(v, decimals);
        output::write_bytes(Stream::from_abi(stream), text.as_bytes())
    })
}

/// `void blood_print_f32_prec(int32_t stream, float v, int32_t decimals)`.
#[unsafe(no_mangle)]
pub extern "C" fn blood_print_f32_prec(stream: i32, v: f32, decimals: i32) {
    ffi_guard("blood_print_f32_prec", || {
        let text = output::format_f32_prec(v, decimals);
        output::write_bytes(Stream::from_abi(stream), text.as_bytes())
    })
}

/// `void blood_print_bool(int32_t stream, int8_t v)`: `true` for any non-zero byte.
#[unsafe(no_mangle)]
pub extern "C" fn blood_print_bool(stream: i32, v: i8) {
    ffi_guard("blood_print_bool", || {
        let text: &[u8] = if v != 0 { b"true" } else { b"false" };
        output::write_bytes(Stream::from_abi(stream), text)
    })
}

/// `void blood_print_char(int32_t stream, uint32_t c)`: UTF-8 encoding of the scalar value; an
/// invalid scalar value prints U+FFFD.
#[unsafe(no_mangle)]
pub extern "C" fn blood_print_char(stream: i32, c: u32) {
    ffi_guard("blood_print_char", || {
        let ch = char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER);
        let mut utf8 = [0u8; 4];
        output::write_bytes(Stream::from_abi(stream), ch.encode_utf8(&mut utf8).as_bytes())
    })
}

// ---------------------------------------------------------------------------------------------
// `&str` operations: byte-wise, no allocation.

/// Views a Blood `&str` argument as bytes.
///
/// # Safety
/// `ptr` must point to `len` readable bytes alive for the returned lifetime (it may dangle when
/// `len` is 0); generated code passes string constants or slices of live strings.
unsafe fn str_bytes<'a>(ptr: *const u8, len: i64) -> &'a [u8] {
    if len <= 0 || ptr.is_null() {
        return &[];
    }
    // SAFETY: the caller's contract.
    unsafe { core::slice::from_raw_parts(ptr, len as usize) }
}

/// `int8_t blood_str_eq(a, a_len, b, b_len)`: byte equality.
///
/// # Safety
/// Both strings satisfy [`str_bytes`]' contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_str_eq(a: *const u8, a_len: i64, b: *const u8, b_len: i64) -> i8 {
    // SAFETY: forwarded caller contract.
    let (a, b) = unsafe { (str_bytes(a, a_len), str_bytes(b, b_len)) };
    i8::from(a == b)
}

/// `int8_t blood_str_starts_with(a, a_len, p, p_len)`.
///
/// # Safety
/// Both strings satisfy [`str_bytes`]' contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_str_starts_with(a: *const u8, a_len: i64, p: *const u8, p_len: i64) -> i8 {
    // SAFETY: forwarded caller contract.
    let (a, p) = unsafe { (str_bytes(a, a_len), str_bytes(p, p_len)) };
    i8::from(a.starts_with(p))
}

/// `int8_t blood_str_ends_with(a, a_len, s, s_len)`.
///
/// # Safety
/// Both strings satisfy [`str_bytes`]' contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_str_ends_with(a: *const u8, a_len: i64, s: *const u8, s_len: i64) -> i8 {
    // SAFETY: forwarded caller contract.
    let (a, s) = unsafe { (str_bytes(a, a_len), str_bytes(s, s_len)) };
    i8::from(a.ends_with(s))
}

/// `int8_t blood_str_contains(a, a_len, n, n_len)`: the empty needle is contained everywhere.
///
/// # Safety
/// Both strings satisfy [`str_bytes`]' contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_str_contains(a: *const u8, a_len: i64, n: *const u8, n_len: i64) -> i8 {
    // SAFETY: forwarded caller contract.
    let (a, n) = unsafe { (str_bytes(a, a_len), str_bytes(n, n_len)) };
    i8::from(n.is_empty() || a.windows(n.len()).any(|w| w == n))
}

/// A string result: returned in two registers, as C returns a two-word struct.
#[repr(C)]
pub struct BloodStr {
    pub ptr: *const u8,
    pub len: i64,
}

/// Hands a new string to generated code. Strings built by the runtime live until the process
/// ends (LANGUAGE.md §4.6: "allocate a fresh buffer (never freed in this subset)").
fn leak_str(s: String) -> BloodStr {
    let bytes: &'static mut [u8] = Box::leak(s.into_bytes().into_boxed_slice());
    BloodStr { ptr: bytes.as_ptr(), len: bytes.len() as i64 }
}

/// `str blood_str_concat(a, a_len, b, b_len)`.
///
/// # Safety
/// Both strings satisfy [`str_bytes`]' contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_str_concat(a: *const u8, a_len: i64, b: *const u8, b_len: i64) -> BloodStr {
    // SAFETY: forwarded caller contract.
    let (a, b) = unsafe { (str_bytes(a, a_len), str_bytes(b, b_len)) };
    let mut out = Vec::with_capacity(a.len() + b.len());
    out.extend_from_slice(a);
    out.extend_from_slice(b);
    let bytes: &'static mut [u8] = Box::leak(out.into_boxed_slice());
    BloodStr { ptr: bytes.as_ptr(), len: bytes.len() as i64 }
}

/// `str blood_i64_to_string(int64_t)`.
#[unsafe(no_mangle)]
pub extern "C" fn blood_i64_to_string(v: i64) -> BloodStr {
    leak_str(v.to_string())
}

/// `str blood_u64_to_string(uint64_t)`.
#[unsafe(no_mangle)]
pub extern "C" fn blood_u64_to_string(v: u64) -> BloodStr {
    leak_str(v.to_string())
}

/// `str blood_i128_to_string(__int128)`.
#[unsafe(no_mangle)]
pub extern "C" fn blood_i128_to_string(v: i128) -> BloodStr {
    leak_str(v.to_string())
}

/// `str blood_u128_to_string(unsigned __int128)`.
#[unsafe(no_mangle)]
pub extern "C" fn blood_u128_to_string(v: u128) -> BloodStr {
    leak_str(v.to_string())
}

/// `str blood_f64_to_string(double)`: as `blood_print_f64`.
#[unsafe(no_mangle)]
pub extern "C" fn blood_f64_to_string(v: f64) -> BloodStr {
    leak_str(output::format_f64(v))
}

/// `str blood_f32_to_string(float)`: as `blood_print_f32`.
#[unsafe(no_mangle)]
pub extern "C" fn blood_f32_to_string(v: f32) -> BloodStr {
    leak_str(output::format_f32(v))
}

/// `str blood_bool_to_string(int8_t)`.
#[unsafe(no_mangle)]
pub extern "C" fn blood_bool_to_string(v: i8) -> BloodStr {
    let s: &'static str = if v != 0 { "true" } else { "false" };
    BloodStr { ptr: s.as_ptr(), len: s.len() as i64 }
}

/// `str blood_char_to_string(uint32_t)`: an invalid scalar value gives U+FFFD.
#[unsafe(no_mangle)]
pub extern "C" fn blood_char_to_string(c: u32) -> BloodStr {
    leak_str(char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER).to_string())
}

/// `double blood_parse_f64(s, len)`: 0.0 when `s` is not a number.
///
/// # Safety
/// `s` satisfies [`str_bytes`]' contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_parse_f64(s: *const u8, len: i64) -> f64 {
    // SAFETY: forwarded caller contract.
    let bytes = unsafe { str_bytes(s, len) };
    core::str::from_utf8(bytes).ok().and_then(|t| t.trim().parse().ok()).unwrap_or(0.0)
}

/// `int64_t blood_parse_i64_radix(s, len, radix)`: 0 when invalid (or radix outside 2..=36).
///
/// # Safety
/// `s` satisfies [`str_bytes`]' contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_parse_i64_radix(s: *const u8, len: i64, radix: u32) -> i64 {
    // SAFETY: forwarded caller contract.
    let bytes = unsafe { str_bytes(s, len) };
    if !(2..=36).contains(&radix) {
        return 0;
    }
    core::str::from_utf8(bytes).ok().and_then(|t| i64::from_str_radix(t.trim(), radix).ok()).unwrap_or(0)
}

/// Nanoseconds on the monotonic clock (`CLOCK_MONOTONIC`): comparable across threads.
fn monotonic_nanos() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC is always available on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64).wrapping_mul(1_000_000_000).wrapping_add(ts.tv_nsec as u64)
}

/// `uint64_t blood_clock_millis(void)`.
#[unsafe(no_mangle)]
pub extern "C" fn blood_clock_millis() -> u64 {
    ffi_guard("blood_clock_millis", || monotonic_nanos() / 1_000_000)
}

/// `uint64_t blood_clock_nanos(void)`.
#[unsafe(no_mangle)]
pub extern "C" fn blood_clock_nanos() -> u64 {
    ffi_guard("blood_clock_nanos", monotonic_nanos)
}

/// `int32_t blood_args_count(void)`.
#[unsafe(no_mangle)]
pub extern "C" fn blood_args_count() -> i32 {
    ffi_guard("blood_args_count", || lifecycle::args().len() as i32)
}

/// `str blood_args_get(int32_t i)`: `""` when out of range.
#[unsafe(no_mangle)]
pub extern "C" fn blood_args_get(i: i32) -> BloodStr {
    ffi_guard("blood_args_get", || {
        let arg = usize::try_from(i).ok().and_then(|i| lifecycle::args().into_iter().nth(i));
        leak_str(arg.unwrap_or_default())
    })
}

/// `str blood_args_join(void)`: the arguments after the program path, space-separated.
#[unsafe(no_mangle)]
pub extern "C" fn blood_args_join() -> BloodStr {
    ffi_guard("blood_args_join", || leak_str(lifecycle::args().into_iter().skip(1).collect::<Vec<_>>().join(" ")))
}

/// `int64_t blood_str_len(a, a_len)`: the byte length.
#[unsafe(no_mangle)]
pub extern "C" fn blood_str_len(_a: *const u8, a_len: i64) -> i64 {
    a_len.max(0)
}

// ---------------------------------------------------------------------------------------------
// Panics.

/// `noreturn void blood_panic(const uint8_t *msg, int64_t len)`: flushes stdout, writes
/// `panic: <msg>\n` to stderr, exits with status 101.
///
/// # Safety
/// `msg` must point to `len` readable bytes (it may dangle when `len` is 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_panic(msg: *const u8, len: i64) -> ! {
    ffi_guard("blood_panic", || {
        let bytes: &[u8] = if len <= 0 || msg.is_null() {
            &[]
        } else {
            // SAFETY: the caller guarantees `msg` points to `len` readable bytes.
            unsafe { core::slice::from_raw_parts(msg, len as usize) }
        };
        bpanic::blood_panic(bytes)
    })
}

/// `noreturn void blood_panic_bounds(int64_t index, int64_t len)`: panics with
/// "index out of bounds: index I but length is N".
#[unsafe(no_mangle)]
pub extern "C" fn blood_panic_bounds(index: i64, len: i64) -> ! {
    ffi_guard("blood_panic_bounds", || bpanic::blood_panic(bpanic::bounds_message(index, len).as_bytes()))
}

/// `noreturn void blood_exit(int32_t status)`: flushes stdout and ends the process with
/// `status` (generated code uses it after writing a formatted panic message itself).
#[unsafe(no_mangle)]
pub extern "C" fn blood_exit(status: i32) -> ! {
    ffi_guard("blood_exit", || {
        if !bpanic::claim_exit() {
            // SAFETY: `_exit` is always safe to call.
            unsafe { libc::_exit(status) }
        }
        output::flush_write_stderr_and_exit(&[], status)
    })
}

// ---------------------------------------------------------------------------------------------
// Stack overflow (the target of compiled stack-limit checks).

/// The mask generated code applies to `rsp` to find the end of the current fiber stack's slot:
/// the stack limit word is at `(rsp | blood_stack_slot_mask) + 1 - 64`
/// (`blood_abi::STACK_LIMIT_OFFSET_FROM_SLOT_END`). Set when the first runtime starts.
#[unsafe(no_mangle)]
pub static blood_stack_slot_mask: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// `noreturn void blood_stack_overflow(void)`: prints `fiber stack overflow`, exits with
/// `EXIT_STACK_OVERFLOW` (134). Called by compiled code whose stack-limit check failed.
#[unsafe(no_mangle)]
pub extern "C" fn blood_stack_overflow() -> ! {
    crate::stack::overflow::report_and_exit()
}
