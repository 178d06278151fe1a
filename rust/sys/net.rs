// SPDX-License-Identifier: GPL-2.0

//! `struct net`, a network namespace ([`Net`]).

use kernel::bindings;
use kernel::types::Opaque;

use super::Sock;

/// A live network namespace.
///
/// Invariant: a `&Net` only exists for a namespace that is live at least
/// as long as the borrow (not yet past its pernet exit handlers); the
/// module's pernet state exists for it while the module is registered
/// (`ctl::pernet`).
#[repr(transparent)]
pub(crate) struct Net(Opaque<bindings::net>);

impl Net {
    /// # Safety
    ///
    /// `net` points to a live namespace that stays alive for `'a`.
    pub(crate) unsafe fn from_raw<'a>(net: *const bindings::net) -> &'a Net {
        // SAFETY: `Net` is a transparent wrapper of `net`; liveness for 'a
        // is the caller's promise.
        unsafe { &*net.cast::<Net>() }
    }

    /// The namespace's random `hash_mix` (fixed for its lifetime).
    pub(crate) fn hash_mix(&self) -> u32 {
        // SAFETY: a live namespace (type invariant); set at its creation.
        unsafe { (*self.as_ptr()).hash_mix }
    }

    /// The raw pointer, for calls the safe layer does not wrap.
    pub(crate) fn as_ptr(&self) -> *mut bindings::net {
        self.0.get()
    }
}

impl Sock {
    /// The socket's namespace (`sock_net()`): a socket holds a reference
    /// on it (or, for a kernel socket, lives within it), so it outlives
    /// the borrow of the socket.
    pub(crate) fn net(&self) -> &Net {
        // SAFETY: the socket is live (type invariant) and its namespace
        // outlives it, hence this borrow.
        unsafe { Net::from_raw(bindings::sock_net(self.as_ptr())) }
    }
}
