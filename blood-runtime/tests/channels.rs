//! Channels: bounded, unbounded, rendezvous, close, try_*, select, timeouts; blocking suspends the
//! fiber, not the worker. Every test runs with 1 worker and with N.

mod common;
use blood_runtime::*;
use common::each_runtime;
use std::time::{Duration, Instant};

#[test]
fn bounded_keeps_order_and_capacity() {
    each_runtime(|rt| {
        let (tx, rx) = bounded::<u32>(2);
        assert_eq!(tx.try_send(1), Ok(()));
        assert_eq!(tx.try_send(2), Ok(()));
        assert_eq!(tx.try_send(3), Err(TrySendError::Full(3)));
        assert_eq!(rx.try_recv(), Ok(1));
        let got = rt
            .block_on(move || {
                let p = spawn(move || {
                    for i in 3..1000 {
                        tx.send(i).unwrap();
                    }
                    tx.close();
                });
                let mut v = Vec::new();
                while let Ok(x) = rx.recv() {
                    v.push(x);
                }
                p.join().unwrap();
                v
            })
            .unwrap();
        assert_eq!(got, (2..1000).collect::<Vec<_>>());
    });
}

#[test]
fn rendezvous_and_unbounded() {
    each_runtime(|rt| {
        let (tx, rx) = bounded::<u64>(0);
        assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)), "no receiver waiting");
        let sum = rt
            .block_on(move || {
                let c = spawn(move || (0..500).map(|_| rx.recv().unwrap()).sum::<u64>());
                for i in 0..500 {
                    tx.send(i).unwrap();
                }
                c.join().unwrap()
            })
            .unwrap();
        assert_eq!(sum, (0..500).sum());
        let (tx, rx) = unbounded::<u64>();
        for i in 0..100_000 {
            tx.try_send(i).unwrap();
        }
        assert_eq!(rx.len(), 100_000);
        tx.close();
        assert_eq!(std::iter::from_fn(|| rx.try_recv().ok()).count(), 100_000);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}

#[test]
fn close_drains_then_reports_closed_and_fails_senders() {
    each_runtime(|rt| {
        let (tx, rx) = bounded::<u32>(4);
        tx.send(1).unwrap();
        tx.send(2).unwrap();
        assert!(tx.close());
        assert!(!tx.close());
        assert_eq!(tx.send(3), Err(SendError::Closed(3)));
        assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
        assert_eq!(rx.recv(), Ok(1));
        assert_eq!(rx.recv(), Ok(2));
        assert_eq!(rx.recv(), Err(RecvError::Closed));
        // Blocked parties are woken by close.
        let (tx, rx) = bounded::<u32>(1);
        let (tx2, rx2) = bounded::<u32>(1);
        let (r1, r2) = rt
            .block_on(move || {
                tx.send(0).unwrap();
                let s = {
                    let tx = tx.clone();
                    spawn(move || tx.send(9))
                };
                let r = spawn(move || rx2.recv());
                sleep(Duration::from_millis(20)).unwrap();
                tx.close();
                tx2.close();
                (s.join().unwrap(), r.join().unwrap())
            })
            .unwrap();
        assert_eq!(r1, Err(SendError::Closed(9)));
        assert_eq!(r2, Err(RecvError::Closed));
        assert_eq!(rx.recv(), Ok(0));
    });
}

#[test]
fn mpmc_delivers_every_message_exactly_once() {
    each_runtime(|rt| {
        let per = common::scaled(200_000) as u64 / 4;
        let (tx, rx) = bounded::<u64>(64);
        let total = rt
            .block_on(move || {
                let producers: Vec<_> = (0..4)
                    .map(|_| {
                        let tx = tx.clone();
                        spawn(move || (0..per).for_each(|i| tx.send(i).unwrap()))
                    })
                    .collect();
                let consumers: Vec<_> = (0..4)
                    .map(|_| {
                        let rx = rx.clone();
                        spawn(move || {
                            let (mut n, mut s) = (0u64, 0u64);
                            while let Ok(v) = rx.recv() {
                                n += 1;
                                s += v;
                            }
                            (n, s)
                        })
                    })
                    .collect();
                producers.into_iter().for_each(|p| p.join().unwrap());
                tx.close();
                consumers.into_iter().map(|c| c.join().unwrap()).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
            })
            .unwrap();
        assert_eq!(total, (4 * per, 4 * per * (per - 1) / 2));
    });
}

#[test]
fn a_fiber_blocked_on_a_channel_does_not_block_its_worker() {
    let rt = Runtime::new(Config::default().with_workers(1)).unwrap();
    let (tx, rx) = bounded::<u32>(1);
    let v = rt
        .block_on(move || {
            let blocked = spawn(move || rx.recv().unwrap());
            // Same (only) worker: this fiber must still run while the other waits.
            let mut spins = 0;
            for _ in 0..100 {
                yield_now();
                spins += 1;
            }
            tx.send(spins).unwrap();
            blocked.join().unwrap()
        })
        .unwrap();
    assert_eq!(v, 100);
}

#[test]
fn select_takes_the_first_ready_arm_in_order() {
    each_runtime(|rt| {
        let (t1, r1) = bounded::<u32>(4);
        let (t2, r2) = bounded::<u32>(4);
        t1.send(1).unwrap();
        t2.send(2).unwrap();
        assert_eq!(select_recv(&[&r1, &r2], None), Selected::Value(0, 1));
        assert_eq!(select_recv(&[&r1, &r2], None), Selected::Value(1, 2));
        // Default arm: nothing ready, do not wait.
        assert_eq!(select_recv(&[&r1, &r2], Some(Instant::now())), Selected::Timeout);
        // Timeout.
        let t0 = Instant::now();
        assert_eq!(select_recv(&[&r1, &r2], Some(Instant::now() + Duration::from_millis(20))), Selected::Timeout);
        assert!(t0.elapsed() >= Duration::from_millis(20));
        // Closed arm.
        t2.close();
        assert_eq!(select_recv(&[&r1, &r2], None), Selected::Closed(1));
        // A blocked select woken by a sender in a fiber.
        let (t3, r3) = bounded::<u32>(0);
        let got = rt
            .block_on(move || {
                let s = spawn(move || {
                    sleep(Duration::from_millis(10)).unwrap();
                    t3.send(33).unwrap();
                });
                let r = select_recv(&[&r1, &r3], None);
                s.join().unwrap();
                r
            })
            .unwrap();
        assert_eq!(got, Selected::Value(1, 33));
    });
}

#[test]
fn select_under_contention_never_loses_or_duplicates() {
    each_runtime(|rt| {
        let n = common::scaled(20_000) as u64;
        let (ta, ra) = bounded::<u64>(8);
        let (tb, rb) = bounded::<u64>(0);
        let (sum, count) = rt
            .block_on(move || {
                let pa = spawn(move || (0..n).for_each(|i| ta.send(i).unwrap()));
                let pb = spawn(move || (0..n).for_each(|i| tb.send(i).unwrap()));
                let (mut s, mut c) = (0u64, 0u64);
                while c < 2 * n {
                    match select_recv(&[&ra, &rb], Some(Instant::now() + Duration::from_secs(10))) {
                        Selected::Value(_, v) => {
                            s += v;
                            c += 1;
                        }
                        other => panic!("unexpected {other:?}"),
                    }
                }
                pa.join().unwrap();
                pb.join().unwrap();
                assert_eq!(ra.try_recv(), Err(TryRecvError::Empty));
                (s, c)
            })
            .unwrap();
        assert_eq!(count, 2 * n);
        assert_eq!(sum, n * (n - 1));
    });
}

#[test]
fn recv_timeout_and_threads_mixing_with_fibers() {
    each_runtime(|rt| {
        let (tx, rx) = bounded::<u32>(1);
        let t0 = Instant::now();
        assert_eq!(rx.recv_timeout(Duration::from_millis(15)), Err(RecvError::Timeout));
        assert!(t0.elapsed() >= Duration::from_millis(15));
        // A plain thread receives what a fiber sends.
        let h = rt.spawn(move || (0..100).for_each(|i| tx.send(i).unwrap()));
        let got: Vec<u32> = (0..100).map(|_| rx.recv().unwrap()).collect();
        h.join().unwrap();
        assert_eq!(got, (0..100).collect::<Vec<_>>());
        let rf = rt.spawn(move || rx.recv_timeout(Duration::from_millis(10)));
        assert_eq!(rf.join().unwrap(), Err(RecvError::Timeout));
    });
}

/// A detached fiber (its handle dropped) that parks on a channel stays alive while parked: the
/// channel's wait list only points into its stack, so freeing it there would let the stack be
/// reused under the node (the suspended state owns a reference, see `fiber/mod.rs`).
#[test]
fn a_detached_fiber_parked_on_a_channel_stays_alive() {
    common::each_runtime(|rt| {
        let (tx, rx) = bounded::<u64>(0);
        let (done_tx, done_rx) = bounded::<u64>(1);
        rt.block_on(move || {
            drop(spawn(move || {
                let v = rx.recv().unwrap();
                done_tx.send(v + 1).unwrap();
            }));
            sleep(std::time::Duration::from_millis(20)).unwrap();
            // Other fibers take (and scribble on) any recycled stacks meanwhile.
            let hs: Vec<_> = (0..1000u64)
                .map(|i| {
                    spawn(move || {
                        let a = std::hint::black_box([i as u8; 4096]);
                        a[7] as u64
                    })
                })
                .collect();
            hs.into_iter().for_each(|h| assert!(h.join().unwrap() < 256));
            tx.send(41).unwrap();
            assert_eq!(done_rx.recv().unwrap(), 42);
        })
        .unwrap();
    });
}
