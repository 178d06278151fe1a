// SPDX-License-Identifier: GPL-2.0

//! A static delayed work item ([`DelayedWork`]) that runs a Rust function
//! in process context on the kernel's `system_wq`.

use core::cell::{Cell, UnsafeCell};
use core::ptr;

use kernel::bindings;
use kernel::str::CStr;

/// A delayed work item with a static address.
///
/// Invariants: [`init`](Self::init) runs once, in module init, before the
/// first [`queue`](Self::queue); `func` is written only there.  The kernel
/// owns `dw` from then on (queueing and running it under its own locking);
/// [`cancel_sync`](Self::cancel_sync) in module exit stops it for good.
#[repr(C)]
pub(crate) struct DelayedWork {
    dw: UnsafeCell<bindings::delayed_work>,
    func: Cell<Option<fn()>>,
    work_key: UnsafeCell<bindings::lock_class_key>,
    timer_key: UnsafeCell<bindings::lock_class_key>,
}

// SAFETY: the kernel serialises access to the work item; `func` is written
// before publication only (type invariants).
unsafe impl Sync for DelayedWork {}

impl DelayedWork {
    /// A work item to be initialised by [`init`](Self::init).
    pub(crate) const fn new() -> Self {
        // SAFETY: `delayed_work` and `lock_class_key` are C structs of
        // integers, pointers and optional functions: zero is valid (and
        // what static lockdep keys expect).
        unsafe {
            Self {
                dw: UnsafeCell::new(core::mem::MaybeUninit::zeroed().assume_init()),
                func: Cell::new(None),
                work_key: UnsafeCell::new(core::mem::MaybeUninit::zeroed().assume_init()),
                timer_key: UnsafeCell::new(core::mem::MaybeUninit::zeroed().assume_init()),
            }
        }
    }

    /// Module init only: `func` runs each time the work fires; `name`
    /// names it and its timer for lockdep.
    pub(crate) fn init(&'static self, func: fn(), name: &'static CStr) {
        self.func.set(Some(func));
        let w = self.dw.get();
        // SAFETY: module init, nothing uses the work yet (type invariant);
        // the keys are static.
        unsafe {
            bindings::init_work_with_key(
                ptr::addr_of_mut!((*w).work),
                Some(run),
                false,
                name.as_char_ptr(),
                self.work_key.get(),
            );
            bindings::init_timer_key(
                ptr::addr_of_mut!((*w).timer),
                Some(bindings::delayed_work_timer_fn),
                bindings::TIMER_IRQSAFE,
                name.as_char_ptr(),
                self.timer_key.get(),
            );
        }
    }

    /// Runs the work in `delay` jiffies (no-op if already pending).
    pub(crate) fn queue(&self, delay: u64) {
        // SAFETY: initialised by `init()` (type invariant); `system_wq` is
        // the kernel's, always valid.
        unsafe {
            bindings::queue_delayed_work_on(
                bindings::wq_misc_consts_WORK_CPU_UNBOUND as _,
                bindings::system_wq,
                self.dw.get(),
                delay as _,
            );
        }
    }

    /// Cancels the work and waits for a running one (module exit, process
    /// context).
    pub(crate) fn cancel_sync(&self) {
        // SAFETY: initialised by `init()`; process context.
        unsafe { bindings::cancel_delayed_work_sync(self.dw.get()) };
    }
}

/// The work function of every [`DelayedWork`].
///
/// # Safety
///
/// Only the workqueue calls this, for the `work_struct` of a
/// [`DelayedWork`] initialised by `init()`, in process context.
unsafe extern "C" fn run(work: *mut bindings::work_struct) {
    // SAFETY: `work` is the first member of the `delayed_work`, which is the
    // first member of a `DelayedWork` (`repr(C)`), a static.
    let dw = unsafe { &*work.cast::<DelayedWork>() };
    if let Some(f) = dw.func.get() {
        f();
    }
}
