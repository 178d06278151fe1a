// SPDX-License-Identifier: GPL-2.0

//! The msk's `struct proto_ops`: every socket call forwards to the first
//! subflow ([`with_first`]); connect and listen make that subflow MPTCP
//! first, accept grafts the subflow listener's TCP child onto a new msk.

use core::ffi::c_void;
use core::mem::size_of;
use core::ptr;
use core::sync::atomic::Ordering;

use kernel::bindings;
use kernel::ffi::{c_char, c_int, c_uint, c_ulong};
use kernel::prelude::*;

use super::sockopt::{self, SOL_TCP};
use super::{errno, family, msk, ops, with_first, IPPROTO_MPTCP, IPPROTO_TCP, SOCK_STREAM};
use crate::ctl;
use crate::subflow;
use crate::sys::socket::RecvCall;
use crate::sys::uaccess::{SockPtr, UserPtr};
use crate::sys::{Sock, TcpSock};

const SOL_SOCKET: c_int = bindings::SOL_SOCKET as c_int;
/// `TCP_IS_MPTCP` (uapi `linux/tcp.h`).
const TCP_IS_MPTCP: c_int = 43;
const TCP_INQ: c_int = bindings::TCP_INQ as c_int;

// `__poll_t` bits (uapi eventpoll.h; bindgen cannot see the casts).
const EPOLLOUT: c_uint = 0x0004;
const EPOLLERR: c_uint = 0x0008;
const EPOLLHUP: c_uint = 0x0010;
const EPOLLWRNORM: c_uint = 0x0100;

/// Kernel callback.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn msk_bind(
    sock: *mut bindings::socket,
    addr: *mut bindings::sockaddr,
    len: c_int,
) -> c_int {
    // SAFETY: the socket layer calls us with a live socket, in process context.
    unsafe {
        with_first(sock, |sub, o| match o.bind {
            Some(bind) => bind(sub, addr, len),
            None => errno(bindings::EOPNOTSUPP),
        })
    }
}

/// Kernel callback.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn msk_connect(
    sock: *mut bindings::socket,
    addr: *mut bindings::sockaddr,
    len: c_int,
    flags: c_int,
) -> c_int {
    // SAFETY: as msk_bind.
    unsafe {
        // connect(AF_UNSPEC): TCP's disconnect on the subflow, then a fresh
        // MPTCP context on it (mainline's full disconnect); the socket can
        // connect again.
        let unspec = !addr.is_null()
            && usize::try_from(len).is_ok_and(|l| l >= size_of::<bindings::sa_family_t>())
            && c_int::from((*addr).sa_family) == bindings::AF_UNSPEC as c_int;
        let ret = with_first(sock, |sub, o| {
            let ssk = (*sub).sk;
            // A fresh subflow goes MPTCP (MP_CAPABLE on its SYN); if that
            // cannot be set up it simply stays plain TCP.
            if !unspec && mptcp_candidate(ssk) {
                let _ = subflow::attach_client(TcpSock::from_raw(ssk));
            }
            let ret = match o.connect {
                Some(connect) => connect(sub, addr, len, flags),
                None => errno(bindings::EOPNOTSUPP),
            };
            if unspec && ret == 0 {
                subflow::reset(TcpSock::from_raw(ssk));
            }
            ret
        });
        if unspec {
            if ret == 0 {
                (*sock).state = bindings::socket_state_SS_UNCONNECTED;
                bindings::inet_sk_state_store((*sock).sk, bindings::TCP_CLOSE as c_int);
            }
            return ret;
        }
        if ret == 0 {
            (*sock).state = bindings::socket_state_SS_CONNECTED;
            bindings::inet_sk_state_store((*sock).sk, bindings::TCP_ESTABLISHED as c_int);
        }
        ret
    }
}

/// Whether a subflow about to connect or listen should run MPTCP: fresh
/// and MPTCP enabled in its namespace.
///
/// # Safety
///
/// `ssk` live, process context.
unsafe fn mptcp_candidate(ssk: *mut bindings::sock) -> bool {
    // SAFETY: the caller guarantees: `ssk` live, process context.
    unsafe {
        let net = crate::sys::net::sock_net(ssk);
        bindings::inet_sk_state_load(ssk) == bindings::TCP_CLOSE as c_int
            && ((*bindings::inet_csk(ssk)).icsk_ulp_ops.is_null()
                || subflow::state_of(TcpSock::from_raw(ssk)) == subflow::state::RESET)
            && ctl::mptcp_enabled(net)
    }
}

/// Kernel callback.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn msk_listen(sock: *mut bindings::socket, backlog: c_int) -> c_int {
    // SAFETY: as msk_bind.
    unsafe {
        let ret = with_first(sock, |sub, o| {
            let ssk = (*sub).sk;
            if mptcp_candidate(ssk) {
                let _ = subflow::attach_listener(TcpSock::from_raw(ssk));
            }
            match o.listen {
                Some(listen) => listen(sub, backlog),
                None => errno(bindings::EOPNOTSUPP),
            }
        });
        if ret == 0 {
            bindings::inet_sk_state_store((*sock).sk, bindings::TCP_LISTEN as c_int);
        }
        ret
    }
}

/// The `SOL_SOCKET` options of a new accepted msk `newsk`, from its TCP
/// child `ssk`, which inherited them from the subflow listener (where
/// setsockopt on the listening msk applied them): getsockopt reads the
/// msk, which mainline clones from its listener.  Flags tied to global
/// state (SOCK_TIMESTAMP, SOCK_TIMESTAMPING_RX_SOFTWARE: the timestamp
/// static key) are not copied.
///
/// # Safety
///
/// Both live; `newsk` not yet visible to anyone else.
unsafe fn inherit_sol_socket(newsk: *mut bindings::sock, ssk: *const bindings::sock) {
    use bindings::*;
    const FLAGS: [u32; 14] = [
        sock_flags_SOCK_URGINLINE,
        sock_flags_SOCK_KEEPOPEN,
        sock_flags_SOCK_LINGER,
        sock_flags_SOCK_BROADCAST,
        sock_flags_SOCK_DBG,
        sock_flags_SOCK_RCVTSTAMP,
        sock_flags_SOCK_RCVTSTAMPNS,
        sock_flags_SOCK_LOCALROUTE,
        sock_flags_SOCK_RXQ_OVFL,
        sock_flags_SOCK_WIFI_STATUS,
        sock_flags_SOCK_NOFCS,
        sock_flags_SOCK_SELECT_ERR_QUEUE,
        sock_flags_SOCK_TSTAMP_NEW,
        sock_flags_SOCK_RCVMARK,
    ];
    let mask = FLAGS.iter().fold(0usize, |m, f| m | (1 << f));
    // SAFETY: per the caller; `newsk` is private to this accept.
    unsafe {
        // Field by field through the raw pointers: `ssk` is shared.
        let nf = ptr::addr_of_mut!((*newsk).__sk_common.__bindgen_anon_5.skc_flags);
        *nf = (*nf & !mask) | ((*ssk).__sk_common.__bindgen_anon_5.skc_flags & mask);
        (*newsk).sk_rcvbuf = (*ssk).sk_rcvbuf;
        (*newsk).sk_sndbuf = (*ssk).sk_sndbuf;
        (*newsk).sk_userlocks = (*ssk).sk_userlocks;
        (*newsk).sk_rcvlowat = (*ssk).sk_rcvlowat;
        (*newsk).sk_rcvtimeo = (*ssk).sk_rcvtimeo;
        (*newsk).sk_sndtimeo = (*ssk).sk_sndtimeo;
        (*newsk).sk_priority = (*ssk).sk_priority;
        (*newsk).sk_mark = (*ssk).sk_mark;
        (*newsk).sk_lingertime = (*ssk).sk_lingertime;
    }
}

/// Kernel callback.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn msk_accept(
    sock: *mut bindings::socket,
    newsock: *mut bindings::socket,
    arg: *mut bindings::proto_accept_arg,
) -> c_int {
    // SAFETY: the socket layer passes a live listening socket and a fresh
    // `newsock` (our ops, no sk yet), in process context.
    unsafe {
        let sk = (*sock).sk;
        let listener = (*msk(sk)).first.load(Ordering::Acquire);
        if listener.is_null() {
            return errno(bindings::EINVAL);
        }
        let lops = ops(listener);
        let Some(accept) = lops.accept else {
            return errno(bindings::EOPNOTSUPP);
        };
        // Accept the TCP child on the subflow listener (blocking per `arg`).
        let mut sub = ptr::null_mut();
        let err = bindings::sock_create_lite(family(sk), SOCK_STREAM, IPPROTO_TCP, &mut sub);
        if err != 0 {
            return err;
        }
        (*sub).ops = lops;
        let err = accept(listener, sub, arg);
        if err < 0 {
            bindings::sock_release(sub);
            return err;
        }
        // A new msk, created the regular way (inet_create + msk_init), then
        // grafted onto `newsock`; the temporary socket is released empty.
        let mut tmp = ptr::null_mut();
        let err = bindings::__sock_create(
            bindings::sock_net(sk),
            family(sk),
            SOCK_STREAM,
            IPPROTO_MPTCP,
            &mut tmp,
            0,
        );
        if err != 0 {
            bindings::sock_release(sub);
            return err;
        }
        let newsk = (*tmp).sk;
        (*tmp).sk = ptr::null_mut();
        (*msk(newsk)).first.store(sub, Ordering::Release);
        // Inherited, as a mainline msk cloned from its listener.
        let inq = (*msk(sk)).recvmsg_inq.load(Ordering::Relaxed);
        (*msk(newsk)).recvmsg_inq.store(inq, Ordering::Relaxed);
        inherit_sol_socket(newsk, (*sub).sk);
        bindings::sock_graft(newsk, newsock);
        bindings::sock_release(tmp);
        (*newsock).state = bindings::socket_state_SS_CONNECTED;
        (*newsock).flags |= 1 << bindings::SOCK_CUSTOM_SOCKOPT;
        bindings::inet_sk_state_store(newsk, bindings::TCP_ESTABLISHED as c_int);
        0
    }
}

/// Kernel callback.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn msk_getname(
    sock: *mut bindings::socket,
    addr: *mut bindings::sockaddr,
    peer: c_int,
) -> c_int {
    // SAFETY: as msk_bind.
    unsafe {
        with_first(sock, |sub, o| match o.getname {
            Some(getname) => getname(sub, addr, peer),
            None => errno(bindings::EOPNOTSUPP),
        })
    }
}

/// Kernel callback.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn msk_poll(
    file: *mut bindings::file,
    sock: *mut bindings::socket,
    wait: *mut bindings::poll_table_struct,
) -> bindings::__poll_t {
    // SAFETY: the socket layer passes a live socket; poll does not sleep.
    unsafe {
        let sub = (*msk((*sock).sk)).first.load(Ordering::Acquire);
        if sub.is_null() {
            // What tcp_poll() reports for a fresh, unconnected socket.
            return EPOLLOUT | EPOLLWRNORM | EPOLLHUP;
        }
        // The subflow waits on (and wakes) its own wait queue: registering
        // the poller there is what makes poll/epoll see subflow events.
        let mut mask = match ops(sub).poll {
            Some(poll) => poll(file, sub, wait),
            None => 0,
        };
        // SO_ERROR reads the msk (sk_getsockopt), so a subflow error moves
        // there, as mainline's __mptcp_error_report() does: a non-blocking
        // connect() that failed reports ECONNREFUSED after poll.  Taken
        // with an atomic exchange, so it is reported once.
        let msk_sk = Sock::from_raw((*sock).sk);
        let err = Sock::from_raw((*sub).sk).take_error();
        if err != 0 {
            msk_sk.set_error(err);
        }
        if msk_sk.has_error() {
            mask |= EPOLLERR;
        }
        mask
    }
}

/// Kernel callback.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn msk_ioctl(sock: *mut bindings::socket, cmd: c_uint, arg: c_ulong) -> c_int {
    // asm-generic/ioctls.h (SIOCINQ is FIONREAD, SIOCOUTQ is TIOCOUTQ).
    const SIOCINQ: c_uint = 0x541b;
    const SIOCOUTQ: c_uint = 0x5411;
    const SIOCOUTQNSD: c_uint = bindings::SIOCOUTQNSD;
    // SAFETY: as msk_bind; `arg` is the user pointer of the ioctl call for
    // these commands.
    unsafe {
        with_first(sock, |sub, o| {
            let ssk = (*sub).sk;
            if !matches!(cmd, SIOCINQ | SIOCOUTQ | SIOCOUTQNSD) {
                return match o.ioctl {
                    Some(ioctl) => ioctl(sub, cmd, arg),
                    None => errno(bindings::ENOTTY),
                };
            }
            // Answered by the msk (mainline's mptcp_ioctl()): the data
            // level's counts, not the subflow's.
            if bindings::inet_sk_state_load(ssk) == bindings::TCP_LISTEN as c_int {
                return errno(bindings::EINVAL);
            }
            let v = match cmd {
                SIOCINQ => {
                    c_int::try_from(subflow::rx_inq(TcpSock::from_raw(ssk))).unwrap_or(c_int::MAX)
                }
                _ => subflow::outq(TcpSock::from_raw(ssk), cmd == SIOCOUTQNSD),
            };
            match UserPtr::new(arg as *mut c_int).write_int(v) {
                Ok(()) => 0,
                Err(e) => e.to_errno(),
            }
        })
    }
}

/// Kernel callback.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn msk_gettstamp(
    sock: *mut bindings::socket,
    userstamp: *mut c_void,
    timeval: bool,
    time32: bool,
) -> c_int {
    // SAFETY: as msk_bind.
    unsafe {
        with_first(sock, |sub, _| {
            bindings::sock_gettstamp(sub, userstamp, timeval, time32)
        })
    }
}

/// Kernel callback.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn msk_shutdown(sock: *mut bindings::socket, how: c_int) -> c_int {
    const SHUT_RD: c_int = 0;
    const SHUT_WR: c_int = 1;
    const SHUT_RDWR: c_int = 2;
    // SAFETY: as msk_bind.
    unsafe {
        let sk = (*sock).sk;
        with_first(sock, |sub, o| {
            let Some(shutdown) = o.shutdown else {
                return errno(bindings::EOPNOTSUPP);
            };
            // The send side of an MPTCP connection ends with our DATA_FIN,
            // ahead of the subflow's FIN (RFC 8684 §3.3.3).
            if (how == SHUT_WR || how == SHUT_RDWR)
                && crate::subflow::shutdown_send(TcpSock::from_raw((*sub).sk))
            {
                super::arm_data_fin_timer(sk);
                if how == SHUT_RDWR {
                    return shutdown(sub, SHUT_RD);
                }
                let ssk = (*sub).sk;
                if let Some(wake) = (*ssk).sk_state_change {
                    wake(ssk);
                }
                return 0;
            }
            shutdown(sub, how)
        })
    }
}

/// Kernel callback.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn msk_setsockopt(
    sock: *mut bindings::socket,
    level: c_int,
    optname: c_int,
    optval: bindings::sockptr_t,
    optlen: c_uint,
) -> c_int {
    // Mainline's allow-list, before anything reaches the subflow.
    if let Err(e) = sockopt::setsockopt_check(level, optname) {
        return e.to_errno();
    }
    if level == SOL_TCP && optname == TCP_INQ {
        // The msk's own (mainline): its recvmsg adds the cmsg.
        // SAFETY: `optval`/`optlen` are the option of this setsockopt call.
        return match unsafe { SockPtr::new(optval, optlen) }.int() {
            Ok(v @ 0..=1) => {
                // SAFETY: a live socket of ours has a live msk.
                let m = unsafe { &*msk((*sock).sk) };
                m.recvmsg_inq.store(v == 1, Ordering::Relaxed);
                0
            }
            Ok(_) => errno(bindings::EINVAL),
            Err(e) => e.to_errno(),
        };
    }
    // SAFETY: as msk_bind.
    unsafe {
        with_first(sock, |sub, o| {
            if level == SOL_SOCKET {
                // Applied to the subflow (where it acts) and mirrored on the
                // msk (where SOL_SOCKET getsockopt reads it).
                let ret = bindings::sk_setsockopt((*sub).sk, level, optname, optval, optlen);
                if ret != 0 {
                    return ret;
                }
                return bindings::sk_setsockopt((*sock).sk, level, optname, optval, optlen);
            }
            match o.setsockopt {
                Some(setsockopt) => setsockopt(sub, level, optname, optval, optlen),
                None => errno(bindings::EOPNOTSUPP),
            }
        })
    }
}

/// Kernel callback.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn msk_getsockopt(
    sock: *mut bindings::socket,
    level: c_int,
    optname: c_int,
    optval: *mut c_char,
    optlen: *mut c_int,
) -> c_int {
    // SAFETY: as msk_bind.
    unsafe {
        with_first(sock, |sub, o| {
            let (uval, ulen) = (UserPtr::new(optval), UserPtr::new(optlen));
            if level == SOL_TCP && optname == TCP_INQ {
                let v = (*msk((*sock).sk)).recvmsg_inq.load(Ordering::Relaxed);
                return sockopt::put_int(uval, ulen, c_int::from(v));
            }
            let ssk = TcpSock::from_raw((*sub).sk);
            if level == SOL_TCP && optname == TCP_IS_MPTCP {
                // 1 unless fallen back, as mainline (a fresh socket reads 1).
                let v = c_int::from(!sockopt::is_fallback(ssk));
                return sockopt::put_int(uval, ulen, v);
            }
            if let Some(ret) = sockopt::getsockopt(ssk, level, optname, uval, ulen) {
                return ret;
            }
            // Everything else, as on a mainline fallback socket, from the
            // subflow.
            match o.getsockopt {
                Some(getsockopt) => getsockopt(sub, level, optname, optval, optlen),
                None => errno(bindings::EOPNOTSUPP),
            }
        })
    }
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

/// Kernel callback.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn msk_sendmsg(
    sock: *mut bindings::socket,
    msg: *mut bindings::msghdr,
    len: usize,
) -> c_int {
    // SAFETY: as msk_bind.
    unsafe {
        with_first(sock, |sub, o| {
            error_to_subflow(Sock::from_raw((*sock).sk), Sock::from_raw((*sub).sk));
            let Some(sendmsg) = o.sendmsg else {
                return errno(bindings::EOPNOTSUPP);
            };
            // sendto(MSG_FASTOPEN) connects (SYN with data, TCP fast
            // open): the subflow goes MPTCP first, as for connect().
            let fastopen = (*msg).msg_flags & bindings::MSG_FASTOPEN as c_uint != 0
                && mptcp_candidate((*sub).sk);
            if fastopen {
                let _ = subflow::attach_client(TcpSock::from_raw((*sub).sk));
            }
            let ret = sendmsg(sub, msg, len);
            if fastopen && (ret >= 0 || ret == errno(bindings::EINPROGRESS)) {
                (*sock).state = bindings::socket_state_SS_CONNECTED;
                bindings::inet_sk_state_store((*sock).sk, bindings::TCP_ESTABLISHED as c_int);
            }
            ret
        })
    }
}

/// Kernel callback.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn msk_recvmsg(
    sock: *mut bindings::socket,
    msg: *mut bindings::msghdr,
    len: usize,
    flags: c_int,
) -> c_int {
    let passthrough = flags & (bindings::MSG_ERRQUEUE | bindings::MSG_OOB) as c_int != 0;
    let ret = if len == 0 && !passthrough {
        // Nothing to copy: return at once, as mainline's mptcp_recvmsg
        // (whose copy loop never runs) and TCP do; TCP's own loop would
        // wait for one byte it cannot copy.
        // SAFETY: a live socket has a live sk.
        let listening =
            unsafe { bindings::inet_sk_state_load((*sock).sk) } == bindings::TCP_LISTEN as c_int;
        if listening {
            return errno(bindings::ENOTCONN);
        }
        0
    } else {
        // SAFETY: as msk_bind.
        unsafe {
            with_first(sock, |sub, o| {
                error_to_subflow(Sock::from_raw((*sock).sk), Sock::from_raw((*sub).sk));
                match o.recvmsg {
                    Some(recvmsg) => {
                        // The msk keeps its subflow for the call.
                        super::rx::recvmsg(&RecvCall::new(sub, recvmsg, msg), len, flags)
                    }
                    None => errno(bindings::EOPNOTSUPP),
                }
            })
        }
    };
    // SAFETY: a live socket of ours has a live msk.
    let inq = unsafe { &*msk((*sock).sk) }
        .recvmsg_inq
        .load(Ordering::Relaxed);
    if inq && ret >= 0 && !passthrough {
        // SAFETY: as msk_bind; `msg` is the caller's.
        unsafe { inq_cmsg(sock, msg) };
    }
    ret
}

/// The TCP_CM_INQ cmsg after a read (mainline's mptcp_recvmsg()): what is
/// left to read at the data level.
///
/// # Safety
///
/// `sock` a live msk socket, `msg` the recvmsg call's; process context.
unsafe fn inq_cmsg(sock: *mut bindings::socket, msg: *mut bindings::msghdr) {
    // SAFETY: per the caller.
    unsafe {
        with_first(sock, |sub, _| {
            let mut inq: c_int = c_int::try_from(subflow::rx_inq(TcpSock::from_raw((*sub).sk)))
                .unwrap_or(c_int::MAX);
            bindings::put_cmsg(
                msg,
                SOL_TCP,
                bindings::TCP_CM_INQ as c_int,
                size_of::<c_int>() as c_int,
                ptr::addr_of_mut!(inq).cast(),
            )
        });
    }
}

/// # Safety
///
/// Module init, before registration of `o`.
pub(super) unsafe fn fill_ops(
    o: *mut bindings::proto_ops,
    module: &'static ThisModule,
    family: u32,
    release: unsafe extern "C" fn(*mut bindings::socket) -> c_int,
) {
    // SAFETY: per the caller, nobody else accesses `o`.
    let o = unsafe { &mut *o };
    o.family = family as c_int;
    o.owner = module.as_ptr();
    o.release = Some(release);
    o.bind = Some(msk_bind);
    o.connect = Some(msk_connect);
    o.socketpair = Some(bindings::sock_no_socketpair);
    o.accept = Some(msk_accept);
    o.getname = Some(msk_getname);
    o.poll = Some(msk_poll);
    o.ioctl = Some(msk_ioctl);
    o.gettstamp = Some(msk_gettstamp);
    o.listen = Some(msk_listen);
    o.shutdown = Some(msk_shutdown);
    o.setsockopt = Some(msk_setsockopt);
    o.getsockopt = Some(msk_getsockopt);
    o.sendmsg = Some(msk_sendmsg);
    o.recvmsg = Some(msk_recvmsg);
    o.mmap = Some(bindings::sock_no_mmap);
    // No splice_read: splice() copies through recvmsg (copy_splice_read(),
    // as for mainline's 6.12 msk), which keeps the data-level rules of
    // rx.rs; TCP's splice_read would also need the subflow's file.
}
