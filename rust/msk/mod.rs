// SPDX-License-Identifier: GPL-2.0

//! The MPTCP socket (`msk`): `socket(AF_INET[6], SOCK_STREAM, IPPROTO_MPTCP)`.
//!
//! An msk owns exactly one subflow, a TCP socket (`first`), and forwards
//! every socket call to it.  A connecting msk makes its subflow an MPTCP
//! one (`subflow/`: MP_CAPABLE, DSS); if the peer does not answer with
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
//!
//! Files:
//! - `mod.rs` (this one): [`MptcpSock`], `struct proto`, the first subflow,
//!   registration;
//! - `proto_ops.rs`: `struct proto_ops`, every call forwarded to the subflow;
//! - `rx.rs`: the read side (never reads a data-level duplicate);
//! - `sockopt.rs`: MPTCP-level socket options;
//! - `diag.rs`: `ss -M` (the `inet_diag` handler for MPTCP sockets);
//! - `closing.rs`: subflows of closed connections until the DATA_FIN
//!   exchange is over.

use core::mem::{offset_of, size_of};
use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

use kernel::bindings;
use kernel::error::to_result;
use kernel::ffi::{c_char, c_int, c_long, c_uint};
use kernel::prelude::*;

use crate::ctl;
use crate::sys::global::Global;
use crate::sys::socket::OwnedSocket;
use crate::sys::Sock;

mod closing;
mod diag;
mod proto_ops;
mod rx;
mod sockopt;

/// `IPPROTO_MPTCP` (uapi `linux/in.h`).
pub(crate) const IPPROTO_MPTCP: c_int = 262;
const IPPROTO_TCP: c_int = bindings::IPPROTO_TCP as c_int;
const SOCK_STREAM: c_int = bindings::sock_type_SOCK_STREAM as c_int;

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
    /// Place on the `ss -M` list, from init to destroy (see `diag.rs`).
    diag: diag::Link,
    /// TCP_INQ: recvmsg adds a TCP_CM_INQ cmsg (mainline's
    /// `msk->recvmsg_inq`).  An atomic flag: set by setsockopt, read by
    /// recvmsg, no lock needed; an accepted msk inherits the listener's.
    recvmsg_inq: AtomicBool,
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
        let net = crate::sys::net::sock_net(sk);
        if !ctl::mptcp_enabled(net) {
            return errno(bindings::ENOPROTOOPT);
        }
        bindings::sock_prot_inuse_add(net.as_ptr(), (*sk).__sk_common.skc_prot, 1);
        (*msk(sk)).inuse = true;
        // sock_init_data() set the timer up without a function.
        (*sk_timer(sk)).function = Some(msk_timer);
        diag::track(msk(sk));
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
        diag::untrack(m);
        let first = (*m).first.swap(ptr::null_mut(), Ordering::AcqRel);
        // An MPTCP connection ends its data stream first (DATA_FIN, see
        // closing.rs); then, or at once for anything else, the subflow
        // finishes its close (FIN, lingering data) as an orphan, like any
        // closed TCP socket.
        if let Some(first) = ptr::NonNull::new(first) {
            // The msk owned its subflow socket; it goes to `closing`.
            closing::release(OwnedSocket::from_raw(first));
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
        // The subflow's FIN (retransmitted by TCP) carries the DATA_FIN
        // from here; the timer holds a reference on the msk.
        bindings::sk_stop_timer_sync(sk, sk_timer(sk));
        bindings::lock_sock(sk);
        (*sk).sk_shutdown = bindings::SHUTDOWN_MASK as u8;
        bindings::inet_sk_state_store(sk, bindings::TCP_CLOSE as c_int);
        bindings::release_sock(sk);
        bindings::sk_common_release(sk);
    }
}

/// The msk's `sk_timer`: resends our DATA_FIN until the peer acks it
/// (`subflow::data_fin_timer`), as mainline's msk retransmit timer.  Armed
/// by shutdown(SHUT_WR), stopped by close; it holds a reference on the msk
/// while pending (`sk_reset_timer`).
///
/// # Safety
///
/// Only the timer core calls this, for the `sk_timer` of a live msk.
unsafe extern "C" fn msk_timer(t: *mut bindings::timer_list) {
    // SAFETY: `t` is the `sk_timer` of an msk kept alive by the reference
    // the pending timer held; its first subflow lives as long as the msk
    // (msk_close stops this timer before the msk lets it go).
    unsafe {
        // `sk_timer` is a member of the union at `__bindgen_anon_3` (offset 0 in it).
        let sk = t
            .byte_sub(offset_of!(bindings::sock, __bindgen_anon_3))
            .cast::<bindings::sock>();
        let first = (*msk(sk)).first.load(Ordering::Acquire);
        if !first.is_null() && !(*first).sk.is_null() {
            // The first subflow lives while the msk holds it (as above).
            let ssk = crate::sys::TcpSock::from_raw((*first).sk);
            if let Some(delay) = crate::subflow::data_fin_timer(ssk) {
                let now = crate::sys::jiffies();
                bindings::sk_reset_timer(sk, t, now.wrapping_add(delay as _));
            }
        }
        bindings::sock_put(sk);
    }
}

/// The msk's `sk_timer`.
///
/// # Safety
///
/// `sk` is a live socket.
unsafe fn sk_timer(sk: *mut bindings::sock) -> *mut bindings::timer_list {
    // SAFETY: `sk` is live (# Safety); only the address is taken.
    unsafe { ptr::addr_of_mut!((*sk).__bindgen_anon_3.sk_timer) }
}

/// Arms the DATA_FIN timer of msk `sk` (first check after TCP_RTO_MIN).
///
/// # Safety
///
/// `sk` is a live msk, process context, not closed.
pub(super) unsafe fn arm_data_fin_timer(sk: *mut bindings::sock) {
    // SAFETY: `sk` is a live msk (# Safety); sk_reset_timer takes a
    // reference for the pending timer.
    unsafe {
        let now = crate::sys::jiffies();
        let t = sk_timer(sk);
        bindings::sk_reset_timer(sk, t, now.wrapping_add((bindings::HZ / 5) as _));
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
    // SAFETY: `sk` is a live msk (# Safety), alive for this call.
    let guard = unsafe { Sock::from_raw(sk) }.lock();
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
    drop(guard);
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

// ---- registration -------------------------------------------------------------

static MPTCP_PROT: Global<bindings::proto> = Global::zeroed();
static MPTCP_V6_PROT: Global<bindings::proto> = Global::zeroed();
static MPTCP_STREAM_OPS: Global<bindings::proto_ops> = Global::zeroed();
static MPTCP_V6_STREAM_OPS: Global<bindings::proto_ops> = Global::zeroed();
static MPTCP_PROTOSW: Global<bindings::inet_protosw> = Global::zeroed();
static MPTCP_V6_PROTOSW: Global<bindings::inet_protosw> = Global::zeroed();

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

static REGISTERED: crate::sys::Claim = crate::sys::Claim::new();

/// Registers `IPPROTO_MPTCP` stream sockets for AF_INET and AF_INET6;
/// dropping the result unregisters them.
pub(crate) fn register(module: &'static ThisModule) -> Result<crate::sys::Unregister> {
    if !REGISTERED.claim() {
        return Err(EBUSY);
    }
    if let Err(e) = register_claimed(module) {
        REGISTERED.release();
        return Err(e);
    }
    Ok(crate::sys::Unregister::new(unregister))
}

/// [`register`], once claimed.
fn register_claimed(module: &'static ThisModule) -> Result {
    // SAFETY: the statics are not registered (the caller's claim).
    unsafe {
        fill_proto(MPTCP_PROT.get(), module, b"MPTCP", size_of::<MptcpSock>());
        fill_proto(
            MPTCP_V6_PROT.get(),
            module,
            b"MPTCPv6",
            size_of::<Mptcp6Sock>(),
        );
        (*MPTCP_V6_PROT.get()).ipv6_pinfo_offset = offset_of!(Mptcp6Sock, np) as c_uint;
        proto_ops::fill_ops(
            MPTCP_STREAM_OPS.get(),
            module,
            bindings::PF_INET,
            bindings::inet_release,
        );
        proto_ops::fill_ops(
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
    // Before the protos: the diag list lock and the closing list are used
    // from the first msk on.
    closing::register();
    diag::register(module)?;
    // SAFETY: the protos are initialised and static.
    if let Err(e) = to_result(unsafe { bindings::proto_register(MPTCP_PROT.get(), 1) }) {
        diag::unregister();
        return Err(e);
    }
    // SAFETY: the v6 proto is initialised and static.
    if let Err(e) = to_result(unsafe { bindings::proto_register(MPTCP_V6_PROT.get(), 1) }) {
        // SAFETY: registered just above, no socket can exist yet.
        unsafe { bindings::proto_unregister(MPTCP_PROT.get()) };
        diag::unregister();
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
        diag::unregister();
        return Err(e);
    }
    Ok(())
}

/// Undoes [`register`].  Module exit runs only when no MPTCP socket holds a
/// module reference, so no msk exists any more.
fn unregister() {
    if !REGISTERED.release() {
        return;
    }
    // SAFETY: registered by `register()`; the protosw unregistration waits
    // for concurrent socket creation (synchronize_net) before the protos go.
    unsafe {
        bindings::inet6_unregister_protosw(MPTCP_V6_PROTOSW.get());
        bindings::inet_unregister_protosw(MPTCP_PROTOSW.get());
        bindings::proto_unregister(MPTCP_V6_PROT.get());
        bindings::proto_unregister(MPTCP_PROT.get());
    }
    diag::unregister();
    closing::unregister();
}
