// SPDX-License-Identifier: GPL-2.0

//! The connection close states of RFC 8684 §3.3.3 (mainline's msk
//! states) and how they follow from the DATA_FIN facts, shared by the core
//! endpoint (whose event-driven state machine must agree with
//! [`state_of`], checked by the pair harness) and the glue (which keeps
//! the facts per subflow and derives the state `ss -M` and `MPTCP_INFO`
//! show).
//!
//! This file only uses `core` and is included by `#[path]` into the kernel
//! module, so it must stay self-contained.

#![forbid(unsafe_code)]

/// Connection-level (msk) state: the data-level analogue of TCP's states
/// (RFC 8684 §3.3.3). As mainline's msk, there is no data-level TIME_WAIT:
/// FIN_WAIT2 and CLOSING go to CLOSED (the subflow keeps TCP's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MskState {
    /// Closed: never opened, done, reset or aborted (see `Endpoint::error`).
    Closed,
    /// A server waiting for the SYN.
    Listen,
    /// A client whose SYN is (to be) sent.
    SynSent,
    /// SYN received, handshake not complete.
    SynRecv,
    /// Open both ways.
    Established,
    /// We closed; our DATA_FIN is not acknowledged yet.
    FinWait1,
    /// We closed and our DATA_FIN is acknowledged; the peer's is awaited.
    FinWait2,
    /// Both closed at once; our DATA_FIN is not acknowledged yet.
    Closing,
    /// The peer closed; we may still send.
    CloseWait,
    /// The peer closed, then we did; our DATA_FIN is not acknowledged yet.
    LastAck,
}

/// What is known of the two DATA_FINs of an established connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DataFins {
    /// We queued our DATA_FIN (shutdown or close).
    pub tx: bool,
    /// The peer's DATA_ACK covers it.
    pub tx_acked: bool,
    /// The peer's DATA_FIN is in order (our receive side is closed).
    pub rx: bool,
    /// The peer's DATA_FIN was in order before we queued ours.
    pub rx_first: bool,
}

/// The close state of an established connection with these facts:
/// ESTABLISHED, FIN_WAIT1 until our DATA_FIN is acked, FIN_WAIT2,
/// CLOSE_WAIT after the peer's, LAST_ACK (the peer's first) or CLOSING
/// (both before either arrived) until ours is acked, CLOSED when both are
/// done.  As mainline's msk there is no data-level TIME_WAIT.
#[must_use]
pub const fn state_of(f: DataFins) -> MskState {
    match (f.tx, f.tx_acked, f.rx) {
        (false, _, false) => MskState::Established,
        (false, _, true) => MskState::CloseWait,
        (true, false, false) => MskState::FinWait1,
        (true, true, false) => MskState::FinWait2,
        (true, false, true) if f.rx_first => MskState::LastAck,
        (true, false, true) => MskState::Closing,
        (true, true, true) => MskState::Closed,
    }
}

/// The peer's DATA_FIN as the receive side tracks it (RFC 8684 §3.3.3):
/// announced by a mapping, reached when the stream gets exactly to its DSN
/// (mainline's `mptcp_pending_data_fin()`).  One rule for the kernel glue
/// and the core endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeerDataFin {
    dsn: Option<u64>,
    done: bool,
}

impl PeerDataFin {
    /// None announced.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            dsn: None,
            done: false,
        }
    }

    /// A mapping announces the DATA_FIN at `fin` while the stream expects
    /// `next`.  The first announcement holds until reached (as mainline),
    /// unless it lies behind `next`: such a one can never be reached, and
    /// a later one replaces it.  True if `fin` is now the one awaited.
    pub fn announce(&mut self, fin: u64, next: u64) -> bool {
        let stale = !self.done && self.dsn.is_some_and(|f| crate::seq::before64(f, next));
        if self.dsn.is_none() || stale {
            self.dsn = Some(fin);
            true
        } else {
            false
        }
    }

    /// After fallback the TCP FIN is the DATA_FIN: it is at `dsn`.
    pub fn set(&mut self, dsn: u64) {
        self.dsn = Some(dsn);
    }

    /// Whether the stream, now expecting `next`, reaches the DATA_FIN
    /// (announced, not yet reached, and exactly at `next`: one behind the
    /// data would otherwise cut the stream).
    #[must_use]
    pub fn reached_at(&self, next: u64) -> bool {
        !self.done && self.dsn == Some(next)
    }

    /// [`PeerDataFin::reached_at`], and if so marks it reached.
    pub fn reach(&mut self, next: u64) -> bool {
        let r = self.reached_at(next);
        self.done |= r;
        r
    }

    /// Announced and not reached yet.
    #[must_use]
    pub const fn is_pending(&self) -> bool {
        self.dsn.is_some() && !self.done
    }

    /// Reached: the receive side is closed.
    #[must_use]
    pub const fn is_done(&self) -> bool {
        self.done
    }

    /// The DSN of the one awaited or reached.
    #[must_use]
    pub const fn dsn(&self) -> Option<u64> {
        self.dsn
    }

    /// Our DATA_ACK once it is reached: the DATA_FIN takes a DSN.
    #[must_use]
    pub const fn ack(&self) -> Option<u64> {
        match (self.done, self.dsn) {
            (true, Some(f)) => Some(f.wrapping_add(1)),
            _ => None,
        }
    }
}

/// Our DATA_FIN as the send side tracks it (RFC 8684 §3.3.3): queued at
/// shutdown at the DSN after our last data octet; it rides on the segment
/// whose mapping ends there, or goes alone on a segment without data once
/// all data is sent (mainline's `mptcp_write_data_fin()`); acked by a
/// DATA_ACK exactly one past it, once it was written into a segment
/// (mainline ignores a DATA_ACK beyond its `snd_nxt`, which passes the
/// DATA_FIN only once it is to be sent; "written" is a little stricter).
/// One rule for the kernel glue, the core endpoint and the send queue
/// ([`crate::sendq`]).  Building the mapping (the DATA_FIN-only SSN 0,
/// a checksum recomputed over the data it rides on) is the caller's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LocalDataFin {
    dsn: Option<u64>,
    sent: bool,
    acked: bool,
}

impl LocalDataFin {
    /// None queued.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            dsn: None,
            sent: false,
            acked: false,
        }
    }

    /// Shutdown of the send side: the DATA_FIN takes `dsn`, the DSN after
    /// the last data octet.  The first one holds.
    pub fn queue(&mut self, dsn: u64) {
        if self.dsn.is_none() {
            self.dsn = Some(dsn);
        }
    }

    /// Its DSN, once queued.
    #[must_use]
    pub const fn dsn(&self) -> Option<u64> {
        self.dsn
    }

    /// Queued (the send side is shut down).
    #[must_use]
    pub const fn is_queued(&self) -> bool {
        self.dsn.is_some()
    }

    /// On the wire at least once.
    #[must_use]
    pub const fn is_sent(&self) -> bool {
        self.sent
    }

    /// Acknowledged by the peer's DATA_ACK.
    #[must_use]
    pub const fn is_acked(&self) -> bool {
        self.acked
    }

    /// Its DSN while it still has to go out (queued, not acked): every
    /// segment that can carry it does, until the peer acks it.
    #[must_use]
    pub const fn pending(&self) -> Option<u64> {
        match self.dsn {
            Some(f) if !self.acked => Some(f),
            _ => None,
        }
    }

    /// Whether it rides on a mapping of `data_len` data octets ending just
    /// before `end`: it is pending at `end`, and one more octet of
    /// data-level length still fits the 16-bit field.
    #[must_use]
    pub const fn rides_on(&self, end: u64, data_len: u16) -> bool {
        matches!(self.pending(), Some(f) if f == end) && data_len < u16::MAX
    }

    /// Its DSN if it goes alone (SSN 0, data-level length 1) on a segment
    /// without data: pending, and `all_sent` (no data waits before it).
    #[must_use]
    pub const fn alone(&self, all_sent: bool) -> Option<u64> {
        if all_sent {
            self.pending()
        } else {
            None
        }
    }

    /// A DATA_FIN at `fin` was written into a segment.
    pub fn on_sent(&mut self, fin: u64) {
        self.sent |= self.dsn == Some(fin);
    }

    /// The option written into a segment carried mapping `m`: if it brings
    /// our DATA_FIN (64-bit DSN, as we map), that is sent.
    pub fn on_mapping_sent(&mut self, m: &crate::options::DssMapping) {
        if let (true, crate::options::DataSeq::Bits64(dsn)) = (m.data_fin, m.dsn) {
            self.on_sent(dsn.wrapping_add(u64::from(m.data_len)).wrapping_sub(1));
        }
    }

    /// The peer's DATA_ACK, widened to `ack`: true when it acks the
    /// DATA_FIN now (exactly one past it, and the DATA_FIN was sent; an
    /// ack further on acks what we never sent and is ignored).
    pub fn on_data_ack(&mut self, ack: u64) -> bool {
        match self.dsn {
            Some(f) if self.sent && !self.acked && ack == f.wrapping_add(1) => {
                self.acked = true;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states() {
        let f = |tx, tx_acked, rx, rx_first| DataFins {
            tx,
            tx_acked,
            rx,
            rx_first,
        };
        assert_eq!(
            state_of(f(false, false, false, false)),
            MskState::Established
        );
        assert_eq!(state_of(f(false, false, true, true)), MskState::CloseWait);
        assert_eq!(state_of(f(true, false, false, false)), MskState::FinWait1);
        assert_eq!(state_of(f(true, true, false, false)), MskState::FinWait2);
        assert_eq!(state_of(f(true, false, true, true)), MskState::LastAck);
        assert_eq!(state_of(f(true, false, true, false)), MskState::Closing);
        assert_eq!(state_of(f(true, true, true, false)), MskState::Closed);
    }

    #[test]
    fn peer_data_fin() {
        let mut f = PeerDataFin::new();
        assert!(!f.reach(10));
        assert!(f.announce(20, 10));
        // The first holds while it can still be reached.
        assert!(!f.announce(30, 15));
        assert_eq!(f.dsn(), Some(20));
        assert!(f.is_pending());
        assert!(!f.reach(15));
        assert_eq!(f.ack(), None);
        // Behind the stream: a later one replaces it.
        let mut g = f;
        assert!(g.announce(40, 25));
        assert_eq!(g.dsn(), Some(40));
        assert!(f.reach(20));
        assert!(f.is_done() && !f.is_pending());
        assert_eq!(f.ack(), Some(21));
        // Once reached it stays, and is reached once.
        assert!(!f.announce(50, 30));
        assert!(!f.reach(20));
    }

    #[test]
    fn local_data_fin() {
        let mut f = LocalDataFin::new();
        assert_eq!(f.pending(), None);
        assert!(!f.rides_on(10, 5));
        f.queue(10);
        f.queue(20);
        assert_eq!(f.dsn(), Some(10));
        assert!(f.is_queued() && !f.is_sent());
        // Rides only on the mapping that ends at it, with room left.
        assert!(f.rides_on(10, 5));
        assert!(!f.rides_on(9, 5));
        assert!(!f.rides_on(10, u16::MAX));
        assert_eq!(f.alone(false), None);
        assert_eq!(f.alone(true), Some(10));
        // A DATA_ACK before it was sent does not ack it (mainline ignores
        // an ack beyond what it sent).
        assert!(!f.on_data_ack(11));
        f.on_sent(9);
        assert!(!f.is_sent());
        f.on_sent(10);
        assert!(f.is_sent());
        // Up to the DATA_FIN is not past it; beyond one past it acks what
        // was never sent.
        assert!(!f.on_data_ack(10));
        assert!(!f.on_data_ack(12));
        assert!(!f.is_acked());
        assert!(f.on_data_ack(11));
        assert!(f.is_acked());
        assert!(!f.on_data_ack(12));
        // Once acked it goes out no more.
        assert_eq!(f.pending(), None);
        assert_eq!(f.alone(true), None);
        assert!(!f.rides_on(10, 5));
    }

    #[test]
    fn local_data_fin_sent_by_mapping() {
        use crate::options::{DataSeq, DssMapping};
        let m = |dsn, data_len, data_fin| DssMapping {
            dsn: DataSeq::Bits64(dsn),
            ssn: 1,
            data_len,
            checksum: None,
            data_fin,
        };
        let mut f = LocalDataFin::new();
        f.queue(110);
        // Data only, or a DATA_FIN elsewhere: not ours.
        f.on_mapping_sent(&m(100, 10, false));
        f.on_mapping_sent(&m(100, 10, true));
        assert!(!f.is_sent());
        // Ten data octets and the DATA_FIN at 110.
        f.on_mapping_sent(&m(100, 11, true));
        assert!(f.is_sent());
        // The DATA_FIN alone (SSN 0, length 1).
        let mut g = LocalDataFin::new();
        g.queue(7);
        g.on_mapping_sent(&DssMapping {
            ssn: 0,
            ..m(7, 1, true)
        });
        assert!(g.is_sent() && g.on_data_ack(8));
    }
}
