//! The compiler ↔ runtime contract.
//!
//! Generated code and `blood-runtime` meet only here. Codegen declares every runtime entry point it
//! calls from [`RuntimeFn`] descriptors in this crate (never from string literals of its own), and
//! the runtime's test suite checks that the archive exports exactly these symbols with these
//! arities. Changing a signature therefore means changing it here, in the runtime export, and
//! nowhere else.
//!
//! Conventions shared by every entry point:
//! * All functions use the platform C calling convention.
//! * A Blood `&str` is passed as two arguments: a pointer to UTF-8 bytes ([`AbiType::Ptr`]) and a
//!   byte length ([`AbiType::I64`]).
//! * `bool` is passed as [`AbiType::I8`] holding 0 or 1; `char` as [`AbiType::I32`] holding a
//!   Unicode scalar value.
//! * `stream` arguments select the output: [`STDOUT`] or [`STDERR`].
//! * Functions marked `noreturn` never return; codegen follows their call with a trap.

#![no_std]

/// The machine-level type of one argument or return value of a runtime entry point.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum AbiType {
    I8,
    I16,
    I32,
    I64,
    I128,
    F32,
    F64,
    /// A pointer-sized address.
    Ptr,
}

/// Describes one symbol that generated code calls (or, for [`ENTRY_MAIN`], defines).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct RuntimeFn {
    /// Linker symbol name.
    pub name: &'static str,
    /// Parameter types in order, after `&str` has been split into (ptr, len).
    pub params: &'static [AbiType],
    /// Return type, `None` for `void`.
    pub ret: Option<AbiType>,
    /// The function never returns (panics, exits).
    pub noreturn: bool,
    /// Where the symbol comes from.
    pub provider: Provider,
}

/// Which library provides a symbol generated code calls.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Provider {
    /// `blood-runtime` (full and minimal builds).
    Runtime,
    /// The C library or libm, linked by the driver (`-lm`).
    Libc,
}

use AbiType::*;

const fn rt(name: &'static str, params: &'static [AbiType], ret: Option<AbiType>) -> RuntimeFn {
    RuntimeFn { name, params, ret, noreturn: false, provider: Provider::Runtime }
}

const fn rt_noreturn(name: &'static str, params: &'static [AbiType]) -> RuntimeFn {
    RuntimeFn { name, params, ret: None, noreturn: true, provider: Provider::Runtime }
}

const fn libc(name: &'static str, params: &'static [AbiType], ret: Option<AbiType>) -> RuntimeFn {
    RuntimeFn { name, params, ret, noreturn: false, provider: Provider::Libc }
}

/// Output stream selector for the `blood_print_*` family: standard output (buffered).
pub const STDOUT: i32 = 1;
/// Output stream selector for the `blood_print_*` family: standard error (unbuffered; standard
/// output is flushed before anything is written to it, so interleaving follows program order).
pub const STDERR: i32 = 2;

/// Exit status of a process that panicked (message on stderr, stdout flushed first).
pub const EXIT_PANIC: i32 = 101;
/// Exit status when a fiber overflows its stack.
pub const EXIT_STACK_OVERFLOW: i32 = 134;
/// Exit status of a runtime that could not start (bad configuration, out of memory at init).
pub const EXIT_RUNTIME_INIT_FAILED: i32 = 70;

// ---------------------------------------------------------------------------------------------
// Lifecycle.

/// `void blood_runtime_init(int32_t argc, char **argv)`: called first by the generated C `main`.
pub const RUNTIME_INIT: RuntimeFn = rt("blood_runtime_init", &[I32, Ptr], None);
/// `int32_t blood_runtime_shutdown(void)`: flushes output, waits for fibers, releases the
/// runtime. Returns 0, or a non-zero status the generated `main` must exit with instead of main's
/// own (reserved; currently always 0).
pub const RUNTIME_SHUTDOWN: RuntimeFn = rt("blood_runtime_shutdown", &[], Some(I32));

/// The symbol of the generated C entry point, `int main(int argc, char **argv)`.
pub const ENTRY_MAIN: RuntimeFn = RuntimeFn {
    name: "main",
    params: &[I32, Ptr],
    ret: Some(I32),
    noreturn: false,
    provider: Provider::Runtime,
};

// ---------------------------------------------------------------------------------------------
// Output. `stream` is STDOUT or STDERR.

/// `void blood_print_str(int32_t stream, const uint8_t *ptr, int64_t len)`.
pub const PRINT_STR: RuntimeFn = rt("blood_print_str", &[I32, Ptr, I64], None);
/// `void blood_print_i64(int32_t stream, int64_t v)`: decimal.
pub const PRINT_I64: RuntimeFn = rt("blood_print_i64", &[I32, I64], None);
/// `void blood_print_u64(int32_t stream, uint64_t v)`: decimal.
pub const PRINT_U64: RuntimeFn = rt("blood_print_u64", &[I32, I64], None);
/// `void blood_print_i128(int32_t stream, __int128 v)`: decimal.
pub const PRINT_I128: RuntimeFn = rt("blood_print_i128", &[I32, I128], None);
/// `void blood_print_u128(int32_t stream, unsigned __int128 v)`: decimal.
pub const PRINT_U128: RuntimeFn = rt("blood_print_u128", &[I32, I128], None);
/// `void blood_print_f64(int32_t stream, double v)`: shortest round-trip digits, never an
/// exponent, no trailing `.0` (`3`, `2.5`, `NaN`, `inf`, `-inf`).
pub const PRINT_F64: RuntimeFn = rt("blood_print_f64", &[I32, F64], None);
/// `void blood_print_f32(int32_t stream, float v)`: as [`PRINT_F64`] with f32's shortest digits.
pub const PRINT_F32: RuntimeFn = rt("blood_print_f32", &[I32, F32], None);
/// `void blood_print_f64_prec(int32_t stream, double v, int32_t decimals)`: fixed notation;
/// a negative `decimals` counts as 0.
pub const PRINT_F64_PREC: RuntimeFn = rt("blood_print_f64_prec", &[I32, F64, I32], None);
/// `void blood_print_f32_prec(int32_t stream, float v, int32_t decimals)`.
pub const PRINT_F32_PREC: RuntimeFn = rt("blood_print_f32_prec", &[I32, F32, I32], None);
/// `void blood_print_bool(int32_t stream, int8_t v)`: `true` / `false`.
pub const PRINT_BOOL: RuntimeFn = rt("blood_print_bool", &[I32, I8], None);
/// `void blood_print_char(int32_t stream, uint32_t c)`: UTF-8 encoding of the scalar value.
pub const PRINT_CHAR: RuntimeFn = rt("blood_print_char", &[I32, I32], None);

// ---------------------------------------------------------------------------------------------
// Panics. All flush stdout, write `panic: <message>` and a newline to stderr, and exit with
// EXIT_PANIC.

/// `noreturn void blood_panic(const uint8_t *msg, int64_t len)`.
pub const PANIC: RuntimeFn = rt_noreturn("blood_panic", &[Ptr, I64]);
/// `noreturn void blood_panic_bounds(int64_t index, int64_t len)`:
/// "index out of bounds: index I but length is N".
pub const PANIC_BOUNDS: RuntimeFn = rt_noreturn("blood_panic_bounds", &[I64, I64]);

/// `noreturn void blood_exit(int32_t status)`: flushes stdout and ends the process with
/// `status`. Used after a panic message was formatted by generated code (`panic!("{}", x)`).
pub const EXIT: RuntimeFn = rt_noreturn("blood_exit", &[I32]);

// ---------------------------------------------------------------------------------------------
// Preemption (compiler-inserted safepoints).

/// The global preemption word: an `AtomicU32` the runtime's monitor sets to non-zero when some
/// worker's running fiber has overrun its slice. A safepoint is `load.i32 flag; brif flag != 0,
/// cold`, and the cold block calls [`SAFEPOINT_SLOW`], which decides for the current worker.
pub const PREEMPT_FLAG_SYMBOL: &str = "blood_preempt_flag";
/// Size in bytes of the word at [`PREEMPT_FLAG_SYMBOL`].
pub const PREEMPT_FLAG_SIZE: u32 = 4;
/// `void blood_safepoint_slow(void)`: the cold path of a safepoint: yields the current fiber if
/// its worker was asked to, otherwise returns at once.
pub const SAFEPOINT_SLOW: RuntimeFn = rt("blood_safepoint_slow", &[], None);

// ---------------------------------------------------------------------------------------------
// C library / libm functions generated code calls directly.

pub const LIBM_SIN: RuntimeFn = libc("sin", &[F64], Some(F64));
pub const LIBM_COS: RuntimeFn = libc("cos", &[F64], Some(F64));
pub const LIBM_EXP: RuntimeFn = libc("exp", &[F64], Some(F64));
pub const LIBM_LOG: RuntimeFn = libc("log", &[F64], Some(F64));
pub const LIBM_POW: RuntimeFn = libc("pow", &[F64, F64], Some(F64));
pub const LIBM_FMOD: RuntimeFn = libc("fmod", &[F64, F64], Some(F64));
pub const LIBM_FMODF: RuntimeFn = libc("fmodf", &[F32, F32], Some(F32));

/// Every symbol `blood-runtime` must export (checked by the runtime's ABI test).
pub const RUNTIME_EXPORTS: &[RuntimeFn] = &[
    RUNTIME_INIT,
    RUNTIME_SHUTDOWN,
    PRINT_STR,
    PRINT_I64,
    PRINT_U64,
    PRINT_I128,
    PRINT_U128,
    PRINT_F64,
    PRINT_F32,
    PRINT_F64_PREC,
    PRINT_F32_PREC,
    PRINT_BOOL,
    PRINT_CHAR,
    PANIC,
    PANIC_BOUNDS,
    EXIT,
    SAFEPOINT_SLOW,
];

/// File names of the runtime archives the driver links against.
pub const RUNTIME_ARCHIVE_FULL: &str = "libblood_runtime.a";

/// System libraries the runtime archive needs at link time, in `cc` argument form.
pub const RUNTIME_LINK_LIBS: &[&str] = &["-lpthread", "-ldl", "-lm"];
