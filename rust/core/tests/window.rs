// SPDX-License-Identifier: GPL-2.0

//! Property test of `mptcp_core::window`: whatever the reader frees or
//! keeps, the connection-level right edge announced never moves left, and
//! a raised window reaches that edge as closely as the scaled 16-bit field
//! allows.

use mptcp_core::window::*;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn right_edge_never_moves_left(
        start in any::<u64>(),
        wscale in 0u8..=14,
        signed in any::<bool>(),
        steps in proptest::collection::vec((any::<u32>(), 0u32..(1 << 22)), 1..100),
    ) {
        let mut w = RcvWindow::new(start);
        let mut ack = start;
        let mut edge = start;
        for (adv, rcv_wnd) in steps {
            // The peer sends at most up to the edge: ack_seq never passes it.
            let room = edge.wrapping_sub(ack);
            ack = ack.wrapping_add(u64::from(adv) % (room + 1));
            let a = w.announce(Offer { ack_seq: ack, rcv_wnd, wscale, syn: false, signed_windows: signed });
            let new_edge = w.right_edge();
            // Never left of the edge before.
            prop_assert!(new_edge.wrapping_sub(edge) as i64 >= 0);
            // The subflow's window reaches the edge.
            prop_assert_eq!(ack.wrapping_add(u64::from(a.rcv_wnd)), new_edge);
            match a.th_window {
                None => prop_assert_eq!(a.rcv_wnd, rcv_wnd),
                Some(field) => {
                    prop_assert!(a.rcv_wnd > rcv_wnd);
                    let announced = u64::from(field) << wscale;
                    // Not beyond what the subflow holds, and short of it only
                    // by the scale's rounding or the field's limit.
                    prop_assert!(announced <= u64::from(a.rcv_wnd));
                    let cap = if wscale == 0 && signed { u64::from(MAX_TCP_WINDOW) } else { 65535u64 << wscale };
                    let want = u64::from(a.rcv_wnd).min(cap);
                    prop_assert!(want - announced < (1u64 << wscale));
                }
            }
            edge = new_edge;
        }
    }
}
