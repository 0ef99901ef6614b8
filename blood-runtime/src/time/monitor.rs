//! The preemption monitor, polled by the timer thread.
//!
//! For each worker it remembers the worker's context-switch counter and when it last saw it
//! change. If a worker has been running the same fiber (counter unchanged, `running` set) for at
//! least the slice (`BLOOD_PREEMPT_INTERVAL_MS`, default 10 ms), the monitor sets that worker's
//! `preempt` flag and then the global `blood_preempt_flag` word that compiled safepoints test; the
//! safepoint's cold path (`blood_safepoint_slow`) consumes the worker's flag, clears the global
//! word when no worker still needs it, and yields. A fiber that overran its slice and found
//! nothing else to run keeps running; it is asked again one slice later, or at the next poll
//! once fibers wait in the global queue or the worker's local queue (so a fiber spawned or woken
//! behind a long-running one waits at most about one poll period, not a whole new slice). A
//! request that is asked again is also asserted again (the word may have been cleared by a
//! racing false positive on another worker, or the fiber is in a long call without safepoints).
//!
//! # When it runs
//! While some worker is awake (not parked), the monitor wants to be polled at the earliest slice
//! deadline, and at least every [`BUSY_POLL_DIV`]th of a slice: a switch is only *seen* at a poll,
//! so this bounds how late a slice is known to have started (a fiber is preempted between 1 and
//! 1 + 1/[`BUSY_POLL_DIV`] slices after it started running). When every worker is parked it asks
//! for a poll every [`IDLE_POLL`] only (a few wake-ups per second, well under 1% CPU) and raises
//! `Timers::monitor_idle`; a worker leaving its park takes that flag down and pokes the timer
//! thread, so the monitor is never asleep for long while a fiber runs (without the poke, a fiber
//! started right after an idle poll could spin for [`IDLE_POLL`] before anything preempted it).
//!
//! Ordering (no missed poke, Dekker with SeqCst): the monitor stores `monitor_idle = true`, then
//! reads the parked count; a waking worker's count decrement (by its notifier or itself) precedes
//! its `monitor_idle` swap. So either the monitor sees the worker awake, or the worker sees the
//! flag and pokes. The poke itself is recorded under the timer queue's lock (`Timers::poke`), so
//! it is not lost when the timer thread has not started waiting yet.

use crate::scheduler::RuntimeInner;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Poll period when every worker is parked.
pub const IDLE_POLL: Duration = Duration::from_millis(250);

/// While workers are awake the monitor polls at least every `slice / BUSY_POLL_DIV`.
pub const BUSY_POLL_DIV: u32 = 4;

/// What the monitor knows of one worker.
#[derive(Copy, Clone)]
struct Seen {
    /// The worker's switch counter at the last poll.
    switches: u64,
    /// When the counter was first seen at that value: the running fiber's slice started no
    /// later than this.
    since: Instant,
    /// When the running fiber was last asked to yield (None: not yet in this slice).
    asked: Option<Instant>,
}

/// How long nobody must have taken a stack from the global pool before surplus stacks are
/// trimmed (a burst of fibers whose next ones would fault the pages in again is not over).
pub const TRIM_QUIET: Duration = Duration::from_millis(5);

pub struct Monitor {
    rt: Arc<RuntimeInner>,
    seen: Vec<Seen>,
    /// The stack pool's demand when last seen changing, and when.
    stack_demand: (u64, Instant),
}

impl Monitor {
    pub fn new(rt: &Arc<RuntimeInner>) -> Monitor {
        let now = Instant::now();
        Monitor {
            rt: rt.clone(),
            seen: vec![Seen { switches: 0, since: now, asked: None }; rt.workers.len()],
            stack_demand: (0, now),
        }
    }

    /// Checks every worker; returns when it wants to be polled again.
    pub fn poll(&mut self, now: Instant) -> Option<Duration> {
        // Housekeeping that must stay off the workers' path: trim surplus pooled stacks, once the
        // workers have stopped drawing from the pool (else poll again soon to check).
        let pool = crate::stack::pool();
        let demand = pool.demand();
        if demand != self.stack_demand.0 {
            self.stack_demand = (demand, now);
        }
        let settled = now.duration_since(self.stack_demand.1) >= TRIM_QUIET;
        let trimming =
            if settled { pool.trim_some(256) == 256 } else { pool.pooled().0 > crate::stack::TRIM_THRESHOLD };
        let Some(slice) = self.rt.config.preempt_interval else {
            return trimming.then_some(Duration::from_millis(1));
        };
        // Announce the idle mode before looking at the workers (see the module header).
        self.rt.timers.monitor_idle.store(true, Ordering::SeqCst);
        let all_parked = self.rt.idle.count() >= self.rt.workers.len();
        if !all_parked {
            self.rt.timers.monitor_idle.store(false, Ordering::Relaxed);
        }
        let poll = slice / BUSY_POLL_DIV;
        let mut wait = poll;
        let global_waiting = !self.rt.global.is_empty();
        for (w, seen) in self.rt.workers.iter().zip(self.seen.iter_mut()) {
            let switches = w.counters.switches.load(Ordering::Relaxed);
            if !w.running.load(Ordering::Relaxed) || switches != seen.switches {
                *seen = Seen { switches, since: now, asked: None };
                continue;
            }
            let end = seen.since + slice;
            if now < end {
                wait = wait.min(end - now);
                continue;
            }
            // The fiber overran its slice. Ask it to yield once, then again every slice, or at
            // every poll while other fibers wait for a worker (a yield with nothing else to run
            // does nothing, so it costs them nothing to be asked as soon as they are runnable).
            let ask = match seen.asked {
                None => true,
                Some(at) => now - at >= slice || (now - at >= poll && (global_waiting || !w.stealer.is_empty())),
            };
            if !ask {
                continue;
            }
            if !w.preempt.swap(true, Ordering::SeqCst) {
                self.rt.counters.preempt_requests.fetch_add(1, Ordering::Relaxed);
            }
            // Also when the request was already pending: the word may have been cleared by a
            // false positive racing with it (see `worker::safepoint_slow`).
            crate::preempt::blood_preempt_flag.store(1, Ordering::SeqCst);
            seen.asked = Some(now);
        }
        Some(if trimming {
            Duration::from_millis(1)
        } else if all_parked {
            IDLE_POLL
        } else {
            wait
        })
    }
}
