// SPDX-License-Identifier: GPL-2.0

//! Tests of `mptcp_core::mapping`: hand-made cases from RFC 8684 §3.3 and
//! mainline `subflow.c`, and property tests against a naive model that
//! enumerates the (subflow octet -> DSN) pairs of a mapping.

use mptcp_core::mapping::*;
use mptcp_core::seq;
use proptest::prelude::*;
use std::collections::HashMap;

/// Naive model: subflow octet -> DSN for every payload octet.
fn octets(m: &Mapping) -> HashMap<u32, u64> {
    (0..u32::from(m.data_len()))
        .map(|i| (m.ssn.wrapping_add(i), m.dsn.wrapping_add(u64::from(i))))
        .collect()
}

#[test]
fn simple_mapping() {
    // 1000 octets of subflow data from relative SSN 1 at DSN 5000.
    let m = Mapping::new(5000, 1, 1000, false);
    assert!(!m.contains_ssn(0));
    assert!(m.contains_ssn(1));
    assert!(m.contains_ssn(1000));
    assert!(!m.contains_ssn(1001));
    assert_eq!(m.dsn_of(1), Some(5000));
    assert_eq!(m.dsn_of(1000), Some(5999));
    assert_eq!(m.dsn_of(1001), None);
    assert_eq!(m.offset_of(501), Some(500));
    assert_eq!(m.ssn_end(), 1001);
    assert_eq!(m.dsn_end(), 6000);
    assert_eq!(m.dsn_next(), 6000);
    assert_eq!(m.data_fin_dsn(), None);
    // An skb at 901 of 200 octets: the first 100 are covered.
    assert_eq!(m.covered_len(901, 200), 100);
    assert!(!m.contains_range(901, 200));
    assert!(m.contains_range(901, 100));
    assert_eq!(m.covered_len(1, 1000), 1000);
    assert_eq!(m.covered_len(0, 10), 0);
    assert_eq!(m.covered_len(1001, 10), 0);
}

#[test]
fn subflow_sequence_wrap() {
    // A mapping across the 2^32 subflow wrap.
    let m = Mapping::new(1 << 40, u32::MAX - 9, 20, false);
    assert!(m.contains_ssn(u32::MAX));
    assert!(m.contains_ssn(0));
    assert!(m.contains_ssn(9));
    assert!(!m.contains_ssn(10));
    assert_eq!(m.dsn_of(0), Some((1 << 40) + 10));
    assert_eq!(m.covered_len(u32::MAX, 100), 11);
    assert_eq!(m.ssn_end(), 10);
}

#[test]
fn dsn_wrap() {
    let m = Mapping::new(u64::MAX - 1, 1, 4, true);
    assert_eq!(m.dsn_of(3), Some(0));
    assert_eq!(m.dsn_end(), 1);
    assert_eq!(m.data_fin_dsn(), Some(1));
    assert_eq!(m.dsn_next(), 2);
}

#[test]
fn data_fin_with_data() {
    // RFC 8684 §3.3.3: the DATA_FIN takes one octet of data-level length
    // and the DSN just past the data, but no subflow sequence space.
    let m = Mapping::new(100, 50, 11, true);
    assert_eq!(m.data_len(), 10);
    assert_eq!(m.ssn_end(), 60);
    assert!(!m.contains_ssn(60));
    assert_eq!(m.data_fin_dsn(), Some(110));
    assert_eq!(m.dsn_end(), 110);
    assert_eq!(m.dsn_next(), 111);
    assert!(!m.is_data_fin_only());
}

#[test]
fn data_fin_only() {
    // "SSN 0, data-level length 1, DSN of the DATA_FIN".
    let m = Mapping::new(7777, 0, 1, true);
    assert!(m.is_data_fin_only());
    assert_eq!(m.data_len(), 0);
    assert_eq!(m.data_fin_dsn(), Some(7777));
    assert_eq!(m.dsn_next(), 7778);
    assert!(!m.contains_ssn(0));
    assert_eq!(m.covered_len(0, 0), 0);
    // Length 1 without F is one octet of data.
    let one = Mapping::new(7777, 3, 1, false);
    assert!(!one.is_data_fin_only());
    assert_eq!(one.dsn_of(3), Some(7777));
}

#[test]
fn infinite_mapping_covers_nothing() {
    let m = Mapping::new(1, 0, 0, false);
    assert!(m.is_infinite());
    assert!(!m.contains_ssn(0));
    assert_eq!(m.dsn_of(0), None);
    assert_eq!(m.covered_len(0, 10), 0);
}

#[test]
fn from_wire_expands_32bit_dsn() {
    // ack_seq just below a 2^32 boundary; a DSN just past it.
    let ack = 0x7_ffff_ff00;
    let m = Mapping::from_wire(ack, 0x0000_0010, false, 1, 100, false);
    assert_eq!(m.dsn, 0x8_0000_0010);
    // Slightly old data (a retransmission) expands backwards.
    let ack = 0x8_0000_0010;
    let m = Mapping::from_wire(ack, 0xffff_ff00, false, 1, 100, false);
    assert_eq!(m.dsn, 0x7_ffff_ff00);
    // 64-bit DSNs are taken as is.
    let m = Mapping::from_wire(ack, 0x1234_5678_9abc, true, 1, 100, false);
    assert_eq!(m.dsn, 0x1234_5678_9abc);
}

#[test]
fn data_ack_expansion() {
    // Normal advance.
    assert_eq!(
        expand_data_ack(0x1_0000_1000, 0x1_0000_5000, 0x2000, false),
        0x1_0000_2000
    );
    // Across the 32-bit wrap.
    assert_eq!(
        expand_data_ack(0x1_ffff_fff0, 0x2_0000_0100, 0x0000_0010, false),
        0x2_0000_0010
    );
    // Acks data never sent: ignored, snd_una kept.
    assert_eq!(
        expand_data_ack(0x1_0000_1000, 0x1_0000_2000, 0x3000, false),
        0x1_0000_1000
    );
    assert_eq!(expand_data_ack(100, 200, 201, true), 100);
    // Old ack: returned, the caller sees it is not after snd_una.
    assert_eq!(
        expand_data_ack(0x1_0000_1000, 0x1_0000_2000, 0x0800, false),
        0x1_0000_0800
    );
    // Exactly snd_nxt is fine.
    assert_eq!(expand_data_ack(100, 200, 200, true), 200);
}

#[test]
fn relation_cases() {
    let cur = Mapping::new(1000, 1, 100, false);
    assert_eq!(cur.relation(&cur), MappingRelation::Same);
    // Same payload, DATA_FIN added on top: same payload range.
    assert_eq!(
        cur.relation(&Mapping::new(1000, 1, 101, true)),
        MappingRelation::Same
    );
    // A consistent sub-range (retransmission split differently).
    assert_eq!(
        cur.relation(&Mapping::new(1010, 11, 20, false)),
        MappingRelation::Covered
    );
    // Consistent and longer.
    assert_eq!(
        cur.relation(&Mapping::new(1050, 51, 100, false)),
        MappingRelation::Extends
    );
    assert_eq!(
        cur.relation(&Mapping::new(1000, 1, 200, false)),
        MappingRelation::Extends
    );
    // Consistent and reaching before the start.
    assert_eq!(
        cur.relation(&Mapping::new(990, u32::MAX - 8, 20, false)),
        MappingRelation::Extends
    );
    // The next mapping, any DSN.
    assert_eq!(
        cur.relation(&Mapping::new(77, 101, 10, false)),
        MappingRelation::Follows
    );
    // A gap.
    assert_eq!(
        cur.relation(&Mapping::new(1200, 201, 10, false)),
        MappingRelation::Disjoint
    );
    // Overlap with another DSN: DSSNotMatching.
    assert_eq!(
        cur.relation(&Mapping::new(5000, 51, 100, false)),
        MappingRelation::Conflicts
    );
    assert_eq!(
        cur.relation(&Mapping::new(1001, 1, 100, false)),
        MappingRelation::Conflicts
    );
    // A DATA_FIN-only mapping never overlaps.
    assert_eq!(
        cur.relation(&Mapping::new(1100, 0, 1, true)),
        MappingRelation::Disjoint
    );
}

#[test]
fn check_new_mapping_as_mainline() {
    let cur = Mapping::new(1000, 1, 100, false);
    let other = Mapping::new(1100, 101, 50, false);
    assert_eq!(
        cur.check_new_mapping(&cur, 51, 50),
        NewMappingVerdict::Identical
    );
    // The skb ends inside the current mapping: a second mapping for the
    // same octets is DSSNotMatching.
    assert_eq!(
        cur.check_new_mapping(&other, 51, 50),
        NewMappingVerdict::DssNoMatch
    );
    // The skb reaches past the current mapping: the new one is for later.
    assert_eq!(
        cur.check_new_mapping(&other, 51, 80),
        NewMappingVerdict::Deferred
    );
}

#[test]
fn rx_step_as_mainline() {
    let cur = Mapping::new(1000, 1, 200, false);
    let use_ = |map, left, new| RxStep::Use { map, left, new };
    // In the current mapping, with no new one or an identical one.
    assert_eq!(rx_step(Some(cur), None, 101, 100), use_(cur, 100, false));
    assert_eq!(
        rx_step(Some(cur), Some(cur), 101, 100),
        use_(cur, 100, false)
    );
    // A different mapping for octets the current one still covers.
    let inner = Mapping::new(1100, 101, 100, false);
    assert_eq!(
        rx_step(Some(cur), Some(inner), 101, 100),
        RxStep::NotMatching
    );
    // ... unless the skb reaches past it: the current one first.
    let next = Mapping::new(1100, 101, 150, false);
    assert_eq!(
        rx_step(Some(cur), Some(next), 101, 150),
        use_(cur, 100, false)
    );
    // Then, at its end, the new one (checked against the stream).
    assert_eq!(
        rx_step(Some(cur), Some(next), 201, 50),
        use_(next, 50, true)
    );
    // A new mapping that does not cover the octet: DSSNoMatchTCP.
    let later = Mapping::new(1300, 301, 10, false);
    assert_eq!(
        rx_step(Some(cur), Some(later), 201, 100),
        RxStep::Uncovered { tcp_mismatch: true }
    );
    // Past the last mapping, no new one: uncovered, not counted.
    assert_eq!(
        rx_step(Some(cur), None, 201, 100),
        RxStep::Uncovered {
            tcp_mismatch: false
        }
    );
    // Past the end with the same mapping again: checked again, as mainline
    // does once the current one is consumed (DSSNoMatchTCP).
    assert_eq!(
        rx_step(Some(cur), Some(cur), 201, 100),
        RxStep::Uncovered { tcp_mismatch: true }
    );
    // A DATA_FIN-only mapping maps no octet: the current one goes on.
    let fin_only = Mapping::new(1200, 0, 1, true);
    assert_eq!(
        rx_step(Some(cur), Some(fin_only), 101, 100),
        use_(cur, 100, false)
    );
    // The first mapping; a DATA_FIN takes no subflow octet.
    let fin = Mapping::new(1000, 1, 11, true);
    assert_eq!(rx_step(None, Some(fin), 1, 10), use_(fin, 10, true));
    assert_eq!(
        rx_step(Some(fin), None, 11, 5),
        RxStep::Uncovered {
            tcp_mismatch: false
        }
    );
}

fn arb_mapping() -> impl Strategy<Value = Mapping> {
    (any::<u64>(), any::<u32>(), 0u16..64, any::<bool>())
        .prop_map(|(dsn, ssn, len, fin)| Mapping::new(dsn, ssn, len, fin))
}

/// A mapping near `base` in both spaces, to hit overlaps.
fn near(base: Mapping) -> impl Strategy<Value = Mapping> {
    (
        -40i64..40,
        -40i64..40,
        0u16..64,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(move |(dssn, ddsn, len, fin, consistent)| {
            let ssn = base.ssn.wrapping_add(dssn as u32);
            let dsn = if consistent {
                base.dsn.wrapping_add(dssn as u64)
            } else {
                base.dsn.wrapping_add(ddsn as u64)
            };
            Mapping::new(dsn, ssn, len, fin)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn lookups_match_model(m in arb_mapping(), delta in -80i64..80, len in 0u32..100) {
        let model = octets(&m);
        let ssn = m.ssn.wrapping_add(delta as u32);
        prop_assert_eq!(m.dsn_of(ssn), model.get(&ssn).copied());
        prop_assert_eq!(m.contains_ssn(ssn), model.contains_key(&ssn));
        // covered_len: count the leading covered octets of [ssn, ssn+len),
        // 0 if the first is not covered.
        let mut n = 0u32;
        while n < len && model.contains_key(&ssn.wrapping_add(n)) {
            n += 1;
        }
        prop_assert_eq!(m.covered_len(ssn, len), n);
        if model.contains_key(&ssn) {
            prop_assert_eq!(m.contains_range(ssn, len), n == len);
        } else {
            prop_assert!(!m.contains_range(ssn, len));
        }
        if let Some(off) = m.offset_of(ssn) {
            prop_assert_eq!(m.dsn_of(ssn), Some(m.dsn.wrapping_add(u64::from(off))));
        }
    }

    #[test]
    fn data_fin_arithmetic(m in arb_mapping()) {
        prop_assert_eq!(u32::from(m.data_len()) + u32::from(m.data_fin && m.len > 0), u32::from(m.len));
        prop_assert_eq!(m.dsn_next(), m.dsn.wrapping_add(u64::from(m.len)));
        match m.data_fin_dsn() {
            Some(fin) => {
                prop_assert!(m.data_fin && m.len > 0);
                // The DATA_FIN is the DSN just past the payload.
                prop_assert_eq!(fin, m.dsn_end());
                prop_assert_eq!(fin.wrapping_add(1), m.dsn_next());
            }
            None => prop_assert!(!m.data_fin || m.len == 0),
        }
    }

    #[test]
    fn relation_matches_model(cur in arb_mapping().prop_flat_map(|c| (Just(c), near(c)))) {
        let (cur, new) = cur;
        let a = octets(&cur);
        let b = octets(&new);
        let rel = cur.relation(&new);
        let same = cur.dsn == new.dsn && cur.ssn == new.ssn && cur.data_len() == new.data_len();
        let overlap: Vec<u32> = b.keys().filter(|k| a.contains_key(k)).copied().collect();
        let conflict = overlap.iter().any(|k| a[k] != b[k]);
        let expected = if same {
            MappingRelation::Same
        } else if overlap.is_empty() {
            if !b.is_empty() && new.ssn == cur.ssn_end() {
                MappingRelation::Follows
            } else {
                MappingRelation::Disjoint
            }
        } else if conflict {
            MappingRelation::Conflicts
        } else if b.keys().all(|k| a.contains_key(k)) {
            MappingRelation::Covered
        } else {
            MappingRelation::Extends
        };
        prop_assert_eq!(rel, expected);
    }

    #[test]
    fn check_new_mapping_model(cur in arb_mapping(), new in arb_mapping(),
                               delta in -10i64..80, len in 0u32..100) {
        let ssn = cur.ssn.wrapping_add(delta as u32);
        let v = cur.check_new_mapping(&new, ssn, len);
        let identical = cur.dsn == new.dsn && cur.ssn == new.ssn && cur.data_len() == new.data_len();
        let model = octets(&cur);
        let fully = model.contains_key(&ssn) && (0..len).all(|i| model.contains_key(&ssn.wrapping_add(i)));
        let expected = if identical {
            NewMappingVerdict::Identical
        } else if fully {
            NewMappingVerdict::DssNoMatch
        } else {
            NewMappingVerdict::Deferred
        };
        prop_assert_eq!(v, expected);
    }

    /// `rx_step` against mainline's rule written over octet sets.
    #[test]
    fn rx_step_model(cur in proptest::option::of(arb_mapping()), own in proptest::option::of(arb_mapping()),
                     delta in -10i64..80, skb_left in 1u32..100) {
        let base = cur.or(own).map_or(0, |m| m.ssn);
        let ssn = base.wrapping_add(delta as u32);
        // Octets a mapping has from `ssn` on (0: it does not cover `ssn`).
        let left = |m: &Mapping| {
            let o = octets(m);
            (0u32..).take_while(|i| o.contains_key(&ssn.wrapping_add(*i))).count() as u32
        };
        let cur_left = cur.as_ref().map_or(0, left);
        let own_maps = own.filter(|k| k.data_len() > 0);
        let expected = match (cur, own_maps) {
            (Some(c), Some(k)) if cur_left > 0 => {
                let identical = c.dsn == k.dsn && c.ssn == k.ssn && c.data_len() == k.data_len();
                if !identical && cur_left >= skb_left {
                    RxStep::NotMatching
                } else {
                    RxStep::Use { map: c, left: cur_left, new: false }
                }
            }
            (_, Some(k)) if left(&k) > 0 => RxStep::Use { map: k, left: left(&k), new: true },
            (_, Some(_)) => RxStep::Uncovered { tcp_mismatch: true },
            (Some(c), None) if cur_left > 0 => RxStep::Use { map: c, left: cur_left, new: false },
            _ => RxStep::Uncovered { tcp_mismatch: false },
        };
        prop_assert_eq!(rx_step(cur, own, ssn, skb_left), expected);
    }

    #[test]
    fn expand_dsn_is_seq_expand(ack in any::<u64>(), dsn in any::<u64>(), dsn64 in any::<bool>()) {
        prop_assert_eq!(expand_dsn(ack, dsn, dsn64), seq::mptcp_expand_seq(ack, dsn, dsn64));
        let m = Mapping::from_wire(ack, dsn, dsn64, 1, 10, false);
        prop_assert_eq!(m.dsn, seq::mptcp_expand_seq(ack, dsn, dsn64));
    }

    #[test]
    fn expand_dsn_near_ack(ack in any::<u64>(), delta in -(1i64 << 31) + 1..(1i64 << 31)) {
        // A 32-bit DSN within 2^31 of ack_seq expands to the true value.
        let truth = ack.wrapping_add(delta as u64);
        prop_assert_eq!(expand_dsn(ack, truth & 0xffff_ffff, false), truth);
    }

    #[test]
    fn expand_data_ack_model(una in any::<u64>(), inflight in 0u64..(1 << 30),
                             delta in -(1i64 << 30)..(1i64 << 30), ack64 in any::<bool>()) {
        let nxt = una.wrapping_add(inflight);
        let truth = una.wrapping_add(delta as u64);
        let wire = if ack64 { truth } else { truth & 0xffff_ffff };
        let got = expand_data_ack(una, nxt, wire, ack64);
        if seq::after64(truth, nxt) {
            prop_assert_eq!(got, una);
        } else {
            prop_assert_eq!(got, truth);
        }
    }
}

#[test]
fn walk_step_rule() {
    assert_eq!(walk_step(100, 100, 10), WalkStep::Deliver);
    // One octet already received (a re-send or a window probe).
    assert_eq!(walk_step(99, 100, 10), WalkStep::Duplicate(1));
    // All of it behind: skip only what the mapping covers here.
    assert_eq!(walk_step(50, 100, 10), WalkStep::Duplicate(10));
    assert_eq!(walk_step(101, 100, 10), WalkStep::Ahead);
    // Across the 64-bit wrap.
    assert_eq!(walk_step(u64::MAX, 1, 10), WalkStep::Duplicate(2));
    assert_eq!(walk_step(2, u64::MAX, 10), WalkStep::Ahead);
}

proptest! {
    /// Duplicate skips exactly the octets before `want`, never more than
    /// the mapping covers; Deliver only at `want`.
    #[test]
    fn walk_step_consistent(want in any::<u64>(), back in 0u64..100_000, left in 1u32..70_000) {
        let dsn = want.wrapping_sub(back);
        match walk_step(dsn, want, left) {
            WalkStep::Deliver => prop_assert_eq!(back, 0),
            WalkStep::Duplicate(n) => {
                prop_assert!(back > 0);
                prop_assert_eq!(u64::from(n), back.min(u64::from(left)));
            }
            WalkStep::Ahead => prop_assert!(false, "behind is never ahead"),
        }
        if back > 0 {
            prop_assert_eq!(walk_step(want.wrapping_add(back), want, left), WalkStep::Ahead);
        }
    }
}

#[test]
fn left_in_mapping_rule() {
    // A mapping of 100 octets from relative sequence number 1.
    assert_eq!(left_in_mapping(1, 1, 100), Some(100));
    assert_eq!(left_in_mapping(100, 1, 100), Some(1));
    // Past its end, before its start: not covered (mainline's
    // validate_mapping() fails).
    assert_eq!(left_in_mapping(101, 1, 100), None);
    assert_eq!(left_in_mapping(0, 1, 100), None);
    // A DATA_FIN-only mapping covers no octet.
    assert_eq!(left_in_mapping(5, 5, 0), None);
    // Across the 32-bit wrap.
    assert_eq!(left_in_mapping(3, u32::MAX - 1, 10), Some(5));
}
