//! Cancellation tokens: a tree in which cancelling a node cancels its whole subtree, never its
//! ancestors.
//!
//! A fiber is a node of the tree too, without an allocation of its own: it has a `cancelled`
//! flag (in its completion cell), and gets a token only when one is needed. A fiber spawned with
//! a token in its configuration registers in that token at spawn. A fiber spawned by a fiber
//! without one inherits its spawner's cancellation *lazily*: nothing is registered at spawn
//! (registering every child cost a lock, a list entry and its pruning on the spawning worker,
//! a fifth of the time of spawning a million trivial fibers), and
//! * its cancellation points look at its own flag, then at its ancestors' while they are
//!   unregistered too (`Fiber::cancel_observed`: a short walk over completion cells, which
//!   are rarely written), up to the first registered one, whose flag cascades maintain;
//! * before it first parks, and before its token is created, it registers in its parent's
//!   token, its unregistered ancestors first, top-down (`Fiber::ensure_registered`). So every
//!   suspended fiber, and every token, is reachable by the cascades that must wake or cancel it.
//!
//! Cancelling a fiber sets its flag and wakes it if it is suspended; every blocking operation
//! re-checks cancellation after each wake-up (see `waiter.rs`) and returns `Cancelled`.
//!
//! Dead entries (children that finished) are pruned from a node's list whenever the list has
//! doubled since the last pruning, so a long-lived parent keeps O(live children) entries.
//!
//! Invariants and ordering: `cancelled` only ever goes from false to true (Release on set,
//! Acquire on read). A child registers in its parent's list under the parent's lock and then
//! re-checks the parent's flag, so a child registered concurrently with the parent's cancellation
//! is cancelled too (and a fiber that registers just before parking is then woken, or does not
//! park). A fiber is marked registered before its entry is pushed: in between, a descendant's
//! walk may stop at it before a cascade reached it, which only delays what the re-check then
//! delivers. Lock order: a node's lock is never held while taking another node's lock
//! (children are collected, the lock released, then each child is cancelled).

use crate::fiber::{FiberRef, FiberWeak};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

struct Node {
    cancelled: AtomicBool,
    children: Mutex<Children>,
    /// The fiber this token belongs to, cancelled with it.
    fiber: OnceLock<FiberWeak>,
}

enum Child {
    Token(Weak<Node>),
    Fiber(FiberWeak),
}

impl Child {
    fn alive(&self) -> bool {
        match self {
            Child::Token(w) => w.strong_count() > 0,
            // A load, not an upgrade (no write to the child's counter, which another worker may
            // be using); finished fibers still referenced by a handle are kept until dropped.
            Child::Fiber(w) => w.strong_count() > 0,
        }
    }
}

#[derive(Default)]
struct Children {
    list: Vec<Child>,
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

    fn push(&self, child: Child) {
        let mut c = self.0.children.lock().unwrap_or_else(|e| e.into_inner());
        if c.list.len() >= 2 * c.pruned_len.max(32) {
            c.list.retain(Child::alive);
            c.pruned_len = c.list.len();
        }
        c.list.push(child);
    }

    /// A new token cancelled whenever `self` is.
    pub fn child(&self) -> CancelToken {
        let child = CancelToken::new();
        self.push(Child::Token(Arc::downgrade(&child.0)));
        if self.is_cancelled() {
            child.cancel();
        }
        child
    }

    /// Makes `fiber` a child of this token (at spawn).
    pub(crate) fn register_fiber(&self, fiber: &FiberRef) {
        self.push(Child::Fiber(FiberRef::downgrade(fiber)));
        if self.is_cancelled() {
            cancel_fiber(fiber);
        }
    }

    /// Whether this token (or an ancestor) was cancelled.
    #[inline]
    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::Acquire)
    }

    /// Cancels this token and its descendants, waking their fibers. Idempotent.
    pub fn cancel(&self) {
        cancel_all(vec![self.0.clone()], Vec::new());
    }

    /// Binds the token to the fiber it belongs to (done once, at spawn).
    pub(crate) fn bind_fiber(&self, fiber: &FiberRef) {
        let _ = self.0.fiber.set(FiberRef::downgrade(fiber));
    }

    /// Whether two handles name the same token.
    pub fn same_as(&self, other: &CancelToken) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// Cancels `fiber` and everything below it.
pub(crate) fn cancel_fiber(fiber: &FiberRef) {
    cancel_all(Vec::new(), vec![fiber.clone()]);
}

/// Iterative cascade over tokens and fibers (no recursion: trees can be deep).
fn cancel_all(mut nodes: Vec<Arc<Node>>, mut fibers: Vec<FiberRef>) {
    loop {
        if let Some(f) = fibers.pop() {
            if f.completion.cancelled.swap(true, Ordering::SeqCst) {
                continue;
            }
            f.note_cancelled();
            if let Some(t) = f.node() {
                nodes.push(t.0.clone());
            }
            continue;
        }
        let Some(node) = nodes.pop() else { return };
        if node.cancelled.swap(true, Ordering::SeqCst) {
            continue;
        }
        if let Some(f) = node.fiber.get().and_then(FiberWeak::upgrade) {
            fibers.push(f);
        }
        let children = std::mem::take(&mut node.children.lock().unwrap_or_else(|e| e.into_inner()).list);
        for c in children {
            match c {
                Child::Token(w) => nodes.extend(w.upgrade()),
                Child::Fiber(w) => fibers.extend(w.upgrade()),
            }
        }
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
