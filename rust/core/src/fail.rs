// SPDX-License-Identifier: GPL-2.0

//! MP_FAIL and the infinite mapping on a connection's only subflow
//! (RFC 8684 §3.7): the exchange that ends MPTCP after a DSS checksum
//! failure while the data stream stays whole.
//!
//! A checksum that fails before any has passed means a middlebox that
//! changes payload from the start: the receiver falls back at once without
//! MP_FAIL, as when options are stripped (mainline sends MP_FAIL only once
//! `valid_csum_seen`; its peer falls back on our unmapped data).  Later,
//! the receiver of a mapping whose checksum fails sends MP_FAIL (the DSN
//! of that mapping) on an ACK, delivers the data as received and stops
//! checking checksums; it stays MPTCP until the peer's infinite mapping
//! arrives, then falls back (mainline: `subflow_check_data_avail` sets
//! `send_mp_fail` and waits, `get_mapping_status` falls back on the
//! infinite mapping).  The receiver of MP_FAIL answers at once with an
//! MP_FAIL of its own on an ACK (mainline's originator resets the subflow
//! when this answer does not come within `TCP_RTO_MAX`), then puts the
//! infinite mapping on its next segment with data and falls back once it
//! is written (mainline `mptcp_pm_mp_fail_received`,
//! `mptcp_update_infinite_map`: a mapping on a segment without data never
//! reaches mainline's `get_mapping_status`).  An MP_FAIL that answers ours
//! needs no answer.  Without checksums nothing can have failed, so a
//! received MP_FAIL is ignored; on a RST too.
//!
//! Both the kernel glue (`subflow/`) and the [`Endpoint`] keep one
//! [`MpFail`] per connection and carry out what it says.
//!
//! The detector waits for the answer at most [`ANSWER_TIMEOUT_MS`]
//! (mainline's fail timeout, `TCP_RTO_MAX`): with neither the peer's
//! MP_FAIL nor its infinite mapping by then, the caller resets the
//! connection ([`MpFail::awaiting_answer`]), as mainline's
//! `mptcp_mp_fail_no_response()` resets the subflow.
//!
//! Differences from mainline: the peer's infinite mapping ends the wait as
//! its MP_FAIL does (mainline keeps the fail timeout running when only the
//! answer's MP_FAIL is lost, and resets a connection that fell back); the
//! detector sends one MP_FAIL (mainline keeps checking and sends one per
//! failed mapping, so its `DataCsumErr`/`MPFailTx` can count more); in the
//! kernel glue a retransmission of the segment that carried the infinite
//! mapping carries no options (mainline repeats it from the skb
//! extension), so a peer that lost it falls back on the unmapped data
//! instead (`DssFallback` without `InfiniteMapRx`).
//!
//! [`Endpoint`]: crate::endpoint::Endpoint

use crate::options::{DataSeq, Dss, DssMapping, MptcpOption};

/// The MP_FAIL exchange of one connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MpFail {
    /// A mapping passed its checksum (mainline's `valid_csum_seen`).
    csum_seen: bool,
    /// MP_FAIL to send: the DSN of the failed mapping (ours, or the one
    /// the peer's MP_FAIL named, as the answer).
    fail_tx: Option<u64>,
    /// Our MP_FAIL is out: no more checksums; waiting for the peer's
    /// infinite mapping (or, answering, for data to carry ours).
    fail_sent: bool,
    /// The infinite mapping to send (from this DSN) on the next segment
    /// with data, after the MP_FAIL answer.
    infinite_tx: Option<u64>,
    /// We detected a checksum failure and the peer has not answered our
    /// MP_FAIL yet (neither its MP_FAIL nor its infinite mapping).
    answer_due: bool,
}

/// How long the detector of a checksum failure waits for the peer's
/// answer to its MP_FAIL before it resets the connection: mainline's fail
/// timeout, `TCP_RTO_MAX` (120 s).
pub const ANSWER_TIMEOUT_MS: u64 = 120_000;

/// What an outgoing segment carries, for [`MpFail::pending`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carrier {
    /// No payload (an ACK).
    Ack,
    /// Payload sent for the first time.
    NewData,
    /// Payload sent again (a TCP retransmission): it keeps its mapping.
    Retransmission,
}

/// A control option [`MpFail`] wants on the next segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOption {
    /// MP_FAIL with the DSN of the failed mapping (with a DATA_ACK).
    MpFail(u64),
    /// The infinite mapping (DSS, data-level length 0) from this DSN (with
    /// a DATA_ACK); the subflow is plain TCP once it is written.
    InfiniteMapping(u64),
}

impl FailOption {
    /// The options that carry it with our DATA_ACK `data_ack` (`csum`:
    /// checksums are in use, so the infinite mapping carries a zero one):
    /// the list and how many of its entries are used.
    #[must_use]
    pub fn options(self, data_ack: DataSeq, csum: bool) -> ([MptcpOption<'static>; 2], usize) {
        let ack = Dss {
            data_ack: Some(data_ack),
            mapping: None,
        };
        match self {
            Self::MpFail(dsn) => (
                [
                    MptcpOption::MpFail(crate::options::MpFail { dsn }),
                    MptcpOption::Dss(ack),
                ],
                2,
            ),
            Self::InfiniteMapping(dsn) => {
                let infinite = DssMapping {
                    dsn: DataSeq::Bits64(dsn),
                    ssn: 0,
                    data_len: 0,
                    checksum: csum.then_some(0),
                    data_fin: false,
                };
                let opt = MptcpOption::Dss(Dss {
                    mapping: Some(infinite),
                    ..ack
                });
                ([opt, opt], 1)
            }
        }
    }
}

impl MpFail {
    /// No failure.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            csum_seen: false,
            fail_tx: None,
            fail_sent: false,
            infinite_tx: None,
            answer_due: false,
        }
    }

    /// Whether received payload is still checksummed: not once a checksum
    /// failed (the data is delivered as received from then on).
    #[must_use]
    pub const fn checking(&self) -> bool {
        self.fail_tx.is_none() && !self.fail_sent
    }

    /// A mapping passed its checksum.
    pub fn checksum_ok(&mut self) {
        self.csum_seen = true;
    }

    /// The mapping of DSN `dsn` failed its checksum.  Returns true when
    /// MP_FAIL is to go out (the caller sends an ACK: [`Self::wants_ack`]),
    /// false when the connection falls back to TCP at once (no checksum
    /// has passed yet; mainline counts `DSSFallback`).  Only the first
    /// failure counts.
    pub fn checksum_failed(&mut self, dsn: u64) -> bool {
        if !self.csum_seen {
            return false;
        }
        if self.checking() {
            self.fail_tx = Some(dsn);
            self.answer_due = true;
        }
        true
    }

    /// The peer sent MP_FAIL for `dsn`; `csum` says whether checksums are
    /// in use, `rst` whether it came on a RST.  Returns true when our
    /// answer is to go out (the caller sends an ACK, [`Self::wants_ack`]).
    ///
    /// While we answer (the infinite mapping not yet out), every further
    /// MP_FAIL is answered too: a mainline peer sends one per failed
    /// mapping and resets the subflow when one goes unanswered.
    pub fn received(&mut self, dsn: u64, csum: bool, rst: bool) -> bool {
        if !csum || rst {
            // Nothing of ours could fail.
            return false;
        }
        if let Some(first) = self.infinite_tx {
            self.fail_tx = Some(first);
            return true;
        }
        if !self.checking() {
            // The peer answers our MP_FAIL.
            self.answer_due = false;
            return false;
        }
        self.fail_tx = Some(dsn);
        self.infinite_tx = Some(dsn);
        true
    }

    /// Nothing to send (the common case: callers skip the rest).
    #[must_use]
    pub const fn is_idle(&self) -> bool {
        self.fail_tx.is_none() && self.infinite_tx.is_none()
    }

    /// Whether an ACK should go out now: an MP_FAIL is pending.
    #[must_use]
    pub const fn wants_ack(&self) -> bool {
        self.fail_tx.is_some()
    }

    /// The control option the next segment, carrying `seg`, must carry, if
    /// any.  MP_FAIL goes on a segment without payload (the ACK
    /// [`Self::wants_ack`] asks for: MP_FAIL and a DSS with a mapping do
    /// not fit together beside the timestamps, and data must stay mapped
    /// while MPTCP runs); the infinite mapping, after it, on new data, in
    /// place of that data's mapping (mainline: `mptcp_update_infinite_map`
    /// at `mptcp_sendmsg_frag`), never on a retransmission, which the peer
    /// may drop with its options as data it has.
    #[must_use]
    pub fn pending(&self, seg: Carrier) -> Option<FailOption> {
        match (self.fail_tx, self.infinite_tx, seg) {
            (Some(dsn), _, Carrier::Ack) => Some(FailOption::MpFail(dsn)),
            (None, Some(dsn), Carrier::NewData) => Some(FailOption::InfiniteMapping(dsn)),
            _ => None,
        }
    }

    /// The option [`Self::pending`] gave was written.  Returns true when
    /// the subflow now falls back to TCP (the infinite mapping went out).
    pub fn written(&mut self) -> bool {
        if self.fail_tx.take().is_some() {
            self.fail_sent = true;
            return false;
        }
        self.infinite_tx.take().is_some()
    }

    /// The connection fell back (for any reason): nothing is pending any
    /// more, the TCP stream is the data.
    pub fn fallen_back(&mut self) {
        self.fail_tx = None;
        self.infinite_tx = None;
        self.answer_due = false;
    }

    /// Whether our MP_FAIL waits for the peer's answer, from the checksum
    /// failure on (mainline starts its fail timeout there, and sends the
    /// MP_FAIL at once): the caller resets the connection if this still
    /// holds [`ANSWER_TIMEOUT_MS`] after [`Self::checksum_failed`] made it
    /// true.
    #[must_use]
    pub const fn awaiting_answer(&self) -> bool {
        self.answer_due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_failure_then_infinite_mapping_answer() {
        // Receiver side: MP_FAIL once, then waits (still MPTCP).
        let mut r = MpFail::new();
        assert!(r.checking() && r.is_idle());
        r.checksum_ok();
        assert!(r.checksum_failed(100));
        assert!(r.checksum_failed(200));
        assert!(!r.checking() && r.wants_ack());
        assert!(r.awaiting_answer());
        // Data, new or sent again, goes out mapped meanwhile.
        assert_eq!(r.pending(Carrier::NewData), None);
        assert_eq!(r.pending(Carrier::Retransmission), None);
        assert_eq!(r.pending(Carrier::Ack), Some(FailOption::MpFail(100)));
        assert!(!r.written());
        assert_eq!(r.pending(Carrier::NewData), None);
        assert!(!r.checking() && !r.wants_ack());
        assert!(r.awaiting_answer(), "the wait lasts until the answer");
        // The peer's MP_FAIL answering ours needs no answer, and ends the
        // wait.
        assert!(!r.received(100, true, false));
        assert_eq!(r.pending(Carrier::NewData), None);
        assert!(!r.awaiting_answer());

        // Sender side: MP_FAIL back at once, the infinite mapping on the
        // next segment with data, then plain TCP.  It waits for nothing.
        let mut s = MpFail::new();
        assert!(s.received(100, true, false));
        assert!(!s.awaiting_answer());
        assert!(s.wants_ack() && !s.checking());
        assert_eq!(
            s.pending(Carrier::NewData),
            None,
            "the answer before the infinite mapping"
        );
        assert_eq!(s.pending(Carrier::Ack), Some(FailOption::MpFail(100)));
        assert!(!s.written());
        assert!(!s.wants_ack());
        assert_eq!(s.pending(Carrier::Ack), None);
        // Before the infinite mapping is out, a further MP_FAIL (another
        // failed mapping) is answered too.
        assert!(s.received(300, true, false));
        assert_eq!(s.pending(Carrier::Ack), Some(FailOption::MpFail(100)));
        assert!(!s.written());
        assert_eq!(s.pending(Carrier::Retransmission), None);
        assert_eq!(
            s.pending(Carrier::NewData),
            Some(FailOption::InfiniteMapping(100))
        );
        assert!(s.written());
        assert!(s.is_idle());
        assert_eq!(s.pending(Carrier::NewData), None);
        // Fallen back: a later MP_FAIL changes nothing.
        s.fallen_back();
        assert!(!s.received(100, true, false));
        assert_eq!(s.pending(Carrier::NewData), None);
    }

    #[test]
    fn the_wait_for_the_answer() {
        // The answer arrives before our MP_FAIL left (both sides detected
        // a failure at once): no wait.
        let mut r = MpFail::new();
        r.checksum_ok();
        assert!(r.checksum_failed(100));
        assert!(r.awaiting_answer());
        assert!(!r.received(100, true, false));
        assert!(!r.awaiting_answer());
        assert_eq!(r.pending(Carrier::Ack), Some(FailOption::MpFail(100)));
        assert!(!r.written());
        assert!(!r.awaiting_answer());
        // The infinite mapping without the MP_FAIL (lost): the peer fell
        // back, which answers too.
        let mut r = MpFail::new();
        r.checksum_ok();
        assert!(r.checksum_failed(100));
        assert!(!r.written());
        assert!(r.awaiting_answer());
        r.fallen_back();
        assert!(!r.awaiting_answer());
        // A MP_FAIL on a RST is no answer.
        let mut r = MpFail::new();
        r.checksum_ok();
        assert!(r.checksum_failed(100));
        assert!(!r.received(100, true, true));
        assert!(r.awaiting_answer());
    }

    #[test]
    fn first_checksum_failing_falls_back_without_mp_fail() {
        let mut r = MpFail::new();
        assert!(!r.checksum_failed(7));
        assert_eq!(r.pending(Carrier::Ack), None);
        assert!(!r.wants_ack());
    }

    #[test]
    fn mp_fail_ignored_without_checksums_or_on_rst() {
        let mut s = MpFail::new();
        assert!(!s.received(1, false, false));
        assert!(!s.received(1, true, true));
        assert_eq!(s.pending(Carrier::NewData), None);
        assert!(!s.written());
        assert!(s.checking());
    }

    #[test]
    fn fallback_clears_what_is_pending() {
        let mut s = MpFail::new();
        s.checksum_ok();
        assert!(s.checksum_failed(5));
        s.fallen_back();
        assert_eq!(s.pending(Carrier::NewData), None);
        let mut s = MpFail::new();
        assert!(s.received(5, true, false));
        s.fallen_back();
        assert_eq!(s.pending(Carrier::NewData), None);
    }
}
