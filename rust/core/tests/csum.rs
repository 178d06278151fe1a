// SPDX-License-Identifier: GPL-2.0

//! Tests of `mptcp_core::csum` against a straightforward RFC 1071 reference
//! that materializes pseudo-header || payload || pad and sums 16-bit words.

use mptcp_core::csum::*;
use proptest::prelude::*;

/// Reference: the Internet checksum of header || payload (zero-padded).
fn reference(dsn: u64, ssn: u32, data_len: u16, payload: &[u8]) -> u16 {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&dsn.to_be_bytes());
    bytes.extend_from_slice(&ssn.to_be_bytes());
    bytes.extend_from_slice(&data_len.to_be_bytes());
    bytes.extend_from_slice(&[0, 0]);
    bytes.extend_from_slice(payload);
    if bytes.len() % 2 == 1 {
        bytes.push(0);
    }
    let mut sum: u64 = 0;
    for w in bytes.chunks(2) {
        sum += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[test]
fn pseudo_header_bytes() {
    assert_eq!(
        pseudo_header(0xdead_beef_0000_0001, 0x10, 1400),
        [0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1, 0, 0, 0, 0x10, 0x05, 0x78, 0, 0]
    );
}

#[test]
fn known_value() {
    // Hand-computed: words 0000 0000 0000 0001 | 0000 0001 | 0004 0000 |
    // 6162 6364 -> sum = 1 + 1 + 4 + 0x6162 + 0x6364 = 0xc4cc, csum = 0x3b33.
    assert_eq!(dss_checksum(1, 1, 4, b"abcd"), 0x3b33);
    assert_eq!(reference(1, 1, 4, b"abcd"), 0x3b33);
}

#[test]
fn empty_payload_data_fin_only() {
    // A DATA_FIN-only mapping (data-level length 1, no payload) still has a
    // checksum over the pseudo-header alone.
    let c = dss_checksum(0x1_0000_0000, 0, 1, &[]);
    assert_eq!(c, reference(0x1_0000_0000, 0, 1, &[]));
    assert!(DssCsum::new().verify(0x1_0000_0000, 0, 1, c));
}

#[test]
fn all_zero_input() {
    // Sum 0 gives checksum 0xffff, which verifies.
    let c = dss_checksum(0, 0, 0, &[0; 10]);
    assert_eq!(c, 0xffff);
    let mut s = DssCsum::new();
    s.update(&[0; 10]);
    assert!(s.verify(0, 0, 0, c));
}

#[test]
fn large_payload_no_overflow() {
    let payload = vec![0xffu8; 200_001];
    assert_eq!(
        dss_checksum(u64::MAX, u32::MAX, u16::MAX, &payload),
        reference(u64::MAX, u32::MAX, u16::MAX, &payload)
    );
}

fn segmented(payload: &[u8], cuts: &[usize]) -> DssCsum {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (payload.len() + 1)).collect();
    cuts.sort_unstable();
    let mut c = DssCsum::new();
    let mut prev = 0;
    for cut in cuts {
        c.update(&payload[prev..cut]);
        prev = cut;
    }
    c.update(&payload[prev..]);
    c
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn matches_reference_any_segmentation(
        dsn in any::<u64>(),
        ssn in any::<u32>(),
        data_len in any::<u16>(),
        payload in proptest::collection::vec(any::<u8>(), 0..600),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let expected = reference(dsn, ssn, data_len, &payload);
        let c = segmented(&payload, &cuts);
        prop_assert_eq!(c.finish(dsn, ssn, data_len), expected);
        prop_assert_eq!(c.is_odd(), payload.len() % 2 == 1);
        prop_assert!(c.verify(dsn, ssn, data_len, expected));
        prop_assert_eq!(dss_checksum(dsn, ssn, data_len, &payload), expected);
    }

    #[test]
    fn one_octet_at_a_time(
        dsn in any::<u64>(),
        ssn in any::<u32>(),
        payload in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let len = payload.len() as u16;
        let mut c = DssCsum::new();
        for b in &payload {
            c.update(core::slice::from_ref(b));
        }
        prop_assert_eq!(c.finish(dsn, ssn, len), reference(dsn, ssn, len, &payload));
    }

    #[test]
    fn corrupted_octet_fails_verify(
        dsn in any::<u64>(),
        payload in proptest::collection::vec(any::<u8>(), 1..300),
        pos in any::<usize>(),
        flip in 1u8..=255,
    ) {
        let len = payload.len() as u16;
        let csum = dss_checksum(dsn, 1, len, &payload);
        let mut bad = payload.clone();
        let pos = pos % bad.len();
        bad[pos] ^= flip;
        let mut c = DssCsum::new();
        c.update(&bad);
        // Changing one octet moves the sum by d or 256 * d with
        // 0 < |d| <= 255, never a multiple of 0xffff: always detected.
        prop_assert!(!c.verify(dsn, 1, len, csum));
    }
}

// ---------------------------------------------------------------------
// CsumWalk: the receive side's walk (kernel glue and endpoint)
// ---------------------------------------------------------------------

use mptcp_core::mapping::Mapping;

/// Walks `payload` (relative subflow sequence numbers from `rel`) cut into
/// segments of `seg` octets, each carrying `own(seg_start)`; returns the
/// verdicts and steps seen.
fn walk(
    w: &mut CsumWalk,
    payload: &[u8],
    rel: u32,
    seg: usize,
    own: impl Fn(u32) -> Option<(Mapping, u16)>,
) -> (Vec<CsumVerdict>, Vec<CsumStep>) {
    let (mut verdicts, mut steps) = (Vec::new(), Vec::new());
    for (i, chunk) in payload.chunks(seg).enumerate() {
        let start = rel + (i * seg) as u32;
        let mut p = 0usize;
        while p < chunk.len() {
            let s = w.step(own(start), start + p as u32, (chunk.len() - p) as u32);
            steps.push(s);
            match s {
                CsumStep::Sum(n) => {
                    let n = n as usize;
                    verdicts.push(w.add_bytes(&chunk[p..p + n]));
                    p += n;
                }
                CsumStep::Skip(n) => p += n as usize,
                CsumStep::Stop => break,
            }
        }
    }
    (verdicts, steps)
}

#[test]
fn walk_verifies_a_mapping_over_segments() {
    let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 + 1) as u8).collect();
    let m = Mapping::new(5000, 1, 1000, false);
    let csum = dss_checksum(5000, 1, 1000, &data);
    let mut w = CsumWalk::new();
    let (v, _) = walk(&mut w, &data, 1, 333, |_| Some((m, csum)));
    assert_eq!(v.last(), Some(&CsumVerdict::Good));
    assert!(v[..v.len() - 1].iter().all(|x| *x == CsumVerdict::Pending));
    // A wrong checksum is found when the last octet is in.
    let mut w = CsumWalk::new();
    let (v, _) = walk(&mut w, &data, 1, 333, |_| Some((m, csum ^ 1)));
    assert_eq!(v.last(), Some(&CsumVerdict::Bad(5000)));
}

#[test]
fn walk_second_mapping_inside_stops() {
    let data = [9u8; 200];
    let first = Mapping::new(100, 1, 200, false);
    let inner = Mapping::new(200, 101, 100, false);
    let mut w = CsumWalk::new();
    let (v, steps) = walk(&mut w, &data, 1, 100, |s| {
        Some(if s == 1 { (first, 0) } else { (inner, 0) })
    });
    assert_eq!(v, vec![CsumVerdict::Pending]);
    assert_eq!(steps, vec![CsumStep::Sum(100), CsumStep::Stop]);
}

#[test]
fn walk_mapping_starting_inside_a_segment_and_unseen_starts() {
    let data: Vec<u8> = (0..100u8).collect();
    // The mapping starts 40 octets into the segment: the head is skipped.
    let m = Mapping::new(7, 41, 60, false);
    let csum = dss_checksum(7, 41, 60, &data[40..]);
    let mut w = CsumWalk::new();
    let (v, steps) = walk(&mut w, &data, 1, 100, |_| Some((m, csum)));
    assert_eq!(steps, vec![CsumStep::Skip(40), CsumStep::Sum(60)]);
    assert_eq!(v, vec![CsumVerdict::Good]);
    // A mapping whose start was not seen is not checked.
    let mut w = CsumWalk::new();
    let (v, steps) = walk(&mut w, &data[50..], 51, 50, |_| Some((m, csum)));
    assert_eq!(steps, vec![CsumStep::Skip(50)]);
    assert!(v.is_empty());
}

#[test]
fn walk_extended_mapping_is_summed_whole() {
    let data: Vec<u8> = (0..150u8).collect();
    let short = Mapping::new(10, 1, 100, false);
    let long = Mapping::new(10, 1, 150, false);
    let csum = dss_checksum(10, 1, 150, &data);
    let mut w = CsumWalk::new();
    let (v, _) = walk(&mut w, &data, 1, 50, |s| {
        // The first segment went out under the short mapping, the rest
        // under the extended one.
        Some(if s < 51 { (short, 0) } else { (long, csum) })
    });
    assert_eq!(v.last(), Some(&CsumVerdict::Good));
}

proptest! {
    /// Mappings of random sizes over a random stream, cut into random
    /// segments (each carrying the mapping its first octet is in, as TCP
    /// segments do): every mapping is verified good, whether the octets
    /// come as bytes or as kernel-style partial sums.
    #[test]
    fn walk_verifies_every_mapping(data in proptest::collection::vec(any::<u8>(), 1..3000),
                                   maps in proptest::collection::vec(1u16..700, 1..20),
                                   seg in 1usize..900, sums in any::<bool>()) {
        // Mapping boundaries (relative ssn from 1), the last running to the end.
        let mut bounds = vec![0usize];
        for m in maps {
            let next = bounds.last().unwrap() + m as usize;
            if next >= data.len() { break; }
            bounds.push(next);
        }
        bounds.push(data.len());
        let mapping_at = |off: usize| {
            let i = bounds.windows(2).position(|b| off >= b[0] && off < b[1]).unwrap();
            let (a, b) = (bounds[i], bounds[i + 1]);
            let m = Mapping::new(1000 + a as u64, 1 + a as u32, (b - a) as u16, false);
            (m, dss_checksum(m.dsn, m.ssn, m.len, &data[a..b]))
        };
        let mut w = CsumWalk::new();
        let mut good = 0;
        // A sender cuts segments at mapping boundaries (one DSS each).
        let segs = bounds.windows(2).flat_map(|b| {
            (b[0]..b[1]).step_by(seg).map(move |s| (s, (s + seg).min(b[1])))
        });
        for (start, end) in segs {
            let chunk = &data[start..end];
            let own = mapping_at(start);
            let mut p = 0;
            while p < chunk.len() {
                match w.step(Some(own), 1 + (start + p) as u32, (chunk.len() - p) as u32) {
                    CsumStep::Sum(n) => {
                        let part = &chunk[p..p + n as usize];
                        let v = if sums {
                            let mut c = DssCsum::new();
                            c.update(part);
                            w.add_sum(c.payload_sum(), n)
                        } else {
                            w.add_bytes(part)
                        };
                        if let CsumVerdict::Bad(d) = v { prop_assert!(false, "mapping {} bad", d); }
                        if v == CsumVerdict::Good { good += 1; }
                        p += n as usize;
                    }
                    CsumStep::Skip(n) => prop_assert!(false, "skip {} at {}", n, start + p),
                    CsumStep::Stop => prop_assert!(false, "stop"),
                }
            }
        }
        // Every mapping is checked.
        prop_assert_eq!(good, bounds.len() - 1);
    }
}
