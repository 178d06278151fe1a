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
