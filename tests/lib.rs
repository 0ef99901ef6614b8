//! Helpers shared by the end-to-end test harnesses (`run_pass.rs`, `compile_fail.rs`,
//! `snapshots.rs`): finding test files, reading their header directives (LANGUAGE.md §10),
//! running work on a few threads, running a program with a time limit, and printing diffs.
//!
//! The harnesses are `harness = false` test binaries: each walks its directory, compiles every
//! file in-process through `bloodc::driver::compile`, prints one line per failure and a closing
//! `NAME: N passed, N failed` line, and exits non-zero if anything failed.
//!
//! Command line of every harness (what `cargo test -p blood-tests [-- ARGS]` passes through):
//! positional arguments are substring filters on the file path (a filter naming the harness
//! itself selects everything), `--test-threads=N` sets the worker count (also
//! `BLOOD_TEST_THREADS`), other flags are ignored.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests crate has a parent").to_path_buf()
}

/// This crate's directory (`<root>/tests`).
pub fn tests_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// All `*.blood` files under `dir` (recursively if `recursive`), sorted by path. A missing
/// directory yields no files.
pub fn blood_files(dir: &Path, recursive: bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    collect(dir, recursive, &mut out);
    out.sort();
    out
}

fn collect(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if recursive {
                collect(&path, recursive, out);
            }
        } else if path.extension().is_some_and(|e| e == "blood") {
            out.push(path);
        }
    }
}

/// `path` relative to the workspace root, with `/` separators (for messages and snapshots).
pub fn display_path(path: &Path) -> String {
    let root = workspace_root();
    path.strip_prefix(&root).unwrap_or(path).to_string_lossy().replace('\\', "/")
}

/// Whether `path` only serves as a module of another test (LANGUAGE.md §10): its first line is
/// `// COMPILE_FAIL:`, it has no `fn main`, and another `.blood` file of the same directory loads
/// it with `mod NAME;`.
pub fn is_module_helper(path: &Path) -> bool {
    let Ok(source) = fs::read_to_string(path) else { return false };
    let header = source.lines().next().is_some_and(|l| l.trim_start().starts_with("// COMPILE_FAIL:"));
    if !header || source.contains("fn main") {
        return false;
    }
    let (Some(stem), Some(dir)) = (path.file_stem().and_then(|s| s.to_str()), path.parent()) else { return false };
    let item = format!("mod {stem};");
    blood_files(dir, false)
        .iter()
        .filter(|p| p.as_path() != path)
        .any(|p| fs::read_to_string(p).is_ok_and(|s| s.contains(&item)))
}

/// The worker counts (`BLOOD_NUM_WORKERS`) a run-pass program is run with: programs under a
/// directory named `concurrency` (`tests/run-pass/concurrency/`, `examples/concurrency/`) run once
/// with 1 worker and once with 2, since their output must not depend on the number of workers;
/// every other program runs once with the runtime's default (`None`: the variable is not set).
/// Only directories inside the workspace count (not where the workspace itself is checked out).
pub fn worker_counts(path: &Path) -> &'static [Option<&'static str>] {
    let root = workspace_root();
    let inside = path.strip_prefix(&root).unwrap_or(path);
    let parents = inside.parent().map(|p| p.components().any(|c| c.as_os_str() == "concurrency"));
    if parents == Some(true) { &[Some("1"), Some("2")] } else { &[None] }
}

/// Expected exit status of a run-pass program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpectExit {
    Code(i32),
    Nonzero,
}

/// The header directives of a test file (LANGUAGE.md §10, plus `EXPECT_STDERR`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directives {
    /// `// EXPECT: text` lines, in order (stdout lines for run-pass, diagnostic substrings for
    /// compile-fail).
    pub expect: Vec<String>,
    /// `// EXPECT_EXIT: N|nonzero`; default 0.
    pub expect_exit: ExpectExit,
    /// `// EXPECT_STDERR: text` (this project's extension): a substring of the program's stderr.
    pub expect_stderr: Vec<String>,
    /// `// XFAIL: reason` on the first line.
    pub xfail: Option<String>,
    /// `// COMPILE_FAIL: reason` on the first line.
    pub compile_fail: Option<String>,
    /// `// OPT_LEVELS: O2` (this project's extension): the optimisation levels a run-pass program
    /// is built at (default: both `O2` and `O0`). For programs that rely on an optimisation,
    /// e.g. tail-recursion elimination for recursion deeper than the stack.
    pub opt_levels: Vec<String>,
}

/// Reads the directives of a test file. `EXPECT:` text is everything after `EXPECT:` and the
/// spaces that follow it (a trailing `\r` is dropped).
pub fn parse_directives(source: &str) -> Result<Directives, String> {
    let mut d = Directives {
        expect: Vec::new(),
        expect_exit: ExpectExit::Code(0),
        expect_stderr: Vec::new(),
        xfail: None,
        compile_fail: None,
        opt_levels: vec!["O2".to_string(), "O0".to_string()],
    };
    for (i, raw) in source.lines().enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw).trim_start();
        let Some(comment) = line.strip_prefix("//") else { continue };
        let comment = comment.trim_start_matches(' ');
        if let Some(text) = comment.strip_prefix("EXPECT:") {
            d.expect.push(text.trim_start_matches(' ').to_string());
        } else if let Some(text) = comment.strip_prefix("EXPECT_STDERR:") {
            d.expect_stderr.push(text.trim_start_matches(' ').to_string());
        } else if let Some(text) = comment.strip_prefix("EXPECT_EXIT:") {
            let text = text.trim();
            d.expect_exit = if text == "nonzero" {
                ExpectExit::Nonzero
            } else {
                ExpectExit::Code(text.parse().map_err(|_| format!("line {}: bad EXPECT_EXIT value `{text}`", i + 1))?)
            };
        } else if let Some(text) = comment.strip_prefix("OPT_LEVELS:") {
            // `O2`, `O0 O2`, `O2, O0`; anything after the list is a comment.
            d.opt_levels = text
                .split([' ', ','])
                .filter(|l| !l.is_empty())
                .take_while(|l| *l == "O0" || *l == "O2")
                .map(str::to_string)
                .collect();
            if d.opt_levels.is_empty() {
                return Err(format!("line {}: OPT_LEVELS needs O0 and/or O2", i + 1));
            }
        } else if let Some(text) = comment.strip_prefix("XFAIL:") {
            if i != 0 {
                return Err(format!("line {}: XFAIL must be on the first line", i + 1));
            }
            d.xfail = Some(text.trim().to_string());
        } else if let Some(text) = comment.strip_prefix("COMPILE_FAIL:") {
            if i != 0 {
                return Err(format!("line {}: COMPILE_FAIL must be on the first line", i + 1));
            }
            d.compile_fail = Some(text.trim().to_string());
        }
    }
    Ok(d)
}

/// Harness command-line arguments.
#[derive(Clone, Debug)]
pub struct Args {
    pub filters: Vec<String>,
    pub threads: usize,
}

impl Args {
    /// Parses `std::env::args()` for the harness called `name`.
    pub fn from_env(name: &str) -> Args {
        let mut filters = Vec::new();
        let mut threads = std::env::var("BLOOD_TEST_THREADS").ok().and_then(|v| v.parse().ok());
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            if let Some(n) = a.strip_prefix("--test-threads=") {
                threads = n.parse().ok();
            } else if a == "--test-threads" {
                threads = args.next().and_then(|n| n.parse().ok());
            } else if a == "--skip" || a == "--format" || a == "--color" || a == "-Z" {
                args.next();
            } else if a.starts_with('-') {
                // libtest flags (`--nocapture`, `--quiet`, …) have no meaning here.
            } else if !name.contains(a.as_str()) {
                filters.push(a);
            }
        }
        let default = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 4);
        Args { filters, threads: threads.unwrap_or(default).max(1) }
    }

    /// Whether `path` passes the filters (no filter: everything).
    pub fn selects(&self, path: &Path) -> bool {
        let shown = display_path(path);
        self.filters.is_empty() || self.filters.iter().any(|f| shown.contains(f.as_str()))
    }
}

/// Applies `f` to every item on `threads` worker threads; results keep the input order.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads.min(items.len()).max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
                }
            });
        }
    });
    results.into_inner().unwrap_or_else(|e| e.into_inner()).into_iter().map(|r| r.expect("every item ran")).collect()
}

/// What a finished (or killed) program did.
#[derive(Debug)]
pub struct RunResult {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
}

/// Runs `program` with no stdin, capturing stdout and stderr (through files in `scratch`, so a
/// chatty program cannot block on a full pipe), killing it after `timeout`.
pub fn run_with_timeout(program: &Path, args: &[&str], scratch: &Path, timeout: Duration) -> io::Result<RunResult> {
    run_with_env(program, args, &[], scratch, timeout)
}

/// [`run_with_timeout`] with extra environment variables set for the program.
pub fn run_with_env(
    program: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    scratch: &Path,
    timeout: Duration,
) -> io::Result<RunResult> {
    let out_path = scratch.join("stdout.txt");
    let err_path = scratch.join("stderr.txt");
    let mut child = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out_path)?)
        .stderr(fs::File::create(&err_path)?)
        .spawn()?;
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if start.elapsed() > timeout {
            timed_out = true;
            let _ = child.kill();
            break child.wait()?;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let read = |p: &Path| String::from_utf8_lossy(&fs::read(p).unwrap_or_default()).into_owned();
    Ok(RunResult { status, stdout: read(&out_path), stderr: read(&err_path), timed_out })
}

/// Describes an exit status: `exit status 3`, `killed by signal 11`.
pub fn describe_status(status: &ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return format!("killed by signal {sig}");
        }
    }
    match status.code() {
        Some(c) => format!("exit status {c}"),
        None => "unknown exit status".to_string(),
    }
}

/// Whether `status` is what `expect` asks for.
pub fn status_matches(status: &ExitStatus, expect: ExpectExit) -> bool {
    match expect {
        ExpectExit::Code(c) => status.code() == Some(c),
        ExpectExit::Nonzero => !status.success(),
    }
}

/// A line diff of expected vs actual output, or `None` if they are equal. Lines present in
/// both at the same position are shown with two spaces, others with `-` (expected) / `+`
/// (actual); at most `limit` lines are shown from the first difference on.
pub fn line_diff(expected: &[String], actual: &[&str], limit: usize) -> Option<String> {
    if expected.len() == actual.len() && expected.iter().zip(actual).all(|(e, a)| e == a) {
        return None;
    }
    let first = expected.iter().zip(actual).take_while(|(e, a)| e == a).count();
    let mut out =
        format!("stdout differs at line {} (expected {} lines, got {}):", first + 1, expected.len(), actual.len());
    let start = first.saturating_sub(2);
    let end = expected.len().max(actual.len()).min(first + limit);
    for i in start..end {
        match (expected.get(i), actual.get(i)) {
            (Some(e), Some(a)) if e == a => out.push_str(&format!("\n      {e}")),
            (e, a) => {
                if let Some(e) = e {
                    out.push_str(&format!("\n    - {e}"));
                }
                if let Some(a) = a {
                    out.push_str(&format!("\n    + {a}"));
                }
            }
        }
    }
    if end < expected.len().max(actual.len()) {
        out.push_str("\n    …");
    }
    Some(out)
}

/// Replaces absolute workspace paths in compiler output by workspace-relative ones so that
/// snapshots do not depend on where the repository is checked out.
pub fn stable_paths(text: &str) -> String {
    let root = workspace_root();
    let mut out = text.to_string();
    let mut prefixes = vec![root.to_string_lossy().into_owned()];
    if let Ok(canon) = root.canonicalize() {
        prefixes.push(canon.to_string_lossy().into_owned());
    }
    for p in prefixes {
        out = out.replace(&format!("{p}/"), "");
    }
    out
}

/// Prints `label` results and exits with status 1 if anything failed.
pub fn finish(label: &str, passed: usize, failed: usize) -> ! {
    println!("{label}: {passed} passed, {failed} failed");
    std::process::exit(if failed == 0 { 0 } else { 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives() {
        let d = parse_directives(
            "// XFAIL: not yet\nfn main() {}\n// EXPECT: a  b\n//EXPECT:\n  // EXPECT:   x\n// EXPECT_EXIT: 101\n// EXPECT_STDERR: boom\n",
        )
        .unwrap();
        assert_eq!(d.expect, vec!["a  b", "", "x"]);
        assert_eq!(d.expect_exit, ExpectExit::Code(101));
        assert_eq!(d.expect_stderr, vec!["boom"]);
        assert_eq!(d.xfail.as_deref(), Some("not yet"));
        assert!(parse_directives("fn main() {}\n// XFAIL: late\n").is_err());
        assert_eq!(parse_directives("// EXPECT_EXIT: nonzero").unwrap().expect_exit, ExpectExit::Nonzero);
        assert!(parse_directives("// EXPECT_EXIT: lots").is_err());
        assert_eq!(parse_directives("").unwrap().opt_levels, vec!["O2", "O0"]);
        assert_eq!(parse_directives("// OPT_LEVELS: O2").unwrap().opt_levels, vec!["O2"]);
        assert_eq!(parse_directives("// OPT_LEVELS: O0, O2 (why)").unwrap().opt_levels, vec!["O0", "O2"]);
        assert!(parse_directives("// OPT_LEVELS: O3").is_err());
    }

    #[test]
    fn module_helpers() {
        let dir = tempfile_dir("helpers");
        let write = |name: &str, text: &str| fs::write(dir.join(name), text).unwrap();
        write("geo.blood", "// COMPILE_FAIL: module of user.blood\npub fn area() -> i32 { 1 }\n");
        write("user.blood", "mod geo;\nfn main() {}\n");
        write("nomain.blood", "// COMPILE_FAIL: main function not found\nfn f() {}\n");
        assert!(is_module_helper(&dir.join("geo.blood")));
        assert!(!is_module_helper(&dir.join("user.blood")));
        assert!(!is_module_helper(&dir.join("nomain.blood")));
        fs::remove_dir_all(&dir).unwrap();
    }

    fn tempfile_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("blood-tests-lib-{tag}-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn concurrency_programs_run_with_one_and_two_workers() {
        let root = workspace_root();
        assert_eq!(worker_counts(&root.join("tests/run-pass/concurrency/pipeline.blood")), &[Some("1"), Some("2")]);
        assert_eq!(worker_counts(&root.join("examples/concurrency/fan_in.blood")), &[Some("1"), Some("2")]);
        assert_eq!(worker_counts(&root.join("tests/run-pass/concurrency/deeper/x.blood")), &[Some("1"), Some("2")]);
        assert_eq!(worker_counts(&root.join("examples/fib.blood")), &[None]);
        assert_eq!(worker_counts(&root.join("tests/run-pass/concurrency_notes.blood")), &[None]);
        assert_eq!(worker_counts(&root.join("tests/run-pass/l2/concurrency.blood")), &[None]);
    }

    #[test]
    fn runs_with_extra_environment() {
        let dir = tempfile_dir("env");
        let r = run_with_env(
            Path::new("/bin/sh"),
            &["-c", "echo \"$BLOOD_NUM_WORKERS\""],
            &[("BLOOD_NUM_WORKERS", "2")],
            &dir,
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(r.stdout, "2\n");
        assert!(r.status.success());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn diff() {
        let e = vec!["1".to_string(), "2".to_string()];
        assert!(line_diff(&e, &["1", "2"], 10).is_none());
        let d = line_diff(&e, &["1", "3", "4"], 10).unwrap();
        assert!(d.contains("- 2") && d.contains("+ 3") && d.contains("+ 4"), "{d}");
    }

    #[test]
    fn parallel_keeps_order() {
        let v: Vec<u32> = (0..50).collect();
        assert_eq!(parallel_map(&v, 3, |x| x * 2), v.iter().map(|x| x * 2).collect::<Vec<_>>());
    }
}
