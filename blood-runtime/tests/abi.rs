//! The runtime exports exactly the symbols of `blood_abi::RUNTIME_EXPORTS`, with those
//! signatures.
//!
//! Two checks: (1) every symbol is referenced here through an `extern "C"` declaration of the
//! declared C type, and that table's `AbiType` descriptors must equal `RUNTIME_EXPORTS` (so a
//! signature change on either side breaks the build or this test); (2) the built static archive's
//! symbol table (`nm`) defines each name as a global text symbol, and `blood_preempt_flag` as data.

use blood_abi::{AbiType, AbiType::*, RUNTIME_EXPORTS};

/// The C layout of a string result (`blood_abi::AbiType::Str`).
#[repr(C)]
struct StrResult {
    ptr: *const u8,
    len: i64,
}
use std::process::Command;

#[allow(dead_code)]
unsafe extern "C" {
    fn blood_runtime_init(argc: i32, argv: *const *const u8);
    fn blood_runtime_shutdown() -> i32;
    fn blood_print_str(stream: i32, ptr: *const u8, len: i64);
    fn blood_print_i64(stream: i32, v: i64);
    fn blood_print_u64(stream: i32, v: u64);
    fn blood_print_i128(stream: i32, v: i128);
    fn blood_print_u128(stream: i32, v: u128);
    fn blood_print_f64(stream: i32, v: f64);
    fn blood_print_f32(stream: i32, v: f32);
    fn blood_print_f64_prec(stream: i32, v: f64, decimals: i32);
    fn blood_print_f32_prec(stream: i32, v: f32, decimals: i32);
    fn blood_print_bool(stream: i32, v: i8);
    fn blood_print_char(stream: i32, c: u32);
    fn blood_panic(msg: *const u8, len: i64) -> !;
    fn blood_panic_bounds(index: i64, len: i64) -> !;
    fn blood_exit(status: i32) -> !;
    fn blood_safepoint_slow();
    fn blood_str_eq(a: *const u8, a_len: i64, b: *const u8, b_len: i64) -> i8;
    fn blood_str_starts_with(a: *const u8, a_len: i64, b: *const u8, b_len: i64) -> i8;
    fn blood_str_ends_with(a: *const u8, a_len: i64, b: *const u8, b_len: i64) -> i8;
    fn blood_str_contains(a: *const u8, a_len: i64, b: *const u8, b_len: i64) -> i8;
    fn blood_str_len(a: *const u8, a_len: i64) -> i64;
    fn blood_str_concat(a: *const u8, a_len: i64, b: *const u8, b_len: i64) -> StrResult;
    fn blood_i64_to_string(v: i64) -> StrResult;
    fn blood_u64_to_string(v: u64) -> StrResult;
    fn blood_i128_to_string(v: i128) -> StrResult;
    fn blood_u128_to_string(v: u128) -> StrResult;
    fn blood_f64_to_string(v: f64) -> StrResult;
    fn blood_f32_to_string(v: f32) -> StrResult;
    fn blood_bool_to_string(v: i8) -> StrResult;
    fn blood_char_to_string(c: u32) -> StrResult;
    fn blood_parse_f64(s: *const u8, len: i64) -> f64;
    fn blood_parse_i64_radix(s: *const u8, len: i64, radix: u32) -> i64;
    fn blood_args_count() -> i32;
    fn blood_args_get(i: i32) -> StrResult;
    fn blood_args_join() -> StrResult;
    fn blood_clock_millis() -> u64;
    fn blood_clock_nanos() -> u64;
    fn blood_alloc(size: i64, align: i64) -> *mut u8;
    fn blood_realloc(ptr: *mut u8, old: i64, align: i64, new: i64) -> *mut u8;
    fn blood_free(ptr: *mut u8, size: i64, align: i64);
    fn blood_vec_reserve(v: *mut u8, additional: i64, elem_size: i64, align: i64);
    fn blood_vec_clone(dst: *mut u8, src: *const u8, elem_size: i64, align: i64);
    fn blood_string_push_str(s: *mut u8, ptr: *const u8, len: i64);
    fn blood_string_push_char(s: *mut u8, c: u32);
    static blood_preempt_flag: std::sync::atomic::AtomicU32;
    static blood_stack_slot_mask: std::sync::atomic::AtomicU64;

    fn blood_scheduler_init(workers: u64) -> i32;
    fn blood_scheduler_shutdown();
    fn blood_runtime_run_main(main: extern "C" fn() -> i32) -> i32;
    fn blood_fiber_spawn(f: extern "C" fn() -> u64) -> u64;
    fn blood_fiber_spawn_with(f: extern "C" fn(u64) -> u64, arg: u64) -> u64;
    fn blood_fiber_spawn_pair(f: extern "C" fn(u64, u64) -> u64, a: u64, b: u64) -> u64;
    fn blood_fiber_spawn_env(f: extern "C" fn(u64, u64, u64) -> u64, a: u64, b: u64, c: u64) -> u64;
    fn blood_fiber_spawn_config(
        f: extern "C" fn(u64) -> u64,
        arg: u64,
        stack: u64,
        prio: i32,
        name: *const u8,
        len: i64,
    ) -> u64;
    fn blood_fiber_await(id: u64) -> u64;
    fn blood_fiber_join(id: u64) -> u64;
    fn blood_fiber_try_join(id: u64, out: *mut u64) -> i32;
    fn blood_fiber_current() -> u64;
    fn blood_fiber_yield();
    fn blood_fiber_sleep(ns: u64) -> i32;
    fn blood_fiber_is_finished(id: u64) -> i8;
    fn blood_fiber_cancel(id: u64);
    fn blood_fiber_is_cancelled() -> i8;
    fn blood_fiber_check_cancelled() -> i32;
    fn blood_fiber_exit_cancelled() -> !;
    fn blood_fiber_park();
    fn blood_fiber_unpark(id: u64);
    fn blood_channel_create(cap: i64) -> u64;
    fn blood_channel_send(ch: u64, v: u64) -> i32;
    fn blood_channel_recv(ch: u64, out: *mut u64) -> i32;
    fn blood_channel_try_send(ch: u64, v: u64) -> i32;
    fn blood_channel_try_recv(ch: u64, out: *mut u64) -> i32;
    fn blood_channel_close(ch: u64);
    fn blood_channel_release(ch: u64);
    fn blood_channel_retain(ch: u64);
    fn blood_channel_select(chs: *const u64, n: i64, timeout_ns: i64, out: *mut u64, status: *mut i32) -> i64;
    fn blood_nursery_begin() -> u64;
    fn blood_nursery_spawn(n: u64, f: extern "C" fn(u64) -> u64, arg: u64) -> u64;
    fn blood_nursery_cancel(n: u64);
    fn blood_nursery_end(n: u64);
    fn blood_nursery_abort(n: u64);
    fn blood_thread_spawn(f: extern "C" fn(u64) -> u64, arg: u64) -> u64;
    fn blood_thread_join(h: u64) -> u64;
    fn blood_safepoint_request();
    fn blood_safepoint_clear();
    fn blood_io_reactor_init() -> i32;
    fn blood_runtime_stats(out: *mut u8, size: u64) -> u64;
    fn blood_stack_overflow() -> !;
}

// Keep the rlib linked in so the declarations above resolve against it.
use blood_runtime as _;

/// (name, address, params, ret) for every export, built from the typed declarations above.
fn declared() -> Vec<(&'static str, usize, &'static [AbiType], Option<AbiType>)> {
    macro_rules! entry {
        ($name:ident : fn($($p:ty),*) $(-> $r:ty)?, [$($a:expr),*], $ret:expr) => {{
            let f: unsafe extern "C" fn($($p),*) $(-> $r)? = $name;
            (stringify!($name), f as usize, &[$($a),*] as &'static [AbiType], $ret)
        }};
    }
    vec![
        entry!(blood_runtime_init: fn(i32, *const *const u8), [I32, Ptr], None),
        entry!(blood_runtime_shutdown: fn() -> i32, [], Some(I32)),
        entry!(blood_print_str: fn(i32, *const u8, i64), [I32, Ptr, I64], None),
        entry!(blood_print_i64: fn(i32, i64), [I32, I64], None),
        entry!(blood_print_u64: fn(i32, u64), [I32, I64], None),
        entry!(blood_print_i128: fn(i32, i128), [I32, I128], None),
        entry!(blood_print_u128: fn(i32, u128), [I32, I128], None),
        entry!(blood_print_f64: fn(i32, f64), [I32, F64], None),
        entry!(blood_print_f32: fn(i32, f32), [I32, F32], None),
        entry!(blood_print_f64_prec: fn(i32, f64, i32), [I32, F64, I32], None),
        entry!(blood_print_f32_prec: fn(i32, f32, i32), [I32, F32, I32], None),
        entry!(blood_print_bool: fn(i32, i8), [I32, I8], None),
        entry!(blood_print_char: fn(i32, u32), [I32, I32], None),
        entry!(blood_panic: fn(*const u8, i64) -> !, [Ptr, I64], None),
        entry!(blood_panic_bounds: fn(i64, i64) -> !, [I64, I64], None),
        entry!(blood_exit: fn(i32) -> !, [I32], None),
        entry!(blood_safepoint_slow: fn(), [], None),
        entry!(blood_str_eq: fn(*const u8, i64, *const u8, i64) -> i8, [Ptr, I64, Ptr, I64], Some(I8)),
        entry!(blood_str_starts_with: fn(*const u8, i64, *const u8, i64) -> i8, [Ptr, I64, Ptr, I64], Some(I8)),
        entry!(blood_str_ends_with: fn(*const u8, i64, *const u8, i64) -> i8, [Ptr, I64, Ptr, I64], Some(I8)),
        entry!(blood_str_contains: fn(*const u8, i64, *const u8, i64) -> i8, [Ptr, I64, Ptr, I64], Some(I8)),
        entry!(blood_str_len: fn(*const u8, i64) -> i64, [Ptr, I64], Some(I64)),
        entry!(blood_str_concat: fn(*const u8, i64, *const u8, i64) -> StrResult, [Ptr, I64, Ptr, I64], Some(Str)),
        entry!(blood_i64_to_string: fn(i64) -> StrResult, [I64], Some(Str)),
        entry!(blood_u64_to_string: fn(u64) -> StrResult, [I64], Some(Str)),
        entry!(blood_i128_to_string: fn(i128) -> StrResult, [I128], Some(Str)),
        entry!(blood_u128_to_string: fn(u128) -> StrResult, [I128], Some(Str)),
        entry!(blood_f64_to_string: fn(f64) -> StrResult, [F64], Some(Str)),
        entry!(blood_f32_to_string: fn(f32) -> StrResult, [F32], Some(Str)),
        entry!(blood_bool_to_string: fn(i8) -> StrResult, [I8], Some(Str)),
        entry!(blood_char_to_string: fn(u32) -> StrResult, [I32], Some(Str)),
        entry!(blood_parse_f64: fn(*const u8, i64) -> f64, [Ptr, I64], Some(F64)),
        entry!(blood_parse_i64_radix: fn(*const u8, i64, u32) -> i64, [Ptr, I64, I32], Some(I64)),
        entry!(blood_args_count: fn() -> i32, [], Some(I32)),
        entry!(blood_args_get: fn(i32) -> StrResult, [I32], Some(Str)),
        entry!(blood_args_join: fn() -> StrResult, [], Some(Str)),
        entry!(blood_clock_millis: fn() -> u64, [], Some(I64)),
        entry!(blood_clock_nanos: fn() -> u64, [], Some(I64)),
        entry!(blood_alloc: fn(i64, i64) -> *mut u8, [I64, I64], Some(Ptr)),
        entry!(blood_realloc: fn(*mut u8, i64, i64, i64) -> *mut u8, [Ptr, I64, I64, I64], Some(Ptr)),
        entry!(blood_free: fn(*mut u8, i64, i64), [Ptr, I64, I64], None),
        entry!(blood_vec_reserve: fn(*mut u8, i64, i64, i64), [Ptr, I64, I64, I64], None),
        entry!(blood_vec_clone: fn(*mut u8, *const u8, i64, i64), [Ptr, Ptr, I64, I64], None),
        entry!(blood_string_push_str: fn(*mut u8, *const u8, i64), [Ptr, Ptr, I64], None),
        entry!(blood_string_push_char: fn(*mut u8, u32), [Ptr, I32], None),
    ]
}

#[test]
fn declared_signatures_match_runtime_exports() {
    let declared = declared();
    assert_eq!(declared.len(), RUNTIME_EXPORTS.len(), "export count differs from blood-abi");
    for export in RUNTIME_EXPORTS {
        let (_, addr, params, ret) = declared
            .iter()
            .find(|(name, ..)| *name == export.name)
            .unwrap_or_else(|| panic!("{} is in RUNTIME_EXPORTS but not declared by the runtime test", export.name));
        assert_ne!(*addr, 0);
        assert_eq!(*params, export.params, "parameters of {}", export.name);
        assert_eq!(*ret, export.ret, "return type of {}", export.name);
    }
}

type F0 = extern "C" fn() -> u64;
type F1 = extern "C" fn(u64) -> u64;
type F2 = extern "C" fn(u64, u64) -> u64;
type F3 = extern "C" fn(u64, u64, u64) -> u64;
type M = extern "C" fn() -> i32;

/// The fiber part of the ABI (`blood_abi::FIBER_EXPORTS`), declared with its C types.
fn declared_fiber() -> Vec<(&'static str, usize, &'static [AbiType], Option<AbiType>)> {
    macro_rules! entry {
        ($name:ident : fn($($p:ty),*) $(-> $r:ty)?, [$($a:expr),*], $ret:expr) => {{
            let f: unsafe extern "C" fn($($p),*) $(-> $r)? = $name;
            (stringify!($name), f as usize, &[$($a),*] as &'static [AbiType], $ret)
        }};
    }
    vec![
        entry!(blood_scheduler_init: fn(u64) -> i32, [I64], Some(I32)),
        entry!(blood_scheduler_shutdown: fn(), [], None),
        entry!(blood_runtime_run_main: fn(M) -> i32, [Ptr], Some(I32)),
        entry!(blood_fiber_spawn: fn(F0) -> u64, [Ptr], Some(I64)),
        entry!(blood_fiber_spawn_with: fn(F1, u64) -> u64, [Ptr, I64], Some(I64)),
        entry!(blood_fiber_spawn_pair: fn(F2, u64, u64) -> u64, [Ptr, Ptr, Ptr], Some(I64)),
        entry!(blood_fiber_spawn_env: fn(F3, u64, u64, u64) -> u64, [Ptr, I64, I64, I64], Some(I64)),
        entry!(blood_fiber_spawn_config: fn(F1, u64, u64, i32, *const u8, i64) -> u64, [Ptr, I64, I64, I32, Ptr, I64], Some(I64)),
        entry!(blood_fiber_await: fn(u64) -> u64, [I64], Some(I64)),
        entry!(blood_fiber_join: fn(u64) -> u64, [I64], Some(I64)),
        entry!(blood_fiber_try_join: fn(u64, *mut u64) -> i32, [I64, Ptr], Some(I32)),
        entry!(blood_fiber_current: fn() -> u64, [], Some(I64)),
        entry!(blood_fiber_yield: fn(), [], None),
        entry!(blood_fiber_sleep: fn(u64) -> i32, [I64], Some(I32)),
        entry!(blood_fiber_is_finished: fn(u64) -> i8, [I64], Some(I8)),
        entry!(blood_fiber_cancel: fn(u64), [I64], None),
        entry!(blood_fiber_is_cancelled: fn() -> i8, [], Some(I8)),
        entry!(blood_fiber_check_cancelled: fn() -> i32, [], Some(I32)),
        entry!(blood_fiber_exit_cancelled: fn() -> !, [], None),
        entry!(blood_fiber_park: fn(), [], None),
        entry!(blood_fiber_unpark: fn(u64), [I64], None),
        entry!(blood_channel_create: fn(i64) -> u64, [I64], Some(I64)),
        entry!(blood_channel_send: fn(u64, u64) -> i32, [I64, I64], Some(I32)),
        entry!(blood_channel_recv: fn(u64, *mut u64) -> i32, [I64, Ptr], Some(I32)),
        entry!(blood_channel_try_send: fn(u64, u64) -> i32, [I64, I64], Some(I32)),
        entry!(blood_channel_try_recv: fn(u64, *mut u64) -> i32, [I64, Ptr], Some(I32)),
        entry!(blood_channel_close: fn(u64), [I64], None),
        entry!(blood_channel_release: fn(u64), [I64], None),
        entry!(blood_channel_retain: fn(u64), [I64], None),
        entry!(blood_channel_select: fn(*const u64, i64, i64, *mut u64, *mut i32) -> i64, [Ptr, I64, I64, Ptr, Ptr], Some(I64)),
        entry!(blood_nursery_begin: fn() -> u64, [], Some(I64)),
        entry!(blood_nursery_spawn: fn(u64, F1, u64) -> u64, [I64, Ptr, I64], Some(I64)),
        entry!(blood_nursery_cancel: fn(u64), [I64], None),
        entry!(blood_nursery_end: fn(u64), [I64], None),
        entry!(blood_nursery_abort: fn(u64), [I64], None),
        entry!(blood_thread_spawn: fn(F1, u64) -> u64, [Ptr, I64], Some(I64)),
        entry!(blood_thread_join: fn(u64) -> u64, [I64], Some(I64)),
        entry!(blood_safepoint_request: fn(), [], None),
        entry!(blood_safepoint_clear: fn(), [], None),
        entry!(blood_io_reactor_init: fn() -> i32, [], Some(I32)),
        entry!(blood_runtime_stats: fn(*mut u8, u64) -> u64, [Ptr, I64], Some(I64)),
        entry!(blood_stack_overflow: fn() -> !, [], None),
    ]
}

#[test]
fn fiber_signatures_match_fiber_exports() {
    let declared = declared_fiber();
    assert_eq!(declared.len(), blood_abi::FIBER_EXPORTS.len());
    for export in blood_abi::FIBER_EXPORTS {
        let (_, addr, params, ret) = declared
            .iter()
            .find(|(name, ..)| *name == export.name)
            .unwrap_or_else(|| panic!("{} is in FIBER_EXPORTS but not declared by the runtime test", export.name));
        assert_ne!(*addr, 0);
        assert_eq!(*params, export.params, "parameters of {}", export.name);
        assert_eq!(*ret, export.ret, "return type of {}", export.name);
    }
}

#[test]
fn noreturn_entries_are_marked() {
    let noreturn: Vec<&str> =
        RUNTIME_EXPORTS.iter().chain(blood_abi::FIBER_EXPORTS).filter(|f| f.noreturn).map(|f| f.name).collect();
    assert_eq!(
        noreturn,
        ["blood_panic", "blood_panic_bounds", "blood_exit", "blood_fiber_exit_cancelled", "blood_stack_overflow"]
    );
}

#[test]
fn stats_layout_matches_abi() {
    assert_eq!(std::mem::size_of::<blood_runtime::Snapshot>(), 8 * blood_abi::RUNTIME_STATS_FIELDS.len());
    // SAFETY: reading an atomic static.
    let _ = unsafe { &blood_stack_slot_mask }.load(std::sync::atomic::Ordering::Relaxed);
}

#[test]
fn preempt_flag_is_a_word_of_the_published_size() {
    // SAFETY: reading the address of an extern static is safe; the load is atomic.
    let flag = unsafe { &blood_preempt_flag };
    assert_eq!(std::mem::size_of_val(flag) as u32, blood_abi::PREEMPT_FLAG_SIZE);
    let _ = flag.load(std::sync::atomic::Ordering::Relaxed);
}

/// Builds the static archive from the current sources into a target directory of its own (a
/// nested cargo must not wait for the outer build's lock), like bloodc's build script does.
fn archive_path() -> std::path::PathBuf {
    let target = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("abi-archive");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["build", "-p", "blood-runtime", "--lib", "--target-dir"])
        .arg(&target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .status()
        .expect("run cargo build for the archive");
    assert!(status.success(), "building the runtime archive failed");
    target.join("debug").join(blood_abi::RUNTIME_ARCHIVE_FULL)
}

#[test]
fn static_archive_defines_every_export() {
    let archive = archive_path();
    assert!(archive.exists(), "{} was not built", archive.display());
    let out = Command::new("nm").args(["--defined-only", "-g", "-P"]).arg(&archive).output().expect("run nm");
    assert!(out.status.success(), "nm failed: {}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8_lossy(&out.stdout);
    let kind_of = |name: &str| -> Option<char> {
        table.lines().find_map(|line| {
            let mut parts = line.split_whitespace();
            (parts.next()? == name).then(|| parts.next().and_then(|k| k.chars().next())).flatten()
        })
    };
    for export in RUNTIME_EXPORTS.iter().chain(blood_abi::FIBER_EXPORTS) {
        assert_eq!(kind_of(export.name), Some('T'), "{} must be a global function in the archive", export.name);
    }
    assert!(matches!(kind_of(blood_abi::STACK_SLOT_MASK_SYMBOL), Some('D' | 'B')));
    // Every exported `blood_` function is declared in blood-abi.
    for line in table.lines() {
        let mut parts = line.split_whitespace();
        let (Some(name), Some("T")) = (parts.next(), parts.next()) else { continue };
        if name.starts_with("blood_") {
            assert!(
                RUNTIME_EXPORTS.iter().chain(blood_abi::FIBER_EXPORTS).any(|e| e.name == name),
                "{name} is exported but not declared in blood-abi"
            );
        }
    }
    let flag = kind_of(blood_abi::PREEMPT_FLAG_SYMBOL).expect("blood_preempt_flag is defined");
    assert!(matches!(flag, 'D' | 'B'), "blood_preempt_flag must be global data, got {flag}");
    // Every exported `blood_` function of the archive that the compiler calls is listed; extra
    // runtime API functions (fiber, channel, …) must carry the `blood_` prefix too.
    for line in table.lines() {
        let mut parts = line.split_whitespace();
        let (Some(name), Some("T")) = (parts.next(), parts.next()) else { continue };
        if name.starts_with("blood_") {
            continue;
        }
        assert!(!name.starts_with("blood"), "unexpected symbol {name}");
    }
}

/// i128 arguments follow SysV x86_64: the value occupies the next two integer registers (low half
/// first), with no register-pair alignment, which is what Cranelift emits for an `i128` parameter.
/// We call a function of the same Rust type through raw registers to prove Rust agrees.
#[cfg(target_arch = "x86_64")]
#[test]
fn i128_is_passed_in_two_gprs() {
    static SEEN: std::sync::Mutex<Option<(i32, i128)>> = std::sync::Mutex::new(None);
    extern "C" fn probe(stream: i32, v: i128) {
        *SEEN.lock().unwrap() = Some((stream, v));
    }
    let f: extern "C" fn(i32, i128) = probe;
    let value: i128 = -(1i128 << 100) + 12345;
    let lo = value as u64;
    let hi = (value >> 64) as u64;
    // SAFETY: calls `probe` per SysV: edi = stream, rsi = low half, rdx = high half; every
    // caller-saved register is declared clobbered, and the stack is 16-byte aligned at the call
    // because Rust keeps it so at inline-asm boundaries.
    unsafe {
        std::arch::asm!(
            "call {f}",
            f = in(reg) f,
            in("edi") 7i32,
            in("rsi") lo,
            in("rdx") hi,
            clobber_abi("C"),
        );
    }
    assert_eq!(*SEEN.lock().unwrap(), Some((7, value)));
}
