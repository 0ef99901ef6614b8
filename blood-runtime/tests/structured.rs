//! Structured concurrency (LANGUAGE.md §7.2): a fiber, `main` included, completes only after
//! every fiber it spawned; `blood_runtime_run_main` returns only after all of main's
//! descendants; a parent nobody joins still waits for its children, without keeping its stack
//! meanwhile. `run_main` cases run in child processes with 1 and 2 workers.

mod common;
use blood_runtime::ffi_exports::*;
use blood_runtime::*;
use common::one_and_two_workers;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

static LEAVES: AtomicU64 = AtomicU64::new(0);

extern "C" fn leaf_sleeps(ms: u64) -> u64 {
    blood_fiber_sleep(ms * 1_000_000);
    LEAVES.fetch_add(1, Ordering::SeqCst);
    ms
}

extern "C" fn mid_spawns_ten(i: u64) -> u64 {
    for j in 0..10 {
        blood_fiber_spawn_with(leaf_sleeps, 1 + (i * 7 + j * 3) % 20);
    }
    i
}

/// Spawns 10 × 10 sleeping descendants and returns at once, joining nothing.
extern "C" fn root_returns_early() -> i32 {
    for i in 0..10 {
        blood_fiber_spawn_with(mid_spawns_ten, i);
    }
    5
}

extern "C" fn leaf_counts(_: u64) -> u64 {
    LEAVES.fetch_add(1, Ordering::Relaxed);
    0
}

extern "C" fn mid_spawns_one(i: u64) -> u64 {
    blood_fiber_spawn_with(leaf_counts, i)
}

const WIDE: u64 = 100_000;

/// 100,000 fibers that each spawn one child; nothing is joined.
extern "C" fn root_spawns_wide() -> i32 {
    for i in 0..WIDE {
        blood_fiber_spawn_with(mid_spawns_one, i);
    }
    0
}

fn peak_rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines().find(|l| l.starts_with("VmHWM:")).unwrap().split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn child_entry() {
    let Ok(which) = std::env::var("BLOOD_STRUCTURED_CHILD") else { return };
    match which.as_str() {
        "descendants" => {
            assert_eq!(blood_runtime_run_main(root_returns_early), 5);
            println!("leaves={}", LEAVES.load(Ordering::SeqCst));
        }
        "wide" => {
            let rss0 = peak_rss_kib();
            assert_eq!(blood_runtime_run_main(root_spawns_wide), 0);
            println!(
                "leaves={} slots={} peak_rss_growth_kib={}",
                LEAVES.load(Ordering::SeqCst),
                blood_runtime::stack::pool().carved().0,
                peak_rss_kib() - rss0
            );
        }
        other => panic!("{other}"),
    }
    assert_eq!(blood_runtime_shutdown(), 0);
}

fn child(which: &str, workers: &str) -> String {
    let (out, err, code) =
        common::run_child("child_entry", &[("BLOOD_STRUCTURED_CHILD", which), ("BLOOD_NUM_WORKERS", workers)]);
    assert_eq!(code, Some(0), "stdout: {out}\nstderr: {err}");
    out
}

fn field(out: &str, name: &str) -> u64 {
    let at = out.find(&format!("{name}=")).unwrap_or_else(|| panic!("no {name} in {out}")) + name.len() + 1;
    out[at..].split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
}

#[test]
fn run_main_returns_only_after_all_descendants_of_main() {
    for w in ["1", "2"] {
        let out = child("descendants", w);
        assert_eq!(field(&out, "leaves"), 100, "{w} workers: run_main returned before main's grandchildren");
    }
}

#[test]
fn a_hundred_thousand_fibers_each_with_a_child_finish_in_bounded_memory() {
    for w in ["1", "2"] {
        let out = child("wide", w);
        eprintln!("{w} workers: {}", out.lines().find(|l| l.contains("leaves=")).unwrap_or(""));
        assert_eq!(field(&out, "leaves"), WIDE);
        // A parent whose body returned does not keep its stack while its child runs: a few
        // stacks serve all 200,000 fibers (it was one per parent, 100,000, ~500 MB with 1 worker).
        let slots = field(&out, "slots");
        assert!(slots < 1_000, "{w} workers: {slots} stack slots carved");
        // What remains is the records the registry keeps for join-by-id (nothing is joined):
        // about 0.5 KiB per fiber.
        let rss = field(&out, "peak_rss_growth_kib");
        assert!(rss < 160 * 1024, "{w} workers: peak RSS grew by {rss} KiB");
    }
}

#[test]
fn an_unjoined_parent_completes_only_after_its_children() {
    one_and_two_workers(|rt| {
        let (tx, rx) = unbounded::<&'static str>();
        let parent_done = rt
            .block_on(move || {
                let tx2 = tx.clone();
                let parent = spawn(move || {
                    let tx3 = tx2.clone();
                    // Detached: nobody joins the child, nor the parent below.
                    drop(spawn(move || {
                        sleep(Duration::from_millis(30)).unwrap();
                        tx3.try_send("child done").unwrap();
                    }));
                    tx2.try_send("parent body done").unwrap();
                });
                // A completion cell: it does not keep the parent's record nor change its course.
                let fiber = parent.completion().clone();
                drop(parent);
                while rx.try_recv() != Ok("parent body done") {
                    yield_now();
                }
                // Once the body has returned (its stack given back), while the child still
                // sleeps, the parent is not finished.
                while matches!(fiber.state(), FiberState::Running | FiberState::Runnable) {
                    yield_now();
                }
                let early = fiber.is_finished();
                sleep(Duration::from_millis(60)).unwrap();
                (early, fiber.is_finished(), rx.try_recv())
            })
            .unwrap();
        assert_eq!(parent_done, (false, true, Ok("child done")));
        assert_eq!(rt.counters().active, 0);
    });
}

#[test]
fn a_deep_chain_of_parents_that_returned_settles_and_is_freed_iteratively() {
    fn link(n: u32) {
        if n > 0 {
            drop(spawn(move || link(n - 1)));
        }
    }
    one_and_two_workers(|rt| {
        // Each fiber spawns the next and returns: the whole chain waits for the last one, then
        // completes (and is freed) from the bottom up, without recursion (a recursive release
        // of this chain overflowed a worker's stack at this depth).
        let depth = 100_000u32;
        rt.block_on(move || link(depth)).unwrap();
        let s = rt.counters();
        assert_eq!(s.completed as u32, depth + 1);
        assert_eq!(s.active, 0);
    });
}
