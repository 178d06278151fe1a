// SPDX-License-Identifier: GPL-2.0

//! The `struct socket` side: a recvmsg call forwarded to a subflow
//! ([`RecvCall`]).

use kernel::bindings;
use kernel::ffi::c_int;

use super::TcpSock;

/// A subflow socket's `recvmsg` op.
pub(crate) type RecvFn =
    unsafe extern "C" fn(*mut bindings::socket, *mut bindings::msghdr, usize, c_int) -> c_int;

/// A recvmsg system call on an msk, forwarded to its TCP subflow `sub`
/// with the caller's message.
///
/// Invariant: `sub` is a live TCP `struct socket` that the msk keeps for
/// the whole call, `recv` its ops' `recvmsg`, and `msg` the call's own
/// msghdr (its iterator advances with every copy).
pub(crate) struct RecvCall<'a> {
    sub: *mut bindings::socket,
    recv: RecvFn,
    msg: *mut bindings::msghdr,
    _call: core::marker::PhantomData<&'a bindings::socket>,
}

impl RecvCall<'_> {
    /// # Safety
    ///
    /// The arguments are as the type invariant says, for the lifetime of
    /// the value; process context.
    pub(super) unsafe fn new(
        sub: *mut bindings::socket,
        recv: RecvFn,
        msg: *mut bindings::msghdr,
    ) -> Self {
        Self {
            sub,
            recv,
            msg,
            _call: core::marker::PhantomData,
        }
    }

    /// The subflow.
    pub(crate) fn sock(&self) -> &TcpSock {
        // SAFETY: a live TCP socket, kept for the call (type invariant).
        unsafe { TcpSock::from_raw((*self.sub).sk) }
    }

    /// The call's message (for the copies of `msk_rx.rs`).
    pub(super) fn msg_ptr(&self) -> *mut bindings::msghdr {
        self.msg
    }

    /// TCP's recvmsg for up to `len` octets into the caller's message.
    pub(crate) fn recv(&self, len: usize, flags: c_int) -> c_int {
        // SAFETY: the subflow's own op, with its socket and the call's
        // message (type invariant).
        unsafe { (self.recv)(self.sub, self.msg, len, flags) }
    }
}

/// A subflow's `struct socket` owned by the module: released
/// (`sock_release()`, TCP's close) when dropped.
///
/// Invariant: `sock` is a live TCP `struct socket`, owned by this value
/// alone (nothing else releases it).
pub(crate) struct OwnedSocket(core::ptr::NonNull<bindings::socket>);

// SAFETY: the socket belongs to this value alone (type invariant); it is
// used and released in process context only, from any thread.
unsafe impl Send for OwnedSocket {}

impl OwnedSocket {
    /// # Safety
    ///
    /// `sock` is a live TCP `struct socket`, and the caller hands its
    /// ownership (the duty to release it) over.
    pub(crate) unsafe fn from_raw(sock: core::ptr::NonNull<bindings::socket>) -> Self {
        Self(sock)
    }

    /// Hands the socket over (to an owner that will release it).
    pub(super) fn into_raw(self) -> *mut bindings::socket {
        let p = self.0.as_ptr();
        core::mem::forget(self);
        p
    }

    /// The subflow's sock (None if the socket has none).
    pub(crate) fn sock(&self) -> Option<&TcpSock> {
        // SAFETY: live while owned (type invariant); its sk, if set, is a
        // TCP sock that lives until the socket is released.
        unsafe {
            let sk = (*self.0.as_ptr()).sk;
            (!sk.is_null()).then(|| TcpSock::from_raw(sk))
        }
    }
}

impl Drop for OwnedSocket {
    fn drop(&mut self) {
        // SAFETY: owned by this value alone, released once (type invariant).
        unsafe { bindings::sock_release(self.0.as_ptr()) };
    }
}
