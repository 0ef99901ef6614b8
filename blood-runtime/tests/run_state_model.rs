//! Exhaustive interleaving check of the fiber run-state protocol (the transition functions in
//! `fiber/state.rs` are the ones the runtime's CAS loops use).
//!
//! Model: the fiber has registered itself in a wait list and switched away; one *committer*
//! (the worker that resumed next) runs the park commit, while 0, 1 or 2 *wakers* (a channel
//! hand-off, a cancellation, a timer) each run the wake loop: `load`, then `CAS(load → target)`,
//! retrying from the value a failed CAS returns. Every atomic step is one scheduling point, and
//! all interleavings are explored depth-first. Then the enqueued fiber is picked by a worker
//! (`store RUNNING`) and later wakes, if any are still in flight, run against that state.
//!
//! Checked in every interleaving: the fiber is enqueued at most once per suspension; if at least
//! one wake ran, it is enqueued exactly once (no lost wake-up); with no wake it stays SUSPENDED.

use blood_runtime::fiber::state::*;

#[derive(Clone, Copy, Debug)]
enum Waker {
    Load,
    Cas(u8),
    Done,
}

#[derive(Clone, Copy, Debug)]
enum Committer {
    Cas,
    StoreAndEnqueue,
    Done,
}

#[derive(Clone, Debug)]
struct World {
    state: u8,
    enqueued: u32,
    committer: Committer,
    wakers: Vec<Waker>,
}

fn step_waker(w: &mut World, i: usize) {
    match w.wakers[i] {
        Waker::Load => {
            let s = w.state;
            w.wakers[i] = match wake_step(s) {
                Some(_) => Waker::Cas(s),
                None => Waker::Done,
            };
        }
        Waker::Cas(expected) => {
            let (target, enqueue) = wake_step(expected).expect("only CAS from states with a step");
            if w.state == expected {
                w.state = target;
                if enqueue {
                    w.enqueued += 1;
                }
                w.wakers[i] = Waker::Done;
            } else {
                // A failed CAS returns the current value: retry from it.
                let s = w.state;
                w.wakers[i] = match wake_step(s) {
                    Some(_) => Waker::Cas(s),
                    None => Waker::Done,
                };
            }
        }
        Waker::Done => unreachable!(),
    }
}

fn step_committer(w: &mut World) {
    match w.committer {
        Committer::Cas => {
            if w.state == PARK_FROM {
                w.state = PARK_TO;
                w.committer = Committer::Done;
            } else {
                assert_eq!(w.state, NOTIFIED, "only a wake can change a parking fiber's state");
                w.committer = Committer::StoreAndEnqueue;
            }
        }
        Committer::StoreAndEnqueue => {
            w.state = PARK_FAILED_TO;
            w.enqueued += 1;
            w.committer = Committer::Done;
        }
        Committer::Done => unreachable!(),
    }
}

fn explore(w: World, leaves: &mut u64) {
    let mut any = false;
    if !matches!(w.committer, Committer::Done) {
        any = true;
        let mut next = w.clone();
        step_committer(&mut next);
        explore(next, leaves);
    }
    for i in 0..w.wakers.len() {
        if !matches!(w.wakers[i], Waker::Done) {
            any = true;
            let mut next = w.clone();
            step_waker(&mut next, i);
            explore(next, leaves);
        }
    }
    assert!(w.enqueued <= 1, "enqueued twice: {w:?}");
    if !any {
        *leaves += 1;
        if w.wakers.is_empty() {
            assert_eq!((w.state, w.enqueued), (SUSPENDED, 0), "{w:?}");
        } else {
            assert_eq!(w.enqueued, 1, "lost wake-up: {w:?}");
            assert_eq!(w.state, RUNNABLE, "{w:?}");
        }
    }
}

#[test]
fn park_commit_against_concurrent_wakes() {
    for wakers in 0..=3 {
        let mut leaves = 0;
        explore(
            World { state: RUNNING, enqueued: 0, committer: Committer::Cas, wakers: vec![Waker::Load; wakers] },
            &mut leaves,
        );
        assert!(leaves >= 1);
    }
}

#[test]
fn wakes_of_finished_or_queued_fibers_do_nothing() {
    for s in [RUNNABLE, NOTIFIED, DONE] {
        assert_eq!(wake_step(s), None);
    }
    assert_eq!(wake_step(SUSPENDED), Some((RUNNABLE, true)));
    assert_eq!(wake_step(RUNNING), Some((NOTIFIED, false)));
}

/// The family counter (`Family` in `fiber/mod.rs`): a parent that spawned `n` children ends its
/// body at some point among their completions; each party's read-modify-write on `done` is one
/// atomic step, so the orders are the parent's position `k` among the `n` child increments (the
/// children are interchangeable). Checked: exactly one party publishes the parent; it is the
/// parent itself iff every child was done before it (`k == n`), else the last child; and the
/// parent's fast path (it reads `done == spawned` and skips its addition) only applies when the
/// parent would have published anyway.
#[test]
fn family_counter_elects_exactly_one_publisher() {
    for n in 0u64..=8 {
        for k in 0..=n {
            let mut done: u64 = 0;
            let mut publishers = Vec::new();
            for step in 0..=n {
                if step == k {
                    // The parent's body ends: fast path, else its addition.
                    if done == n {
                        publishers.push("parent (fast)");
                        continue;
                    }
                    let prev = done;
                    done = done.wrapping_add(body_end_addend(n));
                    if parent_publishes(prev, n) {
                        publishers.push("parent");
                    }
                }
                if step < n {
                    let prev = done;
                    done = done.wrapping_add(1);
                    if child_publishes(prev) {
                        publishers.push("child");
                    }
                }
            }
            assert_eq!(publishers.len(), 1, "n={n} k={k}: {publishers:?}");
            let by_parent = publishers[0].starts_with("parent");
            assert_eq!(by_parent, k == n, "n={n} k={k}: {publishers:?}");
        }
    }
}
