// SPDX-License-Identifier: GPL-2.0

//! The msk's read side over its one subflow.
//!
//! The reader takes data straight from the subflow's receive queue with
//! TCP's own recvmsg/splice_read, but never more than
//! [`subflow::rx_readable`] allows: octets whose mapping has been checked
//! ([`subflow`]'s receive walk) and that are not data-level duplicates.  A
//! peer may legally send data again at new subflow sequence numbers (RFC
//! 8684 §3.3.1; mainline does so when it re-sends data not yet DATA_ACKed
//! and when it probes a closed data-level window), so the subflow's byte
//! stream can hold octets the connection's stream must not; they are
//! consumed unseen at the head of the queue.  TCP's call is made
//! non-blocking with a length that is queued already, so it can neither
//! wait nor read past a range to skip; waiting happens here, with TCP's
//! rules (tcp_recvmsg_locked()) for errors, EOF, timeouts and signals.
//!
//! Subflows without our context, or that never ran MPTCP, keep TCP's
//! recvmsg unchanged.  splice() from an msk goes through recvmsg (the msk
//! has no splice_read op, as mainline 6.12: copy_splice_read()).
//!
//! Locking: the subflow's socket lock (lock_sock) around each readability
//! check and wait; TCP's calls take it themselves.

use kernel::bindings;
use kernel::ffi::{c_int, c_long};

use crate::subflow;
use crate::sys::socket::RecvCall;
use crate::sys::{self, Sock, TcpSock};

const MSG_PEEK: c_int = bindings::MSG_PEEK as c_int;
const MSG_DONTWAIT: c_int = bindings::MSG_DONTWAIT as c_int;
const MSG_WAITALL: c_int = bindings::MSG_WAITALL as c_int;
const MSG_PASSTHROUGH: c_int = (bindings::MSG_ERRQUEUE | bindings::MSG_OOB) as c_int;

/// What a reader waiting for data on `ssk` gets: `Ok(n)` octets readable
/// now (n > 0), `Ok(0)` when the subflow is plain TCP (read it as such), or
/// `Err(ret)`: the value recvmsg returns with nothing copied (0 at EOF,
/// -errno).  Waits up to `*timeo` (0: non-blocking); process context.
fn wait_readable(ssk: &TcpSock, timeo: &mut c_long) -> Result<u32, c_int> {
    // The lock is held across checks and waits (dropped while sleeping).
    let mut g = ssk.lock();
    loop {
        match subflow::rx_readable(&mut g) {
            None => return Ok(0),
            Some(0) => {}
            Some(n) => return Ok(n),
        }
        if let Some(ret) = no_data_return(g.sock(), *timeo) {
            return Err(ret);
        }
        g.wait_data(timeo);
    }
}

/// TCP's answer when nothing can be copied (tcp_recvmsg_locked(), copied
/// == 0), or None to wait.  `ssk` locked.
fn no_data_return(ssk: &Sock, timeo: c_long) -> Option<c_int> {
    if ssk.is_done() {
        return Some(0);
    }
    let err = ssk.take_error();
    if err != 0 {
        return Some(-err);
    }
    if ssk.shutdown() & bindings::RCV_SHUTDOWN as u8 != 0 {
        return Some(0);
    }
    if ssk.state() == bindings::TCP_CLOSE as c_int {
        return Some(-(bindings::ENOTCONN as c_int));
    }
    if timeo == 0 {
        return Some(-(bindings::EAGAIN as c_int));
    }
    if sys::signal_pending() {
        // sock_intr_errno()
        let e = if timeo == c_long::MAX {
            bindings::ERESTARTSYS
        } else {
            bindings::EINTR
        };
        return Some(-(e as c_int));
    }
    None
}

/// recvmsg of the msk on its subflow (the call forwarded to TCP).
pub(crate) fn recvmsg(call: &RecvCall<'_>, len: usize, flags: c_int) -> c_int {
    if flags & MSG_PASSTHROUGH != 0 {
        return call.recv(len, flags);
    }
    let ssk = call.sock();
    let len = len.min(c_int::MAX as usize);
    let mut timeo = if flags & MSG_DONTWAIT != 0 {
        0
    } else {
        ssk.rcvtimeo()
    };
    let target = if flags & MSG_WAITALL != 0 && flags & MSG_PEEK == 0 {
        len
    } else {
        usize::try_from(ssk.rcvlowat())
            .unwrap_or(1)
            .clamp(1, len.max(1))
    };
    let mut copied = 0usize;
    while copied < len {
        let mut t = if copied >= target { 0 } else { timeo };
        let n = match wait_readable(ssk, &mut t) {
            // Plain TCP: its recvmsg does everything.
            Ok(0) if copied == 0 => return call.recv(len, flags),
            Ok(0) => break,
            Ok(n) => n as usize,
            Err(ret) if copied == 0 => return ret,
            Err(_) => break,
        };
        if copied < target {
            timeo = t;
        }
        let want = (len - copied).min(n);
        // Non-blocking, for octets queued.
        let r = call.recv(want, flags | MSG_DONTWAIT);
        if r < 0 {
            if copied == 0 && r != -(bindings::EAGAIN as c_int) {
                return r;
            }
            if copied > 0 {
                break;
            }
            // EAGAIN with nothing copied: another reader took the data.
            continue;
        }
        copied += r as usize;
        if r == 0 || flags & MSG_PEEK != 0 {
            break;
        }
    }
    copied as c_int
}
