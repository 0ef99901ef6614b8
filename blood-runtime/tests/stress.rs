//! Stress tests, each bounded to well under 30 s on 2 cores (counts are scaled down in
//! unoptimised builds; set BLOOD_FULL_STRESS=1 at build time for the full sizes).

mod common;
use blood_runtime::*;
use common::{each_runtime, scaled};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[test]
fn spawn_and_join_a_million_fibers() {
    each_runtime(|rt| {
        let n = scaled(1_000_000) as u64;
        let t0 = Instant::now();
        let sum = rt
            .block_on(move || {
                let hs: Vec<_> = (0..n).map(|i| spawn(move || i * 3)).collect();
                hs.into_iter().map(|h| h.join().unwrap()).sum::<u64>()
            })
            .unwrap();
        assert_eq!(sum, 3 * n * (n - 1) / 2);
        assert!(t0.elapsed() < Duration::from_secs(30), "{:?}", t0.elapsed());
    });
}

#[test]
fn hundred_thousand_fibers_ping_ponging() {
    each_runtime(|rt| {
        let pairs = scaled(50_000);
        let rounds = 10u64;
        let t0 = Instant::now();
        let total = Arc::new(AtomicU64::new(0));
        let tot = total.clone();
        rt.block_on(move || {
            let mut hs = Vec::with_capacity(pairs * 2);
            for _ in 0..pairs {
                let (ping_tx, ping_rx) = bounded::<u64>(0);
                let (pong_tx, pong_rx) = bounded::<u64>(0);
                hs.push(spawn(move || {
                    while let Ok(v) = ping_rx.recv() {
                        pong_tx.send(v + 1).unwrap();
                    }
                }));
                let tot = tot.clone();
                hs.push(spawn(move || {
                    let mut v = 0;
                    for _ in 0..rounds {
                        ping_tx.send(v).unwrap();
                        v = pong_rx.recv().unwrap();
                    }
                    ping_tx.close();
                    tot.fetch_add(v, Ordering::Relaxed);
                }));
            }
            for h in hs {
                h.join().unwrap();
            }
        })
        .unwrap();
        assert_eq!(total.load(Ordering::Relaxed), pairs as u64 * rounds);
        assert!(t0.elapsed() < Duration::from_secs(30));
    });
}

#[test]
fn ten_thousand_timers() {
    each_runtime(|rt| {
        let n = 10_000;
        let t0 = Instant::now();
        let late = rt
            .block_on(move || {
                let hs: Vec<_> = (0..n)
                    .map(|i| {
                        spawn(move || {
                            let d = Duration::from_millis(1 + (i * 7919 % 50) as u64);
                            let s = Instant::now();
                            sleep(d).unwrap();
                            let took = s.elapsed();
                            assert!(took >= d, "woke early: {took:?} < {d:?}");
                            took - d
                        })
                    })
                    .collect();
                hs.into_iter().map(|h| h.join().unwrap()).max().unwrap()
            })
            .unwrap();
        assert!(late < Duration::from_secs(5), "a timer fired {late:?} late");
        assert!(t0.elapsed() < Duration::from_secs(30));
        assert_eq!(rt.counters().timers, 0);
    });
}
