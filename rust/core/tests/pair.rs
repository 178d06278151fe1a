// SPDX-License-Identifier: GPL-2.0

//! A client and a server `Endpoint` through a simulated path (see
//! `common`): handshake and transfer, every RFC 8684 §3.7 fallback case,
//! checksum failure, DSN rewrites, data-level duplicates, DATA_FIN and
//! close, fastclose, DATA_ACK width, and property tests.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::*;
use mptcp_core::endpoint::*;
use mptcp_core::options::*;
use proptest::prelude::*;

const CSUM: Config = Config { checksum: true };
const PLAIN: Config = Config { checksum: false };

/// DSN of octet `off` of side `i`'s stream.
fn dsn_of(p: &Pair, i: usize, off: usize) -> u64 {
    p.ep(i)
        .local_idsn()
        .wrapping_add(1)
        .wrapping_add(off as u64)
}

/// Stream offset of a mapping sent by side `i`.
fn off_of(p_idsn: u64, m: &DssMapping) -> usize {
    m.dsn.value().wrapping_sub(p_idsn.wrapping_add(1)) as usize
}

fn assert_closed_cleanly(p: &Pair) {
    for i in [C, S] {
        assert_eq!(p.ep(i).state(), MskState::Closed, "side {i} state");
        assert_eq!(p.ep(i).error(), None, "side {i} error");
        assert_eq!(p.sides[i].eof, 1, "side {i} eof");
    }
}

/// Handshake, data both ways, close both.
fn transfer(client: Config, server: Config, seed: u64, max_seg: usize) -> Pair {
    let mut p = Pair::new(client, server, seed);
    p.max_seg = max_seg;
    p.handshake();
    p.write_random(C, 200_000);
    p.write_random(S, 150_000);
    // The client speaks first: its first data goes before the server has
    // shown it has the client's key.
    p.send_chunk(C, None);
    p.run();
    p.close(C);
    p.close(S);
    p.run();
    p
}

// ---------------------------------------------------------------------
// 1. Handshake and transfer
// ---------------------------------------------------------------------

#[test]
fn handshake_both_roles() {
    for (cc, sc) in [(PLAIN, PLAIN), (CSUM, PLAIN), (PLAIN, CSUM), (CSUM, CSUM)] {
        let mut p = Pair::new(cc, sc, 1);
        p.handshake();
        let (c, s) = (p.ep(C), p.ep(S));
        // The client waits for the server to show it has its key.
        assert_eq!(c.mode(), SubflowMode::PreEstablished);
        assert_eq!(s.mode(), SubflowMode::FullyEstablished);
        assert_eq!(c.state(), MskState::Established);
        assert_eq!(s.state(), MskState::Established);
        assert_eq!(c.remote_key(), s.local_key());
        assert_eq!(s.remote_key(), c.local_key());
        assert_eq!(c.remote_idsn(), s.local_idsn());
        let csum = cc.checksum || sc.checksum;
        assert_eq!(c.checksum_enabled(), csum);
        assert_eq!(s.checksum_enabled(), csum);
        assert_eq!(p.sides[C].count(Mib::MPCapableSYNTX), 1);
        assert_eq!(p.sides[C].count(Mib::MPCapableSYNACKRX), 1);
        assert_eq!(p.sides[S].count(Mib::MPCapableSYNRX), 1);
        assert_eq!(p.sides[S].count(Mib::MPCapableACKRX), 1);
        // The wire: SYN (flag A as configured), SYN-ACK key, third ACK keys.
        let syn = p.sent_log[C][0].mpc().expect("SYN MP_CAPABLE");
        assert_eq!(syn.payload, MpCapablePayload::Syn);
        assert_eq!(syn.checksum_required(), cc.checksum);
        let synack = p.sent_log[S][0].mpc().expect("SYN-ACK MP_CAPABLE");
        assert_eq!(
            synack.payload,
            MpCapablePayload::SynAck {
                sender_key: s.local_key()
            }
        );
        assert_eq!(synack.checksum_required(), csum);
        let ack = p.sent_log[C][1].mpc().expect("third ACK MP_CAPABLE");
        assert_eq!(
            ack.payload,
            MpCapablePayload::Ack {
                sender_key: c.local_key(),
                receiver_key: s.local_key()
            }
        );
    }
}

#[test]
fn transfer_byte_exact_both_ways() {
    for (seed, cc, sc, max_seg) in [
        (2, PLAIN, PLAIN, 1460),
        (3, CSUM, CSUM, 1460),
        (4, PLAIN, CSUM, 9000),
        (5, CSUM, PLAIN, 65535),
    ] {
        let p = transfer(cc, sc, seed, max_seg);
        p.assert_exact();
        assert_closed_cleanly(&p);
        for i in [C, S] {
            assert!(p.ep(i).is_fully_established(), "side {i}");
            assert_eq!(p.sides[i].count(Mib::DuplicateData), 0);
            assert_eq!(p.sides[i].count(Mib::DataCsumErr), 0);
            assert_eq!(p.ep(i).counters().malformed_options, 0);
        }
        // The client's first data: MP_CAPABLE with its data-level length.
        let first = p.sent_log[C].iter().find(|s| s.is_data()).unwrap();
        match first.mpc().unwrap().payload {
            MpCapablePayload::AckData {
                data_len, checksum, ..
            } => {
                assert_eq!(usize::from(data_len), first.payload.len());
                assert_eq!(checksum.is_some(), cc.checksum || sc.checksum);
            }
            other => panic!("first data carries {other:?}"),
        }
        // Every other data segment has a DSS mapping of its payload.
        for s in p.sent_log[C].iter().filter(|s| s.is_data()).skip(1) {
            let m = s
                .dss()
                .unwrap_or_else(|| panic!("{s:?} {:?}", s.mptcp()))
                .mapping
                .unwrap();
            assert!(usize::from(m.data_len) >= s.payload.len());
        }
    }
}

// ---------------------------------------------------------------------
// 2. Fallback (RFC 8684 §3.7)
// ---------------------------------------------------------------------

/// Data both ways after a fallback, then close: byte-exact, closed by the
/// TCP FINs.
fn finish_plain(p: &mut Pair) {
    p.write_random(C, 30_000);
    p.write_random(S, 20_000);
    p.run();
    p.close(C);
    p.close(S);
    p.run();
    p.assert_exact();
    assert_closed_cleanly(p);
}

#[test]
fn fallback_mp_capable_stripped_from_synack() {
    let mut p = Pair::new(PLAIN, PLAIN, 10);
    p.set_path(|from, idx, seg| {
        if from == S && idx == 0 {
            seg.strip_mptcp();
        }
    });
    p.handshake();
    assert!(p.ep(C).is_fallback());
    assert_eq!(p.sides[C].count(Mib::MPCapableFallbackSYNACK), 1);
    // The client's third ACK has no MP_CAPABLE: the server falls back too.
    assert!(p.ep(S).is_fallback());
    assert_eq!(p.sides[S].count(Mib::MPCapableFallbackACK), 1);
    finish_plain(&mut p);
    assert!(p.sent_log[C][1..].iter().all(|s| s.options.is_empty()));
}

#[test]
fn fallback_mp_capable_stripped_from_third_ack() {
    let mut p = Pair::new(PLAIN, PLAIN, 11);
    p.set_path(|from, idx, seg| {
        if from == C && idx == 1 {
            seg.strip_mptcp();
        }
    });
    p.handshake();
    assert!(p.ep(S).is_fallback());
    assert_eq!(p.sides[S].count(Mib::MPCapableFallbackACK), 1);
    assert_eq!(p.sides[S].count(Mib::MPCapableACKRX), 0);
    // The server's next segment has no option: the client falls back.
    finish_plain(&mut p);
    assert!(p.ep(C).is_fallback());
    assert_eq!(p.sides[C].count(Mib::MPCapableDataFallback), 1);
}

#[test]
fn fallback_options_stripped_from_first_data_segment() {
    let mut p = Pair::new(PLAIN, PLAIN, 12);
    p.set_path(|from, idx, seg| {
        if from == S && idx == 1 {
            seg.strip_mptcp();
        }
    });
    p.handshake();
    p.write_random(S, 5000);
    p.send_chunk(S, Some(1000));
    p.deliver(C);
    assert!(p.ep(C).is_fallback());
    assert_eq!(p.sides[C].count(Mib::MPCapableDataFallback), 1);
    // The client's data then has no mapping: the server falls back too.
    finish_plain(&mut p);
    assert!(p.ep(S).is_fallback());
    assert_eq!(p.sides[S].count(Mib::DssFallback), 1);
}

#[test]
fn fallback_infinite_mapping_received() {
    for csum in [PLAIN, CSUM] {
        let mut p = Pair::new(csum, PLAIN, 13);
        p.set_path(|from, idx, seg| {
            if from == C && idx == 4 {
                assert!(seg.is_data());
                seg.map_dss(|m| {
                    m.ssn = 0;
                    m.data_len = 0;
                    m.data_fin = false;
                    m.checksum = m.checksum.map(|_| 0);
                });
            }
        });
        p.handshake();
        p.write_random(C, 20_000);
        p.run();
        assert!(p.ep(S).is_fallback());
        assert_eq!(p.sides[S].count(Mib::InfiniteMapRx), 1);
        assert_eq!(p.sides[S].count(Mib::DssFallback), 1);
        // The server's unmapped data makes the client fall back as well.
        finish_plain(&mut p);
        assert!(p.ep(C).is_fallback());
        assert_eq!(p.sides[C].count(Mib::DssFallback), 1);
    }
}

#[test]
fn fallback_mp_capable_data_len_zero() {
    let mut p = Pair::new(PLAIN, PLAIN, 14);
    p.set_path(|from, _, seg| {
        if from == C && seg.is_data() {
            seg.map_options(|o| {
                if let MptcpOption::MpCapable(MpCapable {
                    payload: MpCapablePayload::AckData { data_len, .. },
                    ..
                }) = o
                {
                    *data_len = 0;
                }
            });
        }
    });
    p.handshake();
    p.write_random(C, 3000);
    p.send_chunk(C, Some(1000));
    p.deliver(S);
    assert!(p.ep(S).is_fallback());
    assert_eq!(p.sides[S].count(Mib::InfiniteMapRx), 1);
    assert_eq!(p.sides[S].count(Mib::DssFallback), 1);
    assert_eq!(p.sides[S].rx.len(), 1000, "the data is kept");
    // The server's ACK has no option: the client falls back.
    p.deliver(C);
    assert!(p.ep(C).is_fallback());
    assert_eq!(p.sides[C].count(Mib::MPCapableDataFallback), 1);
    finish_plain(&mut p);
}

#[test]
fn fallback_simultaneous_open() {
    let mut p = Pair::new_clients(15);
    p.simultaneous_open();
    for i in [0, 1] {
        assert!(p.ep(i).is_fallback(), "side {i}");
        assert_eq!(p.sides[i].count(Mib::SimultConnectFallback), 1);
        assert_eq!(p.ep(i).state(), MskState::Established);
    }
    finish_plain(&mut p);
}

#[test]
fn fallback_plain_tcp_client() {
    let mut p = Pair::new(PLAIN, PLAIN, 16);
    p.set_path(|from, idx, seg| {
        if from == C && idx == 0 {
            seg.strip_mptcp();
        }
    });
    p.handshake();
    assert!(p.ep(S).is_fallback());
    assert_eq!(p.sides[S].count(Mib::MPCapableSYNRX), 0);
    assert!(p.sent_log[S][0].options.is_empty(), "no MP_CAPABLE SYN-ACK");
    assert_eq!(p.sides[C].count(Mib::MPCapableFallbackSYNACK), 1);
    finish_plain(&mut p);
}

// ---------------------------------------------------------------------
// 3. Payload rewritten with checksums: MP_FAIL, infinite mapping
// ---------------------------------------------------------------------

#[test]
fn checksum_failure_mp_fail_then_infinite_mapping() {
    for (cc, sc) in [(CSUM, PLAIN), (PLAIN, CSUM)] {
        let mut p = Pair::new(cc, sc, 20);
        let flipped = Rc::new(RefCell::new(None::<(u64, usize)>));
        let f = flipped.clone();
        p.set_path(move |from, idx, seg| {
            if from == C && idx == 12 && seg.is_data() {
                let m = seg.dss().unwrap().mapping.unwrap();
                let at = seg.payload.len() / 2;
                seg.payload[at] ^= 0x5a;
                *f.borrow_mut() = Some((m.dsn.value(), at));
            }
        });
        p.handshake();
        p.write_random(C, 60_000);
        p.run();
        let (dsn, at) = flipped.borrow().expect("a segment was rewritten");
        let (c, s) = (&p.sides[C], &p.sides[S]);
        assert_eq!(s.count(Mib::DataCsumErr), 1);
        assert_eq!(s.count(Mib::MPFailTx), 1);
        assert_eq!(c.count(Mib::MPFailRx), 1);
        // The sender answers with MP_FAIL (mainline's originator resets
        // without it), then the infinite mapping on its next data.
        assert_eq!(c.count(Mib::MPFailTx), 1);
        assert_eq!(s.count(Mib::MPFailRx), 1);
        assert_eq!(c.count(Mib::InfiniteMapTx), 1);
        assert_eq!(s.count(Mib::InfiniteMapRx), 1);
        assert_eq!(s.count(Mib::DssFallback), 1);
        assert!(p.ep(C).is_fallback() && p.ep(S).is_fallback());
        for side in [C, S] {
            for seg in &p.sent_log[side] {
                let opts = seg.mptcp();
                if opts.iter().any(|o| matches!(o, MptcpOption::MpFail(_))) {
                    assert!(seg.payload.is_empty(), "MP_FAIL on a segment with data");
                }
                let infinite = opts.iter().any(|o| {
                    matches!(o, MptcpOption::Dss(d) if d.mapping.is_some_and(|m| m.data_len == 0))
                });
                if infinite {
                    assert!(!seg.payload.is_empty(), "infinite mapping without data");
                }
            }
        }
        // MP_FAIL names the failed mapping; the infinite mapping answers.
        let fail = p.sent_log[S]
            .iter()
            .flat_map(|s| s.mptcp())
            .find_map(|o| match o {
                MptcpOption::MpFail(f) => Some(f.dsn),
                _ => None,
            });
        assert_eq!(fail, Some(dsn));
        // Nothing lost or added: the rewritten octet is delivered as received.
        let off = (dsn - dsn_of(&p, C, 0)) as usize + at;
        assert_eq!(rewritten(&c.app_tx, &s.rx), vec![off]);
        p.write_random(S, 10_000);
        p.run();
        p.close(C);
        p.close(S);
        p.run();
        assert_eq!(p.sides[C].rx, p.sides[S].app_tx);
        assert_closed_cleanly(&p);
    }
}

/// Our MP_FAIL goes unanswered (the path drops the peer's MP_FAIL and it
/// has no new data for the infinite mapping): the detector waits, still
/// MPTCP with checksums unchecked, and resets the connection when its
/// timer ([`mptcp_core::fail::ANSWER_TIMEOUT_MS`]) fires, as mainline's
/// fail timeout.  An answered MP_FAIL stops the wait.
#[test]
fn mp_fail_unanswered_resets_after_the_timeout() {
    for answered in [false, true] {
        let mut p = Pair::new(PLAIN, CSUM, 21);
        // Armed after a first transfer: the last data segment is rewritten.
        let armed = Rc::new(RefCell::new(false));
        let a = armed.clone();
        p.set_path(move |from, _, seg| {
            if from == C && seg.is_data() && std::mem::take(&mut *a.borrow_mut()) {
                let at = seg.payload.len() / 2;
                seg.payload[at] ^= 0x5a;
            }
            if from == C
                && seg
                    .mptcp()
                    .iter()
                    .any(|o| matches!(o, MptcpOption::MpFail(_)))
            {
                // A middlebox eats the answer: an ACK without options.
                seg.options.clear();
            }
        });
        p.handshake();
        p.write_random(C, 20_000);
        p.run();
        *armed.borrow_mut() = true;
        p.write_random(C, 500);
        p.run();
        let (c, s) = (&p.sides[C], &p.sides[S]);
        assert_eq!(s.count(Mib::MPFailTx), 1);
        assert_eq!(c.count(Mib::MPFailRx), 1);
        assert_eq!(c.count(Mib::MPFailTx), 1, "the answer went out");
        assert_eq!(s.count(Mib::MPFailRx), 0, "and was lost");
        assert_eq!(c.count(Mib::InfiniteMapTx), 0, "no new data for it");
        assert!(p.ep(S).awaiting_fail_answer() && !p.ep(S).is_fallback());
        assert!(!p.ep(C).awaiting_fail_answer());
        // The sender's timer (it awaits nothing) does nothing.
        assert!(!p.sides[C].ep.fail_timeout());
        if answered {
            // The infinite mapping on the sender's next data ends the wait.
            p.write_random(C, 5_000);
            p.run();
            assert_eq!(p.sides[S].count(Mib::InfiniteMapRx), 1);
            assert!(!p.ep(S).awaiting_fail_answer());
            assert!(!p.sides[S].ep.fail_timeout());
            continue;
        }
        assert!(p.sides[S].ep.fail_timeout());
        let rst = p.transmit(S, TCPHDR_RST | TCPHDR_ACK, Vec::new(), None);
        assert!(rst
            .mptcp()
            .iter()
            .any(|o| matches!(o, MptcpOption::MpTcpRst(_))));
        p.flush();
        assert_eq!(p.ep(S).error(), Some(CloseError::Aborted));
        assert_eq!(p.ep(C).error(), Some(CloseError::PeerReset));
    }
}

/// The offsets at which `rx` differs from `tx`, after checking that it is
/// as long.
fn rewritten(tx: &[u8], rx: &[u8]) -> Vec<usize> {
    assert_eq!(rx.len(), tx.len());
    (0..tx.len()).filter(|&i| tx[i] != rx[i]).collect()
}

/// The first mapping already fails its checksum (payload rewritten from
/// the start): the receiver falls back at once without MP_FAIL (mainline
/// sends MP_FAIL only once a checksum passed), the sender on the
/// receiver's unmapped data; nothing is lost.
#[test]
fn first_checksum_failure_falls_back_without_mp_fail() {
    let mut p = Pair::new(CSUM, CSUM, 21);
    let flipped = Rc::new(RefCell::new(None::<usize>));
    let f = flipped.clone();
    p.set_path(move |from, _idx, seg| {
        if from == C && seg.is_data() && f.borrow().is_none() {
            let at = seg.payload.len() / 2;
            seg.payload[at] ^= 0x5a;
            *f.borrow_mut() = Some(at);
        }
    });
    p.handshake();
    p.write_random(C, 30_000);
    p.run();
    let at = flipped.borrow().expect("a segment was rewritten");
    let (c, s) = (&p.sides[C], &p.sides[S]);
    assert_eq!(s.count(Mib::DataCsumErr), 1);
    assert_eq!(s.count(Mib::DssFallback), 1);
    assert_eq!(s.count(Mib::MPFailTx), 0);
    assert_eq!(c.count(Mib::MPFailRx), 0);
    assert!(p.ep(S).is_fallback());
    // Nothing lost or added: the rewritten octet is delivered as received.
    assert_eq!(rewritten(&c.app_tx, &s.rx), vec![at]);
    p.write_random(S, 10_000);
    p.run();
    assert!(
        p.ep(C).is_fallback(),
        "the sender falls back on unmapped data"
    );
    assert_eq!(p.sides[C].rx, p.sides[S].app_tx);
    p.close(C);
    p.close(S);
    p.run();
    assert_closed_cleanly(&p);
}

#[test]
fn mp_fail_ignored_without_checksums_and_on_rst() {
    let mut p = Pair::new(PLAIN, PLAIN, 21);
    p.handshake();
    p.write_random(C, 5000);
    p.run();
    let fail = encode_all(&[MptcpOption::MpFail(MpFail { dsn: 7 })]);
    let seq = p.sides[S].snd_nxt;
    p.inject(
        C,
        Seg {
            flags: TCPHDR_ACK,
            seq,
            options: fail.clone(),
            payload: vec![],
        },
    );
    p.deliver(C);
    assert_eq!(p.sides[C].count(Mib::MPFailRx), 1);
    assert!(!p.ep(C).wants_ack());
    assert!(!p.ep(C).is_fallback());
    // With checksums, but on a RST: counted, not acted on.
    let mut p = Pair::new(CSUM, CSUM, 22);
    p.handshake();
    let seq = p.sides[S].snd_nxt;
    p.inject(
        C,
        Seg {
            flags: TCPHDR_RST,
            seq,
            options: fail,
            payload: vec![],
        },
    );
    p.deliver(C);
    assert_eq!(p.sides[C].count(Mib::MPFailRx), 1);
    assert_eq!(p.sides[C].count(Mib::InfiniteMapTx), 0);
    assert_eq!(p.ep(C).error(), Some(CloseError::PeerReset));
}

// ---------------------------------------------------------------------
// 4. DSN rewritten on the path (no checksums)
// ---------------------------------------------------------------------

#[test]
fn dsn_rewritten_upward_resets() {
    let mut p = Pair::new(PLAIN, PLAIN, 30);
    p.set_path(|from, idx, seg| {
        if from == C && idx == 6 && seg.is_data() {
            seg.map_dss(|m| m.dsn = DataSeq::Bits64(m.dsn.value() + 1000));
        }
    });
    p.handshake();
    p.write_random(C, 40_000);
    p.run();
    let (c, s) = (&p.sides[C], &p.sides[S]);
    assert_eq!(s.count(Mib::DSSCorruptionReset), 1);
    assert_eq!(p.ep(S).error(), Some(CloseError::Corrupt));
    assert_eq!(p.ep(S).state(), MskState::Closed);
    // The RST carries MP_TCPRST "MPTCP-specific error", no MP_FASTCLOSE.
    let rst = p.sent_log[S]
        .iter()
        .find(|s| s.flags & TCPHDR_RST != 0)
        .unwrap();
    let opts = rst.mptcp();
    assert_eq!(
        opts,
        vec![MptcpOption::MpTcpRst(MpTcpRst::new(
            false,
            ResetReason::MptcpSpecific
        ))]
    );
    assert_eq!(s.count(Mib::MPRstTx), 1);
    assert_eq!(c.count(Mib::MPRstRx), 1);
    assert_eq!(p.ep(C).peer_reset_reason(), Some(MPTCP_RST_EMPTCP));
    assert_eq!(p.ep(C).error(), Some(CloseError::PeerReset));
    // What was delivered is exactly the stream before the bad mapping.
    assert!(c.app_tx.starts_with(&s.rx));
    let bad = p.sent_log[C][6].dss().unwrap().mapping.unwrap();
    assert_eq!(s.rx.len(), off_of(p.ep(C).local_idsn(), &bad));
}

#[test]
fn dsn_rewritten_downward_is_a_duplicate() {
    let mut p = Pair::new(PLAIN, PLAIN, 31);
    p.set_path(|from, _, seg| {
        if from == C && seg.is_data() && seg.dss().is_some() {
            let m = seg.dss().unwrap().mapping.unwrap();
            if m.ssn == 3001 {
                // The fourth 1000-octet segment claims the third's DSNs.
                seg.map_dss(|m| m.dsn = DataSeq::Bits64(m.dsn.value() - 1000));
            }
        }
    });
    p.handshake();
    p.write_random(C, 10_000);
    for _ in 0..4 {
        p.send_chunk(C, Some(1000));
        p.flush();
    }
    let s = &p.sides[S];
    assert_eq!(s.count(Mib::DuplicateData), 1);
    assert_eq!(s.rx, p.sides[C].app_tx[..3000]);
    assert_eq!(p.ep(S).state(), MskState::Established);
    // Those octets never come: the next mapping is ahead of the stream.
    p.send_chunk(C, Some(1000));
    p.flush();
    assert_eq!(p.sides[S].count(Mib::DSSCorruptionReset), 1);
    assert_eq!(p.sides[S].rx.len(), 3000);
}

/// A mapping split in two on the path: the first segment's mapping claims
/// the next segment's octets too, and the next brings its own (consistent)
/// one.  Mainline's get_mapping_status() accepts only an identical map for
/// octets the current one still covers: `DSSNotMatching`, an invalid
/// mapping, fallback; the data still arrives byte-exact, and with
/// checksums it is no checksum failure (no MP_FAIL).
#[test]
fn second_mapping_inside_the_current_one_falls_back() {
    for cfg in [PLAIN, CSUM] {
        let mut p = Pair::new(cfg, cfg, 32);
        p.set_path(|from, _, seg| {
            if from == C
                && seg.is_data()
                && seg.dss().and_then(|d| d.mapping).map(|m| m.ssn) == Some(1001)
            {
                seg.map_dss(|m| m.data_len += 1000);
            }
        });
        p.handshake();
        p.write_random(C, 5000);
        for _ in 0..3 {
            p.send_chunk(C, Some(1000));
            p.flush();
        }
        let s = &p.sides[S];
        assert_eq!(s.count(Mib::DSSNotMatching), 1);
        assert_eq!(s.count(Mib::DssFallback), 1);
        assert_eq!(s.count(Mib::DSSNoMatchTCP), 0);
        assert_eq!(s.count(Mib::MPFailTx), 0);
        assert!(p.ep(S).is_fallback());
        assert_eq!(s.rx, p.sides[C].app_tx[..3000]);
        finish_plain(&mut p);
        p.assert_exact();
    }
}

// ---------------------------------------------------------------------
// 5. Data-level retransmission and zero-window probe
// ---------------------------------------------------------------------

#[test]
fn data_level_retransmission_is_skipped() {
    for cfg in [PLAIN, CSUM] {
        let mut p = Pair::new(cfg, cfg, 40);
        p.handshake();
        p.write_random(C, 50_000);
        let mut dups = 0;
        for round in 0..10 {
            // A burst the server has not DATA_ACKed yet ...
            for _ in 0..3 {
                p.send_chunk(C, None);
            }
            // ... re-sent at new subflow sequence numbers, as mainline's
            // __mptcp_retrans() does, before the originals arrive.
            let una = p.ep(C).snd_una();
            let len = (p.ep(C).snd_nxt() - una) as usize;
            let len = len.min(60_000 - round);
            p.retransmit(C, una, len);
            dups += 1;
            p.flush();
        }
        p.run();
        p.close(C);
        p.close(S);
        p.run();
        p.assert_exact();
        assert_closed_cleanly(&p);
        assert_eq!(p.sides[S].count(Mib::DuplicateData), dups);
        assert_eq!(p.sides[S].count(Mib::DSSCorruptionReset), 0);
    }
}

#[test]
fn zero_window_probe_is_skipped() {
    let mut p = Pair::new(PLAIN, PLAIN, 41);
    p.handshake();
    p.write_random(C, 8000);
    p.send_chunk(C, Some(3000));
    p.flush();
    // Mainline probes a closed data-level window with the octet before
    // the DATA_ACK, at a new subflow sequence number.
    let una = p.ep(C).snd_una();
    assert_eq!(una, dsn_of(&p, C, 3000));
    for _ in 0..3 {
        p.retransmit(C, una - 1, 1);
        p.flush();
    }
    assert_eq!(p.sides[S].count(Mib::DuplicateData), 3);
    assert_eq!(p.sides[S].rx.len(), 3000);
    p.run();
    p.close(C);
    p.close(S);
    p.run();
    p.assert_exact();
    assert_closed_cleanly(&p);
}

// ---------------------------------------------------------------------
// 6. DATA_FIN and close
// ---------------------------------------------------------------------

#[test]
fn data_fin_from_either_side() {
    for first in [C, S] {
        let second = 1 - first;
        let mut p = Pair::new(PLAIN, PLAIN, 50 + first as u64);
        p.handshake();
        p.write_random(first, 20_000);
        // Closed before the last data is sent: the DATA_FIN rides on it.
        p.close(first);
        assert_eq!(p.ep(first).state(), MskState::FinWait1);
        p.run();
        assert_eq!(p.ep(first).state(), MskState::FinWait2);
        assert_eq!(p.ep(second).state(), MskState::CloseWait);
        assert_eq!(p.sides[second].eof, 1);
        let last = p.sent_log[first]
            .iter()
            .rev()
            .find(|s| s.is_data())
            .unwrap();
        let m = last.dss().unwrap().mapping.unwrap();
        assert!(m.data_fin);
        assert_eq!(usize::from(m.data_len), last.payload.len() + 1);
        // The other side may still send, then closes.
        p.write_random(second, 7_000);
        p.run();
        p.close(second);
        assert_eq!(p.ep(second).state(), MskState::LastAck);
        p.run();
        p.assert_exact();
        assert_closed_cleanly(&p);
        // MPTCP closes the subflows once the connection is closed.
        assert!(p.sides[C].fin_sent && p.sides[S].fin_sent);
        assert_eq!(p.ep(C).data_ack(), p.ep(S).snd_nxt() + 1);
    }
}

#[test]
fn data_fin_both_at_once() {
    for cfg in [PLAIN, CSUM] {
        let mut p = Pair::new(cfg, cfg, 52);
        p.handshake();
        p.write_random(C, 5_000);
        p.write_random(S, 5_000);
        p.run();
        p.close(C);
        p.close(S);
        // Both DATA_FINs (data-less) cross.
        assert!(p.pump(C) && p.pump(S));
        p.deliver(C);
        p.deliver(S);
        assert_eq!(p.ep(C).state(), MskState::Closing);
        assert_eq!(p.ep(S).state(), MskState::Closing);
        p.run();
        p.assert_exact();
        assert_closed_cleanly(&p);
    }
}

#[test]
fn data_fin_without_payload() {
    let mut p = Pair::new(CSUM, CSUM, 53);
    p.handshake();
    p.write_random(C, 9_000);
    p.run();
    p.close(C);
    assert!(p.ep(C).wants_ack());
    let seg = p.transmit(C, TCPHDR_ACK, Vec::new(), None);
    let m = seg.dss().unwrap().mapping.unwrap();
    assert!(m.data_fin);
    assert_eq!((m.ssn, m.data_len), (0, 1));
    assert_eq!(m.dsn.value(), dsn_of(&p, C, 9_000));
    assert!(m.checksum.is_some());
    p.deliver(S);
    assert_eq!(p.sides[S].eof, 1);
    assert_eq!(p.ep(S).state(), MskState::CloseWait);
    assert_eq!(p.ep(S).data_ack(), dsn_of(&p, C, 9_001));
    p.close(S);
    p.run();
    p.assert_exact();
    assert_closed_cleanly(&p);
}

/// A data-less DATA_FIN from the client at DSN `dsn`, crafted.
fn fake_data_fin(p: &Pair, dsn: u64) -> Seg {
    Seg {
        flags: TCPHDR_ACK,
        seq: p.sides[C].snd_nxt,
        options: encode_all(&[MptcpOption::Dss(Dss {
            data_ack: Some(DataSeq::Bits64(p.ep(C).data_ack())),
            mapping: Some(DssMapping {
                dsn: DataSeq::Bits64(dsn),
                ssn: 0,
                data_len: 1,
                checksum: None,
                data_fin: true,
            }),
        })]),
        payload: vec![],
    }
}

#[test]
fn stale_data_fin_then_the_real_one() {
    let mut p = Pair::new(PLAIN, PLAIN, 54);
    p.handshake();
    p.write_random(C, 10_000);
    p.run();
    // A DATA_FIN behind the data received can never be reached.
    let stale = fake_data_fin(&p, dsn_of(&p, C, 4_000));
    p.inject(S, stale);
    p.flush();
    assert_eq!(p.sides[S].eof, 0);
    assert_eq!(p.ep(S).state(), MskState::Established);
    p.write_random(C, 10_000);
    p.close(C);
    p.run();
    assert_eq!(p.sides[S].eof, 1);
    assert_eq!(p.sides[S].rx, p.sides[C].app_tx);
    p.close(S);
    p.run();
    assert_closed_cleanly(&p);
}

#[test]
fn data_fin_ahead_waits_for_the_data() {
    let mut p = Pair::new(PLAIN, PLAIN, 55);
    p.handshake();
    p.write_random(C, 6_000);
    p.send_chunk(C, Some(1_000));
    p.flush();
    // Announced ahead of the stream: taken only once the stream reaches it.
    let ahead = fake_data_fin(&p, dsn_of(&p, C, 6_000));
    p.inject(S, ahead);
    p.flush();
    assert_eq!(p.sides[S].eof, 0);
    p.send_chunk(C, Some(4_000));
    p.flush();
    assert_eq!(p.sides[S].eof, 0);
    p.send_chunk(C, Some(1_000));
    p.flush();
    assert_eq!(p.sides[S].eof, 1);
    assert_eq!(p.sides[S].rx, p.sides[C].app_tx);
    assert_eq!(p.ep(S).state(), MskState::CloseWait);
}

#[test]
fn subflow_fin_with_the_last_data_and_the_data_fin() {
    // The peer's subflow FIN leaves with its last data and its DATA_FIN,
    // before the DATA_FIN exchange (our kernel glue once did so on a
    // repeated shutdown): the FIN takes a subflow sequence number but no
    // DSN, so the DATA_FIN is reached and acked exactly one past it.
    for cfg in [PLAIN, CSUM] {
        let mut p = Pair::new(cfg, cfg, 56);
        p.handshake();
        p.write_random(C, 3_000);
        p.send_chunk(C, Some(2_000));
        p.flush();
        p.close(C);
        let side = &mut p.sides[C];
        let last = side.app_tx[side.sent..].to_vec();
        side.sent = side.app_tx.len();
        let seg = p.transmit(C, TCPHDR_ACK | TCPHDR_FIN, last, None);
        let m = seg.dss().unwrap().mapping.unwrap();
        assert!(m.data_fin);
        assert_eq!(m.data_len, 1_001);
        p.flush();
        assert_eq!(p.sides[S].eof, 1);
        assert_eq!(p.ep(S).state(), MskState::CloseWait);
        assert_eq!(p.ep(S).data_ack(), dsn_of(&p, C, 3_001));
        assert_eq!(p.sides[S].rx, p.sides[C].app_tx);
    }
}

// ---------------------------------------------------------------------
// 7. MP_FASTCLOSE
// ---------------------------------------------------------------------

#[test]
fn fastclose_on_abort_both_directions() {
    for aborter in [C, S] {
        let other = 1 - aborter;
        let mut p = Pair::new(PLAIN, PLAIN, 60 + aborter as u64);
        p.handshake();
        p.write_random(C, 3_000);
        p.write_random(S, 3_000);
        p.run();
        assert!(p.sides[aborter].ep.abort());
        let rst = p.transmit(aborter, TCPHDR_RST | TCPHDR_ACK, Vec::new(), None);
        assert_eq!(
            rst.mptcp(),
            vec![
                MptcpOption::MpFastclose(MpFastclose {
                    receiver_key: p.ep(other).local_key()
                }),
                MptcpOption::MpTcpRst(MpTcpRst::new(false, ResetReason::Unspecified)),
            ]
        );
        p.flush();
        assert_eq!(p.sides[aborter].count(Mib::MPFastcloseTx), 1);
        assert_eq!(p.sides[aborter].count(Mib::MPRstTx), 1);
        assert_eq!(p.ep(aborter).error(), Some(CloseError::Aborted));
        assert_eq!(p.sides[other].count(Mib::MPFastcloseRx), 1);
        assert_eq!(p.sides[other].count(Mib::MPRstRx), 1);
        assert_eq!(p.ep(other).error(), Some(CloseError::PeerReset));
        assert_eq!(p.ep(other).state(), MskState::Closed);
    }
}

fn fastclose_ack(p: &Pair, key: u64) -> Seg {
    Seg {
        flags: TCPHDR_ACK,
        seq: p.sides[C].snd_nxt,
        options: encode_all(&[MptcpOption::MpFastclose(MpFastclose { receiver_key: key })]),
        payload: vec![],
    }
}

#[test]
fn fastclose_on_ack_resets() {
    let mut p = Pair::new(PLAIN, PLAIN, 62);
    p.handshake();
    p.write_random(C, 2_000);
    p.run();
    let seg = fastclose_ack(&p, p.ep(S).local_key());
    p.inject(S, seg);
    p.flush();
    assert_eq!(p.sides[S].count(Mib::MPFastcloseRx), 1);
    assert_eq!(p.ep(S).error(), Some(CloseError::Fastclosed));
    // Answered with a RST carrying MP_TCPRST (mainline's fastclose check).
    let rst = p.sent_log[S].last().unwrap();
    assert!(rst.flags & TCPHDR_RST != 0);
    assert!(rst.has(MPTCPOPT_RST) && !rst.has(MPTCPOPT_MP_FASTCLOSE));
    assert_eq!(p.ep(C).error(), Some(CloseError::PeerReset));
}

#[test]
fn fastclose_with_wrong_key_is_ignored() {
    let mut p = Pair::new(PLAIN, PLAIN, 63);
    p.handshake();
    p.write_random(C, 2_000);
    p.run();
    let wrong = p.ep(S).local_key() ^ 1;
    let seg = fastclose_ack(&p, wrong);
    p.inject(S, seg);
    p.flush();
    assert_eq!(p.sides[S].count(Mib::MPFastcloseRx), 0);
    assert_eq!(p.ep(S).error(), None);
    assert_eq!(p.ep(S).state(), MskState::Established);
    p.write_random(S, 2_000);
    p.run();
    p.close(C);
    p.close(S);
    p.run();
    p.assert_exact();
    assert_closed_cleanly(&p);
}

// ---------------------------------------------------------------------
// 8. DATA_ACK width
// ---------------------------------------------------------------------

#[test]
fn data_ack_is_32bit_until_the_peer_maps_with_64bit() {
    let mut p = Pair::new(PLAIN, PLAIN, 70);
    // The server's first five data segments travel with 32-bit DSNs (as
    // another implementation may send them).
    p.set_path(|from, _, seg| {
        if from == S && seg.is_data() {
            let m = seg.dss().unwrap().mapping.unwrap();
            if m.ssn <= 5 * 1000 {
                seg.map_dss(|m| m.dsn = DataSeq::Bits32(m.dsn.value() as u32));
            }
        }
    });
    p.handshake();
    p.write_random(S, 10_000);
    let width = |p: &Pair| -> bool {
        let last = p.sent_log[C].last().unwrap();
        last.dss().unwrap().data_ack.unwrap().is_64bit()
    };
    for k in 0..10 {
        p.send_chunk(S, Some(1000));
        p.deliver(C); // the client ACKs the data
        assert_eq!(width(&p), k >= 5, "segment {k}");
        assert_eq!(p.ep(C).ack64(), k >= 5);
        p.flush();
    }
    assert_eq!(p.sides[C].rx, p.sides[S].app_tx);
    // The client's MP_CAPABLE data counts as a 64-bit mapping (mainline).
    p.write_random(C, 1000);
    p.send_chunk(C, Some(1000));
    p.deliver(S);
    assert!(p.ep(S).ack64());
    let ack = p.sent_log[S]
        .last()
        .unwrap()
        .dss()
        .unwrap()
        .data_ack
        .unwrap();
    assert_eq!(ack, DataSeq::Bits64(dsn_of(&p, C, 1000)));
}

// ---------------------------------------------------------------------
// 9. Property tests
// ---------------------------------------------------------------------

/// Random segmentation, random data-level retransmissions of data already
/// sent (at new subflow sequence numbers), random DATA_FIN timing.
fn random_session(seed: u64, cc: Config, sc: Config, dup_pct: u64, close_early: [bool; 2]) {
    let mut p = Pair::new(cc, sc, seed);
    p.max_seg = [536, 1460, 9000, 65535][(seed % 4) as usize];
    p.handshake();
    let sizes = [p.rng.range(0, 60_000), p.rng.range(0, 60_000)];
    let mut dups = [0u64; 2];
    for i in [C, S] {
        p.write_random(i, sizes[i]);
        if close_early[i] {
            p.close(i);
        }
    }
    let mut closed = close_early;
    for _ in 0..1_000_000 {
        let i = p.rng.range(0, 1);
        let sent = p.sides[i].sent;
        if sent > 0 && !p.sides[i].fin_sent && p.rng.chance(dup_pct) {
            let start = p.rng.range(0, sent - 1);
            let len = p.rng.range(1, (sent - start).min(4000));
            let dsn = dsn_of(&p, i, start);
            p.retransmit(i, dsn, len);
            dups[1 - i] += 1;
            continue;
        }
        let moved = match p.rng.range(0, 3) {
            0 => p.pump(i),
            _ => p.deliver(i).is_some() || p.pump(i),
        };
        if !moved && p.deliver(1 - i).is_none() && !p.pump(1 - i) {
            if let Some(k) = (0..2).find(|&k| !closed[k]) {
                p.close(k);
                closed[k] = true;
                continue;
            }
            if p.queues.iter().all(|q| q.is_empty()) {
                break;
            }
        }
    }
    p.run();
    p.assert_exact();
    assert_closed_cleanly(&p);
    for i in [C, S] {
        assert_eq!(p.sides[i].count(Mib::DuplicateData), dups[i]);
        assert!(!p.ep(i).is_fallback());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn prop_random_segmentation_duplicates_and_data_fin(
        seed in any::<u64>(),
        csum in any::<(bool, bool)>(),
        dup_pct in 0u64..30,
        close_early in any::<[bool; 2]>(),
    ) {
        random_session(seed, Config { checksum: csum.0 }, Config { checksum: csum.1 }, dup_pct, close_early);
    }

    #[test]
    fn prop_hostile_options_never_panic(
        seed in any::<u64>(),
        csum in any::<bool>(),
        stage in 0usize..4,
        segs in proptest::collection::vec(
            (any::<u8>(), any::<i16>(), proptest::collection::vec(any::<u8>(), 0..40), 0usize..3000, hostile_option()),
            1..8,
        ),
    ) {
        let cfg = Config { checksum: csum };
        let mut p = Pair::new(cfg, cfg, seed);
        match stage {
            0 => {}
            1 => {
                p.transmit(C, TCPHDR_SYN, Vec::new(), None);
                p.deliver(S);
            }
            _ => {
                p.handshake();
                p.write_random(C, 5000);
                p.write_random(S, 5000);
                if stage == 3 {
                    p.run();
                }
            }
        }
        for (flags, delta, raw, len, opt) in segs {
            for to in [C, S] {
                let mut options = raw.clone();
                options.extend_from_slice(&opt);
                options.truncate(40);
                let seq = p.sides[1 - to].snd_nxt.wrapping_add(delta as u32);
                let payload = p.rng.bytes(len);
                let seg = Seg { flags, seq, options, payload };
                p.inject(to, seg);
            }
            p.flush();
            p.run();
        }
        for i in [C, S] {
            // Whatever happened: no panic, and nothing was handed to an
            // application that did not arrive in a segment.
            let arrived: usize = p.rcvd_log[i].iter().map(|s| s.payload.len()).sum();
            prop_assert!(p.sides[i].rx.len() <= arrived);
            let _ = p.ep(i).data_ack();
        }
    }
}

/// Well-formed MPTCP options with hostile field values (random bytes alone
/// rarely decode).
fn hostile_option() -> impl Strategy<Value = Vec<u8>> {
    let dss = (
        any::<Option<(bool, u64)>>(),
        any::<Option<(bool, u64, u32, u16, Option<u16>, bool)>>(),
    )
        .prop_map(|(ack, map)| {
            MptcpOption::Dss(Dss {
                data_ack: ack.map(|(w, v)| {
                    if w {
                        DataSeq::Bits64(v)
                    } else {
                        DataSeq::Bits32(v as u32)
                    }
                }),
                mapping: map.map(|(w, dsn, ssn, data_len, checksum, data_fin)| DssMapping {
                    dsn: if w {
                        DataSeq::Bits64(dsn)
                    } else {
                        DataSeq::Bits32(dsn as u32)
                    },
                    ssn,
                    data_len,
                    checksum,
                    data_fin,
                }),
            })
        });
    let keyed = (
        0u8..6,
        any::<u64>(),
        any::<u64>(),
        any::<u16>(),
        any::<Option<u16>>(),
    )
        .prop_map(|(kind, a, b, len, csum)| match kind {
            0 => MptcpOption::MpFail(MpFail { dsn: a }),
            1 => MptcpOption::MpFastclose(MpFastclose { receiver_key: a }),
            2 => MptcpOption::MpTcpRst(MpTcpRst {
                flags: (b & 0xf) as u8,
                reason: a as u8,
            }),
            3 => MptcpOption::MpCapable(MpCapable::new(
                MpCapablePayload::SynAck { sender_key: a },
                0,
            )),
            4 => MptcpOption::MpCapable(MpCapable::new(
                MpCapablePayload::Ack {
                    sender_key: a,
                    receiver_key: b,
                },
                0,
            )),
            _ => MptcpOption::MpCapable(MpCapable::new(
                MpCapablePayload::AckData {
                    sender_key: a,
                    receiver_key: b,
                    data_len: len,
                    checksum: csum,
                },
                0,
            )),
        });
    prop_oneof![dss, keyed].prop_map(|o| encode_all(&[o]))
}
