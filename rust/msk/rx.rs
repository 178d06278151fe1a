// SPDX-License-Identifier: GPL-2.0

//! The msk's read side: recvmsg on the msk's receive queue.
//!
//! The subflow moves the connection's data to the msk's queue
//! (`subflow::data_ready`, `sys/msk_rx.rs`): octets whose mapping has
//! been checked, never a data-level duplicate (a peer may legally send data
//! again at new subflow sequence numbers, RFC 8684 §3.3.1: mainline does
//! when it re-sends data not yet DATA_ACKed and when it probes a closed
//! data-level window).  The reader copies from that queue
//! (MSG_PEEK, MSG_TRUNC, MSG_WAITALL, SO_RCVLOWAT, receive timestamps),
//! moves what the subflow still holds when the msk was full, lets the
//! subflow announce the window it freed, and waits with TCP's rules
//! (tcp_recvmsg_locked()) for errors, EOF, timeouts and signals.
//!
//! Subflows that never ran MPTCP keep TCP's recvmsg unchanged.  splice()
//! from an msk goes through recvmsg (the msk has no splice_read op, as
//! mainline 6.12: copy_splice_read()).
//!
//! Locking: the subflow's socket lock (lock_sock) for the whole call: it
//! makes this the queue's one reader (`sys/msk_rx.rs`), and is dropped
//! while waiting.

use kernel::bindings;
use kernel::ffi::{c_int, c_long};

use crate::subflow;
use crate::sys::msk::Msk;
use crate::sys::msk_rx::RecvTstamps;
use crate::sys::sock::TcpGuard;
use crate::sys::socket::RecvCall;
use crate::sys::{self, Sock};

const MSG_PEEK: c_int = bindings::MSG_PEEK as c_int;
const MSG_TRUNC: c_int = bindings::MSG_TRUNC as c_int;
const MSG_DONTWAIT: c_int = bindings::MSG_DONTWAIT as c_int;
const MSG_WAITALL: c_int = bindings::MSG_WAITALL as c_int;
const MSG_PASSTHROUGH: c_int = (bindings::MSG_ERRQUEUE | bindings::MSG_OOB) as c_int;

/// TCP's answer when nothing (more) can be copied now
/// (tcp_recvmsg_locked()), or None to wait.  With `copied` octets already
/// taken, any answer means "return those" and the error stays for the
/// next call.  `ssk` locked.
fn no_data_return(ssk: &Sock, timeo: c_long, copied: bool) -> Option<c_int> {
    if ssk.is_done() {
        return Some(0);
    }
    if copied {
        if ssk.has_error() {
            return Some(0);
        }
    } else {
        let err = ssk.take_error();
        if err != 0 {
            return Some(-err);
        }
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

/// Waits (up to `timeo`, which it lowers) until the msk holds `want`
/// octets, or the subflow is plain TCP, or TCP's rules end the wait; Err
/// if the subflow was disconnected meanwhile.
fn wait(msk: &Msk, g: &mut TcpGuard<'_>, timeo: &mut c_long, want: usize) -> Result<(), ()> {
    g.wait_for(timeo, |l| {
        msk.rx_bytes() as usize >= want
            || subflow::rx_plain(l)
            || no_data_return(l.sock(), 1, true).is_some()
    })
}

/// recvmsg of the msk (the call's subflow is its first).
pub(crate) fn recvmsg(msk: &Msk, call: &RecvCall<'_>, len: usize, flags: c_int) -> c_int {
    if flags & MSG_PASSTHROUGH != 0 {
        return call.recv(len, flags);
    }
    let ssk = call.sock();
    let len = len.min(c_int::MAX as usize);
    let peek = flags & MSG_PEEK != 0;
    let mut timeo = if flags & MSG_DONTWAIT != 0 {
        0
    } else {
        ssk.rcvtimeo()
    };
    let target = if flags & MSG_WAITALL != 0 && !peek {
        len
    } else {
        usize::try_from(msk.sock().rcvlowat())
            .unwrap_or(1)
            .clamp(1, len.max(1))
    };
    let mut ts = RecvTstamps::new();
    let mut copied = 0usize;
    let mut g = ssk.lock();
    let ret = loop {
        let via_msk = subflow::rx_pull(&mut g);
        if !via_msk && msk.rx_bytes() == 0 {
            if copied > 0 {
                break copied as c_int;
            }
            // Plain TCP: its recvmsg does everything, with the msk's
            // SO_RCVLOWAT (a subflow that was still in its handshake when
            // it was set keeps 0, see `subflow::rcvlowat_set`).
            let lowat = msk.sock().rcvlowat();
            if g.sock().rcvlowat() != lowat {
                g.sock().set_rcvlowat(lowat);
            }
            drop(g);
            return call.recv(len, flags);
        }
        // A peek copies once: when the mark is queued, or once no more can
        // come (EOF, error, timeout, signal: then what is queued), as
        // TCP's loop does.
        let short = (msk.rx_bytes() as usize) < target;
        if peek && short && no_data_return(g.sock(), timeo, msk.rx_bytes() > 0).is_none() {
            if wait(msk, &mut g, &mut timeo, target).is_err() {
                break -(bindings::EPIPE as c_int);
            }
            continue;
        }
        match msk.rx_copy(call, len - copied, peek, flags & MSG_TRUNC != 0, &mut ts) {
            Ok(0) => {}
            Ok(n) => {
                copied += n;
                if !peek {
                    subflow::rx_consumed(&mut g, n as u32);
                }
            }
            Err(e) if copied == 0 => break e,
            Err(_) => break copied as c_int,
        }
        // A peek looks once; everything queued up to `len` was copied.
        if copied >= target || (peek && copied > 0) {
            break copied as c_int;
        }
        // The read made room and more moved: copy it before any EOF.
        if msk.rx_bytes() > 0 {
            continue;
        }
        if let Some(r) = no_data_return(g.sock(), timeo, copied > 0) {
            break if copied > 0 { copied as c_int } else { r };
        }
        if wait(msk, &mut g, &mut timeo, 1).is_err() {
            // Disconnected meanwhile (as sk_wait_data()): not one stream.
            break if copied > 0 {
                copied as c_int
            } else {
                -(bindings::EPIPE as c_int)
            };
        }
    };
    ts.finish(call, ssk);
    drop(g);
    ret
}
