//! An idle runtime, and one with 100,000 sleeping fibers, use (almost) no CPU: workers park
//! without busy-waiting and timers cost nothing until due. One test per binary, because CPU time
//! is measured for the whole process.

mod common;
use blood_runtime::*;
use std::time::Duration;

fn cpu_time() -> Duration {
    // SAFETY: getrusage writes into the zeroed struct we pass.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

#[test]
fn idle_and_sleeping_runtimes_use_no_cpu() {
    for workers in common::worker_counts() {
        let rt = Runtime::new(Config::default().with_workers(workers)).unwrap();
        rt.block_on(yield_now).unwrap();
        // Idle: under 1% of one CPU.
        let c0 = cpu_time();
        std::thread::sleep(Duration::from_secs(1));
        let idle = cpu_time() - c0;
        assert!(idle < Duration::from_millis(10), "idle runtime used {idle:?} of CPU in 1 s");
        // 100,000 sleeping fibers.
        let n = common::scaled(100_000);
        let hs: Vec<_> = (0..n).map(|_| rt.spawn(|| sleep(Duration::from_millis(1500)))).collect();
        std::thread::sleep(Duration::from_millis(500));
        let c0 = cpu_time();
        std::thread::sleep(Duration::from_millis(800));
        let asleep = cpu_time() - c0;
        for h in hs {
            h.join().unwrap().unwrap();
        }
        assert!(asleep < Duration::from_millis(20), "{n} sleeping fibers used {asleep:?} of CPU in 800 ms");
    }
}
