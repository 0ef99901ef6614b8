//! `select` over several receivers: the first ready arm in written order wins; optional default
//! (do not wait) or timeout.
//!
//! Protocol: (1) a pass over the channels in order takes the first ready value; (2) otherwise one
//! node per channel is registered, all pointing to one [`Selector`]; a sender or `close` that
//! finds such a node claims the selector with a CAS on `winner` before completing the node, so at
//! most one arm completes; (3) on timeout or cancellation the selecting party claims the selector
//! itself (`ABORTED`); if that CAS fails an arm has completed and is taken instead. Before
//! returning, every node still listed is removed under its channel's lock.

use super::{ABORTED, Chan, DONE, NO_WINNER, Receiver, RecvNode, Selector, TryRecvError, WAITING};
use crate::waiter;
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// The outcome of a select.
#[derive(Debug, PartialEq, Eq)]
pub enum Selected<T> {
    /// Arm `index` received a value.
    Value(usize, T),
    /// Arm `index`'s channel is closed and drained.
    Closed(usize),
    /// Nothing was ready: the default arm (no deadline given as `Some(now)`) or the timeout.
    Timeout,
    /// The selecting fiber was cancelled.
    Cancelled,
}

/// Waits for the first of `arms` to be ready. `deadline`: `None` waits forever; a deadline in the
/// past (e.g. `Some(Instant::now())`) is the default arm: never wait.
pub fn select_recv<T: Send>(arms: &[&Receiver<T>], deadline: Option<Instant>) -> Selected<T> {
    if waiter::current_cancelled() {
        return Selected::Cancelled;
    }
    let chans: Vec<&Chan<T>> = arms.iter().map(|r| &*r.0).collect();
    for (i, ch) in chans.iter().enumerate() {
        if let Some(done) = try_arm(ch, i) {
            return done;
        }
    }
    if deadline.is_some_and(|d| Instant::now() >= d) || chans.is_empty() {
        return Selected::Timeout;
    }
    let sel = Selector { winner: AtomicUsize::new(NO_WINNER) };
    let me = waiter::current_node();
    let nodes: Vec<RecvNode<T>> = (0..chans.len())
        .map(|i| RecvNode {
            slot: UnsafeCell::new(None),
            state: std::sync::atomic::AtomicU8::new(WAITING),
            waker: me.clone(),
            select: Some((&sel as *const Selector, i)),
        })
        .collect();
    let mut registered = 0;
    for (i, ch) in chans.iter().enumerate() {
        let mut st = ch.lock();
        if !st.is_ready() {
            st.receivers.push_back(&nodes[i]);
            registered = i + 1;
            continue;
        }
        if sel.winner.compare_exchange(NO_WINNER, i, Ordering::AcqRel, Ordering::Acquire).is_err() {
            break; // an arm registered earlier completed meanwhile
        }
        // We claimed arm i ourselves; it is ready, so this cannot be `Empty`.
        let result = match Chan::try_recv_locked(&mut st) {
            Ok((v, w)) => {
                drop(st);
                if let Some(w) = w {
                    w.wake();
                }
                Selected::Value(i, v)
            }
            Err(_) => Selected::Closed(i),
        };
        deregister(&chans[..registered], &nodes);
        return result;
    }
    loop {
        let w = sel.winner.load(Ordering::Acquire);
        if w != NO_WINNER {
            return finish(&chans[..registered], &nodes, w);
        }
        let cancelled = waiter::current_cancelled();
        let timed_out = deadline.is_some_and(|d| Instant::now() >= d);
        if cancelled || timed_out {
            match sel.winner.compare_exchange(NO_WINNER, ABORTED, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => {
                    deregister(&chans[..registered], &nodes);
                    return if cancelled { Selected::Cancelled } else { Selected::Timeout };
                }
                Err(w) => return finish(&chans[..registered], &nodes, w),
            }
        }
        match deadline {
            Some(d) => waiter::park_until(d),
            None => waiter::park(),
        }
    }
}

fn try_arm<T: Send>(ch: &Chan<T>, i: usize) -> Option<Selected<T>> {
    let mut st = ch.lock();
    match Chan::try_recv_locked(&mut st) {
        Ok((v, w)) => {
            drop(st);
            if let Some(w) = w {
                w.wake();
            }
            Some(Selected::Value(i, v))
        }
        Err(TryRecvError::Closed) => Some(Selected::Closed(i)),
        Err(TryRecvError::Empty) => None,
    }
}

/// Reads the completed arm `w` and removes the other nodes.
fn finish<T: Send>(chans: &[&Chan<T>], nodes: &[RecvNode<T>], w: usize) -> Selected<T> {
    let result = {
        let _st = chans[w].lock();
        if nodes[w].state.load(Ordering::Acquire) == DONE {
            // SAFETY: node `w` is ours; the completing party filled it under this lock, which we
            // now hold.
            Selected::Value(w, unsafe { (*nodes[w].slot.get()).take() }.expect("hand-off value"))
        } else {
            Selected::Closed(w)
        }
    };
    deregister(chans, nodes);
    result
}

fn deregister<T: Send>(chans: &[&Chan<T>], nodes: &[RecvNode<T>]) {
    for (ch, node) in chans.iter().zip(nodes) {
        let me: *const RecvNode<T> = node;
        ch.lock().receivers.retain(|&p| p != me);
    }
}
