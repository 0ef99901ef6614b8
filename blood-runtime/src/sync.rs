//! A small mutex for short, hot critical sections shared between workers (channel state).
//!
//! `std::sync::Mutex` spins on contention by re-reading the lock word in a tight loop. When two
//! workers hammer one channel, that keeps the lock's cache line bouncing on every operation: the
//! owner's unlock and its next lock each have to win the line back from the spinner. This lock
//! backs off exponentially instead (256, 512, … `pause`s between attempts, not touching the line),
//! so the owner can run several critical sections in a row while the line stays in its cache —
//! Go's `lock2` does the same (`procyield`). It is unfair, which is fine for sections of a few
//! dozen instructions. After [`SPIN_STEPS`] rounds (tens of µs) it sleeps on a futex, so a waiter
//! does not burn CPU for long while the owner is descheduled.
//!
//! State word (Drepper's "futexes are tricky" mutex 2): 0 unlocked, 1 locked, 2 locked and some
//! thread may sleep on the futex. Lock: Acquire (CAS or swap); unlock: Release swap to 0, and a
//! futex wake when the old value was 2. No poisoning: a panic inside a section unlocks on unwind
//! (the runtime's sections leave the state consistent before anything can panic).

use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU32, Ordering};

const UNLOCKED: u32 = 0;
const LOCKED: u32 = 1;
const CONTENDED: u32 = 2;

/// Backoff rounds before sleeping (round k spins 2^k `pause`s: 4095 in all, some tens of µs).
/// Long: a waiter that sleeps makes every later unlock of the owner a `futex` wake system call,
/// and one that polls the word often takes its line away from the owner between two critical
/// sections. With 6 rounds (63 pauses) 4 producers and 4 consumers on one channel at 2 workers
/// moved 15 M messages/s; with 10, 30 M; with 12, 35–40 M (Go: 33 M).
pub const SPIN_STEPS: u32 = 12;

/// The first backoff round: a waiter first looks at the word after 2^8 `pause`s, not 1. Polling
/// early takes the line from an owner that is about to lock again: with 4 producers and 4
/// consumers on one channel and 2 workers really running at once (a quiet machine), the compiled
/// Blood loop, a few instructions longer between two operations than the Rust one, lost the lock
/// to the waiter at almost every operation (16–18 M messages/s; from round 8: 48–50 M; round 5:
/// 26–44 M). The rounds left (8 to 11) spin 3840 `pause`s before sleeping, as before.
pub const SPIN_FIRST_STEP: u32 = 8;

/// A mutex with exponential backoff, then futex sleep.
pub struct SpinMutex<T> {
    state: AtomicU32,
    data: UnsafeCell<T>,
}

// SAFETY: the data is only reached through a guard, which exists for one thread at a time (the
// state word's Acquire/Release hand-over orders the accesses).
unsafe impl<T: Send> Sync for SpinMutex<T> {}
// SAFETY: as for `std::sync::Mutex`.
unsafe impl<T: Send> Send for SpinMutex<T> {}

/// Access to the locked data; unlocks on drop.
pub struct SpinGuard<'a, T> {
    lock: &'a SpinMutex<T>,
}

impl<T> SpinMutex<T> {
    pub const fn new(data: T) -> SpinMutex<T> {
        SpinMutex { state: AtomicU32::new(UNLOCKED), data: UnsafeCell::new(data) }
    }

    #[inline]
    pub fn lock(&self) -> SpinGuard<'_, T> {
        if self.state.compare_exchange_weak(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed).is_err() {
            self.lock_contended();
        }
        SpinGuard { lock: self }
    }

    #[cold]
    fn lock_contended(&self) {
        for step in SPIN_FIRST_STEP..SPIN_STEPS {
            for _ in 0..(1u32 << step) {
                std::hint::spin_loop();
            }
            if self.state.load(Ordering::Relaxed) == UNLOCKED
                && self.state.compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed).is_ok()
            {
                return;
            }
        }
        // Sleep: mark the lock contended so the owner's unlock wakes us.
        while self.state.swap(CONTENDED, Ordering::Acquire) != UNLOCKED {
            futex_wait(&self.state, CONTENDED);
        }
    }

    #[inline]
    fn unlock(&self) {
        if self.state.swap(UNLOCKED, Ordering::Release) == CONTENDED {
            futex_wake_one(&self.state);
        }
    }
}

impl<T> Deref for SpinGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard proves the lock is held by this thread.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for SpinGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard proves the lock is held by this thread, and `&mut self` makes this
        // access unique.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for SpinGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.lock.unlock();
    }
}

#[cfg(target_os = "linux")]
fn futex_wait(word: &AtomicU32, expected: u32) {
    // SAFETY: FUTEX_WAIT only reads the aligned word, which outlives the call; a spurious or
    // interrupted return is handled by the caller's loop.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            std::ptr::null::<libc::timespec>(),
        );
    }
}

#[cfg(target_os = "linux")]
fn futex_wake_one(word: &AtomicU32) {
    // SAFETY: FUTEX_WAKE on an aligned, live word has no memory effects.
    unsafe {
        libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG, 1);
    }
}

#[cfg(not(target_os = "linux"))]
fn futex_wait(word: &AtomicU32, expected: u32) {
    if word.load(Ordering::Relaxed) == expected {
        std::thread::yield_now();
    }
}

#[cfg(not(target_os = "linux"))]
fn futex_wake_one(_word: &AtomicU32) {}

#[cfg(test)]
mod tests {
    use super::SpinMutex;
    use std::sync::Arc;

    #[test]
    fn counts_under_contention() {
        let m = Arc::new(SpinMutex::new(0u64));
        let ts: Vec<_> = (0..4)
            .map(|_| {
                let m = m.clone();
                std::thread::spawn(move || {
                    for _ in 0..100_000 {
                        *m.lock() += 1;
                    }
                })
            })
            .collect();
        ts.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(*m.lock(), 400_000);
    }
}
