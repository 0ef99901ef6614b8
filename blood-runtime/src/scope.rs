//! Nurseries: structured scopes that join every fiber spawned in them before returning.
//!
//! `scope(|s| { s.spawn(..); .. })` returns only after all fibers spawned through `s` have
//! finished. If the body panics, the scope's fibers are cancelled, joined, and the panic resumes.
//! Every scope owns a cancellation token (a child of the current fiber's), so cancelling the
//! enclosing fiber cancels the scope's fibers, and [`Scope::cancel`] cancels just them.

use crate::cancellation::CancelToken;
use crate::fiber::{FiberConfig, JoinError, JoinHandle};
use crate::waiter;
use std::sync::Mutex;

/// The spawning handle of a nursery.
pub struct Scope {
    token: CancelToken,
    fibers: Mutex<Vec<crate::fiber::FiberRef>>,
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
        self.fibers.lock().unwrap_or_else(|e| e.into_inner()).push(h.fiber.clone());
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
            let batch = std::mem::take(&mut *self.fibers.lock().unwrap_or_else(|e| e.into_inner()));
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
fn wait_uncancellable(f: &crate::fiber::FiberRef) {
    while !f.is_finished() {
        {
            let mut j = f.join.lock().unwrap_or_else(|e| e.into_inner());
            if j.outcome.is_some() {
                return;
            }
            j.waiters.push(waiter::current());
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
        Scope { token, fibers: Mutex::new(Vec::new()) }
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
