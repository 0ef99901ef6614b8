//! The C-ABI glue of the fiber entry points that both runtimes share: how a join outcome becomes
//! `blood_fiber_await`'s value (or a panic, or the end of the cancelled caller) and
//! `blood_fiber_try_join`'s status, and how `blood_channel_select` reads its arguments and
//! reports its outcome. The waiting itself is each runtime's own.

use crate::panic::blood_panic;
use blood_abi::{STATUS_CANCELLED, STATUS_CLOSED, STATUS_FAILED, STATUS_JOINED_CANCELLED, STATUS_OK};

unsafe extern "C" {
    /// Defined by each runtime (`blood_abi::FIBER_EXIT_CANCELLED`).
    fn blood_fiber_exit_cancelled() -> !;
    /// Defined by each runtime (`blood_abi::FIBER_AWAIT`).
    fn blood_fiber_await(id: u64) -> u64;
}

/// `uint64_t blood_fiber_join(uint64_t id)`: same as `blood_fiber_await` (each runtime's).
#[unsafe(no_mangle)]
pub extern "C" fn blood_fiber_join(id: u64) -> u64 {
    // SAFETY: `blood_fiber_await` accepts any id (unknown ids panic with a message).
    unsafe { blood_fiber_await(id) }
}

/// `blood_fiber_await(id)` given the join outcome (`Err`: a `STATUS_*` code): the value; a
/// cancelled caller ends as by `blood_fiber_exit_cancelled`; otherwise a panic naming the failure.
pub fn await_result(id: u64, joined: Result<u64, i32>) -> u64 {
    match joined {
        Ok(v) => v,
        // SAFETY: the runtime's `blood_fiber_exit_cancelled` may be called from any context (it
        // panics "cancelled" outside fibers).
        Err(STATUS_CANCELLED) => unsafe { blood_fiber_exit_cancelled() },
        Err(STATUS_JOINED_CANCELLED) => blood_panic(b"joined a cancelled fiber"),
        Err(STATUS_FAILED) => blood_panic(b"joined a failed fiber"),
        Err(_) => {
            let id = crate::output::Decimal::new(false, id.into());
            blood_panic(&[b"join: no fiber with id ".as_slice(), id.as_bytes()].concat())
        }
    }
}

/// Writes `v` through `out` unless it is null.
///
/// # Safety
/// `out` is null or valid for a write.
pub unsafe fn write_out<T>(out: *mut T, v: T) {
    if !out.is_null() {
        // SAFETY: the caller's contract.
        unsafe { out.write(v) };
    }
}

/// `blood_fiber_try_join`'s status for a join outcome, the value written through `out`.
///
/// # Safety
/// `out` is null or valid for a write.
pub unsafe fn try_join_status(joined: Result<u64, i32>, out: *mut u64) -> i32 {
    match joined {
        Ok(v) => {
            // SAFETY: the caller's contract.
            unsafe { write_out(out, v) };
            STATUS_OK
        }
        Err(code) => code,
    }
}

/// The channel handles of a `blood_channel_select` call.
///
/// # Safety
/// `chs` points to `n` handles (or `n <= 0`), alive for `'a`.
pub unsafe fn select_handles<'a>(chs: *const u64, n: i64) -> &'a [u64] {
    if n <= 0 || chs.is_null() {
        &[]
    } else {
        // SAFETY: the caller's contract.
        unsafe { core::slice::from_raw_parts(chs, n as usize) }
    }
}

/// How a select ended.
pub enum SelectOutcome {
    /// Arm `i` delivered a value.
    Value(usize, u64),
    /// Arm `i`'s channel is closed and drained.
    Closed(usize),
    /// Nothing was ready (default arm) or the timeout expired.
    Timeout,
    /// The caller was cancelled.
    Cancelled,
}

/// `blood_channel_select`'s return value for `outcome`, with `*out_value`/`*out_status` written.
///
/// # Safety
/// Both pointers are null or valid for a write.
pub unsafe fn select_return(outcome: SelectOutcome, out_value: *mut u64, out_status: *mut i32) -> i64 {
    let (arm, value, status) = match outcome {
        SelectOutcome::Value(i, v) => (i, v, STATUS_OK),
        SelectOutcome::Closed(i) => (i, 0, STATUS_CLOSED),
        SelectOutcome::Timeout => return -1,
        SelectOutcome::Cancelled => return -2,
    };
    // SAFETY: the caller's contract.
    unsafe {
        write_out(out_value, value);
        write_out(out_status, status);
    }
    arm as i64
}
