// SPDX-License-Identifier: GPL-2.0

//! The options of our segments: the DSS mapping of each outgoing segment
//! ([`tx_mapping`], kept in `SKB_EXT_MPTCP`), MP_CAPABLE until the peer
//! confirms our key, DATA_ACK, and the options that end MPTCP on the
//! subflow ([`control_options`]: MP_FAIL, the infinite mapping,
//! MP_FASTCLOSE + MP_TCPRST).

use core::sync::atomic::Ordering;

use kernel::bindings;
use kernel::ffi::c_uint;

use super::checksum::skb_sum;
use super::datafin::with_data_fin;
use super::rx::data_ack_opt;
use super::{cap_flags, ctx_locked, fallback_quiet, is_mptcp_state, state, CtxRef, MPTCP_VERSION};
use crate::csum::DssCsum;
use crate::fail::{Carrier, FailOption};
use crate::options::{
    DataSeq, Dss, DssMapping, MpCapable, MpCapablePayload, MpFastclose, MpTcpRst, MptcpOption,
};
use crate::seq;
use crate::sys::opts::OutOptions;
use crate::sys::skb::{Mapping, TcpSkb};
use crate::sys::sock::{TcpLocked, TcpSock};

const TCPOPT_NOP: u8 = 1;
/// DSS with 64-bit DATA_ACK and 64-bit mapping, padded: what `tcp_current_mss`
/// must reserve (it asks with no skb).
const MAX_OPT_SIZE: c_uint = 28;

/// The largest packet one mapping can cover: the data-level length is 16
/// bits.
const MAX_MAPPED_LEN: u32 = u16::MAX as u32;

/// Encodes `opt` into `opts`, NOP-padded to 32 bits; returns the padded
/// size, or None if it does not fit `remaining`.
pub(super) fn put_option(
    opt: &MptcpOption<'_>,
    opts: &mut OutOptions,
    remaining: c_uint,
) -> Option<c_uint> {
    put_options(&[*opt], opts, remaining)
}

/// Encodes `list` back to back into `opts` (at most 32 octets), NOP-padded
/// to 32 bits; returns the padded size, or None if it does not fit
/// `remaining`.
fn put_options(
    list: &[MptcpOption<'_>],
    opts: &mut OutOptions,
    remaining: c_uint,
) -> Option<c_uint> {
    let mut buf = [TCPOPT_NOP; OutOptions::CAPACITY];
    let mut n = 0;
    for opt in list {
        n += opt.encode(buf.get_mut(n..)?).ok()?;
    }
    let padded = (n + 3) & !3;
    if padded as c_uint > remaining || !opts.set(buf.get(..padded)?) {
        return None;
    }
    Some(padded as c_uint)
}

/// The mapping of an outgoing segment, from its `SKB_EXT_MPTCP` extension
/// or, at its first transmission, derived from its sequence number and
/// stored in the extension of the queued original (which TCP copies to
/// the pieces when it splits a segment).  `skb` is the (cloned) segment
/// being transmitted.
fn tx_mapping(l: &TcpLocked<'_>, c: &mut CtxRef<'_>, skb: &TcpSkb) -> Option<DssMapping> {
    let fin = skb.is_fin();
    let len = skb.len() + u32::from(fin);
    let rel32 = skb.seq().wrapping_sub(c.isn_local);
    if let Some(e) = skb.mapping() {
        // A retransmission repeats the stored mapping.  A segment that
        // never left (at snd_nxt) has one only after a local drop (qdisc
        // full) kept it at the send head: sendmsg may have appended to it
        // and TCP may have split it since, and the peer never saw that
        // mapping, so a new one is made.  The exception is a piece split
        // off a segment whose first part left with the mapping (it starts
        // before this segment and covers it): the peer has it open.  (Stale
        // copies of a dropped mapping on such pieces are cleared when the
        // head is mapped again, below.)
        let covers = rel32.wrapping_sub(e.ssn).wrapping_add(len) <= u32::from(e.data_len);
        let unsent = skb.seq() == l.seqs().snd_nxt;
        if !unsent || (covers && e.ssn != rel32) {
            return Some(DssMapping {
                dsn: DataSeq::Bits64(e.dsn),
                ssn: e.ssn,
                data_len: e.data_len,
                checksum: e.csum,
                data_fin: e.data_fin,
            });
        }
    }
    if len == 0 || len > u32::from(u16::MAX) {
        return None;
    }
    c.snd_rel = seq::expand_seq(c.snd_rel, u64::from(rel32));
    let dsn = c.idsn_local.wrapping_add(c.snd_rel);
    // The checksum covers the payload: here, before TCP pushes its header,
    // the clone's data is exactly that payload.
    let checksum = if c.csum_reqd {
        let mut sum = DssCsum::new();
        sum.add_sum(skb_sum(skb, 0, skb.len())?, skb.len() as usize);
        Some(sum.finish(dsn, rel32, len as u16))
    } else {
        None
    };
    let m = DssMapping {
        dsn: DataSeq::Bits64(dsn),
        ssn: rel32,
        data_len: len as u16,
        checksum,
        data_fin: fin,
    };
    // First transmission: the original is the send head, with the same
    // sequence number as this clone.  Record the mapping there.
    if let Some(head) = l.write_head() {
        if head.seq() == skb.seq() && head.len() == skb.len() {
            forget_dropped_mapping(l, head);
            let _ = head.set_mapping(&Mapping {
                dsn,
                ssn: rel32,
                data_len: len as u16,
                data_fin: fin,
                csum: checksum,
            });
        }
    }
    Some(m)
}

/// Before the send head gets a new mapping: if it still has the mapping of
/// a transmission that was dropped locally, TCP may have split the head
/// since (`tso_fragment()` copies the extension to the new piece), and the
/// unsent pieces behind it carry that mapping, which the peer never saw.
/// Remove it there (the extension is shared: deleting drops the piece's
/// reference and never allocates), so that each piece is mapped afresh when
/// it leaves, consistent with the new mapping.  `head` is the first skb of
/// the write queue.
fn forget_dropped_mapping(l: &TcpLocked<'_>, head: &TcpSkb) {
    let Some(old) = head.mapping() else {
        return;
    };
    for skb in l.write_queue_after(head) {
        if skb
            .mapping()
            .is_some_and(|e| e.dsn == old.dsn && e.ssn == old.ssn)
        {
            skb.clear_mapping();
        }
    }
}

/// The options of segments that end MPTCP on this subflow, if `skb` is
/// one: an RST (the connection is aborted: MP_FASTCLOSE and MP_TCPRST, as
/// mainline sends them), or the first segment after a checksum failure
/// (MP_FAIL; or the infinite mapping answering the peer's MP_FAIL, after
/// which the subflow is plain TCP: RFC 8684 §3.7, [`crate::fail`]).
/// Returns the option size.
fn control_options(
    l: &TcpLocked<'_>,
    c: &mut CtxRef<'_>,
    skb: &TcpSkb,
    remaining: c_uint,
    opts: &mut OutOptions,
) -> Option<c_uint> {
    {
        let net = l.sock().net();
        if skb.is_rst() {
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
        if c.fail.is_idle() {
            // The common case: an ordinary segment.
            return None;
        }
        // New data is at snd_nxt; a retransmission keeps its mapping.
        let carrier = if skb.len() == 0 {
            Carrier::Ack
        } else if skb.seq() == l.seqs().snd_nxt {
            Carrier::NewData
        } else {
            Carrier::Retransmission
        };
        let opt = c.fail.pending(carrier)?;
        let (list, k) = opt.options(data_ack_opt(l, c), c.csum_reqd);
        let n = put_options(list.get(..k)?, opts, remaining)?;
        crate::ctl::mib_add(
            net,
            match opt {
                FailOption::MpFail(_) => crate::mib::MPFAIL_TX,
                FailOption::InfiniteMapping(_) => crate::mib::INFINITE_MAP_TX,
            },
            1,
        );
        if c.fail.written() {
            // The infinite mapping is out: plain TCP from here.  After our
            // MP_FAIL the subflow waits for the peer's.
            fallback_quiet(l, c);
        }
        Some(n)
    }
}

/// `mptcp_established_options` hook: the options of a segment of our
/// locked subflow (`skb` None: TCP estimates the header size for its MSS,
/// `tcp_current_mss`).  Returns their size, None for no options.
pub(crate) fn established_options(
    l: &TcpLocked<'_>,
    skb: Option<&TcpSkb>,
    remaining: c_uint,
    opts: &mut OutOptions,
) -> Option<c_uint> {
    let mut c = ctx_locked(l)?;
    let c = &mut c;
    let st = c.state.load(Ordering::Relaxed);
    if !is_mptcp_state(st) {
        return None;
    }
    // Keeps TCP's packets within what one mapping can cover: the
    // data-level length is 16 bits, and BIG TCP lets a device take GSO
    // packets over 64 KiB, and a small MSS times tcp_min_tso_segs can
    // exceed it too (loopback: the MSS bounded by half the window).  TCP
    // sizes new segments from `sk_gso_max_size`/`sk_gso_max_segs` right
    // after asking for our option size (tcp_send_mss() ->
    // tcp_current_mss() -> here); a route change re-reads the device's
    // limits (sk_setup_caps()), and the next call clamps them again.
    l.clamp_gso(MAX_MAPPED_LEN);
    let Some(skb) = skb else {
        // Size estimate for the MSS: the largest option we may send.
        return Some(MAX_OPT_SIZE.min(remaining));
    };
    if let Some(n) = control_options(l, c, skb, remaining, opts) {
        return Some(n);
    }
    let mapping = tx_mapping(l, c, skb);
    let mapping = with_data_fin(l, c, skb, mapping);
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
            return None;
        }
        let ack = (!c.remote_key_pending).then(|| data_ack_opt(l, c));
        MptcpOption::Dss(Dss {
            data_ack: ack,
            mapping,
        })
    };
    match put_option(&opt, opts, remaining) {
        Some(n) => {
            // The mapping went into the segment: if it carries our
            // DATA_FIN, that is sent.
            if let Some(m) = &mapping {
                c.data_fin_tx.on_mapping_sent(m);
            }
            Some(n)
        }
        // No room for a mapping: at least the DATA_ACK.
        None if c.remote_key_pending => None,
        None => {
            let ack = data_ack_opt(l, c);
            let ack_only = MptcpOption::Dss(Dss {
                data_ack: Some(ack),
                mapping: None,
            });
            put_option(&ack_only, opts, remaining)
        }
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
            if !unsent && c.data_fin_tx.pending().is_some() {
                v += 1;
            }
        }
    }
    i32::try_from(v).unwrap_or(i32::MAX)
}
