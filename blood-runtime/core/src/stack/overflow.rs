//! Stack overflow reporting: the SIGSEGV/SIGBUS handler that recognises faults in a fiber
//! stack's guard page or just below the main thread's stack, and the entry compiled stack-limit
//! checks call.
//!
//! The main thread's stack is recorded by [`watch_main_thread_stack`] (called from
//! `blood_runtime_init`): its lowest address comes from `pthread_getattr_np`, and a fault
//! between [`MAIN_GUARD_BELOW`] bytes under it and one page above it is the kernel's stack guard
//! gap being hit — an overflow of the program's `main` (deep recursion), reported as "stack
//! overflow" with the same exit status as a fiber's.
//!
//! The handler runs on an alternate signal stack (a fiber that overflowed has no stack left);
//! every worker thread installs one with [`ensure_altstack`]. It only does async-signal-safe work:
//! atomic loads to classify the address, a best-effort flush of buffered stdout (`try_lock`, never
//! blocking), `write(2)` and `_exit(2)`. Faults elsewhere are passed to the handler that was
//! installed before ours (Rust's own thread-stack guard handler, or the default action).

use super::reserve::{FaultKind, classify};
use crate::lock::Lock;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The message printed on overflow (followed by a newline).
pub const MESSAGE: &str = "fiber stack overflow";

struct OldActions {
    segv: libc::sigaction,
    bus: libc::sigaction,
}

static OLD: Lock<Option<OldActions>> = Lock::new(None);
static INSTALLED: AtomicBool = AtomicBool::new(false);
/// Lowest address of the main thread's stack (0 = not recorded).
static MAIN_STACK_LOW: AtomicUsize = AtomicUsize::new(0);
/// How far below the main stack's lowest address a fault still counts as its overflow (the
/// kernel keeps a guard gap of 256 pages there; a large frame may jump further).
const MAIN_GUARD_BELOW: usize = 4 << 20;

/// Records the calling thread's stack (call on the main thread) and installs the handler, so a
/// runaway recursion in `main` is reported instead of dying silently with buffered output lost.
pub fn watch_main_thread_stack() {
    // SAFETY: `pthread_getattr_np` fills a zeroed attribute object for the current thread; it is
    // destroyed after use, and the out-pointers are valid locals.
    let low = unsafe {
        let mut attr: libc::pthread_attr_t = core::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return;
        }
        let mut addr: *mut libc::c_void = core::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let ok = libc::pthread_attr_getstack(&attr, &mut addr, &mut size) == 0;
        libc::pthread_attr_destroy(&mut attr);
        if !ok {
            return;
        }
        addr as usize
    };
    MAIN_STACK_LOW.store(low, Ordering::Release);
    install_handler();
}

fn is_main_stack_overflow(addr: usize) -> bool {
    let low = MAIN_STACK_LOW.load(Ordering::Acquire);
    low != 0 && addr < low + super::PAGE_SIZE && addr >= low.saturating_sub(MAIN_GUARD_BELOW)
}

/// Flushes what it can and exits with EXIT_STACK_OVERFLOW. Async-signal-safe.
pub fn report_and_exit() -> ! {
    if !crate::panic::claim_exit() {
        // SAFETY: `_exit` is async-signal-safe and ends the process.
        unsafe { libc::_exit(blood_abi::EXIT_STACK_OVERFLOW) }
    }
    crate::output::try_flush_stdout();
    let line = b"fiber stack overflow\n";
    crate::output::write_all_fd(2, line);
    // SAFETY: `_exit` is async-signal-safe and ends the process.
    unsafe { libc::_exit(blood_abi::EXIT_STACK_OVERFLOW) }
}

extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let addr = unsafe { (*info).si_addr() } as usize;
    if classify(addr) == FaultKind::Guard {
        report_and_exit();
    }
    if is_main_stack_overflow(addr) {
        if !crate::panic::claim_exit() {
            // SAFETY: `_exit` is async-signal-safe and ends the process.
            unsafe { libc::_exit(blood_abi::EXIT_STACK_OVERFLOW) }
        }
        crate::output::try_flush_stdout();
        crate::output::write_all_fd(2, b"stack overflow\n");
        // SAFETY: `_exit` is async-signal-safe and ends the process.
        unsafe { libc::_exit(blood_abi::EXIT_STACK_OVERFLOW) }
    }
    // Not ours: hand over to the previous disposition.
    let Some(old) = OLD.try_lock() else { return };
    let Some(old_actions) = old.as_ref() else { return };
    let prev = if sig == libc::SIGBUS { old_actions.bus } else { old_actions.segv };
    drop(old);
    if prev.sa_sigaction == libc::SIG_DFL || prev.sa_sigaction == libc::SIG_IGN {
        // Restore the default action and return: the faulting instruction runs again and the
        // process dies with the usual signal.
        // SAFETY: plain sigaction calls with valid, zero-initialised structures.
        unsafe {
            let mut dfl: libc::sigaction = core::mem::zeroed();
            dfl.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(sig, &dfl, core::ptr::null_mut());
        }
    } else if prev.sa_flags & libc::SA_SIGINFO != 0 {
        // SAFETY: the previous handler was installed with SA_SIGINFO, so it has this signature.
        let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
            unsafe { core::mem::transmute(prev.sa_sigaction) };
        f(sig, info, ctx);
    } else {
        // SAFETY: a non-SA_SIGINFO handler takes only the signal number.
        let f: extern "C" fn(libc::c_int) = unsafe { core::mem::transmute(prev.sa_sigaction) };
        f(sig);
    }
}

/// Installs the handler for SIGSEGV and SIGBUS once per process.
pub fn install_handler() {
    if INSTALLED.swap(true, Ordering::AcqRel) {
        return;
    }
    // SAFETY: sigaction with valid structures; our handler is async-signal-safe.
    unsafe {
        let mut act: libc::sigaction = core::mem::zeroed();
        act.sa_sigaction = handler as *const () as usize;
        act.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        libc::sigemptyset(&mut act.sa_mask);
        let mut old_segv: libc::sigaction = core::mem::zeroed();
        let mut old_bus: libc::sigaction = core::mem::zeroed();
        libc::sigaction(libc::SIGSEGV, &act, &mut old_segv);
        libc::sigaction(libc::SIGBUS, &act, &mut old_bus);
        *OLD.lock() = Some(OldActions { segv: old_segv, bus: old_bus });
    }
    ensure_altstack();
}

/// Size of the alternate signal stacks the runtime installs.
const ALTSTACK_SIZE: usize = 64 * 1024;

/// Gives the calling thread an alternate signal stack if it has none (it is leaked with the
/// thread: worker threads live as long as their runtime).
pub fn ensure_altstack() {
    // SAFETY: querying and setting the signal stack of the current thread with valid pointers;
    // the new stack is a fresh mapping that is never unmapped.
    unsafe {
        let mut cur: libc::stack_t = core::mem::zeroed();
        if libc::sigaltstack(core::ptr::null(), &mut cur) != 0 {
            return;
        }
        if cur.ss_flags & libc::SS_DISABLE == 0 && cur.ss_size >= 16 * 1024 {
            return;
        }
        let p = libc::mmap(
            core::ptr::null_mut(),
            ALTSTACK_SIZE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if p == libc::MAP_FAILED {
            return;
        }
        let st = libc::stack_t { ss_sp: p, ss_flags: 0, ss_size: ALTSTACK_SIZE };
        libc::sigaltstack(&st, core::ptr::null_mut());
    }
}
