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
    /// A Blood `&str` *result*: returned as C returns `struct { const uint8_t *ptr; int64_t len; }`
    /// (two registers on the supported targets). Only valid as a return type; `&str` arguments
    /// are passed as [`AbiType::Ptr`] and [`AbiType::I64`].
    Str,
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
pub const ENTRY_MAIN: RuntimeFn =
    RuntimeFn { name: "main", params: &[I32, Ptr], ret: Some(I32), noreturn: false, provider: Provider::Runtime };

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

// ---------------------------------------------------------------------------------------------
// `&str` operations (LANGUAGE.md §4.6). Strings are (ptr, len) pairs of UTF-8 bytes; byte
// comparisons, so no allocation.

/// `int8_t blood_str_eq(const uint8_t *a, int64_t a_len, const uint8_t *b, int64_t b_len)`:
/// byte equality.
pub const STR_EQ: RuntimeFn = rt("blood_str_eq", &[Ptr, I64, Ptr, I64], Some(I8));
/// `int8_t blood_str_starts_with(a, a_len, prefix, prefix_len)`.
pub const STR_STARTS_WITH: RuntimeFn = rt("blood_str_starts_with", &[Ptr, I64, Ptr, I64], Some(I8));
/// `int8_t blood_str_ends_with(a, a_len, suffix, suffix_len)`.
pub const STR_ENDS_WITH: RuntimeFn = rt("blood_str_ends_with", &[Ptr, I64, Ptr, I64], Some(I8));
/// `int8_t blood_str_contains(a, a_len, needle, needle_len)`.
pub const STR_CONTAINS: RuntimeFn = rt("blood_str_contains", &[Ptr, I64, Ptr, I64], Some(I8));
/// `int64_t blood_str_len(const uint8_t *a, int64_t a_len)`: the byte length (`a_len`).
pub const STR_LEN: RuntimeFn = rt("blood_str_len", &[Ptr, I64], Some(I64));

/// `str blood_str_concat(a, a_len, b, b_len)`: a fresh string `a` followed by `b`. Strings built
/// by the runtime are never freed in this language level (LANGUAGE.md §4.6).
pub const STR_CONCAT: RuntimeFn = rt("blood_str_concat", &[Ptr, I64, Ptr, I64], Some(Str));
/// `str blood_i64_to_string(int64_t v)`: decimal.
pub const I64_TO_STRING: RuntimeFn = rt("blood_i64_to_string", &[I64], Some(Str));
/// `str blood_u64_to_string(uint64_t v)`: decimal.
pub const U64_TO_STRING: RuntimeFn = rt("blood_u64_to_string", &[I64], Some(Str));
/// `str blood_i128_to_string(__int128 v)`: decimal.
pub const I128_TO_STRING: RuntimeFn = rt("blood_i128_to_string", &[I128], Some(Str));
/// `str blood_u128_to_string(unsigned __int128 v)`: decimal.
pub const U128_TO_STRING: RuntimeFn = rt("blood_u128_to_string", &[I128], Some(Str));
/// `str blood_f64_to_string(double v)`: the format of [`PRINT_F64`].
pub const F64_TO_STRING: RuntimeFn = rt("blood_f64_to_string", &[F64], Some(Str));
/// `str blood_f32_to_string(float v)`: the format of [`PRINT_F32`].
pub const F32_TO_STRING: RuntimeFn = rt("blood_f32_to_string", &[F32], Some(Str));
/// `str blood_bool_to_string(int8_t v)`: `true` / `false`.
pub const BOOL_TO_STRING: RuntimeFn = rt("blood_bool_to_string", &[I8], Some(Str));
/// `str blood_char_to_string(uint32_t c)`: the UTF-8 encoding.
pub const CHAR_TO_STRING: RuntimeFn = rt("blood_char_to_string", &[I32], Some(Str));
/// `double blood_parse_f64(s, len)`: the number, or 0.0 if `s` is not one.
pub const PARSE_F64: RuntimeFn = rt("blood_parse_f64", &[Ptr, I64], Some(F64));
/// `int64_t blood_parse_i64_radix(s, len, uint32_t radix)`: the number, or 0 if invalid.
pub const PARSE_I64_RADIX: RuntimeFn = rt("blood_parse_i64_radix", &[Ptr, I64, I32], Some(I64));
/// `uint64_t blood_clock_millis(void)`: a monotonic clock in milliseconds (LANGUAGE.md §8.3).
pub const CLOCK_MILLIS: RuntimeFn = rt("blood_clock_millis", &[], Some(I64));
/// `uint64_t blood_clock_nanos(void)`: a monotonic clock in nanoseconds.
pub const CLOCK_NANOS: RuntimeFn = rt("blood_clock_nanos", &[], Some(I64));
/// `int32_t blood_args_count(void)`: the number of command-line arguments (with the program).
pub const ARGS_COUNT: RuntimeFn = rt("blood_args_count", &[], Some(I32));
/// `str blood_args_get(int32_t i)`: argument `i` (0 is the program path), `""` out of range.
pub const ARGS_GET: RuntimeFn = rt("blood_args_get", &[I32], Some(Str));
/// `str blood_args_join(void)`: the arguments after the program path, joined by spaces.
pub const ARGS_JOIN: RuntimeFn = rt("blood_args_join", &[], Some(Str));

// ---------------------------------------------------------------------------------------------
// Heap allocation (LANGUAGE.md §5.5). Every allocation of generated code goes through these
// three entry points (blood-runtime `alloc.rs`); out of memory prints a message and exits with
// [`EXIT_OUT_OF_MEMORY`]. A size of 0 allocates nothing: `blood_alloc` returns the alignment as
// a dangling, aligned pointer and `blood_free` ignores it.

/// `void *blood_alloc(int64_t size, int64_t align)`: `align` is a power of two.
pub const ALLOC: RuntimeFn = rt("blood_alloc", &[I64, I64], Some(Ptr));
/// `void *blood_realloc(void *ptr, int64_t old_size, int64_t align, int64_t new_size)`.
pub const REALLOC: RuntimeFn = rt("blood_realloc", &[Ptr, I64, I64, I64], Some(Ptr));
/// `void blood_free(void *ptr, int64_t size, int64_t align)`: `size`/`align` as allocated.
pub const FREE: RuntimeFn = rt("blood_free", &[Ptr, I64, I64], None);
/// `void blood_vec_reserve(vec *v, int64_t additional, int64_t elem_size, int64_t elem_align)`:
/// `v` points to a vector's three words (data pointer, length, capacity in elements); ensures
/// `capacity >= length + additional`, at least doubling the capacity (minimum 4) when it grows.
pub const VEC_RESERVE: RuntimeFn = rt("blood_vec_reserve", &[Ptr, I64, I64, I64], None);
/// `void blood_vec_clone(vec *dst, const vec *src, int64_t elem_size, int64_t elem_align)`:
/// writes into `dst` a new vector holding a byte copy of `src`'s elements.
pub const VEC_CLONE: RuntimeFn = rt("blood_vec_clone", &[Ptr, Ptr, I64, I64], None);
/// `void blood_string_push_str(vec *s, const uint8_t *ptr, int64_t len)`: appends the bytes.
pub const STRING_PUSH_STR: RuntimeFn = rt("blood_string_push_str", &[Ptr, Ptr, I64], None);
/// `void blood_string_push_char(vec *s, uint32_t c)`: appends the UTF-8 encoding of `c`.
pub const STRING_PUSH_CHAR: RuntimeFn = rt("blood_string_push_char", &[Ptr, I32], None);
/// Exit status after an allocation failed ("out of memory").
pub const EXIT_OUT_OF_MEMORY: i32 = 102;

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
    STR_EQ,
    STR_STARTS_WITH,
    STR_ENDS_WITH,
    STR_CONTAINS,
    STR_LEN,
    STR_CONCAT,
    I64_TO_STRING,
    U64_TO_STRING,
    I128_TO_STRING,
    U128_TO_STRING,
    F64_TO_STRING,
    F32_TO_STRING,
    BOOL_TO_STRING,
    CHAR_TO_STRING,
    PARSE_F64,
    PARSE_I64_RADIX,
    ARGS_COUNT,
    ARGS_GET,
    ARGS_JOIN,
    CLOCK_MILLIS,
    CLOCK_NANOS,
    ALLOC,
    REALLOC,
    FREE,
    VEC_RESERVE,
    VEC_CLONE,
    STRING_PUSH_STR,
    STRING_PUSH_CHAR,
];

/// File names of the runtime archives the driver links against: the full runtime
/// (`--runtime=full`, the default; linked as `-lblood_runtime`).
pub const RUNTIME_ARCHIVE_FULL: &str = "libblood_runtime.a";
/// The minimal runtime (`--runtime=minimal`; linked as `-lblood_runtime_minimal`): one worker,
/// FIFO, on the program's thread; no OS-thread API, no metrics export, no environment
/// configuration (concurrency spec §11.7). Built from the `no_std` crate `blood-runtime-minimal`
/// (which shares `blood-runtime-core` with the full runtime).
pub const RUNTIME_ARCHIVE_MINIMAL: &str = "libblood_runtime_minimal.a";

/// System libraries the runtime archive needs at link time, in `cc` argument form.
pub const RUNTIME_LINK_LIBS: &[&str] = &["-lpthread", "-ldl", "-lm"];

// ---------------------------------------------------------------------------------------------
// Fibers, scheduler, channels (added by blood-runtime; concurrency spec §11.3, LANGUAGE.md §7).
// Fibers are named by u64 ids (never 0; `blood_fiber_current` is 0 on the root fiber and outside
// fibers); channels by opaque u64 handles carrying u64 values. Blocking calls are cancellation
// points and report it through the STATUS_* codes below.

/// Status: success.
pub const STATUS_OK: i32 = 0;
/// Status: the channel is closed (and, for receives, drained).
pub const STATUS_CLOSED: i32 = 1;
/// Status: the calling fiber was cancelled.
pub const STATUS_CANCELLED: i32 = 2;
/// Status: `try_*` would have to wait (channel full / empty).
pub const STATUS_WOULD_BLOCK: i32 = 3;
/// Status: no fiber with that id (never spawned through the C ABI, or already joined).
pub const STATUS_NO_SUCH_FIBER: i32 = 4;
/// Status: the joined fiber failed.
pub const STATUS_FAILED: i32 = 5;
/// Status: the joined fiber was cancelled.
pub const STATUS_JOINED_CANCELLED: i32 = 6;

/// `int32_t blood_scheduler_init(uint64_t workers)`: 0 = BLOOD_NUM_WORKERS / CPU count. Returns 0
/// or EXIT_RUNTIME_INIT_FAILED (message printed). Optional: the runtime starts on first use.
pub const SCHEDULER_INIT: RuntimeFn = rt("blood_scheduler_init", &[I64], Some(I32));
/// `void blood_scheduler_shutdown(void)`: waits until every fiber has finished.
pub const SCHEDULER_SHUTDOWN: RuntimeFn = rt("blood_scheduler_shutdown", &[], None);
/// `int32_t blood_runtime_run_main(int32_t (*main)(void))`: runs `main` as the root fiber, waits
/// for it and its descendants, returns its status.
pub const RUNTIME_RUN_MAIN: RuntimeFn = rt("blood_runtime_run_main", &[Ptr], Some(I32));
/// `uint64_t blood_fiber_spawn(uint64_t (*f)(void))` → fiber id.
pub const FIBER_SPAWN: RuntimeFn = rt("blood_fiber_spawn", &[Ptr], Some(I64));
/// `uint64_t blood_fiber_spawn_with(uint64_t (*f)(uint64_t), uint64_t arg)` → fiber id.
pub const FIBER_SPAWN_WITH: RuntimeFn = rt("blood_fiber_spawn_with", &[Ptr, I64], Some(I64));
/// `uint64_t blood_fiber_spawn_pair(uint64_t (*f)(uint64_t, uint64_t), uint64_t a, uint64_t b)`:
/// `f(a, b)` on a new fiber (the compiler passes a `fn` value's two words).
pub const FIBER_SPAWN_PAIR: RuntimeFn = rt("blood_fiber_spawn_pair", &[Ptr, Ptr, Ptr], Some(I64));
/// `uint64_t blood_fiber_spawn_env(uint64_t (*f)(uint64_t, uint64_t, uint64_t), uint64_t a,
/// uint64_t b, uint64_t c)`: `f(a, b, c)` on a new fiber (the compiler passes up to three
/// captured values of a task closure as words, so spawning it allocates no environment).
pub const FIBER_SPAWN_ENV: RuntimeFn = rt("blood_fiber_spawn_env", &[Ptr, I64, I64, I64], Some(I64));
/// `uint64_t blood_fiber_spawn_config(f, arg, uint64_t stack_size, int32_t priority, const
/// uint8_t *name, int64_t name_len)`: stack_size 0 = maximum; priority 0 Low .. 3 Critical.
pub const FIBER_SPAWN_CONFIG: RuntimeFn = rt("blood_fiber_spawn_config", &[Ptr, I64, I64, I32, Ptr, I64], Some(I64));
/// `uint64_t blood_fiber_await(uint64_t id)`: result; panics "joined a cancelled fiber" etc. A
/// caller cancelled while waiting ends as by FIBER_EXIT_CANCELLED (FIBER_TRY_JOIN returns
/// STATUS_CANCELLED instead, for code with `finally` clauses to run).
pub const FIBER_AWAIT: RuntimeFn = rt("blood_fiber_await", &[I64], Some(I64));
/// `uint64_t blood_fiber_join(uint64_t id)`: same as FIBER_AWAIT.
pub const FIBER_JOIN: RuntimeFn = rt("blood_fiber_join", &[I64], Some(I64));
/// `int32_t blood_fiber_try_join(uint64_t id, uint64_t *out)`: STATUS_OK / _JOINED_CANCELLED /
/// _FAILED / _CANCELLED (the caller is cancelled: it was while waiting, or the fiber ended
/// cancelled while the caller is too) / _NO_SUCH_FIBER.
pub const FIBER_TRY_JOIN: RuntimeFn = rt("blood_fiber_try_join", &[I64, Ptr], Some(I32));
/// `uint64_t blood_fiber_current(void)`.
pub const FIBER_CURRENT: RuntimeFn = rt("blood_fiber_current", &[], Some(I64));
/// `void blood_fiber_yield(void)`.
pub const FIBER_YIELD: RuntimeFn = rt("blood_fiber_yield", &[], None);
/// `int32_t blood_fiber_sleep(uint64_t ns)`: STATUS_OK or STATUS_CANCELLED.
pub const FIBER_SLEEP: RuntimeFn = rt("blood_fiber_sleep", &[I64], Some(I32));
/// `int8_t blood_fiber_is_finished(uint64_t id)`.
pub const FIBER_IS_FINISHED: RuntimeFn = rt("blood_fiber_is_finished", &[I64], Some(I8));
/// `void blood_fiber_cancel(uint64_t id)`.
pub const FIBER_CANCEL: RuntimeFn = rt("blood_fiber_cancel", &[I64], None);
/// `int8_t blood_fiber_is_cancelled(void)`: the current fiber's flag.
pub const FIBER_IS_CANCELLED: RuntimeFn = rt("blood_fiber_is_cancelled", &[], Some(I8));
/// `int32_t blood_fiber_check_cancelled(void)`: STATUS_OK or STATUS_CANCELLED.
pub const FIBER_CHECK_CANCELLED: RuntimeFn = rt("blood_fiber_check_cancelled", &[], Some(I32));
/// `noreturn void blood_fiber_exit_cancelled(void)`: called by generated code when a cancellation
/// point (sleep, recv, send, join, select, check_cancelled) returned STATUS_CANCELLED (select:
/// -2). Ends the current fiber as cancelled right there: the frames above the call are abandoned
/// (never resumed, nothing in them dropped; run `finally` clauses before calling). The fiber's
/// children and open nurseries are cancelled and it completes after them; joiners see it
/// cancelled (`blood_fiber_try_join` → STATUS_JOINED_CANCELLED, `blood_fiber_join` panics
/// "joined a cancelled fiber"). On the root fiber `blood_runtime_run_main` then panics "main
/// fiber cancelled"; outside fibers it panics "cancelled" (EXIT_PANIC).
pub const FIBER_EXIT_CANCELLED: RuntimeFn = rt_noreturn("blood_fiber_exit_cancelled", &[]);
/// `void blood_fiber_park(void)`.
pub const FIBER_PARK: RuntimeFn = rt("blood_fiber_park", &[], None);
/// `void blood_fiber_unpark(uint64_t id)`.
pub const FIBER_UNPARK: RuntimeFn = rt("blood_fiber_unpark", &[I64], None);
/// `uint64_t blood_channel_create(int64_t capacity)`: < 0 unbounded, 0 rendezvous.
pub const CHANNEL_CREATE: RuntimeFn = rt("blood_channel_create", &[I64], Some(I64));
/// `int32_t blood_channel_send(uint64_t ch, uint64_t v)`: OK / CLOSED / CANCELLED.
pub const CHANNEL_SEND: RuntimeFn = rt("blood_channel_send", &[I64, I64], Some(I32));
/// `int32_t blood_channel_recv(uint64_t ch, uint64_t *out)`: OK / CLOSED / CANCELLED.
pub const CHANNEL_RECV: RuntimeFn = rt("blood_channel_recv", &[I64, Ptr], Some(I32));
/// `int32_t blood_channel_try_send(uint64_t ch, uint64_t v)`: OK / CLOSED / WOULD_BLOCK.
pub const CHANNEL_TRY_SEND: RuntimeFn = rt("blood_channel_try_send", &[I64, I64], Some(I32));
/// `int32_t blood_channel_try_recv(uint64_t ch, uint64_t *out)`: OK / CLOSED / WOULD_BLOCK.
pub const CHANNEL_TRY_RECV: RuntimeFn = rt("blood_channel_try_recv", &[I64, Ptr], Some(I32));
/// `void blood_channel_close(uint64_t ch)`.
pub const CHANNEL_CLOSE: RuntimeFn = rt("blood_channel_close", &[I64], None);
/// `void blood_channel_release(uint64_t ch)`.
pub const CHANNEL_RELEASE: RuntimeFn = rt("blood_channel_release", &[I64], None);
/// `void blood_channel_retain(uint64_t ch)`: one more handle on the channel (each is released
/// once).
pub const CHANNEL_RETAIN: RuntimeFn = rt("blood_channel_retain", &[I64], None);
/// `int64_t blood_channel_select(const uint64_t *chs, int64_t n, int64_t timeout_ns, uint64_t
/// *out_value, int32_t *out_status)`: arm index (status OK or CLOSED), -1 default/timeout
/// (timeout_ns 0 = default arm, < 0 = no timeout), -2 cancelled.
pub const CHANNEL_SELECT: RuntimeFn = rt("blood_channel_select", &[Ptr, I64, I64, Ptr, Ptr], Some(I64));
/// `uint64_t blood_nursery_begin(void)`: opens a nursery (`with Nursery {} handle { body }`) and
/// makes it the caller's innermost open nursery. Each fiber (and each thread outside fibers) has
/// its own stack of open nurseries; while one is open, every FIBER_SPAWN / FIBER_SPAWN_WITH /
/// FIBER_SPAWN_PAIR / FIBER_SPAWN_ENV / FIBER_SPAWN_CONFIG made by *that* fiber (including in
/// functions it calls) spawns into the innermost one: the new fiber is cancelled with the
/// nursery, joined by NURSERY_END, and still joinable by id. Fibers spawned by those fibers go to their own spawner's nursery stack
/// (initially empty). Nested nurseries: the inner one is cancelled with the outer.
pub const NURSERY_BEGIN: RuntimeFn = rt("blood_nursery_begin", &[], Some(I64));
/// `uint64_t blood_nursery_spawn(uint64_t nursery, uint64_t (*f)(uint64_t), uint64_t arg)`:
/// spawns into that nursery explicitly (innermost or not) → fiber id.
pub const NURSERY_SPAWN: RuntimeFn = rt("blood_nursery_spawn", &[I64, Ptr, I64], Some(I64));
/// `void blood_nursery_cancel(uint64_t nursery)`: cancels the nursery's fibers (it stays open).
pub const NURSERY_CANCEL: RuntimeFn = rt("blood_nursery_cancel", &[I64], None);
/// `void blood_nursery_end(uint64_t nursery)`: joins the nursery's fibers (not a cancellation
/// point), pops and frees it. It must be the caller's innermost open nursery (otherwise: internal
/// error, abort). The body completed normally.
pub const NURSERY_END: RuntimeFn = rt("blood_nursery_end", &[I64], None);
/// `void blood_nursery_abort(uint64_t nursery)`: NURSERY_CANCEL then NURSERY_END, for a body
/// left early (`return`, an abort). A fiber that ends through FIBER_EXIT_CANCELLED inside open
/// nurseries need not call it: they are aborted as the fiber ends.
pub const NURSERY_ABORT: RuntimeFn = rt("blood_nursery_abort", &[I64], None);
/// `uint64_t blood_thread_spawn(uint64_t (*f)(uint64_t), uint64_t arg)`.
pub const THREAD_SPAWN: RuntimeFn = rt("blood_thread_spawn", &[Ptr, I64], Some(I64));
/// `uint64_t blood_thread_join(uint64_t handle)`.
pub const THREAD_JOIN: RuntimeFn = rt("blood_thread_join", &[I64], Some(I64));
/// `void blood_safepoint_request(void)`: the current worker yields at its next safepoint.
pub const SAFEPOINT_REQUEST: RuntimeFn = rt("blood_safepoint_request", &[], None);
/// `void blood_safepoint_clear(void)`.
pub const SAFEPOINT_CLEAR: RuntimeFn = rt("blood_safepoint_clear", &[], None);
/// `int32_t blood_io_reactor_init(void)`: -1: this runtime has no I/O reactor yet.
pub const IO_REACTOR_INIT: RuntimeFn = rt("blood_io_reactor_init", &[], Some(I32));
/// `uint64_t blood_runtime_stats(uint64_t *out, uint64_t size)`: copies the counters named in
/// [`RUNTIME_STATS_FIELDS`] (u64 each, in order); returns bytes written.
pub const RUNTIME_STATS: RuntimeFn = rt("blood_runtime_stats", &[Ptr, I64], Some(I64));
/// `noreturn void blood_stack_overflow(void)`: target of a failed stack-limit check; prints
/// "fiber stack overflow", exits EXIT_STACK_OVERFLOW.
pub const STACK_OVERFLOW: RuntimeFn = rt_noreturn("blood_stack_overflow", &[]);

/// The fiber/channel entry points `blood-runtime` exports besides [`RUNTIME_EXPORTS`] (checked by
/// the runtime's ABI test).
pub const FIBER_EXPORTS: &[RuntimeFn] = &[
    SCHEDULER_INIT,
    SCHEDULER_SHUTDOWN,
    RUNTIME_RUN_MAIN,
    FIBER_SPAWN,
    FIBER_SPAWN_WITH,
    FIBER_SPAWN_PAIR,
    FIBER_SPAWN_ENV,
    FIBER_SPAWN_CONFIG,
    FIBER_AWAIT,
    FIBER_JOIN,
    FIBER_TRY_JOIN,
    FIBER_CURRENT,
    FIBER_YIELD,
    FIBER_SLEEP,
    FIBER_IS_FINISHED,
    FIBER_CANCEL,
    FIBER_IS_CANCELLED,
    FIBER_CHECK_CANCELLED,
    FIBER_EXIT_CANCELLED,
    FIBER_PARK,
    FIBER_UNPARK,
    CHANNEL_CREATE,
    CHANNEL_SEND,
    CHANNEL_RECV,
    CHANNEL_TRY_SEND,
    CHANNEL_TRY_RECV,
    CHANNEL_CLOSE,
    CHANNEL_RELEASE,
    CHANNEL_RETAIN,
    CHANNEL_SELECT,
    NURSERY_BEGIN,
    NURSERY_SPAWN,
    NURSERY_CANCEL,
    NURSERY_END,
    NURSERY_ABORT,
    THREAD_SPAWN,
    THREAD_JOIN,
    SAFEPOINT_REQUEST,
    SAFEPOINT_CLEAR,
    IO_REACTOR_INIT,
    RUNTIME_STATS,
    STACK_OVERFLOW,
];

/// Names of the u64 counters `blood_runtime_stats` writes, in order.
pub const RUNTIME_STATS_FIELDS: &[&str] = &[
    "spawned",
    "completed",
    "cancelled",
    "failed",
    "active",
    "context_switches",
    "steal_attempts",
    "steals",
    "worker_parks",
    "preemptions",
    "global_queue_depth",
    "local_queue_depth",
    "workers",
    "timers",
];

// ---------------------------------------------------------------------------------------------
// Fiber stack limit (for compiled stack-limit checks) and preemption layout.

/// A `uint64_t` global: `slot_size - 1`, where fiber stacks live in slots of `slot_size` bytes (a
/// power of two) aligned to their size. 0 until the runtime has started. On a fiber stack, the
/// fiber's lowest permitted stack address (its *limit*) is the `uint64_t` at
/// `(rsp | blood_stack_slot_mask) + 1 + STACK_LIMIT_OFFSET_FROM_SLOT_END`. A prologue check is
/// `if rsp - frame_size < limit { call blood_stack_overflow }`. Only valid on fiber stacks (code
/// run by `blood_runtime_run_main` or spawned fibers), not on the process's main thread stack.
pub const STACK_SLOT_MASK_SYMBOL: &str = "blood_stack_slot_mask";
/// Offset of the limit word from the end of the stack slot.
pub const STACK_LIMIT_OFFSET_FROM_SLOT_END: i64 = -64;
/// Bytes below the limit kept free for runtime calls made from a frame that passed its check
/// (the limit already includes this margin: compiled code need not add it).
pub const STACK_RED_ZONE: u64 = 32 * 1024;
/// The preemption word's ABI (restated for codegen): a `uint32_t` at `blood_preempt_flag`, read
/// with a plain (relaxed) load; non-zero means "call `blood_safepoint_slow`". Never written by
/// generated code.
pub const PREEMPT_FLAG_ALIGN: u32 = 4;

// ---------------------------------------------------------------------------------------------
// The minimal runtime (`--runtime=minimal`, concurrency spec §11.7).

/// Entry points the full runtime exports and the minimal one does not, each with the feature it
/// belongs to (named in the compiler's diagnostic when a program calls one). The minimal archive
/// exports [`RUNTIME_EXPORTS`] and [`FIBER_EXPORTS`] minus these (see [`in_minimal_runtime`]).
pub const MINIMAL_EXCLUDED: &[(RuntimeFn, &str)] = &[
    (THREAD_SPAWN, "OS threads (`thread_spawn`)"),
    (THREAD_JOIN, "OS threads (`thread_join`)"),
    (IO_REACTOR_INIT, "the I/O reactor (`blood_io_reactor_init`)"),
    (RUNTIME_STATS, "runtime metrics (`blood_runtime_stats`)"),
];

/// The most workers the minimal runtime runs: `blood_scheduler_init(n)` with a constant `n`
/// above this is rejected at build time ("more than one worker thread"); a run-time value is
/// clamped to it.
pub const MINIMAL_MAX_WORKERS: u64 = 1;

/// The feature a call of runtime entry point `name` needs that the minimal runtime lacks, if any.
pub fn minimal_missing_feature(name: &str) -> Option<&'static str> {
    MINIMAL_EXCLUDED.iter().find(|(f, _)| f.name == name).map(|(_, feature)| *feature)
}

/// Whether the minimal runtime exports `f` (every runtime entry point but [`MINIMAL_EXCLUDED`];
/// libc functions are not the runtime's).
pub fn in_minimal_runtime(f: &RuntimeFn) -> bool {
    f.provider == Provider::Runtime && minimal_missing_feature(f.name).is_none()
}
