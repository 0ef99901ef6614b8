//! The preemption monitor, polled by the timer thread.
//!
//! For each worker it remembers the worker's context-switch counter and when it last changed.
//! If a worker has been running the same fiber (counter unchanged, `running` set) for at least
//! the slice (`BLOOD_PREEMPT_INTERVAL_MS`, default 10 ms), the monitor sets that worker's
//! `preempt` flag and the global `blood_preempt_flag` word that compiled safepoints test; the
//! safepoint's cold path (`blood_safepoint_slow`) consumes the worker's flag, clears the global
//! word when no worker still needs it, and yields.
//!
//! While some worker runs a fiber the monitor wants to be polled every slice/2; when every worker
//! is idle it asks for a poll every [`IDLE_POLL`] only (a few wake-ups per second, well under 1%
//! CPU).

use crate::scheduler::RuntimeInner;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Poll period when no worker is running a fiber.
pub const IDLE_POLL: Duration = Duration::from_millis(250);

pub struct Monitor {
    rt: Arc<RuntimeInner>,
    last: Vec<(u64, Instant)>,
    /// The stack pool's demand at the previous poll.
    stack_demand: u64,
}

impl Monitor {
    pub fn new(rt: &Arc<RuntimeInner>) -> Monitor {
        let now = Instant::now();
        Monitor { rt: rt.clone(), last: vec![(0, now); rt.workers.len()], stack_demand: 0 }
    }

    /// Checks every worker; returns when it wants to be polled again.
    pub fn poll(&mut self, now: Instant) -> Option<Duration> {
        // Housekeeping that must stay off the workers' path: trim surplus pooled stacks, once the
        // workers have stopped drawing from the pool (else poll again soon to check).
        let pool = crate::stack::pool();
        let demand = pool.demand();
        let settled = std::mem::replace(&mut self.stack_demand, demand) == demand;
        let trimming =
            if settled { pool.trim_some(256) == 256 } else { pool.pooled().0 > crate::stack::TRIM_THRESHOLD };
        let Some(slice) = self.rt.config.preempt_interval else {
            return trimming.then_some(Duration::from_millis(1));
        };
        let mut busy = false;
        for (w, last) in self.rt.workers.iter().zip(self.last.iter_mut()) {
            let switches = w.counters.switches.load(Ordering::Relaxed);
            if !w.running.load(Ordering::Relaxed) || switches != last.0 {
                *last = (switches, now);
                busy |= w.running.load(Ordering::Relaxed);
                continue;
            }
            busy = true;
            if now.duration_since(last.1) >= slice && !w.preempt.swap(true, Ordering::AcqRel) {
                self.rt.counters.preempt_requests.fetch_add(1, Ordering::Relaxed);
                crate::preempt::blood_preempt_flag.store(1, Ordering::Release);
                // Re-arm: the next request for this fiber comes one slice later.
                last.1 = now;
            }
        }
        Some(if trimming {
            Duration::from_millis(1)
        } else if busy {
            slice / 2
        } else {
            IDLE_POLL
        })
    }
}
