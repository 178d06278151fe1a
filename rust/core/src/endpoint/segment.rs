// SPDX-License-Identifier: GPL-2.0

//! The receive path ([`Endpoint::on_segment`]: handshake, options, the
//! checksum and mapping walks, DATA_FIN) and the send path
//! ([`Endpoint::next_options`]: MP_CAPABLE, DSS, MP_FAIL, the infinite
//! mapping, MP_FASTCLOSE and MP_TCPRST) of the endpoint.

#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::arithmetic_side_effects
    )
)]

use super::{
    CloseError, Endpoint, Mib, MskState, Role, RxOutcome, RxSegment, SubflowMode, TxSegment,
    MAX_TCP_OPTION_SPACE, TCPHDR_ACK, TCPHDR_FIN, TCPHDR_RST, TCPHDR_SYN,
};
use crate::crypto;
use crate::csum::{self, CsumStep, CsumVerdict};
use crate::fail::{Carrier, FailOption};
use crate::handshake;
use crate::mapping::{expand_data_ack, expand_dsn, rx_step, walk_step, Mapping, RxStep, WalkStep};
use crate::options::{
    DataSeq, Dss, DssMapping, MpCapable, MpCapablePayload, MpFastclose, MpTcpRst, MptcpOption,
    MptcpOptions, ResetReason, MPTCP_CAP_CHECKSUM_REQD, TCPOPT_NOP,
};

/// The options of one received segment that the endpoint acts on (the
/// first of each kind; later ones are ignored).
#[derive(Debug, Clone, Copy, Default)]
struct Parsed {
    mpc: Option<MpCapable>,
    dss: Option<Dss>,
    fail: Option<u64>,
    fastclose: Option<u64>,
    rst: Option<MpTcpRst>,
    /// A DSS or MP_CAPABLE was present (mainline's test in
    /// `check_fully_established`).
    any_mptcp: bool,
}

impl Endpoint {
    // -----------------------------------------------------------------
    // Receive path
    // -----------------------------------------------------------------

    /// Processes one received segment; see [`RxOutcome`].
    pub fn on_segment(&mut self, seg: &RxSegment<'_>) -> RxOutcome {
        let mut out = RxOutcome::default();
        if seg.flags & TCPHDR_RST != 0 {
            self.on_rst(seg);
            out.dropped = true;
            return out;
        }
        if self.state == MskState::Closed && self.error.is_some() {
            out.dropped = true;
            return out;
        }
        if seg.flags & TCPHDR_SYN != 0 {
            self.on_syn(seg, &mut out);
            return out;
        }
        match self.state {
            MskState::Listen | MskState::SynSent => {
                // No SYN seen yet: nothing to attach this to.
                out.dropped = true;
                return out;
            }
            MskState::SynRecv => {
                if seg.flags & TCPHDR_ACK == 0 {
                    out.dropped = true;
                    return out;
                }
                if self.role == Role::Server {
                    self.third_ack(seg);
                }
                self.state = MskState::Established;
            }
            _ => {}
        }
        // In order? (Data-less segments carry no sequence space.)
        let mut payload = seg.payload;
        let mut seq = seg.seq;
        let mut fin = seg.flags & TCPHDR_FIN != 0;
        if !payload.is_empty() || fin {
            if crate::seq::after(seq, self.rcv_nxt) {
                out.dropped = true;
                return out;
            }
            // Octets (and a FIN) TCP already had are trimmed.
            let skip = usize::try_from(self.rcv_nxt.wrapping_sub(seq)).unwrap_or(usize::MAX);
            fin &= skip <= payload.len();
            payload = payload.get(skip..).unwrap_or(&[]);
            seq = self.rcv_nxt;
        }
        let base = seg.payload.len().saturating_sub(payload.len());
        let len32 = u32::try_from(payload.len()).unwrap_or(u32::MAX);
        if self.mode == SubflowMode::Fallback {
            self.deliver_fallback(base, payload.len(), &mut out);
        } else if self.mptcp_running() {
            let p = self.parse(seg.options);
            if self.on_mptcp_options(seg, &p, &mut out) {
                // The connection was reset by these options.
                return out;
            }
            let rel = seq.wrapping_sub(self.isn_remote);
            let new_map = self.rx_mapping(&p, !payload.is_empty());
            self.csum_walk(payload, rel, new_map, &mut out);
            let walk_map = new_map.map(|(m, _)| Mapping::new(m.dsn, m.ssn, m.data_len(), false));
            if self
                .data_walk(payload, base, rel, walk_map, &mut out)
                .is_err()
            {
                self.corrupt(&mut out);
                return out;
            }
        } else {
            // Handshake mode past the SYN: cannot happen (the third ACK
            // decided); drop rather than guess.
            out.dropped = true;
            return out;
        }
        self.rcv_nxt = self.rcv_nxt.wrapping_add(len32);
        if fin {
            self.rcv_nxt = self.rcv_nxt.wrapping_add(1);
            if self.mode == SubflowMode::Fallback {
                // After fallback the TCP FIN is the DATA_FIN.
                self.fin_rx.set(self.rcv_dsn);
            }
        }
        self.check_data_fin(&mut out);
        if self.fail.wants_ack() {
            out.send_ack = true;
        }
        out
    }

    fn on_rst(&mut self, seg: &RxSegment<'_>) {
        if matches!(self.state, MskState::Closed | MskState::Listen) {
            return;
        }
        // Mainline's tcp_reset() parses the options: the reason is kept
        // and MP_FASTCLOSE counted; MP_FAIL is never acted on here.
        if self.mptcp_running() {
            let p = self.parse(seg.options);
            if p.fastclose == Some(self.local_key) {
                self.counters.inc(Mib::MPFastcloseRx);
            }
            if let Some(r) = p.rst {
                self.counters.inc(Mib::MPRstRx);
                self.peer_reset_reason = Some(r.reason);
            }
            if p.fail.is_some() {
                self.counters.inc(Mib::MPFailRx);
            }
        }
        self.close_with(CloseError::PeerReset);
    }

    fn on_syn(&mut self, seg: &RxSegment<'_>, out: &mut RxOutcome) {
        let ack = seg.flags & TCPHDR_ACK != 0;
        match (self.role, self.state, ack) {
            (Role::Server, MskState::Listen, false) => {
                self.isn_remote = seg.seq;
                self.rcv_nxt = seg.seq.wrapping_add(1);
                self.state = MskState::SynRecv;
                match handshake::syn(self.parse(seg.options).mpc.as_ref()) {
                    Some(peer_csum) => {
                        self.counters.inc(Mib::MPCapableSYNRX);
                        self.peer_csum = peer_csum;
                        self.csum = self.cfg.checksum || self.peer_csum;
                    }
                    // A plain TCP client: no MPTCP, nothing counted.
                    None => self.fallback(None),
                }
            }
            (Role::Client, MskState::SynSent, true) => {
                self.isn_remote = seg.seq;
                self.rcv_nxt = seg.seq.wrapping_add(1);
                self.state = MskState::Established;
                if self.mode != SubflowMode::Handshake {
                    return;
                }
                match handshake::synack(self.parse(seg.options).mpc.as_ref()) {
                    Some(peer) => {
                        self.counters.inc(Mib::MPCapableSYNACKRX);
                        self.peer_csum = peer.csum;
                        self.csum = self.cfg.checksum || self.peer_csum;
                        self.set_remote_key(peer.key);
                        self.mode = SubflowMode::PreEstablished;
                    }
                    None => self.fallback(Some(Mib::MPCapableFallbackSYNACK)),
                }
            }
            (Role::Client, MskState::SynSent, false) => {
                // Our SYN crossed the peer's: TCP answers with a SYN-ACK,
                // where MP_CAPABLE cannot complete (see next_options).
                self.isn_remote = seg.seq;
                self.rcv_nxt = seg.seq.wrapping_add(1);
                self.state = MskState::SynRecv;
            }
            (Role::Client, MskState::SynRecv, true) => {
                // The peer's SYN-ACK of a simultaneous open: plain TCP.
                self.state = MskState::Established;
            }
            _ => out.dropped = true,
        }
    }

    fn set_remote_key(&mut self, key: u64) {
        self.remote_key = key;
        self.idsn_remote = crypto::token_and_idsn(key).1;
        self.rcv_dsn = self.idsn_remote.wrapping_add(1);
    }

    /// Server: the third ACK decides MPTCP or fallback.
    fn third_ack(&mut self, seg: &RxSegment<'_>) {
        if self.mode != SubflowMode::Handshake {
            return;
        }
        // The echoed key is compared, as the glue does (see
        // `handshake::third_ack`).
        let mpc = self.parse(seg.options).mpc;
        match handshake::third_ack(mpc.as_ref(), self.local_key) {
            Some(peer) => {
                self.counters.inc(Mib::MPCapableACKRX);
                self.csum |= peer.csum;
                self.set_remote_key(peer.key);
                self.mode = SubflowMode::FullyEstablished;
            }
            None => self.fallback(Some(Mib::MPCapableFallbackACK)),
        }
    }

    fn parse(&mut self, area: &[u8]) -> Parsed {
        let mut p = Parsed::default();
        for o in MptcpOptions::new(area) {
            match o {
                Ok(MptcpOption::MpCapable(m)) => {
                    p.any_mptcp = true;
                    p.mpc.get_or_insert(m);
                }
                Ok(MptcpOption::Dss(d)) => {
                    p.any_mptcp = true;
                    p.dss.get_or_insert(d);
                }
                Ok(MptcpOption::MpFail(f)) => {
                    p.fail.get_or_insert(f.dsn);
                }
                Ok(MptcpOption::MpFastclose(f)) => {
                    p.fastclose.get_or_insert(f.receiver_key);
                }
                Ok(MptcpOption::MpTcpRst(r)) => {
                    p.rst.get_or_insert(r);
                }
                // Other subtypes mean nothing on one subflow.
                Ok(_) => {}
                Err(_) => {
                    self.counters.malformed_options =
                        self.counters.malformed_options.saturating_add(1);
                }
            }
        }
        p
    }

    /// Acts on the control options of an in-order segment while MPTCP
    /// runs; returns true when the connection was reset.
    fn on_mptcp_options(&mut self, seg: &RxSegment<'_>, p: &Parsed, out: &mut RxOutcome) -> bool {
        if self.mode == SubflowMode::PreEstablished {
            if p.dss.is_some_and(|d| d.data_ack.is_some()) {
                // The peer DATA_ACKs: it has our key.
                self.mode = SubflowMode::FullyEstablished;
            } else if !p.any_mptcp && seg.seq == self.isn_remote.wrapping_add(1) {
                // The server's first segment after the SYN-ACK lost its
                // options (mainline check_fully_established()).
                self.fallback(Some(Mib::MPCapableDataFallback));
                return false;
            }
        }
        if let Some(key) = p.fastclose {
            if key == self.local_key {
                // RFC 8684 §3.5: reset; mainline answers with a RST that
                // carries MP_TCPRST.
                self.counters.inc(Mib::MPFastcloseRx);
                self.close_with(CloseError::Fastclosed);
                out.send_rst = true;
                return true;
            }
        }
        if let Some(r) = p.rst {
            self.counters.inc(Mib::MPRstRx);
            self.peer_reset_reason = Some(r.reason);
        }
        if let Some(dsn) = p.fail {
            self.counters.inc(Mib::MPFailRx);
            // Our data failed the peer's checksum: answer with MP_FAIL, then
            // the infinite mapping on new data, and fall back (§3.7,
            // `crate::fail`); or the peer answers ours.  Only where checksums
            // are in use, else nothing could have failed.  (A RST's options
            // never get here: `on_rst`.)
            self.fail.received(dsn, self.csum, false);
        }
        if let Some(ack) = p.dss.and_then(|d| d.data_ack) {
            self.on_data_ack(ack);
        }
        false
    }

    fn on_data_ack(&mut self, ack: DataSeq) {
        let max = self.snd_nxt.wrapping_add(u64::from(self.fin_tx.is_sent()));
        let new = expand_data_ack(self.snd_una, max, ack.value(), ack.is_64bit());
        if crate::seq::after64(new, self.snd_una) {
            self.snd_una = new;
        }
        if self.fin_tx.on_data_ack(self.snd_una) {
            self.state = match self.state {
                MskState::FinWait1 => MskState::FinWait2,
                MskState::Closing | MskState::LastAck => MskState::Closed,
                other => other,
            };
        }
    }

    /// The mapping the segment brings for its payload, with its checksum:
    /// from a DSS, or implicit in MP_CAPABLE with data (§3.1). Records a
    /// DATA_FIN, sets the DATA_ACK width, and falls back on the infinite
    /// mapping. Zero-payload mappings (DATA_FIN only) are not returned.
    fn rx_mapping(&mut self, p: &Parsed, has_payload: bool) -> Option<(Mapping, u16)> {
        if let Some(MpCapable {
            payload:
                MpCapablePayload::AckData {
                    data_len, checksum, ..
                },
            ..
        }) = p.mpc
        {
            if self.role == Role::Server {
                if data_len == 0 {
                    // MP_CAPABLE cannot carry the infinite mapping: mainline
                    // finds the mapping invalid and falls back.
                    self.counters.inc(Mib::InfiniteMapRx);
                    self.fallback(Some(Mib::DssFallback));
                    return None;
                }
                self.ack64 = true;
                if checksum.is_some() != self.csum {
                    self.counters.malformed_options =
                        self.counters.malformed_options.saturating_add(1);
                } else if has_payload {
                    let m = Mapping::new(self.idsn_remote.wrapping_add(1), 1, data_len, false);
                    return Some((m, checksum.unwrap_or(0)));
                }
            }
        }
        let m = p.dss.and_then(|d| d.mapping)?;
        if m.checksum.is_some() != self.csum {
            self.counters.malformed_options = self.counters.malformed_options.saturating_add(1);
            return None;
        }
        if m.data_len == 0 {
            // The infinite mapping: the peer fell back (§3.7).
            self.counters.inc(Mib::InfiniteMapRx);
            self.fallback(Some(Mib::DssFallback));
            return None;
        }
        let map = Mapping::new(
            expand_dsn(self.rcv_dsn, m.dsn.value(), m.dsn.is_64bit()),
            m.ssn,
            m.data_len,
            m.data_fin,
        );
        self.ack64 = m.dsn.is_64bit();
        if let Some(fin) = map.data_fin_dsn() {
            self.fin_rx.announce(fin, self.rcv_dsn);
        }
        (has_payload && map.data_len() > 0).then_some((map, m.checksum.unwrap_or(0)))
    }

    fn csum_active(&self) -> bool {
        self.csum && self.mptcp_running() && self.fail.checking()
    }

    /// Checksums the in-order `payload` (at relative sequence number
    /// `rel`) mapping by mapping with the walk the kernel uses
    /// ([`CsumWalk`]); `new` is the segment's own mapping.
    fn csum_walk(
        &mut self,
        payload: &[u8],
        rel: u32,
        new: Option<(Mapping, u16)>,
        out: &mut RxOutcome,
    ) {
        let n = u32::try_from(payload.len()).unwrap_or(u32::MAX);
        let mut p = 0u32;
        while p < n && self.csum_active() {
            let left = n.saturating_sub(p);
            match self.csum_walk.step(new, rel.wrapping_add(p), left) {
                CsumStep::Sum(k) => {
                    let from = usize::try_from(p).unwrap_or(usize::MAX);
                    let to = usize::try_from(p.saturating_add(k)).unwrap_or(usize::MAX);
                    let verdict = self
                        .csum_walk
                        .add_bytes(payload.get(from..to).unwrap_or(&[]));
                    p = p.saturating_add(k);
                    match verdict {
                        CsumVerdict::Good => self.fail.checksum_ok(),
                        CsumVerdict::Bad(dsn) => {
                            self.counters.inc(Mib::DataCsumErr);
                            self.csum_failed(dsn, out);
                        }
                        CsumVerdict::Pending => {}
                    }
                }
                CsumStep::Skip(k) => p = p.saturating_add(k),
                CsumStep::Stop => return,
            }
        }
    }

    /// A mapping failed its checksum on our only subflow: MP_FAIL goes out
    /// on an ACK; the data is delivered as received (mainline does too) and
    /// the peer's infinite mapping completes the fallback (§3.7).  Before
    /// any checksum passed: fallback at once, without MP_FAIL.
    fn csum_failed(&mut self, dsn: u64, out: &mut RxOutcome) {
        self.csum_walk.reset();
        if self.fail.checksum_failed(dsn) {
            out.send_ack = true;
        } else {
            self.fallback(Some(Mib::DssFallback));
        }
    }

    /// Hands the in-order `payload` (at relative sequence number `rel`,
    /// offset `base` in the segment) to the application, mapping by
    /// mapping ([`rx_step`], the kernel walk's rule). `new` is the
    /// segment's own mapping (payload only). An invalid mapping falls back
    /// (one subflow: always allowed) and the rest is plain TCP data.
    fn data_walk(
        &mut self,
        payload: &[u8],
        base: usize,
        rel: u32,
        new: Option<Mapping>,
        out: &mut RxOutcome,
    ) -> Result<(), ()> {
        let n = u32::try_from(payload.len()).unwrap_or(u32::MAX);
        let at = |x: u32| base.saturating_add(usize::try_from(x).unwrap_or(usize::MAX));
        let mut p = 0u32;
        while p < n {
            if self.mode == SubflowMode::Fallback {
                out.push(at(p), at(n));
                self.rcv_dsn = self.rcv_dsn.wrapping_add(u64::from(n.wrapping_sub(p)));
                return Ok(());
            }
            let ssn = rel.wrapping_add(p);
            // The segment's own mapping counts once (mainline drops the
            // skb's extension once it took its mapping), as the glue's walk.
            let own = new.filter(|k| p == 0 || self.rx_map != Some(*k));
            let (map, left) = match rx_step(self.rx_map, own, ssn, n.wrapping_sub(p)) {
                RxStep::Use { map, left, .. } => (map, left.min(n.wrapping_sub(p))),
                RxStep::NotMatching => {
                    self.counters.inc(Mib::DSSNotMatching);
                    self.fallback(Some(Mib::DssFallback));
                    continue;
                }
                RxStep::Uncovered { tcp_mismatch } => {
                    if tcp_mismatch {
                        self.counters.inc(Mib::DSSNoMatchTCP);
                    }
                    // E.g. the peer stopped mapping (options vanish).
                    self.fallback(Some(Mib::DssFallback));
                    continue;
                }
            };
            self.rx_map = Some(map);
            let dsn = map.dsn_of(ssn).unwrap_or(map.dsn);
            let want = self.rcv_dsn;
            match walk_step(dsn, want, left) {
                WalkStep::Deliver => {
                    out.push(at(p), at(p.saturating_add(left)));
                    self.rcv_dsn = want.wrapping_add(u64::from(left));
                    p = p.saturating_add(left);
                }
                WalkStep::Duplicate(dup) => {
                    self.counters.inc(Mib::DuplicateData);
                    p = p.saturating_add(dup);
                }
                // Octets the only subflow never carried are missing.
                WalkStep::Ahead => return Err(()),
            }
        }
        Ok(())
    }

    fn deliver_fallback(&mut self, base: usize, len: usize, out: &mut RxOutcome) {
        out.push(base, base.saturating_add(len));
        let len = u64::try_from(len).unwrap_or(u64::MAX);
        self.rcv_dsn = self.rcv_dsn.wrapping_add(len);
    }

    /// Resets the connection for a mapping ahead of the stream: MP_TCPRST
    /// "MPTCP-specific error", `DSSCorruptionReset` (the glue's choice for
    /// one subflow; mainline would queue it out of order).
    fn corrupt(&mut self, out: &mut RxOutcome) {
        self.counters.inc(Mib::DSSCorruptionReset);
        self.reset_reason = ResetReason::MptcpSpecific;
        self.close_with(CloseError::Corrupt);
        out.send_rst = true;
    }

    /// Takes the peer's DATA_FIN when the stream reaches exactly its DSN
    /// (mainline `mptcp_pending_data_fin`/`mptcp_check_data_fin`).
    fn check_data_fin(&mut self, out: &mut RxOutcome) {
        if !self.fin_rx.reached_at(self.rcv_dsn) {
            return;
        }
        let next = match self.state {
            MskState::Established => MskState::CloseWait,
            MskState::FinWait1 => MskState::Closing,
            MskState::FinWait2 => MskState::Closed,
            _ => return,
        };
        self.fin_rx.reach(self.rcv_dsn);
        self.fin_rx_first = !self.fin_tx.is_queued();
        self.state = next;
        out.eof = true;
        out.send_ack = self.mptcp_running();
    }

    // -----------------------------------------------------------------
    // Send path
    // -----------------------------------------------------------------

    /// Writes the MPTCP options of `seg` (about to be sent for the first
    /// time) into `out`, at most `room` octets, NOP-padded to a multiple of
    /// 4; returns their length (0: none).
    pub fn next_options(&mut self, seg: &TxSegment<'_>, room: usize, out: &mut [u8]) -> usize {
        let room = room.min(out.len()).min(MAX_TCP_OPTION_SPACE);
        let syn = seg.flags & TCPHDR_SYN != 0;
        let ack = seg.flags & TCPHDR_ACK != 0;
        if seg.flags & TCPHDR_RST != 0 {
            return self.rst_options(room, out);
        }
        if syn {
            self.isn_local = seg.seq;
            return self.syn_options(ack, room, out);
        }
        if seg.flags & TCPHDR_FIN != 0 {
            self.tcp_fin_sent = true;
            if self.mode == SubflowMode::Fallback {
                // Mainline simulates the DATA_FIN's ack when the fallen
                // back subflow sends its FIN.
                self.state = match self.state {
                    MskState::FinWait1 => MskState::FinWait2,
                    MskState::Closing | MskState::LastAck => MskState::Closed,
                    other => other,
                };
            }
        }
        if !self.mptcp_running() || self.error.is_some() {
            return 0;
        }
        // (A TCP retransmission repeats its recorded options: it does not
        // come here.)
        let carrier = if seg.payload.is_empty() {
            Carrier::Ack
        } else {
            Carrier::NewData
        };
        if let Some(n) = self.control_options(carrier, room, out) {
            return n;
        }
        let map = self.tx_mapping(seg);
        let first = self.idsn_local.wrapping_add(1);
        let opt = match map {
            Some(m)
                if self.mode == SubflowMode::PreEstablished
                    && m.ssn == 1
                    && m.dsn == DataSeq::Bits64(first)
                    && !m.data_fin =>
            {
                // Until the server confirms our key, the first data carries
                // MP_CAPABLE with both keys and its data-level length.
                self.mpc(MpCapablePayload::AckData {
                    sender_key: self.local_key,
                    receiver_key: self.remote_key,
                    data_len: m.data_len,
                    checksum: m.checksum,
                })
            }
            None if self.mode == SubflowMode::PreEstablished
                && seg.seq == self.isn_local.wrapping_add(1) =>
            {
                // The third ACK (and ACKs at its sequence number).
                self.mpc(MpCapablePayload::Ack {
                    sender_key: self.local_key,
                    receiver_key: self.remote_key,
                })
            }
            mapping => MptcpOption::Dss(Dss {
                data_ack: Some(self.data_ack_opt()),
                mapping,
            }),
        };
        if let Some(n) = put(&[opt], room, out) {
            if let Some(m) = &map {
                self.fin_tx.on_mapping_sent(m);
            }
            return n;
        }
        // No room for the mapping: at least the DATA_ACK (the peer then
        // treats the payload as unmapped).
        let ack_only = MptcpOption::Dss(Dss {
            data_ack: Some(self.data_ack_opt()),
            mapping: None,
        });
        put(&[ack_only], room, out).unwrap_or(0)
    }

    fn mpc(&self, payload: MpCapablePayload) -> MptcpOption<'static> {
        let a = if self.csum {
            MPTCP_CAP_CHECKSUM_REQD
        } else {
            0
        };
        MptcpOption::MpCapable(MpCapable::new(payload, a))
    }

    fn data_ack_opt(&self) -> DataSeq {
        let ack = self.data_ack();
        if self.ack64 {
            DataSeq::Bits64(ack)
        } else {
            DataSeq::Bits32(ack as u32)
        }
    }

    fn syn_options(&mut self, ack: bool, room: usize, out: &mut [u8]) -> usize {
        match (self.role, ack) {
            (Role::Client, false) if self.mode == SubflowMode::Handshake => {
                let n = put(&[self.mpc(MpCapablePayload::Syn)], room, out);
                if n.is_some() {
                    self.counters.inc(Mib::MPCapableSYNTX);
                }
                n.unwrap_or(0)
            }
            (Role::Client, true) => {
                // Simultaneous open: TCP answers the crossed SYN with a
                // SYN-ACK, where MP_CAPABLE cannot complete (mainline
                // mptcp_syn_options()).
                if self.mode == SubflowMode::Handshake {
                    self.fallback(Some(Mib::SimultConnectFallback));
                }
                0
            }
            (Role::Server, true) if self.mode == SubflowMode::Handshake => {
                let opt = self.mpc(MpCapablePayload::SynAck {
                    sender_key: self.local_key,
                });
                put(&[opt], room, out).unwrap_or(0)
            }
            _ => 0,
        }
    }

    fn rst_options(&mut self, room: usize, out: &mut [u8]) -> usize {
        if !self.mptcp_running() || self.rst_sent {
            return 0;
        }
        self.rst_sent = true;
        let rst = MptcpOption::MpTcpRst(MpTcpRst::new(false, self.reset_reason));
        let fc = MptcpOption::MpFastclose(MpFastclose {
            receiver_key: self.remote_key,
        });
        if self.fastclose_tx {
            if let Some(n) = put(&[fc, rst], room, out) {
                self.counters.inc(Mib::MPFastcloseTx);
                self.counters.inc(Mib::MPRstTx);
                return n;
            }
        }
        match put(&[rst], room, out) {
            Some(n) => {
                self.counters.inc(Mib::MPRstTx);
                n
            }
            None => 0,
        }
    }

    /// MP_FAIL, or the infinite mapping answering the peer's MP_FAIL.
    fn control_options(&mut self, seg: Carrier, room: usize, out: &mut [u8]) -> Option<usize> {
        let opt = self.fail.pending(seg)?;
        let (list, k) = opt.options(self.data_ack_opt(), self.csum);
        let n = put(list.get(..k)?, room, out)?;
        self.counters.inc(match opt {
            FailOption::MpFail(_) => Mib::MPFailTx,
            FailOption::InfiniteMapping(_) => Mib::InfiniteMapTx,
        });
        if self.fail.written() {
            self.fallback(None);
        }
        Some(n)
    }

    /// The mapping of an outgoing segment (payload, or a data-less
    /// DATA_FIN), updating the send-side sequence state.
    fn tx_mapping(&mut self, seg: &TxSegment<'_>) -> Option<DssMapping> {
        let Ok(len) = u16::try_from(seg.payload.len()) else {
            // More than one mapping can cover: the caller's contract.
            return None;
        };
        if len == 0 {
            return self.tx_data_fin_only();
        }
        let rel32 = seg.seq.wrapping_sub(self.isn_local);
        let rel = crate::seq::expand_seq(self.snd_rel_nxt, u64::from(rel32));
        let end_rel = rel.wrapping_add(u64::from(len));
        let first_tx = rel == self.snd_rel_nxt;
        let dsn = match seg.dsn {
            Some(d) => {
                if first_tx {
                    // These subflow octets carry no new DSN.
                    self.tx_off = self.tx_off.wrapping_sub(u64::from(len));
                }
                d
            }
            None => self.idsn_local.wrapping_add(rel).wrapping_add(self.tx_off),
        };
        if first_tx {
            self.snd_rel_nxt = end_rel;
        }
        let end = dsn.wrapping_add(u64::from(len));
        if seg.dsn.is_none() {
            if crate::seq::after64(end, self.snd_nxt) {
                self.snd_nxt = end;
            }
            if crate::seq::after64(end, self.write_seq) {
                self.write_seq = end;
            }
        }
        // The DATA_FIN rides on the segment that ends the data
        // (mainline mptcp_write_data_fin()).
        let data_fin = seg.dsn.is_none() && self.fin_tx.rides_on(end, len);
        let data_len = if data_fin { len.saturating_add(1) } else { len };
        Some(DssMapping {
            dsn: DataSeq::Bits64(dsn),
            ssn: rel32,
            data_len,
            checksum: self
                .csum
                .then(|| csum::dss_checksum(dsn, rel32, data_len, seg.payload)),
            data_fin,
        })
    }

    /// A data-less segment carries the DATA_FIN (SSN 0, data-level length
    /// 1) while it is unacknowledged and all data is out.
    fn tx_data_fin_only(&mut self) -> Option<DssMapping> {
        let fin = self.fin_tx.alone(self.fin_tx.dsn() == Some(self.snd_nxt))?;
        Some(DssMapping {
            dsn: DataSeq::Bits64(fin),
            ssn: 0,
            data_len: 1,
            checksum: self.csum.then(|| csum::dss_checksum(fin, 0, 1, &[])),
            data_fin: true,
        })
    }
}

/// Encodes `list` back to back into `out`, NOP-padded to 32 bits; None if
/// it does not fit `room`.
fn put(list: &[MptcpOption<'_>], room: usize, out: &mut [u8]) -> Option<usize> {
    let room = room.min(out.len());
    let mut n = 0usize;
    for opt in list {
        let dst = out.get_mut(n..room)?;
        n = n.checked_add(opt.encode(dst).ok()?)?;
    }
    let padded = n.checked_add(3)? & !3;
    if padded > room {
        return None;
    }
    out.get_mut(n..padded)?.fill(TCPOPT_NOP);
    Some(padded)
}
