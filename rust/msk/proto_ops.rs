// SPDX-License-Identifier: GPL-2.0

//! The msk's socket calls (its `struct proto_ops`, whose C entry points are
//! in `sys/msk_proto.rs`): every call forwards to the first subflow
//! ([`with_first`]); connect and listen make that subflow MPTCP first.

use kernel::bindings;
use kernel::ffi::{c_int, c_uint, c_ulong};

use super::sockopt::{self, SOL_TCP};
use super::with_first;
use crate::ctl;
use crate::subflow;
use crate::sys::msk::{MsgHdr, MskSocket, PollCall, SockAddr, SockAddrOut, TstampCall};
use crate::sys::uaccess::{SockPtr, UserPtr};
use crate::sys::{Sock, TcpSock};

const SOL_SOCKET: c_int = bindings::SOL_SOCKET as c_int;
/// `TCP_IS_MPTCP` (uapi `linux/tcp.h`).
const TCP_IS_MPTCP: c_int = 43;
const TCP_INQ: c_int = bindings::TCP_INQ as c_int;

// `__poll_t` bits (uapi eventpoll.h; bindgen cannot see the casts).
const EPOLLIN: c_uint = 0x0001;
const EPOLLOUT: c_uint = 0x0004;
const EPOLLERR: c_uint = 0x0008;
const EPOLLHUP: c_uint = 0x0010;
const EPOLLRDNORM: c_uint = 0x0040;
const EPOLLWRNORM: c_uint = 0x0100;

const fn errno(e: u32) -> c_int {
    -(e as c_int)
}

pub(crate) fn bind(sock: &MskSocket, addr: &SockAddr) -> c_int {
    with_first(sock, |sub| sub.bind(addr))
}

pub(crate) fn connect(sock: &MskSocket, addr: &SockAddr, flags: c_int) -> c_int {
    // connect(AF_UNSPEC): TCP's disconnect on the subflow, then a fresh
    // MPTCP context on it (mainline's full disconnect); the socket can
    // connect again.
    let unspec = addr.family() == Some(bindings::AF_UNSPEC as c_int);
    let ret = with_first(sock, |sub| {
        let ssk = sub.tcp();
        // A fresh subflow goes MPTCP (MP_CAPABLE on its SYN); if that
        // cannot be set up it simply stays plain TCP.
        if !unspec && mptcp_candidate(ssk) {
            let _ = subflow::attach_client(ssk, sock.msk());
        }
        let ret = sub.connect(addr, flags);
        if unspec && ret == 0 {
            subflow::reset(ssk);
        }
        ret
    });
    if ret == 0 {
        sock.set_connected(!unspec);
        sock.msk().set_state(if unspec {
            bindings::TCP_CLOSE
        } else {
            bindings::TCP_ESTABLISHED
        });
    }
    ret
}

/// Whether a subflow about to connect or listen should run MPTCP: fresh
/// and MPTCP enabled in its namespace.
fn mptcp_candidate(ssk: &TcpSock) -> bool {
    ssk.state() == bindings::TCP_CLOSE as c_int
        && (!ssk.has_ulp() || subflow::state_of(ssk) == subflow::state::RESET)
        && ctl::mptcp_enabled(ssk.net())
}

pub(crate) fn listen(sock: &MskSocket, backlog: c_int) -> c_int {
    let ret = with_first(sock, |sub| {
        if mptcp_candidate(sub.tcp()) && subflow::attach_listener(sub.tcp()).is_ok() {
            // Its MPTCP children get a clone of this msk at their third
            // ACK.
            sock.msk().set_listener_of(sub.tcp());
        }
        sub.listen(backlog)
    });
    if ret == 0 {
        sock.msk().set_state(bindings::TCP_LISTEN);
    }
    ret
}

pub(crate) fn getname(sock: &MskSocket, addr: &SockAddrOut, peer: c_int) -> c_int {
    with_first(sock, |sub| sub.getname(addr, peer))
}

pub(crate) fn poll(sock: &MskSocket, call: &PollCall) -> c_uint {
    let msk = sock.msk();
    let Some(sub) = msk.first() else {
        // What tcp_poll() reports for a fresh, unconnected socket.
        return EPOLLOUT | EPOLLWRNORM | EPOLLHUP;
    };
    // The subflow waits on (and wakes) its own wait queue: registering the
    // poller there is what makes poll/epoll see subflow events.
    let mut mask = sub.poll(call);
    // Data moved to the msk's queue is no longer the subflow's (TCP's
    // poll counts only what is left on the subflow), and SO_RCVLOWAT is
    // the msk's (mainline's mptcp_epollin_ready()).
    let lowat = u32::try_from(msk.sock().rcvlowat()).unwrap_or(1).max(1);
    if msk.rx_bytes() >= lowat {
        mask |= EPOLLIN | EPOLLRDNORM;
    }
    // SO_ERROR reads the msk (sk_getsockopt), so a subflow error moves
    // there, as mainline's __mptcp_error_report() does: a non-blocking
    // connect() that failed reports ECONNREFUSED after poll.  Taken with an
    // atomic exchange, so it is reported once.
    let err = sub.tcp().take_error();
    if err != 0 {
        msk.sock().set_error(err);
    }
    if msk.sock().has_error() {
        mask |= EPOLLERR;
    }
    mask
}

pub(crate) fn ioctl(sock: &MskSocket, cmd: c_uint, arg: c_ulong) -> c_int {
    // asm-generic/ioctls.h (SIOCINQ is FIONREAD, SIOCOUTQ is TIOCOUTQ).
    const SIOCINQ: c_uint = 0x541b;
    const SIOCOUTQ: c_uint = 0x5411;
    const SIOCOUTQNSD: c_uint = bindings::SIOCOUTQNSD;
    with_first(sock, |sub| {
        if !matches!(cmd, SIOCINQ | SIOCOUTQ | SIOCOUTQNSD) {
            return sub.ioctl(cmd, arg);
        }
        // Answered by the msk (mainline's mptcp_ioctl()): the data level's
        // counts, not the subflow's.
        let ssk = sub.tcp();
        if ssk.state() == bindings::TCP_LISTEN as c_int {
            return errno(bindings::EINVAL);
        }
        let v = match cmd {
            SIOCINQ => c_int::try_from(subflow::rx_inq(ssk)).unwrap_or(c_int::MAX),
            _ => subflow::outq(ssk, cmd == SIOCOUTQNSD),
        };
        match UserPtr::new(arg as *mut c_int).write_int(v) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    })
}

pub(crate) fn gettstamp(sock: &MskSocket, call: &TstampCall) -> c_int {
    with_first(sock, |sub| sub.gettstamp(call))
}

pub(crate) fn shutdown(sock: &MskSocket, how: c_int) -> c_int {
    const SHUT_RD: c_int = 0;
    const SHUT_WR: c_int = 1;
    const SHUT_RDWR: c_int = 2;
    with_first(sock, |sub| {
        // The send side of an MPTCP connection ends with our DATA_FIN,
        // ahead of the subflow's FIN (RFC 8684 §3.3.3).
        let done = if how == SHUT_WR || how == SHUT_RDWR {
            subflow::shutdown_send(sub.tcp())
        } else {
            subflow::ShutdownSend::Tcp
        };
        if done == subflow::ShutdownSend::Tcp {
            return sub.shutdown(how);
        }
        // Armed once; a repeated shutdown leaves the timer's schedule be.
        if done == subflow::ShutdownSend::Queued {
            super::arm_data_fin_timer(sock.msk());
        }
        if how == SHUT_RDWR {
            return sub.shutdown(SHUT_RD);
        }
        sub.state_change();
        0
    })
}

pub(crate) fn setsockopt(sock: &MskSocket, level: c_int, optname: c_int, opt: &SockPtr) -> c_int {
    // Mainline's allow-list, before anything reaches the subflow.
    if let Err(e) = sockopt::setsockopt_check(level, optname) {
        return e.to_errno();
    }
    if level == SOL_TCP && optname == TCP_INQ {
        // The msk's own (mainline): its recvmsg adds the cmsg.
        return match opt.int() {
            Ok(v @ 0..=1) => {
                sock.msk().set_recvmsg_inq(v == 1);
                0
            }
            Ok(_) => errno(bindings::EINVAL),
            Err(e) => e.to_errno(),
        };
    }
    with_first(sock, |sub| {
        if level == SOL_SOCKET {
            // Applied to the subflow (where it acts) and mirrored on the
            // msk (where SOL_SOCKET getsockopt reads it).
            let ret = sub.sk_setsockopt(level, optname, opt);
            if ret != 0 {
                return ret;
            }
            if optname == bindings::SO_RCVLOWAT as c_int {
                // TCP capped the mark (half the largest buffer) and grew
                // the subflow's buffer to hold it (tcp_set_rcvlowat(), as
                // mainline's mptcp_set_rcvlowat()): the msk takes both.
                let (msk_sk, ssk) = (sock.msk().sock(), sub.tcp());
                msk_sk.set_rcvlowat(ssk.rcvlowat());
                msk_sk.set_rcvbuf(ssk.rcvbuf());
                subflow::rcvlowat_set(ssk);
                return 0;
            }
            return sock.msk().sk_setsockopt(level, optname, opt);
        }
        sub.setsockopt(level, optname, opt)
    })
}

pub(crate) fn getsockopt(
    sock: &MskSocket,
    level: c_int,
    optname: c_int,
    optval: UserPtr,
    optlen: UserPtr,
) -> c_int {
    with_first(sock, |sub| {
        if level == SOL_TCP && optname == TCP_INQ {
            let v = c_int::from(sock.msk().recvmsg_inq());
            return sockopt::put_int(optval, optlen, v);
        }
        let ssk = sub.tcp();
        if level == SOL_TCP && optname == TCP_IS_MPTCP {
            // 1 unless fallen back, as mainline (a fresh socket reads 1).
            let v = c_int::from(!sockopt::is_fallback(ssk));
            return sockopt::put_int(optval, optlen, v);
        }
        if let Some(ret) = sockopt::getsockopt(ssk, level, optname, optval, optlen) {
            return ret;
        }
        // Everything else, as on a mainline fallback socket, from the
        // subflow.
        sub.getsockopt(level, optname, optval, optlen)
    })
}

/// Hands an error that poll moved to the msk back to the subflow, where
/// TCP's send/recv/connect report it with TCP's ordering rules (queued data
/// first, then the error).
fn error_to_subflow(msk_sk: &Sock, ssk: &Sock) {
    let err = msk_sk.take_error();
    if err != 0 {
        ssk.set_error_if_none(err);
    }
}

pub(crate) fn sendmsg(sock: &MskSocket, msg: &MsgHdr, len: usize) -> c_int {
    with_first(sock, |sub| {
        error_to_subflow(sock.msk().sock(), sub.tcp());
        // sendto(MSG_FASTOPEN) connects (SYN with data, TCP fast open): the
        // subflow goes MPTCP first, as for connect().
        let fastopen =
            msg.flags() & bindings::MSG_FASTOPEN as c_uint != 0 && mptcp_candidate(sub.tcp());
        if fastopen {
            let _ = subflow::attach_client(sub.tcp(), sock.msk());
        }
        let ret = sub.sendmsg(msg, len);
        if fastopen && (ret >= 0 || ret == errno(bindings::EINPROGRESS)) {
            sock.set_connected(true);
            sock.msk().set_state(bindings::TCP_ESTABLISHED);
        }
        ret
    })
}

pub(crate) fn recvmsg(sock: &MskSocket, msg: &MsgHdr, len: usize, flags: c_int) -> c_int {
    let msk = sock.msk();
    let passthrough = flags & (bindings::MSG_ERRQUEUE | bindings::MSG_OOB) as c_int != 0;
    let ret = if len == 0 && !passthrough {
        // Nothing to copy: return at once, as mainline's mptcp_recvmsg
        // (whose copy loop never runs) and TCP do; TCP's own loop would
        // wait for one byte it cannot copy.
        if msk.sock().state() == bindings::TCP_LISTEN as c_int {
            return errno(bindings::ENOTCONN);
        }
        0
    } else {
        with_first(sock, |sub| {
            error_to_subflow(msk.sock(), sub.tcp());
            match sub.recv_call(msg) {
                Some(call) => super::rx::recvmsg(msk, &call, len, flags),
                None => errno(bindings::EOPNOTSUPP),
            }
        })
    };
    if msk.recvmsg_inq() && ret >= 0 && !passthrough {
        // The TCP_CM_INQ cmsg after a read (mainline's mptcp_recvmsg()):
        // what is left to read at the data level.
        with_first(sock, |sub| {
            let inq = c_int::try_from(subflow::rx_inq(sub.tcp())).unwrap_or(c_int::MAX);
            msg.put_cmsg_int(SOL_TCP, bindings::TCP_CM_INQ as c_int, inq)
        });
    }
    ret
}
