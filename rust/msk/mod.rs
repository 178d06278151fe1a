// SPDX-License-Identifier: GPL-2.0

//! The MPTCP socket (`msk`): `socket(AF_INET[6], SOCK_STREAM, IPPROTO_MPTCP)`.
//!
//! An msk owns exactly one subflow, a TCP socket (`first`), and forwards
//! every socket call to it.  A connecting msk makes its subflow an MPTCP
//! one (`subflow.rs`: MP_CAPABLE, DSS); if the peer does not answer with
//! MP_CAPABLE, or for accepted connections (the server side is not
//! implemented yet), the connection is a plain-TCP *fallback*.  Options and
//! data pass through to the one subflow, as mainline does for a fallen-back
//! msk (RFC 8684 §3.7): `TCP_IS_MPTCP` reads 1 only when the connection
//! really runs MPTCP, and `SOL_MPTCP` options fail like on a mainline
//! fallback socket.
//!
//! Lifetime and locking
//! - `first` is created lazily under the msk socket lock (bind, connect,
//!   listen, setsockopt, ... create it on demand) or installed by accept
//!   before the msk is visible; it is published with release ordering and
//!   never changes until the msk is destroyed, so fast paths read it with
//!   one acquire load and no lock.
//! - The msk is destroyed from `close` (or from the socket-creation error
//!   path), when no other system call can still use it.
//! - Each msk and each `struct socket` using our ops holds a reference on
//!   this module (`proto.owner`, `proto_ops.owner`), so `rmmod` is refused
//!   while any MPTCP socket exists.

use core::ffi::c_void;
use core::mem::{offset_of, size_of};
use core::ptr;
use core::sync::atomic::{AtomicI32, AtomicPtr, Ordering};

use kernel::bindings;
use kernel::error::to_result;
use kernel::ffi::{c_char, c_int, c_long, c_uint, c_ulong};
use kernel::prelude::*;

use crate::ctl;
use crate::global::Global;
use crate::subflow;
use sockopt::SOL_TCP;

mod rx;
mod sockopt;

/// `IPPROTO_MPTCP` (uapi `linux/in.h`).
pub(crate) const IPPROTO_MPTCP: c_int = 262;
const IPPROTO_TCP: c_int = bindings::IPPROTO_TCP as c_int;
const SOCK_STREAM: c_int = bindings::sock_type_SOCK_STREAM as c_int;
const SOL_SOCKET: c_int = bindings::SOL_SOCKET as c_int;
/// `TCP_IS_MPTCP` (uapi `linux/tcp.h`).
const TCP_IS_MPTCP: c_int = 43;

// `__poll_t` bits (uapi eventpoll.h; bindgen cannot see the casts).
const EPOLLOUT: c_uint = 0x0004;
const EPOLLERR: c_uint = 0x0008;
const EPOLLHUP: c_uint = 0x0010;
const EPOLLWRNORM: c_uint = 0x0100;

const fn errno(e: u32) -> c_int {
    -(e as c_int)
}

/// The MPTCP-level socket.
///
/// # Invariants
///
/// `icsk` is the first field: a `*mut sock` of our `proto` is a
/// `*mut MptcpSock` (the kernel allocates `proto.obj_size` bytes, zeroed).
#[repr(C)]
pub(crate) struct MptcpSock {
    icsk: bindings::inet_connection_sock,
    /// The first (today: only) subflow, a TCP `struct socket` owned by the
    /// msk; null until created.  See the module documentation for locking.
    first: AtomicPtr<bindings::socket>,
    /// Counted in `/proc/net/protocols` (init succeeded).
    inuse: bool,
}

/// The IPv6 msk: mainline's layout, `ipv6_pinfo` after the msk.
#[repr(C)]
struct Mptcp6Sock {
    msk: MptcpSock,
    np: bindings::ipv6_pinfo,
}

/// # Safety
///
/// `sk` must be a socket of `MPTCP_PROT` or `MPTCP_V6_PROT`.
unsafe fn msk(sk: *mut bindings::sock) -> *mut MptcpSock {
    // By the type invariant the sock is the first field of an `MptcpSock`.
    sk.cast()
}

/// # Safety
///
/// `sk` must be a live socket.
unsafe fn family(sk: *const bindings::sock) -> c_int {
    // SAFETY: `sk` is a live socket (# Safety), so its common part is readable.
    c_int::from(unsafe { (*sk).__sk_common.skc_family })
}

// ---- struct proto -----------------------------------------------------------

/// Kernel callback.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn msk_init(sk: *mut bindings::sock) -> c_int {
    // SAFETY: called by inet_create()/inet6_create() on a freshly allocated,
    // zeroed socket of our proto, in process context.
    unsafe {
        let net = bindings::sock_net(sk);
        if !ctl::mptcp_enabled(net) {
            return errno(bindings::ENOPROTOOPT);
        }
        bindings::sock_prot_inuse_add(net, (*sk).__sk_common.skc_prot, 1);
        (*msk(sk)).inuse = true;
        let sock = (*sk).sk_socket;
        if !sock.is_null() {
            // SOL_SOCKET options come to msk_setsockopt() so that they also
            // reach the subflow.  The socket is not yet visible to user space.
            (*sock).flags |= 1 << bindings::SOCK_CUSTOM_SOCKOPT;
        }
    }
    0
}

/// Kernel callback.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn msk_destroy(sk: *mut bindings::sock) {
    // SAFETY: called once from sk_common_release() when no system call can
    // use the msk any more.
    unsafe {
        let m = msk(sk);
        let first = (*m).first.swap(ptr::null_mut(), Ordering::AcqRel);
        if !first.is_null() {
            // An established subflow finishes its close (FIN, lingering
            // data) as an orphan, like any closed TCP socket.
            bindings::sock_release(first);
        }
        if (*m).inuse {
            (*m).inuse = false;
            bindings::sock_prot_inuse_add(bindings::sock_net(sk), (*sk).__sk_common.skc_prot, -1);
        }
    }
}

/// Kernel callback.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn msk_close(sk: *mut bindings::sock, _timeout: c_long) {
    // SAFETY: called by inet_release()/inet6_release() on the last close,
    // process context; the subflow applies its own SO_LINGER.
    unsafe {
        bindings::lock_sock(sk);
        (*sk).sk_shutdown = bindings::SHUTDOWN_MASK as u8;
        bindings::inet_sk_state_store(sk, bindings::TCP_CLOSE as c_int);
        bindings::release_sock(sk);
        bindings::sk_common_release(sk);
    }
}

/// Kernel callback.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn msk_unhash(_sk: *mut bindings::sock) {
    // The msk is never hashed: subflows are the sockets TCP looks up.
}

/// The first subflow, created on demand.
///
/// # Safety
///
/// `sk` must be a live msk and the caller in process context.
unsafe fn first_subflow(sk: *mut bindings::sock) -> Result<*mut bindings::socket> {
    // SAFETY: `sk` is a live msk (# Safety): the cast to MptcpSock is valid.
    let m = unsafe { msk(sk) };
    // SAFETY: `m` is live; see the module documentation for the ordering.
    let f = unsafe { (*m).first.load(Ordering::Acquire) };
    if !f.is_null() {
        return Ok(f);
    }
    // SAFETY: `sk` is live; lock_sock() may sleep, fine in process context.
    unsafe { bindings::lock_sock(sk) };
    // SAFETY: under the msk lock, the only writer of a null `first`.
    let mut f = unsafe { (*m).first.load(Ordering::Relaxed) };
    let mut err = 0;
    if f.is_null() {
        // kern = 0: the subflow holds a reference on the namespace (TCP
        // timers need it) and is subject to the same LSM checks as the msk.
        // SAFETY: valid namespace and out pointer.
        err = unsafe {
            bindings::__sock_create(
                bindings::sock_net(sk),
                family(sk),
                SOCK_STREAM,
                IPPROTO_TCP,
                &mut f,
                0,
            )
        };
        if err == 0 {
            // SAFETY: `m` is live; publish the fully created subflow.
            unsafe { (*m).first.store(f, Ordering::Release) };
        }
    }
    // SAFETY: locked above.
    unsafe { bindings::release_sock(sk) };
    to_result(err).map(|()| f)
}

/// The subflow's `proto_ops` (inet_stream_ops or inet6_stream_ops).
///
/// # Safety
///
/// `sub` must be a live socket.
unsafe fn ops(sub: *mut bindings::socket) -> &'static bindings::proto_ops {
    // SAFETY: a live socket has static ops.
    unsafe { &*(*sub).ops }
}

/// Runs `f` on the first subflow (created if needed), or returns its error.
///
/// # Safety
///
/// `sock` must be a live socket using our `proto_ops`, process context.
unsafe fn with_first(
    sock: *mut bindings::socket,
    f: impl FnOnce(*mut bindings::socket, &'static bindings::proto_ops) -> c_int,
) -> c_int {
    // SAFETY: `sock` is a live socket using our proto_ops (# Safety): its sk is a live msk, process context.
    match unsafe { first_subflow((*sock).sk) } {
        // SAFETY: `sub` is live as long as the msk.
        Ok(sub) => f(sub, unsafe { ops(sub) }),
        Err(e) => e.to_errno(),
    }
}

// ---- struct proto_ops: everything forwards to the subflow ------------------

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
        let ret = with_first(sock, |sub, o| {
            let ssk = (*sub).sk;
            // A fresh subflow goes MPTCP (MP_CAPABLE on its SYN); if that
            // cannot be set up it simply stays plain TCP.
            if mptcp_candidate(ssk) {
                let _ = subflow::attach_client(ssk);
            }
            match o.connect {
                Some(connect) => connect(sub, addr, len, flags),
                None => errno(bindings::EOPNOTSUPP),
            }
        });
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
        let net = bindings::sock_net(ssk);
        bindings::inet_sk_state_load(ssk) == bindings::TCP_CLOSE as c_int
            && (*bindings::inet_csk(ssk)).icsk_ulp_ops.is_null()
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
                let _ = subflow::attach_listener(ssk);
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
        let sk = (*sock).sk;
        let ssk_err = AtomicI32::from_ptr(ptr::addr_of_mut!((*(*sub).sk).sk_err));
        if ssk_err.load(Ordering::Relaxed) != 0 {
            let err = ssk_err.swap(0, Ordering::AcqRel);
            if err != 0 {
                AtomicI32::from_ptr(ptr::addr_of_mut!((*sk).sk_err)).store(err, Ordering::Release);
            }
        }
        if AtomicI32::from_ptr(ptr::addr_of_mut!((*sk).sk_err)).load(Ordering::Acquire) != 0 {
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
    // SAFETY: as msk_bind.
    unsafe {
        with_first(sock, |sub, o| match o.ioctl {
            Some(ioctl) => ioctl(sub, cmd, arg),
            None => errno(bindings::ENOTTY),
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
    // SAFETY: as msk_bind.
    unsafe {
        with_first(sock, |sub, o| match o.shutdown {
            Some(shutdown) => shutdown(sub, how),
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

/// getsockopt() result: up to `*optlen` bytes of `val`, and the length
/// written back (mainline's size negotiation for ints; structs go through
/// `sockopt`, which zeroes their padding).
///
/// # Safety
///
/// User pointers from the getsockopt system call; `val` valid for `size`.
unsafe fn put_bytes(
    optval: *mut c_char,
    optlen: *mut c_int,
    val: *const c_void,
    size: usize,
) -> c_int {
    let mut len: c_int = 0;
    // SAFETY: copy_from/to_user check the user pointers.
    unsafe {
        if bindings::copy_from_user(
            ptr::addr_of_mut!(len).cast(),
            optlen.cast(),
            size_of::<c_int>() as _,
        ) != 0
        {
            return errno(bindings::EFAULT);
        }
        if len < 0 {
            return errno(bindings::EINVAL);
        }
        let len = (len as usize).min(size);
        let lenv = len as c_int;
        if bindings::copy_to_user(optval.cast(), val, len as _) != 0
            || bindings::copy_to_user(
                optlen.cast(),
                ptr::addr_of!(lenv).cast(),
                size_of::<c_int>() as _,
            ) != 0
        {
            return errno(bindings::EFAULT);
        }
    }
    0
}

/// getsockopt() result of an int option.
///
/// # Safety
///
/// As [`put_bytes`].
unsafe fn put_int(optval: *mut c_char, optlen: *mut c_int, v: c_int) -> c_int {
    // SAFETY: the caller guarantees: as [`put_bytes`].
    unsafe { put_bytes(optval, optlen, ptr::addr_of!(v).cast(), size_of::<c_int>()) }
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
            if level == SOL_TCP && optname == TCP_IS_MPTCP {
                // 1 unless fallen back, as mainline (a fresh socket reads 1).
                let v = c_int::from(!sockopt::is_fallback((*sub).sk));
                return put_int(optval, optlen, v);
            }
            if let Some(ret) = sockopt::getsockopt((*sub).sk, level, optname, optval, optlen) {
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
///
/// # Safety
///
/// `sk` a live msk, `sub` its live subflow.
unsafe fn error_to_subflow(sk: *mut bindings::sock, sub: *mut bindings::socket) {
    // SAFETY: per the caller; sk_err is only accessed atomically here and
    // in TCP (WRITE_ONCE/xchg).
    unsafe {
        let msk_err = AtomicI32::from_ptr(ptr::addr_of_mut!((*sk).sk_err));
        if msk_err.load(Ordering::Relaxed) == 0 {
            return;
        }
        let err = msk_err.swap(0, Ordering::AcqRel);
        if err != 0 {
            let ssk_err = AtomicI32::from_ptr(ptr::addr_of_mut!((*(*sub).sk).sk_err));
            let _ = ssk_err.compare_exchange(0, err, Ordering::AcqRel, Ordering::Relaxed);
        }
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
            error_to_subflow((*sock).sk, sub);
            match o.sendmsg {
                Some(sendmsg) => sendmsg(sub, msg, len),
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
unsafe extern "C" fn msk_recvmsg(
    sock: *mut bindings::socket,
    msg: *mut bindings::msghdr,
    len: usize,
    flags: c_int,
) -> c_int {
    if len == 0 && flags & bindings::MSG_ERRQUEUE as c_int == 0 {
        // Nothing to copy: return at once, as mainline's mptcp_recvmsg
        // (whose copy loop never runs) and TCP do; TCP's own loop would
        // wait for one byte it cannot copy.
        // SAFETY: a live socket has a live sk.
        let listening =
            unsafe { bindings::inet_sk_state_load((*sock).sk) } == bindings::TCP_LISTEN as c_int;
        return if listening {
            errno(bindings::ENOTCONN)
        } else {
            0
        };
    }
    // SAFETY: as msk_bind.
    unsafe {
        with_first(sock, |sub, o| {
            error_to_subflow((*sock).sk, sub);
            match o.recvmsg {
                Some(recvmsg) => rx::recvmsg(sub, recvmsg, msg, len, flags),
                None => errno(bindings::EOPNOTSUPP),
            }
        })
    }
}

// ---- registration -------------------------------------------------------------

static MPTCP_PROT: Global<bindings::proto> = {
    // SAFETY: `struct proto` is valid zeroed.
    unsafe { Global::zeroed() }
};
static MPTCP_V6_PROT: Global<bindings::proto> = {
    // SAFETY: `struct proto` is valid zeroed.
    unsafe { Global::zeroed() }
};
static MPTCP_STREAM_OPS: Global<bindings::proto_ops> = {
    // SAFETY: `struct proto_ops` is valid zeroed.
    unsafe { Global::zeroed() }
};
static MPTCP_V6_STREAM_OPS: Global<bindings::proto_ops> = {
    // SAFETY: `struct proto_ops` is valid zeroed.
    unsafe { Global::zeroed() }
};
static MPTCP_PROTOSW: Global<bindings::inet_protosw> = {
    // SAFETY: `struct inet_protosw` is valid zeroed.
    unsafe { Global::zeroed() }
};
static MPTCP_V6_PROTOSW: Global<bindings::inet_protosw> = {
    // SAFETY: `struct inet_protosw` is valid zeroed.
    unsafe { Global::zeroed() }
};

fn set_name(dst: &mut [c_char; 32], name: &[u8]) {
    for (d, s) in dst.iter_mut().zip(name) {
        *d = *s as c_char;
    }
}

/// # Safety
///
/// Module init, before registration of `prot`.
unsafe fn fill_proto(
    prot: *mut bindings::proto,
    module: &'static ThisModule,
    name: &[u8],
    size: usize,
) {
    // SAFETY: per the caller, nobody else accesses `prot`.
    let p = unsafe { &mut *prot };
    set_name(&mut p.name, name);
    p.owner = module.as_ptr();
    p.init = Some(msk_init);
    p.destroy = Some(msk_destroy);
    p.close = Some(msk_close);
    p.unhash = Some(msk_unhash);
    p.obj_size = size as c_uint;
}

/// # Safety
///
/// Module init, before registration of `o`.
unsafe fn fill_ops(
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

/// # Safety
///
/// Module init, before registration of `sw`.
unsafe fn fill_protosw(
    sw: *mut bindings::inet_protosw,
    prot: *mut bindings::proto,
    ops: *const bindings::proto_ops,
) {
    // SAFETY: per the caller, nobody else accesses `sw`.
    let sw = unsafe { &mut *sw };
    sw.type_ = SOCK_STREAM as u16;
    sw.protocol = IPPROTO_MPTCP as u16;
    sw.prot = prot;
    sw.ops = ops;
    sw.flags = bindings::INET_PROTOSW_ICSK as u8;
}

/// Registers `IPPROTO_MPTCP` stream sockets for AF_INET and AF_INET6.
pub(crate) fn register(module: &'static ThisModule) -> Result {
    // SAFETY: module init: the statics are not registered yet.
    unsafe {
        fill_proto(MPTCP_PROT.get(), module, b"MPTCP", size_of::<MptcpSock>());
        fill_proto(
            MPTCP_V6_PROT.get(),
            module,
            b"MPTCPv6",
            size_of::<Mptcp6Sock>(),
        );
        (*MPTCP_V6_PROT.get()).ipv6_pinfo_offset = offset_of!(Mptcp6Sock, np) as c_uint;
        fill_ops(
            MPTCP_STREAM_OPS.get(),
            module,
            bindings::PF_INET,
            bindings::inet_release,
        );
        fill_ops(
            MPTCP_V6_STREAM_OPS.get(),
            module,
            bindings::PF_INET6,
            bindings::inet6_release,
        );
        fill_protosw(
            MPTCP_PROTOSW.get(),
            MPTCP_PROT.get(),
            MPTCP_STREAM_OPS.get(),
        );
        fill_protosw(
            MPTCP_V6_PROTOSW.get(),
            MPTCP_V6_PROT.get(),
            MPTCP_V6_STREAM_OPS.get(),
        );
    }
    // SAFETY: the protos are initialised and static.
    to_result(unsafe { bindings::proto_register(MPTCP_PROT.get(), 1) })?;
    // SAFETY: the v6 proto is initialised and static.
    if let Err(e) = to_result(unsafe { bindings::proto_register(MPTCP_V6_PROT.get(), 1) }) {
        // SAFETY: registered just above, no socket can exist yet.
        unsafe { bindings::proto_unregister(MPTCP_PROT.get()) };
        return Err(e);
    }
    // SAFETY: protosw initialised and static; its proto is registered.
    unsafe { bindings::inet_register_protosw(MPTCP_PROTOSW.get()) };
    // SAFETY: the v6 protosw is initialised and static; its proto is registered.
    if let Err(e) = to_result(unsafe { bindings::inet6_register_protosw(MPTCP_V6_PROTOSW.get()) }) {
        // SAFETY: undo in reverse order; no MPTCP socket exists yet.
        unsafe {
            bindings::inet_unregister_protosw(MPTCP_PROTOSW.get());
            bindings::proto_unregister(MPTCP_V6_PROT.get());
            bindings::proto_unregister(MPTCP_PROT.get());
        }
        return Err(e);
    }
    Ok(())
}

/// Undoes [`register`].  Module exit runs only when no MPTCP socket holds a
/// module reference, so no msk exists any more.
pub(crate) fn unregister() {
    // SAFETY: registered by `register()`; the protosw unregistration waits
    // for concurrent socket creation (synchronize_net) before the protos go.
    unsafe {
        bindings::inet6_unregister_protosw(MPTCP_V6_PROTOSW.get());
        bindings::inet_unregister_protosw(MPTCP_PROTOSW.get());
        bindings::proto_unregister(MPTCP_V6_PROT.get());
        bindings::proto_unregister(MPTCP_PROT.get());
    }
}
