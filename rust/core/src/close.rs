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
}
