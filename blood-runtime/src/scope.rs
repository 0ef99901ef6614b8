//! Nurseries: structured scopes that join every fiber spawned in them before returning.
//!
//! `scope(|s| { s.spawn(..); .. })` returns only after all fibers spawned through `s` have
//! finished. If the body panics, the scope's fibers are cancelled, joined, and the panic resumes.
//! Every scope owns a cancellation token (a child of the current fiber's), so cancelling the
//! enclosing fiber cancels the scope's fibers, and [`Scope::cancel`] cancels just them.
//!
//! # Dynamic nurseries (the C ABI: `with Nursery {} handle { body }`, LANGUAGE.md §7.2)
//! `blood_nursery_begin` opens a [`Nursery`] and makes it the caller's *innermost open nursery*.
//! Every fiber or thread has a stack of open nurseries, linked through [`Nursery::outer`]: a
//! fiber's top lives in its record (`Fiber::nursery`: fibers migrate between workers, so it
//! cannot be thread-local), a thread outside fibers (the program's main thread, a
//! `blood_thread_spawn` thread) has a thread-local one. While a nursery is open, every C ABI
//! spawn of its opener ([`spawn_in_innermost`]) goes into it: the new fiber's cancellation parent
//! is the nursery's token, and `blood_nursery_end` joins it. The rule is dynamic: spawns in
//! functions the body calls count too, while fibers spawned by the nursery's fibers go to *their*
//! own stacks (a new fiber starts with none). A nursery's token is a child of the enclosing open
//! nursery's token, else of the opener's fiber token, so cancelling an outer nursery (or the
//! fiber) cancels the inner ones. Only the opener ends a nursery, innermost first
//! ([`end_nursery`]; anything else is a compiler bug and aborts). A fiber that ends with
//! nurseries still open (it left through `blood_fiber_exit_cancelled`) cancels and frees them in
//! `finish_fiber` ([`abandon_open_nurseries`]); their fibers are its children, so it still
//! completes only after them.
//!
//! The list of a scope's fibers drops finished entries whenever it has doubled since the last
//! pruning, so a long-lived nursery keeps O(live fibers) entries.

use crate::cancellation::CancelToken;
use crate::fiber::{CompletionRef, Fiber, FiberConfig, FiberRef, JoinError, JoinHandle};
use crate::scheduler::worker;
use crate::waiter;
use std::sync::Mutex;
use std::sync::atomic::{AtomicPtr, Ordering};

/// The spawning handle of a nursery.
pub struct Scope {
    token: CancelToken,
    fibers: Mutex<Members>,
}

#[derive(Default)]
struct Members {
    list: Vec<CompletionRef>,
    /// Length after the last pruning of finished fibers (amortises the clean-up).
    pruned_len: usize,
}

impl Scope {
    /// Spawns a fiber owned by this scope.
    pub fn spawn<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> JoinHandle<T> {
        self.spawn_with(FiberConfig::default(), f)
    }

    /// Spawns with a configuration (its cancellation parent is the scope's token).
    pub fn spawn_with<T: Send + 'static>(
        &self,
        cfg: FiberConfig,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> JoinHandle<T> {
        let cfg = FiberConfig { cancel_parent: Some(self.token.clone()), ..cfg };
        let h = crate::scheduler::spawn_with(cfg, f);
        let mut m = self.fibers.lock().unwrap_or_else(|e| e.into_inner());
        if m.list.len() >= 2 * m.pruned_len.max(32) {
            m.list.retain(|f| !f.is_finished());
            m.pruned_len = m.list.len();
        }
        m.list.push(h.completion.clone());
        drop(m);
        h
    }

    /// Cancels every fiber of the scope.
    pub fn cancel(&self) {
        self.token.cancel();
    }

    /// The scope's token.
    pub fn token(&self) -> &CancelToken {
        &self.token
    }

    fn join_all(&self) {
        loop {
            let batch = std::mem::take(&mut self.fibers.lock().unwrap_or_else(|e| e.into_inner()).list);
            if batch.is_empty() {
                return;
            }
            for f in batch {
                // Joining is not abandoned on cancellation: the scope's fibers are cancelled with
                // us and end soon, and the scope must not return before they have.
                while crate::fiber::handle::wait_finished(&f).is_err() {
                    self.token.cancel();
                    wait_uncancellable(&f);
                }
            }
        }
    }
}

/// Waits for `f` to finish ignoring the caller's cancellation.
fn wait_uncancellable(f: &crate::fiber::Completion) {
    while !f.is_finished() {
        {
            let mut j = f.join.lock().unwrap_or_else(|e| e.into_inner());
            if j.outcome.is_some() {
                return;
            }
            j.waiters.get_or_insert_default().push(waiter::current());
        }
        waiter::park();
    }
}

impl Scope {
    /// Opens a nursery whose token is a child of the current fiber's (for the C ABI; Rust code
    /// uses [`scope`]).
    pub fn open() -> Scope {
        let token = match crate::scheduler::worker::current_fiber() {
            Some(f) => f.token().child(),
            None => CancelToken::new(),
        };
        Scope::with_token(token)
    }

    fn with_token(token: CancelToken) -> Scope {
        Scope { token, fibers: Mutex::new(Members::default()) }
    }

    /// Joins every fiber of the nursery.
    pub fn close(self) {
        self.join_all();
    }
}

/// Runs `body` with a nursery and joins every fiber it spawned before returning.
pub fn scope<R>(body: impl FnOnce(&Scope) -> R) -> R {
    let s = Scope::open();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(&s)));
    if r.is_err() {
        s.cancel();
    }
    s.join_all();
    match r {
        Ok(v) => v,
        Err(p) => std::panic::resume_unwind(p),
    }
}

/// Convenience: the error of a scope fiber, if any, without consuming the handle.
pub fn outcome_error<T: Send + 'static>(h: JoinHandle<T>) -> Option<JoinError> {
    h.join().err()
}

// ---------------------------------------------------------------------------------------------
// Dynamic nurseries (see the module header).

/// A nursery opened by `blood_nursery_begin`, linked into its opener's stack of open nurseries.
/// The C ABI hands out its address; it is freed by [`end_nursery`] (or, for a fiber that ends
/// with it still open, by [`abandon_open_nurseries`]).
pub struct Nursery {
    scope: Scope,
    /// The nursery that was the opener's innermost when this one was opened (null: none).
    outer: *mut Nursery,
}

impl Nursery {
    /// The nursery's scope.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }
}

thread_local! {
    /// The innermost open nursery of this thread's code that does not run on a fiber.
    static THREAD_TOP: AtomicPtr<Nursery> = const { AtomicPtr::new(std::ptr::null_mut()) };
}

/// Runs `f` with the caller's innermost-nursery slot (the running fiber's, or this thread's
/// outside fibers) and the running fiber. `f` must not switch fibers.
fn with_top<R>(f: impl FnOnce(&AtomicPtr<Nursery>, Option<&FiberRef>) -> R) -> R {
    worker::with_current_fiber(|cur| match cur {
        Some(fiber) => f(&fiber.extras().nursery, Some(fiber)),
        None => THREAD_TOP.with(|top| f(top, None)),
    })
}

/// Opens a nursery and makes it the caller's innermost one. Returns its address (never null).
pub fn begin_nursery() -> *mut Nursery {
    with_top(|top, fiber| {
        let outer = top.load(Ordering::Relaxed);
        let token = if !outer.is_null() {
            // SAFETY: the caller's open nurseries stay allocated until the caller ends them.
            unsafe { &*outer }.scope.token.child()
        } else {
            match fiber {
                Some(f) => f.token().child(),
                None => CancelToken::new(),
            }
        };
        let n = Box::into_raw(Box::new(Nursery { scope: Scope::with_token(token), outer }));
        top.store(n, Ordering::Relaxed);
        n
    })
}

/// The caller's innermost open nursery, if any.
pub fn innermost_nursery() -> Option<*mut Nursery> {
    // Read without creating the fiber's `Extras` (every spawn of the C ABI asks).
    let top = worker::with_current_fiber(|cur| match cur {
        Some(fiber) => fiber.innermost_nursery(),
        None => THREAD_TOP.with(|top| top.load(Ordering::Relaxed)),
    });
    (!top.is_null()).then_some(top)
}

/// Spawns `f` into the caller's innermost open nursery, or as a plain child of the caller (on the
/// process-wide runtime outside fibers) if it has none: the spawn of the C ABI.
// Inlined: see `RuntimeInner::spawn_body_on` (`scheduler/mod.rs`).
#[inline(always)]
pub fn spawn_in_innermost<T: Send + 'static>(
    cfg: FiberConfig,
    f: impl FnOnce() -> T + Send + 'static,
) -> JoinHandle<T> {
    match innermost_nursery() {
        // SAFETY: the caller's innermost open nursery stays allocated until the caller itself
        // ends it, which it cannot do during this call.
        Some(n) => unsafe { &*n }.scope.spawn_with(cfg, f),
        None => crate::scheduler::spawn_with(cfg, f),
    }
}

/// Ends the caller's innermost nursery `n`: pops it, cancels its fibers if `cancel`, joins them
/// (not a cancellation point) and frees it.
///
/// # Panics
/// If `n` is not the caller's innermost open nursery (a compiler bug: the C ABI turns the panic
/// into an internal error and aborts).
///
/// # Safety
/// `n` came from [`begin_nursery`] and was not ended yet.
pub unsafe fn end_nursery(n: *mut Nursery, cancel: bool) {
    let popped = with_top(|top, _| {
        if top.load(Ordering::Relaxed) != n {
            return false;
        }
        // SAFETY: `n` is open (contract).
        top.store(unsafe { (*n).outer }, Ordering::Relaxed);
        true
    });
    assert!(popped, "nursery {n:p} ended by a fiber or thread for which it is not the innermost open nursery");
    // SAFETY: `n` came from `Box::into_raw` in `begin_nursery` and is now unlinked; we own it.
    let n = unsafe { Box::from_raw(n) };
    if cancel {
        n.scope.cancel();
    }
    n.scope.join_all();
}

/// Cancels and frees the nurseries `fiber` left open, innermost first (their fibers are
/// children of `fiber`, which completes only after them). Called by the fiber itself as it ends.
pub(crate) fn abandon_open_nurseries(fiber: &Fiber) {
    if fiber.innermost_nursery().is_null() {
        return;
    }
    let mut p = fiber.extras().nursery.swap(std::ptr::null_mut(), Ordering::Relaxed);
    while !p.is_null() {
        // SAFETY: every nursery on the stack came from `Box::into_raw` in `begin_nursery` and is
        // owned by the stack, which the swap above emptied.
        let n = unsafe { Box::from_raw(p) };
        n.scope.cancel();
        p = n.outer;
    }
}
