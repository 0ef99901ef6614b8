//! The C ABI end to end, as generated code uses it: the root fiber, spawn/join by id, sleep,
//! channels, select, nurseries, cancellation codes, statistics. One test: the process-wide
//! runtime is shared.

use blood_abi::*;
use blood_runtime::ffi_exports::*;
use std::sync::atomic::{AtomicU64, Ordering};

extern "C" fn square(x: u64) -> u64 {
    x * x
}

extern "C" fn forty_two() -> u64 {
    42
}

extern "C" fn combine(a: u64, b: u64, c: u64) -> u64 {
    a * 100 + b * 10 + c
}

static CH: AtomicU64 = AtomicU64::new(0);

extern "C" fn producer(n: u64) -> u64 {
    let ch = CH.load(Ordering::SeqCst);
    for i in 0..n {
        // SAFETY: `ch` is a live channel handle.
        assert_eq!(unsafe { blood_channel_send(ch, i) }, STATUS_OK);
    }
    // SAFETY: as above.
    unsafe { blood_channel_close(ch) };
    n
}

extern "C" fn sleeper(ns: u64) -> u64 {
    blood_fiber_sleep(ns) as u64
}

extern "C" fn root_main() -> i32 {
    assert_eq!(blood_fiber_current(), 0, "the root fiber reports id 0");
    // Spawn and join by id.
    let a = blood_fiber_spawn_with(square, 12);
    let b = blood_fiber_spawn(forty_two);
    assert_ne!(a, 0);
    assert_eq!(blood_fiber_await(a), 144);
    assert_eq!(blood_fiber_join(b), 42);
    // Three words (a task closure's captures, `blood_fiber_spawn_env`).
    let c = blood_fiber_spawn_env(combine, 1, 2, 3);
    assert_eq!(blood_fiber_await(c), 123);
    let mut out = 0;
    // SAFETY: `out` is writable.
    assert_eq!(unsafe { blood_fiber_try_join(a, &mut out) }, STATUS_NO_SUCH_FIBER, "joined already");
    // Ids name a completion cell and its incarnation: once the cells of `a` and `b` are recycled
    // for other fibers, the old ids still name nothing (and never another fiber's result).
    let later: Vec<u64> = (0..1000).map(|i| blood_fiber_spawn_with(square, i)).collect();
    for (i, &id) in later.iter().enumerate() {
        assert!(id != a && id != b, "ids are not reused while the generation differs");
        assert_eq!(blood_fiber_await(id), (i * i) as u64);
    }
    for stale in [a, b, later[0], later[999]] {
        // SAFETY: `out` is writable.
        assert_eq!(unsafe { blood_fiber_try_join(stale, &mut out) }, STATUS_NO_SUCH_FIBER);
        assert_eq!(blood_fiber_is_finished(stale), 1);
        blood_fiber_cancel(stale);
        blood_fiber_unpark(stale);
    }
    for bogus in [1u64, u64::MAX, 0xffff_ffff, 1 << 32, (7 << 32) | 0xfff_ffff] {
        // SAFETY: `out` is writable.
        assert_eq!(unsafe { blood_fiber_try_join(bogus, &mut out) }, STATUS_NO_SUCH_FIBER);
        assert_eq!(blood_fiber_is_finished(bogus), 1);
    }
    // Channels.
    let ch = blood_channel_create(4);
    CH.store(ch, Ordering::SeqCst);
    let p = blood_fiber_spawn_with(producer, 100);
    let mut sum = 0;
    loop {
        // SAFETY: live handle, writable out.
        match unsafe { blood_channel_recv(ch, &mut out) } {
            STATUS_OK => sum += out,
            STATUS_CLOSED => break,
            other => panic!("recv status {other}"),
        }
    }
    assert_eq!(sum, 4950);
    assert_eq!(blood_fiber_await(p), 100);
    // SAFETY: live handles, writable outs.
    unsafe {
        assert_eq!(blood_channel_try_recv(ch, &mut out), STATUS_CLOSED);
        assert_eq!(blood_channel_send(ch, 1), STATUS_CLOSED);
        let c2 = blood_channel_create(0);
        assert_eq!(blood_channel_try_send(c2, 1), STATUS_WOULD_BLOCK);
        assert_eq!(blood_channel_try_recv(c2, &mut out), STATUS_WOULD_BLOCK);
        // Select: default arm, timeout, closed arm.
        let arms = [c2, ch];
        let mut st = -1;
        assert_eq!(blood_channel_select(arms.as_ptr(), 1, 0, &mut out, &mut st), -1);
        assert_eq!(blood_channel_select(arms.as_ptr(), 1, 5_000_000, &mut out, &mut st), -1);
        assert_eq!(blood_channel_select(arms.as_ptr(), 2, -1, &mut out, &mut st), 1);
        assert_eq!(st, STATUS_CLOSED);
        let c3 = blood_channel_create(-1);
        assert_eq!(blood_channel_try_send(c3, 77), STATUS_OK);
        let arms = [c2, c3];
        assert_eq!(blood_channel_select(arms.as_ptr(), 2, -1, &mut out, &mut st), 1);
        assert_eq!((out, st), (77, STATUS_OK));
        blood_channel_release(c3);
        blood_channel_release(c2);
        blood_channel_release(ch);
    }
    // Cancellation: a sleeping fiber cancelled → its sleep returns CANCELLED, join says cancelled.
    let s = blood_fiber_spawn_with(sleeper, 60_000_000_000);
    assert_eq!(blood_fiber_sleep(5_000_000), STATUS_OK);
    assert_eq!(blood_fiber_is_finished(s), 0);
    blood_fiber_cancel(s);
    // SAFETY: writable out.
    assert_eq!(unsafe { blood_fiber_try_join(s, &mut out) }, STATUS_JOINED_CANCELLED);
    assert_eq!(blood_fiber_check_cancelled(), STATUS_OK);
    assert_eq!(blood_fiber_is_cancelled(), 0);
    // Nursery: joins its fibers at the end.
    let n = blood_nursery_begin();
    // SAFETY: live nursery.
    let ids: Vec<u64> = (0..10).map(|i| unsafe { blood_nursery_spawn(n, sleeper, 1_000_000 * i) }).collect();
    // SAFETY: live nursery, ended once.
    unsafe { blood_nursery_end(n) };
    assert!(ids.iter().all(|&id| blood_fiber_is_finished(id) == 1));
    // Priorities and names.
    let name = "named";
    // SAFETY: `name` is valid for its length.
    let c = unsafe { blood_fiber_spawn_config(square, 3, 64 * 1024, 2, name.as_ptr(), name.len() as i64) };
    assert_eq!(blood_fiber_await(c), 9);
    blood_fiber_yield();
    // Threads.
    let t = blood_thread_spawn(square, 5);
    // SAFETY: handle joined once.
    assert_eq!(unsafe { blood_thread_join(t) }, 25);
    7
}

#[test]
fn c_abi_end_to_end() {
    assert_eq!(blood_scheduler_init(2), 0);
    assert_eq!(blood_runtime_run_main(root_main), 7);
    blood_scheduler_shutdown();
    let mut stats = [0u64; 14];
    // SAFETY: `stats` is writable for its size.
    let n = unsafe { blood_runtime_stats(stats.as_mut_ptr().cast(), std::mem::size_of_val(&stats) as u64) };
    assert_eq!(n as usize, 8 * RUNTIME_STATS_FIELDS.len());
    let field = |name: &str| stats[RUNTIME_STATS_FIELDS.iter().position(|f| *f == name).unwrap()];
    assert_eq!(field("spawned"), 17 + 1000);
    assert_eq!(field("active"), 0);
    assert_eq!(field("cancelled"), 1);
    assert_eq!(field("workers"), 2);
    assert_eq!(blood_io_reactor_init(), -1);
    assert_eq!(blood_runtime_shutdown(), 0);
}
