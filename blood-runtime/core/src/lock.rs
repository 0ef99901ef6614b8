//! The one lock type of the shared runtime code.
//!
//! With the `std` feature (the full runtime, many worker threads) it is `std::sync::Mutex`, with
//! poisoning ignored (nothing panics while holding it: a panic aborts through `ffi_guard`).
//! Without it (the minimal runtime: Blood code runs on one thread) it is a test-and-set spin
//! lock, still sound if a C host calls in from several threads; `try_lock` never blocks, so a
//! signal handler can use it.

#[cfg(feature = "std")]
mod imp {
    /// A mutual-exclusion lock (see the module header).
    pub struct Lock<T>(std::sync::Mutex<T>);
    /// Proof of holding a [`Lock`].
    pub type LockGuard<'a, T> = std::sync::MutexGuard<'a, T>;

    impl<T> Lock<T> {
        pub const fn new(value: T) -> Lock<T> {
            Lock(std::sync::Mutex::new(value))
        }
        pub fn lock(&self) -> LockGuard<'_, T> {
            self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
        }
        pub fn try_lock(&self) -> Option<LockGuard<'_, T>> {
            match self.0.try_lock() {
                Ok(g) => Some(g),
                Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
                Err(std::sync::TryLockError::WouldBlock) => None,
            }
        }
    }
}

#[cfg(not(feature = "std"))]
mod imp {
    use core::cell::UnsafeCell;
    use core::ops::{Deref, DerefMut};
    use core::sync::atomic::{AtomicBool, Ordering};

    /// A mutual-exclusion lock (see the module header).
    pub struct Lock<T> {
        held: AtomicBool,
        value: UnsafeCell<T>,
    }

    // SAFETY: the value is only reached through a `LockGuard`, and at most one guard exists at a
    // time (`held` is taken with an Acquire compare-exchange and released with a Release store).
    unsafe impl<T: Send> Sync for Lock<T> {}

    /// Proof of holding a [`Lock`].
    pub struct LockGuard<'a, T> {
        lock: &'a Lock<T>,
    }

    impl<T> Lock<T> {
        pub const fn new(value: T) -> Lock<T> {
            Lock { held: AtomicBool::new(false), value: UnsafeCell::new(value) }
        }
        pub fn lock(&self) -> LockGuard<'_, T> {
            loop {
                if let Some(g) = self.try_lock() {
                    return g;
                }
                core::hint::spin_loop();
            }
        }
        pub fn try_lock(&self) -> Option<LockGuard<'_, T>> {
            self.held
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .ok()
                .map(|_| LockGuard { lock: self })
        }
    }

    impl<T> Deref for LockGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            // SAFETY: this guard is the only one (see the `Sync` impl).
            unsafe { &*self.lock.value.get() }
        }
    }

    impl<T> DerefMut for LockGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            // SAFETY: this guard is the only one (see the `Sync` impl).
            unsafe { &mut *self.lock.value.get() }
        }
    }

    impl<T> Drop for LockGuard<'_, T> {
        fn drop(&mut self) {
            self.lock.held.store(false, Ordering::Release);
        }
    }
}

pub use imp::{Lock, LockGuard};
