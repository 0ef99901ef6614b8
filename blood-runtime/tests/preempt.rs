//! Preemption: a fiber spinning in a loop with compiled-style safepoints (`load flag; if ≠ 0 call
//! blood_safepoint_slow`) is asked to yield by the monitor once it overran its slice, so another
//! fiber gets to run even on a single worker.

mod common;
use blood_runtime::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

unsafe extern "C" {
    static blood_preempt_flag: AtomicU32;
    fn blood_safepoint_slow();
}

/// Exactly what codegen emits at a loop back-edge.
#[inline(always)]
fn safepoint() {
    // SAFETY: reading an atomic static; calling a runtime entry without arguments.
    unsafe {
        if blood_preempt_flag.load(Ordering::Relaxed) != 0 {
            blood_safepoint_slow();
        }
    }
}

#[test]
fn a_spinning_fiber_is_preempted() {
    for workers in common::worker_counts() {
        let cfg =
            Config { preempt_interval: Some(Duration::from_millis(10)), ..Config::default().with_workers(workers) };
        let rt = Runtime::new(cfg).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let t0 = Instant::now();
        let s = stop.clone();
        let started = Arc::new(AtomicU32::new(0));
        let spinners: Vec<_> = (0..workers)
            .map(|_| {
                let s = s.clone();
                let started = started.clone();
                rt.spawn(move || {
                    started.fetch_add(1, Ordering::SeqCst);
                    let mut n = 0u64;
                    while !s.load(Ordering::Relaxed) {
                        n = n.wrapping_add(1);
                        safepoint();
                    }
                    n
                })
            })
            .collect();
        // Wait until every worker is busy spinning (on a loaded machine the spinners may start
        // late; the setter must not run before them, or nothing needs preempting).
        while started.load(Ordering::SeqCst) < workers as u32 {
            assert!(t0.elapsed() < Duration::from_secs(5), "spinners did not start");
            std::thread::sleep(Duration::from_millis(1));
        }
        // All workers are busy spinning; this fiber runs only if a spinner is preempted.
        let setter = rt.spawn(move || stop.store(true, Ordering::Relaxed));
        setter.join().unwrap();
        for h in spinners {
            h.join().unwrap();
        }
        let took = t0.elapsed();
        assert!(took < Duration::from_secs(5), "preemption took {took:?}");
        assert!(rt.counters().preemptions >= 1);
    }
}

#[test]
fn safepoint_slow_outside_fibers_is_harmless() {
    // SAFETY: plain call.
    unsafe { blood_safepoint_slow() };
    safepoint();
}

/// A fiber that starts spinning on an idle runtime (the monitor polls rarely while every worker
/// is parked) is still preempted after about one slice: the worker leaving its park wakes the
/// monitor up. Before that fix the fiber spawned behind the spinner waited for the monitor's idle
/// poll (250 ms).
#[test]
fn a_spinner_started_on_an_idle_runtime_is_preempted_within_a_few_slices() {
    let cfg = Config { preempt_interval: Some(Duration::from_millis(10)), ..Config::default().with_workers(1) };
    let rt = Runtime::new(cfg).unwrap();
    let mut best = Duration::MAX;
    for _ in 0..3 {
        rt.block_on(|| ()).unwrap();
        // Every worker parked: the monitor switches to its idle polls.
        std::thread::sleep(Duration::from_millis(50));
        let stop = Arc::new(AtomicBool::new(false));
        let started = Arc::new(AtomicBool::new(false));
        let (s, st) = (stop.clone(), started.clone());
        let spinner = rt.spawn(move || {
            st.store(true, Ordering::SeqCst);
            while !s.load(Ordering::Relaxed) {
                safepoint();
            }
        });
        while !started.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_micros(100));
        }
        let t0 = Instant::now();
        let first_run = rt.spawn(Instant::now).join().unwrap();
        stop.store(true, Ordering::Relaxed);
        spinner.join().unwrap();
        best = best.min(first_run - t0);
    }
    assert!(best < Duration::from_millis(100), "a fiber behind a fresh spinner first ran after {best:?}");
}
