// SPDX-License-Identifier: GPL-2.0

//! The msk's `struct proto` and `struct proto_ops` for AF_INET and
//! AF_INET6, their registration, and their C entry points: each wraps its
//! raw arguments in the types of `msk.rs` and calls the safe function of
//! the same name in `crate::msk` (the behaviour); `struct proto`'s init,
//! destroy, close and timer are socket mechanics and stay here.
//!
//! Each msk and each `struct socket` using these ops holds a reference on
//! the module (`proto.owner`, `proto_ops.owner`), so `rmmod` is refused
//! while any MPTCP socket exists.

use core::mem::{offset_of, size_of};
use core::ptr;

use kernel::bindings;
use kernel::error::to_result;
use kernel::ffi::{c_char, c_int, c_long, c_uint, c_ulong, c_void};
use kernel::prelude::*;

use super::global::Global;
use super::msk::{
    sk_timer, AcceptArg, MsgHdr, Msk, Msk6, MskSocket, PollCall, SockAddr, SockAddrOut, TstampCall,
};
use super::uaccess::{SockPtr, UserPtr};
use super::{diag, Claim, Unregister};
use crate::msk;

const SOCK_STREAM: c_int = bindings::sock_type_SOCK_STREAM as c_int;

// ---- struct proto -----------------------------------------------------------

/// Kernel callback.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn msk_init(sk: *mut bindings::sock) -> c_int {
    // SAFETY: called by inet_create()/inet6_create() on a freshly allocated,
    // zeroed sock of our proto, in process context, before anyone else
    // sees it.
    unsafe {
        // Lock classes of its own (see the helper): before anyone locks it.
        bindings::mptcp_sock_lock_init(sk);
        let m = Msk::from_sk(sk);
        if !msk::may_create(m.sock().net()) {
            return -(bindings::ENOPROTOOPT as c_int);
        }
        bindings::sock_prot_inuse_add(m.sock().net().as_ptr(), (*sk).__sk_common.skc_prot, 1);
        // The proto's socket count (`sockets` in /proc/net/protocols; the
        // memory accounting reads it under pressure), as mainline's
        // mptcp_init_sock().
        bindings::sk_sockets_allocated_inc(sk);
        // TCP's initial buffers, not the core defaults (sock_init_data()),
        // as mainline's mptcp_init_sock() and tcp_init_sock(): SO_RCVBUF
        // and SO_SNDBUF read them, and an accepted msk takes its
        // subflow's, which start there.
        let net = m.sock().net().as_ptr();
        (*sk).sk_rcvbuf = ptr::read_volatile(ptr::addr_of!((*net).ipv4.sysctl_tcp_rmem[1]));
        (*sk).sk_sndbuf = ptr::read_volatile(ptr::addr_of!((*net).ipv4.sysctl_tcp_wmem[1]));
        m.inuse.store(true, core::sync::atomic::Ordering::Relaxed);
        // sock_init_data() set the timer up without a function.
        (*sk_timer(sk)).function = Some(msk_timer);
        diag::track(sk.cast());
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
    // use the msk any more (the borrow ends before the sock is freed).
    unsafe {
        diag::untrack(sk.cast());
        let m = Msk::from_sk(sk);
        // A listening subflow stops naming it for new children.
        if let Some(f) = m.first() {
            m.clear_listener_of(f.tcp().as_ptr());
        }
        // The last use of the msk: nothing borrows its subflow any more.
        if let Some(first) = m.take_first() {
            msk::release_first(m, first);
        }
        if m.inuse.swap(false, core::sync::atomic::Ordering::Relaxed) {
            bindings::sock_prot_inuse_add(bindings::sock_net(sk), (*sk).__sk_common.skc_prot, -1);
            bindings::sk_sockets_allocated_dec(sk);
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
        // The timer holds a reference on the msk and reads its subflow:
        // stopped before the msk goes, and not armed again from softirq.
        Msk::from_sk(sk).timer_off();
        bindings::sk_stop_timer_sync(sk, sk_timer(sk));
        bindings::lock_sock(sk);
        (*sk).sk_shutdown = bindings::SHUTDOWN_MASK as u8;
        bindings::inet_sk_state_store(sk, bindings::TCP_CLOSE as c_int);
        bindings::release_sock(sk);
        bindings::sk_common_release(sk);
    }
}

/// The msk's `sk_timer` (`crate::msk::timer` says whether to rearm).  It
/// holds a reference on the msk while pending (`sk_reset_timer`).
///
/// # Safety
///
/// Only the timer core calls this, for the `sk_timer` of a live msk.
unsafe extern "C" fn msk_timer(t: *mut bindings::timer_list) {
    // msk_close stops this timer before the msk is destroyed, so the msk's
    // subflow lives through the call (an msk never accepted stops it
    // without waiting, `Msk::release_ref`, but has no subflow).
    // SAFETY: `t` is the `sk_timer` of an msk the pending timer's
    // reference keeps alive; its subflow lives too, as just said.
    unsafe {
        // `sk_timer` is a member of the union at `__bindgen_anon_3` (offset 0 in it).
        let sk = t
            .byte_sub(offset_of!(bindings::sock, __bindgen_anon_3))
            .cast::<bindings::sock>();
        // Softirq: the protocol code gets the subflow's sock only (no
        // `&Msk`, whose subflow socket ops may sleep).
        let m = Msk::from_sk(sk);
        if let Some(delay) = m.first().and_then(|f| msk::timer(f.tcp())) {
            // Never later than what was armed meanwhile (a checksum
            // failure, shutdown), and never after close.
            m.arm_timer_earlier(delay as u64);
        }
        bindings::sock_put(sk);
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

// ---- struct proto_ops -------------------------------------------------------
//
// Every entry point runs in a system call on `sock`, a socket with our ops
// and an msk: the `MskSocket` borrow lasts for the call.

/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn msk_bind(
    sock: *mut bindings::socket,
    addr: *mut bindings::sockaddr,
    len: c_int,
) -> c_int {
    // SAFETY: a bind call on our socket, with its (kernel) address.
    unsafe { msk::bind(MskSocket::from_raw(sock), &SockAddr::new(addr, len)) }
}

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
    // SAFETY: a connect call on our socket, with its (kernel) address.
    unsafe { msk::connect(MskSocket::from_raw(sock), &SockAddr::new(addr, len), flags) }
}

/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn msk_listen(sock: *mut bindings::socket, backlog: c_int) -> c_int {
    // SAFETY: a listen call on our socket.
    unsafe { msk::listen(MskSocket::from_raw(sock), backlog) }
}

/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn msk_accept(
    sock: *mut bindings::socket,
    newsock: *mut bindings::socket,
    arg: *mut bindings::proto_accept_arg,
) -> c_int {
    // SAFETY: an accept call on our listening socket; `newsock` is fresh
    // (our ops, no sock yet).
    unsafe { super::msk::accept(MskSocket::from_raw(sock), newsock, &AcceptArg::new(arg)) }
}

/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn msk_getname(
    sock: *mut bindings::socket,
    addr: *mut bindings::sockaddr,
    peer: c_int,
) -> c_int {
    // SAFETY: a getname call on our socket, with its output buffer.
    unsafe { msk::getname(MskSocket::from_raw(sock), &SockAddrOut::new(addr), peer) }
}

/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn msk_poll(
    file: *mut bindings::file,
    sock: *mut bindings::socket,
    wait: *mut bindings::poll_table_struct,
) -> bindings::__poll_t {
    // SAFETY: a poll call on our socket, with its file and table.
    unsafe { msk::poll(MskSocket::from_raw(sock), &PollCall::new(file, wait)) }
}

/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn msk_ioctl(sock: *mut bindings::socket, cmd: c_uint, arg: c_ulong) -> c_int {
    // SAFETY: an ioctl call on our socket; `arg` is only used as a
    // (checked) user pointer.
    unsafe { msk::ioctl(MskSocket::from_raw(sock), cmd, arg) }
}

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
    // SAFETY: a timestamp call on our socket, with its arguments.
    unsafe {
        msk::gettstamp(
            MskSocket::from_raw(sock),
            &TstampCall::new(userstamp, timeval, time32),
        )
    }
}

/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn msk_shutdown(sock: *mut bindings::socket, how: c_int) -> c_int {
    // SAFETY: a shutdown call on our socket.
    unsafe { msk::shutdown(MskSocket::from_raw(sock), how) }
}

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
    // SAFETY: a setsockopt call on our socket, with its option.
    unsafe {
        msk::setsockopt(
            MskSocket::from_raw(sock),
            level,
            optname,
            &SockPtr::new(optval, optlen),
        )
    }
}

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
    // SAFETY: a getsockopt call on our socket; its option pointers are user
    // pointers, copied through checked.
    unsafe {
        msk::getsockopt(
            MskSocket::from_raw(sock),
            level,
            optname,
            UserPtr::new(optval),
            UserPtr::new(optlen),
        )
    }
}

/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn msk_sendmsg(
    sock: *mut bindings::socket,
    msg: *mut bindings::msghdr,
    len: usize,
) -> c_int {
    // SAFETY: a sendmsg call on our socket, with its message.
    unsafe { msk::sendmsg(MskSocket::from_raw(sock), MsgHdr::from_raw(msg), len) }
}

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
    // SAFETY: a recvmsg call on our socket, with its message.
    unsafe { msk::recvmsg(MskSocket::from_raw(sock), MsgHdr::from_raw(msg), len, flags) }
}

// ---- registration -------------------------------------------------------------

static MPTCP_PROT: Global<bindings::proto> = Global::zeroed();
static MPTCP_V6_PROT: Global<bindings::proto> = Global::zeroed();
static MPTCP_STREAM_OPS: Global<bindings::proto_ops> = Global::zeroed();
static MPTCP_V6_STREAM_OPS: Global<bindings::proto_ops> = Global::zeroed();
static MPTCP_PROTOSW: Global<bindings::inet_protosw> = Global::zeroed();
/// MPTCP sockets of both protos (mainline's `mptcp_sockets_allocated`):
/// initialised before the protos are registered, destroyed after.
static MPTCP_SOCKETS_ALLOCATED: Global<bindings::percpu_counter> = Global::zeroed();
static MPTCP_V6_PROTOSW: Global<bindings::inet_protosw> = Global::zeroed();

fn set_name(dst: &mut [c_char; 32], name: &[u8]) {
    for (d, s) in dst.iter_mut().zip(name) {
        *d = *s as c_char;
    }
}

fn fill_proto(p: &mut bindings::proto, module: &'static ThisModule, name: &[u8], size: usize) {
    set_name(&mut p.name, name);
    p.owner = module.as_ptr();
    p.init = Some(msk_init);
    p.destroy = Some(msk_destroy);
    p.close = Some(msk_close);
    p.unhash = Some(msk_unhash);
    p.obj_size = size as c_uint;
    // Memory accounting as mainline's mptcp_prot: TCP's pool, pressure and
    // limits (net.ipv4.tcp_mem/rmem/wmem), so that an msk's own queues are
    // charged like TCP's and SO_RCVBUF/SO_SNDBUF defaults are TCP's.
    // SAFETY: tcp_prot is initialised at boot and these fields are never
    // written after; reading them races with nothing.
    let tcp = unsafe { &*core::ptr::addr_of!(bindings::tcp_prot) };
    p.memory_allocated = tcp.memory_allocated;
    p.per_cpu_fw_alloc = tcp.per_cpu_fw_alloc;
    p.memory_pressure = tcp.memory_pressure;
    p.sysctl_mem = tcp.sysctl_mem;
    p.sysctl_rmem_offset = tcp.sysctl_rmem_offset;
    p.sysctl_wmem_offset = tcp.sysctl_wmem_offset;
    p.sockets_allocated = MPTCP_SOCKETS_ALLOCATED.get();
}

fn fill_protosw(
    sw: &mut bindings::inet_protosw,
    prot: *mut bindings::proto,
    ops: *const bindings::proto_ops,
) {
    sw.type_ = SOCK_STREAM as u16;
    sw.protocol = msk::IPPROTO_MPTCP as u16;
    sw.prot = prot;
    sw.ops = ops;
    sw.flags = bindings::INET_PROTOSW_ICSK as u8;
}

fn fill_ops(
    o: &mut bindings::proto_ops,
    module: &'static ThisModule,
    family: u32,
    release: unsafe extern "C" fn(*mut bindings::socket) -> c_int,
) {
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
    // as for mainline's 6.12 msk), which keeps the data-level rules of the
    // msk's read side; TCP's splice_read would also need the subflow's file.
}

static REGISTERED: Claim = Claim::new();

/// Registers `IPPROTO_MPTCP` stream sockets for AF_INET and AF_INET6 and
/// the `ss -M` handler; dropping the result unregisters them.
pub(crate) fn register(module: &'static ThisModule) -> Result<Unregister> {
    if !REGISTERED.claim() {
        return Err(EBUSY);
    }
    if let Err(e) = register_claimed(module) {
        REGISTERED.release();
        return Err(e);
    }
    Ok(Unregister::new(unregister))
}

/// [`register`], once claimed.
fn register_claimed(module: &'static ThisModule) -> Result {
    // SAFETY: the statics are not registered (the caller's claim), so
    // nothing else accesses them.
    unsafe {
        fill_proto(&mut *MPTCP_PROT.get(), module, b"MPTCP", size_of::<Msk>());
        let v6 = &mut *MPTCP_V6_PROT.get();
        fill_proto(v6, module, b"MPTCPv6", size_of::<Msk6>());
        v6.ipv6_pinfo_offset = offset_of!(Msk6, np) as c_uint;
        let (o4, o6) = (
            &mut *MPTCP_STREAM_OPS.get(),
            &mut *MPTCP_V6_STREAM_OPS.get(),
        );
        fill_ops(o4, module, bindings::PF_INET, bindings::inet_release);
        fill_ops(o6, module, bindings::PF_INET6, bindings::inet6_release);
        fill_protosw(&mut *MPTCP_PROTOSW.get(), MPTCP_PROT.get(), o4);
        fill_protosw(&mut *MPTCP_V6_PROTOSW.get(), MPTCP_V6_PROT.get(), o6);
    }
    // SAFETY: the counter is static and not in use (no proto registered).
    to_result(unsafe {
        bindings::percpu_counter_init(MPTCP_SOCKETS_ALLOCATED.get(), 0, bindings::GFP_KERNEL)
    })?;
    // Before the protos: the diag list lock is used from the first msk on.
    if let Err(e) = diag::register(module) {
        destroy_sockets_allocated();
        return Err(e);
    }
    // SAFETY: the protos are initialised and static.
    if let Err(e) = to_result(unsafe { bindings::proto_register(MPTCP_PROT.get(), 1) }) {
        diag::unregister();
        destroy_sockets_allocated();
        return Err(e);
    }
    // SAFETY: the v6 proto is initialised and static.
    if let Err(e) = to_result(unsafe { bindings::proto_register(MPTCP_V6_PROT.get(), 1) }) {
        // SAFETY: registered just above, no socket can exist yet.
        unsafe { bindings::proto_unregister(MPTCP_PROT.get()) };
        diag::unregister();
        destroy_sockets_allocated();
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
        destroy_sockets_allocated();
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
    destroy_sockets_allocated();
}

/// Frees the socket counter, once no proto uses it.
fn destroy_sockets_allocated() {
    // SAFETY: initialised by `register_claimed`; the protos that point to
    // it are unregistered (or never were), and no msk exists.
    unsafe { bindings::percpu_counter_destroy_many(MPTCP_SOCKETS_ALLOCATED.get(), 1) };
}
