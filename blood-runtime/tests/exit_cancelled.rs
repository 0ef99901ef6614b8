//! `blood_fiber_exit_cancelled`: a fiber whose cancellation point reported cancellation ends
//! there, as Cancelled, without unwinding — simulated exactly as generated code does it: an
//! `extern "C"` body spawned with `blood_fiber_spawn_with`, which sees status 2 from a C ABI
//! call and calls `blood_fiber_exit_cancelled`. In-process tests run on a 1-worker and a
//! 2-worker runtime; the root-fiber and no-fiber cases run in child processes.

mod common;
use blood_abi::*;
use blood_runtime::ffi_exports::*;
use common::one_and_two_workers;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Tests reading process-wide counters (stack slots, record cells) run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the simulated generated code shares with its test (passed by address as the fiber's
/// argument; leaked, it is tiny).
#[derive(Default)]
struct Ctx {
    ch: u64,
    started: AtomicU64,
    /// Incremented when a frame *above* the `exit_cancelled` call is resumed: must stay 0.
    resumed: AtomicU64,
    /// Set by the sleepers of a nursery body once they are asleep.
    asleep: AtomicU64,
}

fn ctx(arg: u64) -> &'static Ctx {
    // SAFETY: every `arg` of these bodies is the address of a leaked `Ctx`.
    unsafe { &*(arg as usize as *const Ctx) }
}

fn new_ctx(ch: u64) -> &'static Ctx {
    Box::leak(Box::new(Ctx { ch, ..Ctx::default() }))
}

fn addr(c: &'static Ctx) -> u64 {
    c as *const Ctx as usize as u64
}

/// `let v = rx.recv()` three calls deep: status 2 → `blood_fiber_exit_cancelled`.
#[inline(never)]
fn recv_deep(c: &Ctx, depth: u32) -> u64 {
    if depth > 0 {
        let v = std::hint::black_box(recv_deep(c, depth - 1));
        c.resumed.fetch_add(1, Ordering::SeqCst);
        return v;
    }
    let mut out = 0;
    // SAFETY: `c.ch` is a live channel handle; `out` is writable.
    match unsafe { blood_channel_recv(c.ch, &mut out) } {
        STATUS_OK => out,
        STATUS_CANCELLED => blood_fiber_exit_cancelled(),
        _ => u64::MAX,
    }
}

extern "C" fn recv_body(arg: u64) -> u64 {
    let c = ctx(arg);
    c.started.fetch_add(1, Ordering::SeqCst);
    recv_deep(c, 3)
}

/// `sleep(60 s)`: status 2 → `blood_fiber_exit_cancelled`.
extern "C" fn sleep_body(arg: u64) -> u64 {
    let c = ctx(arg);
    c.started.fetch_add(1, Ordering::SeqCst);
    if blood_fiber_sleep(60_000_000_000) == STATUS_CANCELLED {
        blood_fiber_exit_cancelled();
    }
    c.resumed.fetch_add(1, Ordering::SeqCst);
    7
}

/// `select!` on one receiver with no timeout: -2 → `blood_fiber_exit_cancelled`.
extern "C" fn select_body(arg: u64) -> u64 {
    let c = ctx(arg);
    c.started.fetch_add(1, Ordering::SeqCst);
    let (mut v, mut st) = (0u64, 0i32);
    // SAFETY: one live handle; writable outs.
    if unsafe { blood_channel_select(&c.ch, 1, -1, &mut v, &mut st) } == -2 {
        blood_fiber_exit_cancelled();
    }
    c.resumed.fetch_add(1, Ordering::SeqCst);
    v
}

/// `check_cancelled()` in a loop of yields.
extern "C" fn check_body(arg: u64) -> u64 {
    let c = ctx(arg);
    c.started.fetch_add(1, Ordering::SeqCst);
    loop {
        if blood_fiber_check_cancelled() == STATUS_CANCELLED {
            blood_fiber_exit_cancelled();
        }
        blood_fiber_yield();
    }
}

/// `join(h)` of the fiber whose id is in `ch`: a cancelled joiner ends inside the join.
extern "C" fn join_body(arg: u64) -> u64 {
    let c = ctx(arg);
    c.started.fetch_add(1, Ordering::SeqCst);
    let v = blood_fiber_join(c.ch);
    c.resumed.fetch_add(1, Ordering::SeqCst);
    v
}

/// Spawns a sleeping child and joins it; cancelling this fiber cancels the child too, which may
/// end first: the join must still end this fiber as cancelled, not panic.
extern "C" fn join_child_body(arg: u64) -> u64 {
    let c = ctx(arg);
    let child = blood_fiber_spawn_with(sleep_body, arg);
    let v = blood_fiber_join(child);
    c.resumed.fetch_add(1, Ordering::SeqCst);
    v
}

/// As `join_child_body` with `try_join`: a cancelled caller gets 2, even when its child ended
/// (cancelled) first.
extern "C" fn try_join_child_body(arg: u64) -> u64 {
    let c = ctx(arg);
    let child = blood_fiber_spawn_with(sleep_body, arg);
    if try_join(child).0 == STATUS_CANCELLED {
        blood_fiber_exit_cancelled();
    }
    c.resumed.fetch_add(1, Ordering::SeqCst);
    0
}

/// Waits (as a fiber) until `n` bodies have started, then a little more so they block.
fn wait_started(c: &Ctx, n: u64) {
    let t0 = Instant::now();
    while c.started.load(Ordering::SeqCst) < n {
        assert!(t0.elapsed() < Duration::from_secs(20), "bodies did not start");
        blood_fiber_yield();
        blood_fiber_sleep(100_000);
    }
    blood_fiber_sleep(1_000_000);
}

fn try_join(id: u64) -> (i32, u64) {
    let mut out = 0;
    // SAFETY: `out` is writable.
    let st = unsafe { blood_fiber_try_join(id, &mut out) };
    (st, out)
}

#[test]
fn a_cancelled_fiber_exits_at_its_cancellation_point_and_joiners_see_cancelled() {
    let _g = serial();
    one_and_two_workers(|rt| {
        let before = rt.counters().cancelled;
        rt.block_on(|| {
            let ch = blood_channel_create(0);
            let c = new_ctx(ch);
            let bodies: [extern "C" fn(u64) -> u64; 4] = [recv_body, sleep_body, select_body, check_body];
            let ids: Vec<u64> = bodies.iter().map(|&b| blood_fiber_spawn_with(b, addr(c))).collect();
            wait_started(c, 4);
            for &id in &ids {
                assert_eq!(blood_fiber_is_finished(id), 0, "blocked until cancelled");
                blood_fiber_cancel(id);
            }
            for &id in &ids {
                assert_eq!(try_join(id).0, STATUS_JOINED_CANCELLED);
            }
            assert_eq!(c.resumed.load(Ordering::SeqCst), 0, "an abandoned frame was resumed");
            // The channel has no waiter left behind: a value sent now stays for a receiver.
            // SAFETY: live handle.
            unsafe {
                assert_eq!(blood_channel_try_send(ch, 1), STATUS_WOULD_BLOCK);
                blood_channel_release(ch);
            }
            // The joiner itself is not cancelled.
            assert_eq!(blood_fiber_check_cancelled(), STATUS_OK);
        })
        .unwrap();
        let s = rt.counters();
        assert_eq!(s.cancelled - before, 4);
        assert_eq!(s.active, 0);
    });
}

#[test]
fn a_cancelled_fiber_blocked_in_join_ends_there() {
    let _g = serial();
    one_and_two_workers(|rt| {
        rt.block_on(|| {
            let sc = new_ctx(0);
            let sleeper = blood_fiber_spawn_with(sleep_body, addr(sc));
            let c = new_ctx(sleeper);
            let joiner = blood_fiber_spawn_with(join_body, addr(c));
            let parents: Vec<u64> = (0..20)
                .map(|i| {
                    blood_fiber_spawn_with(if i % 2 == 0 { join_child_body } else { try_join_child_body }, addr(c))
                })
                .collect();
            // The joiner, the sleeper and 20 children of `parents` have started.
            wait_started(c, 21);
            wait_started(sc, 1);
            blood_fiber_cancel(joiner);
            assert_eq!(try_join(joiner).0, STATUS_JOINED_CANCELLED);
            assert_eq!(blood_fiber_is_finished(sleeper), 0, "only the joiner was cancelled");
            parents.iter().for_each(|&p| blood_fiber_cancel(p));
            assert!(parents.iter().all(|&p| try_join(p).0 == STATUS_JOINED_CANCELLED));
            blood_fiber_cancel(sleeper);
            assert_eq!(try_join(sleeper).0, STATUS_JOINED_CANCELLED);
            assert_eq!(c.resumed.load(Ordering::SeqCst) + sc.resumed.load(Ordering::SeqCst), 0);
        })
        .unwrap();
    });
}

#[test]
fn ten_thousand_exit_cancelled_fibers_recycle_stacks_and_records() {
    let _g = serial();
    one_and_two_workers(|rt| {
        let slots0 = blood_runtime::stack::pool().carved().0;
        let cells0 = blood_runtime::fiber::cells_carved();
        let t0 = Instant::now();
        rt.block_on(|| {
            let ch = blood_channel_create(0);
            for batch in 0..100u64 {
                let c = new_ctx(ch);
                let ids: Vec<u64> = (0..100)
                    .map(|i| blood_fiber_spawn_with(if (i + batch) % 2 == 0 { recv_body } else { sleep_body }, addr(c)))
                    .collect();
                wait_started(c, 100);
                ids.iter().for_each(|&id| blood_fiber_cancel(id));
                for &id in &ids {
                    assert_eq!(try_join(id).0, STATUS_JOINED_CANCELLED);
                }
                assert_eq!(c.resumed.load(Ordering::SeqCst), 0);
            }
            // SAFETY: live handle, released once.
            unsafe { blood_channel_release(ch) };
        })
        .unwrap();
        let slots = blood_runtime::stack::pool().carved().0 - slots0;
        let cells = blood_runtime::fiber::cells_carved() - cells0;
        eprintln!("10,000 exit_cancelled fibers: {slots} stack slots, {cells} records carved, {:?}", t0.elapsed());
        // 100 fibers live at a time: their stacks and records are reused, not carved anew.
        assert!(slots < 1_000, "{slots} stack slots carved for 10,000 fibers: stacks are not recycled");
        assert!(cells < 2_000, "{cells} records carved for 10,000 fibers: records are not recycled");
        assert_eq!(rt.counters().active, 0);
    });
}

/// A fiber that opened a nursery and is cancelled inside it: the nursery's fibers are cancelled
/// too, and the fiber completes (its joiner returns) only after them.
extern "C" fn nursery_body(arg: u64) -> u64 {
    let c = ctx(arg);
    let n = blood_nursery_begin();
    let kids: Vec<u64> = (0..5).map(|_| blood_fiber_spawn_with(sleep_body, arg)).collect();
    // Publish the ids through the channel (rendezvous-free: unbounded).
    for k in kids {
        // SAFETY: live handle.
        unsafe { blood_channel_send(c.ch, k) };
    }
    c.asleep.store(1, Ordering::SeqCst);
    if blood_fiber_sleep(60_000_000_000) == STATUS_CANCELLED {
        blood_fiber_exit_cancelled();
    }
    // SAFETY: the innermost open nursery.
    unsafe { blood_nursery_end(n) };
    c.resumed.fetch_add(1, Ordering::SeqCst);
    0
}

#[test]
fn exit_cancelled_inside_an_open_nursery_cancels_and_waits_for_its_fibers() {
    let _g = serial();
    one_and_two_workers(|rt| {
        rt.block_on(|| {
            let ch = blood_channel_create(-1);
            let c = new_ctx(ch);
            let id = blood_fiber_spawn_with(nursery_body, addr(c));
            // 1 (the nursery body's `started` is not counted) + 5 sleepers.
            wait_started(c, 5);
            while c.asleep.load(Ordering::SeqCst) == 0 {
                blood_fiber_yield();
            }
            blood_fiber_cancel(id);
            assert_eq!(try_join(id).0, STATUS_JOINED_CANCELLED);
            let mut kids = Vec::new();
            let mut k = 0;
            // SAFETY: live handle; writable out.
            while unsafe { blood_channel_try_recv(ch, &mut k) } == STATUS_OK {
                kids.push(k);
            }
            assert_eq!(kids.len(), 5);
            for k in kids {
                assert_eq!(blood_fiber_is_finished(k), 1, "the fiber completed before its nursery's fibers");
                assert_eq!(try_join(k).0, STATUS_JOINED_CANCELLED);
            }
            assert_eq!(c.resumed.load(Ordering::SeqCst), 0);
            // SAFETY: released once.
            unsafe { blood_channel_release(ch) };
        })
        .unwrap();
        assert_eq!(rt.counters().active, 0);
    });
}

// ---------------------------------------------------------------------------------------------
// Child processes: the root fiber, no fiber, joining with `blood_fiber_join`.

extern "C" fn root_exits_cancelled() -> i32 {
    // SAFETY: plain C ABI calls.
    unsafe { blood_print_str(STDOUT, b"root ran\n".as_ptr(), 9) };
    blood_fiber_exit_cancelled()
}

extern "C" fn root_joins_a_cancelled_fiber() -> i32 {
    let c = new_ctx(blood_channel_create(0));
    let id = blood_fiber_spawn_with(recv_body, addr(c));
    wait_started(c, 1);
    blood_fiber_cancel(id);
    blood_fiber_join(id);
    0
}

#[test]
fn child_entry() {
    let Ok(which) = std::env::var("BLOOD_EXIT_CANCELLED_CHILD") else { return };
    match which.as_str() {
        "root" => {
            blood_runtime_run_main(root_exits_cancelled);
        }
        "no-fiber" => blood_fiber_exit_cancelled(),
        "join" => {
            blood_runtime_run_main(root_joins_a_cancelled_fiber);
        }
        other => panic!("{other}"),
    }
    unreachable!("the child must have exited");
}

fn child(which: &str, workers: &str) -> (String, String, Option<i32>) {
    common::run_child("child_entry", &[("BLOOD_EXIT_CANCELLED_CHILD", which), ("BLOOD_NUM_WORKERS", workers)])
}

#[test]
fn exit_cancelled_on_the_root_fiber_ends_the_program_as_a_panic() {
    for w in ["1", "2"] {
        let (out, err, code) = child("root", w);
        assert!(out.contains("root ran"), "stdout: {out}");
        assert!(err.contains("panic: main fiber cancelled"), "stderr: {err}");
        assert_eq!(code, Some(EXIT_PANIC));
    }
}

#[test]
fn exit_cancelled_outside_fibers_panics() {
    let (_, err, code) = child("no-fiber", "1");
    assert!(err.contains("panic: cancelled"), "stderr: {err}");
    assert_eq!(code, Some(EXIT_PANIC));
}

#[test]
fn joining_an_exit_cancelled_fiber_panics() {
    for w in ["1", "2"] {
        let (_, err, code) = child("join", w);
        assert!(err.contains("panic: joined a cancelled fiber"), "stderr: {err}");
        assert_eq!(code, Some(EXIT_PANIC));
    }
}
