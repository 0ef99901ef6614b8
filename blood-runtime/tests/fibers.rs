//! Fibers: spawn, join, yield, sleep, ids, priorities, structured concurrency, panics, scopes.
//! Every test runs with 1 worker and with N.

mod common;
use blood_runtime::*;
use common::each_runtime;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[test]
fn spawn_and_join_return_values() {
    each_runtime(|rt| {
        let total = rt
            .block_on(|| {
                let hs: Vec<_> = (0..1000u64).map(|i| spawn(move || i * i)).collect();
                hs.into_iter().map(|h| h.join().unwrap()).sum::<u64>()
            })
            .unwrap();
        assert_eq!(total, (0..1000u64).map(|i| i * i).sum());
        let s = rt.counters();
        assert_eq!(s.spawned, 1001);
        assert_eq!(s.completed, 1001);
        assert_eq!(s.active, 0);
    });
}

#[test]
fn join_from_a_plain_thread_and_values_of_any_type() {
    each_runtime(|rt| {
        let h = rt.spawn(|| String::from("hello"));
        assert_eq!(h.join().unwrap(), "hello");
        let h = rt.spawn(|| vec![1u8; 3]);
        assert_eq!(h.clone().join().unwrap(), vec![1, 1, 1]);
        assert_eq!(h.join(), Err(JoinError::AlreadyJoined));
    });
}

#[test]
fn single_worker_runs_fifo_and_spawner_continues_first() {
    let rt = Runtime::new(Config::default().with_workers(1)).unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    rt.block_on(move || {
        let mut hs = Vec::new();
        for name in ["a", "b"] {
            let l = l.clone();
            hs.push(spawn(move || {
                for i in 0..3 {
                    l.lock().unwrap().push(format!("{name}{i}"));
                    yield_now();
                }
            }));
        }
        l.lock().unwrap().push("spawner".into());
        for h in hs {
            h.join().unwrap();
        }
    })
    .unwrap();
    assert_eq!(*log.lock().unwrap(), ["spawner", "a0", "b0", "a1", "b1", "a2", "b2"]);
}

/// One worker: a fiber spawning many children yields to them whenever 256 wait (checked every
/// 64 spawns), so few are left waiting when its loop ends: they ran while their records and
/// stacks were still in cache, and the backlog's memory stays bounded.
#[test]
fn a_spawning_fiber_on_one_worker_lets_its_backlog_run() {
    let rt = Runtime::new(Config::default().with_workers(1)).unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let waiting = rt
        .block_on(move || {
            let hs: Vec<_> = (0..10_000)
                .map(|_| {
                    let r = r.clone();
                    spawn(move || r.fetch_add(1, Ordering::Relaxed))
                })
                .collect();
            let waiting = 10_000 - r.load(Ordering::Relaxed);
            for h in hs {
                h.join().unwrap();
            }
            waiting
        })
        .unwrap();
    assert!(waiting <= 256 + 64, "{waiting} children were still waiting when the spawn loop ended");
    assert_eq!(ran.load(Ordering::Relaxed), 10_000);
}

#[test]
fn yield_lets_others_run() {
    each_runtime(|rt| {
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        rt.block_on(move || {
            let setter = spawn(move || f.store(true, Ordering::SeqCst));
            let t0 = Instant::now();
            while !flag.load(Ordering::SeqCst) {
                yield_now();
                assert!(t0.elapsed() < Duration::from_secs(10), "yield never let the other fiber run");
            }
            setter.join().unwrap();
        })
        .unwrap();
    });
}

#[test]
fn sleep_waits_at_least_the_duration() {
    each_runtime(|rt| {
        let d = rt
            .block_on(|| {
                let t0 = Instant::now();
                sleep(Duration::from_millis(30)).unwrap();
                t0.elapsed()
            })
            .unwrap();
        assert!(d >= Duration::from_millis(30), "{d:?}");
        assert!(d < Duration::from_secs(2), "{d:?}");
        // Sleeping on a plain thread works too.
        sleep(Duration::from_millis(1)).unwrap();
    });
}

#[test]
fn ids_are_distinct_and_zero_outside_fibers() {
    each_runtime(|rt| {
        assert_eq!(current_id(), 0);
        let ids = rt
            .block_on(|| {
                let hs: Vec<_> = (0..50).map(|_| spawn(current_id)).collect();
                hs.into_iter().map(|h| h.join().unwrap()).collect::<Vec<_>>()
            })
            .unwrap();
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 50);
        assert!(ids.iter().all(|&i| i != 0));
    });
}

#[test]
fn higher_priorities_run_first() {
    let rt = Runtime::new(Config::default().with_workers(1)).unwrap();
    let order = Arc::new(Mutex::new(Vec::new()));
    let o = order.clone();
    rt.block_on(move || {
        let hs: Vec<_> = [Priority::Low, Priority::Normal, Priority::High, Priority::Critical]
            .into_iter()
            .map(|p| {
                let o = o.clone();
                spawn_with(FiberConfig::named(format!("{p:?}")).priority(p), move || o.lock().unwrap().push(p))
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
    })
    .unwrap();
    assert_eq!(*order.lock().unwrap(), [Priority::Critical, Priority::High, Priority::Normal, Priority::Low]);
}

#[test]
fn a_fiber_completes_only_after_its_children() {
    each_runtime(|rt| {
        let done = Arc::new(AtomicUsize::new(0));
        let d = done.clone();
        let parent = rt.spawn(move || {
            for _ in 0..10 {
                let d = d.clone();
                // Detached children: nobody joins them explicitly.
                spawn(move || {
                    sleep(Duration::from_millis(20)).unwrap();
                    d.fetch_add(1, Ordering::SeqCst);
                });
            }
            7
        });
        assert_eq!(parent.join().unwrap(), 7);
        assert_eq!(done.load(Ordering::SeqCst), 10, "parent finished before its children");
    });
}

#[test]
fn a_panicking_fiber_fails_and_the_runtime_goes_on() {
    each_runtime(|rt| {
        let h = rt.spawn(|| -> u32 { panic!("boom in fiber") });
        match h.join() {
            Err(JoinError::Failed(m)) => assert!(m.contains("boom in fiber")),
            other => panic!("expected Failed, got {other:?}"),
        }
        assert_eq!(rt.spawn(|| 5).join().unwrap(), 5);
        assert_eq!(rt.counters().failed, 1);
    });
}

#[test]
fn scope_joins_everything_spawned_in_it() {
    each_runtime(|rt| {
        let n = rt
            .block_on(|| {
                let count = Arc::new(AtomicUsize::new(0));
                scope(|s| {
                    for _ in 0..20 {
                        let c = count.clone();
                        s.spawn(move || {
                            sleep(Duration::from_millis(5)).unwrap();
                            c.fetch_add(1, Ordering::SeqCst);
                        });
                    }
                });
                count.load(Ordering::SeqCst)
            })
            .unwrap();
        assert_eq!(n, 20);
    });
}

#[test]
fn scope_cancels_its_fibers_when_the_body_panics() {
    each_runtime(|rt| {
        let r = rt.block_on(|| {
            let waited = Arc::new(Mutex::new(None));
            let w = waited.clone();
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                scope(|s| {
                    s.spawn(move || *w.lock().unwrap() = Some(sleep(Duration::from_secs(30))));
                    sleep(Duration::from_millis(5)).unwrap();
                    panic!("body fails");
                })
            }));
            assert!(r.is_err());
            let got: Option<Result<(), Cancelled>> = *waited.lock().unwrap();
            assert!(got.is_some());
            got
        });
        assert_eq!(r.unwrap(), Some(Err(Cancelled)));
    });
}

fn recurse(depth: usize) -> usize {
    let buf = std::hint::black_box([depth as u8; 512]);
    if depth == 0 { buf[0] as usize } else { recurse(depth - 1) + buf[1] as usize }
}

#[test]
fn deep_stacks_up_to_the_maximum_work_and_stacks_are_reused() {
    each_runtime(|rt| {
        // ~600 KB of frames, below the 1 MiB default maximum.
        let r = rt.spawn_with(FiberConfig::named("deep"), || recurse(1000)).join().unwrap();
        assert!(r > 0);
        for _ in 0..3 {
            let hs: Vec<_> = (0..100).map(|_| rt.spawn(|| recurse(10))).collect();
            hs.into_iter().for_each(|h| assert!(h.join().unwrap() > 0));
        }
        let (carved, guarded) = blood_runtime::stack::pool().carved();
        assert!(carved < 2000, "stacks are not reused: {carved} carved");
        assert!(guarded <= carved);
    });
}

#[test]
fn fiber_names_and_states() {
    each_runtime(|rt| {
        let h = rt.spawn_with(FiberConfig::named("worker-7"), || sleep(Duration::from_millis(20)));
        assert_eq!(h.fiber().expect("not completed yet").name(), Some("worker-7"));
        let id = h.id();
        assert!(id > 0);
        h.clone().join().unwrap().unwrap();
        assert_eq!(h.state(), FiberState::Completed);
        assert!(h.is_finished());
        // The handle no longer keeps the record (it is recycled), only the completion.
        assert!(h.fiber().is_none());
    });
}

/// Fibers take their counts of the runtime from per-worker leases (those freed on another worker
/// than the one that spawned them go back through the runtime's spare pool): once the runtime has
/// shut down, every count has been given back and its state is freed. (Whether the spare pool
/// holds counts at shutdown depends on timing; a lease that a worker forgets to give back when it
/// exits fails this test.)
#[test]
fn a_runtime_that_spawned_across_workers_is_freed_at_shutdown() {
    for workers in [1, 2] {
        let rt = Runtime::new(Config::default().with_workers(workers)).expect("runtime");
        let state = Arc::downgrade(rt.inner());
        let sum = rt
            .block_on(|| {
                let hs: Vec<_> = (0..100_000u64).map(|i| spawn(move || i)).collect();
                hs.into_iter().map(|h| h.join().expect("joined")).sum::<u64>()
            })
            .expect("main fiber");
        assert_eq!(sum, 100_000 * 99_999 / 2);
        drop(rt);
        assert!(state.upgrade().is_none(), "{workers} workers: {} counts of the runtime left", state.strong_count());
    }
}
