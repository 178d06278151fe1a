// SPDX-License-Identifier: GPL-2.0

//! A static delayed work item ([`DelayedWork`]) that runs a Rust function
//! in process context on the kernel's `system_wq`.

use core::cell::UnsafeCell;
use core::ptr;
use core::sync::atomic::{AtomicU8, Ordering};

use kernel::bindings;
use kernel::str::CStr;

/// A delayed work item with a static address.
///
/// Invariants: `dw` is initialised once, by the first
/// [`init`](Self::init) (`state` INIT while it does, READY after); before
/// READY, [`queue`](Self::queue) and [`cancel_sync`](Self::cancel_sync)
/// do nothing.  From READY on the kernel owns `dw` (queueing and running
/// it under its own locking).
#[repr(C)]
pub(crate) struct DelayedWork {
    dw: UnsafeCell<bindings::delayed_work>,
    func: fn(),
    state: AtomicU8,
    work_key: UnsafeCell<bindings::lock_class_key>,
    timer_key: UnsafeCell<bindings::lock_class_key>,
}

const NEW: u8 = 0;
const INIT: u8 = 1;
const READY: u8 = 2;

// SAFETY: `dw` is written by the one `init` before READY is published, then
// only by the kernel under its own locking; `func` never changes.
unsafe impl Sync for DelayedWork {}

impl DelayedWork {
    /// A work item that runs `func`, to be initialised by
    /// [`init`](Self::init).
    pub(crate) const fn new(func: fn()) -> Self {
        // SAFETY: `delayed_work` and `lock_class_key` are C structs of
        // integers, pointers and optional functions: zero is valid (and
        // what static lockdep keys expect).
        unsafe {
            Self {
                dw: UnsafeCell::new(core::mem::MaybeUninit::zeroed().assume_init()),
                func,
                state: AtomicU8::new(NEW),
                work_key: UnsafeCell::new(core::mem::MaybeUninit::zeroed().assume_init()),
                timer_key: UnsafeCell::new(core::mem::MaybeUninit::zeroed().assume_init()),
            }
        }
    }

    /// Initialises the work (`name` names it and its timer for lockdep);
    /// only the first call does anything.
    pub(crate) fn init(&'static self, name: &'static CStr) {
        if self
            .state
            .compare_exchange(NEW, INIT, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        let w = self.dw.get();
        // SAFETY: INIT is ours alone, and nothing touches `dw` before READY
        // (type invariant); the keys are static.
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
        self.state.store(READY, Ordering::Release);
    }

    fn ready(&self) -> bool {
        self.state.load(Ordering::Acquire) == READY
    }

    /// Runs the work in `delay` jiffies (no-op if already pending).
    pub(crate) fn queue(&self, delay: u64) {
        if !self.ready() {
            return;
        }
        // SAFETY: initialised (READY); `system_wq` is the kernel's, always
        // valid.
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
        if !self.ready() {
            return;
        }
        // SAFETY: initialised (READY); process context.
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
    (dw.func)();
}
