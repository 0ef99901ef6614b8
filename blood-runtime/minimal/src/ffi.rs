//! The scheduler-dependent part of the C ABI: `blood_runtime_shutdown`, `blood_safepoint_slow`
//! and the fiber, channel and nursery entry points of `blood_abi::FIBER_EXPORTS` (minus
//! `blood_abi::MINIMAL_EXCLUDED`). Contracts and statuses are those of the full runtime's
//! `ffi_fiber.rs` (whose header describes cancellation and nurseries); the rest of
//! `RUNTIME_EXPORTS` comes from `blood-runtime-core`.

use crate::chan::{self, Chan, Try};
use crate::sched::{self, Fiber, Nursery, Outcome, Task, rec, rt};
use alloc::boxed::Box;
use blood_abi::{
    STATUS_CANCELLED as CANCELLED, STATUS_CLOSED as CLOSED, STATUS_JOINED_CANCELLED as JOINED_CANCELLED,
    STATUS_NO_SUCH_FIBER as NO_SUCH_FIBER, STATUS_OK as OK, STATUS_WOULD_BLOCK as WOULD_BLOCK,
};
use blood_runtime_core::fiber_abi::{self, SelectOutcome, write_out};
use blood_runtime_core::output;
use blood_runtime_core::panic::{blood_panic, ffi_guard};

/// `int32_t blood_runtime_shutdown(void)`: waits for the fibers still running, flushes standard
/// output and returns 0.
#[unsafe(no_mangle)]
pub extern "C" fn blood_runtime_shutdown() -> i32 {
    ffi_guard("blood_runtime_shutdown", || {
        output::flush_stdout();
        sched::shutdown();
        output::flush_stdout();
        0
    })
}

/// `void blood_safepoint_slow(void)`: yields if the current fiber used up its slice while
/// another one is runnable (or a yield was requested), else returns at once.
#[unsafe(no_mangle)]
pub extern "C" fn blood_safepoint_slow() {
    ffi_guard("blood_safepoint_slow", sched::safepoint_slow)
}

/// `int32_t blood_scheduler_init(uint64_t workers)`: one worker whatever `workers` is (the
/// compiler rejects constants above `blood_abi::MINIMAL_MAX_WORKERS`); always 0.
#[unsafe(no_mangle)]
pub extern "C" fn blood_scheduler_init(_workers: u64) -> i32 {
    ffi_guard("blood_scheduler_init", || {
        sched::init_stacks();
        0
    })
}

/// `void blood_scheduler_shutdown(void)`: waits until every fiber has finished.
#[unsafe(no_mangle)]
pub extern "C" fn blood_scheduler_shutdown() {
    ffi_guard("blood_scheduler_shutdown", sched::wait_all)
}

/// `int32_t blood_runtime_run_main(int32_t (*main)(void))`: runs `main` as the root fiber (its
/// `blood_fiber_current` is 0), waits for it and its descendants, returns its status.
#[unsafe(no_mangle)]
pub extern "C" fn blood_runtime_run_main(main: extern "C" fn() -> i32) -> i32 {
    ffi_guard("blood_runtime_run_main", || {
        let root = sched::spawn(Task::Main(main), 0, None);
        rt().root_id = rec(root).id;
        sched::retain(root);
        let _ = sched::wait_complete(root);
        let outcome = rec(root).outcome;
        sched::release(root);
        match outcome {
            Outcome::Value(v) => v as u32 as i32,
            _ => blood_panic(b"main fiber cancelled"),
        }
    })
}

fn register(f: *mut Fiber) -> u64 {
    sched::retain(f);
    let id = rec(f).id;
    rt().registry.insert(id, f);
    id
}

fn lookup(id: u64) -> Option<*mut Fiber> {
    rt().registry.get(id)
}

fn spawn_c(task: Task, stack_size: usize) -> u64 {
    register(sched::spawn(task, stack_size, None))
}

/// `uint64_t blood_fiber_spawn(uint64_t (*f)(void))`.
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_spawn(f: extern "C" fn() -> u64) -> u64 {
    ffi_guard("blood_fiber_spawn", || spawn_c(Task::F0(f), 0))
}

/// `uint64_t blood_fiber_spawn_with(uint64_t (*f)(uint64_t), uint64_t arg)`.
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_spawn_with(f: extern "C" fn(u64) -> u64, arg: u64) -> u64 {
    ffi_guard("blood_fiber_spawn_with", || spawn_c(Task::F1(f, arg), 0))
}

/// `uint64_t blood_fiber_spawn_pair(uint64_t (*f)(uint64_t, uint64_t), uint64_t a, uint64_t b)`.
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_spawn_pair(f: extern "C" fn(u64, u64) -> u64, a: u64, b: u64) -> u64 {
    ffi_guard("blood_fiber_spawn_pair", || spawn_c(Task::F2(f, a, b), 0))
}

/// `uint64_t blood_fiber_spawn_env(uint64_t (*f)(uint64_t, uint64_t, uint64_t), uint64_t a,
/// uint64_t b, uint64_t c)`.
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_spawn_env(f: extern "C" fn(u64, u64, u64) -> u64, a: u64, b: u64, c: u64) -> u64 {
    ffi_guard("blood_fiber_spawn_env", || spawn_c(Task::F3(f, a, b, c), 0))
}

/// `uint64_t blood_fiber_spawn_config(f, arg, stack_size, priority, name, name_len)`: the stack
/// size is honoured (0: the maximum); priority and name are accepted and ignored (one FIFO queue).
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_spawn_config(
    f: extern "C" fn(u64) -> u64,
    arg: u64,
    stack_size: u64,
    _priority: i32,
    _name: *const u8,
    _name_len: i64,
) -> u64 {
    ffi_guard("blood_fiber_spawn_config", || spawn_c(Task::F1(f, arg), stack_size as usize))
}

fn try_join_id(id: u64) -> Result<u64, i32> {
    let Some(f) = lookup(id) else { return Err(NO_SUCH_FIBER) };
    if sched::wait_complete(f).is_err() {
        return Err(CANCELLED);
    }
    rt().registry.remove(id);
    let outcome = rec(f).outcome;
    sched::release(f);
    match outcome {
        Outcome::Value(v) => Ok(v),
        _ if rec(sched::current()).cancelled => Err(CANCELLED),
        _ => Err(JOINED_CANCELLED),
    }
}

/// `uint64_t blood_fiber_await(uint64_t id)`: the result; panics if the fiber did not complete
/// normally; a cancelled caller ends as by `blood_fiber_exit_cancelled`.
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_await(id: u64) -> u64 {
    ffi_guard("blood_fiber_await", || fiber_abi::await_result(id, try_join_id(id)))
}

/// `int32_t blood_fiber_try_join(uint64_t id, uint64_t *out)`.
///
/// # Safety
/// `out` must be valid for a write (or null).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_fiber_try_join(id: u64, out: *mut u64) -> i32 {
    // SAFETY: forwarded caller contract.
    ffi_guard("blood_fiber_try_join", || unsafe { fiber_abi::try_join_status(try_join_id(id), out) })
}

/// `uint64_t blood_fiber_current(void)`: 0 outside fibers and on the root fiber.
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_current() -> u64 {
    ffi_guard("blood_fiber_current", || {
        let id = rec(sched::current()).id;
        if id == rt().root_id { 0 } else { id }
    })
}

/// `void blood_fiber_yield(void)`.
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_yield() {
    ffi_guard("blood_fiber_yield", sched::yield_now)
}

/// `int32_t blood_fiber_sleep(uint64_t ns)`: 0, or 2 if cancelled.
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_sleep(ns: u64) -> i32 {
    ffi_guard("blood_fiber_sleep", || {
        let me = sched::current();
        let deadline = sched::now_ns().saturating_add(ns);
        loop {
            if rec(me).cancelled {
                return CANCELLED;
            }
            if sched::now_ns() >= deadline {
                return OK;
            }
            sched::add_timer(me, deadline);
            sched::block();
        }
    })
}

/// `int8_t blood_fiber_is_finished(uint64_t id)`: 1 if finished (or unknown: already joined).
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_is_finished(id: u64) -> i8 {
    ffi_guard("blood_fiber_is_finished", || lookup(id).is_none_or(|f| rec(f).complete) as i8)
}

/// `void blood_fiber_cancel(uint64_t id)`: cancels the fiber and its descendants.
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_cancel(id: u64) {
    ffi_guard("blood_fiber_cancel", || {
        if let Some(f) = lookup(id) {
            sched::cancel(f);
        }
    })
}

/// `int8_t blood_fiber_is_cancelled(void)`.
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_is_cancelled() -> i8 {
    ffi_guard("blood_fiber_is_cancelled", || rec(sched::current()).cancelled as i8)
}

/// `int32_t blood_fiber_check_cancelled(void)`: 0, or 2 if the current fiber was cancelled.
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_check_cancelled() -> i32 {
    ffi_guard("blood_fiber_check_cancelled", || if rec(sched::current()).cancelled { CANCELLED } else { OK })
}

/// `noreturn void blood_fiber_exit_cancelled(void)`: ends the current fiber as Cancelled right
/// here (the frames above are abandoned); outside fibers panics "cancelled".
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_exit_cancelled() -> ! {
    ffi_guard("blood_fiber_exit_cancelled", || {
        if !sched::on_fiber() {
            blood_panic(b"cancelled");
        }
        sched::finish_body(sched::current(), Outcome::Cancelled)
    })
}

/// `void blood_fiber_park(void)`: suspends until `blood_fiber_unpark` (or a cancellation); may
/// return spuriously.
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_park() {
    ffi_guard("blood_fiber_park", || {
        let me = sched::current();
        if !sched::on_fiber() || rec(me).cancelled {
            return;
        }
        if core::mem::take(&mut rec(me).unpark_token) {
            return;
        }
        sched::block();
    })
}

/// `void blood_fiber_unpark(uint64_t id)`: wakes a parked fiber (a later park returns at once if
/// it was not parked yet).
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_unpark(id: u64) {
    ffi_guard("blood_fiber_unpark", || {
        if let Some(f) = lookup(id) {
            let fr = rec(f);
            if fr.complete {
                return;
            }
            if fr.state == sched::State::Blocked {
                sched::wake(f);
            } else {
                fr.unpark_token = true;
            }
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Channels.

/// `uint64_t blood_channel_create(int64_t capacity)`: < 0 unbounded, 0 rendezvous.
#[unsafe(no_mangle)]
pub extern "C" fn blood_channel_create(capacity: i64) -> u64 {
    ffi_guard("blood_channel_create", || {
        let cap = if capacity < 0 { usize::MAX } else { capacity as usize };
        Box::into_raw(Box::new(Chan::new(cap))) as usize as u64
    })
}

/// `int32_t blood_channel_send(uint64_t ch, uint64_t v)`: 0, 1 closed, 2 cancelled.
///
/// # Safety
/// `ch` is a live channel handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_channel_send(ch: u64, v: u64) -> i32 {
    // SAFETY: forwarded caller contract.
    ffi_guard("blood_channel_send", || match unsafe { chan::send(ch, v) } {
        Try::Done(()) => OK,
        Try::Closed => CLOSED,
        Try::WouldBlock => CANCELLED,
    })
}

/// `int32_t blood_channel_recv(uint64_t ch, uint64_t *out)`: 0, 1 closed and drained, 2
/// cancelled.
///
/// # Safety
/// `ch` is a live channel handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_channel_recv(ch: u64, out: *mut u64) -> i32 {
    // SAFETY: forwarded caller contract.
    ffi_guard("blood_channel_recv", || match unsafe { chan::recv_any(&[ch], None) } {
        Ok(Some((_, Try::Done(v)))) => {
            // SAFETY: forwarded caller contract.
            unsafe { write_out(out, v) };
            OK
        }
        Ok(_) => CLOSED,
        Err(()) => CANCELLED,
    })
}

/// `int32_t blood_channel_try_send(uint64_t ch, uint64_t v)`: 0, 1 closed, 3 full.
///
/// # Safety
/// `ch` is a live channel handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_channel_try_send(ch: u64, v: u64) -> i32 {
    // SAFETY: forwarded caller contract.
    ffi_guard("blood_channel_try_send", || match unsafe { chan::chan(ch) }.try_send(v) {
        Try::Done(()) => OK,
        Try::Closed => CLOSED,
        Try::WouldBlock => WOULD_BLOCK,
    })
}

/// `int32_t blood_channel_try_recv(uint64_t ch, uint64_t *out)`: 0, 1 closed, 3 empty.
///
/// # Safety
/// `ch` is a live channel handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_channel_try_recv(ch: u64, out: *mut u64) -> i32 {
    // SAFETY: forwarded caller contract.
    ffi_guard("blood_channel_try_recv", || match unsafe { chan::chan(ch) }.try_recv() {
        Try::Done(v) => {
            // SAFETY: forwarded caller contract.
            unsafe { write_out(out, v) };
            OK
        }
        Try::Closed => CLOSED,
        Try::WouldBlock => WOULD_BLOCK,
    })
}

/// `void blood_channel_close(uint64_t ch)`.
///
/// # Safety
/// `ch` is a live channel handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_channel_close(ch: u64) {
    // SAFETY: forwarded caller contract.
    ffi_guard("blood_channel_close", || unsafe { chan::chan(ch) }.close())
}

/// `void blood_channel_release(uint64_t ch)`: drops one handle; the last one frees the channel
/// (a fiber blocked on it holds a handle, so none is; if one were, the channel would be kept).
///
/// # Safety
/// `ch` is a live channel handle, each handle released once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_channel_release(ch: u64) {
    ffi_guard("blood_channel_release", || {
        // SAFETY: forwarded caller contract.
        let c = unsafe { chan::chan(ch) };
        c.handles = c.handles.saturating_sub(1);
        if c.handles == 0 && c.idle() {
            // SAFETY: `ch` came from `Box::into_raw` in `blood_channel_create`; its last handle
            // is gone and no fiber waits on it.
            drop(unsafe { Box::from_raw(ch as usize as *mut Chan) });
        }
    })
}

/// `void blood_channel_retain(uint64_t ch)`: one more handle on the channel, released with
/// `blood_channel_release` like the first.
///
/// # Safety
/// `ch` is a live channel handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_channel_retain(ch: u64) {
    // SAFETY: forwarded caller contract.
    ffi_guard("blood_channel_retain", || unsafe { chan::chan(ch) }.handles += 1)
}

/// `int64_t blood_channel_select(chs, n, timeout_ns, out_value, out_status)`: the ready arm's
/// index (status 0 with the value, or 1 closed), -1 default/timeout, -2 cancelled.
///
/// # Safety
/// `chs` points to `n` live channel handles; the out pointers are writable (or null).
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
        let deadline = match timeout_ns {
            t if t < 0 => None,
            0 => Some(0),
            t => Some(sched::now_ns().saturating_add(t as u64).max(1)),
        };
        // SAFETY: forwarded caller contract.
        let outcome = match unsafe { chan::recv_any(handles, deadline) } {
            Ok(Some((i, Try::Done(v)))) => SelectOutcome::Value(i, v),
            Ok(Some((i, _))) => SelectOutcome::Closed(i),
            Ok(None) => SelectOutcome::Timeout,
            Err(()) => SelectOutcome::Cancelled,
        };
        // SAFETY: forwarded caller contract.
        unsafe { fiber_abi::select_return(outcome, out_value, out_status) }
    })
}

// ---------------------------------------------------------------------------------------------
// Nurseries, safepoint hooks.

/// `uint64_t blood_nursery_begin(void)`.
#[unsafe(no_mangle)]
pub extern "C" fn blood_nursery_begin() -> u64 {
    ffi_guard("blood_nursery_begin", || sched::begin_nursery() as usize as u64)
}

/// `uint64_t blood_nursery_spawn(uint64_t nursery, uint64_t (*f)(uint64_t), uint64_t arg)`.
///
/// # Safety
/// `nursery` came from `blood_nursery_begin` and was not ended.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_nursery_spawn(nursery: u64, f: extern "C" fn(u64) -> u64, arg: u64) -> u64 {
    ffi_guard("blood_nursery_spawn", || {
        register(sched::spawn(Task::F1(f, arg), 0, Some(nursery as usize as *mut Nursery)))
    })
}

/// `void blood_nursery_cancel(uint64_t nursery)`.
///
/// # Safety
/// As for `blood_nursery_spawn`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_nursery_cancel(nursery: u64) {
    ffi_guard("blood_nursery_cancel", || sched::cancel_nursery(nursery as usize as *mut Nursery))
}

/// `void blood_nursery_end(uint64_t nursery)`: joins the nursery's fibers, pops and frees it.
///
/// # Safety
/// As for `blood_nursery_spawn`; the handle is dead afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_nursery_end(nursery: u64) {
    ffi_guard("blood_nursery_end", || sched::end_nursery(nursery as usize as *mut Nursery, false))
}

/// `void blood_nursery_abort(uint64_t nursery)`: cancel, then end.
///
/// # Safety
/// As for `blood_nursery_end`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn blood_nursery_abort(nursery: u64) {
    ffi_guard("blood_nursery_abort", || sched::end_nursery(nursery as usize as *mut Nursery, true))
}

/// `void blood_safepoint_request(void)`: the current fiber yields at its next safepoint.
#[unsafe(no_mangle)]
pub extern "C" fn blood_safepoint_request() {
    ffi_guard("blood_safepoint_request", || sched::request_preempt(true))
}

/// `void blood_safepoint_clear(void)`.
#[unsafe(no_mangle)]
pub extern "C" fn blood_safepoint_clear() {
    ffi_guard("blood_safepoint_clear", || sched::request_preempt(false))
}
