// SPDX-License-Identifier: GPL-2.0

//! Deterministic tests of the MPTCP option codec: hand-written wire vectors
//! from the RFC 8684 layouts, round trips of every form and flag
//! combination, rejections, and the options-area iterator.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use mptcp_core::options::*;

fn enc(opt: &MptcpOption<'_>) -> Vec<u8> {
    let mut buf = [0u8; 64];
    let n = opt.encode(&mut buf).expect("encode");
    assert_eq!(n, opt.encoded_len());
    assert_eq!(usize::from(buf[1]), n, "length octet");
    buf[..n].to_vec()
}

/// Encode, check against `wire`, decode back, check equality.
fn check_wire(opt: MptcpOption<'_>, wire: &[u8]) {
    assert_eq!(enc(&opt), wire, "encoding of {opt:?}");
    assert_eq!(decode(wire), Ok(opt), "decoding of {wire:?}");
}

fn roundtrip(opt: MptcpOption<'_>) {
    let bytes = enc(&opt);
    assert_eq!(bytes[0], TCPOPT_MPTCP);
    assert_eq!(bytes[2] >> 4, opt.subtype());
    assert_eq!(decode(&bytes), Ok(opt), "round trip of {opt:?}");
}

const K1: u64 = 0x0102_0304_0506_0708;
const K2: u64 = 0x1112_1314_1516_1718;

// ---------------------------------------------------------------------------
// Byte-exact vectors
// ---------------------------------------------------------------------------

#[test]
fn vector_mp_capable_syn() {
    // Subtype 0 in the high nibble, version 1 in the low nibble; flags
    // octet A B C D E F G H with H = 0x01.
    let opt = MptcpOption::MpCapable(MpCapable::new(MpCapablePayload::Syn, 0));
    check_wire(opt, &[30, 4, 0x01, 0x01]);
    let opt = MptcpOption::MpCapable(MpCapable::new(
        MpCapablePayload::Syn,
        MPTCP_CAP_CHECKSUM_REQD,
    ));
    check_wire(opt, &[30, 4, 0x01, 0x81]);
    let opt = MptcpOption::MpCapable(MpCapable::new(
        MpCapablePayload::Syn,
        MPTCP_CAP_DENY_JOIN_ID0,
    ));
    check_wire(opt, &[30, 4, 0x01, 0x21]);
}

#[test]
fn vector_mp_capable_synack_ack() {
    let opt = MptcpOption::MpCapable(MpCapable::new(
        MpCapablePayload::SynAck { sender_key: K1 },
        0,
    ));
    check_wire(opt, &[30, 12, 0x01, 0x01, 1, 2, 3, 4, 5, 6, 7, 8]);

    let opt = MptcpOption::MpCapable(MpCapable::new(
        MpCapablePayload::Ack {
            sender_key: K1,
            receiver_key: K2,
        },
        0,
    ));
    check_wire(
        opt,
        &[
            30, 20, 0x01, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
            0x18,
        ],
    );
}

#[test]
fn vector_mp_capable_ack_data() {
    let opt = MptcpOption::MpCapable(MpCapable::new(
        MpCapablePayload::AckData {
            sender_key: K1,
            receiver_key: K2,
            data_len: 1460,
            checksum: None,
        },
        0,
    ));
    check_wire(
        opt,
        &[
            30, 22, 0x01, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
            0x18, 0x05, 0xb4,
        ],
    );
    let opt = MptcpOption::MpCapable(MpCapable::new(
        MpCapablePayload::AckData {
            sender_key: K1,
            receiver_key: K2,
            data_len: 1460,
            checksum: Some(0xabcd),
        },
        MPTCP_CAP_CHECKSUM_REQD,
    ));
    check_wire(
        opt,
        &[
            30, 24, 0x01, 0x81, 1, 2, 3, 4, 5, 6, 7, 8, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
            0x18, 0x05, 0xb4, 0xab, 0xcd,
        ],
    );
}

#[test]
fn vector_mp_join() {
    let opt = MptcpOption::MpJoin(MpJoin::Syn {
        backup: true,
        addr_id: 3,
        token: 0xdead_beef,
        nonce: 0x0102_0304,
    });
    check_wire(opt, &[30, 12, 0x11, 3, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]);

    let opt = MptcpOption::MpJoin(MpJoin::SynAck {
        backup: false,
        addr_id: 7,
        thmac: K1,
        nonce: 0xa0b0_c0d0,
    });
    check_wire(
        opt,
        &[
            30, 16, 0x10, 7, 1, 2, 3, 4, 5, 6, 7, 8, 0xa0, 0xb0, 0xc0, 0xd0,
        ],
    );

    let mut hmac = [0u8; 20];
    for (i, b) in hmac.iter_mut().enumerate() {
        *b = 0x40 + i as u8;
    }
    let mut wire = vec![30, 24, 0x10, 0];
    wire.extend_from_slice(&hmac);
    check_wire(MptcpOption::MpJoin(MpJoin::Ack { hmac }), &wire);
}

#[test]
fn vector_dss() {
    // A only, 32-bit Data ACK.
    let opt = MptcpOption::Dss(Dss {
        data_ack: Some(DataSeq::Bits32(0x0a0b_0c0d)),
        mapping: None,
    });
    check_wire(opt, &[30, 8, 0x20, 0x01, 0x0a, 0x0b, 0x0c, 0x0d]);

    // Mainline's usual form: A a M m, 64-bit ack and DSN, no checksum.
    let opt = MptcpOption::Dss(Dss {
        data_ack: Some(DataSeq::Bits64(K1)),
        mapping: Some(DssMapping {
            dsn: DataSeq::Bits64(K2),
            ssn: 0x0000_0101,
            data_len: 0x05a8,
            checksum: None,
            data_fin: false,
        }),
    });
    check_wire(
        opt,
        &[
            30, 26, 0x20, 0x0f, 1, 2, 3, 4, 5, 6, 7, 8, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
            0x18, 0, 0, 1, 1, 0x05, 0xa8,
        ],
    );

    // F M (32-bit DSN) with checksum: bare DATA_FIN, length 1.
    let opt = MptcpOption::Dss(Dss {
        data_ack: None,
        mapping: Some(DssMapping {
            dsn: DataSeq::Bits32(0x1000),
            ssn: 0,
            data_len: 1,
            checksum: Some(0xbeef),
            data_fin: true,
        }),
    });
    check_wire(
        opt,
        &[
            30, 16, 0x20, 0x14, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xef,
        ],
    );

    // No flags at all: the 4-octet DSS, accepted as mainline does.
    check_wire(
        MptcpOption::Dss(Dss {
            data_ack: None,
            mapping: None,
        }),
        &[30, 4, 0x20, 0x00],
    );
}

#[test]
fn vector_add_addr() {
    let opt = MptcpOption::AddAddr(AddAddr {
        addr_id: 5,
        addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        port: Some(8080),
        hmac: Some(K1),
    });
    check_wire(
        opt,
        &[
            30, 18, 0x30, 5, 192, 0, 2, 1, 0x1f, 0x90, 1, 2, 3, 4, 5, 6, 7, 8,
        ],
    );

    let opt = MptcpOption::AddAddr(AddAddr {
        addr_id: 9,
        addr: IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)),
        port: None,
        hmac: None,
    });
    check_wire(opt, &[30, 8, 0x31, 9, 10, 1, 2, 3]);

    let v6 = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
    let opt = MptcpOption::AddAddr(AddAddr {
        addr_id: 1,
        addr: IpAddr::V6(v6),
        port: Some(443),
        hmac: None,
    });
    let mut wire = vec![30, 22, 0x31, 1];
    wire.extend_from_slice(&v6.octets());
    wire.extend_from_slice(&[0x01, 0xbb]);
    check_wire(opt, &wire);
}

#[test]
fn vector_small_options() {
    check_wire(
        MptcpOption::RemoveAddr(RemoveAddr { ids: &[1, 2] }),
        &[30, 5, 0x40, 1, 2],
    );
    check_wire(MptcpOption::MpPrio(MpPrio { backup: true }), &[30, 3, 0x51]);
    check_wire(
        MptcpOption::MpPrio(MpPrio { backup: false }),
        &[30, 3, 0x50],
    );
    check_wire(
        MptcpOption::MpFail(MpFail { dsn: K1 }),
        &[30, 12, 0x60, 0, 1, 2, 3, 4, 5, 6, 7, 8],
    );
    check_wire(
        MptcpOption::MpFastclose(MpFastclose { receiver_key: K2 }),
        &[
            30, 12, 0x70, 0, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
        ],
    );
    check_wire(
        MptcpOption::MpTcpRst(MpTcpRst::new(true, ResetReason::MiddleboxInterference)),
        &[30, 4, 0x81, 0x06],
    );
    check_wire(
        MptcpOption::MpTcpRst(MpTcpRst {
            flags: MPTCP_RST_FLAG_U | MPTCP_RST_FLAG_W,
            reason: 0x42,
        }),
        &[30, 4, 0x8a, 0x42],
    );
}

// ---------------------------------------------------------------------------
// Round trips of every form and flag combination
// ---------------------------------------------------------------------------

fn mpc_payloads() -> [MpCapablePayload; 5] {
    [
        MpCapablePayload::Syn,
        MpCapablePayload::SynAck { sender_key: K1 },
        MpCapablePayload::Ack {
            sender_key: K1,
            receiver_key: K2,
        },
        MpCapablePayload::AckData {
            sender_key: K2,
            receiver_key: K1,
            data_len: 0xffff,
            checksum: None,
        },
        MpCapablePayload::AckData {
            sender_key: u64::MAX,
            receiver_key: 0,
            data_len: 0,
            checksum: Some(0x1234),
        },
    ]
}

#[test]
fn mp_capable_all_flags() {
    for payload in mpc_payloads() {
        for flags in 0..=255u8 {
            let opt = MptcpOption::MpCapable(MpCapable {
                version: 1,
                flags,
                payload,
            });
            let valid = flags & MPTCP_CAP_FLAG_MASK == MPTCP_CAP_HMAC_SHA256 && flags & 0x40 == 0;
            if valid {
                roundtrip(opt);
                let MptcpOption::MpCapable(m) = decode(&enc(&opt)).unwrap() else {
                    panic!()
                };
                assert_eq!(m.checksum_required(), flags & 0x80 != 0);
                assert_eq!(m.deny_join_id0(), flags & 0x20 != 0);
                assert!(m.hmac_sha256());
            } else {
                let mut buf = [0u8; 32];
                assert_eq!(
                    opt.encode(&mut buf),
                    Err(OptionError::BadFlags { subtype: 0, flags })
                );
                // Same bytes built by hand are rejected on decode.
                let good = enc(&MptcpOption::MpCapable(MpCapable::new(payload, 0)));
                let mut bad = good.clone();
                bad[3] = flags;
                assert_eq!(
                    decode(&bad),
                    Err(OptionError::BadFlags { subtype: 0, flags })
                );
            }
        }
    }
}

#[test]
fn mp_capable_versions() {
    for payload in mpc_payloads() {
        let good = enc(&MptcpOption::MpCapable(MpCapable::new(payload, 0)));
        for version in 0..=15u8 {
            let mut bytes = good.clone();
            bytes[2] = version;
            let ok = if payload == MpCapablePayload::Syn {
                version >= 1
            } else {
                version == 1
            };
            let opt = MptcpOption::MpCapable(MpCapable {
                version,
                flags: MPTCP_CAP_HMAC_SHA256,
                payload,
            });
            if ok {
                assert_eq!(decode(&bytes), Ok(opt));
                roundtrip(opt);
            } else {
                assert_eq!(
                    decode(&bytes),
                    Err(OptionError::UnsupportedVersion(version))
                );
                let mut buf = [0u8; 32];
                assert_eq!(
                    opt.encode(&mut buf),
                    Err(OptionError::UnsupportedVersion(version))
                );
            }
        }
        let opt = MptcpOption::MpCapable(MpCapable {
            version: 16,
            flags: 1,
            payload,
        });
        assert_eq!(opt.encode(&mut [0u8; 32]), Err(OptionError::InvalidField));
    }
}

#[test]
fn mp_join_all_forms() {
    for backup in [false, true] {
        for addr_id in [0u8, 1, 255] {
            roundtrip(MptcpOption::MpJoin(MpJoin::Syn {
                backup,
                addr_id,
                token: 0xffff_0000,
                nonce: 0x0000_ffff,
            }));
            roundtrip(MptcpOption::MpJoin(MpJoin::SynAck {
                backup,
                addr_id,
                thmac: u64::MAX - 1,
                nonce: 1,
            }));
        }
    }
    roundtrip(MptcpOption::MpJoin(MpJoin::Ack { hmac: [0xa5; 20] }));
}

fn dss_variants() -> Vec<Dss> {
    let acks = [
        None,
        Some(DataSeq::Bits32(0xfedc_ba98)),
        Some(DataSeq::Bits64(0xfedc_ba98_7654_3210)),
    ];
    let mut maps = vec![None];
    for dsn in [DataSeq::Bits32(0x8000_0001), DataSeq::Bits64(K2)] {
        for data_fin in [false, true] {
            for checksum in [None, Some(0xffff)] {
                maps.push(Some(DssMapping {
                    dsn,
                    ssn: 0x1234_5678,
                    data_len: 0x9abc,
                    checksum,
                    data_fin,
                }));
            }
        }
    }
    let mut out = Vec::new();
    for data_ack in acks {
        for mapping in &maps {
            out.push(Dss {
                data_ack,
                mapping: *mapping,
            });
        }
    }
    out
}

#[test]
fn dss_all_valid_combinations() {
    let variants = dss_variants();
    assert_eq!(variants.len(), 3 * 9);
    for dss in variants {
        let opt = MptcpOption::Dss(dss);
        let bytes = enc(&opt);
        assert_eq!(bytes[3], dss.flags());
        // Length derived from the flags, as in mainline.
        let mut len = 4;
        if dss.data_ack.is_some() {
            len += if dss.flags() & MPTCP_DSS_ACK64 != 0 {
                8
            } else {
                4
            };
        }
        if let Some(m) = dss.mapping {
            len += if m.dsn.is_64bit() { 14 } else { 10 };
            len += if m.checksum.is_some() { 2 } else { 0 };
        }
        assert_eq!(bytes.len(), len);
        assert_eq!(dss.data_fin(), dss.flags() & MPTCP_DSS_DATA_FIN != 0);
        roundtrip(opt);
    }
}

#[test]
fn dss_every_flag_octet() {
    // Every value of the five flags decodes at the right lengths. As in
    // mainline, orphan bits ('a' without 'A', 'm' or 'F' without 'M') are
    // ignored: the length follows the remaining flags, and encoding gives
    // the canonical form without them.
    for flags in 0..32u8 {
        let has_ack = flags & 1 != 0;
        let ack64 = has_ack && flags & 2 != 0;
        let has_map = flags & 4 != 0;
        let dsn64 = has_map && flags & 8 != 0;
        // 'a' kept only with 'A'; 'M', 'm' and 'F' only with 'M'.
        let ack_bits = if has_ack { 0x03 } else { 0 };
        let map_bits = if has_map { 0x1c } else { 0 };
        let canonical_flags = flags & (ack_bits | map_bits);
        let mut expected = 4u8;
        if has_ack {
            expected += if ack64 { 8 } else { 4 };
        }
        if has_map {
            expected += if dsn64 { 14 } else { 10 };
        }
        for len in 3..=40u8 {
            let mut bytes = vec![0x5au8; usize::from(len)];
            bytes[0] = 30;
            bytes[1] = len;
            bytes[2] = 0x20;
            if len > 3 {
                bytes[3] = flags;
            }
            let res = decode(&bytes);
            if len == 3 {
                assert_eq!(res, Err(OptionError::BadLength { subtype: 2, len }));
                continue;
            }
            let ok = len == expected || (has_map && len == expected + 2);
            match res {
                Ok(MptcpOption::Dss(d)) => {
                    assert!(ok, "flags {flags:#x} len {len}");
                    assert_eq!(d.flags(), canonical_flags);
                    assert_eq!(
                        d.mapping.map(|m| m.checksum.is_some()),
                        has_map.then_some(len == expected + 2)
                    );
                    let mut canonical = bytes.clone();
                    canonical[3] = canonical_flags;
                    assert_eq!(enc(&MptcpOption::Dss(d)), canonical);
                }
                Err(e) => {
                    assert!(!ok, "flags {flags:#x} len {len}: {e:?}");
                    assert_eq!(e, OptionError::BadLength { subtype: 2, len });
                }
                Ok(other) => panic!("unexpected {other:?}"),
            }
        }
    }
}

#[test]
fn dss_reserved_bits_ignored() {
    let canonical = [30u8, 8, 0x20, 0x01, 1, 2, 3, 4];
    let noisy = [30u8, 8, 0x2f, 0xe1, 1, 2, 3, 4];
    assert_eq!(decode(&noisy), decode(&canonical));
    assert_eq!(enc(&decode(&noisy).unwrap()), canonical);
}

#[test]
fn add_addr_all_lengths() {
    let v4 = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9));
    let v6 = IpAddr::V6(Ipv6Addr::new(0xfe80, 1, 2, 3, 4, 5, 6, 7));
    let mut seen = Vec::new();
    for addr in [v4, v6] {
        for port in [None, Some(0), Some(65535)] {
            for hmac in [None, Some(K1)] {
                let a = AddAddr {
                    addr_id: 42,
                    addr,
                    port,
                    hmac,
                };
                assert_eq!(a.echo(), hmac.is_none());
                let opt = MptcpOption::AddAddr(a);
                let bytes = enc(&opt);
                assert_eq!(bytes[2] & 1, u8::from(hmac.is_none()), "E flag");
                seen.push(bytes.len());
                roundtrip(opt);
            }
        }
    }
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen, vec![8, 10, 16, 18, 20, 22, 28, 30]);
}

#[test]
fn add_addr_length_must_match_echo() {
    // E = 1 with the lengths of E = 0 and vice versa.
    for len in [16u8, 18, 28, 30] {
        let mut b = vec![0u8; usize::from(len)];
        b[..3].copy_from_slice(&[30, len, 0x31]);
        assert_eq!(decode(&b), Err(OptionError::BadLength { subtype: 3, len }));
    }
    for len in [8u8, 10, 20, 22] {
        let mut b = vec![0u8; usize::from(len)];
        b[..3].copy_from_slice(&[30, len, 0x30]);
        assert_eq!(decode(&b), Err(OptionError::BadLength { subtype: 3, len }));
    }
    for len in [3u8, 4, 7, 9, 11, 12, 17, 19, 21, 23, 29, 31] {
        for e in [0x30u8, 0x31] {
            let mut b = vec![0u8; usize::from(len)];
            b[..3].copy_from_slice(&[30, len, e]);
            assert_eq!(decode(&b), Err(OptionError::BadLength { subtype: 3, len }));
        }
    }
}

#[test]
fn remove_addr_counts() {
    let ids = [9u8, 8, 7, 6, 5, 4, 3, 2, 1];
    for n in 1..=8 {
        let opt = MptcpOption::RemoveAddr(RemoveAddr { ids: &ids[..n] });
        assert_eq!(opt.encoded_len(), 3 + n);
        roundtrip(opt);
    }
    let mut buf = [0u8; 32];
    assert_eq!(
        MptcpOption::RemoveAddr(RemoveAddr { ids: &[] }).encode(&mut buf),
        Err(OptionError::InvalidField)
    );
    assert_eq!(
        MptcpOption::RemoveAddr(RemoveAddr { ids: &ids }).encode(&mut buf),
        Err(OptionError::InvalidField)
    );
    assert_eq!(
        decode(&[30, 3, 0x40]),
        Err(OptionError::BadLength { subtype: 4, len: 3 })
    );
    let mut b = vec![30u8, 12, 0x40];
    b.extend_from_slice(&ids);
    assert_eq!(
        decode(&b),
        Err(OptionError::BadLength {
            subtype: 4,
            len: 12
        })
    );
}

#[test]
fn small_options_roundtrip() {
    for backup in [false, true] {
        roundtrip(MptcpOption::MpPrio(MpPrio { backup }));
    }
    for dsn in [0, 1, u64::MAX] {
        roundtrip(MptcpOption::MpFail(MpFail { dsn }));
        roundtrip(MptcpOption::MpFastclose(MpFastclose { receiver_key: dsn }));
    }
    for flags in 0..=15u8 {
        for reason in 0..=255u8 {
            let r = MpTcpRst { flags, reason };
            assert_eq!(r.transient(), flags & 1 != 0);
            assert_eq!(
                r.reason_code().map(ResetReason::code),
                (reason <= 6).then_some(reason)
            );
            roundtrip(MptcpOption::MpTcpRst(r));
        }
    }
    assert_eq!(
        MptcpOption::MpTcpRst(MpTcpRst {
            flags: 0x10,
            reason: 0
        })
        .encode(&mut [0u8; 8]),
        Err(OptionError::InvalidField)
    );
}

#[test]
fn reset_reason_codes() {
    let all = [
        (ResetReason::Unspecified, 0),
        (ResetReason::MptcpSpecific, 1),
        (ResetReason::LackOfResources, 2),
        (ResetReason::AdministrativelyProhibited, 3),
        (ResetReason::TooMuchOutstandingData, 4),
        (ResetReason::UnacceptablePerformance, 5),
        (ResetReason::MiddleboxInterference, 6),
    ];
    for (r, code) in all {
        assert_eq!(r.code(), code);
        assert_eq!(u8::from(r), code);
        assert_eq!(ResetReason::from_code(code), Some(r));
    }
    assert_eq!(ResetReason::from_code(7), None);
}

// ---------------------------------------------------------------------------
// Rejections
// ---------------------------------------------------------------------------

#[test]
fn reject_framing() {
    assert_eq!(decode(&[]), Err(OptionError::Truncated));
    assert_eq!(decode(&[30]), Err(OptionError::Truncated));
    assert_eq!(
        decode(&[29, 4, 0x01, 0x01]),
        Err(OptionError::WrongKind(29))
    );
    assert_eq!(decode(&[1]), Err(OptionError::WrongKind(1)));
    assert_eq!(decode(&[30, 0]), Err(OptionError::TooShort(0)));
    assert_eq!(decode(&[30, 2, 0x20]), Err(OptionError::TooShort(2)));
    // Length octet says more than there is.
    assert_eq!(
        decode(&[30, 12, 0x01, 0x01, 1, 2, 3]),
        Err(OptionError::Truncated)
    );
    assert_eq!(decode(&[30, 3]), Err(OptionError::Truncated));
}

#[test]
fn trailing_bytes_ignored() {
    let wire = [30u8, 3, 0x51, 0xff, 0xff, 0xff];
    assert_eq!(
        decode(&wire),
        Ok(MptcpOption::MpPrio(MpPrio { backup: true }))
    );
}

#[test]
fn reject_unknown_subtypes() {
    for subtype in 9..=15u8 {
        assert_eq!(
            decode(&[30, 4, subtype << 4, 0]),
            Err(OptionError::UnknownSubtype(subtype))
        );
    }
}

#[test]
fn reject_bad_lengths() {
    let cases: &[(u8, &[u8])] = &[
        (0, &[3, 5, 11, 13, 19, 21, 23, 25, 40]),
        (1, &[3, 4, 11, 13, 15, 17, 20, 23, 25]),
        (5, &[4, 5, 12]),
        (6, &[3, 4, 11, 13, 20]),
        (7, &[3, 4, 11, 13, 20]),
        (8, &[3, 5, 12]),
    ];
    for &(subtype, lens) in cases {
        for &len in lens {
            let mut b = vec![0u8; usize::from(len)];
            // Valid version/flags for MP_CAPABLE so only the length is wrong.
            b[..3].copy_from_slice(&[30, len, subtype << 4 | 1]);
            if len > 3 {
                b[3] = 1;
            }
            assert_eq!(
                decode(&b),
                Err(OptionError::BadLength { subtype, len }),
                "subtype {subtype} len {len}"
            );
        }
    }
    // DSS checksum without a mapping.
    assert_eq!(
        decode(&[30, 10, 0x20, 0x01, 0, 0, 0, 0, 0, 0]),
        Err(OptionError::BadLength {
            subtype: 2,
            len: 10
        })
    );
    // MP_PRIO with the RFC 6824 address id (length 4) is not v1.
    assert_eq!(
        decode(&[30, 4, 0x51, 3]),
        Err(OptionError::BadLength { subtype: 5, len: 4 })
    );
}

#[test]
fn reject_mp_capable_version_distinctly() {
    // A v0 (RFC 6824) SYN carries a key: length 12 with version 0.
    let v0_syn = [30u8, 12, 0x00, 0x81, 1, 2, 3, 4, 5, 6, 7, 8];
    assert_eq!(decode(&v0_syn), Err(OptionError::UnsupportedVersion(0)));
    assert_eq!(
        decode(&[30, 4, 0x00, 0x01]),
        Err(OptionError::UnsupportedVersion(0))
    );
    // A future version on the SYN is accepted (we answer with v1).
    let MptcpOption::MpCapable(m) = decode(&[30, 4, 0x02, 0x01]).unwrap() else {
        panic!()
    };
    assert_eq!(m.version, 2);
}

#[test]
fn reject_mp_capable_flags() {
    // No H.
    assert_eq!(
        decode(&[30, 4, 0x01, 0x80]),
        Err(OptionError::BadFlags {
            subtype: 0,
            flags: 0x80
        })
    );
    // B set.
    assert_eq!(
        decode(&[30, 4, 0x01, 0x41]),
        Err(OptionError::BadFlags {
            subtype: 0,
            flags: 0x41
        })
    );
    // An unassigned crypto bit (D) next to H.
    assert_eq!(
        decode(&[30, 4, 0x01, 0x11]),
        Err(OptionError::BadFlags {
            subtype: 0,
            flags: 0x11
        })
    );
}

#[test]
fn dss_orphan_flags_ignored() {
    // Mainline 6.12 mptcp_parse_option() ignores 'a' without 'A' and 'm'
    // or 'F' without 'M'; the length must match the remaining flags.
    // 'a' alone: a bare DSS (length 4).
    let bare = Dss {
        data_ack: None,
        mapping: None,
    };
    for flags in [0x02u8, 0x08, 0x10, 0x1a] {
        let wire = [30, 4, 0x20, flags];
        let opt = decode(&wire).unwrap();
        assert_eq!(opt, MptcpOption::Dss(bare), "flags {flags:#x}");
        assert_eq!(enc(&opt), [30, 4, 0x20, 0x00]);
        // The length of the ignored fields is not expected.
        assert_eq!(
            decode(&[30, 12, 0x20, flags, 0, 0, 0, 0, 0, 0, 0, 0]),
            Err(OptionError::BadLength {
                subtype: 2,
                len: 12
            }),
            "flags {flags:#x}"
        );
    }
    // 'A' with 'm' and 'F' (no 'M'): a 4-octet Data ACK only.
    let opt = decode(&[30, 8, 0x20, 0x19, 0, 0, 0, 7]).unwrap();
    assert_eq!(
        opt,
        MptcpOption::Dss(Dss {
            data_ack: Some(DataSeq::Bits32(7)),
            mapping: None,
        })
    );
    assert_eq!(enc(&opt), [30, 8, 0x20, 0x01, 0, 0, 0, 7]);
    // 'M' with 'a' (no 'A'): a 32-bit mapping only.
    let wire = [30u8, 14, 0x20, 0x06, 0, 0, 0, 9, 0, 0, 0, 1, 0, 5];
    let opt = decode(&wire).unwrap();
    assert_eq!(
        opt,
        MptcpOption::Dss(Dss {
            data_ack: None,
            mapping: Some(DssMapping {
                dsn: DataSeq::Bits32(9),
                ssn: 1,
                data_len: 5,
                checksum: None,
                data_fin: false,
            }),
        })
    );
    let mut canonical = wire;
    canonical[3] = 0x04;
    assert_eq!(enc(&opt), canonical);
}

#[test]
fn encode_buffer_too_small() {
    let opt = MptcpOption::MpFail(MpFail { dsn: 1 });
    let mut buf = [0xeeu8; 11];
    assert_eq!(
        opt.encode(&mut buf),
        Err(OptionError::BufferTooSmall { needed: 12 })
    );
    assert_eq!(buf, [0xee; 11], "nothing written on error");
    let mut big = [0xeeu8; 40];
    assert_eq!(opt.encode(&mut big), Ok(12));
    assert!(big[12..].iter().all(|&b| b == 0xee), "no padding written");
}

#[test]
fn reserved_bits_ignored_elsewhere() {
    // MP_JOIN SYN reserved bits, MP_FAIL reserved octet, ADD_ADDR, RM_ADDR.
    assert_eq!(
        decode(&[30, 12, 0x1f, 3, 0, 0, 0, 1, 0, 0, 0, 2]),
        decode(&[30, 12, 0x11, 3, 0, 0, 0, 1, 0, 0, 0, 2])
    );
    assert_eq!(
        decode(&[30, 12, 0x6f, 0xff, 0, 0, 0, 0, 0, 0, 0, 9]),
        Ok(MptcpOption::MpFail(MpFail { dsn: 9 }))
    );
    assert_eq!(
        decode(&[30, 8, 0x3f, 1, 10, 0, 0, 1]),
        decode(&[30, 8, 0x31, 1, 10, 0, 0, 1])
    );
    assert_eq!(
        decode(&[30, 4, 0x4f, 6]),
        Ok(MptcpOption::RemoveAddr(RemoveAddr { ids: &[6] }))
    );
    assert_eq!(
        decode(&[30, 3, 0x5e]),
        Ok(MptcpOption::MpPrio(MpPrio { backup: false }))
    );
}

#[test]
fn errors_display() {
    let e = OptionError::BadLength { subtype: 2, len: 9 };
    assert_eq!(e.to_string(), "bad length 9 for MPTCP subtype 2");
    assert_eq!(
        OptionError::UnsupportedVersion(0).to_string(),
        "unsupported MPTCP version 0"
    );
}

// ---------------------------------------------------------------------------
// Options-area iterator
// ---------------------------------------------------------------------------

#[test]
fn area_mixed_options() {
    let mut area = vec![
        1, 1, // NOP NOP
        2, 4, 0x05, 0xb4, // MSS
        4, 2, // SACK permitted
        8, 10, 0, 0, 0, 1, 0, 0, 0, 2, // timestamps
    ];
    area.extend_from_slice(&[30, 8, 0x20, 0x01, 0, 0, 0, 7]); // DSS
    area.extend_from_slice(&[1]); // NOP
    area.extend_from_slice(&[30, 8, 0x31, 2, 10, 0, 0, 2]); // ADD_ADDR echo
    area.extend_from_slice(&[30, 4, 0x90, 0]); // unknown subtype 9
    area.extend_from_slice(&[30, 3, 0x00]); // MP_CAPABLE of length 3
    area.push(0); // EOL
    area.extend_from_slice(&[30, 3, 0x51]); // after EOL: ignored

    let got: Vec<_> = mptcp_options(&area).collect();
    assert_eq!(
        got,
        vec![
            Ok(MptcpOption::Dss(Dss {
                data_ack: Some(DataSeq::Bits32(7)),
                mapping: None
            })),
            Ok(MptcpOption::AddAddr(AddAddr {
                addr_id: 2,
                addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
                port: None,
                hmac: None
            })),
            Err(OptionError::UnknownSubtype(9)),
            Err(OptionError::BadLength { subtype: 0, len: 3 }),
        ]
    );

    let kinds: Vec<u8> = TcpOptions::new(&area).map(|o| o.unwrap().kind).collect();
    assert_eq!(kinds, vec![2, 4, 8, 30, 30, 30, 30]);
}

#[test]
fn area_truncated_and_malformed() {
    assert_eq!(mptcp_options(&[]).count(), 0);
    assert_eq!(mptcp_options(&[1, 1, 1, 1]).count(), 0);
    assert_eq!(mptcp_options(&[0, 30, 3, 0x51]).count(), 0);
    // MPTCP option running past the area.
    let got: Vec<_> = mptcp_options(&[1, 30, 20, 0x20, 0]).collect();
    assert_eq!(got, vec![Err(OptionError::Truncated)]);
    // Kind without length octet.
    let got: Vec<_> = mptcp_options(&[30, 3, 0x51, 8]).collect();
    assert_eq!(
        got,
        vec![
            Ok(MptcpOption::MpPrio(MpPrio { backup: true })),
            Err(OptionError::Truncated)
        ]
    );
    // Silly length: stops the walk, later options are not seen.
    let got: Vec<_> = mptcp_options(&[8, 1, 30, 3, 0x51]).collect();
    assert_eq!(got, vec![Err(OptionError::MalformedArea)]);
    let got: Vec<_> = mptcp_options(&[30, 0, 30, 3, 0x51]).collect();
    assert_eq!(got, vec![Err(OptionError::MalformedArea)]);
    // A length-2 MPTCP option is well framed but has no subtype.
    let got: Vec<_> = mptcp_options(&[30, 2, 30, 3, 0x51]).collect();
    assert_eq!(
        got,
        vec![
            Err(OptionError::TooShort(2)),
            Ok(MptcpOption::MpPrio(MpPrio { backup: true }))
        ]
    );
}

#[test]
fn area_encode_several() {
    // Encode a typical third-ACK option set into one area and walk it.
    let ids = [3u8, 4, 5];
    let opts = [
        MptcpOption::MpCapable(MpCapable::new(
            MpCapablePayload::Ack {
                sender_key: K1,
                receiver_key: K2,
            },
            0,
        )),
        MptcpOption::RemoveAddr(RemoveAddr { ids: &ids }),
    ];
    let mut area = [0u8; 40];
    let mut pos = 0;
    for o in &opts {
        pos += o.encode(&mut area[pos..]).unwrap();
    }
    area[pos] = TCPOPT_NOP;
    let got: Vec<_> = mptcp_options(&area[..pos + 1])
        .map(Result::unwrap)
        .collect();
    assert_eq!(got, opts);
}
