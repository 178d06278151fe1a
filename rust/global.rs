// SPDX-License-Identifier: GPL-2.0

//! Storage for the C objects the module hands to kernel registration
//! functions (`struct proto`, `struct proto_ops`, `struct ctl_table`, ...).
//!
//! Such an object must live at a fixed address from registration until
//! unregistration, and the kernel may read it from any CPU meanwhile.

use core::cell::UnsafeCell;
use core::mem::MaybeUninit;

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

impl<T> Global<T> {
    /// A zeroed object.
    ///
    /// # Safety
    ///
    /// All-zero bytes must be a valid `T`; true for the bindgen structs used
    /// here (integers, raw pointers and `Option<fn>` only).
    pub(crate) const unsafe fn zeroed() -> Self {
        // SAFETY: guaranteed by the caller.
        Self(UnsafeCell::new(unsafe {
            MaybeUninit::zeroed().assume_init()
        }))
    }

    /// Raw pointer to the object, for the kernel or for init-time filling.
    pub(crate) const fn get(&self) -> *mut T {
        self.0.get()
    }
}
