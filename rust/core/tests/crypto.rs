// SPDX-License-Identifier: GPL-2.0

//! Test vectors for `mptcp_core::crypto`.
//!
//! Sources:
//! - SHA-256: FIPS 180-4 examples / NIST CAVS short messages (empty, "abc",
//!   the 448-bit and 896-bit two-block messages, one million 'a').
//! - HMAC-SHA256: RFC 4231 test cases 1 to 7.
//! - MPTCP HMAC: the three vectors of mainline `net/mptcp/crypto_test.c`
//!   (KUnit), whose ASCII strings are used as raw key/nonce octets.
//! - MPTCP token/IDSN, MP_JOIN and ADD_ADDR HMACs: computed independently
//!   with CPython 3.11 `hashlib`/`hmac`, e.g.
//!   `d = hashlib.sha256(struct.pack(">Q", key)).digest()`,
//!   token `d[:4]`, IDSN `d[24:]`;
//!   `hmac.new(struct.pack(">QQ", ka, kb), msg, hashlib.sha256)` with
//!   `msg = struct.pack(">II", ra, rb)` (MP_JOIN) or
//!   `bytes([id]) + ipaddress.ip_address(a).packed + struct.pack(">H", port or 0)`
//!   (ADD_ADDR, rightmost 8 octets).

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use mptcp_core::crypto::*;
use proptest::prelude::*;

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2));
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn hex32(s: &str) -> [u8; 32] {
    hex(s).try_into().unwrap()
}

#[test]
fn sha256_empty() {
    assert_eq!(
        sha256(b""),
        hex32("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
}

#[test]
fn sha256_abc() {
    assert_eq!(
        sha256(b"abc"),
        hex32("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
}

#[test]
fn sha256_448_bits() {
    assert_eq!(
        sha256(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
        hex32("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    );
}

#[test]
fn sha256_896_bits() {
    assert_eq!(
        sha256(
            b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno\
              ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
        ),
        hex32("cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
    );
}

#[test]
fn sha256_million_a() {
    let expected = hex32("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    // One shot.
    assert_eq!(sha256(&vec![b'a'; 1_000_000]), expected);
    // In odd-sized pieces.
    let mut h = Sha256::new();
    let piece = [b'a'; 997];
    let mut left = 1_000_000usize;
    while left > 0 {
        let n = left.min(piece.len());
        h.update(&piece[..n]);
        left -= n;
    }
    assert_eq!(h.finalize(), expected);
}

#[test]
fn hmac_rfc4231() {
    let cases: [(Vec<u8>, Vec<u8>, &str); 7] = [
        (
            vec![0x0b; 20],
            b"Hi There".to_vec(),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        ),
        (
            b"Jefe".to_vec(),
            b"what do ya want for nothing?".to_vec(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        ),
        (
            vec![0xaa; 20],
            vec![0xdd; 50],
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
        ),
        (
            (1..=25).collect(),
            vec![0xcd; 50],
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
        ),
        (
            vec![0x0c; 20],
            b"Test With Truncation".to_vec(),
            // RFC 4231 gives only the leftmost 128 bits.
            "a3b6167473100ee06e0c796c2955552b",
        ),
        (
            vec![0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        ),
        (
            vec![0xaa; 131],
            b"This is a test using a larger than block-size key and a larger \
              than block-size data. The key needs to be hashed before being \
              used by the HMAC algorithm."
                .to_vec(),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
        ),
    ];
    for (i, (key, msg, mac)) in cases.iter().enumerate() {
        let mac = hex(mac);
        let got = hmac_sha256(key, msg);
        assert_eq!(&got[..mac.len()], &mac[..], "RFC 4231 test case {}", i + 1);
        // Incremental, one octet at a time.
        let mut h = HmacSha256::new(key);
        for b in msg {
            h.update(core::slice::from_ref(b));
        }
        assert_eq!(h.finalize(), got);
    }
}

#[test]
fn mptcp_hmac_mainline_kunit() {
    // net/mptcp/crypto_test.c: key "0b0b0b0b0b0b0b0b" means the 16 ASCII
    // octets, split into two big-endian u64 keys; msg "48692054" is the 8
    // ASCII octets, split into two big-endian u32 nonces.
    let cases = [
        (
            b"0b0b0b0b0b0b0b0b",
            b"48692054",
            "8385e24fb4235ac37556b6b886db106284a1da671699f46db1f235ec622dcafa",
        ),
        (
            b"aaaaaaaaaaaaaaaa",
            b"dddddddd",
            "2c5e219164ff1dca1c4a92318d847bb6b9d44492984e1eb71aff9022f71046e9",
        ),
        (
            b"0102030405060708",
            b"cdcdcdcd",
            "e73b9ba9969969cefb04aa0d6df18ec2fcc075b6f23b4d8c4da736a5dbbc6e7d",
        ),
    ];
    for (key, msg, result) in cases {
        let key1 = u64::from_be_bytes(key[..8].try_into().unwrap());
        let key2 = u64::from_be_bytes(key[8..].try_into().unwrap());
        let nonce1 = u32::from_be_bytes(msg[..4].try_into().unwrap());
        let nonce2 = u32::from_be_bytes(msg[4..].try_into().unwrap());
        assert_eq!(hmac(key1, key2, msg), hex32(result));
        assert_eq!(join_hmac(key1, key2, nonce1, nonce2), hex32(result));
    }
}

#[test]
fn token_idsn_vectors() {
    // (key, token, idsn), from CPython hashlib (see the file header).
    let cases = [
        (0u64, 0xaf55_70f5u32, 0xe5b2_328d_e0e8_3dfcu64),
        (1, 0xcd26_6215, 0x19ec_5090_83d0_0a50),
        (0x0123_4567_89ab_cdef, 0x55c5_3f5d, 0x5707_62cd_38be_9818),
        (u64::MAX, 0x12a3_ae44, 0x57fb_595b_bbac_f0ca),
        (0xf3f0_ba6c_1d2a_5b31, 0xce97_a9e2, 0x360b_06bf_2799_9ad1),
    ];
    for (key, token, idsn) in cases {
        assert_eq!(token_and_idsn(key), (token, idsn), "key {key:#x}");
    }
    // Full digest of key 0x0123456789abcdef: token is the first 4 octets,
    // IDSN the last 8.
    let d = sha256(&0x0123_4567_89ab_cdefu64.to_be_bytes());
    assert_eq!(
        d,
        hex32("55c53f5d490297900cefa825d0c8e8e9532ee8a118abe7d8570762cd38be9818")
    );
}

const KEY_A: u64 = 0x0123_4567_89ab_cdef;
const KEY_B: u64 = 0xfedc_ba98_7654_3210;
const R_A: u32 = 0x1122_3344;
const R_B: u32 = 0xaabb_ccdd;

#[test]
fn join_vectors() {
    // SYN-ACK from B: HMAC(Key=(Key-B + Key-A), Msg=(R-B + R-A)), leftmost 64.
    assert_eq!(
        join_hmac(KEY_B, KEY_A, R_B, R_A),
        hex32("3bae5abc810a33c2e293af8b4572e4827e89510eea113d42098dff12ea4fad3f")
    );
    assert_eq!(join_thmac(KEY_B, KEY_A, R_B, R_A), 0x3bae_5abc_810a_33c2);
    // Third ACK from A: HMAC(Key=(Key-A + Key-B), Msg=(R-A + R-B)), leftmost 160.
    assert_eq!(
        join_ack_hmac(KEY_A, KEY_B, R_A, R_B)[..],
        hex("f61753d6b8ac227764b9d1b17a6f5ceeec9d1a8a")[..]
    );
    assert_eq!(
        join_hmac(KEY_A, KEY_B, R_A, R_B),
        hex32("f61753d6b8ac227764b9d1b17a6f5ceeec9d1a8a4351afe5408a31e58cbbe7ba")
    );
}

#[test]
fn add_addr_vectors() {
    let v4 = IpAddr::V4(Ipv4Addr::new(10, 0, 2, 1));
    let v6 = IpAddr::V6("2001:db8::1".parse::<Ipv6Addr>().unwrap());
    // msg 01 0a000201 0000: rightmost 64 bits of
    // b56ee87dd9b49a826fa0135c9890d7e1ae1c231a6ab6370dbf1239193d1ca414.
    assert_eq!(
        add_addr_hmac(KEY_A, KEY_B, 1, v4, None),
        0xbf12_3919_3d1c_a414
    );
    // Absent port and port 0 are hashed alike.
    assert_eq!(
        add_addr_hmac(KEY_A, KEY_B, 1, v4, Some(0)),
        0xbf12_3919_3d1c_a414
    );
    // msg 01 0a000201 1f90.
    assert_eq!(
        add_addr_hmac(KEY_A, KEY_B, 1, v4, Some(8080)),
        0x51a0_864c_66af_4858
    );
    // msg 05 20010db8000000000000000000000001 01bb.
    assert_eq!(
        add_addr_hmac(KEY_A, KEY_B, 5, v6, Some(443)),
        0x4eeb_7315_eb3d_8089
    );
    // Keys swapped (as the receiver of B's ADD_ADDR checks it).
    assert_eq!(
        add_addr_hmac(KEY_B, KEY_A, 255, v6, None),
        0x33ce_77c1_f9b5_f928
    );
    // It is the rightmost, not the leftmost, 64 bits.
    let full = hmac(KEY_A, KEY_B, &hex("010a0002010000"));
    assert_eq!(
        add_addr_hmac(KEY_A, KEY_B, 1, v4, None),
        u64::from_be_bytes(full[24..].try_into().unwrap())
    );
}

#[test]
fn ct_eq_matches_eq() {
    let a = join_ack_hmac(KEY_A, KEY_B, R_A, R_B);
    let mut b = a;
    assert!(ct_eq(&a, &b));
    b[19] ^= 1;
    assert!(!ct_eq(&a, &b));
}

proptest! {
    #[test]
    fn incremental_any_split(data in proptest::collection::vec(any::<u8>(), 0..300),
                             cuts in proptest::collection::vec(0usize..300, 0..8)) {
        let one = sha256(&data);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (data.len() + 1)).collect();
        cuts.sort_unstable();
        let mut h = Sha256::new();
        let mut prev = 0;
        for c in cuts {
            h.update(&data[prev..c]);
            prev = c;
        }
        h.update(&data[prev..]);
        prop_assert_eq!(h.finalize(), one);
    }

    #[test]
    fn hmac_key_longer_than_block_is_hashed(key in proptest::collection::vec(any::<u8>(), 65..200),
                                            msg in proptest::collection::vec(any::<u8>(), 0..100)) {
        prop_assert_eq!(hmac_sha256(&key, &msg), hmac_sha256(&sha256(&key), &msg));
    }

    #[test]
    fn token_idsn_are_digest_ends(key in any::<u64>()) {
        let d = sha256(&key.to_be_bytes());
        let (token, idsn) = token_and_idsn(key);
        prop_assert_eq!(token, u32::from_be_bytes(d[..4].try_into().unwrap()));
        prop_assert_eq!(idsn, u64::from_be_bytes(d[24..].try_into().unwrap()));
    }
}
