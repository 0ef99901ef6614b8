//! Shared helpers: run a test body on a runtime with 1 worker and with N workers.
#![allow(dead_code)]

use blood_runtime::{Config, Runtime};

/// Worker counts every suite runs with: 1 and N (the CPU count, at least 2).
pub fn worker_counts() -> [usize; 2] {
    [1, blood_runtime::config::default_workers().max(2)]
}

/// Runs `f` once per worker count with a fresh runtime.
pub fn each_runtime(mut f: impl FnMut(&Runtime)) {
    for n in worker_counts() {
        let rt = Runtime::new(Config::default().with_workers(n)).expect("runtime starts");
        f(&rt);
        rt.shutdown();
    }
}

/// Runs `f` once with a fresh 1-worker runtime and once with a 2-worker one.
pub fn one_and_two_workers(mut f: impl FnMut(&Runtime)) {
    for n in [1, 2] {
        let rt = Runtime::new(Config::default().with_workers(n)).expect("runtime starts");
        f(&rt);
        rt.shutdown();
    }
}

/// Scale for stress counts: full size with optimisations, a tenth in unoptimised builds.
pub fn scaled(n: usize) -> usize {
    if cfg!(debug_assertions) && option_env!("BLOOD_FULL_STRESS").is_none() { n / 10 } else { n }
}

/// Re-runs this test binary as a child running only `test_name` with `env`; returns
/// (stdout, stderr, exit code).
pub fn run_child(test_name: &str, env: &[(&str, &str)]) -> (String, String, Option<i32>) {
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", test_name, "--nocapture", "--test-threads=1"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}
