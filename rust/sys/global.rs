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
