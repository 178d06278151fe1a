// SPDX-License-Identifier: GPL-2.0

//! The MPTCP socket (`msk`): `socket(AF_INET[6], SOCK_STREAM, IPPROTO_MPTCP)`.
//!
//! An msk owns exactly one subflow, a TCP socket (`first`), and forwards
//! every socket call but recvmsg to it: received data is moved to the
//! msk's own queue (`rx.rs`, `sys/msk_rx.rs`).  A connecting msk makes its
//! subflow an MPTCP one (`subflow/`: MP_CAPABLE, DSS); if the peer does not
//! answer with MP_CAPABLE the connection is a plain-TCP *fallback*.  Options and data
//! pass through to the one subflow, as mainline does for a fallen-back msk
//! (RFC 8684 §3.7): `TCP_IS_MPTCP` reads 1 only when the connection really
//! runs MPTCP, and `SOL_MPTCP` options fail like on a mainline fallback
//! socket.
//!
//! The kernel objects and their C entry points are in `crate::sys`
//! (`sys/msk.rs`: [`Msk`], [`MskSocket`], the subflow's [`SubSocket`];
//! `sys/msk_proto.rs`: `struct proto`/`proto_ops` and their registration;
//! `sys/diag.rs`: `ss -M`); this module is what the calls do, in safe code.
//!
//! Lifetime and locking
//! - `first` is created lazily under the msk socket lock (bind, connect,
//!   listen, setsockopt, ... create it on demand:
//!   [`MskSocket::first_or_create`])
//!   or installed by accept before the msk is visible; it never changes
//!   until the msk is destroyed, so fast paths read it with one acquire
//!   load and no lock.
//! - The msk is destroyed from `close` (or from the socket-creation error
//!   path), when no other system call can still use it; its subflow then
//!   goes to [`closing`] ([`release_first`]).
//!
//! Files:
//! - `mod.rs` (this one): lifecycle (creation check, timer, accept,
//!   destruction) and registration;
//! - `proto_ops.rs`: the socket calls, forwarded to the subflow;
//! - `rx.rs`: the read side, on the msk's receive queue;
//! - `sockopt.rs`: MPTCP-level socket options;
//! - `closing.rs`: subflows of closed connections until the DATA_FIN
//!   exchange is over.

use kernel::ffi::{c_int, c_ulong};
use kernel::prelude::*;

use crate::ctl;
use crate::sys::msk::{Msk, MskSocket, SubSocket};
use crate::sys::socket::OwnedSocket;
use crate::sys::{Net, TcpSock, Unregister};

mod closing;
mod proto_ops;
mod rx;
mod sockopt;

pub(crate) use proto_ops::{
    bind, connect, getname, getsockopt, gettstamp, ioctl, listen, poll, recvmsg, sendmsg,
    setsockopt, shutdown,
};

/// `IPPROTO_MPTCP` (uapi `linux/in.h`).
pub(crate) const IPPROTO_MPTCP: c_int = 262;

/// Whether `socket(..., IPPROTO_MPTCP)` may create an msk in `net`
/// (`net.mptcp.enabled`).
pub(crate) fn may_create(net: &Net) -> bool {
    ctl::mptcp_enabled(net)
}

/// The msk's timer: resends our DATA_FIN until the peer acks it, as
/// mainline's msk retransmit timer, and resets a connection whose MP_FAIL
/// went unanswered (`subflow::msk_timer`).  Armed by shutdown(SHUT_WR) and
/// by a checksum failure, stopped by close.  Some(delay): fire again in
/// `delay` jiffies.  Softirq; `ssk` is the msk's subflow.
pub(crate) fn timer(ssk: &TcpSock) -> Option<c_ulong> {
    let delay = crate::subflow::msk_timer(ssk)?;
    Some(c_ulong::try_from(delay).unwrap_or(c_ulong::MAX))
}

/// Arms the DATA_FIN timer (first check after TCP_RTO_MIN).
fn arm_data_fin_timer(msk: &Msk) {
    msk.arm_timer((crate::sys::HZ / 5) as c_ulong);
}

/// A new msk `new` accepted on `listener`: what it inherits at the msk
/// level, as a mainline msk cloned from its listener (the SOL_SOCKET
/// options come from the TCP child, in `sys`).
pub(crate) fn accepted(listener: &Msk, new: &Msk) {
    new.set_recvmsg_inq(listener.recvmsg_inq());
    if let Some(first) = new.first() {
        crate::subflow::set_msk(first.tcp(), new);
        // A checksum failure before accept() armed the clone's timer,
        // which had no subflow to look at then: the wait's end needs it.
        if let Some(delay) = crate::subflow::fail_wait_left(first.tcp()) {
            new.arm_timer_earlier(delay);
        }
    }
}

/// The subflow of a destroyed msk: an MPTCP connection ends its data
/// stream first (DATA_FIN, see `closing.rs`); then, or at once for
/// anything else, the subflow finishes its close (FIN, lingering data) as
/// an orphan, like any closed TCP socket.
///
/// First the subflow stops feeding `msk`, whose queue is freed: data the
/// application did not read makes the close abortive, as TCP's close does
/// for its own queue (RST, with MP_FASTCLOSE: mainline's
/// `mptcp_do_fastclose()` on unread data).
pub(crate) fn release_first(msk: &Msk, first: OwnedSocket) {
    if let Some(ssk) = first.sock() {
        if crate::subflow::detach_msk(ssk, msk) > 0 {
            crate::subflow::abort_unread(ssk);
        }
    }
    closing::release(first);
}

/// Runs `f` on the first subflow (created if needed), or returns its error.
fn with_first(sock: &MskSocket, f: impl FnOnce(&SubSocket) -> c_int) -> c_int {
    match sock.first_or_create() {
        Ok(sub) => f(sub),
        Err(e) => e.to_errno(),
    }
}

/// The module's MPTCP socket registrations, undone when dropped (the
/// protocol first, then the closing list it feeds).
pub(crate) struct Registration {
    _proto: Unregister,
    _closing: Unregister,
}

/// Registers `IPPROTO_MPTCP` stream sockets for AF_INET and AF_INET6 (and
/// `ss -M`).
pub(crate) fn register(module: &'static ThisModule) -> Result<Registration> {
    // Before the protos: the closing list is used from the first msk on.
    let closing = closing::register()?;
    let proto = crate::sys::msk_proto::register(module)?;
    Ok(Registration {
        _proto: proto,
        _closing: closing,
    })
}
