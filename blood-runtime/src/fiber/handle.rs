//! Join handles: waiting for a fiber's outcome.

use super::{FiberRef, Outcome};
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

/// An owned handle to a spawned fiber producing a `T`.
pub struct JoinHandle<T> {
    pub(crate) fiber: FiberRef,
    pub(crate) _t: PhantomData<fn() -> T>,
}

impl<T> Clone for JoinHandle<T> {
    fn clone(&self) -> Self {
        JoinHandle { fiber: self.fiber.clone(), _t: PhantomData }
    }
}

impl<T> std::fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.fiber.fmt(f)
    }
}

impl<T: Send + 'static> JoinHandle<T> {
    /// The fiber's id.
    pub fn id(&self) -> u64 {
        self.fiber.id
    }
    /// The fiber record.
    pub fn fiber(&self) -> &FiberRef {
        &self.fiber
    }
    /// Whether it has completed.
    pub fn is_finished(&self) -> bool {
        self.fiber.is_finished()
    }
    /// Requests its cancellation.
    pub fn cancel(&self) {
        self.fiber.cancel()
    }

    /// Waits for the fiber and returns its value. A cancellation point for the caller.
    pub fn join(self) -> Result<T, JoinError> {
        wait_finished(&self.fiber).map_err(|Cancelled| JoinError::JoinerCancelled)?;
        let mut j = self.fiber.join.lock().unwrap_or_else(|e| e.into_inner());
        match &j.outcome {
            Some(Outcome::Failed(m)) => return Err(JoinError::Failed(m.to_string())),
            Some(Outcome::Cancelled) => return Err(JoinError::Cancelled),
            _ => {}
        }
        if j.taken {
            return Err(JoinError::AlreadyJoined);
        }
        j.taken = true;
        match j.outcome.take() {
            Some(Outcome::Completed(v)) => match v.take::<T>() {
                Some(v) => Ok(v),
                None => Err(JoinError::Failed("join: fiber result has another type".into())),
            },
            _ => Err(JoinError::AlreadyJoined),
        }
    }
}

/// Blocks the caller (fiber or thread) until `fiber` has finished. Returns `Err(Cancelled)` if
/// the caller is a fiber that gets cancelled while waiting.
pub(crate) fn wait_finished(fiber: &FiberRef) -> Result<(), Cancelled> {
    if fiber.is_finished() {
        return Ok(());
    }
    loop {
        if waiter::current_cancelled() {
            return Err(Cancelled);
        }
        {
            let mut j = fiber.join.lock().unwrap_or_else(|e| e.into_inner());
            if j.outcome.is_some() {
                return Ok(());
            }
            // Register, then park: `complete` takes the list under the same lock.
            j.waiters.push(waiter::current());
        }
        waiter::park();
        if fiber.is_finished() {
            return Ok(());
        }
    }
}
