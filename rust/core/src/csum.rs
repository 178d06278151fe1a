// SPDX-License-Identifier: GPL-2.0

//! The DSS checksum (RFC 8684 §3.3.1).
//!
//! The checksum of a DSS mapping is the 16-bit one's complement of the
//! one's complement sum (the Internet checksum, RFC 1071) of a pseudo-header
//! followed by the payload the mapping covers:
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +---------------------------------------------------------------+
//! |             Data Sequence Number (8 octets, always 64 bits)   |
//! +---------------------------------------------------------------+
//! |             Subflow Sequence Number (relative, 4 octets)      |
//! +-------------------------------+-------------------------------+
//! |  Data-Level Length (2 octets) |        Zeros (2 octets)       |
//! +-------------------------------+-------------------------------+
//! ```
//!
//! The DSN is the full 64-bit value even when the option carries 32 bits,
//! and the data-level length is the one of the option, so it includes the
//! octet of a DATA_FIN (mainline passes `map_data_len + map_data_fin`). A
//! payload of odd length is padded with one zero octet. The result is
//! what goes on the wire, as a big-endian 16-bit field, and equals
//! mainline `__mptcp_make_csum()`; the receiver sums everything again
//! with the received checksum in place of the zeros and expects zero after
//! complementing ([`DssCsum::verify`], mainline `validate_data_csum()`).
//!
//! [`DssCsum`] accumulates the payload in chunks of any length, odd ones
//! included, and adds the pseudo-header at the end, so it can follow a
//! mapping spread over several skbs.
//!
//! [`CsumWalk`] is the receive side's walk: which octets belong to which
//! mapping's sum, and the verdict when a mapping is complete.
//!
//! This file only uses `core` and `crate::mapping`, and is meant to be
//! included by `#[path]` into other crates (the kernel module).

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

use crate::mapping::Mapping;

/// Length of the DSS checksum pseudo-header in octets.
pub const DSS_PSEUDO_HEADER_LEN: usize = 16;

/// One's complement addition of two 32-bit values (end-around carry).
///
/// A 32-bit one's complement sum folds to the same 16-bit one's complement
/// sum as adding the two halves separately, because 2^16 ≡ 1 modulo
/// 2^16 - 1.
#[inline]
const fn add32(a: u32, b: u32) -> u32 {
    let (sum, carry) = a.overflowing_add(b);
    sum.wrapping_add(carry as u32)
}

/// Folds a 32-bit one's complement sum to 16 bits (not complemented).
#[inline]
const fn fold(sum: u32) -> u16 {
    let s = (sum & 0xffff).wrapping_add(sum.wrapping_shr(16));
    let s = (s & 0xffff).wrapping_add(s.wrapping_shr(16));
    // Two end-around carries always fit: the first sum is at most 0x1fffe.
    s as u16
}

/// The 16-octet pseudo-header of the DSS checksum, in wire order: 64-bit
/// DSN, 32-bit relative subflow sequence number, 16-bit data-level length
/// (DATA_FIN included), 16 bits of zero for the checksum field.
#[must_use]
pub fn pseudo_header(dsn: u64, ssn: u32, data_len: u16) -> [u8; DSS_PSEUDO_HEADER_LEN] {
    let mut out = [0u8; DSS_PSEUDO_HEADER_LEN];
    let bytes = dsn
        .to_be_bytes()
        .into_iter()
        .chain(ssn.to_be_bytes())
        .chain(data_len.to_be_bytes());
    for (d, s) in out.iter_mut().zip(bytes) {
        *d = s;
    }
    out
}

/// One's complement sum of the pseudo-header words.
const fn pseudo_header_sum(dsn: u64, ssn: u32, data_len: u16) -> u32 {
    let sum = add32(dsn.wrapping_shr(32) as u32, dsn as u32);
    let sum = add32(sum, ssn);
    // data_len is the high half of the last 32-bit word; the checksum
    // field (zero) the low half.
    add32(sum, (data_len as u32).wrapping_shl(16))
}

/// Incremental DSS checksum over the payload of one mapping.
///
/// Feed the payload in order with [`DssCsum::update`] (chunks of any
/// length, an odd-length chunk shifts the next one by an octet as it must),
/// then call [`DssCsum::finish`] to get the checksum to send, or
/// [`DssCsum::verify`] to check a received one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DssCsum {
    /// 32-bit one's complement sum of the payload so far, as if read as
    /// big-endian words from offset 0.
    sum: u32,
    /// The payload so far has an odd length: its last octet has been added
    /// as the high half of a 16-bit word whose low half is still to come.
    odd: bool,
}

impl DssCsum {
    /// A checksum over an empty payload.
    #[must_use]
    pub const fn new() -> Self {
        Self { sum: 0, odd: false }
    }

    /// Adds the next `data` octets of the payload.
    pub fn update(&mut self, data: &[u8]) {
        let mut data = data;
        if self.odd {
            if let Some((&first, rest)) = data.split_first() {
                self.sum = add32(self.sum, u32::from(first));
                self.odd = false;
                data = rest;
            }
        }
        let mut words = data.chunks_exact(4);
        for w in &mut words {
            let w = <[u8; 4]>::try_from(w).map_or(0, u32::from_be_bytes);
            self.sum = add32(self.sum, w);
        }
        let mut rest = words.remainder();
        if let Some((pair, tail)) = rest.split_first_chunk::<2>() {
            self.sum = add32(self.sum, u32::from(u16::from_be_bytes(*pair)));
            rest = tail;
        }
        if let Some(&last) = rest.first() {
            self.sum = add32(self.sum, u32::from(last).wrapping_shl(8));
            self.odd = true;
        }
    }

    /// Adds the next `len` octets of the payload given only their sum:
    /// `be_sum` is the folded 16-bit one's complement sum of those octets
    /// read as big-endian words from their own first octet (an odd last
    /// octet padded with zero), as the kernel's `skb_checksum()` yields
    /// after folding and conversion from host order.  Equivalent to
    /// [`DssCsum::update`] with the octets themselves: a chunk that starts
    /// at an odd offset has its words shifted by one octet, which rotates
    /// its sum by 8 bits.
    pub fn add_sum(&mut self, be_sum: u16, len: usize) {
        let s = if self.odd {
            be_sum.rotate_left(8)
        } else {
            be_sum
        };
        self.sum = add32(self.sum, u32::from(s));
        self.odd ^= len % 2 == 1;
    }

    /// Whether the payload added so far has an odd length.
    #[must_use]
    pub const fn is_odd(&self) -> bool {
        self.odd
    }

    /// The 16-bit one's complement sum of the payload so far (folded, not
    /// complemented, odd length padded with zero), i.e. what mainline
    /// `csum_fold(~skb_checksum(...))` would hold before the pseudo-header.
    #[must_use]
    pub const fn payload_sum(&self) -> u16 {
        fold(self.sum)
    }

    /// The checksum to put in the DSS option for a mapping of `dsn`
    /// (64-bit), relative subflow sequence number `ssn` and data-level
    /// length `data_len` (DATA_FIN included) over the payload added so far.
    #[must_use]
    pub const fn finish(&self, dsn: u64, ssn: u32, data_len: u16) -> u16 {
        !fold(add32(self.sum, pseudo_header_sum(dsn, ssn, data_len)))
    }

    /// Checks a received checksum `csum` (the value of the big-endian wire
    /// field) of a mapping over the payload added so far: the sum of the
    /// pseudo-header, the payload and `csum` must be all ones, as mainline
    /// `validate_data_csum()` checks.
    #[must_use]
    pub const fn verify(&self, dsn: u64, ssn: u32, data_len: u16, csum: u16) -> bool {
        let total = add32(
            add32(self.sum, pseudo_header_sum(dsn, ssn, data_len)),
            csum as u32,
        );
        !fold(total) == 0
    }
}

/// One-shot DSS checksum of a mapping whose whole payload is `payload`.
#[must_use]
pub fn dss_checksum(dsn: u64, ssn: u32, data_len: u16, payload: &[u8]) -> u16 {
    let mut c = DssCsum::new();
    c.update(payload);
    c.finish(dsn, ssn, data_len)
}

/// The receive side's walk over the payload, mapping by mapping (RFC 8684
/// §3.3.1, mainline's `validate_data_csum()`): a mapping's payload is
/// summed over the segments it spans and its checksum verified once the
/// last octet is in.  One rule for the kernel glue (which sums skbs with
/// the kernel's helper) and the core endpoint (which sums bytes): the
/// caller asks [`CsumWalk::step`] what to do at the next octet in order,
/// then reports the octets it summed.
#[derive(Clone, Copy, Debug, Default)]
pub struct CsumWalk {
    open: Option<OpenCsum>,
}

/// A mapping being summed.
#[derive(Clone, Copy, Debug)]
struct OpenCsum {
    map: Mapping,
    /// The checksum the peer sent.
    csum: u16,
    /// Payload octets summed so far, and their sum.
    done: u32,
    sum: DssCsum,
}

/// What to do at the next octet in order ([`CsumWalk::step`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsumStep {
    /// Sum the next `n` (> 0) octets and report them with
    /// [`CsumWalk::add_sum`] or [`CsumWalk::add_bytes`].
    Sum(u32),
    /// Pass `n` (> 0) octets unchecked: no mapping whose start was seen
    /// covers them.
    Skip(u32),
    /// Stop here: the segment brings a second mapping for octets the open
    /// one covers, none past it.  That is not a checksum matter: the data
    /// walk finds the mapping invalid (`DSSNotMatching`, [`rx_step`]) and
    /// falls back, as mainline's get_mapping_status() decides before any
    /// checksum.
    ///
    /// [`rx_step`]: crate::mapping::rx_step
    Stop,
}

/// The outcome of reporting summed octets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsumVerdict {
    /// The mapping is not complete yet.
    Pending,
    /// The mapping is complete and its checksum right.
    Good,
    /// The mapping of DSN `dsn` is complete and its checksum wrong.
    Bad(u64),
}

impl CsumWalk {
    /// No mapping open.
    #[must_use]
    pub const fn new() -> Self {
        Self { open: None }
    }

    /// Forgets the open mapping (its octets were consumed unchecked).
    pub fn reset(&mut self) {
        self.open = None;
    }

    /// What to do at the octet of relative subflow sequence number `rel`,
    /// the first of `left` (> 0) octets of its segment, which carries the
    /// mapping `own` with its checksum.
    ///
    /// The open mapping is summed to its end; the same mapping again (or
    /// extended: same start, longer) continues it.  A mapping is opened
    /// only at its first octet, so one whose start was not seen is not
    /// checked.
    pub fn step(&mut self, own: Option<(Mapping, u16)>, rel: u32, left: u32) -> CsumStep {
        if left == 0 {
            // Nothing to walk: never ask for an empty step (the caller
            // would not advance).
            return CsumStep::Stop;
        }
        if let (Some(o), Some((m, csum))) = (self.open.as_mut(), own) {
            if m.dsn == o.map.dsn && m.ssn == o.map.ssn && m.data_len() >= o.map.data_len() {
                if m.data_len() > o.map.data_len() {
                    // Extended (its checksum covers the longer range).
                    // Mainline's senders freeze a mapping once part of it
                    // is sent, so this comes from other senders; the data
                    // walk takes it only past the shorter one's end.
                    o.map = m;
                    o.csum = csum;
                }
            } else if o.map.contains_range(rel, left) {
                return CsumStep::Stop;
            }
        }
        if let Some(o) = self.open {
            let todo = u32::from(o.map.data_len()).saturating_sub(o.done);
            if rel == o.map.ssn.wrapping_add(o.done) && todo > 0 {
                return CsumStep::Sum(todo.min(left));
            }
            // Not where the walk stands: give up on it rather than sum the
            // wrong octets.
            self.open = None;
        }
        if let Some((m, csum)) = own {
            let off = m.ssn.wrapping_sub(rel);
            if off == 0 && m.data_len() > 0 {
                self.open = Some(OpenCsum {
                    map: m,
                    csum,
                    done: 0,
                    sum: DssCsum::new(),
                });
                return CsumStep::Sum(u32::from(m.data_len()).min(left));
            }
            if off > 0 && off < left {
                // It starts later in this segment.
                return CsumStep::Skip(off);
            }
        }
        CsumStep::Skip(left)
    }

    /// Reports the sum of the `n` octets [`CsumWalk::step`] asked for, as
    /// [`DssCsum::add_sum`] takes it.
    pub fn add_sum(&mut self, be_sum: u16, n: u32) -> CsumVerdict {
        let Some(o) = self.open.as_mut() else {
            return CsumVerdict::Pending;
        };
        o.sum
            .add_sum(be_sum, usize::try_from(n).unwrap_or(usize::MAX));
        self.summed(n)
    }

    /// Reports the octets [`CsumWalk::step`] asked for.
    pub fn add_bytes(&mut self, data: &[u8]) -> CsumVerdict {
        let Some(o) = self.open.as_mut() else {
            return CsumVerdict::Pending;
        };
        o.sum.update(data);
        self.summed(u32::try_from(data.len()).unwrap_or(u32::MAX))
    }

    fn summed(&mut self, n: u32) -> CsumVerdict {
        let Some(o) = self.open.as_mut() else {
            return CsumVerdict::Pending;
        };
        o.done = o.done.saturating_add(n);
        if o.done < u32::from(o.map.data_len()) {
            return CsumVerdict::Pending;
        }
        let o = *o;
        self.open = None;
        if o.sum.verify(o.map.dsn, o.map.ssn, o.map.len, o.csum) {
            CsumVerdict::Good
        } else {
            CsumVerdict::Bad(o.map.dsn)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_values() {
        assert_eq!(fold(0), 0);
        assert_eq!(fold(0xffff), 0xffff);
        assert_eq!(fold(0x1_0000), 1);
        assert_eq!(fold(0xffff_ffff), 0xffff);
        assert_eq!(fold(0x1234_5678), 0x68ac);
    }

    #[test]
    fn pseudo_header_layout() {
        let h = pseudo_header(0x0102_0304_0506_0708, 0x090a_0b0c, 0x0d0e);
        assert_eq!(h, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0, 0]);
        // The word sum of the header equals pseudo_header_sum.
        let mut c = DssCsum::new();
        c.update(&h);
        assert_eq!(
            c.payload_sum(),
            fold(pseudo_header_sum(
                0x0102_0304_0506_0708,
                0x090a_0b0c,
                0x0d0e
            ))
        );
    }

    #[test]
    fn odd_chunks() {
        let data = [0x12u8, 0x34, 0x56, 0x78, 0x9a];
        let mut a = DssCsum::new();
        a.update(&data);
        let mut b = DssCsum::new();
        for x in data {
            b.update(&[x]);
        }
        assert_eq!(a.payload_sum(), b.payload_sum());
        // 0x1234 + 0x5678 + 0x9a00 = 0x1_02ac -> 0x02ad
        assert_eq!(a.payload_sum(), 0x02ad);
        assert!(a.is_odd());
    }

    /// Folded big-endian sum of a standalone chunk, as `add_sum` expects.
    fn chunk_sum(data: &[u8]) -> u16 {
        let mut c = DssCsum::new();
        c.update(data);
        c.payload_sum()
    }

    #[test]
    fn add_sum_matches_update() {
        let data: [u8; 23] = core::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(11));
        let mut want = DssCsum::new();
        want.update(&data);
        // every split into three chunks, odd and even
        for a in 0..data.len() {
            for b in a..data.len() {
                let mut c = DssCsum::new();
                for part in [&data[..a], &data[a..b], &data[b..]] {
                    c.add_sum(chunk_sum(part), part.len());
                }
                assert_eq!(c.finish(7, 1, 23), want.finish(7, 1, 23), "split {a} {b}");
                assert_eq!(c.is_odd(), want.is_odd());
            }
        }
    }

    #[test]
    fn verify_roundtrip() {
        let payload = b"hello, multipath";
        let csum = dss_checksum(42, 1, 16, payload);
        let mut c = DssCsum::new();
        c.update(payload);
        assert!(c.verify(42, 1, 16, csum));
        assert!(!c.verify(42, 1, 16, csum ^ 1));
        assert!(!c.verify(43, 1, 16, csum));
    }
}
