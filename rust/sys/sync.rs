// SPDX-License-Identifier: GPL-2.0

//! Locks the module's own data structures use.
//!
//! [`SpinLockBh`] is a `spinlock_t` taken with bottom halves disabled
//! (`spin_lock_bh()`), for data that softirq (the TCP receive path) and
//! process context both reach, with the data it protects inside it.  The
//! kernel crate of 6.12 has no BH spinlock, and its pinned-init locks do not
//! fit a `static` or a table allocated once; this one lives at a `'static`
//! address and is initialised there, once, at module init.

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicU8, Ordering};

use kernel::bindings;
use kernel::str::CStr;

use super::global::Global;

/// A lockdep class: one per kind of lock (the locks of a table share one).
/// It must be in static storage, as lockdep requires.
pub(crate) type LockKey = Global<bindings::lock_class_key>;

/// [`SpinLockBh::state`]: not initialised, being initialised, ready.
const UNINIT: u8 = 0;
const INITIALISING: u8 = 1;
const READY: u8 = 2;

/// A `spinlock_t` taken with BHs disabled, protecting a `T`.
///
/// # Invariants
///
/// `data` is reached only through a [`SpinGuardBh`], which exists only
/// while `lock` is held.  `lock` is initialised exactly once, at the
/// object's final address (`init` takes `&'static self`), and `state` is
/// [`READY`] only after that: before it, [`SpinLockBh::lock`] refuses.
pub(crate) struct SpinLockBh<T> {
    lock: UnsafeCell<bindings::spinlock_t>,
    state: AtomicU8,
    data: UnsafeCell<T>,
}

// SAFETY: the lock serialises every access to `data` (type invariants), so
// sharing the lock shares `T` between threads one at a time: `T: Send`.
unsafe impl<T: Send> Sync for SpinLockBh<T> {}
// SAFETY: moving the lock moves the `T` (and an unlocked, maybe not yet
// initialised `spinlock_t`, which holds no address of itself).
unsafe impl<T: Send> Send for SpinLockBh<T> {}

impl<T> SpinLockBh<T> {
    /// A lock around `data`, not yet initialised.
    pub(crate) const fn new(data: T) -> Self {
        Self {
            // SAFETY: `spinlock_t` is `Zeroable` (see `global.rs`); the
            // zeroed lock is never taken before `init` (`state`).
            lock: UnsafeCell::new(unsafe { core::mem::MaybeUninit::zeroed().assume_init() }),
            state: AtomicU8::new(UNINIT),
            data: UnsafeCell::new(data),
        }
    }

    /// Initialises the lock where it lives; later calls do nothing.
    pub(crate) fn init(&'static self, name: &'static CStr, key: &'static LockKey) {
        if self
            .state
            .compare_exchange(UNINIT, INITIALISING, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return;
        }
        // The name and key are static, as lockdep keeps pointers to them.
        // SAFETY: `'static` self (fixed address); nobody holds the lock
        // (UNINIT: `lock()` refused) and the CAS made this the only init.
        unsafe { bindings::__spin_lock_init(self.lock.get(), name.as_char_ptr(), key.get()) };
        self.state.store(READY, Ordering::Release);
    }

    /// Takes the lock with BHs disabled; `None` before [`Self::init`].
    pub(crate) fn lock(&self) -> Option<SpinGuardBh<'_, T>> {
        if self.state.load(Ordering::Acquire) != READY {
            return None;
        }
        // SAFETY: initialised (state READY, paired with the Release in
        // `init`); spinlock_t starts with its raw_spinlock_t in every
        // configuration without PREEMPT_RT, which our config does not set.
        unsafe { bindings::_raw_spin_lock_bh(self.lock.get().cast()) };
        Some(SpinGuardBh { owner: self })
    }
}

/// The lock of a [`SpinLockBh`] is held while this lives; it gives access
/// to the data and unlocks (re-enabling BHs) on drop.
#[must_use = "the lock is released at once when the guard is unused"]
pub(crate) struct SpinGuardBh<'a, T> {
    owner: &'a SpinLockBh<T>,
}

impl<T> Deref for SpinGuardBh<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the lock is held (the guard exists), so no other
        // reference to the data exists outside this guard.
        unsafe { &*self.owner.data.get() }
    }
}

impl<T> DerefMut for SpinGuardBh<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only one.
        unsafe { &mut *self.owner.data.get() }
    }
}

impl<T> Drop for SpinGuardBh<'_, T> {
    fn drop(&mut self) {
        // SAFETY: this guard took the lock in `SpinLockBh::lock`.
        unsafe { bindings::_raw_spin_unlock_bh(self.owner.lock.get().cast()) };
    }
}
