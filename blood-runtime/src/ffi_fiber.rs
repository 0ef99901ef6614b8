//! The fiber, channel and scheduler part of the C ABI (re-exported by `ffi_exports`).
//!
//! Fibers are named by `u64` ids (never 0; `blood_fiber_current` returns 0 on the root fiber and
//! outside fibers). An id is the fiber's completion cell's index and incarnation (`record.rs`:
//! `CompletionRef::from_id`), so `join`/`is_finished`/`cancel`/`unpark` find the fiber without a
//! map: a spawn here gives the id one count of the cell (the JoinHandle's, forgotten), and the
//! first join by id that returns (any outcome) gives it back; from then on, and once the cell is
//! reused for another fiber, the id names nothing (status 4), so a copied Blood `FiberHandle`
//! joined twice, or a stale id, is an error and never another fiber's result. Only fibers spawned
//! through this ABI (`FiberConfig::by_id`) can be joined by id. Channels are opaque `u64` handles
//! (an `Arc` turned into a pointer) carrying `u64` values.
//!
//! Status codes (`blood_abi::STATUS_*`): 0 ok, 1 closed, 2 cancelled, 3 would block (full /
//! empty), 4 no such fiber, 5 the joined fiber failed, 6 the joined fiber was cancelled.
//! Every function runs under `ffi_guard`, so no Rust panic crosses the boundary: generated code
//! has no unwind information, so nothing may unwind through its frames.
//!
//! # Ending a cancelled fiber
//! Cancellation is cooperative (LANGUAGE.md §7.2): the cancellation points (`blood_fiber_sleep`,
//! `blood_channel_send`/`recv`, `blood_fiber_try_join`, `blood_channel_select`,
//! `blood_fiber_check_cancelled`) return 2 (select: -2) once the calling fiber is cancelled, and
//! generated code then runs its `finally` clauses and calls `blood_fiber_exit_cancelled()`
//! (noreturn). That ends the fiber right there as Cancelled, through the same path as a body
//! that returns (`fiber/entry.rs`): the abandoned frames are never resumed nor unwound, its open
//! nurseries and children are cancelled, it completes once its children have (without keeping
//! its stack), joiners get 6 (`blood_fiber_join` panics "joined a cancelled fiber"), and its
//! stack and record are recycled. On `main`'s root fiber, `blood_runtime_run_main` then panics
//! "main fiber cancelled"; outside fibers the call panics "cancelled".
//!
//! # Nurseries (`with Nursery {} handle { body }`)
//! `blood_nursery_begin` opens a nursery and pushes it on the *caller's* stack of open nurseries
//! (per fiber, in its record, since fibers migrate between workers; per thread outside fibers).
//! While it is the innermost one, every `blood_fiber_spawn`, `_spawn_with` and `_spawn_config` of
//! that fiber — in the body or in any function it calls — spawns into it: the new fiber's
//! cancellation parent is the nursery's token, `blood_nursery_end` joins it, and it is still
//! registered for join-by-id. A spawned fiber starts with an empty stack, so *its* spawns are its
//! own children (which it waits for before completing), not the nursery's. Nested nurseries nest
//! their tokens (cancelling the outer cancels the inner). `blood_nursery_end(n)` (body completed)
//! and `blood_nursery_abort(n)` (body left early: cancel, then end) join, pop and free `n`, which
//! must be the caller's innermost open nursery (else: internal error, abort);
//! `blood_nursery_cancel(n)` only cancels; `blood_nursery_spawn(n, …)` spawns into `n`
//! explicitly. A fiber that exits inside open nurseries (cancelled) aborts them as it ends.
//!
//! Fibers spawned here and never joined keep their completion cell (64 bytes; not their record nor
//! their stack) until the process ends, since a Blood `FiberHandle` is a copyable value the runtime
//! cannot track.

use crate::channel::{self, Chan, RecvError, Selected, SendError, TryRecvError, TrySendError};
use crate::fiber::{CompletionRef, FiberRef, Outcome};
use crate::fiber::{FiberConfig, JoinError, JoinHandle, Priority};
use crate::panic::{blood_panic, ffi_guard};
use crate::scheduler::{self, worker};
use crate::scope::{self, Nursery};
use blood_runtime_core::fiber_abi::{self, SelectOutcome};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const OK: i32 = 0;
const CLOSED: i32 = 1;
const CANCELLED: i32 = 2;
const WOULD_BLOCK: i32 = 3;
const NO_SUCH_FIBER: i32 = 4;
const FAILED: i32 = 5;
const JOINED_CANCELLED: i32 = 6;

/// Id of the root fiber started by `blood_runtime_run_main` (reported as 0).
static ROOT_ID: AtomicU64 = AtomicU64::new(u64::MAX);

/// Gives the handle's count of the completion cell to the fiber id (see the header).
fn register(h: JoinHandle<u64>) -> u64 {
    let id = h.id();
    h.completion.forget();
    id
}

/// The completion cell of a fiber spawned here and not joined yet, with a temporary count.
fn lookup(id: u64) -> Option<CompletionRef> {
    CompletionRef::from_id(id).filter(|c| c.by_id() && !c.id_joined())
}

/// The registered fiber's record, while it has not completed.
fn lookup_fiber(id: u64) -> Option<FiberRef> {
    lookup(id).and_then(|c| c.fiber())
}

/// Every C ABI spawn: into the caller's innermost open nursery if it has one (see the header).
// Inlined: see `RuntimeInner::spawn_body_on`.
#[inline(always)]
fn spawn_c(cfg: FiberConfig, f: impl FnOnce() -> u64 + Send + 'static) -> u64 {
    register(scope::spawn_in_innermost(FiberConfig { by_id: true, ..cfg }, f))
}

fn sync_stack_mask() {
    let mask = crate::stack::pool().geometry.slot_size as u64 - 1;
    crate::ffi_exports::blood_stack_slot_mask.store(mask, Ordering::Release);
}

/// `int32_t blood_scheduler_init(uint64_t workers)`: starts the process-wide runtime with
/// `workers` workers (0: `BLOOD_NUM_WORKERS` or the CPU count). Returns 0, or
/// `EXIT_RUNTIME_INIT_FAILED` after printing the configuration error. Idempotent.
#[unsafe(no_mangle)]
pub extern "C" fn blood_scheduler_init(workers: u64) -> i32 {
    ffi_guard("blood_scheduler_init", || {
        let cfg = match crate::config::Config::from_env() {
            Ok(c) if workers > 0 => c.with_workers(workers as usize),
            Ok(c) => c,
            Err(e) => {
                crate::output::write_bytes(crate::output::Stream::Stderr, format!("blood runtime: {e}\n").as_bytes());
                return blood_abi::EXIT_RUNTIME_INIT_FAILED;
            }
        };
        match scheduler::init_global(cfg) {
            Ok(_) => {
                sync_stack_mask();
                0
            }
            Err(e) => {
                crate::output::write_bytes(crate::output::Stream::Stderr, format!("blood runtime: {e}\n").as_bytes());
                blood_abi::EXIT_RUNTIME_INIT_FAILED
            }
        }
    })
}

/// `void blood_scheduler_shutdown(void)`: waits until every fiber has finished. The workers keep
/// running until `blood_runtime_shutdown`.
#[unsafe(no_mangle)]
pub extern "C" fn blood_scheduler_shutdown() {
    ffi_guard("blood_scheduler_shutdown", || {
        if let Some(rt) = scheduler::global_if_started()
            && !worker::on_fiber()
        {
            rt.wait_idle();
        }
    })
}

/// `int32_t blood_runtime_run_main(int32_t (*main)(void))`: runs `main` as the root fiber (its
/// `blood_fiber_current` is 0), waits for it and all its descendants, returns its status.
#[unsafe(no_mangle)]
pub extern "C" fn blood_runtime_run_main(main: extern "C" fn() -> i32) -> i32 {
    ffi_guard("blood_runtime_run_main", || {
        let rt = scheduler::global();
        sync_stack_mask();
        // The root records its own id before running `main`: a worker may start it before
        // `spawn_with` has even returned here.
        let h = rt.spawn_with(FiberConfig::named("main"), move || {
            ROOT_ID.store(scheduler::current_id(), Ordering::Release);
            main()
        });
        match h.join() {
            Ok(status) => status,
            Err(JoinError::Cancelled) => blood_panic(b"main fiber cancelled"),
            Err(e) => blood_panic(e.to_string().as_bytes()),
        }
    })
}

/// `uint64_t blood_fiber_spawn(uint64_t (*f)(void))`: spawns `f` on the process-wide runtime;
/// returns the fiber id.
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_spawn(f: extern "C" fn() -> u64) -> u64 {
    ffi_guard("blood_fiber_spawn", || spawn_c(FiberConfig::default(), move || f()))
}

/// `uint64_t blood_fiber_spawn_with(uint64_t (*f)(uint64_t), uint64_t arg)`.
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_spawn_with(f: extern "C" fn(u64) -> u64, arg: u64) -> u64 {
    ffi_guard("blood_fiber_spawn_with", || spawn_c(FiberConfig::default(), move || f(arg)))
}

/// `uint64_t blood_fiber_spawn_pair(uint64_t (*f)(uint64_t, uint64_t), uint64_t a, uint64_t b)`:
/// as `blood_fiber_spawn_with` with two words (a Blood `fn` value's code and environment, so a
/// task closure reaches its fiber without an allocation of its own).
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_spawn_pair(f: extern "C" fn(u64, u64) -> u64, a: u64, b: u64) -> u64 {
    ffi_guard("blood_fiber_spawn_pair", || spawn_c(FiberConfig::default(), move || f(a, b)))
}

/// `uint64_t blood_fiber_spawn_env(uint64_t (*f)(uint64_t, uint64_t, uint64_t), uint64_t a,
/// uint64_t b, uint64_t c)`: as `blood_fiber_spawn_pair` with three words (up to three captured
/// values of a task closure, which the compiler's per-closure `f` rebuilds: no environment is
/// allocated). The closure handed to the scheduler is four words, which the fiber record stores
/// inline.
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_spawn_env(f: extern "C" fn(u64, u64, u64) -> u64, a: u64, b: u64, c: u64) -> u64 {
    ffi_guard("blood_fiber_spawn_env", || spawn_c(FiberConfig::default(), move || f(a, b, c)))
}

/// `uint64_t blood_fiber_spawn_config(uint64_t (*f)(uint64_t), uint64_t arg, uint64_t
/// stack_size, int32_t priority, const uint8_t *name, int64_t name_len)`: `stack_size` 0 = the
/// maximum; priority 0 Low, 1 Normal, 2 High, 3 Critical; `name` may be null.
///
/// # Safety
/// `name` must be null or point to `name_len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_fiber_spawn_config(
    f: extern "C" fn(u64) -> u64,
    arg: u64,
    stack_size: u64,
    priority: i32,
    name: *const u8,
    name_len: i64,
) -> u64 {
    ffi_guard("blood_fiber_spawn_config", || {
        let name = if name.is_null() || name_len <= 0 {
            None
        } else {
            // SAFETY: the caller guarantees `name` points to `name_len` bytes.
            let bytes = unsafe { std::slice::from_raw_parts(name, name_len as usize) };
            Some(String::from_utf8_lossy(bytes).into_owned())
        };
        let cfg = FiberConfig {
            name,
            stack_size: stack_size as usize,
            priority: Priority::from_abi(priority),
            cancel_parent: None,
            by_id: true,
        };
        spawn_c(cfg, move || f(arg))
    })
}

fn try_join_id(id: u64) -> Result<u64, i32> {
    // The common case, a finished fiber whose cell only the id still holds: one CAS, no lock.
    if let Some(mut unique) = CompletionRef::claim_by_id(id) {
        return id_join_result(unique.get_mut().join.get_mut().unwrap_or_else(|e| e.into_inner()));
    }
    let Some(completion) = CompletionRef::from_id(id).filter(|c| c.by_id()) else { return Err(NO_SUCH_FIBER) };
    if crate::fiber::handle::wait_finished(&completion).is_err() {
        return Err(CANCELLED);
    }
    let r = {
        let mut j = completion.join.lock().unwrap_or_else(|e| e.into_inner());
        if !completion.mark_id_joined() {
            return Err(NO_SUCH_FIBER);
        }
        id_join_result(&mut j)
    };
    // SAFETY: `id_joined` was false, so the count `register` gave the id is still there, and
    // this join, which set it, is the one to release it.
    unsafe { completion.drop_with_forgotten() };
    r
}

/// What a join by id returns, from the joined fiber's outcome (taken if it completed).
#[inline]
fn id_join_result(j: &mut crate::fiber::JoinState) -> Result<u64, i32> {
    match &j.outcome {
        Some(Outcome::Completed(_)) => match j.outcome.take() {
            Some(Outcome::Completed(v)) => v.take::<u64>().ok_or(FAILED),
            _ => unreachable!("checked above"),
        },
        // A cancelled caller hears of its own cancellation first: the fiber it joins (say its
        // child, cancelled with it) may have ended cancelled just before.
        Some(Outcome::Cancelled) if crate::waiter::current_cancelled() => Err(CANCELLED),
        Some(Outcome::Cancelled) => Err(JOINED_CANCELLED),
        Some(Outcome::Failed(_)) => Err(FAILED),
        // Taken by a Rust join of the same fiber (or never run: the runtime shut down).
        None => Err(NO_SUCH_FIBER),
    }
}

/// `uint64_t blood_fiber_await(uint64_t id)`: waits for the fiber and returns its result.
/// Panics ("joined a cancelled fiber", …) if it did not complete normally. A cancellation point:
/// a caller cancelled while waiting ends right there as by `blood_fiber_exit_cancelled` (code
/// that must run `finally` clauses first uses `blood_fiber_try_join`, which returns 2).
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_await(id: u64) -> u64 {
    ffi_guard("blood_fiber_await", || fiber_abi::await_result(id, try_join_id(id)))
}

/// `int32_t blood_fiber_try_join(uint64_t id, uint64_t *out)`: 0 and `*out` = result; 6 the
/// fiber was cancelled; 5 it failed; 2 the caller was cancelled while waiting (or is cancelled
/// and the fiber ended cancelled); 4 unknown id.
///
/// # Safety
/// `out` must be valid for a write (or null to discard the value).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_fiber_try_join(id: u64, out: *mut u64) -> i32 {
    // SAFETY: forwarded caller contract.
    ffi_guard("blood_fiber_try_join", || unsafe { fiber_abi::try_join_status(try_join_id(id), out) })
}

/// `uint64_t blood_fiber_current(void)`: the running fiber's id; 0 outside fibers and on the
/// root fiber.
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_current() -> u64 {
    ffi_guard("blood_fiber_current", || {
        let id = scheduler::current_id();
        if id == ROOT_ID.load(Ordering::Acquire) { 0 } else { id }
    })
}

/// `void blood_fiber_yield(void)`: lets other runnable fibers run (no-op if none).
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_yield() {
    ffi_guard("blood_fiber_yield", scheduler::yield_now)
}

/// `int32_t blood_fiber_sleep(uint64_t ns)`: suspends for at least `ns` nanoseconds; 0, or 2 if
/// the fiber was cancelled (a cancellation point).
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_sleep(ns: u64) -> i32 {
    ffi_guard("blood_fiber_sleep", || match crate::time::sleep(Duration::from_nanos(ns)) {
        Ok(()) => OK,
        Err(_) => CANCELLED,
    })
}

/// `int8_t blood_fiber_is_finished(uint64_t id)`: 1 if the fiber has finished (or is unknown:
/// already joined).
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_is_finished(id: u64) -> i8 {
    ffi_guard("blood_fiber_is_finished", || lookup(id).is_none_or(|f| f.is_finished()) as i8)
}

/// `void blood_fiber_cancel(uint64_t id)`: requests cancellation of the fiber and its
/// descendants, waking it if suspended. Unknown ids are ignored.
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_cancel(id: u64) {
    ffi_guard("blood_fiber_cancel", || {
        if let Some(f) = lookup_fiber(id) {
            f.cancel();
        }
    })
}

/// `int8_t blood_fiber_is_cancelled(void)`: whether the current fiber was cancelled.
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_is_cancelled() -> i8 {
    ffi_guard("blood_fiber_is_cancelled", || crate::waiter::current_cancelled() as i8)
}

/// `int32_t blood_fiber_check_cancelled(void)`: the `Cancel.check_cancelled` point: 0, or 2 if
/// the current fiber was cancelled (the caller then ends the fiber).
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_check_cancelled() -> i32 {
    ffi_guard("blood_fiber_check_cancelled", || if crate::waiter::current_cancelled() { CANCELLED } else { OK })
}

/// `noreturn void blood_fiber_exit_cancelled(void)`: ends the current fiber as Cancelled, right
/// here, without returning or unwinding: generated code calls it when a cancellation point
/// (`sleep`, `recv`, `send`, `join`, `select`, `check_cancelled`) reported cancellation. The
/// frames above it on the fiber stack are abandoned (nothing in them is dropped). Exactly as when
/// a body returns: the fiber's open nurseries and children are cancelled, it completes only
/// after its children (without holding its stack meanwhile), its joiners see it cancelled
/// (`blood_fiber_try_join` → 6, `blood_fiber_join` panics "joined a cancelled fiber"), its parent
/// is notified, and its stack and record are recycled. On the root fiber of
/// `blood_runtime_run_main`, `run_main` then panics with "main fiber cancelled". Outside fibers
/// it panics with "cancelled" (exit status 101).
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_exit_cancelled() -> ! {
    ffi_guard("blood_fiber_exit_cancelled", || {
        match worker::with_current_fiber(|f| f.map(FiberRef::as_ptr)) {
            None => blood_panic(b"cancelled"),
            // SAFETY: `p` is the running fiber, kept alive by its worker's `current` reference
            // until `exit_cancelled` switches away for good.
            Some(p) => unsafe { crate::fiber::exit_cancelled(&*p) },
        }
    })
}

/// `void blood_fiber_park(void)`: suspends the current fiber until `blood_fiber_unpark` (or a
/// cancellation); may return spuriously, like every park.
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_park() {
    ffi_guard("blood_fiber_park", || {
        if worker::on_fiber() && !crate::waiter::current_cancelled() {
            crate::waiter::park();
        }
    })
}

/// `void blood_fiber_unpark(uint64_t id)`: wakes a parked fiber (a later park returns at once if
/// it was not parked yet).
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_unpark(id: u64) {
    ffi_guard("blood_fiber_unpark", || {
        if let Some(f) = lookup_fiber(id) {
            f.wake();
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Channels of u64.

/// SAFETY contract of every channel function: `ch` was returned by `blood_channel_create` and not
/// released.
fn chan<'a>(ch: u64) -> &'a Chan<u64> {
    // SAFETY: see above; the Arc stays alive until `blood_channel_release`.
    unsafe { &*(ch as usize as *const Chan<u64>) }
}

/// `uint64_t blood_channel_create(int64_t capacity)`: a channel handle; capacity < 0 unbounded,
/// 0 rendezvous.
#[unsafe(no_mangle)]
pub extern "C" fn blood_channel_create(capacity: i64) -> u64 {
    ffi_guard("blood_channel_create", || {
        let cap = if capacity < 0 { usize::MAX } else { capacity as usize };
        Arc::into_raw(Arc::new(Chan::<u64>::new(cap))) as usize as u64
    })
}

/// `int32_t blood_channel_send(uint64_t ch, uint64_t v)`: 0, 1 closed, 2 cancelled.
///
/// # Safety
/// `ch` is a live channel handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_channel_send(ch: u64, v: u64) -> i32 {
    ffi_guard("blood_channel_send", || match chan(ch).send(v) {
        Ok(()) => OK,
        Err(SendError::Closed(_)) => CLOSED,
        Err(SendError::Cancelled(_)) => CANCELLED,
    })
}

/// `int32_t blood_channel_recv(uint64_t ch, uint64_t *out)`: 0 and `*out`, 1 closed and
/// drained, 2 cancelled.
///
/// # Safety
/// `ch` is a live channel handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_channel_recv(ch: u64, out: *mut u64) -> i32 {
    ffi_guard("blood_channel_recv", || match chan(ch).recv() {
        Ok(v) => {
            // SAFETY: the caller guarantees `out` is writable.
            unsafe { out.write(v) };
            OK
        }
        Err(RecvError::Closed) => CLOSED,
        Err(_) => CANCELLED,
    })
}

/// `int32_t blood_channel_try_send(uint64_t ch, uint64_t v)`: 0, 1 closed, 3 full.
///
/// # Safety
/// `ch` is a live channel handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_channel_try_send(ch: u64, v: u64) -> i32 {
    ffi_guard("blood_channel_try_send", || match chan(ch).try_send(v) {
        Ok(()) => OK,
        Err(TrySendError::Closed(_)) => CLOSED,
        Err(TrySendError::Full(_)) => WOULD_BLOCK,
    })
}

/// `int32_t blood_channel_try_recv(uint64_t ch, uint64_t *out)`: 0, 1 closed, 3 empty.
///
/// # Safety
/// `ch` is a live channel handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_channel_try_recv(ch: u64, out: *mut u64) -> i32 {
    ffi_guard("blood_channel_try_recv", || match chan(ch).try_recv() {
        Ok(v) => {
            // SAFETY: the caller guarantees `out` is writable.
            unsafe { out.write(v) };
            OK
        }
        Err(TryRecvError::Closed) => CLOSED,
        Err(TryRecvError::Empty) => WOULD_BLOCK,
    })
}

/// `void blood_channel_close(uint64_t ch)`.
///
/// # Safety
/// `ch` is a live channel handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_channel_close(ch: u64) {
    ffi_guard("blood_channel_close", || {
        chan(ch).close();
    })
}

/// `void blood_channel_release(uint64_t ch)`: drops the handle; the channel is freed when no
/// operation uses it any more. Using `ch` afterwards is undefined.
///
/// # Safety
/// `ch` is a live channel handle, released once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_channel_release(ch: u64) {
    ffi_guard("blood_channel_release", || {
        // SAFETY: `ch` came from `Arc::into_raw` in `blood_channel_create`.
        drop(unsafe { Arc::from_raw(ch as usize as *const Chan<u64>) });
    })
}

/// `void blood_channel_retain(uint64_t ch)`: one more handle on the channel, released with
/// `blood_channel_release` like the first.
///
/// # Safety
/// `ch` is a live channel handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_channel_retain(ch: u64) {
    ffi_guard("blood_channel_retain", || {
        // SAFETY: `ch` came from `Arc::into_raw` in `blood_channel_create` and is live, so the
        // count is at least one.
        unsafe { Arc::increment_strong_count(ch as usize as *const Chan<u64>) }
    })
}

/// `int64_t blood_channel_select(const uint64_t *chs, int64_t n, int64_t timeout_ns, uint64_t
/// *out_value, int32_t *out_status)`: waits on `n` receivers. Returns the ready arm's index with
/// `*out_status` 0 (value in `*out_value`) or 1 (closed); -1 when nothing was ready (timeout_ns
/// == 0: default arm) or the timeout (timeout_ns > 0) expired; -2 if cancelled. timeout_ns < 0
/// waits as long as needed.
///
/// # Safety
/// `chs` points to `n` live channel handles; the out pointers are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_channel_select(
    chs: *const u64,
    n: i64,
    timeout_ns: i64,
    out_value: *mut u64,
    out_status: *mut i32,
) -> i64 {
    ffi_guard("blood_channel_select", || {
        // SAFETY: the caller guarantees `n` handles at `chs`.
        let handles = unsafe { fiber_abi::select_handles(chs, n) };
        // Borrowed receivers: the Arcs are re-created without owning a count.
        let receivers: Vec<std::mem::ManuallyDrop<channel::Receiver<u64>>> = handles
            .iter()
            .map(|&h| {
                // SAFETY: each handle is a live `Arc<Chan<u64>>` pointer; ManuallyDrop keeps the
                // reference count unchanged.
                let arc = unsafe { Arc::from_raw(h as usize as *const Chan<u64>) };
                std::mem::ManuallyDrop::new(channel::Receiver(arc))
            })
            .collect();
        let arms: Vec<&channel::Receiver<u64>> = receivers.iter().map(|r| &**r).collect();
        let deadline =
            if timeout_ns < 0 { None } else { Some(Instant::now() + Duration::from_nanos(timeout_ns as u64)) };
        let outcome = match channel::select_recv(&arms, deadline) {
            Selected::Value(i, v) => SelectOutcome::Value(i, v),
            Selected::Closed(i) => SelectOutcome::Closed(i),
            Selected::Timeout => SelectOutcome::Timeout,
            Selected::Cancelled => SelectOutcome::Cancelled,
        };
        // SAFETY: the caller guarantees both pointers are writable (null is skipped).
        unsafe { fiber_abi::select_return(outcome, out_value, out_status) }
    })
}

// ---------------------------------------------------------------------------------------------
// Nurseries, threads, safepoint hooks, I/O reactor, statistics.

/// `uint64_t blood_nursery_begin(void)`: opens a nursery and makes it the caller's innermost
/// open nursery: until it ends, every `blood_fiber_spawn*` of the calling fiber (or thread) spawns
/// into it (see the header).
#[unsafe(no_mangle)]
pub extern "C" fn blood_nursery_begin() -> u64 {
    ffi_guard("blood_nursery_begin", || scope::begin_nursery() as usize as u64)
}

/// The nursery behind a handle.
///
/// # Safety
/// `nursery` came from `blood_nursery_begin` and was not ended.
unsafe fn nursery<'a>(nursery: u64) -> &'a Nursery {
    // SAFETY: per the contract the nursery is alive.
    unsafe { &*(nursery as usize as *const Nursery) }
}

/// `uint64_t blood_nursery_spawn(uint64_t nursery, uint64_t (*f)(uint64_t), uint64_t arg)`:
/// spawns a fiber owned by the given nursery (open or not innermost); returns its id.
///
/// # Safety
/// `nursery` came from `blood_nursery_begin` and was not ended.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_nursery_spawn(nursery: u64, f: extern "C" fn(u64) -> u64, arg: u64) -> u64 {
    ffi_guard("blood_nursery_spawn", || {
        // SAFETY: forwarded contract.
        let n = unsafe { self::nursery(nursery) };
        register(n.scope().spawn_with(FiberConfig { by_id: true, ..FiberConfig::default() }, move || f(arg)))
    })
}

/// `void blood_nursery_cancel(uint64_t nursery)`: cancels the nursery's fibers (they are still
/// joined by `blood_nursery_end`).
///
/// # Safety
/// As for `blood_nursery_spawn`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_nursery_cancel(nursery: u64) {
    ffi_guard("blood_nursery_cancel", || {
        // SAFETY: forwarded contract.
        unsafe { self::nursery(nursery) }.scope().cancel()
    })
}

/// `void blood_nursery_end(uint64_t nursery)`: waits for every fiber of the nursery (not a
/// cancellation point), closes and frees it. It must be the caller's innermost open nursery;
/// anything else is a compiler bug (internal error, abort).
///
/// # Safety
/// As for `blood_nursery_spawn`; the handle is dead afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_nursery_end(nursery: u64) {
    ffi_guard("blood_nursery_end", || {
        // SAFETY: forwarded contract.
        unsafe { scope::end_nursery(nursery as usize as *mut Nursery, false) }
    })
}

/// `void blood_nursery_abort(uint64_t nursery)`: `blood_nursery_cancel` then `blood_nursery_end`
/// (the body was left early, e.g. by `return`).
///
/// # Safety
/// As for `blood_nursery_end`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_nursery_abort(nursery: u64) {
    ffi_guard("blood_nursery_abort", || {
        // SAFETY: forwarded contract.
        unsafe { scope::end_nursery(nursery as usize as *mut Nursery, true) }
    })
}

/// `uint64_t blood_thread_spawn(uint64_t (*f)(uint64_t), uint64_t arg)`: runs `f(arg)` on a new
/// OS thread; returns a handle for `blood_thread_join` (0 if the thread could not start).
#[cfg(feature = "full")] // not in the minimal runtime: blood_abi::MINIMAL_EXCLUDED
#[unsafe(no_mangle)]
pub extern "C" fn blood_thread_spawn(f: extern "C" fn(u64) -> u64, arg: u64) -> u64 {
    ffi_guard("blood_thread_spawn", || match std::thread::Builder::new().spawn(move || f(arg)) {
        Ok(h) => Box::into_raw(Box::new(h)) as usize as u64,
        Err(_) => 0,
    })
}

/// `uint64_t blood_thread_join(uint64_t handle)`: waits for the thread, returns its result.
///
/// # Safety
/// `handle` came from `blood_thread_spawn` and is joined once.
#[cfg(feature = "full")] // not in the minimal runtime: blood_abi::MINIMAL_EXCLUDED
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_thread_join(handle: u64) -> u64 {
    ffi_guard("blood_thread_join", || {
        if handle == 0 {
            return 0;
        }
        // SAFETY: per the contract.
        let h = unsafe { Box::from_raw(handle as usize as *mut std::thread::JoinHandle<u64>) };
        h.join().unwrap_or_else(|_| blood_panic(b"joined a panicked thread"))
    })
}

/// `void blood_safepoint_request(void)`: asks the current worker to yield at its next safepoint.
#[unsafe(no_mangle)]
pub extern "C" fn blood_safepoint_request() {
    ffi_guard("blood_safepoint_request", worker::request_preempt_current)
}

/// `void blood_safepoint_clear(void)`: withdraws such a request.
#[unsafe(no_mangle)]
pub extern "C" fn blood_safepoint_clear() {
    ffi_guard("blood_safepoint_clear", worker::clear_preempt_current)
}

/// `int32_t blood_io_reactor_init(void)`: this runtime has no I/O reactor yet; returns -1
/// (ENOSYS-like) so callers can tell, instead of pretending to have started one.
#[cfg(feature = "full")] // not in the minimal runtime: blood_abi::MINIMAL_EXCLUDED
#[unsafe(no_mangle)]
pub extern "C" fn blood_io_reactor_init() -> i32 {
    -1
}

/// `uint64_t blood_runtime_stats(BloodRuntimeStats *out, uint64_t size)`: copies up to `size`
/// bytes of the counters (`blood_abi::RUNTIME_STATS_FIELDS`, all u64) of the process-wide runtime
/// into `out`; returns the bytes written (0 if the runtime has not started).
///
/// # Safety
/// `out` must be writable for `size` bytes.
#[cfg(feature = "full")] // not in the minimal runtime: blood_abi::MINIMAL_EXCLUDED
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_runtime_stats(out: *mut u8, size: u64) -> u64 {
    ffi_guard("blood_runtime_stats", || {
        let Some(rt) = scheduler::global_if_started() else { return 0 };
        let snap = rt.counters();
        let n = (size as usize).min(std::mem::size_of_val(&snap));
        // SAFETY: `snap` is a repr(C) struct of u64 (no padding); `out` is writable for `size`.
        unsafe { std::ptr::copy_nonoverlapping((&snap as *const crate::metrics::Snapshot).cast::<u8>(), out, n) };
        n as u64
    })
}
