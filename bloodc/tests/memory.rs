//! Memory is reclaimed (LANGUAGE.md §5.5, ARCHITECTURE.md "Memory"): real programs built with
//! `blood`, run as child processes, their peak resident set size read from `wait4`'s
//! `ru_maxrss`. Blood programs cannot observe their own RSS, hence a Rust test.
//!
//! * `tools/bench/codegen/binary_trees.blood` at depth 18 (allocates and drops millions of
//!   `Box` nodes) must peak within 2× its C peer (`binary_trees.c`, malloc/free, built with
//!   `gcc -O2`; skipped with a message if `gcc` is missing);
//! * 10,000,000 `String`s built and dropped in a loop must stay under 20 MB.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

fn build_blood(src: &Path, out: &Path) {
    let status = Command::new(env!("CARGO_BIN_EXE_blood")).arg("build").arg(src).arg("-o").arg(out).status().unwrap();
    assert!(status.success(), "blood build {} failed", src.display());
}

/// Runs `exe args` to completion; returns (stdout, peak RSS in KiB). The child is reaped by
/// `wait4` (not `Child::wait`), which also reports its resource usage.
#[allow(clippy::zombie_processes)]
fn run_peak_rss(exe: &Path, args: &[&str]) -> (String, i64) {
    let child = Command::new(exe).args(args).stdout(Stdio::piped()).spawn().unwrap();
    let pid = child.id() as libc::pid_t;
    let output = std::thread::spawn(move || {
        use std::io::Read;
        let mut s = String::new();
        child.stdout.expect("piped").read_to_string(&mut s).unwrap();
        s
    });
    let mut status = 0;
    // SAFETY: an all-zero `rusage` is a valid value for `wait4` to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our child, not yet reaped (the `Child` handle is only read from); the
    // pointers are to live locals.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4 failed");
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "{} failed: status {status}", exe.display());
    (output.join().unwrap(), usage.ru_maxrss)
}

/// Builds and runs `source` (a program named `name`), checks its output is `expected`, and that
/// its peak RSS stays under 20 MiB: what it allocates in its loop must be freed as it goes.
fn assert_runs_in_flat_memory(name: &str, source: &str, expected: &str, what: &str) {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join(format!("{name}.blood"));
    std::fs::write(&src, source).unwrap();
    let exe = dir.path().join(name);
    build_blood(&src, &exe);
    let (out, kb) = run_peak_rss(&exe, &[]);
    assert_eq!(out.trim(), expected);
    eprintln!("{what}: peak RSS {kb} KiB");
    assert!(kb < 20 * 1024, "peak RSS {kb} KiB is not flat (limit 20 MiB)");
}

#[test]
fn binary_trees_peak_rss_within_twice_c() {
    let dir = tempfile::tempdir().unwrap();
    let bench = repo().join("tools/bench/codegen");
    let blood_exe = dir.path().join("binary_trees");
    build_blood(&bench.join("binary_trees.blood"), &blood_exe);
    let (out, blood_kb) = run_peak_rss(&blood_exe, &["18"]);
    assert!(out.contains("long lived tree of depth 18\t check: 524287"), "unexpected output:\n{out}");
    let c_exe = dir.path().join("binary_trees_c");
    let gcc = Command::new("gcc").arg("-O2").arg(bench.join("binary_trees.c")).arg("-o").arg(&c_exe).status();
    let Ok(gcc) = gcc else {
        eprintln!("SKIPPED: gcc is missing; binary_trees peak RSS was {blood_kb} KiB (no C baseline)");
        return;
    };
    assert!(gcc.success(), "gcc failed to build binary_trees.c");
    let (c_out, c_kb) = run_peak_rss(&c_exe, &["18"]);
    assert_eq!(out, c_out, "Blood and C outputs differ");
    eprintln!("binary_trees depth 18 peak RSS: Blood {blood_kb} KiB, C {c_kb} KiB");
    assert!(blood_kb <= 2 * c_kb, "Blood peaks at {blood_kb} KiB, more than twice C's {c_kb} KiB");
}

/// The full runtime's heap (mimalloc) commits memory as it is used: with its Linux default of
/// committing whole arenas up front, every program was 4 MB larger than the memory it used
/// (`heap_options` in `blood-runtime/src/lib.rs`).
#[test]
fn a_program_that_allocates_little_stays_small() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("small.blood");
    let source = "fn total(n: i64) -> i64 {\n\
         \x20   let mut v: Vec<i64> = Vec.new()\n\
         \x20   for i in 0..n { v.push(i) }\n\
         \x20   let mut s: i64 = 0\n\
         \x20   for x in v { s += x }\n\
         \x20   s\n\
         }\n\
         fn main() / {Fiber} {\n\
         \x20   let h = perform Fiber.spawn(|| total(1000))\n\
         \x20   println!(\"{} {}\", total(1000), perform Fiber.join(h))\n\
         }\n";
    std::fs::write(&src, source).unwrap();
    let exe = dir.path().join("small");
    build_blood(&src, &exe);
    let (out, kb) = run_peak_rss(&exe, &[]);
    assert_eq!(out.trim(), "499500 499500");
    eprintln!("small program: peak RSS {kb} KiB");
    assert!(kb < 4 * 1024, "peak RSS {kb} KiB for a program that allocates 16 KiB (limit 4 MiB)");
}

#[test]
fn ten_million_strings_run_in_flat_memory() {
    assert_runs_in_flat_memory(
        "strings",
        "fn main() {\n\
         \x20   let mut total: i64 = 0\n\
         \x20   for i in 0..10000000 {\n\
         \x20       let mut s = String.from(\"string number \")\n\
         \x20       s.push(('a' as u8 + (i % 26) as u8) as char)\n\
         \x20       total += s.len() as i64\n\
         \x20   }\n\
         \x20   println!(\"{}\", total)\n\
         }\n",
        "150000000",
        "10,000,000 Strings",
    );
}

#[test]
fn ten_million_escaping_closures_run_in_flat_memory() {
    // Each iteration builds closures that outlive their creator (returned, composed, stored
    // in a vector) and capture an owned String and other closures: every environment must be
    // freed when its last copy goes.
    assert_runs_in_flat_memory(
        "closures",
        "fn tagger(tag: String) -> fn(i64) -> i64 {\n\
         \x20   move |x: i64| x + tag.len() as i64\n\
         }\n\
         fn compose(f: fn(i64) -> i64, g: fn(i64) -> i64) -> fn(i64) -> i64 {\n\
         \x20   |x: i64| g(f(x))\n\
         }\n\
         fn main() {\n\
         \x20   let mut total: i64 = 0\n\
         \x20   let mut keep: Vec<fn(i64) -> i64> = Vec.new()\n\
         \x20   for i in 0..10000000 {\n\
         \x20       let t = tagger(String.from(\"abcd\"))\n\
         \x20       let c = compose(t, |x: i64| x * 2)\n\
         \x20       if i % 1000 == 0 {\n\
         \x20           keep.clear()\n\
         \x20       }\n\
         \x20       keep.push(c)\n\
         \x20       total += c(i % 7)\n\
         \x20   }\n\
         \x20   println!(\"{} {}\", total, keep.len())\n\
         }\n",
        // Σ 2·(i mod 7 + 4) over 0..10^7: 10^7 = 7·1428571 + 3, so Σ (i mod 7) = 21·1428571 + 3.
        &format!("{} 1000", 2 * (21 * 1_428_571 + 3 + 4 * 10_000_000)),
        "10,000,000 escaping closures",
    );
}

#[test]
fn a_million_channels_run_in_flat_memory() {
    // Each channel is freed with its last handle (`Sender`/`Receiver` copies are counted).
    assert_runs_in_flat_memory(
        "channels",
        "fn main() / {Fiber} {\n\
         \x20   let mut total: i64 = 0\n\
         \x20   for round in 0..1000000 {\n\
         \x20       let (tx, rx): (Sender<i64>, Receiver<i64>) = Channel.bounded(2)\n\
         \x20       let tx2 = tx\n\
         \x20       tx.send(round % 10)\n\
         \x20       tx2.send(1)\n\
         \x20       total += rx.recv().unwrap() + rx.recv().unwrap()\n\
         \x20   }\n\
         \x20   println!(\"{}\", total)\n\
         }\n",
        "5500000",
        "1,000,000 channels",
    );
}
