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

use kernel::c_str;
use kernel::prelude::*;

use crate::subflow;
use crate::sys::global::Global;
use crate::sys::socket::OwnedSocket;
use crate::sys::sync::{LockKey, SpinLockBh};
use crate::sys::work::DelayedWork;
use crate::sys::{Claim, Unregister};

/// One closing subflow.
struct Node {
    /// Released (TCP's close) when the node is dropped.
    sock: OwnedSocket,
    /// Close timeout: TCP closes the subflow at this jiffies value at the
    /// latest.
    deadline: u64,
    next: Option<KBox<Node>>,
}

static LIST: SpinLockBh<Option<KBox<Node>>> = SpinLockBh::new(None);
static LIST_KEY: LockKey = Global::zeroed();
static WORK: DelayedWork = DelayedWork::new(work_fn);

/// Poll interval of the list: 100 ms.
const POLL: u64 = crate::sys::HZ / 10;

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

/// Releases the subflow socket `sock` of a closing msk: after the DATA_FIN
/// exchange if its connection should end with it first, else (not MPTCP,
/// abortive close, no memory) now, when `sock` is dropped.  Process
/// context.
pub(super) fn release(sock: OwnedSocket) {
    let Some(tssk) = sock.sock() else {
        return;
    };
    let timeout = crate::ctl::close_timeout(tssk.net());
    let Ok(node) = KBox::new(
        Node {
            sock,
            deadline: now().wrapping_add(timeout),
            next: None,
        },
        GFP_KERNEL,
    ) else {
        return;
    };
    match node.sock.sock() {
        Some(tssk) if subflow::close_deferrable(tssk) => {}
        _ => return,
    }
    locked(|head| {
        let mut node = node;
        node.next = head.take();
        *head = Some(node);
    });
    WORK.queue(POLL);
}

/// The work: polls every listed subflow once, releases the finished ones.
fn work_fn() {
    let mut list = locked(|head| head.take());
    let mut keep: Option<KBox<Node>> = None;
    let t = now();
    while let Some(mut node) = list {
        list = node.next.take();
        let expired = t.wrapping_sub(node.deadline) < u64::MAX / 2;
        if node
            .sock
            .sock()
            .is_none_or(|tssk| subflow::close_poll(tssk, expired, t))
        {
            // Dropping the node releases the socket (TCP's close).
            drop(node);
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
        WORK.queue(POLL);
    }
}

static REGISTERED: Claim = Claim::new();

/// Sets up the lock and the work, before any msk exists; dropping the
/// result stops the work (EBUSY if registered already).
pub(super) fn register() -> Result<Unregister> {
    if !REGISTERED.claim() {
        return Err(EBUSY);
    }
    LIST.init(c_str!("mptcp_closing_list"), &LIST_KEY);
    WORK.init(c_str!("mptcp_closing_work"));
    Ok(Unregister::new(unregister))
}

/// Stops the work.  Module exit runs only when no subflow holds a module
/// reference, so the list is empty; anything left is released here.
fn unregister() {
    if !REGISTERED.release() {
        return;
    }
    WORK.cancel_sync();
    let mut list = locked(|head| head.take());
    while let Some(mut node) = list {
        // Iteratively, so that a long list could not recurse in drop;
        // dropping a node releases its socket.
        list = node.next.take();
    }
}
