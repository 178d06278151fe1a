// SPDX-License-Identifier: GPL-2.0

//! `struct mptcp_out_options` ([`OutOptions`]): the option bytes one of our
//! `*_options` hooks chose for a segment, which TCP hands back to
//! `write_options` to copy into the header.

use core::ptr;

use kernel::bindings;
use kernel::types::Opaque;

/// Our scratch space in TCP's `struct mptcp_out_options` (the hook layer
/// gives us its union: at least [`OutOptions::CAPACITY`] octets, checked
/// at build time).  Invariant: live and ours for the borrow (TCP lends it
/// for one hook call).
#[repr(transparent)]
pub(crate) struct OutOptions(Opaque<bindings::mptcp_out_options>);

const _: () = assert!(
    core::mem::size_of::<bindings::mptcp_out_options__bindgen_ty_1>() >= OutOptions::CAPACITY
);

impl OutOptions {
    /// The most option octets one segment gets from us.
    pub(crate) const CAPACITY: usize = 32;

    /// # Safety
    ///
    /// `opts` is the `mptcp_out_options` TCP passed to the hook now
    /// running, valid for writes and not used by anyone else until it
    /// returns (`'a`).
    pub(crate) unsafe fn from_raw<'a>(
        opts: *mut bindings::mptcp_out_options,
    ) -> &'a mut OutOptions {
        // SAFETY: a transparent wrapper; the rest is the caller's promise.
        unsafe { &mut *opts.cast::<OutOptions>() }
    }

    /// Stores `bytes` (already padded to a multiple of 4) as the options
    /// to write; false if they exceed [`CAPACITY`](Self::CAPACITY).
    pub(crate) fn set(&mut self, bytes: &[u8]) -> bool {
        if bytes.len() > Self::CAPACITY {
            return false;
        }
        let o = self.0.get();
        // SAFETY: ours for the call (type invariant); the union holds at
        // least CAPACITY octets (checked above) and `bytes` fits.
        unsafe {
            ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                ptr::addr_of_mut!((*o).__bindgen_anon_1).cast::<u8>(),
                bytes.len(),
            );
            (*o).suboptions = bytes.len() as u16;
        }
        true
    }

    /// The stored option bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        let o = self.0.get();
        // SAFETY: live (type invariant); `suboptions` was set by `set`
        // for the segment (at most CAPACITY; clamped anyway), and the
        // union holds that many octets.
        unsafe {
            let n = usize::from((*o).suboptions).min(Self::CAPACITY);
            core::slice::from_raw_parts(ptr::addr_of!((*o).__bindgen_anon_1).cast::<u8>(), n)
        }
    }
}
