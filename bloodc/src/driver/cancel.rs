//! Ctrl+C and SIGTERM: the process-wide cancellation token and the one place temp files are
//! cleaned up.
//!
//! Why it looks like this: a build or a fetch must stop within 500 ms of a signal, remove what
//! it was writing and exit with status 130, yet the stages (parser, type checker, codegen) are
//! plain synchronous code that cannot be interrupted from outside, and a blocked network read
//! cannot either. So cancellation has two paths that share one state:
//!
//! * the polite path: the signal sets the [`CancelToken`]; the driver checks it between phases
//!   and the fetcher between reads; the failing operation unwinds through normal `Drop`s (every
//!   temp path is a [`TempPath`], removed when dropped), and `main` prints the message and
//!   exits with 130;
//! * the forced path: if the main thread has not exited [`GRACE`] after the signal (it is deep
//!   inside one long phase or a blocked read), or a second signal arrives, the signal thread
//!   kills the child processes (a running linker), removes every registered temp path itself,
//!   prints the message and exits with 130.
//!
//! Both paths remove temp files through the registry here, under one mutex, so an output
//! rename ([`commit`]) and a forced exit never interleave: either the output was committed
//! before the cancellation (the build finished; the signal is then ignored) or it is not
//! written at all. Signals are received with `signal-hook`'s iterator on an ordinary thread, so
//! nothing here runs in a signal handler.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

/// Exit status of a cancelled `blood` (128 + SIGINT, the shell convention).
pub const EXIT_CANCELLED: u8 = 130;

/// How long the main thread may take to stop on its own before the signal thread forces the
/// exit. Below the 500 ms promise, leaving time for the cleanup itself.
pub const GRACE: Duration = Duration::from_millis(250);

/// A cancellation flag that can be shared with every phase and download.
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// `Err(Cancelled)` once the token is set; the `?`-friendly check used between steps.
    pub fn check(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() { Err(Cancelled) } else { Ok(()) }
    }
}

/// The error value of an operation stopped by cancellation.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Cancelled;

/// What the process is doing, for the message printed on cancellation.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Operation {
    Compile = 0,
    Fetch = 1,
    /// The build's output is committed (or a program is running under `blood run`): signals no
    /// longer cancel anything in `blood` itself.
    Done = 2,
}

impl Operation {
    fn message(self) -> &'static str {
        match self {
            Operation::Fetch => "fetch cancelled",
            Operation::Compile | Operation::Done => "compilation cancelled",
        }
    }
}

struct State {
    token: CancelToken,
    operation: AtomicU8,
    /// Set by whichever path (main thread or signal thread) reports the cancellation first.
    reported: AtomicBool,
    temps: Mutex<Vec<(u64, PathBuf)>>,
    next_id: AtomicU64,
}

fn state() -> &'static State {
    static STATE: OnceLock<State> = OnceLock::new();
    STATE.get_or_init(|| State {
        token: CancelToken::new(),
        operation: AtomicU8::new(Operation::Compile as u8),
        reported: AtomicBool::new(false),
        temps: Mutex::new(Vec::new()),
        next_id: AtomicU64::new(0),
    })
}

fn temps() -> MutexGuard<'static, Vec<(u64, PathBuf)>> {
    // A panic while holding the lock leaves a plain Vec behind: still usable.
    state().temps.lock().unwrap_or_else(|e| e.into_inner())
}

/// The process-wide token that signals set.
pub fn global() -> &'static CancelToken {
    &state().token
}

/// Whether a signal asked this process to stop.
pub fn is_cancelled() -> bool {
    global().is_cancelled()
}

pub fn set_operation(operation: Operation) {
    state().operation.store(operation as u8, Ordering::SeqCst);
}

fn operation() -> Operation {
    match state().operation.load(Ordering::SeqCst) {
        0 => Operation::Compile,
        1 => Operation::Fetch,
        _ => Operation::Done,
    }
}

/// Installs the SIGINT/SIGTERM listener thread. Called once by `blood` at startup for the
/// commands that build or fetch; library users (tests, the harness) never receive signals.
pub fn install_signal_handler() -> Result<(), String> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])
        .map_err(|e| format!("cannot install the signal handler: {e}"))?;
    std::thread::Builder::new()
        .name("blood-signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                if operation() == Operation::Done {
                    // A program runs under `blood run`. A terminal's Ctrl+C reaches it directly
                    // (same process group); a SIGTERM aimed at `blood` alone is passed on.
                    if sig == SIGTERM {
                        signal_descendants(SIGTERM, false);
                    }
                    continue;
                }
                if global().is_cancelled() {
                    // Second signal: no more grace.
                    force_exit();
                }
                global().cancel();
                std::thread::spawn(|| {
                    std::thread::sleep(GRACE);
                    force_exit();
                });
            }
        })
        .map_err(|e| format!("cannot start the signal thread: {e}"))?;
    Ok(())
}

/// Prints the cancellation message once (whichever path gets here first). Returns whether this
/// call printed it.
pub fn report() -> bool {
    if state().reported.swap(true, Ordering::SeqCst) {
        return false;
    }
    eprintln!("{}", operation().message());
    true
}

/// The forced path: kill children, remove every registered temp path, report, exit 130. Holds
/// the registry lock until the process is gone, so no [`commit`] can run concurrently.
fn force_exit() -> ! {
    let mut temps = temps();
    if operation() == Operation::Done {
        // The output was committed while we waited for the lock: the build finished.
        drop(temps);
        loop {
            std::thread::park();
        }
    }
    kill_children();
    for (_, path) in temps.drain(..) {
        remove_path(&path);
    }
    report();
    std::process::exit(EXIT_CANCELLED as i32)
}

/// Commits an output (the rename of a finished executable into place) atomically with respect
/// to cancellation: if the token is set, nothing is committed; otherwise `f` runs while forced
/// exits are held off. A build that committed its output counts as finished.
pub fn commit<T>(f: impl FnOnce() -> T) -> Result<T, Cancelled> {
    let _guard = temps();
    global().check()?;
    Ok(f())
}

/// Like [`commit`] for the final output of the command: once it is in place the command counts
/// as finished (see [`finish`]), in the same critical section, so a signal arriving just after
/// cannot turn a finished build into an exit with 130.
pub fn commit_output<T>(f: impl FnOnce() -> T) -> Result<T, Cancelled> {
    let _guard = temps();
    global().check()?;
    let value = f();
    set_operation(Operation::Done);
    Ok(value)
}

/// Marks the end of the cancellable part of the command (the build's output exists, or a
/// program is about to run under `blood run`): later signals are left to the child, and a
/// pending forced exit stands down, so a finished build never exits with 130.
pub fn finish() {
    let _guard = temps();
    set_operation(Operation::Done);
}

/// A temporary file or directory that is removed when dropped, and by a forced exit.
#[derive(Debug)]
pub struct TempPath {
    id: u64,
    path: PathBuf,
}

impl TempPath {
    /// Registers `path` (which the caller is about to create or has created).
    pub fn register(path: impl Into<PathBuf>) -> TempPath {
        let path = path.into();
        let id = state().next_id.fetch_add(1, Ordering::Relaxed);
        temps().push((id, path.clone()));
        TempPath { id, path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Unregisters without removing (the path was renamed into its final place).
    pub fn keep(self) {
        temps().retain(|(id, _)| *id != self.id);
        std::mem::forget(self);
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let mut temps = temps();
        temps.retain(|(id, _)| *id != self.id);
        remove_path(&self.path);
    }
}

/// Creates a fresh temporary directory under `parent`, registered for cleanup.
pub fn temp_dir_in(parent: &Path, prefix: &str) -> std::io::Result<TempPath> {
    let dir = tempfile::Builder::new().prefix(prefix).tempdir_in(parent)?;
    // Ownership moves from `tempfile` to the registry; `keep` stops tempfile's own removal.
    let path = dir.keep();
    Ok(TempPath::register(path))
}

fn remove_path(path: &Path) {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => {
            let _ = std::fs::remove_dir_all(path);
        }
        Ok(_) => {
            let _ = std::fs::remove_file(path);
        }
        Err(_) => {}
    }
}

/// Kills the processes started by this one (a linker and the tools it runs), so none of them
/// writes files after we are gone.
fn kill_children() {
    signal_descendants(libc::SIGKILL, true);
}

/// Sends `sig` to the children of this process, and to their descendants if `all`. Linux: the
/// process tree is read from `/proc` (elsewhere nothing is sent).
fn signal_descendants(sig: i32, all: bool) {
    let me = std::process::id() as i32;
    let Ok(entries) = std::fs::read_dir("/proc") else { return };
    let mut parent_of: Vec<(i32, i32)> = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // `pid (comm) state ppid ...`; comm may contain spaces and parentheses, so split after
        // the last `)`.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else { continue };
        if let Some(ppid) = rest.split_whitespace().nth(1).and_then(|s| s.parse::<i32>().ok()) {
            parent_of.push((pid, ppid));
        }
    }
    let mut tree = vec![me];
    let mut i = 0;
    while i < tree.len() && (all || i == 0) {
        let parent = tree[i];
        tree.extend(parent_of.iter().filter(|(_, pp)| *pp == parent).map(|(p, _)| *p));
        i += 1;
    }
    for &pid in &tree[1..] {
        // SAFETY: `kill` has no memory-safety preconditions. `pid` descends from this process;
        // a direct child cannot be reused while unreaped, and a grandchild that exited in the
        // meantime is at worst a stale pid (the window is a few microseconds).
        unsafe {
            libc::kill(pid, sig);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_check() {
        let t = CancelToken::new();
        assert!(t.check().is_ok());
        let u = t.clone();
        u.cancel();
        assert_eq!(t.check(), Err(Cancelled));
    }

    #[test]
    fn temp_paths_are_removed_on_drop_and_kept_on_keep() {
        let base = tempfile::tempdir().unwrap();
        let a = temp_dir_in(base.path(), "a-").unwrap();
        std::fs::write(a.path().join("f"), "x").unwrap();
        let a_path = a.path().to_path_buf();
        drop(a);
        assert!(!a_path.exists());
        let b = temp_dir_in(base.path(), "b-").unwrap();
        let b_path = b.path().to_path_buf();
        b.keep();
        assert!(b_path.exists());
        assert!(!temps().iter().any(|(_, p)| p == &b_path));
    }
}
