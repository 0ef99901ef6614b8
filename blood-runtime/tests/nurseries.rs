//! Dynamic nurseries through the C ABI (`with Nursery {} handle { body }`, LANGUAGE.md §7.2):
//! while a nursery is open, every `blood_fiber_spawn*` of the fiber (or thread) that opened it
//! goes into it — also from functions the body calls — and `blood_nursery_end` joins them.
//! Fiber tests run on a 1-worker and a 2-worker runtime.

mod common;
use blood_abi::*;
use blood_runtime::ffi_exports::*;
use common::one_and_two_workers;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Shared with the `extern "C"` bodies by address (leaked, tiny).
#[derive(Default)]
struct Ctx {
    finished: AtomicU64,
    started: AtomicU64,
}

fn new_ctx() -> &'static Ctx {
    Box::leak(Box::default())
}

/// Packs a context address and a small parameter (< 4096) into one argument.
fn pack(c: &'static Ctx, p: u64) -> u64 {
    assert!(p < 4096);
    ((c as *const Ctx as usize as u64) << 12) | p
}

fn unpack(arg: u64) -> (&'static Ctx, u64) {
    // SAFETY: every packed address is a leaked `Ctx` (aligned, so the low bits are free).
    (unsafe { &*((arg >> 12) as usize as *const Ctx) }, arg & 4095)
}

/// Sleeps `p` ms; cancelled → `blood_fiber_exit_cancelled`; returns `p`.
extern "C" fn sleeper(arg: u64) -> u64 {
    let (c, ms) = unpack(arg);
    c.started.fetch_add(1, Ordering::SeqCst);
    if blood_fiber_sleep(ms * 1_000_000) == STATUS_CANCELLED {
        blood_fiber_exit_cancelled();
    }
    c.finished.fetch_add(1, Ordering::SeqCst);
    ms
}

extern "C" fn forty_two() -> u64 {
    42
}

/// Spawns a grandchild sleeping `p` ms and returns at once (never joins it).
extern "C" fn spawns_a_sleeper(arg: u64) -> u64 {
    blood_fiber_spawn_with(sleeper, arg);
    0
}

/// A function the nursery body calls: its spawns belong to the nursery too.
#[inline(never)]
fn helper_spawns(c: &'static Ctx, n: u64) -> Vec<u64> {
    (0..n).map(|i| blood_fiber_spawn_with(sleeper, pack(c, 1 + i % 5))).collect()
}

fn finished(id: u64) -> bool {
    blood_fiber_is_finished(id) == 1
}

fn try_join(id: u64) -> (i32, u64) {
    let mut out = 0;
    // SAFETY: `out` is writable.
    let st = unsafe { blood_fiber_try_join(id, &mut out) };
    (st, out)
}

#[test]
fn spawns_in_the_body_and_in_called_functions_are_joined_at_the_end() {
    one_and_two_workers(|rt| {
        rt.block_on(|| {
            let c = new_ctx();
            let n = blood_nursery_begin();
            let mut ids = helper_spawns(c, 10);
            ids.push(blood_fiber_spawn(forty_two));
            // SAFETY: `name` is valid for its length.
            ids.push(unsafe { blood_fiber_spawn_config(sleeper, pack(c, 3), 0, 1, b"n".as_ptr(), 1) });
            // SAFETY: the innermost open nursery, ended once.
            unsafe { blood_nursery_end(n) };
            assert_eq!(c.finished.load(Ordering::SeqCst), 11, "the nursery returned before its fibers");
            assert!(ids.iter().all(|&id| finished(id)));
            // Still joinable by id afterwards.
            assert_eq!(blood_fiber_join(ids[0]), 1);
            assert_eq!(blood_fiber_join(ids[10]), 42);
            assert_eq!(try_join(ids[11]), (STATUS_OK, 3));
            // After the end, spawns are plain children again.
            let late = blood_fiber_spawn_with(sleeper, pack(c, 1));
            assert_eq!(blood_fiber_join(late), 1);
        })
        .unwrap();
    });
}

#[test]
fn nested_nurseries_join_innermost_first_and_cancel_outward_in() {
    one_and_two_workers(|rt| {
        rt.block_on(|| {
            let c = new_ctx();
            let outer = blood_nursery_begin();
            let a = blood_fiber_spawn_with(sleeper, pack(c, 200));
            let inner = blood_nursery_begin();
            let b = blood_fiber_spawn_with(sleeper, pack(c, 5));
            let b2 = blood_fiber_spawn_with(sleeper, pack(c, 1));
            // SAFETY: `inner` is the innermost open nursery.
            unsafe { blood_nursery_end(inner) };
            assert!(finished(b) && finished(b2));
            assert!(!finished(a), "the inner end joined the outer nursery's fiber");
            // Back in `outer`.
            let d = blood_fiber_spawn_with(sleeper, pack(c, 1));
            // SAFETY: `outer` is the innermost open nursery again.
            unsafe { blood_nursery_end(outer) };
            assert!(finished(a) && finished(d));

            // Cancelling the outer nursery cancels the fibers of the inner one.
            let outer = blood_nursery_begin();
            let inner = blood_nursery_begin();
            let long = blood_fiber_spawn_with(sleeper, pack(c, 4000));
            let t0 = Instant::now();
            // SAFETY: live nurseries, ended innermost first.
            unsafe {
                blood_nursery_cancel(outer);
                blood_nursery_end(inner);
                blood_nursery_end(outer);
            }
            assert!(t0.elapsed() < Duration::from_secs(2), "the inner fiber was not cancelled");
            assert_eq!(try_join(long).0, STATUS_JOINED_CANCELLED);
            // The opener itself is not cancelled by its nursery.
            assert_eq!(blood_fiber_check_cancelled(), STATUS_OK);
        })
        .unwrap();
    });
}

#[test]
fn abort_cancels_sleepers_and_waits_for_them() {
    one_and_two_workers(|rt| {
        rt.block_on(|| {
            let c = new_ctx();
            let n = blood_nursery_begin();
            let ids: Vec<u64> = (0..20).map(|_| blood_fiber_spawn_with(sleeper, pack(c, 4000))).collect();
            while c.started.load(Ordering::SeqCst) < 20 {
                blood_fiber_sleep(100_000);
            }
            let t0 = Instant::now();
            // SAFETY: the innermost open nursery, ended once.
            unsafe { blood_nursery_abort(n) };
            assert!(t0.elapsed() < Duration::from_secs(2), "abort waited for the sleeps");
            assert!(ids.iter().all(|&id| finished(id)), "abort returned before its fibers ended");
            assert!(ids.iter().all(|&id| try_join(id).0 == STATUS_JOINED_CANCELLED));
            assert_eq!(c.finished.load(Ordering::SeqCst), 0);
        })
        .unwrap();
    });
}

#[test]
fn a_nursery_fibers_own_spawns_go_to_its_own_stack_and_are_still_awaited() {
    one_and_two_workers(|rt| {
        rt.block_on(|| {
            let c = new_ctx();
            let n = blood_nursery_begin();
            // Each child spawns a grandchild and returns: the grandchild belongs to the child
            // (whose nursery stack is empty), and the child completes only after it, so the
            // nursery still waits for it.
            let kids: Vec<u64> = (0..10).map(|_| blood_fiber_spawn_with(spawns_a_sleeper, pack(c, 20))).collect();
            // SAFETY: the innermost open nursery, ended once.
            unsafe { blood_nursery_end(n) };
            assert_eq!(c.finished.load(Ordering::SeqCst), 10);
            assert!(kids.iter().all(|&k| finished(k)));
        })
        .unwrap();
    });
}

#[test]
fn nurseries_of_a_thread_outside_fibers() {
    // This test thread is not a fiber: its nursery stack is thread-local; spawns go to the
    // process-wide runtime.
    let c = new_ctx();
    let outer = blood_nursery_begin();
    let a = blood_fiber_spawn_with(sleeper, pack(c, 30));
    let inner = blood_nursery_begin();
    let ids = helper_spawns(c, 5);
    // Another thread's nursery stack is its own.
    let other = std::thread::spawn(|| {
        let c = new_ctx();
        let n = blood_nursery_begin();
        let id = blood_fiber_spawn_with(sleeper, pack(c, 1));
        // SAFETY: this thread's innermost open nursery.
        unsafe { blood_nursery_end(n) };
        finished(id)
    });
    assert!(other.join().unwrap());
    // SAFETY: innermost first.
    unsafe { blood_nursery_end(inner) };
    assert!(ids.iter().all(|&id| finished(id)));
    // SAFETY: now the innermost.
    unsafe { blood_nursery_end(outer) };
    assert!(finished(a));
    assert_eq!(c.finished.load(Ordering::SeqCst), 6);
}

#[test]
fn child_entry() {
    let Ok(which) = std::env::var("BLOOD_NURSERY_CHILD") else { return };
    match which.as_str() {
        "not-innermost" => {
            let outer = blood_nursery_begin();
            let _inner = blood_nursery_begin();
            // SAFETY: a live nursery, but not the innermost: a compiler bug the runtime reports.
            unsafe { blood_nursery_end(outer) };
        }
        "child-ends-parents" => {
            blood_runtime_run_main(root_whose_child_ends_its_nursery);
        }
        other => panic!("{other}"),
    }
    unreachable!("the child must have aborted");
}

extern "C" fn ends_a_nursery(n: u64) -> u64 {
    // SAFETY: a live nursery, but of the parent: this fiber's own stack of nurseries is empty.
    unsafe { blood_nursery_end(n) };
    0
}

extern "C" fn root_whose_child_ends_its_nursery() -> i32 {
    let n = blood_nursery_begin();
    let id = blood_fiber_spawn_with(ends_a_nursery, n);
    blood_fiber_join(id);
    0
}

#[test]
fn ending_a_nursery_that_is_not_the_innermost_is_an_internal_error() {
    let (_, err, code) = common::run_child("child_entry", &[("BLOOD_NURSERY_CHILD", "not-innermost")]);
    assert!(err.contains("internal runtime error in blood_nursery_end"), "stderr: {err}");
    assert!(err.contains("not the innermost open nursery"), "stderr: {err}");
    assert_eq!(code, None, "aborted by a signal");
    // A fiber spawned in a nursery starts with an empty stack of its own: its parent's nursery is
    // not its innermost.
    for w in ["1", "2"] {
        let (_, err, code) = common::run_child(
            "child_entry",
            &[("BLOOD_NURSERY_CHILD", "child-ends-parents"), ("BLOOD_NUM_WORKERS", w)],
        );
        assert!(err.contains("not the innermost open nursery"), "stderr: {err}");
        assert_eq!(code, None, "aborted by a signal");
    }
}
