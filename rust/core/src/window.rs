// SPDX-License-Identifier: GPL-2.0

//! The connection-level receive window (RFC 8684 §3.3.4), after mainline's
//! `mptcp_set_rwin()` (`net/mptcp/options.c`).
//!
//! Every subflow announces a window relative to the connection's
//! `ack_seq`: its right edge `ack_seq + window` is a DSN.  The peer may
//! send up to the largest right edge ever announced on any subflow, so
//! that edge must never move left (a receiver "must not shrink the
//! window", RFC 7323 §2.4, applied at the data level).  [`RcvWindow`]
//! keeps the largest edge sent (mainline `msk->rcv_wnd_sent`) and, when a
//! subflow would announce less, raises that subflow's window to reach it
//! (mainline: MPTcpExtRcvWndShared).  With one subflow and DSNs that
//! follow the subflow's sequence numbers, TCP's own rule already does
//! this, which is why the glue does not call it yet; once the msk owns
//! the receive queue (and subflows announce the msk's free space) it is
//! the rule of every subflow.
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

/// `after64(a, b)`: `a` comes after `b` modulo 2^64.
const fn after64(a: u64, b: u64) -> bool {
    (b.wrapping_sub(a) as i64) < 0
}

/// TCP's largest unscaled window (`MAX_TCP_WINDOW`), used without window
/// scaling when `tcp_workaround_signed_windows` is set.
pub const MAX_TCP_WINDOW: u32 = 32767;

/// What one subflow is about to announce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offer {
    /// The connection's `ack_seq` (the DATA_ACK going out with it).
    pub ack_seq: u64,
    /// The subflow's receive window in octets (`tp->rcv_wnd`).
    pub rcv_wnd: u32,
    /// The subflow's receive window scale (`rcv_wscale`, 0..=14).
    pub wscale: u8,
    /// The segment is a SYN (its window is never scaled).
    pub syn: bool,
    /// `net.ipv4.tcp_workaround_signed_windows` (only matters without
    /// window scaling).
    pub signed_windows: bool,
}

/// What the subflow announces after [`RcvWindow::announce`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Announce {
    /// The subflow's receive window to keep (`tp->rcv_wnd`).
    pub rcv_wnd: u32,
    /// `Some(field)`: rewrite the TCP header's window field (already
    /// scaled) because the window was raised to the connection's edge
    /// (MPTcpExtRcvWndShared); `None`: TCP's own value stands.
    pub th_window: Option<u16>,
}

/// The largest connection-level right edge announced so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RcvWindow {
    /// `ack_seq + window` of the largest announcement (mainline
    /// `rcv_wnd_sent`).
    sent: u64,
}

impl RcvWindow {
    /// Nothing announced yet beyond `ack_seq` (the first DSN expected).
    #[must_use]
    pub const fn new(ack_seq: u64) -> Self {
        Self { sent: ack_seq }
    }

    /// The right edge the peer may send up to (mainline `rcv_wnd_sent`).
    #[must_use]
    pub const fn right_edge(&self) -> u64 {
        self.sent
    }

    /// A subflow announces `offer`: the edge advances if the offer reaches
    /// further; if it falls short, the subflow's window is raised to the
    /// edge already announced, so the edge never moves left.
    pub fn announce(&mut self, offer: Offer) -> Announce {
        let new = offer.ack_seq.wrapping_add(u64::from(offer.rcv_wnd));
        if after64(new, self.sent) {
            self.sent = new;
            return Announce {
                rcv_wnd: offer.rcv_wnd,
                th_window: None,
            };
        }
        if new == self.sent {
            return Announce {
                rcv_wnd: offer.rcv_wnd,
                th_window: None,
            };
        }
        // The edge announced before lies further: keep announcing it.
        let win = self.sent.wrapping_sub(offer.ack_seq);
        let rcv_wnd = u32::try_from(win).unwrap_or(u32::MAX);
        let wscale = u32::from(offer.wscale.min(14));
        let mut new_win = rcv_wnd;
        if offer.syn {
            new_win = new_win.min(65535) << wscale;
        }
        new_win = if wscale == 0 && offer.signed_windows {
            new_win.min(MAX_TCP_WINDOW)
        } else {
            new_win.min(65535 << wscale)
        };
        Announce {
            rcv_wnd,
            th_window: Some(u16::try_from(new_win >> wscale).unwrap_or(u16::MAX)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(ack_seq: u64, rcv_wnd: u32) -> Offer {
        Offer {
            ack_seq,
            rcv_wnd,
            wscale: 7,
            syn: false,
            signed_windows: false,
        }
    }

    #[test]
    fn grows_then_holds() {
        let mut w = RcvWindow::new(1000);
        let a = w.announce(offer(1000, 65536));
        assert_eq!(a.th_window, None);
        assert_eq!(w.right_edge(), 1000 + 65536);
        // The reader is slow: 100 octets acked, the free space shrank to
        // 1000 octets; the edge stays, so the window is raised to reach it.
        let a = w.announce(offer(1100, 1000));
        assert_eq!(a.rcv_wnd, 65436);
        assert_eq!(a.th_window, Some((65436 >> 7) as u16));
        assert_eq!(w.right_edge(), 1000 + 65536);
    }

    #[test]
    fn unscaled_signed_windows_cap() {
        let mut w = RcvWindow::new(0);
        let _ = w.announce(Offer {
            wscale: 0,
            ..offer(0, 60000)
        });
        let a = w.announce(Offer {
            wscale: 0,
            signed_windows: true,
            ..offer(10, 0)
        });
        assert_eq!(a.rcv_wnd, 59990);
        assert_eq!(a.th_window, Some(MAX_TCP_WINDOW as u16));
    }

    #[test]
    fn wraps_around() {
        let mut w = RcvWindow::new(u64::MAX - 10);
        let _ = w.announce(offer(u64::MAX - 10, 100));
        assert_eq!(w.right_edge(), 89);
        let a = w.announce(offer(5, 10));
        assert_eq!(a.rcv_wnd, 84);
        assert_eq!(w.right_edge(), 89);
    }
}
