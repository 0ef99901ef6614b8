//! One million suspended fibers at once (the default vm.max_map_count of 65,530 must not be the
//! limit), with the mapping count and resident memory per parked fiber checked.

use blood_runtime::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn rss_bytes() -> usize {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: usize =
        s.lines().find(|l| l.starts_with("VmRSS:")).unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

#[test]
fn a_million_parked_fibers() {
    let n = 1_000_000;
    let rt = Runtime::new(Config::default().with_workers(2)).unwrap();
    let (gate_tx, gate_rx) = bounded::<()>(0);
    let parked = Arc::new(AtomicUsize::new(0));
    let rss0 = rss_bytes();
    let t0 = Instant::now();
    let hs: Vec<_> = (0..n)
        .map(|_| {
            let rx = gate_rx.clone();
            let parked = parked.clone();
            rt.spawn(move || {
                parked.fetch_add(1, Ordering::Relaxed);
                rx.recv().is_err()
            })
        })
        .collect();
    while parked.load(Ordering::Relaxed) < n {
        assert!(t0.elapsed() < Duration::from_secs(60), "only {} fibers parked", parked.load(Ordering::Relaxed));
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(100));
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap().lines().count();
    let per_fiber = (rss_bytes() - rss0) / n;
    eprintln!("{n} parked fibers: {maps} mappings, {per_fiber} bytes RSS each, {:?}", t0.elapsed());
    assert!(maps < 40_000, "{maps} mappings");
    gate_tx.close();
    for h in hs {
        assert!(h.join().unwrap());
    }
}
