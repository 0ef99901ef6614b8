//! Stack overflow is reported, never silent: on a guarded stack by the SIGSEGV handler, on any
//! stack by the compiled-code limit check (simulated here exactly as codegen would emit it). Each
//! case runs in a child process.

mod common;
use blood_runtime::*;
use std::sync::atomic::Ordering;

#[inline(never)]
fn runaway(depth: u64) -> u64 {
    let frame = std::hint::black_box([depth; 64]);
    if frame[0] == u64::MAX {
        return 0;
    }
    runaway(depth + 1) + frame[3]
}

unsafe extern "C" {
    static blood_stack_slot_mask: std::sync::atomic::AtomicU64;
    fn blood_stack_overflow() -> !;
}

fn rsp() -> usize {
    let sp: usize;
    // SAFETY: reads the stack pointer only.
    unsafe { std::arch::asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags)) };
    sp
}

/// What a compiled prologue does: `if rsp - frame < *(slot_end - 64) { blood_stack_overflow() }`.
#[inline(never)]
fn checked(depth: u64) -> u64 {
    // SAFETY: reading an atomic static.
    let mask = unsafe { &blood_stack_slot_mask }.load(Ordering::Acquire) as usize;
    assert_ne!(mask, 0, "the runtime publishes the slot mask");
    let sp = rsp();
    let slot_end = (sp | mask) + 1;
    let limit_addr = (slot_end as i64 + blood_abi::STACK_LIMIT_OFFSET_FROM_SLOT_END) as usize;
    // SAFETY: on a fiber stack the limit word is inside the current slot's metadata.
    let limit = unsafe { *(limit_addr as *const usize) };
    assert!(limit < sp && limit > slot_end - mask - 1, "limit {limit:#x} outside the slot of {sp:#x}");
    if sp - 1024 < limit {
        // SAFETY: plain call of the runtime's noreturn entry.
        unsafe { blood_stack_overflow() }
    }
    let frame = std::hint::black_box([depth; 64]);
    if frame[0] == u64::MAX {
        return 0;
    }
    checked(depth + 1) + frame[3]
}

#[test]
fn child_entry() {
    let Ok(which) = std::env::var("BLOOD_STACK_CHILD") else { return };
    let rt = Runtime::from_env().unwrap();
    blood_runtime::output::write_bytes(blood_runtime::output::Stream::Stdout, b"started ");
    let h = match which.as_str() {
        "guarded" => rt.spawn(|| runaway(0)),
        "checked" => rt.spawn(|| checked(0)),
        other => panic!("{other}"),
    };
    let _ = h.join();
    unreachable!("the overflow must end the process");
}

#[test]
fn overflow_on_a_guarded_stack_is_reported() {
    let (out, err, code) =
        common::run_child("child_entry", &[("BLOOD_STACK_CHILD", "guarded"), ("BLOOD_NUM_WORKERS", "1")]);
    assert!(err.contains("fiber stack overflow"), "stderr: {err}");
    assert_eq!(code, Some(blood_abi::EXIT_STACK_OVERFLOW), "stdout: {out}");
    assert!(out.contains("started"), "stdout was flushed: {out}");
}

#[test]
fn overflow_on_an_unguarded_stack_is_caught_by_the_limit_check() {
    let (out, err, code) = common::run_child(
        "child_entry",
        &[("BLOOD_STACK_CHILD", "checked"), ("BLOOD_STACK_GUARDS", "0"), ("BLOOD_MAX_STACK_SIZE", "256K")],
    );
    assert!(err.contains("fiber stack overflow"), "stderr: {err}");
    assert_eq!(code, Some(blood_abi::EXIT_STACK_OVERFLOW), "stdout: {out}");
}

#[test]
fn invalid_configuration_is_rejected() {
    for (k, v) in [
        ("BLOOD_NUM_WORKERS", "0"),
        ("BLOOD_NUM_WORKERS", "many"),
        ("BLOOD_MAX_STACK_SIZE", "1K"),
        ("BLOOD_STACK_SIZE", "2M"),
        ("BLOOD_PREEMPT_INTERVAL_MS", "-1"),
    ] {
        let e = Config::from_lookup(|name| (name == k).then(|| v.to_string())).unwrap_err();
        assert!(e.0.contains(k), "{e}");
    }
    let c = Config::from_lookup(|name| match name {
        "BLOOD_NUM_WORKERS" => Some("3".into()),
        "BLOOD_MAX_STACK_SIZE" => Some("2M".into()),
        "BLOOD_PREEMPT_INTERVAL_MS" => Some("0".into()),
        _ => None,
    })
    .unwrap();
    assert_eq!((c.workers, c.max_stack_size, c.preempt_interval), (3, 2 << 20, None));
    let d = Config::default();
    assert_eq!((d.stack_size, d.max_stack_size), (8 << 10, 1 << 20), "Appendix A defaults");
}
