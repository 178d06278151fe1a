// SPDX-License-Identifier: GPL-2.0

//! Subflows of closed MPTCP connections waiting for the DATA_FIN exchange
//! (RFC 8684 §3.3.3) before TCP closes them.
//!
//! close() of an msk sends our DATA_FIN (`subflow::close_deferrable`) but
//! does not close the subflow: its FIN would reach the peer ahead of, or
//! with, the end of the data stream, and the peer's subflow would count it
//! (mainline keeps the orphaned msk until both DATA_FINs are acked, then
//! closes its subflows).  The msk goes away at once; its subflow socket
//! moves to this list.  A delayed work item polls the list every
//! [`POLL`] jiffies in process context: `subflow::close_poll` resends the
//! DATA_FIN when due and says when TCP may close the subflow (both
//! DATA_FINs acked, the connection no longer MPTCP or open, or
//! `net.mptcp.close_timeout` passed); then `sock_release` runs TCP's close.
//!
//! Locking: `LIST` (a BH spinlock, nothing else taken under it) protects
//! the list head; the work detaches the whole list under it and polls with
//! no lock held.  Lifetime: a listed subflow keeps its ULP's reference on
//! this module, so module exit (`unregister`) finds the list empty and
//! only has to stop the work.

use core::ptr;

use kernel::bindings;
use kernel::c_str;
use kernel::prelude::*;

use crate::subflow;
use crate::sys::global::Global;
use crate::sys::sync::{LockKey, SpinLockBh};
use crate::sys::TcpSock;

/// One closing subflow.
struct Node {
    sock: *mut bindings::socket,
    /// Close timeout: TCP closes the subflow at this jiffies value at the
    /// latest.
    deadline: u64,
    next: Option<KBox<Node>>,
}

// SAFETY: the socket pointer is owned by the node (released once, by the
// work) and only used in process context by the work.
unsafe impl Send for Node {}

static LIST: SpinLockBh<Option<KBox<Node>>> = SpinLockBh::new(None);
static LIST_KEY: LockKey = Global::zeroed();
static WORK: Global<bindings::delayed_work> = Global::zeroed();
static WORK_KEY: Global<bindings::lock_class_key> = Global::zeroed();
static TIMER_KEY: Global<bindings::lock_class_key> = Global::zeroed();

/// Poll interval of the list: 100 ms.
const POLL: u64 = bindings::HZ as u64 / 10;

fn now() -> u64 {
    crate::sys::jiffies() as u64
}

/// Runs `f` on the list head under the list lock.  `register()`
/// initialises the lock in module init, before the protocol is registered
/// and so before any msk can exist: `f` always runs (were the lock not
/// initialised, `f` would not run and listed subflows would leak, never
/// be touched unlocked).
fn locked<R: Default>(f: impl FnOnce(&mut Option<KBox<Node>>) -> R) -> R {
    match LIST.lock() {
        Some(mut head) => f(&mut head),
        None => R::default(),
    }
}

/// Schedules the work in `delay` jiffies (no-op if already pending).
fn kick(delay: u64) {
    // SAFETY: `WORK` was initialised by `register()`; `system_wq` is the
    // kernel's, always valid.
    unsafe {
        bindings::queue_delayed_work_on(
            bindings::wq_misc_consts_WORK_CPU_UNBOUND as _,
            bindings::system_wq,
            WORK.get(),
            delay as _,
        );
    }
}

/// Takes over the subflow socket `sock` of a closing msk if its connection
/// should end with the DATA_FIN exchange first; false if the caller must
/// release it now (not MPTCP, abortive close, no memory).
///
/// # Safety
///
/// `sock` is the live subflow of an msk being destroyed, owned by the
/// caller (who gives it up on true); process context.
pub(super) unsafe fn defer_release(sock: *mut bindings::socket) -> bool {
    // SAFETY: a live socket (# Safety).
    let ssk = unsafe { (*sock).sk };
    if ssk.is_null() {
        return false;
    }
    // SAFETY: live, unlocked subflow, process context (# Safety).
    let tssk = unsafe { TcpSock::from_raw(ssk) };
    let timeout = crate::ctl::close_timeout(tssk.net());
    let Ok(node) = KBox::new(
        Node {
            sock,
            deadline: now().wrapping_add(timeout),
            next: None,
        },
        GFP_KERNEL,
    ) else {
        return false;
    };
    if !subflow::close_deferrable(tssk) {
        return false;
    }
    locked(|head| {
        let mut node = node;
        node.next = head.take();
        *head = Some(node);
    });
    kick(POLL);
    true
}

/// The work: polls every listed subflow once, releases the finished ones.
///
/// # Safety
///
/// Only the workqueue calls this, for `WORK`, in process context.
unsafe extern "C" fn work_fn(_work: *mut bindings::work_struct) {
    let mut list = locked(|head| head.take());
    let mut keep: Option<KBox<Node>> = None;
    let t = now();
    while let Some(mut node) = list {
        list = node.next.take();
        let expired = t.wrapping_sub(node.deadline) < u64::MAX / 2;
        // SAFETY: the node owns the live subflow socket; process context.
        if subflow::close_poll(unsafe { TcpSock::from_raw((*node.sock).sk) }, expired, t) {
            // SAFETY: owned by the node, released once (TCP's close).
            unsafe { bindings::sock_release(node.sock) };
        } else {
            node.next = keep;
            keep = Some(node);
        }
    }
    if keep.is_some() {
        locked(|head| {
            // Put the survivors back in front of subflows listed meanwhile.
            while let Some(mut node) = keep.take() {
                keep = node.next.take();
                node.next = head.take();
                *head = Some(node);
            }
        });
    }
    if locked(|head| head.is_some()) {
        kick(POLL);
    }
}

/// Sets up the lock and the work; before any msk exists.
pub(super) fn register() {
    LIST.init(c_str!("mptcp_closing_list"), &LIST_KEY);
    // SAFETY: module init, nothing uses the work yet.
    unsafe {
        let w = WORK.get();
        bindings::init_work_with_key(
            ptr::addr_of_mut!((*w).work),
            Some(work_fn),
            false,
            c_str!("mptcp_closing_work").as_char_ptr(),
            WORK_KEY.get(),
        );
        bindings::init_timer_key(
            ptr::addr_of_mut!((*w).timer),
            Some(bindings::delayed_work_timer_fn),
            bindings::TIMER_IRQSAFE,
            c_str!("mptcp_closing_timer").as_char_ptr(),
            TIMER_KEY.get(),
        );
    }
}

/// Stops the work.  Module exit runs only when no subflow holds a module
/// reference, so the list is empty; anything left is released here.
pub(super) fn unregister() {
    // SAFETY: initialised by `register()`; process context.
    unsafe { bindings::cancel_delayed_work_sync(WORK.get()) };
    let mut list = locked(|head| head.take());
    while let Some(mut node) = list {
        list = node.next.take();
        // SAFETY: owned by the node.
        unsafe { bindings::sock_release(node.sock) };
    }
}
