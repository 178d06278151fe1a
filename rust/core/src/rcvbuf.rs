// SPDX-License-Identifier: GPL-2.0

//! Receive buffer autotuning at the connection level ("dynamic right
//! sizing"): TCP's `tcp_rcv_space_adjust()` as mainline's
//! `mptcp_rcv_space_adjust()` applies it to the msk.
//!
//! Once per round trip the receiver measures what the application read
//! in that round trip; when it read more than in the last measured one,
//! the buffer grows to hold twice that plus the growth (the sender may
//! double its rate each round trip), so that a reader that keeps up is
//! never limited by the window.  The measure must be what the application
//! *read*: the msk takes the data off its subflows as it arrives, so the
//! subflow's own measure (TCP's, from `copied_seq`) counts data that
//! nobody read, and a slow reader would see its buffer grow to
//! `tcp_rmem[2]` and fill (measured: 6 MB held for a reader of 3 MB/s,
//! where TCP keeps 128 KB).
//!
//! This file only uses `core` and is included by `#[path]` into the kernel
//! module, so it must stay self-contained.

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

/// TCP's initial congestion window, in segments (`TCP_INIT_CWND`).
const TCP_INIT_CWND: u32 = 10;
/// TCP's default MSS (`TCP_MSS_DEFAULT`).
const TCP_MSS_DEFAULT: u32 = 536;

/// The measure of one connection (mainline's `msk->rcvq_space`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RcvSpace {
    /// Octets read since `time_us`.
    copied: u64,
    /// Octets read in the last measured round trip (at first, the window
    /// offered to the peer).
    space: u64,
    /// Start of the current measure (µs).
    time_us: u64,
    /// The round-trip estimate of the last measure, scaled by 8 as TCP's
    /// `rcv_rtt_est.rtt_us`; 0: none yet.
    rtt_us8: u64,
}

/// What the subflows report at a read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    /// Now, in µs.
    pub now_us: u64,
    /// The largest of the subflows' receiver round-trip estimates
    /// (`tp->rcv_rtt_est.rtt_us`, scaled by 8; 0: none yet).
    pub rtt_us8: u64,
    /// The largest of the subflows' advertised MSS (`tp->advmss`).
    pub advmss: u32,
}

impl RcvSpace {
    /// A measure starting now (`mptcp_rcv_space_init()`): the first round
    /// trip is compared with the window first offered, `rcv_wnd` capped at
    /// an initial congestion window of `advmss` segments.
    pub fn new(rcv_wnd: u32, advmss: u32, now_us: u64) -> Self {
        let mut space = rcv_wnd.min(TCP_INIT_CWND.saturating_mul(advmss));
        if space == 0 {
            space = TCP_INIT_CWND * TCP_MSS_DEFAULT;
        }
        Self {
            copied: 0,
            space: u64::from(space),
            time_us: now_us,
            rtt_us8: 0,
        }
    }

    /// The application read `copied` octets.  Returns the receive window
    /// the buffer should now hold (the caller turns it into buffer space,
    /// caps it at `tcp_rmem[2]` and only ever grows the buffer) when a
    /// round trip ended with more read than in the last one and `may_grow`
    /// (`tcp_moderate_rcvbuf` on, SO_RCVBUF not set).
    pub fn on_read(&mut self, copied: u32, s: Sample, may_grow: bool) -> Option<u64> {
        if copied == 0 {
            return None;
        }
        self.copied = self.copied.saturating_add(u64::from(copied));
        let time = s.now_us.saturating_sub(self.time_us);
        if self.rtt_us8 != 0 && time < self.rtt_us8 >> 3 {
            return None;
        }
        self.rtt_us8 = s.rtt_us8;
        if s.rtt_us8 == 0 || time < s.rtt_us8 >> 3 {
            return None;
        }
        let mut grow_to = None;
        if self.copied > self.space {
            if may_grow {
                // Twice what was read, for losses, plus some cushion; plus
                // twice the growth, for a sender in slow start.
                let mut rcvwin = self
                    .copied
                    .saturating_mul(2)
                    .saturating_add(u64::from(s.advmss).saturating_mul(16));
                let grow = rcvwin
                    .saturating_mul(self.copied.saturating_sub(self.space))
                    .checked_div(self.space)
                    .unwrap_or(0);
                rcvwin = rcvwin.saturating_add(grow.saturating_mul(2));
                grow_to = Some(rcvwin);
            }
            self.space = self.copied;
        }
        self.copied = 0;
        self.time_us = s.now_us;
        grow_to
    }
}

/// The buffer space that holds a window of `win` octets of payload
/// (`tcp_space_from_win()`): `scaling_ratio` is the payload per 256
/// octets of buffer the subflow measured (`tp->scaling_ratio`).
pub fn space_from_win(win: u64, scaling_ratio: u8) -> u64 {
    win.saturating_mul(256)
        .checked_div(u64::from(scaling_ratio))
        .unwrap_or(win)
}

/// The window of payload that `space` octets of buffer hold
/// (`tcp_win_from_space()`).
pub fn win_from_space(space: u64, scaling_ratio: u8) -> u64 {
    space.saturating_mul(u64::from(scaling_ratio)) >> 8
}

#[cfg(test)]
mod tests {
    use super::*;

    const RTT8: u64 = 8 * 1000; // 1 ms

    fn at(now_us: u64) -> Sample {
        Sample {
            now_us,
            rtt_us8: RTT8,
            advmss: 1000,
        }
    }

    #[test]
    fn initial_space_is_the_first_offer() {
        assert_eq!(RcvSpace::new(65535, 1448, 0).space, 14480);
        assert_eq!(RcvSpace::new(5000, 1448, 0).space, 5000);
        assert_eq!(RcvSpace::new(0, 0, 0).space, 5360);
    }

    #[test]
    fn no_measure_before_a_round_trip_or_without_rtt() {
        let mut r = RcvSpace::new(10_000, 1000, 0);
        assert_eq!(r.on_read(50_000, at(500), true), None);
        let no_rtt = Sample {
            rtt_us8: 0,
            ..at(5_000)
        };
        assert_eq!(r.on_read(50_000, no_rtt, true), None);
        assert_eq!(r.copied, 100_000);
        assert_eq!(r.on_read(0, at(9_000), true), None);
    }

    #[test]
    fn grows_as_tcp_for_a_reader_that_reads_more() {
        let mut r = RcvSpace::new(10_000, 1000, 0);
        // 20,000 read in a round trip, twice the offer: rcvwin = 2 * 20000
        // + 16 * 1000 = 56000, grow = 56000 * 10000 / 10000 = 56000, so
        // 56000 + 2 * 56000.
        assert_eq!(r.on_read(20_000, at(1_000), true), Some(168_000));
        assert_eq!((r.space, r.copied, r.time_us), (20_000, 0, 1_000));
    }

    #[test]
    fn a_reader_that_reads_no_more_does_not_grow_the_buffer() {
        let mut r = RcvSpace::new(10_000, 1000, 0);
        for k in 1..100 {
            assert_eq!(r.on_read(10_000, at(k * 2_000), true), None);
        }
        assert_eq!(r.space, 10_000);
    }

    #[test]
    fn locked_buffer_measures_but_never_grows() {
        let mut r = RcvSpace::new(10_000, 1000, 0);
        assert_eq!(r.on_read(40_000, at(1_000), false), None);
        assert_eq!(r.space, 40_000);
    }

    #[test]
    fn space_and_window_convert_as_tcp() {
        // scaling_ratio 128: half of the buffer is payload.
        assert_eq!(space_from_win(100_000, 128), 200_000);
        assert_eq!(win_from_space(200_000, 128), 100_000);
        assert_eq!(space_from_win(100_000, 0), 100_000);
    }

    #[test]
    fn no_overflow_at_the_extremes() {
        let mut r = RcvSpace::new(1, 1, 0);
        let s = Sample {
            now_us: u64::MAX,
            rtt_us8: 8,
            advmss: u32::MAX,
        };
        assert!(r.on_read(u32::MAX, s, true).is_some());
        let mut r = RcvSpace::new(1, 1, u64::MAX);
        assert_eq!(r.on_read(1, at(0), true), None);
    }
}
