// SPDX-License-Identifier: GPL-2.0

//! The skbs of a locked TCP socket ([`TcpSkb`]), their MPTCP extension
//! ([`Mapping`]), a cursor that finds received ones by sequence number
//! ([`RcvCursor`]), the send head, and received segments in TCP's receive
//! path ([`TcpSegment`]).
//!
//! Invariant: a `&TcpSkb` only exists for an skb that TCP holds for a
//! socket locked by the current context ([`TcpLocked`]): queued on its
//! receive or write queue, or passing through TCP's receive or transmit
//! path for the current call.  A queued one is only reachable while the
//! lock is borrowed shared: the calls into TCP that free or move queued
//! skbs take `&mut TcpLocked` (see there), so the borrow checker ends every
//! `&TcpSkb` before one.  Its control block is TCP's (`TCP_SKB_CB()`), and
//! its MPTCP extension is written only under that lock.

use core::marker::PhantomData;
use core::ptr;

use kernel::bindings;
use kernel::ffi::c_int;
use kernel::types::Opaque;

use super::sock::TcpLocked;

/// An skb TCP holds for a locked socket (see the module invariant).
#[repr(transparent)]
pub(crate) struct TcpSkb(Opaque<bindings::sk_buff>);

/// The mapping an skb carries in its MPTCP extension (`struct mptcp_ext`
/// with `use_map`): the peer's, stored by the option parser, or ours,
/// stored at the first transmission.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mapping {
    /// DSN of the mapping's first octet, 64-bit.
    pub(crate) dsn: u64,
    /// Subflow sequence number of its first octet, relative to the ISN.
    pub(crate) ssn: u32,
    /// Data-level length (a DATA_FIN counts one).
    pub(crate) data_len: u16,
    /// The mapping carries the DATA_FIN.
    pub(crate) data_fin: bool,
    /// The DSS checksum, when checksums are in use.
    pub(crate) csum: Option<u16>,
}

impl Mapping {
    /// The core's view of it (without the checksum).
    pub(crate) const fn to_core(self) -> crate::mapping::Mapping {
        crate::mapping::Mapping::new(self.dsn, self.ssn, self.data_len, self.data_fin)
    }
}

impl TcpSkb {
    /// # Safety
    ///
    /// `skb` is as the module invariant says, for `'a`, with its socket's
    /// lock held by the caller's context for as long.
    pub(crate) unsafe fn from_raw<'a>(skb: *const bindings::sk_buff) -> &'a TcpSkb {
        // SAFETY: a transparent wrapper; the rest is the caller's promise.
        unsafe { &*skb.cast::<TcpSkb>() }
    }

    fn as_ptr(&self) -> *mut bindings::sk_buff {
        self.0.get()
    }

    fn cb(&self) -> &bindings::tcp_skb_cb {
        // SAFETY: TCP's control block (type invariant), live with the skb
        // and written by TCP only under the lock we hold.
        unsafe { &*(*self.as_ptr()).cb.as_ptr().cast::<bindings::tcp_skb_cb>() }
    }

    /// Payload length (`skb->len`).
    pub(crate) fn len(&self) -> u32 {
        // SAFETY: a live skb (type invariant), changed only under the lock
        // we hold.
        unsafe { (*self.as_ptr()).len }
    }

    /// The sequence number of its first octet (`TCP_SKB_CB(skb)->seq`).
    pub(crate) fn seq(&self) -> u32 {
        self.cb().seq
    }

    /// Whether it carries a FIN (`TCPHDR_FIN` in `TCP_SKB_CB(skb)->tcp_flags`).
    pub(crate) fn is_fin(&self) -> bool {
        self.cb().tcp_flags & bindings::TCPHDR_FIN as u8 != 0
    }

    /// Whether it is a RST (`TCPHDR_RST`).
    pub(crate) fn is_rst(&self) -> bool {
        self.cb().tcp_flags & bindings::TCPHDR_RST as u8 != 0
    }

    /// Whether `seq` is one of its octets.
    fn holds(&self, seq: u32) -> bool {
        let start = self.seq();
        !crate::seq::before(seq, start) && crate::seq::before(seq, start.wrapping_add(self.len()))
    }

    /// The mapping in its MPTCP extension, if it carries one.
    pub(crate) fn mapping(&self) -> Option<Mapping> {
        // SAFETY: a live skb (type invariant); the extension, if any, lives
        // as long as the skb, and we copy out of it at once.
        let e = unsafe {
            bindings::skb_ext_find(self.as_ptr(), bindings::skb_ext_id_SKB_EXT_MPTCP)
                .cast::<bindings::mptcp_ext>()
                .as_ref()?
        };
        (e.use_map() != 0).then(|| Mapping {
            dsn: e.data_seq,
            ssn: e.subflow_seq,
            data_len: e.data_len,
            data_fin: e.data_fin() != 0,
            csum: (e.csum_reqd() != 0).then_some(e.csum),
        })
    }

    /// Records `m` in the skb's `SKB_EXT_MPTCP` extension (allocated
    /// atomically if it has none; a shared one is copied first).  TCP
    /// merges and splits skbs keeping equal extensions, so every octet
    /// keeps its mapping.  False without memory for the extension.
    pub(crate) fn set_mapping(&self, m: &Mapping) -> bool {
        // SAFETY: TCP holds the skb for our locked socket (type invariant)
        // and its extensions are written under that lock; the extension
        // returned is this skb's own (skb_ext_add() unshares it).
        unsafe {
            let e = bindings::skb_ext_add(self.as_ptr(), bindings::skb_ext_id_SKB_EXT_MPTCP)
                .cast::<bindings::mptcp_ext>();
            let Some(e) = e.as_mut() else { return false };
            // Zeroed first: TCP compares extensions byte for byte.
            ptr::write_bytes(e, 0, 1);
            e.data_seq = m.dsn;
            e.subflow_seq = m.ssn;
            e.data_len = m.data_len;
            e.set_use_map(1);
            e.set_dsn64(1);
            e.set_data_fin(u8::from(m.data_fin));
            if let Some(sum) = m.csum {
                e.csum = sum;
                e.set_csum_reqd(1);
            }
            true
        }
    }

    /// Removes its MPTCP extension (drops this skb's reference on a
    /// shared one; never allocates).
    pub(crate) fn clear_mapping(&self) {
        // SAFETY: as `set_mapping`.
        unsafe { bindings::__skb_ext_del(self.as_ptr(), bindings::skb_ext_id_SKB_EXT_MPTCP) };
    }

    /// The Internet checksum (`skb_checksum()`, 32-bit unfolded, host
    /// word order) of `len` payload octets from `offset`; None when the
    /// range is not inside the payload.
    pub(crate) fn checksum(&self, offset: u32, len: u32) -> Option<u32> {
        let end = offset.checked_add(len)?;
        if end > self.len() || end > c_int::MAX as u32 {
            return None;
        }
        // SAFETY: a live skb holding [offset, offset + len) (checked).
        Some(unsafe { bindings::skb_checksum(self.as_ptr(), offset as c_int, len as c_int, 0) })
    }
}

/// The skbs of the list at `head` (an `sk_buff_head`), from `first`.
struct SkbList<'a> {
    head: *mut bindings::sk_buff,
    next: *mut bindings::sk_buff,
    _lock: PhantomData<&'a ()>,
}

impl<'a> Iterator for SkbList<'a> {
    type Item = &'a TcpSkb;
    fn next(&mut self) -> Option<&'a TcpSkb> {
        if self.next.is_null() || self.next == self.head {
            return None;
        }
        // SAFETY: a queued skb of a socket whose lock is borrowed for 'a
        // (how an `SkbList` is made): the list does not change meanwhile,
        // and its links are valid (the module invariant of `TcpSkb`).
        let skb = unsafe { TcpSkb::from_raw(self.next) };
        // SAFETY: `self.next` is a queued skb under the borrowed lock (as
        // above), so its list links are valid.
        self.next = unsafe { (*self.next).__bindgen_anon_1.__bindgen_anon_1.next };
        Some(skb)
    }
}

impl<'l> TcpLocked<'l> {
    /// The write queue's skbs, from the send head (`tcp_send_head()`
    /// onwards is unsent; the ones before it are sent and not yet acked).
    fn write_queue_from(&self, first: *mut bindings::sk_buff) -> SkbList<'_> {
        let sk = self.sock().as_ptr();
        SkbList {
            // SAFETY: a live socket (the lock borrowed); only the address
            // is taken.
            head: unsafe { ptr::addr_of_mut!((*sk).sk_write_queue).cast::<bindings::sk_buff>() },
            next: first,
            _lock: PhantomData,
        }
    }

    /// The first skb of the write queue (`tcp_write_queue_head()`: with
    /// TCP's rtx tree, the oldest unsent one, our send head).
    pub(crate) fn write_head(&self) -> Option<&TcpSkb> {
        let sk = self.sock().as_ptr();
        // SAFETY: a live socket, locked: the list head is valid.
        let first = unsafe { (*sk).sk_write_queue.__bindgen_anon_1.__bindgen_anon_1.next };
        self.write_queue_from(first.cast()).next()
    }

    /// The write queue's skbs after `skb` (which is on it).
    pub(crate) fn write_queue_after<'a>(
        &'a self,
        skb: &'a TcpSkb,
    ) -> impl Iterator<Item = &'a TcpSkb> {
        // SAFETY: `skb` is on this locked socket's write queue (caller):
        // its links are valid.
        let next = unsafe { (*skb.as_ptr()).__bindgen_anon_1.__bindgen_anon_1.next };
        self.write_queue_from(next)
    }
}

/// Finds the skbs of a locked socket's receive queue by sequence number,
/// stepping forward from the skb found last: a walk over k new skbs costs
/// one search from the tail plus k steps, not k searches (quadratic with
/// many small segments, in softirq).
pub(crate) struct RcvCursor<'a> {
    sk: *mut bindings::sock,
    last: *mut bindings::sk_buff,
    /// Borrows the lock shared: the queue cannot change while this lives.
    _lock: PhantomData<&'a TcpLocked<'a>>,
}

impl<'l> TcpLocked<'l> {
    /// A cursor over the receive queue; it borrows the lock, so no call
    /// that changes the queue happens while it (or an skb it found) lives.
    pub(crate) fn rcv_cursor<'a>(&'a self) -> RcvCursor<'a> {
        RcvCursor {
            sk: self.sock().as_ptr(),
            last: ptr::null_mut(),
            _lock: PhantomData,
        }
    }
}

impl<'a> RcvCursor<'a> {
    /// The receive queue's list head, as an skb pointer (the list is
    /// circular through it).
    fn head(&self) -> *mut bindings::sk_buff {
        // SAFETY: a live socket (the lock borrowed); only the address is
        // taken.
        unsafe { ptr::addr_of_mut!((*self.sk).sk_receive_queue).cast::<bindings::sk_buff>() }
    }

    /// The queued skb at `p`, if `p` is one (not the head, not null).
    fn skb(&self, p: *mut bindings::sk_buff) -> Option<&'a TcpSkb> {
        if p.is_null() || p == self.head() {
            return None;
        }
        // SAFETY: `p` is on the receive queue of a socket whose lock is
        // borrowed for 'a, during which the queue does not change (see
        // `TcpLocked`): the module invariant of `TcpSkb`.
        Some(unsafe { &*p.cast::<TcpSkb>() })
    }

    fn prev(&self, skb: &TcpSkb) -> *mut bindings::sk_buff {
        // SAFETY: a queued skb: its list links are valid under the lock.
        unsafe { (*skb.as_ptr()).__bindgen_anon_1.__bindgen_anon_1.prev }
    }

    fn next(&self, skb: &TcpSkb) -> *mut bindings::sk_buff {
        // SAFETY: as `prev`.
        unsafe { (*skb.as_ptr()).__bindgen_anon_1.__bindgen_anon_1.next }
    }

    /// The queued skb holding `seq`.
    pub(crate) fn at(&mut self, seq: u32) -> Option<&'a TcpSkb> {
        if let Some(last) = self.skb(self.last) {
            for p in [self.next(last), self.last] {
                if let Some(skb) = self.skb(p).filter(|s| s.holds(seq)) {
                    self.last = p;
                    return Some(skb);
                }
            }
        }
        // From the tail (the new data) back.
        // SAFETY: the head of a live socket's queue, valid under the lock.
        let mut p = unsafe { (*self.head()).__bindgen_anon_1.__bindgen_anon_1.prev };
        self.last = ptr::null_mut();
        while let Some(skb) = self.skb(p) {
            if !crate::seq::before(seq, skb.seq()) {
                if !skb.holds(seq) {
                    return None;
                }
                self.last = p;
                return Some(skb);
            }
            p = self.prev(skb);
        }
        None
    }
}

/// A received TCP segment in TCP's receive path, which owns it (for a
/// locked socket, or for a listener's request: route_req, syn_recv_sock):
/// its TCP header (options included) is linear, as TCP ensures with
/// `pskb_may_pull(skb, th->doff * 4)` before any of our hooks sees it, and
/// nothing else writes its control block meanwhile.
/// Also a [`TcpSkb`] (deref).
#[repr(transparent)]
pub(crate) struct TcpSegment(Opaque<bindings::sk_buff>);

impl core::ops::Deref for TcpSegment {
    type Target = TcpSkb;
    fn deref(&self) -> &TcpSkb {
        // SAFETY: both are transparent wrappers of `sk_buff`, and a
        // received segment is held by TCP's receive path for our locked
        // socket (the `TcpSkb` invariant).
        unsafe { TcpSkb::from_raw(self.0.get()) }
    }
}

impl TcpSegment {
    /// # Safety
    ///
    /// `skb` is a received TCP segment as the type says, in TCP's receive
    /// path of a socket the caller's context holds locked, for `'a`.
    pub(crate) unsafe fn from_raw<'a>(skb: *const bindings::sk_buff) -> &'a TcpSegment {
        // SAFETY: a transparent wrapper; the rest is the caller's promise.
        unsafe { &*skb.cast::<TcpSegment>() }
    }

    /// Whether the segment carries payload octets (`seq != end_seq`; a
    /// SYN or FIN alone counts too, as TCP counts it).
    pub(crate) fn has_payload(&self) -> bool {
        let cb = self.cb();
        cb.seq != cb.end_seq
    }

    /// Whether the segment is a SYN.
    pub(crate) fn is_syn(&self) -> bool {
        self.cb().tcp_flags & bindings::TCPHDR_SYN as u8 != 0
    }

    /// Payload octets of a SYN (fast-open data; 0 for any other segment).
    pub(crate) fn syn_data_len(&self) -> u32 {
        if !self.is_syn() {
            return 0;
        }
        let cb = self.cb();
        let fin = u32::from(cb.tcp_flags & bindings::TCPHDR_FIN as u8 != 0);
        cb.end_seq.wrapping_sub(cb.seq).wrapping_sub(1 + fin)
    }

    /// The TCP header's option bytes and its flags octet.
    pub(crate) fn options(&self) -> (&[u8], u8) {
        // SAFETY: the header, with its options, is linear (type
        // invariant): `doff * 4` octets from the transport header are
        // readable for as long as the skb lives.
        unsafe {
            let skb = self.0.get();
            let th = (*skb).head.add(usize::from(
                (*skb)
                    .__bindgen_anon_4
                    .__bindgen_anon_1
                    .as_ref()
                    .transport_header,
            ));
            let doff = usize::from(*th.add(12) >> 4) * 4;
            let flags = *th.add(13);
            if doff <= 20 {
                return (&[], flags);
            }
            (core::slice::from_raw_parts(th.add(20), doff - 20), flags)
        }
    }
}
