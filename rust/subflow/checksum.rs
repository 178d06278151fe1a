// SPDX-License-Identifier: GPL-2.0

//! DSS checksums of received payload (RFC 8684 §3.3.1): each mapping's
//! sum is collected over the skbs it spans and verified when complete
//! ([`csum_advance`]); a failure means MP_FAIL and fallback.

use super::SubflowCtx;
use crate::csum::DssCsum;
use crate::seq;
use crate::sys::skb::{Mapping, TcpSkb};
use crate::sys::TcpLocked;

/// A received mapping whose payload is being checksummed (RFC 8684
/// §3.3.1), possibly spread over many skbs.
#[derive(Clone, Copy)]
pub(super) struct RxMap {
    dsn: u64,
    /// Relative subflow sequence number of its first octet.
    ssn: u32,
    /// Data-level length as sent (DATA_FIN included).
    data_len: u16,
    data_fin: bool,
    /// The checksum the peer sent.
    csum: u16,
    /// Payload octets summed so far, and their sum.
    done: u32,
    sum: DssCsum,
}

impl RxMap {
    /// Payload octets the mapping covers (a DATA_FIN takes no payload).
    fn payload_len(&self) -> u32 {
        u32::from(self.data_len).saturating_sub(u32::from(self.data_fin))
    }

    /// Whether `e` (an skb's mapping) describes this mapping.
    fn matches(&self, e: &Mapping) -> bool {
        e.dsn == self.dsn && e.ssn == self.ssn && e.data_len == self.data_len
    }

    /// Whether the mapping's payload ends before absolute subflow
    /// sequence number `end` (`isn` is the peer's ISN).
    fn ends_before(&self, isn: u32, end: u32) -> bool {
        let map_end = isn.wrapping_add(self.ssn).wrapping_add(self.payload_len());
        seq::before(map_end, end)
    }

    /// Whether `e` is this mapping extended: same start, more octets.
    fn extended_by(&self, e: &Mapping) -> bool {
        e.dsn == self.dsn && e.ssn == self.ssn && e.data_len > self.data_len
    }
}

/// Checks the DSS checksums of the payload queued since the last call
/// (RFC 8684 §3.3.1): follows each mapping over as many skbs as it spans
/// and compares the sum when its last octet is in.  On a mismatch the
/// connection falls back to TCP with MP_FAIL (one subflow, §3.7), keeping
/// the data as mainline does; octets read before they could be checked
/// (SO_RCVLOWAT readers) and octets without a mapping are skipped.
pub(super) fn csum_advance(l: &TcpLocked<'_>, c: &mut SubflowCtx) {
    if !c.csum_reqd || c.mp_fail_tx.is_some() {
        return;
    }
    let seqs = l.seqs();
    let (rcv_nxt, copied) = (seqs.rcv_nxt, seqs.copied_seq);
    if seq::before(c.csum_seq, copied) {
        c.rx_map = None;
        c.csum_seq = copied;
    }
    let mut cur = l.rcv_cursor();
    while seq::before(c.csum_seq, rcv_nxt) {
        let Some(skb) = cur.at(c.csum_seq) else {
            c.rx_map = None;
            c.csum_seq = rcv_nxt;
            return;
        };
        let (start, len) = (skb.seq(), skb.len());
        let ext = skb.mapping();
        let skb_end = start.wrapping_add(len);
        let map = match (c.rx_map.as_mut(), ext.as_ref()) {
            (Some(m), Some(e)) if m.extended_by(e) => {
                // The same mapping, longer: mainline appends data to an
                // unsent skb whose mapping was partly sent already (TSO
                // split, then mptcp_sendmsg_frag() extends the tail), and
                // its checksum then covers the longer range.  Keep summing.
                m.data_len = e.data_len;
                m.data_fin = e.data_fin;
                m.csum = e.csum.unwrap_or(0);
                m
            }
            (Some(m), Some(e)) if !m.matches(e) && !m.ends_before(c.isn_remote, skb_end) => {
                // A second mapping for octets the open one covers: not a
                // checksum matter; the receive walk calls it invalid
                // (`DSSNotMatching`) and falls back, as mainline's
                // get_mapping_status() does before any checksum.
                return;
            }
            // A different mapping on an skb that reaches past the open one
            // is for the octets after it: finish summing this one first.
            (Some(m), _) => m,
            // (Mappings without payload octets are never stored on skbs,
            // see `incoming_options`; the guard below keeps the walk going
            // whatever an extension says.)
            (None, Some(e)) if c.isn_remote.wrapping_add(e.ssn) == c.csum_seq => {
                c.rx_map.insert(RxMap {
                    dsn: e.dsn,
                    ssn: e.ssn,
                    data_len: e.data_len,
                    data_fin: e.data_fin,
                    csum: e.csum.unwrap_or(0),
                    done: 0,
                    sum: DssCsum::new(),
                })
            }
            (None, _) => {
                // Unmapped, or the middle of a mapping we did not see start.
                c.csum_seq = skb_end;
                continue;
            }
        };
        let map_end = c
            .isn_remote
            .wrapping_add(map.ssn)
            .wrapping_add(map.payload_len());
        let mut upto = skb_end;
        for limit in [map_end, rcv_nxt] {
            if seq::before(limit, upto) {
                upto = limit;
            }
        }
        let n = upto.wrapping_sub(c.csum_seq);
        if n == 0 || n > len {
            // No progress possible on this mapping (it maps no octet here):
            // never loop on it, skip the skb unchecked.
            c.rx_map = None;
            c.csum_seq = skb_end;
            continue;
        }
        // [csum_seq, upto) lies inside this skb's payload (n <= len above).
        let Some(w) = skb_sum(skb, c.csum_seq.wrapping_sub(start), n) else {
            c.rx_map = None;
            c.csum_seq = skb_end;
            continue;
        };
        map.sum.add_sum(w, n as usize);
        map.done = map.done.wrapping_add(n);
        c.csum_seq = upto;
        if upto == map_end {
            let m = *map;
            c.rx_map = None;
            if !m.sum.verify(m.dsn, m.ssn, m.data_len, m.csum) {
                crate::ctl::mib_add(l.sock().net(), crate::mib::DATA_CSUM_ERR, 1);
                csum_failed(c, m.dsn);
                return;
            }
        }
    }
}

/// A mapping failed its checksum on our only subflow: tell the peer with
/// MP_FAIL (on an ACK the caller sends once it holds no context reference)
/// and continue as plain TCP, delivering the data as received (RFC 8684
/// §3.7; mainline does the same).
fn csum_failed(c: &mut SubflowCtx, dsn: u64) {
    c.mp_fail_tx = Some(dsn);
}

/// The folded sum of `len` payload octets of `skb` from `offset`, as
/// big-endian words ([`DssCsum::add_sum`]'s input); None when the range
/// is not inside the payload.
pub(super) fn skb_sum(skb: &TcpSkb, offset: u32, len: u32) -> Option<u16> {
    // skb_checksum() sums 16-bit words in host order: fold, then convert.
    let w = skb.checksum(offset, len)?;
    let s = (w & 0xffff) + (w >> 16);
    let s = (s & 0xffff) + (s >> 16);
    Some(u16::from_be(s as u16))
}
