// SPDX-License-Identifier: GPL-2.0

//! Property test of `mptcp_core::sendq`: a sender driven by random writes,
//! window updates, DATA_ACKs (4 or 8 octets, old, duplicated or bogus) and
//! timer firings, against a receiver that takes octets in DSN order, keeps
//! the DSN space contiguous, never sends beyond the window's right edge
//! (which never moves left), frees exactly what the peer acknowledged, and
//! ends with everything delivered once the peer keeps acknowledging.

use mptcp_core::sendq::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Write(u32),
    Send(u32),
    /// The peer acks what it received so far (32-bit if true) with this window.
    Ack(bool, u32),
    /// A bogus ack this many octets past what was sent.
    Bogus(u32),
    Timer(u32),
    Close,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1u32..5000).prop_map(Op::Write),
        (1u32..3000).prop_map(Op::Send),
        (any::<bool>(), 0u32..20000).prop_map(|(a, w)| Op::Ack(a, w)),
        (1u32..1000).prop_map(Op::Bogus),
        (1u32..3000).prop_map(Op::Timer),
        Just(Op::Close),
    ]
}

/// The peer: the next DSN it expects (it takes chunks in order; anything
/// else is a duplicate or a hole the sender must fill) and whether it saw
/// the DATA_FIN.
struct Peer {
    rcv_nxt: u64,
    fin: bool,
}

impl Peer {
    fn take(&mut self, c: Chunk) {
        let end = c.dsn.wrapping_add(u64::from(c.len));
        // In order or overlapping the front: the new part is delivered.
        if c.dsn.wrapping_sub(self.rcv_nxt) as i64 <= 0
            && (end.wrapping_sub(self.rcv_nxt) as i64) >= 0
        {
            self.rcv_nxt = end;
            if c.data_fin {
                self.fin = true;
            }
        }
    }

    fn ack(&self) -> u64 {
        self.rcv_nxt.wrapping_add(u64::from(self.fin))
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn sender_invariants(idsn in any::<u64>(), wnd0 in 0u32..20000,
                         ops in proptest::collection::vec(op(), 1..200)) {
        let mut s = SendSeq::new(idsn, 200);
        s.set_window(wnd0);
        let mut peer = Peer { rcv_nxt: idsn.wrapping_add(1), fin: false };
        let mut written = 0u64;
        let mut freed = 0u64;
        let mut edge = s.wnd_end();
        let mut closed = false;
        for o in ops {
            match o {
                Op::Write(n) => {
                    let r = s.enqueue(n);
                    if closed {
                        prop_assert_eq!(r, Err(SendError::Closed));
                    } else {
                        // Contiguous DSNs: the first is what was written before.
                        prop_assert_eq!(r, Ok(idsn.wrapping_add(1).wrapping_add(written)));
                        written += u64::from(n);
                    }
                }
                Op::Send(max) => {
                    if let Some(c) = s.next_chunk(max) {
                        prop_assert!(c.len <= max);
                        prop_assert_eq!(c.dsn, s.snd_nxt());
                        // Never past the right edge.
                        let end = c.dsn.wrapping_add(u64::from(c.len));
                        prop_assert!(end.wrapping_sub(s.wnd_end()) as i64 <= 0 || c.len == 0);
                        s.sent(c).unwrap();
                        peer.take(c);
                    }
                }
                Op::Ack(short, w) => {
                    let a = peer.ack();
                    let before = s.snd_una();
                    let r = s.ack(if short { a & 0xffff_ffff } else { a }, !short, w);
                    freed += r.octets;
                    prop_assert_eq!(s.snd_una().wrapping_sub(before), r.octets);
                    if r.data_fin {
                        prop_assert!(peer.fin && s.fin_acked());
                    }
                }
                Op::Bogus(k) => {
                    let una = s.snd_una();
                    let r = s.ack(peer.ack().wrapping_add(u64::from(k)), true, 0);
                    prop_assert_eq!(r.octets, 0);
                    prop_assert_eq!(s.snd_una(), una);
                }
                Op::Timer(max) => {
                    if let TimerAction::Retransmit(c, rto) = s.timer(max) {
                        // The oldest unacknowledged data, nothing unsent.
                        prop_assert_eq!(c.dsn, s.snd_una());
                        prop_assert!(u64::from(c.len) <= s.in_flight());
                        prop_assert!((200..=200 * RTO_MAX_FACTOR).contains(&rto));
                        peer.take(c);
                    } else {
                        prop_assert_eq!(s.in_flight(), 0);
                    }
                }
                Op::Close => {
                    s.close();
                    closed = true;
                }
            }
            // The right edge never moves left.
            prop_assert!(edge.wrapping_sub(s.wnd_end()) as i64 <= 0);
            edge = s.wnd_end();
            // una <= nxt <= write_seq, and the counts add up.
            prop_assert_eq!(s.snd_una().wrapping_sub(idsn.wrapping_add(1)), freed);
            prop_assert_eq!(s.in_flight() + s.unsent() + freed, written);
        }
        // Drain: the peer acks with a wide window and the sender sends
        // until done; everything written is delivered and freed.
        s.close();
        for _ in 0..1000 {
            let a = peer.ack();
            freed += s.ack(a, true, 1 << 20).octets;
            match s.next_chunk(1 << 16) {
                Some(c) => { s.sent(c).unwrap(); peer.take(c); }
                None => {
                    if let TimerAction::Retransmit(c, _) = s.timer(1 << 16) { peer.take(c); }
                }
            }
            if s.fin_acked() { break; }
        }
        prop_assert!(s.fin_acked());
        prop_assert_eq!(freed, written);
        prop_assert_eq!(peer.rcv_nxt, idsn.wrapping_add(1).wrapping_add(written));
    }
}
