//! Fiber runtime microbenchmarks mirroring the Go peers in /work/shared/peers/go, printing
//! `name value unit` lines. Usage: `fiberbench <spawn|pingpong|yield|chanthru|idlemem|timers|preempt>
//! <workers>`; run by tools/bench/runtime/run.sh.

use blood_runtime::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn rt(workers: usize) -> Runtime {
    Runtime::new(Config::default().with_workers(workers)).expect("runtime")
}

/// a. spawn+join of 1M trivial fibers.
fn bench_spawn(p: usize) {
    const N: u64 = 1_000_000;
    let rt = rt(p);
    let el = rt
        .block_on(|| {
            let start = Instant::now();
            let hs: Vec<_> = (0..N).map(|i| spawn(move || i * 3)).collect();
            let mid = start.elapsed();
            if std::env::var_os("PHASES").is_some() {
                eprintln!("spawn phase {:.1} ns/f", mid.as_nanos() as f64 / N as f64);
            }
            let sum: u64 = hs.into_iter().map(|h| h.join().unwrap()).sum();
            let el = start.elapsed();
            assert_eq!(sum, 3 * N * (N - 1) / 2);
            el
        })
        .unwrap();
    if std::env::var_os("PHASES").is_some() {
        eprintln!("{:?}", rt.counters());
    }
    println!("blood.spawn_join.P{p}.total {:.2} ms", el.as_secs_f64() * 1e3);
    println!("blood.spawn_join.P{p}.per_task {:.1} ns", el.as_nanos() as f64 / N as f64);
}

/// b. ping-pong over two rendezvous channels.
fn pingpong(p: usize) {
    const ROUNDS: u64 = 1_000_000;
    let rt = rt(p);
    let el = rt
        .block_on(|| {
            let (ping_tx, ping_rx) = bounded::<u64>(0);
            let (pong_tx, pong_rx) = bounded::<u64>(0);
            let echo = spawn(move || {
                while let Ok(v) = ping_rx.recv() {
                    pong_tx.send(v + 1).unwrap();
                }
            });
            for i in 0..1000 {
                ping_tx.send(i).unwrap();
                pong_rx.recv().unwrap();
            }
            let start = Instant::now();
            let mut v = 0;
            for _ in 0..ROUNDS {
                ping_tx.send(v).unwrap();
                v = pong_rx.recv().unwrap();
            }
            let el = start.elapsed();
            ping_tx.close();
            echo.join().unwrap();
            assert_eq!(v, ROUNDS);
            el
        })
        .unwrap();
    println!("blood.pingpong.P{p}.round_trip {:.1} ns", el.as_nanos() as f64 / ROUNDS as f64);
}

/// c. two fibers yielding, 10M yields in total.
fn yields(p: usize) {
    const TOTAL: usize = 10_000_000;
    let rt = rt(p);
    let el = rt
        .block_on(|| {
            let (gate_tx, gate_rx) = bounded::<()>(0);
            let ready = Arc::new(AtomicUsize::new(0));
            let hs: Vec<_> = (0..2)
                .map(|_| {
                    let gate = gate_rx.clone();
                    let ready = ready.clone();
                    spawn(move || {
                        ready.fetch_add(1, Ordering::SeqCst);
                        let _ = gate.recv();
                        for _ in 0..TOTAL / 2 {
                            yield_now();
                        }
                    })
                })
                .collect();
            while ready.load(Ordering::SeqCst) < 2 {
                yield_now();
            }
            sleep(Duration::from_millis(1)).unwrap();
            let start = Instant::now();
            gate_tx.close();
            hs.into_iter().for_each(|h| h.join().unwrap());
            start.elapsed()
        })
        .unwrap();
    println!("blood.yield.P{p}.switch {:.1} ns", el.as_nanos() as f64 / TOTAL as f64);
}

/// d. 4 producers × 4 consumers over one channel of capacity 1024, 10M messages.
fn chanthru(p: usize) {
    const TOTAL: u64 = 10_000_000;
    const PER: u64 = TOTAL / 4;
    let rt = rt(p);
    let el = rt
        .block_on(|| {
            let (tx, rx) = bounded::<u64>(1024);
            let start = Instant::now();
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
            let producers: Vec<_> = (0..4)
                .map(|_| {
                    let tx = tx.clone();
                    spawn(move || (0..PER).for_each(|i| tx.send(i).unwrap()))
                })
                .collect();
            producers.into_iter().for_each(|h| h.join().unwrap());
            tx.close();
            let (n, s) = consumers.into_iter().map(|h| h.join().unwrap()).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
            let el = start.elapsed();
            assert_eq!((n, s), (TOTAL, 4 * PER * (PER - 1) / 2));
            el
        })
        .unwrap();
    println!("blood.chan_mpmc_4x4.P{p}.throughput {:.2} Mmsg/s", TOTAL as f64 / el.as_secs_f64() / 1e6);
    println!("blood.chan_mpmc_4x4.P{p}.per_msg {:.1} ns", el.as_nanos() as f64 / TOTAL as f64);
}

fn rss() -> usize {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: usize =
        s.lines().find(|l| l.starts_with("VmRSS:")).unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

/// e. 1M fibers parked on a channel receive: resident memory per parked fiber.
fn idlemem(p: usize) {
    const N: usize = 1_000_000;
    let rt = rt(p);
    let (gate_tx, gate_rx) = bounded::<()>(0);
    let started = Arc::new(AtomicUsize::new(0));
    let rss0 = rss();
    let t0 = Instant::now();
    let st = started.clone();
    let root = rt.spawn(move || {
        let hs: Vec<_> = (0..N)
            .map(|_| {
                let gate = gate_rx.clone();
                let st = st.clone();
                spawn(move || {
                    st.fetch_add(1, Ordering::Relaxed);
                    let _ = gate.recv();
                })
            })
            .collect();
        hs.into_iter().for_each(|h| h.join().unwrap());
    });
    while started.load(Ordering::Relaxed) < N {
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(Duration::from_millis(100));
    let el = t0.elapsed();
    let rss1 = rss();
    gate_tx.close();
    root.join().unwrap();
    println!("blood.idle_mem.P{p}.rss_per_task {:.0} bytes", (rss1 - rss0) as f64 / N as f64);
    println!("blood.idle_mem.P{p}.rss_total {:.1} MiB", rss1 as f64 / (1 << 20) as f64);
    println!("blood.idle_mem.P{p}.spawn_park_all {:.0} ms", el.as_secs_f64() * 1e3);
}

/// g. 100k fibers each sleeping 10 ms: total wall time.
fn timers(p: usize) {
    const N: usize = 100_000;
    let rt = rt(p);
    let el = rt
        .block_on(|| {
            let start = Instant::now();
            let hs: Vec<_> = (0..N).map(|_| spawn(|| sleep(Duration::from_millis(10)).unwrap())).collect();
            hs.into_iter().for_each(|h| h.join().unwrap());
            start.elapsed()
        })
        .unwrap();
    println!("blood.timers_100k_10ms.P{p}.wall {:.2} ms", el.as_secs_f64() * 1e3);
}

/// Lateness percentiles in the Go peer's format (`p` = index `p·(n-1)` of the sorted samples).
fn report_lateness(tag: &str, p: usize, mut lat: Vec<f64>) {
    lat.sort_by(f64::total_cmp);
    let pct = |q: f64| lat[(q * (lat.len() - 1) as f64) as usize];
    println!("blood.{tag}.P{p}.p50 {:.1} us", pct(0.50));
    println!("blood.{tag}.P{p}.p99 {:.1} us", pct(0.99));
    println!("blood.{tag}.P{p}.max {:.1} us", lat[lat.len() - 1]);
}

/// `iters` sleeps of 1 ms on the calling fiber: how late each one woke, in µs.
fn sleep_lateness(iters: usize) -> Vec<f64> {
    (0..iters)
        .map(|_| {
            let t0 = Instant::now();
            sleep(Duration::from_millis(1)).unwrap();
            (t0.elapsed().as_secs_f64() - 1e-3) * 1e6
        })
        .collect()
}

/// f. Preemption latency (the Go peer `preempt`, normally at one worker): a fiber spins in a
/// loop without calls, testing the preemption word at its back-edge exactly as compiled code
/// does (`load blood_preempt_flag; if ≠ 0 call blood_safepoint_slow`), while another fiber sleeps
/// 1 ms a thousand times. Reports the sleeper's lateness (and the same without the spinner, the
/// timer floor) and how long fibers spawned behind the spinner wait for their first run.
fn preempt(p: usize) {
    use blood_runtime::ffi_exports::blood_safepoint_slow;
    use blood_runtime::preempt::blood_preempt_flag;
    use std::sync::atomic::AtomicU64;
    const ITERS: usize = 1000;
    const FIRST_RUNS: usize = 20;
    static STOP: AtomicU64 = AtomicU64::new(0);
    static SINK: AtomicU64 = AtomicU64::new(0);
    let rt = rt(p);
    let base = rt.block_on(|| sleep_lateness(200)).unwrap();
    STOP.store(0, Ordering::Relaxed);
    let spinning = Arc::new(AtomicUsize::new(0));
    let spinners: Vec<_> = (0..p)
        .map(|_| {
            let spinning = spinning.clone();
            rt.spawn(move || {
                spinning.fetch_add(1, Ordering::SeqCst);
                let mut x = 0u64;
                // The loop compiled code makes: the stop test, then the safepoint at the back-edge.
                while STOP.load(Ordering::Relaxed) == 0 {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    if blood_preempt_flag.load(Ordering::Relaxed) != 0 {
                        blood_safepoint_slow();
                    }
                }
                SINK.store(x, Ordering::Relaxed);
            })
        })
        .collect();
    while spinning.load(Ordering::SeqCst) < p {
        std::thread::sleep(Duration::from_micros(100));
    }
    // First-run delay: fibers spawned from outside while every worker spins, one at a time, at
    // moments within and past the spinners' slices.
    let mut first = Vec::with_capacity(FIRST_RUNS);
    for i in 0..FIRST_RUNS {
        std::thread::sleep(Duration::from_micros(700 + 3700 * (i as u64 % 7)));
        let t0 = Instant::now();
        let started = rt.spawn(Instant::now).join().unwrap();
        first.push(started.duration_since(t0).as_secs_f64() * 1e6);
    }
    // The sleeper, spawned behind the spinners; its own first run is one more sample.
    let t0 = Instant::now();
    let (started, lat) = rt.block_on(move || (Instant::now(), sleep_lateness(ITERS))).unwrap();
    first.push(started.duration_since(t0).as_secs_f64() * 1e6);
    STOP.store(1, Ordering::Relaxed);
    spinners.into_iter().for_each(|h| h.join().unwrap());
    report_lateness("sleep1ms_lateness_idle", p, base);
    report_lateness("preempt_lateness_spinner", p, lat);
    report_lateness("preempt_first_run", p, first);
    println!("blood.preempt.P{p}.preemptions {} count", rt.counters().preemptions);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let which = args.first().map(String::as_str).unwrap_or("all");
    let p: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2);
    match which {
        "spawn" => bench_spawn(p),
        "pingpong" => pingpong(p),
        "yield" => yields(p),
        "chanthru" => chanthru(p),
        "idlemem" => idlemem(p),
        "timers" => timers(p),
        "preempt" => preempt(p),
        "switch" => raw_switch(),
        "all" => {
            for w in [1, 2] {
                bench_spawn(w);
                pingpong(w);
                yields(w);
                chanthru(w);
                timers(w);
            }
            idlemem(2);
            preempt(1);
        }
        other => {
            eprintln!("unknown benchmark {other}");
            std::process::exit(2);
        }
    }
}

/// The bare context switch: two contexts switching back and forth with `arch::switch` (the floor
/// under `yield`).
fn raw_switch() {
    use std::sync::atomic::AtomicUsize;
    const N: usize = 10_000_000;
    static MAIN_SP: AtomicUsize = AtomicUsize::new(0);
    static CO_SP: AtomicUsize = AtomicUsize::new(0);
    unsafe extern "C" fn co(_arg: usize, _handed: usize) -> ! {
        loop {
            // SAFETY: MAIN_SP holds the benchmark loop's context, saved by its `switch`.
            unsafe { blood_runtime::arch::switch(CO_SP.as_ptr(), MAIN_SP.load(Ordering::Relaxed), 0) };
        }
    }
    let mut stack = vec![0u8; 64 * 1024];
    let top = (stack.as_mut_ptr() as usize + stack.len()) & !15;
    // SAFETY: `top` is the aligned end of a live, writable buffer.
    CO_SP.store(unsafe { blood_runtime::arch::init_stack(top, co, 0) }, Ordering::Relaxed);
    let start = Instant::now();
    for _ in 0..N {
        // SAFETY: CO_SP is a context saved by `switch` or prepared by `init_stack`.
        unsafe { blood_runtime::arch::switch(MAIN_SP.as_ptr(), CO_SP.load(Ordering::Relaxed), 0) };
    }
    let el = start.elapsed();
    println!("blood.raw_switch.switch {:.1} ns", el.as_nanos() as f64 / (2 * N) as f64);
}
