// SPDX-License-Identifier: GPL-2.0

//! The MPTCP socket's kernel objects: [`Msk`] (the sock of our `struct
//! proto`), [`MskSocket`] (a `struct socket` with our `proto_ops`),
//! [`SubSocket`] (the msk's TCP subflow, a `struct socket` it owns) and the
//! arguments of the socket calls ([`SockAddr`], [`MsgHdr`], ...).  The C
//! entry points that hand these out are in `msk_proto.rs`; the behaviour
//! is in `crate::msk`.
//!
//! Lifetime: an msk is destroyed (`msk_destroy`, which releases its
//! subflow) from `sk_common_release()` on the last close, when no system
//! call can still use it.  A `&Msk` is only handed out where that cannot
//! happen meanwhile: a system call on its socket (the file holds the
//! socket), its `sk_timer` (the close stops the timer synchronously first),
//! an `ss -M` dump that holds the msk's lock and checked it is not closed
//! (`diag.rs`), and accept for the msk it creates.  So the subflow a
//! `&Msk` shows lives as long as the borrow.

use core::cell::UnsafeCell;
use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, Ordering};

use kernel::bindings;
use kernel::error::to_result;
use kernel::ffi::{c_char, c_int, c_uint, c_ulong, c_void};
use kernel::prelude::*;
use kernel::types::Opaque;

use super::socket::{OwnedSocket, RecvCall};
use super::uaccess::{SockPtr, UserPtr};
use super::{Sock, TcpSock};

const IPPROTO_TCP: c_int = bindings::IPPROTO_TCP as c_int;
const SOCK_STREAM: c_int = bindings::sock_type_SOCK_STREAM as c_int;

fn errno(e: u32) -> c_int {
    -(e as c_int)
}

/// The MPTCP-level socket.
///
/// # Invariants
///
/// `icsk` is the first field: a `*mut sock` of our `proto` is a `*mut Msk`
/// (the kernel allocates `proto.obj_size` bytes, zeroed: every field below
/// starts as zero, which is its initial value).  `first` is null or a live
/// TCP `struct socket` with a sock, owned by the msk: published once with
/// release ordering (under the msk lock, or by accept before the msk is
/// visible), taken back only by `msk_destroy`.
#[repr(C)]
pub(crate) struct Msk {
    icsk: Opaque<bindings::inet_connection_sock>,
    first: AtomicPtr<bindings::socket>,
    /// Counted in `/proc/net/protocols` (init succeeded).
    pub(super) inuse: AtomicBool,
    /// Place on the `ss -M` list; protected by the list lock (`diag.rs`).
    pub(super) diag: UnsafeCell<super::diag::Link>,
    /// TCP_INQ: recvmsg adds a TCP_CM_INQ cmsg (mainline's
    /// `msk->recvmsg_inq`); no lock needed.
    recvmsg_inq: AtomicBool,
    /// Unread octets on the receive queue (`msk_rx.rs`): changed under the
    /// msk data lock, read locklessly (poll, SIOCINQ).
    pub(super) rx_bytes: AtomicU32,
    /// Receive buffer autotuning (`msk_rx.rs`): only the reader, which
    /// holds its subflow's socket lock.
    pub(super) rcv_space: UnsafeCell<super::msk_rx::RcvSpaceSlot>,
    /// Set by close before it stops `sk_timer` for good, under the msk
    /// data lock; [`Msk::arm_timer_earlier`] (softirq) arms the timer only
    /// under that lock with this unset, so no timer outlives the close.
    timer_off: AtomicBool,
    /// A clone made at a third ACK that no accept() took yet
    /// (`msk_clone.rs`); taken once, by accept or by the child's release.
    unaccepted: AtomicBool,
}

// SAFETY: shared between CPUs as any sock; the fields Rust reads are
// atomics or protected as documented on them.
unsafe impl Sync for Msk {}

/// The IPv6 msk: mainline's layout, `ipv6_pinfo` after the msk.
#[repr(C)]
pub(super) struct Msk6 {
    pub(super) msk: Msk,
    pub(super) np: bindings::ipv6_pinfo,
}

impl Msk {
    /// # Safety
    ///
    /// `sk` is a sock of our protos that cannot be destroyed during `'a`
    /// (see the module documentation).
    pub(super) unsafe fn from_sk<'a>(sk: *mut bindings::sock) -> &'a Msk {
        // SAFETY: by the type invariant the sock is the first field of an
        // `Msk`; it lives for 'a (caller).
        unsafe { &*sk.cast::<Msk>() }
    }

    pub(super) fn as_sk(&self) -> *mut bindings::sock {
        ptr::from_ref(self).cast_mut().cast()
    }

    /// The msk's sock.
    pub(crate) fn sock(&self) -> &Sock {
        // SAFETY: a live sock for the borrow (type invariant).
        unsafe { Sock::from_raw(self.as_sk()) }
    }

    /// The first (today: only) subflow, if created.
    pub(crate) fn first(&self) -> Option<&SubSocket> {
        let f = self.first.load(Ordering::Acquire);
        // SAFETY: a published subflow lives until msk_destroy, which cannot
        // run during this borrow (module documentation).
        (!f.is_null()).then(|| unsafe { SubSocket::from_raw(f) })
    }

    /// The first subflow, created on demand (process context: see
    /// [`MskSocket::first_or_create`]).
    fn first_or_create(&self) -> Result<&SubSocket> {
        if let Some(f) = self.first() {
            return Ok(f);
        }
        let _guard = self.sock().lock();
        if let Some(f) = self.first() {
            return Ok(f);
        }
        let mut f = ptr::null_mut();
        // kern = 0: the subflow holds a reference on the namespace (TCP
        // timers need it) and is subject to the same LSM checks as the msk.
        // SAFETY: a live namespace and a valid out pointer.
        to_result(unsafe {
            bindings::__sock_create(
                self.sock().net().as_ptr(),
                self.family(),
                SOCK_STREAM,
                IPPROTO_TCP,
                &mut f,
                0,
            )
        })?;
        // Under the msk lock, the only writer of a null `first`; the socket
        // is fully created, with its sock.
        self.first.store(f, Ordering::Release);
        // SAFETY: just published; lives as `first` does.
        Ok(unsafe { SubSocket::from_raw(f) })
    }

    /// Takes the subflow back (msk destruction).
    ///
    /// # Safety
    ///
    /// Only from `msk_destroy`: no borrow of the subflow from
    /// [`first`](Self::first) is live or will be made.
    pub(super) unsafe fn take_first(&self) -> Option<OwnedSocket> {
        let f = self.first.swap(ptr::null_mut(), Ordering::AcqRel);
        // SAFETY: `first` owned the socket (type invariant); it is handed
        // over once, the swap left null behind, and no borrow of it is
        // left (caller).
        ptr::NonNull::new(f).map(|f| unsafe { OwnedSocket::from_raw(f) })
    }

    /// `AF_INET` or `AF_INET6`.
    pub(crate) fn family(&self) -> c_int {
        // SAFETY: a live sock; the family is fixed at creation.
        c_int::from(unsafe { (*self.as_sk()).__sk_common.skc_family })
    }

    /// TCP_INQ on the msk.
    pub(crate) fn recvmsg_inq(&self) -> bool {
        self.recvmsg_inq.load(Ordering::Relaxed)
    }

    pub(crate) fn set_recvmsg_inq(&self, on: bool) {
        self.recvmsg_inq.store(on, Ordering::Relaxed);
    }

    /// Sets the msk's TCP state (`inet_sk_state_store()`).
    pub(crate) fn set_state(&self, state: u32) {
        // SAFETY: a live sock; the store is the kernel's atomic one.
        unsafe { bindings::inet_sk_state_store(self.as_sk(), state as c_int) };
    }

    /// Arms the msk's `sk_timer` to fire in `delay` jiffies; the pending
    /// timer holds a reference on the msk (`sk_reset_timer()`).
    pub(crate) fn arm_timer(&self, delay: c_ulong) {
        let now = super::jiffies();
        // SAFETY: a live msk; its timer was set up by msk_init.
        unsafe {
            bindings::sk_reset_timer(
                self.as_sk(),
                sk_timer(self.as_sk()),
                now.wrapping_add(delay),
            )
        };
    }
}

impl Msk {
    /// Makes the msk's `sk_timer` fire in `delay` jiffies at the latest:
    /// armed if idle, brought forward if due later, else left alone
    /// (`timer_reduce()`; the timer recomputes what it waits for each time
    /// it fires).  As [`arm_timer`](Self::arm_timer), a timer it arms
    /// holds a reference on the msk.  Any context.
    pub(crate) fn arm_timer_earlier(&self, delay: u64) {
        let at = super::jiffies().wrapping_add(delay as c_ulong);
        // Not once close stopped the timer (`timer_off`, same lock).
        let _data = super::msk_rx::MskDataGuard::new(self);
        if self.timer_off.load(Ordering::Relaxed) {
            return;
        }
        // The timer was set up by msk_init (or copied from its listener's,
        // list links cleared: `msk_clone.rs`).  One that was idle takes the
        // reference `sk_reset_timer()` would (the timer function puts it).
        // SAFETY: a live msk and its set-up timer, see above.
        unsafe {
            if bindings::timer_reduce(sk_timer(self.as_sk()), at) == 0 {
                bindings::sock_hold(self.as_sk());
            }
        }
    }

    /// Takes the "not yet accepted" mark (`msk_clone.rs`): true once, for
    /// a clone no accept() took.
    pub(super) fn take_unaccepted(&self) -> bool {
        self.unaccepted.swap(false, Ordering::AcqRel)
    }

    /// The fields of a fresh clone `nsk` of a listening msk, copied from
    /// it, to their initial values (see the type's invariant), marked as
    /// not yet accepted.
    ///
    /// # Safety
    ///
    /// `nsk` is fresh from `sk_clone_lock()` of an msk, seen by no one
    /// else.
    pub(super) unsafe fn reset_copied(nsk: *mut bindings::sock) {
        // SAFETY: per the caller: an `Msk` (our proto's object), private.
        unsafe {
            let m = nsk.cast::<Msk>();
            ptr::addr_of_mut!((*m).first).write(AtomicPtr::new(ptr::null_mut()));
            ptr::addr_of_mut!((*m).inuse).write(AtomicBool::new(false));
            ptr::addr_of_mut!((*m).diag).write(UnsafeCell::new(Default::default()));
            ptr::addr_of_mut!((*m).rx_bytes).write(AtomicU32::new(0));
            ptr::addr_of_mut!((*m).rcv_space).write(UnsafeCell::new(Default::default()));
            ptr::addr_of_mut!((*m).timer_off).write(AtomicBool::new(false));
            ptr::addr_of_mut!((*m).unaccepted).write(AtomicBool::new(true));
        }
    }

    /// Counts the msk in `/proc/net/protocols` "inuse" (an accepted
    /// clone, as `msk_init` counts the others); `msk_destroy` uncounts.
    pub(super) fn count_inuse(&self) {
        if !self.inuse.swap(true, Ordering::Relaxed) {
            // SAFETY: a live sock; a per-CPU counter.
            unsafe {
                bindings::sock_prot_inuse_add(
                    self.sock().net().as_ptr(),
                    (*self.as_sk()).__sk_common.skc_prot,
                    1,
                )
            };
        }
    }

    /// Close: from now on [`arm_timer_earlier`](Self::arm_timer_earlier)
    /// leaves the timer alone; the caller then stops it synchronously.
    pub(super) fn timer_off(&self) {
        let _data = super::msk_rx::MskDataGuard::new(self);
        self.timer_off.store(true, Ordering::Relaxed);
    }
}

/// The msk's `sk_timer`.
///
/// # Safety
///
/// `sk` is a live socket.
pub(super) unsafe fn sk_timer(sk: *mut bindings::sock) -> *mut bindings::timer_list {
    // SAFETY: `sk` is live (# Safety); only the address is taken.
    unsafe { ptr::addr_of_mut!((*sk).__bindgen_anon_3.sk_timer) }
}

/// A `struct socket` using our `proto_ops`, during one of its calls.
///
/// Invariant: its sock is a live [`Msk`] for the borrow.
#[repr(transparent)]
pub(crate) struct MskSocket(Opaque<bindings::socket>);

impl MskSocket {
    /// # Safety
    ///
    /// `sock` is a socket with our ops and a sock, in one of its calls
    /// (which lasts for `'a`).
    pub(super) unsafe fn from_raw<'a>(sock: *mut bindings::socket) -> &'a Self {
        // SAFETY: transparent wrapper; live for 'a (caller).
        unsafe { &*sock.cast::<Self>() }
    }

    fn raw(&self) -> *mut bindings::socket {
        self.0.get()
    }

    /// The msk.
    pub(crate) fn msk(&self) -> &Msk {
        // SAFETY: the socket's sock is a live msk during the call (type
        // invariant).
        unsafe { Msk::from_sk((*self.raw()).sk) }
    }

    /// The msk's first subflow, created on demand (a system call: process
    /// context, may sleep).
    pub(crate) fn first_or_create(&self) -> Result<&SubSocket> {
        self.msk().first_or_create()
    }

    /// Sets the socket state: connected, or unconnected after a
    /// disconnect.
    pub(crate) fn set_connected(&self, connected: bool) {
        let st = if connected {
            bindings::socket_state_SS_CONNECTED
        } else {
            bindings::socket_state_SS_UNCONNECTED
        };
        // inet_stream_connect() writes the state under the sock lock; ours
        // is written unlocked after the subflow's call, as the forwarding
        // msk always did: concurrent connect()/sendto(MSG_FASTOPEN) on one
        // socket race on this word only.
        // SAFETY: a live socket in one of its calls (type invariant); an
        // aligned volatile store of one word.
        unsafe { ptr::write_volatile(ptr::addr_of_mut!((*self.raw()).state), st) };
    }
}

/// The msk's TCP subflow, a `struct socket` the msk owns.
///
/// Invariant: a live TCP socket (inet ops) with a sock, alive for the
/// borrow.
#[repr(transparent)]
pub(crate) struct SubSocket(Opaque<bindings::socket>);

impl SubSocket {
    /// # Safety
    ///
    /// As the type invariant, for `'a`.
    unsafe fn from_raw<'a>(sock: *mut bindings::socket) -> &'a Self {
        // SAFETY: transparent wrapper; live for 'a (caller).
        unsafe { &*sock.cast::<Self>() }
    }

    fn raw(&self) -> *mut bindings::socket {
        self.0.get()
    }

    fn ops(&self) -> &'static bindings::proto_ops {
        // SAFETY: a live socket has static ops.
        unsafe { &*(*self.raw()).ops }
    }

    /// The subflow's TCP sock.
    pub(crate) fn tcp(&self) -> &TcpSock {
        // SAFETY: a TCP socket with a sock that lives as long as the socket
        // (type invariant).
        unsafe { TcpSock::from_raw((*self.raw()).sk) }
    }

    pub(crate) fn bind(&self, addr: &SockAddr) -> c_int {
        match self.ops().bind {
            // SAFETY: the subflow's own op; `addr` is the call's (kernel copy).
            Some(f) => unsafe { f(self.raw(), addr.p, addr.len) },
            None => errno(bindings::EOPNOTSUPP),
        }
    }

    pub(crate) fn connect(&self, addr: &SockAddr, flags: c_int) -> c_int {
        match self.ops().connect {
            // SAFETY: as `bind`.
            Some(f) => unsafe { f(self.raw(), addr.p, addr.len, flags) },
            None => errno(bindings::EOPNOTSUPP),
        }
    }

    pub(crate) fn listen(&self, backlog: c_int) -> c_int {
        match self.ops().listen {
            // SAFETY: the subflow's own op.
            Some(f) => unsafe { f(self.raw(), backlog) },
            None => errno(bindings::EOPNOTSUPP),
        }
    }

    pub(crate) fn getname(&self, addr: &SockAddrOut, peer: c_int) -> c_int {
        match self.ops().getname {
            // SAFETY: the subflow's own op; `addr` is the call's buffer
            // (a sockaddr_storage).
            Some(f) => unsafe { f(self.raw(), addr.0, peer) },
            None => errno(bindings::EOPNOTSUPP),
        }
    }

    /// TCP's poll; registers the poller on the subflow's wait queue.
    pub(crate) fn poll(&self, call: &PollCall) -> c_uint {
        match self.ops().poll {
            // SAFETY: the subflow's own op with the poll call's file and table.
            Some(f) => unsafe { f(call.file, self.raw(), call.wait) },
            None => 0,
        }
    }

    /// The subflow's ioctl; `arg` is the call's (a user pointer for the
    /// commands that take one: the op copies through it checked).
    pub(crate) fn ioctl(&self, cmd: c_uint, arg: c_ulong) -> c_int {
        match self.ops().ioctl {
            // SAFETY: the subflow's own op.
            Some(f) => unsafe { f(self.raw(), cmd, arg) },
            None => errno(bindings::ENOTTY),
        }
    }

    pub(crate) fn gettstamp(&self, call: &TstampCall) -> c_int {
        // SAFETY: a live socket; the call's own arguments.
        unsafe { bindings::sock_gettstamp(self.raw(), call.user, call.timeval, call.time32) }
    }

    pub(crate) fn shutdown(&self, how: c_int) -> c_int {
        match self.ops().shutdown {
            // SAFETY: the subflow's own op.
            Some(f) => unsafe { f(self.raw(), how) },
            None => errno(bindings::EOPNOTSUPP),
        }
    }

    pub(crate) fn setsockopt(&self, level: c_int, name: c_int, opt: &SockPtr) -> c_int {
        let (p, len) = opt.raw();
        match self.ops().setsockopt {
            // SAFETY: the subflow's own op with the call's option.
            Some(f) => unsafe { f(self.raw(), level, name, p, len) },
            None => errno(bindings::EOPNOTSUPP),
        }
    }

    pub(crate) fn getsockopt(
        &self,
        level: c_int,
        name: c_int,
        optval: UserPtr,
        optlen: UserPtr,
    ) -> c_int {
        match self.ops().getsockopt {
            // SAFETY: the subflow's own op; user pointers are checked by it.
            Some(f) => unsafe {
                f(
                    self.raw(),
                    level,
                    name,
                    optval.as_ptr().cast::<c_char>(),
                    optlen.as_ptr().cast::<c_int>(),
                )
            },
            None => errno(bindings::EOPNOTSUPP),
        }
    }

    pub(crate) fn sendmsg(&self, msg: &MsgHdr, len: usize) -> c_int {
        match self.ops().sendmsg {
            // SAFETY: the subflow's own op with the call's message.
            Some(f) => unsafe { f(self.raw(), msg.raw(), len) },
            None => errno(bindings::EOPNOTSUPP),
        }
    }

    /// The subflow's recvmsg for the call's message, or None if it has none.
    pub(crate) fn recv_call<'a>(&'a self, msg: &'a MsgHdr) -> Option<RecvCall<'a>> {
        let f = self.ops().recvmsg?;
        // SAFETY: a live TCP socket kept for 'a, its own recvmsg op, and
        // the call's message.
        Some(unsafe { RecvCall::new(self.raw(), f, msg.raw()) })
    }

    /// Wakes the subflow's state-change waiters (`sk_state_change`).
    pub(crate) fn state_change(&self) {
        let sk = self.tcp().as_ptr();
        // SAFETY: a live sock; its callback takes the sock.
        unsafe {
            if let Some(wake) = (*sk).sk_state_change {
                wake(sk);
            }
        }
    }

    /// Accepts a connection on this listening subflow (blocking per
    /// `arg`): the TCP child's new socket, owned by the caller.
    pub(super) fn accept(&self, family: c_int, arg: &AcceptArg) -> Result<OwnedSocket, c_int> {
        let Some(accept) = self.ops().accept else {
            return Err(errno(bindings::EOPNOTSUPP));
        };
        let mut sub = ptr::null_mut();
        // SAFETY: a valid out pointer.
        let err = unsafe { bindings::sock_create_lite(family, SOCK_STREAM, IPPROTO_TCP, &mut sub) };
        if err != 0 {
            return Err(err);
        }
        // SAFETY: a fresh socket owned here; it gets the listener's ops,
        // then the child (inet_accept grafts it); released on failure.
        unsafe {
            (*sub).ops = self.ops();
            let err = accept(self.raw(), sub, arg.0);
            if err < 0 || (*sub).sk.is_null() {
                // (inet_accept grafts the child whenever it succeeds: a
                // socket without one would break the msk's invariant.)
                bindings::sock_release(sub);
                return Err(if err < 0 {
                    err
                } else {
                    errno(bindings::EINVAL)
                });
            }
            Ok(OwnedSocket::from_raw(ptr::NonNull::new_unchecked(sub)))
        }
    }
}

/// The address of a bind/connect call: a kernel copy of the caller's
/// (`len` bytes, at most a sockaddr_storage).
pub(crate) struct SockAddr {
    p: *mut bindings::sockaddr,
    len: c_int,
}

impl SockAddr {
    /// # Safety
    ///
    /// `p`/`len` are the running call's address, valid for `len` bytes.
    pub(super) unsafe fn new(p: *mut bindings::sockaddr, len: c_int) -> Self {
        Self { p, len }
    }

    /// The address family, if the address holds one.
    pub(crate) fn family(&self) -> Option<c_int> {
        let ok = !self.p.is_null()
            && usize::try_from(self.len)
                .is_ok_and(|l| l >= core::mem::size_of::<bindings::sa_family_t>());
        // SAFETY: valid for `len` bytes (`new`), checked to hold the family.
        ok.then(|| c_int::from(unsafe { (*self.p).sa_family }))
    }
}

/// getname's output buffer (a kernel sockaddr_storage).
pub(crate) struct SockAddrOut(*mut bindings::sockaddr);

/// The `msghdr` of a sendmsg/recvmsg call.
#[repr(transparent)]
pub(crate) struct MsgHdr(Opaque<bindings::msghdr>);

impl MsgHdr {
    /// # Safety
    ///
    /// `msg` is the running call's message, live for `'a`.
    pub(super) unsafe fn from_raw<'a>(msg: *mut bindings::msghdr) -> &'a Self {
        // SAFETY: transparent wrapper; live for 'a (caller).
        unsafe { &*msg.cast::<Self>() }
    }

    fn raw(&self) -> *mut bindings::msghdr {
        self.0.get()
    }

    /// `msg_flags` as the caller passed them to sendmsg.
    pub(crate) fn flags(&self) -> c_uint {
        // SAFETY: the call's message (type invariant of `from_raw`).
        unsafe { (*self.raw()).msg_flags }
    }

    /// Adds an int control message (`put_cmsg()`).
    pub(crate) fn put_cmsg_int(&self, level: c_int, ty: c_int, v: c_int) -> c_int {
        let mut v = v;
        // SAFETY: the call's message; `v` is readable for its size.
        unsafe {
            bindings::put_cmsg(
                self.raw(),
                level,
                ty,
                core::mem::size_of::<c_int>() as c_int,
                ptr::addr_of_mut!(v).cast(),
            )
        }
    }
}

/// The file and poll table of a poll call.
pub(crate) struct PollCall {
    file: *mut bindings::file,
    wait: *mut bindings::poll_table_struct,
}

/// The arguments of a SIOCGSTAMP-style call.
pub(crate) struct TstampCall {
    user: *mut c_void,
    timeval: bool,
    time32: bool,
}

/// accept's flags and results (`struct proto_accept_arg`).
pub(crate) struct AcceptArg(*mut bindings::proto_accept_arg);

impl PollCall {
    /// # Safety
    ///
    /// The running poll call's arguments.
    pub(super) unsafe fn new(
        file: *mut bindings::file,
        wait: *mut bindings::poll_table_struct,
    ) -> Self {
        Self { file, wait }
    }
}

impl TstampCall {
    /// # Safety
    ///
    /// The running call's arguments.
    pub(super) unsafe fn new(user: *mut c_void, timeval: bool, time32: bool) -> Self {
        Self {
            user,
            timeval,
            time32,
        }
    }
}

impl AcceptArg {
    /// # Safety
    ///
    /// The running accept call's argument.
    pub(super) unsafe fn new(arg: *mut bindings::proto_accept_arg) -> Self {
        Self(arg)
    }
}

impl SockAddrOut {
    /// # Safety
    ///
    /// The running getname call's buffer.
    pub(super) unsafe fn new(p: *mut bindings::sockaddr) -> Self {
        Self(p)
    }
}

impl Msk {
    /// SOL_SOCKET setsockopt on the msk's own sock (where getsockopt reads).
    pub(crate) fn sk_setsockopt(&self, level: c_int, name: c_int, opt: &SockPtr) -> c_int {
        let (p, len) = opt.raw();
        // SAFETY: a live sock, process context; the call's option.
        unsafe { bindings::sk_setsockopt(self.as_sk(), level, name, p, len) }
    }
}

impl SubSocket {
    /// SOL_SOCKET setsockopt on the subflow's sock (where it acts).
    pub(crate) fn sk_setsockopt(&self, level: c_int, name: c_int, opt: &SockPtr) -> c_int {
        let (p, len) = opt.raw();
        // SAFETY: a live sock, process context; the call's option.
        unsafe { bindings::sk_setsockopt(self.tcp().as_ptr(), level, name, p, len) }
    }
}

/// Copies the `SOL_SOCKET` options of a new accepted msk `newsk` from its
/// TCP child `ssk`, which inherited them from the subflow listener: flags
/// tied to global state (SOCK_TIMESTAMP, SOCK_TIMESTAMPING_RX_SOFTWARE:
/// the timestamp static key) are not copied.
///
/// # Safety
///
/// Both live; `newsk` not yet visible to any other call (an accepted
/// clone's child may queue data on it meanwhile, which touches none of
/// these fields).
pub(super) unsafe fn inherit_sol_socket(newsk: *mut bindings::sock, ssk: *const bindings::sock) {
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

/// Accepts on the listening msk of `sock` into the fresh socket `newsock`:
/// the subflow listener's TCP child becomes the first subflow of a new msk
/// (created the regular way, inet_create + msk_init, then grafted onto
/// `newsock`), which inherits the listener's options.
///
/// # Safety
///
/// The arguments of a running accept call: `newsock` has our ops and no
/// sock yet.
pub(super) unsafe fn accept(
    sock: &MskSocket,
    newsock: *mut bindings::socket,
    arg: &AcceptArg,
) -> c_int {
    let listener = sock.msk();
    let Some(lsub) = listener.first() else {
        return errno(bindings::EINVAL);
    };
    let child = match lsub.accept(listener.family(), arg) {
        Ok(c) => c,
        Err(e) => return e,
    };
    if let Some(newsk) = child.sock().and_then(super::msk_clone::take_unaccepted) {
        // The msk of its third ACK (`msk_clone.rs`), with the socket's
        // reference.  No other call sees it until grafted; the child's
        // receive path already feeds it (its queue, under the data lock),
        // and writes none of the fields set here.
        // SAFETY: a live msk; `child` has a sock (SubSocket::accept): a
        // valid `first`; `newsock` is the call's, without a sock.
        unsafe {
            let m = Msk::from_sk(newsk);
            if let Some(ssk) = child.sock() {
                inherit_sol_socket(newsk, ssk.as_ptr());
            }
            m.first.store(child.into_raw(), Ordering::Release);
            crate::msk::accepted(listener, m);
            m.count_inuse();
            super::diag::track(newsk.cast());
            bindings::sock_graft(newsk, newsock);
            (*newsock).state = bindings::socket_state_SS_CONNECTED;
            (*newsock).flags |= 1 << bindings::SOCK_CUSTOM_SOCKOPT;
        }
        return 0;
    }
    let mut tmp = ptr::null_mut();
    // SAFETY: a live namespace and a valid out pointer.
    let err = unsafe {
        bindings::__sock_create(
            listener.sock().net().as_ptr(),
            listener.family(),
            SOCK_STREAM,
            crate::msk::IPPROTO_MPTCP,
            &mut tmp,
            0,
        )
    };
    if err != 0 {
        return err;
    }
    // SAFETY: `tmp` is a fresh msk socket, private to this call; its sock
    // moves to `newsock` and the empty `tmp` is released.
    unsafe {
        let newsk = (*tmp).sk;
        (*tmp).sk = ptr::null_mut();
        let m = Msk::from_sk(newsk);
        if let Some(ssk) = child.sock() {
            inherit_sol_socket(newsk, ssk.as_ptr());
        }
        // `child` has a sock (SubSocket::accept): a valid `first`.
        m.first.store(child.into_raw(), Ordering::Release);
        crate::msk::accepted(listener, m);
        bindings::sock_graft(newsk, newsock);
        bindings::sock_release(tmp);
        (*newsock).state = bindings::socket_state_SS_CONNECTED;
        (*newsock).flags |= 1 << bindings::SOCK_CUSTOM_SOCKOPT;
        m.set_state(bindings::TCP_ESTABLISHED);
    }
    0
}
