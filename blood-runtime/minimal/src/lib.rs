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
//!   armed when a fiber is switched to, or becomes runnable, while another is runnable or a
//!   timer is pending, and stays armed until the loop sleeps or returns to code outside fibers
//!   (no system call per switch).
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
//! * A fiber's stack is taken from the free list (or carved) when the loop first switches to it,
//!   and is in use only until its final switch-out; the loop recycles it after that switch-out
//!   (never while running on it). Stacks are reused LIFO, so a program that spawns and joins
//!   one fiber at a time touches one stack.
//! * No Rust panic unwinds: the crate is built with `panic = "abort"` and the panic handler prints
//!   `internal runtime error: <message>` (stdout flushed first) and aborts, like the full
//!   runtime's `ffi_guard`.

#![no_std]
#![allow(non_upper_case_globals)]

extern crate alloc;

mod chan;
mod ffi;
mod registry;
mod sched;

pub use blood_runtime_core::exports::*;
pub use ffi::*;

// The archive's process-wide items (global allocator, panic handler, personality stub) exist
// only in the `panic = "abort"` build bloodc/build.rs makes (the `minimal-runtime` profile).
// Workspace builds (tests, clippy) compile this crate as an rlib with `panic = "unwind"` next to
// `std` (cargo unifies `blood-runtime-core`'s `std` feature with the full runtime's), which has
// its own.
#[cfg(panic = "abort")]
mod process;
