//! run-pass: every `tests/run-pass/**/*.blood` and `examples/**/*.blood` is compiled to an
//! executable (in-process, `bloodc::driver::compile`), run, and checked against its header
//! (LANGUAGE.md §10): stdout lines against the `// EXPECT:` lines, the exit status against
//! `// EXPECT_EXIT: N|nonzero` (default 0), and each `// EXPECT_STDERR: text` (this project's
//! extension) as a substring of stderr.
//!
//! Every program is built twice, at `-O2` (the default) and at `-O0`, and must behave the same
//! way under both (`// OPT_LEVELS: O2` restricts a program that depends on an optimisation).
//! Programs under a directory named `concurrency` (`tests/run-pass/concurrency/`,
//! `examples/concurrency/`) are run twice per build, with `BLOOD_NUM_WORKERS=1` and `=2`: their
//! output must not depend on the number of worker threads.
//!
//! Every program is also built at `-O2` against the minimal runtime (`--runtime=minimal`: one
//! worker, so run once) and must behave the same way there. A program that needs something the
//! minimal runtime lacks (OS threads, more than one worker, …) must be rejected at build time
//! with the minimal-runtime diagnostic; it is then listed as `minimal: skipped` (any other build
//! failure under the minimal runtime is a failure). `BLOOD_TEST_RUNTIMES=full` skips the minimal
//! runs (`=minimal` runs only them).
//!
//! `// XFAIL: reason` files are run too and reported on their own line; one that passes is a
//! failure ("XPASS": remove the marker), so a fixed bug cannot hide behind a stale marker.

use blood_tests::{
    Args, Directives, ExpectExit, blood_files, describe_status, display_path, finish, is_module_helper, line_diff,
    parse_directives, run_with_env, status_matches, tests_dir, worker_counts, workspace_root,
};
use bloodc::driver::{CompileFailure, CompileOptions, Emit, OptLevel, RuntimeKind, compile};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Generous: every program is meant to finish well within a second.
const RUN_TIMEOUT: Duration = Duration::from_secs(20);

enum Outcome {
    Pass,
    Fail(String),
}

/// The diagnostic text of a program rejected for the minimal runtime (`driver::MinimalRuntimeError`).
const MINIMAL_REJECTION: &str = "which the minimal runtime does not provide";

/// Which runtimes the programs are run under (`BLOOD_TEST_RUNTIMES`: `full`, `minimal`, or both
/// by default).
fn runtimes() -> (bool, bool) {
    match std::env::var("BLOOD_TEST_RUNTIMES").as_deref() {
        Ok("full") => (true, false),
        Ok("minimal") => (false, true),
        _ => (true, true),
    }
}

fn main() {
    let args = Args::from_env("run_pass");
    let mut files = blood_files(&tests_dir().join("run-pass"), true);
    files.extend(blood_files(&workspace_root().join("examples"), true));
    files.retain(|f| args.selects(f));

    // LANGUAGE.md §10: a `// COMPILE_FAIL:` file without `main` only serves as a module of another
    // test (`mod name;`); it is not a test of its own.
    files.retain(|f| !is_module_helper(f));

    let results = blood_tests::parallel_map(&files, args.threads, |path| check(path));

    let (mut passed, mut failed) = (0, 0);
    let mut xfails = Vec::new();
    let mut minimal_skipped = Vec::new();
    for (path, (directives, outcome, skipped)) in files.iter().zip(results) {
        if let Some(why) = skipped {
            minimal_skipped.push(format!("{}: {why}", display_path(path)));
        }
        let shown = display_path(path);
        let xfail = directives.as_ref().and_then(|d| d.xfail.clone());
        match (outcome, xfail) {
            (Outcome::Pass, None) => passed += 1,
            (Outcome::Pass, Some(reason)) => {
                failed += 1;
                println!("FAIL {shown}: XPASS: marked `XFAIL: {reason}` but passes; remove the marker");
            }
            (Outcome::Fail(why), None) => {
                failed += 1;
                println!("FAIL {shown}: {why}");
            }
            (Outcome::Fail(why), Some(reason)) => {
                xfails.push(format!("{shown} ({reason}): {}", why.lines().next().unwrap_or("")));
            }
        }
    }
    for x in &xfails {
        println!("xfail {x}");
    }
    if !xfails.is_empty() {
        println!("run-pass: {} expected failure(s) (XFAIL)", xfails.len());
    }
    for s in &minimal_skipped {
        println!("minimal: skipped {s}");
    }
    if !minimal_skipped.is_empty() {
        println!("run-pass: {} program(s) rejected for the minimal runtime, as expected", minimal_skipped.len());
    }
    finish("run-pass", passed, failed)
}

/// Runs one program under every configuration; the third value is why the minimal runtime
/// rejected it, if it did.
fn check(path: &Path) -> (Option<Directives>, Outcome, Option<String>) {
    let source = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) => return (None, Outcome::Fail(format!("cannot read: {e}")), None),
    };
    let directives = match parse_directives(&source) {
        Ok(d) => d,
        Err(e) => return (None, Outcome::Fail(format!("bad header: {e}")), None),
    };
    let (full, minimal) = runtimes();
    let mut failures = Vec::new();
    for (opt, name) in [(OptLevel::O2, "O2"), (OptLevel::O0, "O0")] {
        if !full || !directives.opt_levels.iter().any(|l| l == name) {
            continue;
        }
        failures.extend(build_and_run(path, &directives, opt, name));
    }
    let mut skipped = None;
    if minimal {
        match run_minimal(path, &directives) {
            Ok(None) => {}
            Ok(Some(why)) => skipped = Some(why),
            Err(why) => failures.push(why),
        }
    }
    let outcome = if failures.is_empty() { Outcome::Pass } else { Outcome::Fail(failures.join("\n  ")) };
    (Some(directives), outcome, skipped)
}

/// Builds `path` at -O2 against the minimal runtime and runs it once. `Ok(Some(reason))`: the
/// build was refused with the minimal-runtime diagnostic (the program needs an excluded feature).
fn run_minimal(path: &Path, d: &Directives) -> Result<Option<String>, String> {
    let label = "[-O2, --runtime=minimal]";
    let (dir, exe) = match build_with(path, d, OptLevel::O2, RuntimeKind::Minimal) {
        Ok(built) => built,
        Err(why) if why.contains(MINIMAL_REJECTION) => {
            let first = why.lines().find(|l| l.contains(MINIMAL_REJECTION)).unwrap_or("").trim();
            return Ok(Some(first.trim_start_matches("error: ").to_string()));
        }
        Err(why) => return Err(format!("{label} {why}")),
    };
    run_and_check(&exe, &[], dir.path(), d).map(|()| None).map_err(|why| format!("{label} {why}"))
}

/// Builds `path` at `opt` (called `opt_name` in messages) and runs it once per worker count
/// (`worker_counts`). Returns one message per failure, labelled `[-O2]` or
/// `[-O2, BLOOD_NUM_WORKERS=1]`.
fn build_and_run(path: &Path, d: &Directives, opt: OptLevel, opt_name: &str) -> Vec<String> {
    let (dir, exe) = match build(path, d, opt) {
        Ok(built) => built,
        Err(why) => return vec![format!("[-{opt_name}] {why}")],
    };
    let mut failures = Vec::new();
    for workers in worker_counts(path) {
        let (label, env) = match workers {
            Some(n) => (format!("[-{opt_name}, BLOOD_NUM_WORKERS={n}]"), vec![("BLOOD_NUM_WORKERS", *n)]),
            None => (format!("[-{opt_name}]"), Vec::new()),
        };
        if let Err(why) = run_and_check(&exe, &env, dir.path(), d) {
            failures.push(format!("{label} {why}"));
        }
    }
    failures
}

/// Compiles `path` to an executable (full runtime) in a fresh temporary directory.
fn build(path: &Path, d: &Directives, opt: OptLevel) -> Result<(tempfile::TempDir, PathBuf), String> {
    build_with(path, d, opt, RuntimeKind::Full)
}

/// Compiles `path` against `runtime` to an executable in a fresh temporary directory.
fn build_with(
    path: &Path,
    d: &Directives,
    opt: OptLevel,
    runtime: RuntimeKind,
) -> Result<(tempfile::TempDir, PathBuf), String> {
    if d.compile_fail.is_some() {
        return Err("COMPILE_FAIL file in a run-pass directory".to_string());
    }
    let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    let exe: PathBuf = dir.path().join(path.file_stem().unwrap_or_default());
    let mut options = CompileOptions::new(path);
    options.emit = Emit::Exe;
    options.output = Some(exe.clone());
    options.opt_level = opt;
    options.runtime = runtime;
    match std::panic::catch_unwind(|| compile(&options)) {
        Ok(Ok(_)) => {}
        Ok(Err(CompileFailure::Diagnostics(text))) => {
            return Err(format!("compile error:\n{}", indent(&blood_tests::stable_paths(&text))));
        }
        Ok(Err(CompileFailure::Io(text))) => return Err(format!("compile failed (I/O): {text}")),
        Err(_) => return Err("the compiler panicked".to_string()),
    }
    Ok((dir, exe))
}

/// Runs `exe` with `env` added to its environment and checks it against the directives.
fn run_and_check(exe: &Path, env: &[(&str, &str)], scratch: &Path, d: &Directives) -> Result<(), String> {
    let run = run_with_env(exe, &[], env, scratch, RUN_TIMEOUT).map_err(|e| format!("cannot run: {e}"))?;
    let mut problems = Vec::new();
    if run.timed_out {
        problems.push(format!("timed out after {} s", RUN_TIMEOUT.as_secs()));
    }
    let actual: Vec<&str> = run.stdout.lines().collect();
    if let Some(diff) = line_diff(&d.expect, &actual, 12) {
        problems.push(diff);
    }
    if !status_matches(&run.status, d.expect_exit) {
        let want = match d.expect_exit {
            ExpectExit::Code(c) => format!("exit status {c}"),
            ExpectExit::Nonzero => "a non-zero exit status".to_string(),
        };
        problems.push(format!("expected {want}, got {}", describe_status(&run.status)));
    }
    for s in &d.expect_stderr {
        if !run.stderr.contains(s.as_str()) {
            problems.push(format!("stderr does not contain `{s}`"));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    if !run.stderr.is_empty() {
        let tail: Vec<&str> = run.stderr.lines().rev().take(5).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        problems.push(format!("stderr (last lines):\n{}", indent(&tail.join("\n"))));
    }
    Err(problems.join("\n  "))
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
}
