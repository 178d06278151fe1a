// SPDX-License-Identifier: GPL-2.0

//! `/proc/net/netstat`'s `struct seq_file` ([`NetstatSeq`]).

use kernel::bindings;
use kernel::types::Opaque;

use super::Net;

/// The seq_file of `/proc/net/netstat` being shown: its `private` is the
/// namespace it shows (`netstat_seq_show()`, `single_open_net()`).
/// Invariant: live and being shown by the current task for the borrow.
#[repr(transparent)]
pub(crate) struct NetstatSeq(Opaque<bindings::seq_file>);

impl NetstatSeq {
    /// # Safety
    ///
    /// `seq` is the netstat seq_file in its show callback, which lasts
    /// `'a`.
    pub(crate) unsafe fn from_raw<'a>(seq: *mut bindings::seq_file) -> &'a NetstatSeq {
        // SAFETY: a transparent wrapper; the rest is the caller's promise.
        unsafe { &*seq.cast::<NetstatSeq>() }
    }

    /// The namespace shown.
    pub(crate) fn net(&self) -> &Net {
        // SAFETY: the netstat file's `private` is its live namespace, which
        // the open file holds a reference on (type invariant).
        unsafe { Net::from_raw((*self.0.get()).private.cast::<bindings::net>()) }
    }

    /// Appends `s` (`seq_write()`; on overflow the seq_file core retries
    /// the show with a larger buffer).
    pub(crate) fn write(&self, s: &[u8]) {
        // SAFETY: a live seq_file being shown (type invariant); `s` is a
        // live buffer of `s.len()` octets.
        unsafe { bindings::seq_write(self.0.get(), s.as_ptr().cast(), s.len()) };
    }
}
