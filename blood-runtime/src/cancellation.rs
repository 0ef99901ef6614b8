//! Cancellation tokens: a tree in which cancelling a node cancels its whole subtree, never its
//! ancestors.
//!
//! Every fiber owns a token whose parent is the token of the fiber that spawned it (or a token
//! given in its spawn configuration), so cancelling a fiber cancels the fibers it spawned.
//! Cancelling a fiber token also wakes the fiber if it is suspended; every blocking operation
//! re-checks the current fiber's token after each wake-up (see `waiter.rs`) and returns
//! `Cancelled`.
//!
//! Invariants and ordering: `cancelled` only ever goes from false to true (Release on set,
//! Acquire on read). A child registers in its parent's list under the parent's lock and then
//! re-checks the parent's flag, so a child created concurrently with the parent's cancellation is
//! cancelled too. Lock order: a node's lock is never held while taking another node's lock
//! (children are collected, the lock released, then each child is cancelled).

use crate::fiber::Fiber;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

struct Node {
    cancelled: AtomicBool,
    children: Mutex<Children>,
    /// The fiber this token belongs to, woken on cancellation.
    fiber: OnceLock<Weak<Fiber>>,
}

#[derive(Default)]
struct Children {
    list: Vec<Weak<Node>>,
    /// Length after the last pruning of dead entries (amortises the clean-up).
    pruned_len: usize,
}

/// A handle to a node of the cancellation tree (cheap to clone).
#[derive(Clone)]
pub struct CancelToken(Arc<Node>);

impl std::fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelToken").field("cancelled", &self.is_cancelled()).finish()
    }
}

impl Default for CancelToken {
    fn default() -> Self {
        CancelToken::new()
    }
}

impl CancelToken {
    /// A new root token.
    pub fn new() -> CancelToken {
        CancelToken(Arc::new(Node {
            cancelled: AtomicBool::new(false),
            children: Mutex::new(Children::default()),
            fiber: OnceLock::new(),
        }))
    }

    /// A new token cancelled whenever `self` is.
    pub fn child(&self) -> CancelToken {
        let child = CancelToken::new();
        {
            let mut c = self.0.children.lock().unwrap_or_else(|e| e.into_inner());
            if c.list.len() >= 2 * c.pruned_len.max(32) {
                c.list.retain(|w| w.strong_count() > 0);
                c.pruned_len = c.list.len();
            }
            c.list.push(Arc::downgrade(&child.0));
        }
        if self.is_cancelled() {
            child.cancel();
        }
        child
    }

    /// Whether this token (or an ancestor) was cancelled.
    #[inline]
    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::Acquire)
    }

    /// Cancels this token and its descendants, waking their fibers. Idempotent.
    pub fn cancel(&self) {
        let mut stack = vec![self.0.clone()];
        while let Some(node) = stack.pop() {
            if node.cancelled.swap(true, Ordering::AcqRel) {
                continue;
            }
            if let Some(f) = node.fiber.get().and_then(Weak::upgrade) {
                f.note_cancelled();
            }
            let children = std::mem::take(&mut node.children.lock().unwrap_or_else(|e| e.into_inner()).list);
            stack.extend(children.iter().filter_map(Weak::upgrade));
        }
    }

    /// Binds the token to the fiber it belongs to (done once, at spawn).
    pub(crate) fn bind_fiber(&self, fiber: &Arc<Fiber>) {
        let _ = self.0.fiber.set(Arc::downgrade(fiber));
    }

    /// Whether two handles name the same token.
    pub fn same_as(&self, other: &CancelToken) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// The error every cancellation point returns once the current fiber is cancelled.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Cancelled;

impl std::fmt::Display for Cancelled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("cancelled")
    }
}

/// Cancellation point without blocking: `Err(Cancelled)` if the current fiber was cancelled.
pub fn check_cancelled() -> Result<(), Cancelled> {
    if crate::waiter::current_cancelled() { Err(Cancelled) } else { Ok(()) }
}
