//! Channels of `u64` and `select` over receivers, for one thread (see the crate header).

use crate::sched::{self, Fiber, State, rec};
use alloc::collections::VecDeque;

/// A channel. Handles are `Box<Chan>` pointers (`blood_channel_create`).
pub struct Chan {
    buf: VecDeque<u64>,
    /// Capacity (`usize::MAX`: unbounded; 0: rendezvous).
    cap: usize,
    closed: bool,
    /// Blocked receivers (a `select` registers in each of its channels).
    receivers: VecDeque<*mut Fiber>,
    /// Blocked senders; each holds its value in `Fiber::xfer`.
    senders: VecDeque<*mut Fiber>,
    /// Handles (`blood_channel_retain` / `_release`); freed when the last one goes.
    pub handles: usize,
}

/// The outcome of a non-blocking operation.
pub enum Try<T> {
    Done(T),
    Closed,
    WouldBlock,
}

impl Chan {
    pub fn new(cap: usize) -> Chan {
        Chan {
            buf: VecDeque::new(),
            cap,
            closed: false,
            receivers: VecDeque::new(),
            senders: VecDeque::new(),
            handles: 1,
        }
    }

    /// Receivers blocked here and not yet woken.
    fn waiting_receivers(&self) -> usize {
        self.receivers.iter().filter(|&&f| rec(f).state == State::Blocked).count()
    }

    /// Whether a receive would not block.
    fn recv_ready(&self) -> bool {
        !self.buf.is_empty() || !self.senders.is_empty() || self.closed
    }

    /// Wakes one blocked receiver if a receive would succeed.
    fn notify_receiver(&mut self) {
        if !self.recv_ready() {
            return;
        }
        while let Some(f) = self.receivers.pop_front() {
            if rec(f).state == State::Blocked {
                sched::wake(f);
                return;
            }
        }
    }

    /// Takes a value: from the buffer (refilled from the first blocked sender) or directly from
    /// a blocked sender.
    pub fn try_recv(&mut self) -> Try<u64> {
        if let Some(v) = self.buf.pop_front() {
            if let Some(s) = self.senders.pop_front() {
                let sr = rec(s);
                self.buf.push_back(sr.xfer);
                sr.xfer_done = true;
                sched::wake(s);
            }
            return Try::Done(v);
        }
        if let Some(s) = self.senders.pop_front() {
            let sr = rec(s);
            sr.xfer_done = true;
            sched::wake(s);
            return Try::Done(sr.xfer);
        }
        if self.closed { Try::Closed } else { Try::WouldBlock }
    }

    /// Puts a value in the buffer if there is room (or a receiver waiting for it).
    pub fn try_send(&mut self, v: u64) -> Try<()> {
        if self.closed {
            return Try::Closed;
        }
        if self.buf.len() < self.cap || self.buf.len() < self.waiting_receivers() {
            self.buf.push_back(v);
            self.notify_receiver();
            return Try::Done(());
        }
        Try::WouldBlock
    }

    /// Closes the channel: blocked senders fail, blocked receivers drain what is left.
    pub fn close(&mut self) {
        self.closed = true;
        for s in core::mem::take(&mut self.senders) {
            sched::wake(s);
        }
        for r in core::mem::take(&mut self.receivers) {
            sched::wake(r);
        }
    }

    /// Whether nothing refers to the channel any more (so it may be freed).
    pub fn idle(&self) -> bool {
        self.receivers.is_empty() && self.senders.is_empty()
    }
}

/// The channel behind a handle.
///
/// # Safety
/// `h` came from `blood_channel_create` and was not released.
pub unsafe fn chan<'a>(h: u64) -> &'a mut Chan {
    // SAFETY: the caller's contract; one thread, and no borrow is held across a switch.
    unsafe { &mut *(h as usize as *mut Chan) }
}

/// Blocking send: `Done`, `Closed`, or `WouldBlock` standing for "cancelled".
///
/// # Safety
/// `h` is a live channel handle.
pub unsafe fn send(h: u64, v: u64) -> Try<()> {
    let me = sched::current();
    if rec(me).cancelled {
        return Try::WouldBlock;
    }
    loop {
        // SAFETY: the caller's contract.
        let c = unsafe { chan(h) };
        match c.try_send(v) {
            Try::WouldBlock => {}
            r => return r,
        }
        let mr = rec(me);
        mr.xfer = v;
        mr.xfer_done = false;
        c.senders.push_back(me);
        c.notify_receiver();
        sched::block();
        // SAFETY: the caller's contract (the channel lives while we use it).
        let c = unsafe { chan(h) };
        c.senders.retain(|&s| s != me);
        if rec(me).xfer_done {
            return Try::Done(());
        }
        if c.closed {
            return Try::Closed;
        }
        if rec(me).cancelled {
            return Try::WouldBlock;
        }
    }
}

/// Blocking receive over `handles` (one for `recv`, the arms of a `select`): the first ready
/// arm's index and outcome, `None` if the deadline passed first (`Some(0)`: do not wait), and
/// `Err(())` if the caller is cancelled.
///
/// # Safety
/// Every handle is a live channel handle.
pub unsafe fn recv_any(handles: &[u64], deadline: Option<u64>) -> Result<Option<(usize, Try<u64>)>, ()> {
    let me = sched::current();
    if rec(me).cancelled {
        return Err(());
    }
    loop {
        for (i, &h) in handles.iter().enumerate() {
            // SAFETY: the caller's contract.
            match unsafe { chan(h) }.try_recv() {
                Try::WouldBlock => {}
                r => {
                    // SAFETY: as above.
                    unsafe { pass_on(handles) };
                    return Ok(Some((i, r)));
                }
            }
        }
        if handles.is_empty() && deadline.is_none() {
            // Nothing can ever be ready: wait for cancellation.
            sched::block();
            if rec(me).cancelled {
                return Err(());
            }
            continue;
        }
        if let Some(d) = deadline {
            if d == 0 || sched::now_ns() >= d {
                return Ok(None);
            }
            sched::add_timer(me, d);
        }
        for &h in handles {
            // SAFETY: the caller's contract.
            unsafe { chan(h) }.receivers.push_back(me);
        }
        sched::block();
        for &h in handles {
            // SAFETY: the caller's contract.
            unsafe { chan(h) }.receivers.retain(|&r| r != me);
        }
        if rec(me).cancelled {
            // SAFETY: as above.
            unsafe { pass_on(handles) };
            return Err(());
        }
    }
}

/// A receiver leaving: the wakes it may have absorbed go to the next blocked receivers.
///
/// # Safety
/// Every handle is a live channel handle.
unsafe fn pass_on(handles: &[u64]) {
    for &h in handles {
        // SAFETY: the caller's contract.
        unsafe { chan(h) }.notify_receiver();
    }
}
