//! Multi-producer multi-consumer channels, bounded, unbounded and rendezvous (capacity 0), whose
//! blocking operations suspend the fiber (or, outside fibers, the thread), never the worker.
//!
//! # Design (Go's `hchan`, with our waiter protocol)
//! One mutex ([`crate::sync::SpinMutex`]: backs off instead of bouncing the line between
//! contending workers) protects the buffer, the closed flag and two FIFO wait lists of *nodes*. A node
//! lives on the waiting party's stack for the duration of the wait (fibers' stacks do not move),
//! and the lists hold raw pointers to nodes. A node is only read or written under its channel's
//! lock, and its owner removes it (or finds it removed) under that lock before returning, so no
//! pointer outlives its node.
//!
//! * `send`: a waiting receiver gets the value directly (hand-off), else the buffer takes it if it
//!   has room, else the sender waits with the value in its node until a receiver takes it (or
//!   the channel is closed: the value comes back in the error).
//! * `recv`: the buffer's head, refilled from the first waiting sender; with an empty buffer (or
//!   capacity 0) straight from a waiting sender; else the receiver waits for a hand-off.
//! * `close`: wakes every waiter; receivers drain the buffer, then see `Closed`; sending on a
//!   closed channel is an error.
//! * `select` (`select.rs`) registers one node per channel, all sharing a *selector* whose atomic
//!   `winner` field is claimed (CAS) by the first channel that completes one of them; other
//!   channels skip nodes whose selector is already claimed.
//!
//! Every blocking operation is a cancellation point: it returns `Cancelled` if the calling fiber
//! is cancelled before or while waiting (an operation that already completed wins).
//!
//! Lock order: a channel lock is never held while taking another lock, except the timer queue's
//! and a fiber's run-state CAS (both leaves). Wakers are invoked after unlocking.

#[path = "select.rs"]
mod select;
pub use select::{Selected, select_recv};

use crate::sync::{SpinGuard, SpinMutex};
use crate::waiter::{self, NodeWaker, Waker};
use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::Instant;

/// Error of a blocking send.
#[derive(Debug, PartialEq, Eq)]
pub enum SendError<T> {
    /// The channel is closed; the value is returned.
    Closed(T),
    /// The sending fiber was cancelled; the value is returned.
    Cancelled(T),
}

/// Error of `try_send`.
#[derive(Debug, PartialEq, Eq)]
pub enum TrySendError<T> {
    Full(T),
    Closed(T),
}

/// Error of a blocking receive.
#[derive(Debug, Copy, Clone, PartialEq, Eq)]
pub enum RecvError {
    /// Closed and drained.
    Closed,
    Cancelled,
    /// `recv_timeout` only.
    Timeout,
}

/// Error of `try_recv`.
#[derive(Debug, Copy, Clone, PartialEq, Eq)]
pub enum TryRecvError {
    Empty,
    Closed,
}

pub(crate) const WAITING: u8 = 0;
pub(crate) const DONE: u8 = 1;
pub(crate) const CLOSED: u8 = 2;

/// Shared by the nodes of one `select`.
pub(crate) struct Selector {
    /// Index of the completed arm, or `usize::MAX` while none is.
    pub(crate) winner: AtomicUsize,
}

pub(crate) const NO_WINNER: usize = usize::MAX;
pub(crate) const ABORTED: usize = usize::MAX - 1;

/// A waiting receiver. Fields are written only under the channel lock; once `state` leaves
/// WAITING (stored with Release after the slot is filled and the node unlinked) nobody but the
/// owner touches the node, so the owner may read it without the lock (Acquire).
pub(crate) struct RecvNode<T> {
    pub(crate) slot: UnsafeCell<Option<T>>,
    pub(crate) state: AtomicU8,
    pub(crate) waker: NodeWaker,
    pub(crate) select: Option<(*const Selector, usize)>,
}

/// A waiting sender. Same rules as [`RecvNode`].
pub(crate) struct SendNode<T> {
    value: UnsafeCell<Option<T>>,
    state: AtomicU8,
    waker: NodeWaker,
}

pub(crate) struct State<T> {
    buf: VecDeque<T>,
    cap: usize,
    closed: bool,
    pub(crate) receivers: VecDeque<*const RecvNode<T>>,
    senders: VecDeque<*const SendNode<T>>,
}

impl<T> State<T> {
    /// A receive would complete now (value buffered, a sender waiting, or closed).
    pub(crate) fn is_ready(&self) -> bool {
        !self.buf.is_empty() || !self.senders.is_empty() || self.closed
    }
}

/// The channel object shared by its senders and receivers.
pub struct Chan<T> {
    pub(crate) state: SpinMutex<State<T>>,
}

// SAFETY: the raw node pointers in `State` are only dereferenced under the mutex, and nodes are
// owned by waiting parties that outlive their registration; values of `T` move between threads.
unsafe impl<T: Send> Send for Chan<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Chan<T> {}

/// The sending half (cloneable; every clone names the same channel).
pub struct Sender<T>(pub(crate) Arc<Chan<T>>);
/// The receiving half (cloneable).
pub struct Receiver<T>(pub(crate) Arc<Chan<T>>);

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender(self.0.clone())
    }
}
impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        Receiver(self.0.clone())
    }
}
impl<T> std::fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sender")
    }
}
impl<T> std::fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Receiver")
    }
}

/// A channel holding up to `cap` values (0: rendezvous, every send waits for a receiver).
pub fn bounded<T: Send>(cap: usize) -> (Sender<T>, Receiver<T>) {
    let chan = Arc::new(Chan::new(cap));
    (Sender(chan.clone()), Receiver(chan))
}

/// A channel whose sends never wait.
pub fn unbounded<T: Send>() -> (Sender<T>, Receiver<T>) {
    bounded(usize::MAX)
}

impl<T: Send> Chan<T> {
    pub fn new(cap: usize) -> Chan<T> {
        Chan {
            state: SpinMutex::new(State {
                buf: VecDeque::new(),
                cap,
                closed: false,
                receivers: VecDeque::new(),
                senders: VecDeque::new(),
            }),
        }
    }

    #[inline]
    pub(crate) fn lock(&self) -> SpinGuard<'_, State<T>> {
        self.state.lock()
    }

    /// Gives `value` to the first live waiting receiver; returns the waker to call, or the value.
    fn hand_to_receiver(st: &mut State<T>, value: T) -> Result<Waker, T> {
        while let Some(node) = st.receivers.pop_front() {
            // SAFETY: registered nodes are alive while listed; we hold the lock.
            let node = unsafe { &*node };
            if let Some((sel, idx)) = node.select {
                // SAFETY: the selector lives as long as its registered nodes.
                let sel = unsafe { &*sel };
                if sel.winner.compare_exchange(NO_WINNER, idx, Ordering::AcqRel, Ordering::Acquire).is_err() {
                    continue; // that select already completed elsewhere
                }
            }
            // SAFETY: the node is still registered with us (we hold the lock and popped it).
            let waker = unsafe { node.waker.to_waker() };
            // SAFETY: under the lock (see above); the node is unlinked already.
            unsafe { *node.slot.get() = Some(value) };
            // After this store the owner may return and free the node: touch it no more.
            node.state.store(DONE, Ordering::Release);
            return Ok(waker);
        }
        Err(value)
    }

    /// Non-blocking send attempt under the lock.
    fn try_send_locked(st: &mut State<T>, value: T) -> Result<Option<Waker>, TrySendError<T>> {
        if st.closed {
            return Err(TrySendError::Closed(value));
        }
        let value = match Self::hand_to_receiver(st, value) {
            Ok(w) => return Ok(Some(w)),
            Err(v) => v,
        };
        if st.buf.len() < st.cap {
            st.buf.push_back(value);
            return Ok(None);
        }
        Err(TrySendError::Full(value))
    }

    /// Non-blocking receive under the lock: `Ok((value, waker of a sender to wake))`.
    pub(crate) fn try_recv_locked(st: &mut State<T>) -> Result<(T, Option<Waker>), TryRecvError> {
        let from_sender = |st: &mut State<T>| -> Option<(T, Waker)> {
            let node = st.senders.pop_front()?;
            // SAFETY: registered nodes are alive while listed; we hold the lock.
            let node = unsafe { &*node };
            // SAFETY: the node is still registered with us (we hold the lock and popped it).
            let waker = unsafe { node.waker.to_waker() };
            // SAFETY: under the lock; the node is unlinked already.
            let v = unsafe { (*node.value.get()).take().expect("waiting sender holds a value") };
            // After this store the owner may return and free the node: touch it no more.
            node.state.store(DONE, Ordering::Release);
            Some((v, waker))
        };
        if let Some(v) = st.buf.pop_front() {
            let waker = from_sender(st).map(|(sv, w)| {
                st.buf.push_back(sv);
                w
            });
            return Ok((v, waker));
        }
        if let Some((v, w)) = from_sender(st) {
            return Ok((v, Some(w)));
        }
        if st.closed { Err(TryRecvError::Closed) } else { Err(TryRecvError::Empty) }
    }

    /// Sends, waiting while the channel is full.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if waiter::current_cancelled() {
            return Err(SendError::Cancelled(value));
        }
        let mut st = self.lock();
        let value = match Self::try_send_locked(&mut st, value) {
            Ok(w) => {
                drop(st);
                if let Some(w) = w {
                    w.wake();
                }
                return Ok(());
            }
            Err(TrySendError::Closed(v)) => return Err(SendError::Closed(v)),
            Err(TrySendError::Full(v)) => v,
        };
        let node = SendNode {
            value: UnsafeCell::new(Some(value)),
            state: AtomicU8::new(WAITING),
            waker: waiter::current_node(),
        };
        st.senders.push_back(&node);
        loop {
            drop(st);
            waiter::park();
            // Completed while we slept: the node is ours again, no lock needed.
            match node.state.load(Ordering::Acquire) {
                DONE => return Ok(()),
                CLOSED => {
                    // SAFETY: unlinked and finished; close() leaves the value in the node.
                    let v = unsafe { (*node.value.get()).take() }.expect("value returned on close");
                    return Err(SendError::Closed(v));
                }
                _ => {}
            }
            st = self.lock();
            if node.state.load(Ordering::Acquire) != WAITING {
                continue; // completed just now; handled at the top of the loop
            }
            if waiter::current_cancelled() {
                let me: *const SendNode<T> = &node;
                st.senders.retain(|&p| p != me);
                // SAFETY: removed from the list under the lock: nobody else can touch it now.
                let v = unsafe { (*node.value.get()).take() }.expect("unsent value");
                return Err(SendError::Cancelled(v));
            }
        }
    }

    /// Sends without waiting.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let mut st = self.lock();
        let w = Self::try_send_locked(&mut st, value)?;
        drop(st);
        if let Some(w) = w {
            w.wake();
        }
        Ok(())
    }

    /// Receives, waiting while the channel is empty; `Err(Closed)` once closed and drained.
    pub fn recv(&self) -> Result<T, RecvError> {
        self.recv_deadline(None)
    }

    /// Receives, giving up at `deadline` (`None`: wait as long as needed).
    pub fn recv_deadline(&self, deadline: Option<Instant>) -> Result<T, RecvError> {
        if waiter::current_cancelled() {
            return Err(RecvError::Cancelled);
        }
        let mut st = self.lock();
        match Self::try_recv_locked(&mut st) {
            Ok((v, w)) => {
                drop(st);
                if let Some(w) = w {
                    w.wake();
                }
                return Ok(v);
            }
            Err(TryRecvError::Closed) => return Err(RecvError::Closed),
            Err(TryRecvError::Empty) => {}
        }
        let node = RecvNode {
            slot: UnsafeCell::new(None),
            state: AtomicU8::new(WAITING),
            waker: waiter::current_node(),
            select: None,
        };
        st.receivers.push_back(&node);
        loop {
            drop(st);
            match deadline {
                Some(d) => waiter::park_until(d),
                None => waiter::park(),
            }
            match node.state.load(Ordering::Acquire) {
                // SAFETY: unlinked and finished: the node is ours again, no lock needed.
                DONE => return Ok(unsafe { (*node.slot.get()).take() }.expect("hand-off value")),
                CLOSED => return Err(RecvError::Closed),
                _ => {}
            }
            st = self.lock();
            if node.state.load(Ordering::Acquire) != WAITING {
                continue; // completed just now; handled at the top of the loop
            }
            let timed_out = deadline.is_some_and(|d| Instant::now() >= d);
            if waiter::current_cancelled() || timed_out {
                let me: *const RecvNode<T> = &node;
                st.receivers.retain(|&p| p != me);
                return Err(if timed_out && !waiter::current_cancelled() {
                    RecvError::Timeout
                } else {
                    RecvError::Cancelled
                });
            }
        }
    }

    /// Receives without waiting.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        let mut st = self.lock();
        let (v, w) = Self::try_recv_locked(&mut st)?;
        drop(st);
        if let Some(w) = w {
            w.wake();
        }
        Ok(v)
    }

    /// Closes the channel: pending and future sends fail, receivers drain then see `Closed`.
    /// Returns false if it was already closed.
    pub fn close(&self) -> bool {
        let mut wakers = Vec::new();
        {
            let mut st = self.lock();
            if st.closed {
                return false;
            }
            st.closed = true;
            while let Some(node) = st.receivers.pop_front() {
                // SAFETY: listed nodes are alive; we hold the lock.
                let node = unsafe { &*node };
                if let Some((sel, idx)) = node.select {
                    // SAFETY: the selector outlives its registered nodes.
                    let sel = unsafe { &*sel };
                    if sel.winner.compare_exchange(NO_WINNER, idx, Ordering::AcqRel, Ordering::Acquire).is_err() {
                        continue;
                    }
                }
                // SAFETY: the node was registered until we popped it under the lock.
                wakers.push(unsafe { node.waker.to_waker() });
                node.state.store(CLOSED, Ordering::Release);
            }
            while let Some(node) = st.senders.pop_front() {
                // SAFETY: listed nodes are alive; we hold the lock.
                let node = unsafe { &*node };
                // SAFETY: the node was registered until we popped it under the lock.
                wakers.push(unsafe { node.waker.to_waker() });
                node.state.store(CLOSED, Ordering::Release);
            }
        }
        for w in wakers {
            w.wake();
        }
        true
    }

    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Values buffered now.
    pub fn len(&self) -> usize {
        self.lock().buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The capacity (`usize::MAX` for unbounded).
    pub fn capacity(&self) -> usize {
        self.lock().cap
    }
}

impl<T: Send> Sender<T> {
    /// See [`Chan::send`].
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.0.send(value)
    }
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.0.try_send(value)
    }
    pub fn close(&self) -> bool {
        self.0.close()
    }
    pub fn is_closed(&self) -> bool {
        self.0.is_closed()
    }
}

impl<T: Send> Receiver<T> {
    /// See [`Chan::recv`].
    pub fn recv(&self) -> Result<T, RecvError> {
        self.0.recv()
    }
    pub fn recv_timeout(&self, d: std::time::Duration) -> Result<T, RecvError> {
        self.0.recv_deadline(Some(Instant::now() + d))
    }
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.0.try_recv()
    }
    pub fn close(&self) -> bool {
        self.0.close()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn chan(&self) -> &Arc<Chan<T>> {
        &self.0
    }
}
