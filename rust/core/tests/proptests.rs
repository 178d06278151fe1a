// SPDX-License-Identifier: GPL-2.0

//! Property tests: the decoder and the options-area iterator never panic on
//! arbitrary input, whatever decodes re-encodes to the same octets (up to
//! reserved bits), every valid option round-trips, and sequence-number
//! expansion picks the nearest 64-bit value.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use mptcp_core::options::*;
use mptcp_core::seq;
use proptest::prelude::*;

/// `bytes` (one option, exactly `bytes[1]` long) with its reserved bits
/// cleared, i.e. what the encoder produces for the decoded value.
fn canonical(bytes: &[u8]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    let len = b.len();
    match b[2] >> 4 {
        MPTCPOPT_MP_JOIN if len == usize::from(TCPOLEN_MPTCP_MPJ_ACK) => {
            b[2] &= 0xf0;
            b[3] = 0;
        }
        MPTCPOPT_MP_JOIN | MPTCPOPT_ADD_ADDR | MPTCPOPT_MP_PRIO => b[2] &= 0xf1,
        MPTCPOPT_DSS => {
            b[2] &= 0xf0;
            b[3] &= MPTCP_DSS_FLAG_MASK;
            // Orphan flags are ignored on decode, dropped on encode.
            if b[3] & MPTCP_DSS_HAS_ACK == 0 {
                b[3] &= !MPTCP_DSS_ACK64;
            }
            if b[3] & MPTCP_DSS_HAS_MAP == 0 {
                b[3] &= !(MPTCP_DSS_DSN64 | MPTCP_DSS_DATA_FIN);
            }
        }
        MPTCPOPT_RM_ADDR => b[2] &= 0xf0,
        MPTCPOPT_MP_FAIL | MPTCPOPT_MP_FASTCLOSE => {
            b[2] &= 0xf0;
            b[3] = 0;
        }
        _ => {}
    }
    b
}

/// Checks the decode ⇒ encode properties for one input.
fn check_decoded(input: &[u8]) -> Result<bool, TestCaseError> {
    if let Ok(opt) = decode(input) {
        let len = usize::from(input[1]);
        let mut buf = [0u8; 64];
        let n = opt.encode(&mut buf);
        prop_assert_eq!(n, Ok(len), "encode of {:?}", opt);
        prop_assert_eq!(opt.encoded_len(), len);
        let want = canonical(&input[..len]);
        prop_assert_eq!(&buf[..len], want.as_slice());
        prop_assert_eq!(decode(&buf[..len]), Ok(opt));
        return Ok(true);
    }
    Ok(false)
}

fn arb_data_seq() -> impl Strategy<Value = DataSeq> {
    prop_oneof![
        any::<u32>().prop_map(DataSeq::Bits32),
        any::<u64>().prop_map(DataSeq::Bits64),
    ]
}

fn arb_mp_capable() -> impl Strategy<Value = MpCapable> {
    let payload = prop_oneof![
        Just(MpCapablePayload::Syn),
        any::<u64>().prop_map(|sender_key| MpCapablePayload::SynAck { sender_key }),
        (any::<u64>(), any::<u64>()).prop_map(|(sender_key, receiver_key)| {
            MpCapablePayload::Ack {
                sender_key,
                receiver_key,
            }
        }),
        (
            any::<u64>(),
            any::<u64>(),
            any::<u16>(),
            proptest::option::of(any::<u16>())
        )
            .prop_map(|(sender_key, receiver_key, data_len, checksum)| {
                MpCapablePayload::AckData {
                    sender_key,
                    receiver_key,
                    data_len,
                    checksum,
                }
            }),
    ];
    (payload, any::<bool>(), any::<bool>(), 1u8..=15).prop_map(|(payload, a, c, v)| {
        let version = if payload == MpCapablePayload::Syn {
            v
        } else {
            1
        };
        let mut flags = MPTCP_CAP_HMAC_SHA256;
        if a {
            flags |= MPTCP_CAP_CHECKSUM_REQD;
        }
        if c {
            flags |= MPTCP_CAP_DENY_JOIN_ID0;
        }
        MpCapable {
            version,
            flags,
            payload,
        }
    })
}

fn arb_mp_join() -> impl Strategy<Value = MpJoin> {
    prop_oneof![
        (any::<bool>(), any::<u8>(), any::<u32>(), any::<u32>()).prop_map(
            |(backup, addr_id, token, nonce)| MpJoin::Syn {
                backup,
                addr_id,
                token,
                nonce
            }
        ),
        (any::<bool>(), any::<u8>(), any::<u64>(), any::<u32>()).prop_map(
            |(backup, addr_id, thmac, nonce)| MpJoin::SynAck {
                backup,
                addr_id,
                thmac,
                nonce
            }
        ),
        any::<[u8; 20]>().prop_map(|hmac| MpJoin::Ack { hmac }),
    ]
}

fn arb_dss() -> impl Strategy<Value = Dss> {
    let mapping = (
        arb_data_seq(),
        any::<u32>(),
        any::<u16>(),
        proptest::option::of(any::<u16>()),
        any::<bool>(),
    )
        .prop_map(|(dsn, ssn, data_len, checksum, data_fin)| DssMapping {
            dsn,
            ssn,
            data_len,
            checksum,
            data_fin,
        });
    (
        proptest::option::of(arb_data_seq()),
        proptest::option::of(mapping),
    )
        .prop_map(|(data_ack, mapping)| Dss { data_ack, mapping })
}

fn arb_add_addr() -> impl Strategy<Value = AddAddr> {
    let addr = prop_oneof![
        any::<[u8; 4]>().prop_map(|o| IpAddr::V4(Ipv4Addr::from(o))),
        any::<[u8; 16]>().prop_map(|o| IpAddr::V6(Ipv6Addr::from(o))),
    ];
    (
        any::<u8>(),
        addr,
        proptest::option::of(any::<u16>()),
        proptest::option::of(any::<u64>()),
    )
        .prop_map(|(addr_id, addr, port, hmac)| AddAddr {
            addr_id,
            addr,
            port,
            hmac,
        })
}

/// Any valid option. REMOVE_ADDR ids are leaked to get a `'static` borrow;
/// the few bytes per case do not matter in a test.
fn arb_option() -> impl Strategy<Value = MptcpOption<'static>> {
    prop_oneof![
        arb_mp_capable().prop_map(MptcpOption::MpCapable),
        arb_mp_join().prop_map(MptcpOption::MpJoin),
        arb_dss().prop_map(MptcpOption::Dss),
        arb_add_addr().prop_map(MptcpOption::AddAddr),
        proptest::collection::vec(any::<u8>(), 1..=MPTCP_RM_IDS_MAX).prop_map(|ids| {
            MptcpOption::RemoveAddr(RemoveAddr {
                ids: Box::leak(ids.into_boxed_slice()),
            })
        }),
        any::<bool>().prop_map(|backup| MptcpOption::MpPrio(MpPrio { backup })),
        any::<u64>().prop_map(|dsn| MptcpOption::MpFail(MpFail { dsn })),
        any::<u64>()
            .prop_map(|receiver_key| MptcpOption::MpFastclose(MpFastclose { receiver_key })),
        (0u8..=15, any::<u8>())
            .prop_map(|(flags, reason)| MptcpOption::MpTcpRst(MpTcpRst { flags, reason })),
    ]
}

/// Inputs shaped like an MPTCP option (kind 30, plausible length and
/// subtype) so the fuzzing reaches past the framing checks.
fn shaped_option() -> impl Strategy<Value = Vec<u8>> {
    // Half of the lengths are ones some option uses, to get past the
    // length checks often.
    let len = prop_oneof![
        0u8..=34,
        proptest::sample::select(vec![
            3u8, 4, 5, 8, 10, 11, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30
        ]),
    ];
    // Likewise bias the low nibble to MP_CAPABLE version 1 and the fourth
    // octet to valid MP_CAPABLE flags.
    let low = prop_oneof![0u8..=15, Just(1u8)];
    let b3 = prop_oneof![
        any::<u8>(),
        proptest::sample::select(vec![0x01u8, 0x21, 0x81, 0xa1]),
    ];
    (
        len,
        0u8..=10,
        low,
        b3,
        proptest::collection::vec(any::<u8>(), 0..40),
    )
        .prop_map(|(len, subtype, low, b3, body)| {
            let mut v = vec![TCPOPT_MPTCP, len, (subtype << 4) | low, b3];
            v.extend_from_slice(&body);
            v
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn decode_arbitrary_never_panics(input in proptest::collection::vec(any::<u8>(), 0..48)) {
        let _ = check_decoded(&input)?;
        let mut with_kind = input.clone();
        with_kind.insert(0, TCPOPT_MPTCP);
        let _ = check_decoded(&with_kind)?;
    }

    #[test]
    fn decode_shaped_reencodes(input in shaped_option()) {
        let _ = check_decoded(&input)?;
    }

    #[test]
    fn valid_options_roundtrip(
        opt in arb_option(),
        trailing in proptest::collection::vec(any::<u8>(), 0..8),
    ) {
        let mut buf = [0u8; 64];
        let n = opt.encode(&mut buf).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert_eq!(n, opt.encoded_len());
        prop_assert!(n <= MPTCP_OPTION_MAX_LEN);
        prop_assert_eq!(usize::from(buf[1]), n);
        prop_assert_eq!(buf[0], TCPOPT_MPTCP);
        prop_assert_eq!(buf[2] >> 4, opt.subtype());
        prop_assert_eq!(decode(&buf[..n]), Ok(opt));
        // Octets after the option are not looked at.
        let mut longer = buf[..n].to_vec();
        longer.extend_from_slice(&trailing);
        prop_assert_eq!(decode(&longer), Ok(opt));
        // Every shorter prefix is reported as truncated.
        for cut in 0..n {
            let r = decode(&buf[..cut]);
            prop_assert!(r.is_err());
            if cut >= 2 {
                prop_assert_eq!(r, Err(OptionError::Truncated));
            }
        }
        // Too small an output buffer is refused.
        if n > 0 {
            prop_assert_eq!(
                opt.encode(&mut buf[..n - 1]),
                Err(OptionError::BufferTooSmall { needed: n })
            );
        }
    }

    #[test]
    fn area_iterators_never_panic(area in proptest::collection::vec(any::<u8>(), 0..80)) {
        let raws: Vec<_> = TcpOptions::new(&area).collect();
        prop_assert!(raws.len() <= area.len() / 2 + 1);
        for (i, r) in raws.iter().enumerate() {
            match r {
                Ok(raw) => {
                    prop_assert!(raw.bytes.len() >= 2);
                    prop_assert_eq!(raw.bytes[0], raw.kind);
                    prop_assert_eq!(usize::from(raw.bytes[1]), raw.bytes.len());
                    prop_assert!(raw.kind != TCPOPT_EOL && raw.kind != TCPOPT_NOP);
                }
                // An area error is always the last item.
                Err(_) => prop_assert_eq!(i + 1, raws.len()),
            }
        }
        let n_mptcp = raws
            .iter()
            .filter(|r| matches!(r, Ok(raw) if raw.kind == TCPOPT_MPTCP) || r.is_err())
            .count();
        let mptcp: Vec<_> = mptcp_options(&area).collect();
        prop_assert_eq!(mptcp.len(), n_mptcp);
        for opt in mptcp.iter().flatten() {
            let mut buf = [0u8; 64];
            prop_assert!(opt.encode(&mut buf).is_ok());
        }
    }

    #[test]
    fn area_of_valid_options(
        opts in proptest::collection::vec((arb_option(), 0usize..3), 0..4),
        eol in any::<bool>(),
        junk in proptest::collection::vec(any::<u8>(), 0..8),
    ) {
        let mut area = Vec::new();
        for (opt, nops) in &opts {
            area.extend(std::iter::repeat_n(TCPOPT_NOP, *nops));
            let mut buf = [0u8; 64];
            let n = opt.encode(&mut buf).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            area.extend_from_slice(&buf[..n]);
        }
        if eol {
            area.push(TCPOPT_EOL);
            area.extend_from_slice(&junk);
        }
        let got: Vec<_> = mptcp_options(&area).collect();
        let want: Vec<_> = opts.iter().map(|(o, _)| Ok(*o)).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn expand_seq_recovers_nearby_values(old in any::<u64>(), delta in -0x7fff_ffffi64..=0x7fff_ffff) {
        let cur = old.wrapping_add_signed(delta);
        prop_assert_eq!(seq::expand_seq(old, cur & 0xffff_ffff), cur);
        prop_assert_eq!(seq::expand_seq(old, cur), cur);
        prop_assert_eq!(seq::mptcp_expand_seq(old, cur, false), cur);
        prop_assert_eq!(seq::mptcp_expand_seq(old, delta as u64, true), delta as u64);
    }

    #[test]
    fn expand_seq_keeps_low_bits(old in any::<u64>(), cur in any::<u32>()) {
        let e = seq::expand_seq(old, u64::from(cur));
        prop_assert_eq!(e as u32, cur);
        let d = e.wrapping_sub(old);
        prop_assert!(d <= 0x8000_0000 || d >= 0u64.wrapping_sub(0x8000_0000));
    }

    #[test]
    fn before_after_consistent(a in any::<u32>(), b in any::<u32>(), x in any::<u64>(), y in any::<u64>()) {
        prop_assert_eq!(seq::before(a, b), seq::after(b, a));
        prop_assert_eq!(seq::before64(x, y), seq::after64(y, x));
        if a == b {
            prop_assert!(!seq::before(a, b));
        } else if a.wrapping_sub(b) != 0x8000_0000 {
            prop_assert!(seq::before(a, b) != seq::before(b, a));
        }
        if x != y && x.wrapping_sub(y) != 1 << 63 {
            prop_assert!(seq::before64(x, y) != seq::before64(y, x));
        }
        // Matches the kernel's signed-difference definition.
        prop_assert_eq!(seq::before(a, b), (a.wrapping_sub(b) as i32) < 0);
        prop_assert_eq!(seq::before64(x, y), (x.wrapping_sub(y) as i64) < 0);
    }
}

/// The shaped fuzzing must actually reach successful decodes, or the
/// re-encoding property above checks nothing.
#[test]
fn shaped_hit_rate() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut ok = 0usize;
    let mut subtypes = [0usize; 9];
    for _ in 0..2000 {
        let input = shaped_option()
            .new_tree(&mut runner)
            .expect("strategy")
            .current();
        if let Ok(opt) = decode(&input) {
            ok += 1;
            subtypes[usize::from(opt.subtype())] += 1;
        }
    }
    assert!(ok >= 100, "only {ok} of 2000 shaped inputs decoded");
    assert!(
        subtypes.iter().all(|&n| n > 0),
        "some subtype never decoded: {subtypes:?}"
    );
}
