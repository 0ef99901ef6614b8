//! `blood-runtime-minimal`: the runtime `blood build --runtime=minimal` links (concurrency spec
//! §11.7). `#![no_std]`: `core`, `alloc` and `libc` only, built with `panic = "abort"`.
//!
//! # What it is
//! The same C ABI as the full runtime (`blood_abi::RUNTIME_EXPORTS` and `FIBER_EXPORTS` minus
//! `blood_abi::MINIMAL_EXCLUDED`), with the same statuses, exit codes and messages. Everything
//! that does not depend on scheduling (output, panics, allocation, strings, numbers, clock,
//! arguments, `blood_runtime_init`, the context switch, stack slots and the overflow handler) is
//! `blood-runtime-core`, shared with the full runtime. This crate adds a **single-threaded**
//! scheduler: fibers, channels and `select`, timers (`sleep`, select timeouts), cancellation,
//! nurseries, park/unpark and safepoint preemption. There is no worker pool, no reactor, no
//! logging, no metrics and no environment configuration; no OS thread is ever started.
//!
//! # Design (`sched.rs`, `chan.rs`, `ffi.rs`)
//! * **One thread, one scheduler context.** Fibers run on the thread that called into the
//!   runtime (the program's main thread). The code that is not on a fiber — `main` before
//!   `blood_runtime_run_main`, or the C `main` waiting in `run_main` — is represented by a
//!   pseudo-fiber record without a stack ([`sched::Rt::main`]). When it blocks, *it runs the
//!   scheduler loop* until it is woken: take the first runnable fiber (FIFO), switch to it, and
//!   when it switches back (it blocked, yielded or finished) take the next. Fibers only ever
//!   switch to that loop, never to each other, and the loop is never re-entered.
//! * **Waiting** is one protocol (`sched::block`): mark the current record Blocked, switch to the
//!   loop; `sched::wake` makes a Blocked record Runnable (appends it to the run queue, or lets the
//!   main pseudo-fiber's loop return). Every wait re-checks its condition after waking, so a wake
//!   may be spurious (an unpark, a stale timer is filtered by the wait generation).
//! * **Timers**: a binary heap of (deadline, fiber, wait generation) on the monotonic clock. When
//!   nothing is runnable the loop fires expired timers, then sleeps the thread with
//!   `clock_nanosleep` until the earliest deadline. Nothing runnable and no timer: every fiber is
//!   blocked forever (a deadlock); the thread sleeps in `pause()`, as the full runtime's idle
//!   workers would park forever.
//! * **Preemption without a monitor thread**: while a fiber runs and another fiber is runnable or
//!   a timer is pending, an interval timer (`setitimer(ITIMER_REAL)`, every half slice) raises
//!   SIGALRM, whose handler only stores 1 to `blood_preempt_flag`. The next compiled safepoint
//!   calls `blood_safepoint_slow`, which clears the flag, fires expired timers and yields if the
//!   fiber has run for a whole slice (10 ms) and something else is runnable. The timer is
//!   disarmed while the loop sleeps or only one fiber exists.
//! * **Structured completion**: a fiber whose body ended (returned, or left through
//!   `blood_fiber_exit_cancelled`) gives its stack back at once but completes only after its
//!   children; the last child to complete completes its parent, and so on. Joiners are woken on
//!   completion. Each record is freed when its reference count drops to zero (references: its
//!   life until completion, the id registry until joined, each pending timer entry, and the loop
//!   while the record's last context switch is still in flight).
//! * **Cancellation**: each fiber has a cancellation parent, its spawner or the nursery it was
//!   spawned into; nurseries have the enclosing nursery or their opener. Cancelling sets the flag
//!   of the whole subtree at once (an explicit work list, no recursion) and wakes the blocked
//!   ones; a fiber spawned under a cancelled node starts cancelled.
//! * **Channels** (`chan.rs`) have a buffer, a queue of blocked receivers (a `select` registers
//!   in several) and a queue of blocked senders holding their value; a receiver takes from the
//!   buffer, refilling it from the first blocked sender, or from that sender directly (rendezvous).
//!   A send or close wakes one blocked receiver, which retries; a receiver that leaves without
//!   taking what it was woken for (it took another arm, timed out, was cancelled) passes the wake
//!   on to the next receiver of every channel that is still ready, so no value is left with
//!   receivers asleep.
//!
//! # Invariants
//! * Only the runtime's thread touches the scheduler state ([`sched::Rt`], the records, the
//!   channels, the nurseries): compiled programs cannot start threads under this runtime (the
//!   compiler rejects `thread_spawn`), and the two signal handlers touch only the preemption word
//!   (SIGALRM) or exit the process (SIGSEGV/SIGBUS, `blood-runtime-core`). So there are no locks
//!   and no atomics besides the preemption word; the state is reached through raw pointers whose
//!   borrows never span a context switch.
//! * A record is Running only while it is the current one; Runnable records are in the run queue
//!   exactly once; Blocked records are in no run queue.
//! * A fiber's stack is in use only between its first switch-in and its final switch-out; the
//!   loop recycles it after that switch-out (never while running on it).
//! * No Rust panic unwinds: the crate is built with `panic = "abort"` and the panic handler prints
//!   `internal runtime error: <message>` (stdout flushed first) and aborts, like the full
//!   runtime's `ffi_guard`.

#![no_std]
#![allow(non_upper_case_globals)]

extern crate alloc;

mod chan;
mod ffi;
mod sched;

pub use blood_runtime_core::exports::*;
pub use ffi::*;

/// The global allocator: the C library's `malloc`, as `std`'s `System` allocator on Linux.
struct Malloc;

/// Alignment `malloc` guarantees on the supported 64-bit targets.
const MALLOC_ALIGN: usize = 16;

// SAFETY: every method forwards to the C allocator with the layout's size, using
// `posix_memalign` when the alignment exceeds what `malloc` guarantees, as `GlobalAlloc` requires.
unsafe impl core::alloc::GlobalAlloc for Malloc {
    unsafe fn alloc(&self, layout: core::alloc::Layout) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN && layout.align() <= layout.size() {
            // SAFETY: `malloc` has no preconditions; a null result is reported to the caller.
            unsafe { libc::malloc(layout.size()).cast() }
        } else {
            let mut out: *mut libc::c_void = core::ptr::null_mut();
            let align = layout.align().max(core::mem::size_of::<usize>());
            // SAFETY: `align` is a power of two and a multiple of the pointer size; `out` is a
            // valid place for the result.
            if unsafe { libc::posix_memalign(&mut out, align, layout.size()) } != 0 {
                return core::ptr::null_mut();
            }
            out.cast()
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: core::alloc::Layout) {
        // SAFETY: `ptr` came from `malloc`/`posix_memalign`/`realloc` (the trait's contract).
        unsafe { libc::free(ptr.cast()) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: core::alloc::Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= MALLOC_ALIGN && layout.align() <= new_size {
            // SAFETY: `ptr` came from this allocator with `layout`; `realloc` keeps the contents.
            unsafe { libc::realloc(ptr.cast(), new_size).cast() }
        } else {
            // SAFETY: the trait's contract; `new_size` with the old alignment is a valid layout.
            unsafe {
                let new = core::alloc::Layout::from_size_align_unchecked(new_size, layout.align());
                let p = self.alloc(new);
                if !p.is_null() {
                    core::ptr::copy_nonoverlapping(ptr, p, layout.size().min(new_size));
                    self.dealloc(ptr, layout);
                }
                p
            }
        }
    }
}

#[global_allocator]
static ALLOCATOR: Malloc = Malloc;

/// A Rust panic is a runtime bug: report it like the full runtime's `ffi_guard` and abort.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    blood_runtime_core::panic::internal_error(format_args!(": {}", info.message()))
}

/// The precompiled `core` and `alloc` carry unwind tables that name the personality routine,
/// although with `panic = "abort"` nothing ever unwinds; this definition satisfies the linker.
/// It is never called.
#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() {}
