// SPDX-License-Identifier: GPL-2.0

//! Storage for the C objects the module hands to kernel registration
//! functions (`struct proto`, `struct proto_ops`, `struct ctl_table`, ...).
//!
//! Such an object must live at a fixed address from registration until
//! unregistration, and the kernel may read it from any CPU meanwhile.

use core::cell::UnsafeCell;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicU8, Ordering};

use kernel::bindings;

/// A zero-initialised C object with a static address.
///
/// # Invariants
///
/// Rust writes the object only from module init before it is registered
/// with the kernel, and never again while it is registered; the kernel
/// writes it (e.g. `proto_register()` fills `slab` and `inuse_idx`) only
/// under its own locking.  All other access is read-only.
pub(crate) struct Global<T>(UnsafeCell<T>);

// SAFETY: see the type invariants: writes happen before publication (module
// init, single-threaded) or inside the kernel's own locking.
unsafe impl<T> Sync for Global<T> {}

/// C types whose all-zero bytes are a valid value: integers, raw pointers,
/// `Option<fn>` and nested structs and arrays of those (bindgen output for
/// these structs has no references, `NonNull`, enums or `bool` fields
/// that zero could violate).
///
/// # Safety
///
/// An implementor must be valid when every byte is zero.
pub(crate) unsafe trait Zeroable {}

/// Implements [`Zeroable`] for bindgen structs, each checked by reading its
/// definition in `bindings_generated.rs`.
macro_rules! zeroable {
    ($($t:ident),* $(,)?) => {
        $(
            // Lockdep keys and spinlocks are valid zeroed before their
            // init function runs; static lockdep keys are expected zeroed.
            // SAFETY: a bindgen C struct of integers, raw pointers,
            // `Option<fn>`, and unions/structs of those: all-zero is valid.
            unsafe impl Zeroable for bindings::$t {}
        )*
    };
}

zeroable!(
    proto,
    proto_ops,
    inet_protosw,
    inet_connection_sock_af_ops,
    tcp_request_sock_ops,
    tcp_ulp_ops,
    inet_diag_handler,
    pernet_operations,
    mptcp_hook_ops,
    spinlock_t,
    lock_class_key,
    delayed_work,
    percpu_counter,
);

impl<T: Zeroable> Global<T> {
    /// A zeroed object.
    pub(crate) const fn zeroed() -> Self {
        // SAFETY: `T: Zeroable`, all-zero bytes are a valid `T`.
        Self(UnsafeCell::new(unsafe {
            MaybeUninit::zeroed().assume_init()
        }))
    }
}

impl<T> Global<T> {
    /// An object with the value `t`.
    pub(crate) const fn new(t: T) -> Self {
        Self(UnsafeCell::new(t))
    }

    /// Raw pointer to the object, for the kernel or for init-time filling.
    pub(crate) const fn get(&self) -> *mut T {
        self.0.get()
    }
}

/// A value published once, from module init, and read without a lock
/// until module exit takes it back (a table allocated at init).
///
/// Invariants: `state` goes EMPTY -> WRITING -> READY once ([`set`]);
/// `value` is initialised exactly when `state` is READY, and only read
/// then (after an acquire load).  [`take`] (module exit) ends it.
///
/// [`set`]: Self::set
/// [`take`]: Self::take
pub(crate) struct ModuleData<T> {
    state: AtomicU8,
    value: UnsafeCell<MaybeUninit<T>>,
}

const EMPTY: u8 = 0;
const WRITING: u8 = 1;
const READY: u8 = 2;

// SAFETY: `value` is written once before READY is published (release) and
// only read after READY is seen (acquire); `take` moves it out, maybe to
// another thread (`T: Send`); readers share it (`T: Sync`).
unsafe impl<T: Send + Sync> Sync for ModuleData<T> {}

impl<T> ModuleData<T> {
    /// Empty until [`set`](Self::set).
    pub(crate) const fn new() -> Self {
        Self {
            state: AtomicU8::new(EMPTY),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// Publishes `v`; fails (giving it back) if a value was set before.
    pub(crate) fn set(&self, v: T) -> core::result::Result<(), T> {
        if self
            .state
            .compare_exchange(EMPTY, WRITING, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return Err(v);
        }
        // SAFETY: WRITING is ours alone (the exchange above) and no reader
        // touches `value` before READY.
        unsafe { (*self.value.get()).write(v) };
        self.state.store(READY, Ordering::Release);
        Ok(())
    }

    /// The value, once published.
    pub(crate) fn get(&self) -> Option<&T> {
        if self.state.load(Ordering::Acquire) != READY {
            return None;
        }
        // SAFETY: READY: initialised, and only `take` ends it (its caller
        // vouches that no borrow from here is live).
        Some(unsafe { (*self.value.get()).assume_init_ref() })
    }

    /// Takes the value back (module exit).
    ///
    /// # Safety
    ///
    /// No borrow returned by [`get`](Self::get) is live or will be made
    /// again: every user of the value is gone.
    pub(crate) unsafe fn take(&self) -> Option<T> {
        if self
            .state
            .compare_exchange(READY, WRITING, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return None;
        }
        // SAFETY: READY meant initialised; no reader is left (caller), and
        // WRITING keeps new ones out.
        let v = unsafe { (*self.value.get()).assume_init_read() };
        self.state.store(EMPTY, Ordering::Release);
        Some(v)
    }
}

/// Random bytes drawn once at module init (a secret key), read-only
/// afterwards: a [`ModuleData`] that is never taken back.
pub(crate) struct Secret<const N: usize>(ModuleData<[u8; N]>);

impl<const N: usize> Secret<N> {
    /// None until [`init`](Self::init).
    pub(crate) const fn new() -> Self {
        Self(ModuleData::new())
    }

    /// Module init: waits until the RNG is seeded (the secret must be
    /// unpredictable; only interruptible at module load), then draws and
    /// publishes the secret.  EBUSY if it was drawn before.
    pub(crate) fn init(&self) -> kernel::error::Result {
        // SAFETY: a kernel function without preconditions.
        kernel::error::to_result(unsafe { bindings::wait_for_random_bytes() })?;
        let mut k = [0u8; N];
        // SAFETY: `k` is writable for `N` octets.
        unsafe { bindings::get_random_bytes(k.as_mut_ptr().cast(), N as _) };
        self.0.set(k).map_err(|_| kernel::error::code::EBUSY)
    }

    /// The secret, once drawn.
    pub(crate) fn get(&self) -> Option<&[u8; N]> {
        self.0.get()
    }
}
