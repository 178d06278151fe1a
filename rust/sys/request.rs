// SPDX-License-Identifier: GPL-2.0

//! A listener's TCP request sock ([`TcpRequest`]): a connection between
//! the SYN and the third ACK.

use kernel::bindings;
use kernel::types::Opaque;

use super::Net;

/// A live TCP request sock (`struct tcp_request_sock`).
///
/// Invariant: a `&TcpRequest` exists only inside a callback TCP makes for
/// the request (route_req, the SYN-ACK's options, syn_recv_sock), during
/// which the request (with its namespace) stays alive.  The fields we
/// write are single bools and pointers: route_req runs before the request
/// is hashed (no other CPU sees it), and the writes of syn_recv_sock
/// (`keep`) may race with a second CPU's syn_recv_sock for a duplicated
/// third ACK, which writes the same value (TCP keeps one of the children,
/// `own_req`), as in mainline.
#[repr(transparent)]
pub(crate) struct TcpRequest(Opaque<bindings::request_sock>);

impl TcpRequest {
    /// # Safety
    ///
    /// `req` is a TCP request sock as the type invariant says, for `'a`.
    pub(crate) unsafe fn from_raw<'a>(req: *const bindings::request_sock) -> &'a TcpRequest {
        // SAFETY: a transparent wrapper; the rest is the caller's promise.
        unsafe { &*req.cast::<TcpRequest>() }
    }

    fn treq(&self) -> *mut bindings::tcp_request_sock {
        self.0.get().cast()
    }

    /// The namespace the request belongs to (it holds a reference).
    pub(crate) fn net(&self) -> &Net {
        // SAFETY: a live request (type invariant), whose namespace outlives it.
        unsafe { Net::from_raw((*self.0.get()).__req_common.skc_net.net) }
    }

    /// Our initial sequence number (of the SYN-ACK).
    pub(crate) fn snt_isn(&self) -> u32 {
        // SAFETY: a live TCP request (type invariant), set before any of
        // our callbacks runs.
        unsafe { (*self.treq()).snt_isn }
    }

    /// The peer's initial sequence number (of its SYN).
    pub(crate) fn rcv_isn(&self) -> u32 {
        // SAFETY: as in `snt_isn`.
        unsafe { (*self.treq()).rcv_isn }
    }

    /// Whether the request was marked MPTCP (the SYN asked for it).
    pub(crate) fn is_mptcp(&self) -> bool {
        // SAFETY: a live TCP request owned by the current callback (type
        // invariant).
        unsafe { (*self.treq()).is_mptcp }
    }

    /// Marks the request MPTCP: TCP then calls the SYN-ACK option hook
    /// and our `syn_recv_sock` takes the third ACK's keys.
    pub(crate) fn set_mptcp(&self) {
        // SAFETY: as in `is_mptcp`; a bool of its own (no shared bitfield).
        unsafe { (*self.treq()).is_mptcp = true };
    }

    /// Clears `drop_req`: TCP drops the request of an MPTCP child when it
    /// is set (tcp_check_req(), tcp_get_cookie_sock()), and request socks
    /// are not zeroed, so it is written for every child.
    pub(crate) fn keep(&self) {
        // SAFETY: as in `set_mptcp`.
        unsafe { (*self.treq()).drop_req = false };
    }

    /// Points the request at `ops` (a kernel table): used so that a request
    /// that outlives the module keeps no pointer into it.
    pub(super) fn set_af_specific(&self, ops: *const bindings::tcp_request_sock_ops) {
        // SAFETY: as in `set_mptcp`; `ops` is static (the caller's).
        unsafe { (*self.treq()).af_specific = ops };
    }
}
