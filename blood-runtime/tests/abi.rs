//! The runtime exports exactly the symbols of `blood_abi::RUNTIME_EXPORTS`, with those
//! signatures.
//!
//! Two checks: (1) every symbol is referenced here through an `extern "C"` declaration of the
//! declared C type, and that table's `AbiType` descriptors must equal `RUNTIME_EXPORTS` (so a
//! signature change on either side breaks the build or this test); (2) the built static archive's
//! symbol table (`nm`) defines each name as a global text symbol, and `blood_preempt_flag` as data.

use blood_abi::{AbiType, AbiType::*, RUNTIME_EXPORTS};
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
    fn blood_safepoint_slow();
    static blood_preempt_flag: std::sync::atomic::AtomicU32;
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
        entry!(blood_safepoint_slow: fn(), [], None),
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

#[test]
fn preempt_flag_is_a_word_of_the_published_size() {
    // SAFETY: reading the address of an extern static is safe; the load is atomic.
    let flag = unsafe { &blood_preempt_flag };
    assert_eq!(std::mem::size_of_val(flag) as u32, blood_abi::PREEMPT_FLAG_SIZE);
    let _ = flag.load(std::sync::atomic::Ordering::Relaxed);
}

/// The static archive next to this test's deps directory (cargo builds all crate types of the
/// library for tests).
fn archive_path() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe.parent().and_then(|d| d.parent()).expect("target/<profile>/deps/<test>");
    profile_dir.join(blood_abi::RUNTIME_ARCHIVE_FULL)
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
    for export in RUNTIME_EXPORTS {
        assert_eq!(kind_of(export.name), Some('T'), "{} must be a global function in the archive", export.name);
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
