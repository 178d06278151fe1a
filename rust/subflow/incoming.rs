// SPDX-License-Identifier: GPL-2.0

//! The options of received segments (`mptcp_incoming_options`): each
//! mapping of payload is recorded in its skb for the receive walk
//! ([`rx_advance`](super::rx::rx_advance)) and the checksum walk
//! ([`csum_advance`](super::checksum::csum_advance)); MP_FAIL,
//! MP_FASTCLOSE, MP_TCPRST, the infinite mapping and a peer that drops
//! MPTCP after the handshake are handled here.

use core::sync::atomic::Ordering;

use kernel::bindings;

use super::datafin::data_ack_received;
use super::handshake::set_remote_key;
use super::rx::{data_fin_done, data_fin_reached, rcv_dsn};
use super::{
    ctx_locked, fallback, fallback_quiet, is_mptcp_state, state, SubflowCtx, TCPF_SYN_ACK,
};
use crate::options::{
    DataSeq, MpCapable, MpCapablePayload, MpFail, MpFastclose, MptcpOption, MptcpOptions,
};
use crate::seq;
use crate::sys::skb::{Mapping, TcpSegment};
use crate::sys::TcpLocked;

/// `mptcp_incoming_options` hook: options of a segment received on our
/// locked subflow.  Returns false when the segment must be dropped (the
/// subflow was just reset).
pub(crate) fn incoming_options(l: &mut TcpLocked<'_>, seg: &TcpSegment) -> bool {
    let Some(mut guard) = ctx_locked(l) else {
        return true;
    };
    let c = &mut guard;
    let st = c.state.load(Ordering::Relaxed);
    if !is_mptcp_state(st) {
        return true;
    }
    let (opts, flags) = seg.options();
    let net = l.sock().net();
    let mut fin_announced = false;
    let mut infinite_rx = false;
    let mut fastclose = false;
    let mut any_mptcp = false;
    let has_payload = seg.has_payload();
    if c.remote_key_pending && !remote_key_from(c, opts) && has_payload {
        // Fast open: data before the client's key (its third ACK lost and
        // the data without MP_CAPABLE): plain TCP, as mainline falls back
        // for an MP_CAPABLE-less segment that completes the handshake.
        fallback(l, c, crate::mib::MPCAPABLE_FALLBACK_ACK);
        return true;
    }
    for o in MptcpOptions::new(opts) {
        any_mptcp |= matches!(o, Ok(MptcpOption::Dss(_) | MptcpOption::MpCapable(_)));
        match o {
            Ok(MptcpOption::Dss(dss)) => {
                if c.state.load(Ordering::Relaxed) == state::MPC_ACK_PENDING
                    && dss.data_ack.is_some()
                {
                    // The peer acks at the data level: it has our key (a
                    // fast-open server maps data before it has it).
                    c.state.store(state::ESTABLISHED, Ordering::Release);
                }
                if let Some(ack) = dss.data_ack {
                    data_ack_received(c, ack);
                }
                let Some(m) = dss.mapping else { continue };
                if m.data_len == 0 {
                    // The infinite mapping: the peer falls back (§3.7).
                    infinite_rx = true;
                    continue;
                }
                let next = rcv_dsn(l, c);
                let dsn = match m.dsn {
                    DataSeq::Bits64(d) => d,
                    DataSeq::Bits32(d) => seq::expand_seq(next, u64::from(d)),
                };
                // Our DATA_ACK follows the width of the peer's DSNs.
                c.ack64 = matches!(m.dsn, DataSeq::Bits64(_));
                if m.data_fin {
                    // The DATA_FIN is the last octet the mapping counts
                    // (the first announcement holds until reached, unless
                    // stale: `PeerDataFin::announce`).
                    let fin = dsn.wrapping_add(u64::from(m.data_len)).wrapping_sub(1);
                    fin_announced |= c.peer_fin.announce(fin, next);
                }
                // A mapping of payload octets goes with them (checked when
                // they are in order: [`rx_advance`], [`csum_advance`]).  A
                // DATA_FIN-only mapping (length 1) maps no octet: whatever
                // payload its segment has belongs to the current mapping,
                // as mainline's get_mapping_status() reads it.
                if has_payload && m.data_len > u16::from(m.data_fin) {
                    let csum = if c.csum_reqd { m.checksum } else { None };
                    set_rx_ext(seg, dsn, m.ssn, m.data_len, m.data_fin, csum);
                }
            }
            Ok(MptcpOption::MpCapable(MpCapable {
                payload:
                    MpCapablePayload::AckData {
                        data_len, checksum, ..
                    },
                ..
            })) => {
                if data_len == 0 {
                    // Length 0 is the infinite mapping, which MP_CAPABLE
                    // cannot carry: mainline's get_mapping_status() finds
                    // the mapping invalid and falls back.
                    infinite_rx = true;
                    continue;
                }
                // The first data's mapping, implicit in MP_CAPABLE (§3.1).
                c.ack64 = true;
                if has_payload {
                    let dsn = c.idsn_remote.wrapping_add(1);
                    let csum = if c.csum_reqd { checksum } else { None };
                    set_rx_ext(seg, dsn, 1, data_len, false, csum);
                }
            }
            Ok(MptcpOption::MpFail(MpFail { dsn })) => {
                crate::ctl::mib_add(net, crate::mib::MPFAIL_RX, 1);
                // Our data failed the peer's checksum: answer with MP_FAIL
                // now, then the infinite mapping on our next data, and fall
                // back (§3.7, `crate::fail`); or the peer answers ours.
                // Only where checksums are in use (else nothing could have
                // failed), and never in reply to a RST.
                let (csum, rst) = (c.csum_reqd, flags & bindings::TCPHDR_RST as u8 != 0);
                c.fail.received(dsn, csum, rst);
            }
            Ok(MptcpOption::MpFastclose(MpFastclose { receiver_key }))
                if receiver_key == c.local_key =>
            {
                crate::ctl::mib_add(net, crate::mib::MPFASTCLOSE_RX, 1);
                fastclose = true;
            }
            Ok(MptcpOption::MpTcpRst(_)) => {
                crate::ctl::mib_add(net, crate::mib::MPRST_RX, 1);
            }
            _ => {}
        }
    }
    if st == state::MPC_ACK_PENDING && !any_mptcp && flags & TCPF_SYN_ACK != TCPF_SYN_ACK {
        // The server's first segment after the handshake lacks MPTCP
        // options (a middlebox strips them after the SYN-ACK): plain TCP,
        // as mainline's check_fully_established() decides (RFC 8684 §3.7).
        fallback(l, c, crate::mib::MPCAPABLE_DATA_FALLBACK);
        return true;
    }
    const TCPF_RST: u8 = bindings::TCPHDR_RST as u8;
    if fastclose && flags & TCPF_RST == 0 {
        // MP_FASTCLOSE on an ACK (RFC 8684 §3.5): the peer aborted the
        // connection and waits for our RST, which TCP then sends without
        // MPTCP options (see `control_options`).
        fallback_quiet(l, c);
        drop(guard);
        l.reset_done(bindings::ECONNRESET as i32);
        return false;
    }
    if infinite_rx {
        // The infinite mapping (or an MP_CAPABLE whose data-level length
        // is 0, which mainline reads as one): plain TCP from here, counted
        // as mainline's get_mapping_status() + fallback do.
        crate::ctl::mib_add(net, crate::mib::INFINITE_MAP_RX, 1);
        fallback(l, c, crate::mib::DSS_FALLBACK);
        return true;
    }
    let send_ack = c.fail.wants_ack();
    // A DATA_FIN on a segment without data completes now (with data it
    // completes in data_ready once the data is queued).
    let fin_done = fin_announced && data_fin_reached(l, c);
    // The borrow ends here: TCP re-enters our option hooks when it sends.
    drop(guard);
    if send_ack {
        l.send_ack();
    }
    if fin_done {
        data_fin_done(l);
        l.data_ready();
    }
    true
}

/// Fast open, server side: takes the client's key from the MP_CAPABLE of
/// its third ACK (or first data) if `opts` has it, naming our key; returns
/// whether the key is now known.
fn remote_key_from(c: &mut SubflowCtx, opts: &[u8]) -> bool {
    let found = crate::handshake::third_ack(crate::handshake::find_mpc(opts).as_ref(), c.local_key)
        .map(|p| (p.key, p.csum));
    if let Some((key, csum)) = found {
        set_remote_key(c, key);
        c.csum_reqd |= csum;
    }
    !c.remote_key_pending
}

/// Records a received mapping in the skb's `SKB_EXT_MPTCP` extension, for
/// the checksum check once the payload is queued
/// ([`csum_advance`](super::checksum::csum_advance)).  TCP
/// merges queued skbs only when their extensions are equal, so every
/// queued octet keeps its mapping.  Without memory for the extension the
/// mapping goes unchecked.
fn set_rx_ext(
    seg: &TcpSegment,
    dsn: u64,
    ssn: u32,
    data_len: u16,
    data_fin: bool,
    csum: Option<u16>,
) {
    let m = Mapping {
        dsn,
        ssn,
        data_len,
        data_fin,
        csum,
    };
    let _ = seg.set_mapping(&m);
}
