// SPDX-License-Identifier: GPL-2.0

//! Storage for the C objects the module hands to kernel registration
//! functions (`struct proto`, `struct proto_ops`, `struct ctl_table`, ...).
//!
//! Such an object must live at a fixed address from registration until
//! unregistration, and the kernel may read it from any CPU meanwhile.

use core::cell::UnsafeCell;
use core::mem::MaybeUninit;

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
            // SAFETY: a bindgen C struct made of integers, raw pointers,
            // `Option<fn>`, unions and nested structs of those (lockdep
            // keys and spinlocks are valid zeroed before their init
            // function runs; static lockdep keys are expected zeroed).
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

/// Random bytes drawn once at module init (a secret key), read-only
/// afterwards.
///
/// Invariant: written only by [`Secret::init`], from module init before
/// any reader can run.
pub(crate) struct Secret<const N: usize>(UnsafeCell<[u8; N]>);

// SAFETY: see the type invariant: the one write happens before publication.
unsafe impl<const N: usize> Sync for Secret<N> {}

impl<const N: usize> Secret<N> {
    /// All zero until [`init`](Self::init).
    pub(crate) const fn new() -> Self {
        Self(UnsafeCell::new([0; N]))
    }

    /// Module init only, before any reader: waits until the RNG is seeded
    /// (the secret must be unpredictable; only interruptible at module
    /// load), then fills the secret.
    pub(crate) fn init(&self) -> kernel::error::Result {
        // SAFETY: a kernel function without preconditions.
        kernel::error::to_result(unsafe { bindings::wait_for_random_bytes() })?;
        // SAFETY: module init, no reader yet (type invariant); `N` writable
        // octets.
        unsafe { bindings::get_random_bytes(self.0.get().cast(), N as _) };
        Ok(())
    }

    /// The secret.
    pub(crate) fn get(&self) -> &[u8; N] {
        // SAFETY: never written after init (type invariant).
        unsafe { &*self.0.get() }
    }
}

/// A value that exists for the module's lifetime: set by module init
/// before any reader can run, taken back by module exit after the last
/// one, read without a lock in between (a table allocated at init).
///
/// Invariant: [`set`](Self::set) and [`take`](Self::take) run only in
/// module init and exit, never while a reader may hold [`get`](Self::get)'s
/// borrow.
pub(crate) struct ModuleData<T>(UnsafeCell<Option<T>>);

// SAFETY: see the type invariant: writes happen only when no other context
// reads; `T: Sync` for the shared reads in between.
unsafe impl<T: Sync> Sync for ModuleData<T> {}

impl<T> ModuleData<T> {
    /// Empty until [`set`](Self::set).
    pub(crate) const fn new() -> Self {
        Self(UnsafeCell::new(None))
    }

    /// Module init only: publishes `v`.
    pub(crate) fn set(&self, v: T) {
        // SAFETY: module init, no reader yet (type invariant).
        unsafe { *self.0.get() = Some(v) };
    }

    /// Module exit only, after the last reader: takes the value back.
    pub(crate) fn take(&self) -> Option<T> {
        // SAFETY: module exit, no reader any more (type invariant).
        unsafe { (*self.0.get()).take() }
    }

    /// The value, while the module is live.
    pub(crate) fn get(&self) -> Option<&T> {
        // SAFETY: written only while no reader exists (type invariant).
        unsafe { (*self.0.get()).as_ref() }
    }
}
