//! Output formatting and the stdout/stderr ordering contract, checked on real child processes.
//!
//! A child is this test binary re-run with `BLOOD_OUTPUT_CHILD=<scenario>` and `--exact
//! child_entry`: the scenario writes through the C ABI; the parent inspects what reached the
//! file descriptors (stdout and stderr both redirected to one file, so the interleaving is visible).

use blood_runtime::ffi_exports::*;
use blood_runtime::output::{format_f32, format_f32_prec, format_f64, format_f64_prec};
use std::process::{Command, Stdio};

#[test]
fn f64_display_edge_cases() {
    assert_eq!(format_f64(0.1 + 0.2), "0.30000000000000004");
    assert_eq!(format_f64(1e21), "1000000000000000000000");
    assert_eq!(format_f64(1e-7), "0.0000001");
    assert_eq!(format_f64(-0.0), "-0");
    assert_eq!(format_f64(0.0), "0");
    assert_eq!(format_f64(3.0), "3");
    assert_eq!(format_f64(2.5), "2.5");
    assert_eq!(format_f64(-1.5), "-1.5");
    assert_eq!(format_f64(f64::NAN), "NaN");
    assert_eq!(format_f64(f64::INFINITY), "inf");
    assert_eq!(format_f64(f64::NEG_INFINITY), "-inf");
    assert_eq!(format_f64(f64::MAX).len(), 309);
    assert_eq!(format_f64(5e-324), format!("0.{}5", "0".repeat(323)));
}

#[test]
fn f32_display_edge_cases() {
    assert_eq!(format_f32(0.1), "0.1");
    assert_eq!(format_f32(1.0 / 3.0), "0.33333334");
    assert_eq!(format_f32(-0.0), "-0");
    assert_eq!(format_f32(f32::NAN), "NaN");
    assert_eq!(format_f32(f32::NEG_INFINITY), "-inf");
    assert_eq!(format_f32(16777216.0), "16777216");
}

#[test]
fn fixed_precision() {
    assert_eq!(format_f64_prec(1.23456, 2), "1.23");
    assert_eq!(format_f64_prec(2.5, 0), "2");
    assert_eq!(format_f64_prec(1.0, -3), "1");
    assert_eq!(format_f64_prec(-0.0, 1), "-0.0");
    assert_eq!(format_f64_prec(f64::NAN, 3), "NaN");
    assert_eq!(format_f32_prec(0.1, 10), "0.1000000015");
}

/// Runs a child scenario; returns (combined stdout+stderr, exit code).
fn run_child(scenario: &str) -> (String, Option<i32>) {
    let dir = std::env::temp_dir().join(format!("blood-rt-output-{}-{scenario}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("out.txt");
    let file = std::fs::File::create(&path).unwrap();
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .env("BLOOD_OUTPUT_CHILD", scenario)
        .stdin(Stdio::null())
        .stdout(Stdio::from(file.try_clone().unwrap()))
        .stderr(Stdio::from(file))
        .status()
        .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let start = text.find("<<").expect("child output has its start marker");
    (text[start..].to_string(), status.code())
}

fn out(stream: i32, s: &str) {
    // SAFETY: `s` is a valid string slice.
    unsafe { blood_print_str(stream, s.as_ptr(), s.len() as i64) }
}

/// Entry point of the child processes; a no-op in the normal test run.
#[test]
fn child_entry() {
    let Ok(scenario) = std::env::var("BLOOD_OUTPUT_CHILD") else { return };
    // SAFETY: a null argv with argc 0 is allowed.
    unsafe { blood_runtime_init(0, std::ptr::null()) };
    match scenario.as_str() {
        "interleave" => {
            out(1, "<<a\n");
            out(2, "b\n");
            blood_print_i64(1, -42);
            blood_print_char(1, '\n' as u32);
            blood_print_u64(2, u64::MAX);
            out(2, "\n");
            blood_print_i128(1, i128::MIN);
            blood_print_bool(1, 1);
            blood_print_f64(1, 0.1 + 0.2);
            blood_print_f32_prec(1, 2.5, 2);
            blood_print_char(1, 'é' as u32);
            blood_print_u128(1, u128::MAX);
            out(1, "\nend>>");
            assert_eq!(blood_runtime_shutdown(), 0);
            // SAFETY: `_exit` ends the process immediately (the harness must not add output).
            unsafe { libc::_exit(0) }
        }
        "panic" => {
            out(1, "<<before");
            let msg = "boom";
            // SAFETY: `msg` is a valid string slice.
            unsafe { blood_panic(msg.as_ptr(), msg.len() as i64) }
        }
        "bounds" => {
            out(1, "<<x");
            blood_panic_bounds(5, 3)
        }
        "exit" => {
            // Large enough to flush once and keep a tail in the buffer.
            out(1, "<<");
            for i in 0..10_000 {
                blood_print_i64(1, i);
                out(1, ",");
            }
            out(1, "done>>");
            // SAFETY: `exit` runs the atexit hook that flushes the runtime's stdout buffer.
            unsafe { libc::exit(3) }
        }
        other => panic!("unknown scenario {other}"),
    }
}

#[test]
fn stdout_and_stderr_keep_program_order() {
    let (text, code) = run_child("interleave");
    assert_eq!(code, Some(0));
    let expected =
        format!("<<a\nb\n-42\n18446744073709551615\n{}true0.300000000000000042.50é{}\nend>>", i128::MIN, u128::MAX);
    assert_eq!(text, expected);
}

#[test]
fn panic_flushes_stdout_and_exits_101() {
    let (text, code) = run_child("panic");
    assert_eq!(code, Some(blood_abi::EXIT_PANIC));
    assert_eq!(text, "<<beforepanic: boom\n");
}

#[test]
fn bounds_panic_message() {
    let (text, code) = run_child("bounds");
    assert_eq!(code, Some(blood_abi::EXIT_PANIC));
    assert_eq!(text, "<<xpanic: index out of bounds: index 5 but length is 3\n");
}

#[test]
fn exit_flushes_through_atexit() {
    let (text, code) = run_child("exit");
    assert_eq!(code, Some(3));
    let expected: String = (0..10_000).map(|i| format!("{i},")).collect();
    assert_eq!(text, format!("<<{expected}done>>"));
}
