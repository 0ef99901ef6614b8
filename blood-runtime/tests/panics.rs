//! A Blood panic (`blood_panic`) on a fiber ends the whole process with status 101, even on a
//! worker thread while other workers run: everything printed before it is flushed first, nothing
//! printed concurrently comes after the message, and two concurrent panics print one message.
//! Real child processes (`run_main` with 1 and 2 workers).

mod common;
use blood_abi::*;
use blood_runtime::ffi_exports::*;
use std::process::{Command, Stdio};

fn print(s: &str) {
    // SAFETY: `s` is valid for its length.
    unsafe { blood_print_str(STDOUT, s.as_ptr(), s.len() as i64) };
}

fn panic_with(msg: &str) -> ! {
    // SAFETY: `msg` is valid for its length.
    unsafe { blood_panic(msg.as_ptr(), msg.len() as i64) }
}

const PRINTERS: u64 = 4;
const LINES: u64 = 2_000;

/// Prints `LINES` lines, then reports on the channel `ch`.
extern "C" fn printer(arg: u64) -> u64 {
    let (ch, k) = (arg >> 8, arg & 0xff);
    for i in 0..LINES {
        print(&format!("fiber {k} line {i}\n"));
    }
    // SAFETY: a live channel handle.
    unsafe { blood_channel_send(ch, k) };
    0
}

/// Prints forever (keeps another worker busy and the stdout lock contended).
extern "C" fn chatter(_: u64) -> u64 {
    loop {
        print("chatter\n");
        blood_fiber_yield();
    }
}

extern "C" fn root_prints_then_panics() -> i32 {
    let ch = blood_channel_create(-1);
    for k in 0..PRINTERS {
        blood_fiber_spawn_with(printer, (ch << 8) | k);
    }
    let mut v = 0;
    for _ in 0..PRINTERS {
        // SAFETY: live handle; writable out.
        unsafe { blood_channel_recv(ch, &mut v) };
    }
    // Everything the printers wrote happened before this point.
    for _ in 0..2 {
        blood_fiber_spawn_with(chatter, 0);
    }
    blood_fiber_sleep(2_000_000);
    panic_with("boom")
}

/// Waits for the gate to close, then panics with its own message.
extern "C" fn panics_at_the_gate(arg: u64) -> u64 {
    let (gate, k) = (arg >> 8, arg & 0xff);
    let mut v = 0;
    // SAFETY: live handle; writable out.
    unsafe { blood_channel_recv(gate, &mut v) };
    panic_with(if k == 0 { "first" } else { "second" })
}

extern "C" fn root_two_panics() -> i32 {
    let gate = blood_channel_create(0);
    for k in 0..2 {
        blood_fiber_spawn_with(panics_at_the_gate, (gate << 8) | k);
    }
    blood_fiber_sleep(1_000_000);
    // SAFETY: live handle.
    unsafe { blood_channel_close(gate) };
    loop {
        blood_fiber_yield();
    }
}

#[test]
fn child_entry() {
    let Ok(which) = std::env::var("BLOOD_PANIC_CHILD") else { return };
    match which.as_str() {
        "print-then-panic" => blood_runtime_run_main(root_prints_then_panics),
        "two-panics" => blood_runtime_run_main(root_two_panics),
        other => panic!("{other}"),
    };
    unreachable!("the panic must end the process");
}

/// Runs a scenario with stdout and stderr into one file (their interleaving is visible);
/// returns (output, exit code).
fn run_combined(scenario: &str, workers: &str, run: usize) -> (String, Option<i32>) {
    let dir = std::env::temp_dir().join(format!("blood-rt-panics-{}-{scenario}-{workers}-{run}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("out.txt");
    let file = std::fs::File::create(&path).unwrap();
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .env("BLOOD_PANIC_CHILD", scenario)
        .env("BLOOD_NUM_WORKERS", workers)
        .stdin(Stdio::null())
        .stdout(Stdio::from(file.try_clone().unwrap()))
        .stderr(Stdio::from(file))
        .status()
        .unwrap();
    let out = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    (out, status.code())
}

#[test]
fn a_panic_on_a_worker_flushes_earlier_output_and_is_the_last_thing_written() {
    for w in ["1", "2"] {
        for run in 0..3 {
            let (out, code) = run_combined("print-then-panic", w, run);
            assert_eq!(code, Some(EXIT_PANIC), "{w} workers: {out}");
            for k in 0..PRINTERS {
                for i in [0, LINES / 2, LINES - 1] {
                    assert!(out.contains(&format!("fiber {k} line {i}\n")), "{w} workers: lost line {i} of fiber {k}");
                }
            }
            let printed = out.matches(" line ").count() as u64;
            assert_eq!(printed, PRINTERS * LINES, "{w} workers");
            assert_eq!(out.matches("panic: ").count(), 1, "{w} workers");
            // Nothing the chattering fibers printed reaches the output after the message.
            let tail = out.trim_end().rsplit('\n').next().unwrap();
            assert_eq!(tail, "panic: boom", "{w} workers: output after the panic message");
        }
    }
}

#[test]
fn two_concurrent_panics_print_one_message_and_exit_101() {
    for w in ["1", "2"] {
        for run in 0..10 {
            let (_, err, code) =
                common::run_child("child_entry", &[("BLOOD_PANIC_CHILD", "two-panics"), ("BLOOD_NUM_WORKERS", w)]);
            assert_eq!(code, Some(EXIT_PANIC), "{w} workers, run {run}: {err}");
            let msgs: Vec<&str> = err.lines().filter(|l| l.starts_with("panic: ")).collect();
            assert_eq!(msgs.len(), 1, "{w} workers, run {run}: {err}");
            assert!(msgs[0] == "panic: first" || msgs[0] == "panic: second", "{err}");
        }
    }
}
