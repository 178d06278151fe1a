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
}
