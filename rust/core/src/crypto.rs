// SPDX-License-Identifier: GPL-2.0

//! Cryptography of MPTCP v1 (RFC 8684): SHA-256 (FIPS 180-4), HMAC-SHA256
//! (RFC 2104) and the MPTCP derivations built on them, as mainline
//! `net/mptcp/crypto.c`, `subflow.c` and `options.c` compute them.
//!
//! - [`token_and_idsn`]: the connection token and the initial data sequence
//!   number derived from a key (RFC 8684 §3.1, mainline
//!   `mptcp_crypto_key_sha()`).
//! - [`hmac`]: HMAC-SHA256 keyed with two 64-bit MPTCP keys (mainline
//!   `mptcp_crypto_hmac_sha()`), and on top of it the MP_JOIN HMACs
//!   ([`join_hmac`], [`join_thmac`], [`join_ack_hmac`], RFC 8684 §3.2) and
//!   the ADD_ADDR HMAC ([`add_addr_hmac`], RFC 8684 §3.4.1).
//!
//! The implementation is a straightforward, portable one: no tables other
//! than the constant round constants, no allocation, no `unsafe`. It makes
//! no attempt to wipe key material from the stack (that would need
//! volatile writes, i.e. `unsafe`). [`ct_eq`] compares MACs in time
//! independent of where they differ, as mainline `crypto_memneq()`.
//!
//! This file only uses `core` and is meant to be included by `#[path]` into
//! other crates (the kernel module), so it must stay self-contained.

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

use core::net::IpAddr;

/// Size of a SHA-256 digest in octets.
pub const SHA256_DIGEST_SIZE: usize = 32;
/// Size of a SHA-256 input block in octets.
pub const SHA256_BLOCK_SIZE: usize = 64;
/// Length of the full MP_JOIN HMAC carried in the third ACK (leftmost 160
/// bits of the HMAC-SHA256), mainline `MPTCPOPT_HMAC_LEN`.
pub const MPTCP_JOIN_HMAC_LEN: usize = 20;

/// SHA-256 round constants (FIPS 180-4 §4.2.2): the first 32 bits of the
/// fractional parts of the cube roots of the first 64 primes.
const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// SHA-256 initial hash value (FIPS 180-4 §5.3.3): the first 32 bits of
/// the fractional parts of the square roots of the first 8 primes.
const H0: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// HMAC inner pad octet (RFC 2104).
const IPAD: u8 = 0x36;
/// HMAC outer pad octet (RFC 2104).
const OPAD: u8 = 0x5c;
/// Offset of the length field in the last padded block.
const LEN_OFFSET: usize = SHA256_BLOCK_SIZE - 8;

#[inline]
const fn big_sigma0(x: u32) -> u32 {
    x.rotate_right(2) ^ x.rotate_right(13) ^ x.rotate_right(22)
}

#[inline]
const fn big_sigma1(x: u32) -> u32 {
    x.rotate_right(6) ^ x.rotate_right(11) ^ x.rotate_right(25)
}

#[inline]
const fn small_sigma0(x: u32) -> u32 {
    x.rotate_right(7) ^ x.rotate_right(18) ^ x.wrapping_shr(3)
}

#[inline]
const fn small_sigma1(x: u32) -> u32 {
    x.rotate_right(17) ^ x.rotate_right(19) ^ x.wrapping_shr(10)
}

#[inline]
const fn ch(x: u32, y: u32, z: u32) -> u32 {
    (x & y) ^ (!x & z)
}

#[inline]
const fn maj(x: u32, y: u32, z: u32) -> u32 {
    (x & y) ^ (x & z) ^ (y & z)
}

/// Copies as many octets as both slices have; never panics.
#[inline]
fn copy_prefix(dst: &mut [u8], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

/// The SHA-256 compression function over one 64-octet block.
fn compress(state: &mut [u32; 8], block: &[u8; SHA256_BLOCK_SIZE]) {
    // The message schedule is kept as a sliding window of 16 words:
    // `w[0]` is W_t for the current round t.
    let mut w = [0u32; 16];
    for (word, bytes) in w.iter_mut().zip(block.chunks_exact(4)) {
        *word = <[u8; 4]>::try_from(bytes).map_or(0, u32::from_be_bytes);
    }
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;
    for k in K {
        let [w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15] = w;
        let t1 = h
            .wrapping_add(big_sigma1(e))
            .wrapping_add(ch(e, f, g))
            .wrapping_add(k)
            .wrapping_add(w0);
        let t2 = big_sigma0(a).wrapping_add(maj(a, b, c));
        h = g;
        g = f;
        f = e;
        e = d.wrapping_add(t1);
        d = c;
        c = b;
        b = a;
        a = t1.wrapping_add(t2);
        // W_{t+16} = σ1(W_{t+14}) + W_{t+9} + σ0(W_{t+1}) + W_t.
        let next = small_sigma1(w14)
            .wrapping_add(w9)
            .wrapping_add(small_sigma0(w1))
            .wrapping_add(w0);
        w = [
            w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15, next,
        ];
    }
    for (s, v) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
        *s = s.wrapping_add(v);
    }
}

/// Incremental SHA-256 (FIPS 180-4).
///
/// Feed data with [`Sha256::update`] in pieces of any length, then take
/// the digest with [`Sha256::finalize`]. Messages are limited to 2^64 - 1
/// bits as the standard says; longer ones wrap the length counter.
#[derive(Clone, Debug)]
pub struct Sha256 {
    /// Intermediate hash value H(i).
    state: [u32; 8],
    /// Pending input not yet compressed.
    block: [u8; SHA256_BLOCK_SIZE],
    /// Number of valid octets in `block`, always below the block size.
    filled: usize,
    /// Total number of octets hashed so far.
    len: u64,
}

impl Default for Sha256 {
    fn default() -> Self {
        Self::new()
    }
}

impl Sha256 {
    /// A hasher with no input yet.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            state: H0,
            block: [0; SHA256_BLOCK_SIZE],
            filled: 0,
            len: 0,
        }
    }

    /// Appends `data` to the message.
    pub fn update(&mut self, data: &[u8]) {
        // usize is at most 64 bits on every target Rust supports.
        self.len = self.len.wrapping_add(data.len() as u64);
        self.absorb(data);
    }

    /// Feeds octets through the block buffer without counting them.
    fn absorb(&mut self, mut data: &[u8]) {
        if self.filled > 0 {
            let space = SHA256_BLOCK_SIZE.saturating_sub(self.filled);
            let take = space.min(data.len());
            let (head, rest) = data.split_at_checked(take).unwrap_or((data, &[]));
            if let Some(dst) = self.block.get_mut(self.filled..) {
                copy_prefix(dst, head);
            }
            self.filled = self.filled.saturating_add(take);
            data = rest;
            if self.filled < SHA256_BLOCK_SIZE {
                return;
            }
            compress(&mut self.state, &self.block);
            self.filled = 0;
        }
        let mut blocks = data.chunks_exact(SHA256_BLOCK_SIZE);
        for block in &mut blocks {
            if let Ok(block) = <&[u8; SHA256_BLOCK_SIZE]>::try_from(block) {
                compress(&mut self.state, block);
            }
        }
        let rest = blocks.remainder();
        copy_prefix(&mut self.block, rest);
        self.filled = rest.len();
    }

    /// Pads the message and returns its digest.
    #[must_use]
    pub fn finalize(mut self) -> [u8; SHA256_DIGEST_SIZE] {
        let bit_len = self.len.wrapping_mul(8);
        // 0x80, then zeros up to 8 octets before a block boundary.
        let pad_len = if self.filled < LEN_OFFSET {
            LEN_OFFSET.saturating_sub(self.filled)
        } else {
            (SHA256_BLOCK_SIZE + LEN_OFFSET).saturating_sub(self.filled)
        };
        let mut pad = [0u8; SHA256_BLOCK_SIZE + LEN_OFFSET];
        if let Some(first) = pad.first_mut() {
            *first = 0x80;
        }
        self.absorb(pad.get(..pad_len).unwrap_or(&[]));
        self.absorb(&bit_len.to_be_bytes());
        let mut out = [0u8; SHA256_DIGEST_SIZE];
        for (dst, word) in out.chunks_exact_mut(4).zip(self.state) {
            copy_prefix(dst, &word.to_be_bytes());
        }
        out
    }
}

/// The SHA-256 digest of `data`.
#[must_use]
pub fn sha256(data: &[u8]) -> [u8; SHA256_DIGEST_SIZE] {
    let mut h = Sha256::new();
    h.update(data);
    h.finalize()
}

/// Incremental HMAC-SHA256 (RFC 2104 with SHA-256).
#[derive(Clone, Debug)]
pub struct HmacSha256 {
    /// Hash of (K0 xor ipad) || message so far.
    inner: Sha256,
    /// Hash state after (K0 xor opad).
    outer: Sha256,
}

impl HmacSha256 {
    /// An HMAC keyed with `key` of any length (keys longer than a block are
    /// hashed first, shorter ones padded with zeros).
    #[must_use]
    pub fn new(key: &[u8]) -> Self {
        let mut k0 = [0u8; SHA256_BLOCK_SIZE];
        if key.len() > SHA256_BLOCK_SIZE {
            copy_prefix(&mut k0, &sha256(key));
        } else {
            copy_prefix(&mut k0, key);
        }
        let mut ipad = [IPAD; SHA256_BLOCK_SIZE];
        let mut opad = [OPAD; SHA256_BLOCK_SIZE];
        for ((i, o), k) in ipad.iter_mut().zip(opad.iter_mut()).zip(k0) {
            *i ^= k;
            *o ^= k;
        }
        let mut inner = Sha256::new();
        inner.update(&ipad);
        let mut outer = Sha256::new();
        outer.update(&opad);
        Self { inner, outer }
    }

    /// Appends `data` to the message.
    pub fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
    }

    /// Returns the HMAC of the message.
    #[must_use]
    pub fn finalize(self) -> [u8; SHA256_DIGEST_SIZE] {
        let inner = self.inner.finalize();
        let mut outer = self.outer;
        outer.update(&inner);
        outer.finalize()
    }
}

/// HMAC-SHA256 of `msg` under `key`.
#[must_use]
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; SHA256_DIGEST_SIZE] {
    let mut h = HmacSha256::new(key);
    h.update(msg);
    h.finalize()
}

/// The token and the initial data sequence number (IDSN) of an MPTCP key
/// (RFC 8684 §3.1, mainline `mptcp_crypto_key_sha()`).
///
/// The key is hashed as its 8 big-endian octets. The token is the most
/// significant 32 bits of the SHA-256 digest (its first 4 octets, read
/// big-endian); the IDSN is the least significant 64 bits (its last 8
/// octets, read big-endian).
#[must_use]
pub fn token_and_idsn(key: u64) -> (u32, u64) {
    let digest = sha256(&key.to_be_bytes());
    let token = digest
        .first_chunk::<4>()
        .map_or(0, |b| u32::from_be_bytes(*b));
    let idsn = digest
        .last_chunk::<8>()
        .map_or(0, |b| u64::from_be_bytes(*b));
    (token, idsn)
}

/// HMAC-SHA256 of `msg` keyed with `key_a || key_b`, both keys as 8
/// big-endian octets (mainline `mptcp_crypto_hmac_sha()`; RFC 8684 §3.2
/// writes it `HMAC(Key=(Key-A + Key-B), Msg=...)`).
#[must_use]
pub fn hmac(key_a: u64, key_b: u64, msg: &[u8]) -> [u8; SHA256_DIGEST_SIZE] {
    let mut key = [0u8; 16];
    let (a, b) = key.split_at_mut(8);
    copy_prefix(a, &key_a.to_be_bytes());
    copy_prefix(b, &key_b.to_be_bytes());
    hmac_sha256(&key, msg)
}

/// The MP_JOIN HMAC `HMAC(Key=(key_a || key_b), Msg=(nonce_a || nonce_b))`,
/// nonces as 4 big-endian octets (RFC 8684 §3.2, mainline
/// `subflow_generate_hmac()`).
///
/// The sender of an HMAC puts its own key and nonce first: host B (the
/// listener) sends in its SYN-ACK the truncation of
/// `join_hmac(key_b, key_a, r_b, r_a)` ([`join_thmac`]); host A sends in
/// its third ACK the truncation of `join_hmac(key_a, key_b, r_a, r_b)`
/// ([`join_ack_hmac`]). The receiver checks with the same arguments, i.e.
/// with the peer's key and nonce first.
#[must_use]
pub fn join_hmac(key_a: u64, key_b: u64, nonce_a: u32, nonce_b: u32) -> [u8; SHA256_DIGEST_SIZE] {
    let mut msg = [0u8; 8];
    let (ra, rb) = msg.split_at_mut(4);
    copy_prefix(ra, &nonce_a.to_be_bytes());
    copy_prefix(rb, &nonce_b.to_be_bytes());
    hmac(key_a, key_b, &msg)
}

/// The truncated MP_JOIN HMAC of the SYN-ACK: the leftmost (first) 64
/// bits of [`join_hmac`], read big-endian (RFC 8684 §3.2, mainline
/// `subflow_req_create_thmac()`), as carried in `MpJoin::SynAck::thmac`.
#[must_use]
pub fn join_thmac(key_a: u64, key_b: u64, nonce_a: u32, nonce_b: u32) -> u64 {
    join_hmac(key_a, key_b, nonce_a, nonce_b)
        .first_chunk::<8>()
        .map_or(0, |b| u64::from_be_bytes(*b))
}

/// The MP_JOIN HMAC of the third ACK: the leftmost 160 bits of
/// [`join_hmac`] (RFC 8684 §3.2, mainline `MPTCPOPT_HMAC_LEN`).
#[must_use]
pub fn join_ack_hmac(
    key_a: u64,
    key_b: u64,
    nonce_a: u32,
    nonce_b: u32,
) -> [u8; MPTCP_JOIN_HMAC_LEN] {
    let full = join_hmac(key_a, key_b, nonce_a, nonce_b);
    full.first_chunk::<MPTCP_JOIN_HMAC_LEN>()
        .copied()
        .unwrap_or([0; MPTCP_JOIN_HMAC_LEN])
}

/// The ADD_ADDR truncated HMAC (RFC 8684 §3.4.1, mainline
/// `add_addr_generate_hmac()`).
///
/// Key is `key_a || key_b` where `key_a` is the key of the host sending
/// the ADD_ADDR (mainline: `local_key, remote_key` to send,
/// `remote_key, local_key` to check). The message is the address id, the
/// address octets (4 for IPv4, 16 for IPv6) and the port as 2 big-endian
/// octets; an absent port is hashed as two zero octets (`None` and
/// `Some(0)` give the same HMAC), as RFC 8684 and mainline both say.
///
/// Unlike MP_JOIN, the option carries the *rightmost* 64 bits: the last 8
/// octets of the digest, read big-endian (mainline commit "mptcp: use
/// rightmost 64 bits in ADD_ADDR HMAC"). That is the value of
/// `AddAddr::hmac`.
#[must_use]
pub fn add_addr_hmac(key_a: u64, key_b: u64, addr_id: u8, addr: IpAddr, port: Option<u16>) -> u64 {
    // Longest message: id (1) + IPv6 address (16) + port (2).
    let mut msg = [0u8; 19];
    let mut len: usize = 0;
    let mut push = |bytes: &[u8]| {
        if let Some(dst) = msg.get_mut(len..) {
            copy_prefix(dst, bytes);
        }
        len = len.saturating_add(bytes.len());
    };
    push(&[addr_id]);
    match addr {
        IpAddr::V4(a) => push(&a.octets()),
        IpAddr::V6(a) => push(&a.octets()),
    }
    push(&port.unwrap_or(0).to_be_bytes());
    let digest = hmac(key_a, key_b, msg.get(..len).unwrap_or(&msg));
    digest
        .last_chunk::<8>()
        .map_or(0, |b| u64::from_be_bytes(*b))
}

/// Compares two octet strings in time that depends only on their lengths
/// (as mainline `crypto_memneq()`), for checking received HMACs. Slices of
/// different lengths are unequal.
#[must_use]
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    core::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_boundaries() {
        // Lengths around the 55/56/64 octet padding edges must all work
        // and differ from each other.
        let data = [0x61u8; 130];
        let mut prev = [0u8; 32];
        for n in 50..130 {
            let d = sha256(&data[..n]);
            assert_ne!(d, prev);
            prev = d;
        }
    }

    #[test]
    fn incremental_equals_oneshot() {
        let data: [u8; 200] = core::array::from_fn(|i| i as u8);
        let one = sha256(&data);
        for split in 0..data.len() {
            let mut h = Sha256::new();
            h.update(&data[..split]);
            h.update(&data[split..]);
            assert_eq!(h.finalize(), one, "split {split}");
        }
    }

    #[test]
    fn ct_eq_works() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
        assert!(ct_eq(b"", b""));
    }
}
