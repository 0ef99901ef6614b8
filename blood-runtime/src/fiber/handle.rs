//! Join handles: waiting for a fiber's outcome.

use super::{Completion, CompletionRef, FiberRef, FiberState, JoinState, Outcome};
use crate::cancellation::Cancelled;
use crate::waiter;
use std::marker::PhantomData;

/// Why `join` returned no value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JoinError {
    /// The joined fiber was cancelled.
    Cancelled,
    /// The joined fiber panicked with this message.
    Failed(String),
    /// The fiber *calling* join was cancelled while waiting.
    JoinerCancelled,
    /// The value was already taken by an earlier join.
    AlreadyJoined,
}

impl std::fmt::Display for JoinError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JoinError::Cancelled => f.write_str("joined a cancelled fiber"),
            JoinError::Failed(m) => write!(f, "joined a failed fiber: {m}"),
            JoinError::JoinerCancelled => f.write_str("cancelled while joining"),
            JoinError::AlreadyJoined => f.write_str("fiber already joined"),
        }
    }
}

/// An owned handle to a spawned fiber producing a `T`. It holds the fiber's completion cell,
/// not its record (see `fiber/mod.rs`).
pub struct JoinHandle<T> {
    pub(crate) completion: CompletionRef,
    pub(crate) _t: PhantomData<fn() -> T>,
}

impl<T> Clone for JoinHandle<T> {
    fn clone(&self) -> Self {
        JoinHandle { completion: self.completion.clone(), _t: PhantomData }
    }
}

impl<T> std::fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.completion.id())
            .field("state", &self.completion.state())
            .finish()
    }
}

impl<T: Send + 'static> JoinHandle<T> {
    /// The fiber's id.
    pub fn id(&self) -> u64 {
        self.completion.id()
    }
    /// The fiber record, while the fiber has not completed (None afterwards).
    pub fn fiber(&self) -> Option<FiberRef> {
        self.completion.fiber()
    }
    /// The fiber's completion cell.
    pub fn completion(&self) -> &CompletionRef {
        &self.completion
    }
    /// Whether it has completed.
    pub fn is_finished(&self) -> bool {
        self.completion.is_finished()
    }
    /// Current state (racy snapshot).
    pub fn state(&self) -> FiberState {
        self.completion.state()
    }
    /// Requests its cancellation (nothing to do once it has completed).
    pub fn cancel(&self) {
        if let Some(f) = self.completion.fiber() {
            f.cancel();
        }
    }

    /// Waits for the fiber and returns its value. A cancellation point for the caller.
    pub fn join(self) -> Result<T, JoinError> {
        // The common case, a finished fiber whose cell only this handle still holds (its record is
        // gone): the cell is ours alone after one CAS, no lock.
        let completion = match self.completion.into_unique() {
            Ok(mut unique) => return join_result(unique.get_mut().join.get_mut().unwrap_or_else(|e| e.into_inner())),
            Err(c) => c,
        };
        wait_finished(&completion).map_err(|Cancelled| JoinError::JoinerCancelled)?;
        join_result(&mut completion.join.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// What a join returns, from the joined fiber's outcome (its value taken).
fn join_result<T: 'static>(j: &mut JoinState) -> Result<T, JoinError> {
    match &j.outcome {
        Some(Outcome::Failed(m)) => return Err(JoinError::Failed(m.to_string())),
        Some(Outcome::Cancelled) => return Err(JoinError::Cancelled),
        _ => {}
    }
    // Completed: the value goes to this join; a later one finds none.
    match j.outcome.take() {
        Some(Outcome::Completed(v)) => match v.take::<T>() {
            Some(v) => Ok(v),
            None => Err(JoinError::Failed("join: fiber result has another type".into())),
        },
        _ => Err(JoinError::AlreadyJoined),
    }
}

/// Blocks the caller (fiber or thread) until the fiber of `c` has finished. Returns
/// `Err(Cancelled)` if the caller is a fiber that gets cancelled while waiting.
pub(crate) fn wait_finished(c: &Completion) -> Result<(), Cancelled> {
    if c.is_finished() {
        return Ok(());
    }
    loop {
        if waiter::current_cancelled() {
            return Err(Cancelled);
        }
        {
            let mut j = c.join.lock().unwrap_or_else(|e| e.into_inner());
            if j.outcome.is_some() {
                return Ok(());
            }
            // Register, then park: `complete` takes the list under the same lock.
            j.waiters.get_or_insert_default().push(waiter::current());
        }
        waiter::park();
        if c.is_finished() {
            return Ok(());
        }
    }
}
