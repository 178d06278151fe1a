// SPDX-License-Identifier: GPL-2.0

//! The connection-level send side as sequence numbers: DSNs assigned at
//! enqueue, the peer's data-level window, DATA_ACK bookkeeping, our
//! DATA_FIN and the msk-level retransmission decisions.  After mainline's
//! msk fields `write_seq`, `snd_nxt`, `snd_una`, `wnd_end` and its
//! retransmit timer (`ack_update_msk()`, `__mptcp_retrans()`,
//! `mptcp_reset_rtx_timer()`), with the queue memory left to the glue.
//!
//! One DSN space per connection, `[snd_una, snd_nxt)` sent and not yet
//! DATA_ACKed, `[snd_nxt, write_seq)` queued and not yet sent; the
//! DATA_FIN, once the application closed, takes the one DSN at
//! `write_seq` (RFC 8684 §3.3.3).  Data stays queued until the peer's
//! DATA_ACK covers it, whatever the subflows acknowledged (§3.3.2).  New
//! data goes out only below `wnd_end`, the right edge of the peer's
//! receive window (DATA_ACK + the window a subflow carried it with,
//! §3.3.4), which never moves left.  When nothing is DATA_ACKed for a
//! retransmission timeout, the oldest unacked data is sent again (on any
//! subflow, once there are several) and the timeout doubles, up to
//! [`RTO_MAX`].
//!
//! The glue does not use this yet: with DSNs following the one subflow's
//! sequence numbers, TCP's send queue is the connection's.  It is the rule
//! the msk's own send queue will follow (issue 9, step 3).
//!
//! Uses only `core` and its sibling modules `mapping` and `seq`.

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

use crate::close::LocalDataFin;
use crate::mapping::expand_data_ack;
use crate::seq::before64;

/// The largest retransmission timeout, as a multiple of the minimum
/// ([`SendSeq::new`]'s `rto_min`; mainline: `TCP_RTO_MAX`, 120 s, against
/// `TCP_RTO_MIN`, 200 ms).
pub const RTO_MAX_FACTOR: u64 = 600;

/// A DSN range to put on a subflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    /// DSN of the first octet.
    pub dsn: u64,
    /// Octets (0 for a DATA_FIN alone).
    pub len: u32,
    /// The DATA_FIN goes with it (after the `len` octets).
    pub data_fin: bool,
}

/// What a received DATA_ACK did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Acked {
    /// Octets newly acknowledged (the queue frees them), DATA_FIN excluded.
    pub octets: u64,
    /// Our DATA_FIN is acknowledged now.
    pub data_fin: bool,
    /// The window's right edge moved right.
    pub window_opened: bool,
}

/// A misuse of the send side by the caller (a bug in the glue, reported
/// rather than acted upon).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// A chunk that does not start at `snd_nxt` or reaches past what may
    /// be sent.
    NotSendable,
    /// Data queued after the DATA_FIN.
    Closed,
}

/// What the retransmission timer does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerAction {
    /// Nothing is in flight: the timer stays off.
    Idle,
    /// Send this again (the oldest unacknowledged data, at most the
    /// caller's size), then rearm after the given timeout.
    Retransmit(Chunk, u64),
}

/// The connection's send sequence numbers; see the module documentation.
#[derive(Debug, Clone)]
pub struct SendSeq {
    write_seq: u64,
    snd_nxt: u64,
    snd_una: u64,
    wnd_end: u64,
    /// Our DATA_FIN, once the application closed.
    fin: LocalDataFin,
    rto_min: u64,
    rto: u64,
}

impl SendSeq {
    /// A connection whose first data-level octet is `idsn + 1` (RFC 8684
    /// §3.1); `rto_min` is the first retransmission timeout (mainline takes
    /// it from its subflows; `TCP_RTO_MIN` at least).  The window is closed
    /// until the first DATA_ACK (or [`Self::set_window`] from the
    /// handshake) opens it.
    #[must_use]
    pub const fn new(idsn: u64, rto_min: u64) -> Self {
        let first = idsn.wrapping_add(1);
        Self {
            write_seq: first,
            snd_nxt: first,
            snd_una: first,
            wnd_end: first,
            fin: LocalDataFin::new(),
            rto_min,
            rto: rto_min,
        }
    }

    /// DSN after the last octet queued.
    #[must_use]
    pub const fn write_seq(&self) -> u64 {
        self.write_seq
    }

    /// DSN after the last new octet sent.
    #[must_use]
    pub const fn snd_nxt(&self) -> u64 {
        self.snd_nxt
    }

    /// Oldest DSN not DATA_ACKed.
    #[must_use]
    pub const fn snd_una(&self) -> u64 {
        self.snd_una
    }

    /// Right edge of the peer's receive window.
    #[must_use]
    pub const fn wnd_end(&self) -> u64 {
        self.wnd_end
    }

    /// The current retransmission timeout.
    #[must_use]
    pub const fn rto(&self) -> u64 {
        self.rto
    }

    /// Octets sent and not DATA_ACKed (SIOCOUTQ less the unsent part).
    #[must_use]
    pub const fn in_flight(&self) -> u64 {
        self.snd_nxt.wrapping_sub(self.snd_una)
    }

    /// Octets queued and not yet sent (SIOCOUTQNSD).
    #[must_use]
    pub const fn unsent(&self) -> u64 {
        self.write_seq.wrapping_sub(self.snd_nxt)
    }

    /// Our DATA_FIN is DATA_ACKed (the data-level send side is done).
    #[must_use]
    pub const fn fin_acked(&self) -> bool {
        self.fin.is_acked()
    }

    /// DSN just past what was sent: `snd_nxt`, plus one for a DATA_FIN
    /// that went out.
    const fn sent_end(&self) -> u64 {
        match (self.fin.is_sent(), self.fin.dsn()) {
            (true, Some(f)) => f.wrapping_add(1),
            _ => self.snd_nxt,
        }
    }

    /// The application queued `len` octets: their DSNs are the next `len`
    /// of the connection (returns the first).  Refused after the DATA_FIN.
    pub fn enqueue(&mut self, len: u32) -> Result<u64, SendError> {
        if self.fin.is_queued() {
            return Err(SendError::Closed);
        }
        let dsn = self.write_seq;
        self.write_seq = self.write_seq.wrapping_add(u64::from(len));
        Ok(dsn)
    }

    /// The application closed its sending side: the DATA_FIN takes the
    /// DSN after the data queued.  Idempotent.
    pub fn close(&mut self) {
        self.fin.queue(self.write_seq);
    }

    /// Sets the window from the handshake (the peer's first window, before
    /// any DATA_ACK): right edge `snd_una + wnd`, never moving left.
    pub fn set_window(&mut self, wnd: u32) {
        let end = self.snd_una.wrapping_add(u64::from(wnd));
        if before64(self.wnd_end, end) {
            self.wnd_end = end;
        }
    }

    /// The next new data to send, at most `max` octets: what is queued,
    /// below the window's right edge; with the DATA_FIN if it is next and
    /// everything before it fits.  None when nothing may go out.
    #[must_use]
    pub fn next_chunk(&self, max: u32) -> Option<Chunk> {
        let room = if before64(self.snd_nxt, self.wnd_end) {
            self.wnd_end.wrapping_sub(self.snd_nxt)
        } else {
            0
        };
        let len = self.unsent().min(room).min(u64::from(max));
        // The DATA_FIN occupies no window (mainline sends it on a data-less
        // DSS whatever the window).
        let data_fin =
            !self.fin.is_sent() && self.fin.pending() == Some(self.snd_nxt.wrapping_add(len));
        let len = u32::try_from(len).unwrap_or(max);
        (len > 0 || data_fin).then_some(Chunk {
            dsn: self.snd_nxt,
            len,
            data_fin,
        })
    }

    /// `chunk` (from [`Self::next_chunk`]) went out.
    pub fn sent(&mut self, chunk: Chunk) -> Result<(), SendError> {
        let ok = self.next_chunk(chunk.len).is_some_and(|c| {
            c.dsn == chunk.dsn && c.len == chunk.len && (c.data_fin || !chunk.data_fin)
        });
        if !ok {
            return Err(SendError::NotSendable);
        }
        self.snd_nxt = self.snd_nxt.wrapping_add(u64::from(chunk.len));
        if chunk.data_fin {
            self.fin.on_sent(self.snd_nxt);
        }
        Ok(())
    }

    /// A DATA_ACK (`ack`, 4 or 8 octets as received) with the window of
    /// the segment carrying it.
    pub fn ack(&mut self, ack: u64, ack64: bool, wnd: u32) -> Acked {
        // Expanded against snd_una; one that acknowledges data never sent
        // (beyond snd_nxt, the DATA_FIN counted) is ignored (mainline's
        // `ack_update_msk()`).
        let new = expand_data_ack(self.snd_una, self.sent_end(), ack, ack64);
        let mut out = Acked::default();
        let end = new.wrapping_add(u64::from(wnd));
        if before64(self.wnd_end, end) {
            self.wnd_end = end;
            out.window_opened = true;
        }
        if !before64(self.snd_una, new) {
            return out;
        }
        // Progress: the timeout starts over from the minimum (mainline
        // rearms from the subflow's RTO).
        self.rto = self.rto_min;
        let data_end = new.min_dsn(self.snd_nxt);
        out.octets = data_end.wrapping_sub(self.snd_una);
        self.snd_una = data_end;
        out.data_fin = self.fin.on_data_ack(new);
        out
    }

    /// The retransmission timer fired: the oldest unacknowledged data (at
    /// most `max` octets; the DATA_FIN if it is all that is left, or if it
    /// follows within `max`) goes out again and the timeout doubles.
    pub fn timer(&mut self, max: u32) -> TimerAction {
        let fin_pending = self.fin.is_sent() && !self.fin.is_acked();
        if self.in_flight() == 0 && !fin_pending {
            return TimerAction::Idle;
        }
        let len = self.in_flight().min(u64::from(max));
        let data_fin = fin_pending && len == self.in_flight();
        let chunk = Chunk {
            dsn: self.snd_una,
            len: u32::try_from(len).unwrap_or(max),
            data_fin,
        };
        let cap = self.rto_min.saturating_mul(RTO_MAX_FACTOR);
        self.rto = self.rto.saturating_mul(2).min(cap).max(self.rto_min);
        TimerAction::Retransmit(chunk, self.rto)
    }
}

/// `min` in DSN order (the earlier of two DSNs within 2^63).
trait MinDsn {
    fn min_dsn(self, other: u64) -> u64;
}

impl MinDsn for u64 {
    fn min_dsn(self, other: u64) -> u64 {
        if before64(other, self) {
            other
        } else {
            self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDSN: u64 = u64::MAX - 10; // wraps soon: exercise modular arithmetic

    fn open(wnd: u32) -> SendSeq {
        let mut s = SendSeq::new(IDSN, 200);
        s.set_window(wnd);
        s
    }

    #[test]
    fn dsns_are_assigned_at_enqueue_contiguously() {
        let mut s = open(1000);
        let a = s.enqueue(100).unwrap();
        let b = s.enqueue(50).unwrap();
        assert_eq!(a, IDSN.wrapping_add(1));
        assert_eq!(b, a.wrapping_add(100));
        assert_eq!(s.unsent(), 150);
        assert_eq!(s.in_flight(), 0);
    }

    #[test]
    fn the_window_limits_new_data() {
        let mut s = open(100);
        s.enqueue(300).unwrap();
        let c = s.next_chunk(1000).unwrap();
        assert_eq!(c.len, 100);
        s.sent(c).unwrap();
        assert_eq!(s.next_chunk(1000), None);
        // The peer acks 60 and keeps a 100-octet window: 60 more may go.
        let a = s.ack(s.snd_una().wrapping_add(60), true, 100);
        assert_eq!(a.octets, 60);
        assert!(a.window_opened);
        assert_eq!(s.next_chunk(1000).unwrap().len, 60);
    }

    #[test]
    fn the_right_edge_never_moves_left() {
        let mut s = open(100);
        let end = s.wnd_end();
        // A later DATA_ACK with a smaller window does not shrink it.
        s.enqueue(50).unwrap();
        let c = s.next_chunk(50).unwrap();
        s.sent(c).unwrap();
        let a = s.ack(s.snd_una().wrapping_add(10), true, 20);
        assert!(!a.window_opened);
        assert_eq!(s.wnd_end(), end);
    }

    #[test]
    fn acks_beyond_what_was_sent_are_ignored() {
        let mut s = open(1000);
        s.enqueue(100).unwrap();
        s.sent(s.next_chunk(40).unwrap()).unwrap();
        let una = s.snd_una();
        let a = s.ack(una.wrapping_add(41), true, 1000);
        assert_eq!(a.octets, 0);
        assert_eq!(s.snd_una(), una);
        // An old ack neither.
        let a = s.ack(una.wrapping_sub(5), true, 1000);
        assert_eq!(a.octets, 0);
    }

    #[test]
    fn a_32_bit_data_ack_is_expanded_across_the_wrap() {
        let mut s = open(1000);
        s.enqueue(100).unwrap();
        s.sent(s.next_chunk(100).unwrap()).unwrap();
        let full = s.snd_una().wrapping_add(100);
        let a = s.ack(full & 0xffff_ffff, false, 1000);
        assert_eq!(a.octets, 100);
        assert_eq!(s.snd_una(), full);
    }

    #[test]
    fn data_fin_follows_the_data_and_is_acked_one_past_it() {
        let mut s = open(1000);
        s.enqueue(10).unwrap();
        s.close();
        assert_eq!(s.enqueue(1), Err(SendError::Closed));
        let c = s.next_chunk(100).unwrap();
        assert_eq!((c.len, c.data_fin), (10, true));
        s.sent(c).unwrap();
        assert_eq!(s.next_chunk(100), None);
        // Acking the data only: the DATA_FIN is still pending.
        let a = s.ack(s.snd_una().wrapping_add(10), true, 1000);
        assert_eq!((a.octets, a.data_fin), (10, false));
        // The DATA_FIN alone is retransmitted.
        match s.timer(100) {
            TimerAction::Retransmit(c, _) => assert_eq!((c.len, c.data_fin), (0, true)),
            TimerAction::Idle => panic!("the DATA_FIN is unacked"),
        }
        let a = s.ack(s.snd_una().wrapping_add(1), true, 1000);
        assert_eq!((a.octets, a.data_fin), (0, true));
        assert!(s.fin_acked());
        assert_eq!(s.timer(100), TimerAction::Idle);
    }

    #[test]
    fn a_data_fin_goes_out_with_a_closed_window() {
        let mut s = open(0);
        s.close();
        let c = s.next_chunk(100).unwrap();
        assert_eq!((c.len, c.data_fin), (0, true));
    }

    #[test]
    fn the_timer_resends_the_oldest_data_and_backs_off() {
        let mut s = open(1000);
        s.enqueue(300).unwrap();
        s.sent(s.next_chunk(300).unwrap()).unwrap();
        let una = s.snd_una();
        let mut last = 200;
        for _ in 0..20 {
            match s.timer(100) {
                TimerAction::Retransmit(c, rto) => {
                    assert_eq!((c.dsn, c.len, c.data_fin), (una, 100, false));
                    assert!((last..=200 * RTO_MAX_FACTOR).contains(&rto));
                    last = rto;
                }
                TimerAction::Idle => panic!("data in flight"),
            }
        }
        assert_eq!(last, 200 * RTO_MAX_FACTOR);
        // Progress resets the backoff.
        s.ack(una.wrapping_add(1), true, 1000);
        assert_eq!(s.rto(), 200);
    }

    #[test]
    fn sent_refuses_what_next_chunk_would_not_give() {
        let mut s = open(50);
        s.enqueue(100).unwrap();
        let bad = Chunk {
            dsn: s.snd_nxt(),
            len: 60,
            data_fin: false,
        };
        assert_eq!(s.sent(bad), Err(SendError::NotSendable));
        let bad = Chunk {
            dsn: s.snd_nxt().wrapping_add(1),
            len: 10,
            data_fin: false,
        };
        assert_eq!(s.sent(bad), Err(SendError::NotSendable));
        let bad = Chunk {
            dsn: s.snd_nxt(),
            len: 10,
            data_fin: true,
        };
        assert_eq!(s.sent(bad), Err(SendError::NotSendable));
    }
}
