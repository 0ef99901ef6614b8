//! Fiber bodies: closures of up to four words are stored inline in the fiber record (no
//! allocation; the common cases, a C function plus its argument or a closure capturing a few
//! values, fit), larger ones in a box. Spawning is then one allocation, the fiber itself.

use super::Value;
use std::mem::{MaybeUninit, align_of, size_of};

const INLINE_WORDS: usize = 4;

/// A type-erased `FnOnce() -> Value + Send`, run at most once.
pub(crate) struct Body {
    /// Consumes the closure stored in `data`; `None` once taken (or for an empty body).
    call: Option<unsafe fn(*mut u8) -> Value>,
    /// Drops the closure stored in `data` without running it.
    drop_fn: unsafe fn(*mut u8),
    data: MaybeUninit<[usize; INLINE_WORDS]>,
}

// SAFETY: a `Body` only ever holds an `F: Send` (enforced by `Body::new`).
unsafe impl Send for Body {}

unsafe fn call_inline<F: FnOnce() -> Value>(p: *mut u8) -> Value {
    // SAFETY: `p` holds an initialised `F` that is read (moved out) exactly once.
    let f = unsafe { p.cast::<F>().read() };
    f()
}

unsafe fn drop_inline<F>(p: *mut u8) {
    // SAFETY: `p` holds an initialised `F` that was never moved out.
    unsafe { std::ptr::drop_in_place(p.cast::<F>()) }
}

unsafe fn call_boxed<F: FnOnce() -> Value>(p: *mut u8) -> Value {
    // SAFETY: `p` holds a pointer from `Box::into_raw`, consumed exactly once. The closure is
    // moved out (and the box freed) before it runs: a fiber that never returns from it (it ends
    // through `blood_fiber_exit_cancelled`) must not leave the allocation behind.
    let f: F = *unsafe { Box::from_raw(p.cast::<*mut F>().read()) };
    f()
}

unsafe fn drop_boxed<F>(p: *mut u8) {
    // SAFETY: as above, for a body that never ran.
    drop(unsafe { Box::from_raw(p.cast::<*mut F>().read()) })
}

unsafe fn drop_nothing(_: *mut u8) {}

/// Whether a closure of type `F` is stored in the record rather than boxed.
const fn fits_inline<F>() -> bool {
    size_of::<F>() <= size_of::<[usize; INLINE_WORDS]>() && align_of::<F>() <= align_of::<usize>()
}

impl Body {
    // Inlined: see `RuntimeInner::spawn_body_on` (`scheduler/mod.rs`).
    #[inline(always)]
    pub(crate) fn new<F: FnOnce() -> Value + Send + 'static>(f: F) -> Body {
        let mut b = Body { call: None, drop_fn: drop_nothing, data: MaybeUninit::uninit() };
        let p = b.data.as_mut_ptr().cast::<u8>();
        if fits_inline::<F>() {
            // SAFETY: `data` is large and aligned enough for `F` (checked above).
            unsafe { p.cast::<F>().write(f) };
            b.call = Some(call_inline::<F>);
            b.drop_fn = drop_inline::<F>;
        } else {
            // SAFETY: `data` holds at least one pointer.
            unsafe { p.cast::<*mut F>().write(Box::into_raw(Box::new(f))) };
            b.call = Some(call_boxed::<F>);
            b.drop_fn = drop_boxed::<F>;
        }
        b
    }

    /// A body with nothing to run.
    pub(crate) fn empty() -> Body {
        Body { call: None, drop_fn: drop_nothing, data: MaybeUninit::uninit() }
    }

    /// Runs the body; `None` if it was already taken.
    pub(crate) fn run(&mut self) -> Option<Value> {
        let call = self.call.take()?;
        // SAFETY: `call` matches the closure stored in `data`, which is consumed exactly once
        // (`call` is now None, so `Drop` will not touch it, even if the closure panics).
        Some(unsafe { call(self.data.as_mut_ptr().cast()) })
    }
}

impl Drop for Body {
    fn drop(&mut self) {
        if self.call.take().is_some() {
            // SAFETY: the closure is still stored and was never run.
            unsafe { (self.drop_fn)(self.data.as_mut_ptr().cast()) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fits_inline_of<F: FnOnce() -> Value>(_: &F) -> bool {
        fits_inline::<F>()
    }

    extern "C" fn add3(a: u64, b: u64, c: u64) -> u64 {
        a + b + c
    }

    /// `blood_fiber_spawn_env` (the compiler's spawn of a closure with up to three word-sized
    /// captures) promises that spawning allocates nothing: its task, a function and three words,
    /// must be stored in the record, wrapped as the scheduler wraps it.
    #[test]
    fn a_function_and_three_words_are_stored_inline() {
        let f: extern "C" fn(u64, u64, u64) -> u64 = add3;
        let (a, b, c) = (1u64, 2u64, 3u64);
        let task = move || f(a, b, c);
        let body = move || Value::new(task());
        assert!(fits_inline_of(&body), "the spawn_env task no longer fits INLINE_WORDS");
        let mut stored = Body::new(body);
        assert_eq!(stored.run().and_then(|v| v.take::<u64>()), Some(6));
    }
}
