// SPDX-License-Identifier: GPL-2.0

//! The options of our segments: the DSS mapping of each outgoing segment
//! ([`tx_mapping`], kept in `SKB_EXT_MPTCP`), MP_CAPABLE until the peer
//! confirms our key, DATA_ACK, and the options that end MPTCP on the
//! subflow ([`control_options`]: MP_FAIL, the infinite mapping,
//! MP_FASTCLOSE + MP_TCPRST).

use core::ptr;
use core::sync::atomic::Ordering;

use kernel::bindings;
use kernel::ffi::c_uint;

use super::checksum::skb_sum;
use super::datafin::with_data_fin;
use super::rx::data_ack_opt;
use super::{cap_flags, ctx_locked, fallback, is_mptcp_state, state, CtxRef, MPTCP_VERSION};
use crate::csum::DssCsum;
use crate::options::{
    DataSeq, Dss, DssMapping, MpCapable, MpCapablePayload, MpFail, MpFastclose, MpTcpRst,
    MptcpOption,
};
use crate::seq;
use crate::sys::sock::{TcpLocked, TcpSock};

const TCPOPT_NOP: u8 = 1;
/// DSS with 64-bit DATA_ACK and 64-bit mapping, padded: what `tcp_current_mss`
/// must reserve (it asks with no skb).
const MAX_OPT_SIZE: c_uint = 28;

/// Encodes `opt` into the scratch space of `opts`, NOP-padded to 32 bits;
/// returns the padded size, or None if it does not fit `remaining`.
///
/// # Safety
///
/// `opts` valid for writes.
pub(super) unsafe fn put_option(
    opt: &MptcpOption<'_>,
    opts: *mut bindings::mptcp_out_options,
    remaining: c_uint,
) -> Option<c_uint> {
    // SAFETY: the caller guarantees: `opts` valid for writes.
    unsafe { put_options(&[*opt], opts, remaining) }
}

/// Encodes `list` back to back into the scratch space of `opts` (at most
/// 32 octets), NOP-padded to 32 bits; returns the padded size, or None if
/// it does not fit `remaining`.
///
/// # Safety
///
/// `opts` valid for writes.
unsafe fn put_options(
    list: &[MptcpOption<'_>],
    opts: *mut bindings::mptcp_out_options,
    remaining: c_uint,
) -> Option<c_uint> {
    const SPACE: usize = core::mem::size_of::<bindings::mptcp_out_options__bindgen_ty_1>();
    const _: () = assert!(SPACE >= 32);
    let mut buf = [TCPOPT_NOP; 32];
    let mut n = 0;
    for opt in list {
        n += opt.encode(buf.get_mut(n..)?).ok()?;
    }
    let padded = (n + 3) & !3;
    if padded as c_uint > remaining || padded > buf.len() {
        return None;
    }
    // SAFETY: `opts` is valid; the union has at least 32 bytes (checked).
    unsafe {
        ptr::copy_nonoverlapping(
            buf.as_ptr(),
            ptr::addr_of_mut!((*opts).__bindgen_anon_1).cast::<u8>(),
            padded,
        );
        (*opts).suboptions = padded as u16;
    }
    Some(padded as c_uint)
}

/// Keeps TCP's segments within what one mapping can cover: the data-level
/// length is 16 bits, and BIG TCP lets a device take GSO packets over
/// 64 KiB.  TCP sizes new segments from `sk_gso_max_size` right after
/// asking for our option size (tcp_send_mss() -> tcp_current_mss() ->
/// [`established_options`]), which calls this; a route change re-reads the
/// device's limit (sk_setup_caps()), and the next call clamps it again.
///
/// # Safety
///
/// Socket locked.
unsafe fn clamp_gso(sk: *mut bindings::sock) {
    const GSO_LEGACY_MAX_SIZE: u32 = 65536;
    // SAFETY: the caller guarantees: socket locked.
    unsafe {
        if (*sk).sk_gso_max_size > GSO_LEGACY_MAX_SIZE {
            (*sk).sk_gso_max_size = GSO_LEGACY_MAX_SIZE;
        }
    }
}

/// The mapping of an outgoing segment, from its `SKB_EXT_MPTCP` extension
/// or, at its first transmission, derived from its sequence number and
/// stored in the extension of the queued original (which TCP copies to
/// the pieces when it splits a segment).
///
/// # Safety
///
/// Socket locked; `skb` is the (cloned) segment being transmitted.
unsafe fn tx_mapping(
    sk: *mut bindings::sock,
    c: &mut CtxRef<'_>,
    skb: *mut bindings::sk_buff,
) -> Option<DssMapping> {
    // SAFETY: the caller guarantees: socket locked; `skb` is the (cloned) segment being transmitted.
    unsafe {
        let cb = (*skb).cb.as_ptr().cast::<bindings::tcp_skb_cb>();
        let fin = (*cb).tcp_flags & bindings::TCPHDR_FIN as u8 != 0;
        let len = (*skb).len + u32::from(fin);
        let rel32 = (*cb).seq.wrapping_sub(c.isn_local);
        let ext = bindings::skb_ext_find(skb, bindings::skb_ext_id_SKB_EXT_MPTCP)
            .cast::<bindings::mptcp_ext>();
        if let Some(e) = ext.as_ref() {
            // A retransmission repeats the stored mapping.  A segment that
            // never left (at snd_nxt) has one only after a local drop (qdisc
            // full) kept it at the send head: sendmsg may have appended to
            // it and TCP may have split it since, and the peer never saw
            // that mapping, so a new one is made.  The exception is a piece
            // split off a segment whose first part left with the mapping
            // (it starts before this segment and covers it): the peer has
            // it open.  (Stale copies of a dropped mapping on such pieces
            // are cleared when the head is mapped again, below.)
            let covers =
                rel32.wrapping_sub(e.subflow_seq).wrapping_add(len) <= u32::from(e.data_len);
            let unsent = (*cb).seq == (*bindings::tcp_sk(sk)).snd_nxt;
            if e.use_map() != 0 && (!unsent || (covers && e.subflow_seq != rel32)) {
                return Some(DssMapping {
                    dsn: DataSeq::Bits64(e.data_seq),
                    ssn: e.subflow_seq,
                    data_len: e.data_len,
                    checksum: (e.csum_reqd() != 0).then_some(e.csum),
                    data_fin: e.data_fin() != 0,
                });
            }
        }
        if len == 0 || len > u32::from(u16::MAX) {
            return None;
        }
        c.snd_rel = seq::expand_seq(c.snd_rel, u64::from(rel32));
        let dsn = c.idsn_local.wrapping_add(c.snd_rel);
        // The checksum covers the payload: here, before TCP pushes its
        // header, the clone's data is exactly that payload.
        let checksum = c.csum_reqd.then(|| {
            let mut sum = DssCsum::new();
            sum.add_sum(skb_sum(skb, 0, (*skb).len), (*skb).len as usize);
            sum.finish(dsn, rel32, len as u16)
        });
        let m = DssMapping {
            dsn: DataSeq::Bits64(dsn),
            ssn: rel32,
            data_len: len as u16,
            checksum,
            data_fin: fin,
        };
        // First transmission: the original is the send head, with the same
        // sequence number as this clone.  Record the mapping there.
        let q = ptr::addr_of_mut!((*sk).sk_write_queue);
        let head = (*q).__bindgen_anon_1.__bindgen_anon_1.next;
        if !head.is_null() && head != q.cast::<bindings::sk_buff>() {
            let hcb = (*head).cb.as_ptr().cast::<bindings::tcp_skb_cb>();
            if (*hcb).seq == (*cb).seq && (*head).len == (*skb).len {
                forget_dropped_mapping(sk, head);
                let e = bindings::skb_ext_add(head, bindings::skb_ext_id_SKB_EXT_MPTCP)
                    .cast::<bindings::mptcp_ext>();
                if let Some(e) = e.as_mut() {
                    ptr::write_bytes(e, 0, 1);
                    e.data_seq = c.idsn_local.wrapping_add(c.snd_rel);
                    e.subflow_seq = rel32;
                    e.data_len = len as u16;
                    e.set_use_map(1);
                    e.set_dsn64(1);
                    e.set_data_fin(u8::from(fin));
                    if let Some(sum) = checksum {
                        e.csum = sum;
                        e.set_csum_reqd(1);
                    }
                }
            }
        }
        Some(m)
    }
}

/// Before the send head gets a new mapping: if it still has the mapping of
/// a transmission that was dropped locally, TCP may have split the head
/// since (`tso_fragment()` copies the extension to the new piece), and the
/// unsent pieces behind it carry that mapping, which the peer never saw.
/// Remove it there (the extension is shared: deleting drops the piece's
/// reference and never allocates), so that each piece is mapped afresh when
/// it leaves, consistent with the new mapping.
///
/// # Safety
///
/// Socket locked; `head` is the first skb of its write queue.
unsafe fn forget_dropped_mapping(sk: *mut bindings::sock, head: *mut bindings::sk_buff) {
    // SAFETY: the caller guarantees: socket locked, `head` on its write
    // queue; the queue's skbs stay linked while we hold the lock.
    unsafe {
        let old = bindings::skb_ext_find(head, bindings::skb_ext_id_SKB_EXT_MPTCP)
            .cast::<bindings::mptcp_ext>();
        let Some(old) = old.as_ref().filter(|e| e.use_map() != 0) else {
            return;
        };
        let (dsn, ssn) = (old.data_seq, old.subflow_seq);
        let q = ptr::addr_of_mut!((*sk).sk_write_queue).cast::<bindings::sk_buff>();
        let mut next = (*head).__bindgen_anon_1.__bindgen_anon_1.next;
        while !next.is_null() && next != q {
            let e = bindings::skb_ext_find(next, bindings::skb_ext_id_SKB_EXT_MPTCP)
                .cast::<bindings::mptcp_ext>();
            if e.as_ref()
                .is_some_and(|e| e.use_map() != 0 && e.data_seq == dsn && e.subflow_seq == ssn)
            {
                bindings::__skb_ext_del(next, bindings::skb_ext_id_SKB_EXT_MPTCP);
            }
            next = (*next).__bindgen_anon_1.__bindgen_anon_1.next;
        }
    }
}

/// The options of segments that end MPTCP on this subflow, if `skb` is
/// one: an RST (the connection is aborted: MP_FASTCLOSE and MP_TCPRST, as
/// mainline sends them), or the first segment after a checksum failure
/// (MP_FAIL, or the infinite mapping answering the peer's MP_FAIL, RFC 8684
/// §3.7), after which the subflow is plain TCP.  Returns the option size.
///
/// # Safety
///
/// Socket locked, valid skb and `opts`.
unsafe fn control_options(
    l: &TcpLocked<'_>,
    c: &mut CtxRef<'_>,
    skb: *mut bindings::sk_buff,
    remaining: c_uint,
    opts: *mut bindings::mptcp_out_options,
) -> Option<c_uint> {
    // SAFETY: the caller guarantees: socket locked, valid skb and `opts`.
    unsafe {
        let net = l.sock().net();
        let cb = (*skb).cb.as_ptr().cast::<bindings::tcp_skb_cb>();
        if (*cb).tcp_flags & bindings::TCPHDR_RST as u8 != 0 {
            // One subflow: its abortive close is the connection's.
            let list = [
                MptcpOption::MpFastclose(MpFastclose {
                    receiver_key: c.remote_key,
                }),
                MptcpOption::MpTcpRst(MpTcpRst::new(false, c.reset_reason)),
            ];
            let n = put_options(&list, opts, remaining)?;
            crate::ctl::mib_add(net, crate::mib::MPFASTCLOSE_TX, 1);
            crate::ctl::mib_add(net, crate::mib::MPRST_TX, 1);
            return Some(n);
        }
        if c.mp_fail_tx.is_none() && c.infinite_map_tx.is_none() {
            // The common case: an ordinary segment.
            return None;
        }
        let ack = data_ack_opt(l, c);
        if let Some(dsn) = c.mp_fail_tx {
            let list = [
                MptcpOption::MpFail(MpFail { dsn }),
                MptcpOption::Dss(Dss {
                    data_ack: Some(ack),
                    mapping: None,
                }),
            ];
            let n = put_options(&list, opts, remaining)?;
            c.mp_fail_tx = None;
            fallback(l, c, crate::mib::MPFAIL_TX);
            return Some(n);
        }
        if let Some(dsn) = c.infinite_map_tx {
            let infinite = DssMapping {
                dsn: DataSeq::Bits64(dsn),
                ssn: 0,
                data_len: 0,
                checksum: c.csum_reqd.then_some(0),
                data_fin: false,
            };
            let n = put_option(
                &MptcpOption::Dss(Dss {
                    data_ack: Some(ack),
                    mapping: Some(infinite),
                }),
                opts,
                remaining,
            )?;
            c.infinite_map_tx = None;
            fallback(l, c, crate::mib::INFINITE_MAP_TX);
            return Some(n);
        }
        None
    }
}

/// `mptcp_established_options` hook.
///
/// # Safety
///
/// Called by TCP with the socket locked; `skb` may be null (header size
/// estimation by `tcp_current_mss`).
pub(crate) unsafe fn established_options(
    sk: *mut bindings::sock,
    skb: *mut bindings::sk_buff,
    size: *mut c_uint,
    remaining: c_uint,
    opts: *mut bindings::mptcp_out_options,
) -> bool {
    // SAFETY: the caller guarantees: called by TCP with the full socket
    // locked.
    let l = unsafe { TcpSock::from_raw(sk).assume_locked() };
    let Some(mut c) = ctx_locked(&l) else {
        return false;
    };
    let c = &mut c;
    let st = c.state.load(Ordering::Relaxed);
    if !is_mptcp_state(st) {
        return false;
    }
    // SAFETY: socket locked (caller).
    unsafe { clamp_gso(sk) };
    if skb.is_null() {
        // Size estimate for the MSS: the largest option we may send.
        // SAFETY: valid out pointer.
        unsafe { *size = MAX_OPT_SIZE.min(remaining) };
        return true;
    }
    // SAFETY: socket locked, valid skb.
    if let Some(n) = unsafe { control_options(&l, c, skb, remaining, opts) } {
        // SAFETY: valid out pointer.
        unsafe { *size = n };
        return true;
    }
    // SAFETY: socket locked, valid skb.
    let mapping = unsafe { tx_mapping(sk, c, skb) };
    // SAFETY: socket locked, valid skb.
    let mapping = unsafe { with_data_fin(sk, c, skb, mapping) };
    let opt = if st == state::MPC_ACK_PENDING && mapping.is_none_or(|m| m.ssn == 1 && !m.data_fin) {
        // Until the peer confirms our key: MP_CAPABLE with both keys, and
        // the data-level length on the first data segment (RFC 8684 §3.1).
        let payload = match mapping {
            Some(m) => MpCapablePayload::AckData {
                sender_key: c.local_key,
                receiver_key: c.remote_key,
                data_len: m.data_len,
                checksum: m.checksum,
            },
            None => MpCapablePayload::Ack {
                sender_key: c.local_key,
                receiver_key: c.remote_key,
            },
        };
        MptcpOption::MpCapable(MpCapable {
            version: MPTCP_VERSION,
            flags: cap_flags(c.csum_reqd),
            payload,
        })
    } else {
        // A fast-open server maps its data before it has the client's key,
        // without a DATA_ACK (mainline's can_ack).
        if c.remote_key_pending && mapping.is_none() {
            return false;
        }
        let ack = (!c.remote_key_pending).then(|| data_ack_opt(&l, c));
        MptcpOption::Dss(Dss {
            data_ack: ack,
            mapping,
        })
    };
    // SAFETY: valid `opts`.
    let n = match unsafe { put_option(&opt, opts, remaining) } {
        Some(n) => Some(n),
        // No room for a mapping: at least the DATA_ACK.
        None if c.remote_key_pending => None,
        None => {
            let ack = data_ack_opt(&l, c);
            let ack_only = MptcpOption::Dss(Dss {
                data_ack: Some(ack),
                mapping: None,
            });
            // SAFETY: valid `opts`.
            unsafe { put_option(&ack_only, opts, remaining) }
        }
    };
    match n {
        Some(n) => {
            // SAFETY: valid out pointer.
            unsafe { *size = n };
            true
        }
        None => false,
    }
}

/// `mptcp_write_options` hook: copy the bytes chosen by the *_options hooks.
///
/// # Safety
///
/// `ptr` points to option space of at least `opts.suboptions` bytes, as
/// reserved through the size the *_options hook returned.
pub(crate) unsafe fn write_options(ptr: *mut u8, opts: *const bindings::mptcp_out_options) {
    // SAFETY: per the caller; `suboptions` holds the padded length (<= 32).
    unsafe {
        let n = usize::from((*opts).suboptions).min(32);
        ptr::copy_nonoverlapping(ptr::addr_of!((*opts).__bindgen_anon_1).cast::<u8>(), ptr, n);
    }
}

/// SIOCOUTQ (`unsent` false: octets not yet acknowledged) or SIOCOUTQNSD
/// (`unsent`: octets not yet sent) of the msk, as mainline's
/// `mptcp_ioctl_outq()`: 0 during the handshake, else the subflow's queue;
/// on an MPTCP connection our DATA_FIN counts until the peer's DATA_ACK
/// covers it and the subflow's FIN does not (it is not connection data).
/// Process context.
pub(crate) fn outq(ssk: &TcpSock, unsent: bool) -> i32 {
    const HANDSHAKE: u32 = bindings::TCPF_SYN_SENT | bindings::TCPF_SYN_RECV;
    const FIN_QUEUED: u32 =
        bindings::TCPF_FIN_WAIT1 | bindings::TCPF_CLOSING | bindings::TCPF_LAST_ACK;
    if ssk.state_in(HANDSHAKE) {
        return 0;
    }
    let g = ssk.lock();
    let seqs = g.seqs();
    let from = if unsent { seqs.snd_nxt } else { seqs.snd_una };
    let mut v = u64::from(seqs.write_seq.wrapping_sub(from));
    if let Some(c) = ctx_locked(&g) {
        if is_mptcp_state(c.state.load(Ordering::Relaxed)) {
            // A queued FIN is the last octet counted, while counted.
            if ssk.state_in(FIN_QUEUED) {
                v = v.saturating_sub(1);
            }
            if !unsent && c.data_fin_tx.is_some() && !c.data_fin_tx_acked {
                v += 1;
            }
        }
    }
    i32::try_from(v).unwrap_or(i32::MAX)
}
