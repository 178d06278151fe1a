// SPDX-License-Identifier: GPL-2.0

//! DSS mapping arithmetic (RFC 8684 §3.3), as mainline `net/mptcp/subflow.c`
//! (`get_mapping_status()`, `validate_mapping()`, `skb_is_fully_mapped()`)
//! and `protocol.h` (`mptcp_subflow_get_map_offset()`,
//! `mptcp_subflow_get_mapped_dsn()`) use it on the receive path.
//!
//! A [`Mapping`] ties `len` octets of data-level sequence space starting
//! at `dsn` to the subflow octets starting at the relative subflow
//! sequence number `ssn` (relative to the subflow's initial sequence
//! number, so the first data octet of a subflow is 1). When the DATA_FIN
//! flag is set, the last octet of data-level length is the DATA_FIN
//! itself: it occupies one DSN just past the data and no subflow sequence
//! space (RFC 8684 §3.3.3). A DATA_FIN sent without data is the mapping
//! `ssn = 0, len = 1` whose `dsn` is the DSN of the DATA_FIN.
//!
//! A data-level length of 0 is the infinite mapping (RFC 8684 §3.3.1,
//! fallback); it covers no octets in the range functions here, callers
//! check [`Mapping::is_infinite`] first (mainline treats it as
//! `MAPPING_INVALID` and falls back).
//!
//! Subflow sequence numbers compare modulo 2^32 and DSNs modulo 2^64, as
//! the kernel's `before()`/`before64()`. 32-bit DSNs and DATA_ACKs from the
//! wire are widened with [`expand_dsn`] and [`expand_data_ack`], which
//! behave as `seq::mptcp_expand_seq` (mainline `mptcp_expand_seq()`); the
//! helper is duplicated here to keep the file self-contained.
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

/// 32-bit `before()`: `(s32)(seq1 - seq2) < 0`.
#[inline]
const fn before(seq1: u32, seq2: u32) -> bool {
    (seq1.wrapping_sub(seq2) as i32) < 0
}

/// 64-bit `before64()`: `(s64)(seq1 - seq2) < 0`.
#[inline]
const fn before64(seq1: u64, seq2: u64) -> bool {
    (seq1.wrapping_sub(seq2) as i64) < 0
}

/// Mainline `__mptcp_expand_seq()` (same as `seq::expand_seq`).
const fn expand_seq(old_seq: u64, cur_seq: u64) -> u64 {
    let old32 = old_seq as u32;
    let cur32 = cur_seq as u32;
    let cur = (old_seq & 0xffff_ffff_0000_0000) | (cur32 as u64);
    if cur32 < old32 && before(old32, cur32) {
        return cur.wrapping_add(1 << 32);
    }
    if cur32 > old32 && before(cur32, old32) {
        return cur.wrapping_sub(1 << 32);
    }
    cur
}

/// Widens a DSN from a DSS option to 64 bits: returned as is if it was
/// carried in 8 octets (`dsn64`), otherwise its low 32 bits are placed
/// within 2^31 of `ack_seq`, the next DSN expected at the data level
/// (mainline `mptcp_expand_seq(msk->ack_seq, data_seq, dsn64)`).
#[must_use]
pub const fn expand_dsn(ack_seq: u64, dsn: u64, dsn64: bool) -> u64 {
    if dsn64 {
        dsn
    } else {
        expand_seq(ack_seq, dsn)
    }
}

/// Widens a received DATA_ACK as mainline `ack_update_msk()`: expanded
/// against `snd_una` (or taken as is when 8 octets, `ack64`), and if the
/// result acknowledges data beyond `snd_nxt` (never sent) it is ignored
/// and `snd_una` is returned. The result may still be before `snd_una`
/// (an old ack); advance `snd_una` only if it is after it.
#[must_use]
pub const fn expand_data_ack(snd_una: u64, snd_nxt: u64, data_ack: u64, ack64: bool) -> u64 {
    let new = if ack64 {
        data_ack
    } else {
        expand_seq(snd_una, data_ack)
    };
    if before64(snd_nxt, new) {
        snd_una
    } else {
        new
    }
}

/// What the receive walk does with in-order octets whose mapping gives
/// the first of them DSN `dsn`, when the stream expects `want` next; the
/// mapping covers `left` (> 0) of them.  One rule for the kernel glue's walk
/// over the subflow's receive queue and the core endpoint's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WalkStep {
    /// The next octets of the stream: hand all `left` to the reader.
    Deliver,
    /// Data the stream has already, sent again at new subflow sequence
    /// numbers (RFC 8684 §3.3.1: a peer may re-send data not yet DATA_ACKed
    /// or probe a closed window with it): skip this many octets (at most
    /// `left`), counted in `DuplicateData`.
    Duplicate(u32),
    /// Ahead of the stream: with one subflow carrying the data in order,
    /// octets in between are missing (mainline would queue them out of
    /// order); the connection is reset (`DSSCorruptionReset`).
    Ahead,
}

/// The [`WalkStep`] for octets mapped at `dsn` when `want` is expected.
#[must_use]
pub fn walk_step(dsn: u64, want: u64, left: u32) -> WalkStep {
    if dsn == want {
        WalkStep::Deliver
    } else if before64(dsn, want) {
        let behind = want.wrapping_sub(dsn);
        WalkStep::Duplicate(u32::try_from(behind).map_or(left, |b| b.min(left)))
    } else {
        WalkStep::Ahead
    }
}

/// The octets of a mapping left from the subflow octet with relative
/// sequence number `ssn`, if the mapping (relative subflow sequence number
/// `map_ssn`, `payload` octets, a DATA_FIN excluded) covers that octet:
/// mainline's `validate_mapping()`.  None when the octet lies before the
/// mapping's start or at or after its end: an octet no mapping covers is
/// an invalid mapping (fallback while it is allowed, else reset).
#[must_use]
pub const fn left_in_mapping(ssn: u32, map_ssn: u32, payload: u32) -> Option<u32> {
    let off = ssn.wrapping_sub(map_ssn);
    if off < payload {
        Some(payload.wrapping_sub(off))
    } else {
        None
    }
}

/// How a newly received mapping relates to the current one, by content
/// (see [`Mapping::relation`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MappingRelation {
    /// Same DSN, subflow sequence number and payload length (mainline
    /// "allow replacing only with an identical map").
    Same,
    /// Consistent (every subflow octet both cover has the same DSN in
    /// both) and covers no octet the current mapping does not.
    Covered,
    /// Consistent on the overlap, and covers subflow octets the current
    /// mapping does not (before its start or past its end).
    Extends,
    /// No overlap; starts exactly where the current mapping's payload ends
    /// in the subflow (the next mapping; its DSN may be anything).
    Follows,
    /// No overlap and not adjacent after it (a gap, or earlier data).
    Disjoint,
    /// Some subflow octet would map to two different DSNs (the peer's
    /// mappings do not match: mainline counts `DSSNotMatching` /
    /// `MPTCP_MIB_DSSNOMATCH` when this hits data already received).
    Conflicts,
}

/// What mainline does when an skb brings a mapping while one is in use
/// (the `map_valid` branch of `get_mapping_status()`); see
/// [`Mapping::check_new_mapping`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NewMappingVerdict {
    /// Identical to the current mapping: keep the current one.
    Identical,
    /// Different, but the skb carries data past the current mapping: the
    /// new mapping is for that data; validate it once the current one is
    /// consumed.
    Deferred,
    /// Different, and the skb lies entirely within the current mapping:
    /// its octets would have two mappings. Mainline counts
    /// `MPTCP_MIB_DSSNOMATCH` and returns `MAPPING_INVALID`.
    DssNoMatch,
}

/// What the receive walk does at the next unread subflow octet: mainline's
/// `get_mapping_status()` for one position, the rule the kernel glue's walk
/// over a subflow's receive queue and the core endpoint's both follow
/// ([`rx_step`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RxStep {
    /// Walk with `map`, which covers `left` (> 0) octets from this one
    /// (to its end, not limited to the skb); `new`: it replaces the current
    /// mapping, so its DSN at this octet must be checked against the
    /// stream's ([`walk_step`]).
    Use {
        /// The mapping.
        map: Mapping,
        /// Its octets from this one on.
        left: u32,
        /// It replaces the current mapping.
        new: bool,
    },
    /// The skb brings a different mapping for octets the current one still
    /// covers, none past it: they would have two mappings.  Invalid;
    /// mainline counts `DSSNotMatching`.
    NotMatching,
    /// No mapping covers this octet: invalid.  `tcp_mismatch`: the skb
    /// brought a new mapping that does not cover it (mainline counts
    /// `DSSNoMatchTCP`).
    Uncovered {
        /// A new mapping came and does not cover the octet.
        tcp_mismatch: bool,
    },
}

/// The [`RxStep`] at relative subflow sequence number `ssn`: `cur` is the
/// mapping the walk is in (possibly consumed), `own` the mapping the skb
/// holding the octet carries, `skb_left` the skb's octets from this one on.
///
/// While the current mapping covers the octet it stays; the skb's own, if
/// different, is taken only once the current one is consumed, and only if
/// the skb reaches past it (mainline's "allow replacing only with an
/// identical map", [`Mapping::check_new_mapping`]): otherwise its octets
/// would have two mappings.  Then the skb's mapping applies if it covers
/// the octet (mainline's `validate_mapping()`; even an identical one is
/// checked again, as mainline does once the current one is consumed).  A
/// DATA_FIN-only mapping maps no octet and is ignored here.
///
/// Mainline's senders never send a different mapping for octets already
/// mapped: a mapping partly sent is frozen (`mptcp_skb_ext_copy()`), so
/// it is not extended later.
#[must_use]
pub fn rx_step(cur: Option<Mapping>, own: Option<Mapping>, ssn: u32, skb_left: u32) -> RxStep {
    let left_in = |m: Mapping| left_in_mapping(ssn, m.ssn, u32::from(m.data_len()));
    let own = own.filter(|k| k.data_len() > 0);
    match (own, cur.and_then(|m| left_in(m).map(|left| (m, left)))) {
        (Some(k), Some((m, left))) => {
            if m.check_new_mapping(&k, ssn, skb_left) == NewMappingVerdict::DssNoMatch {
                RxStep::NotMatching
            } else {
                RxStep::Use {
                    map: m,
                    left,
                    new: false,
                }
            }
        }
        (Some(k), None) => match left_in(k) {
            Some(left) => RxStep::Use {
                map: k,
                left,
                new: true,
            },
            None => RxStep::Uncovered { tcp_mismatch: true },
        },
        (None, Some((m, left))) => RxStep::Use {
            map: m,
            left,
            new: false,
        },
        (None, None) => RxStep::Uncovered {
            tcp_mismatch: false,
        },
    }
}

/// A DSS mapping with its DSN widened to 64 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mapping {
    /// Data sequence number of the first octet (or of the DATA_FIN, for a
    /// DATA_FIN-only mapping).
    pub dsn: u64,
    /// Relative subflow sequence number of the first octet.
    pub ssn: u32,
    /// Data-level length as carried in the option: the payload octets plus
    /// one for a DATA_FIN. 0 is the infinite mapping.
    pub len: u16,
    /// Flag F: the mapping ends with a DATA_FIN.
    pub data_fin: bool,
}

impl Mapping {
    /// A mapping from its fields (`dsn` already 64 bits).
    #[must_use]
    pub const fn new(dsn: u64, ssn: u32, len: u16, data_fin: bool) -> Self {
        Self {
            dsn,
            ssn,
            len,
            data_fin,
        }
    }

    /// A mapping from the fields of a DSS option, widening a 32-bit DSN
    /// against `ack_seq` with [`expand_dsn`].
    #[must_use]
    pub const fn from_wire(
        ack_seq: u64,
        dsn: u64,
        dsn64: bool,
        ssn: u32,
        len: u16,
        data_fin: bool,
    ) -> Self {
        Self::new(expand_dsn(ack_seq, dsn, dsn64), ssn, len, data_fin)
    }

    /// Whether this is the infinite mapping (data-level length 0).
    #[must_use]
    pub const fn is_infinite(&self) -> bool {
        self.len == 0
    }

    /// Whether this only signals a DATA_FIN and maps no data (F set and
    /// data-level length 1; RFC 8684 §3.3.3 also has the SSN 0).
    #[must_use]
    pub const fn is_data_fin_only(&self) -> bool {
        self.data_fin && self.len == 1
    }

    /// Number of payload octets mapped: the data-level length minus the
    /// DATA_FIN octet (mainline `map_data_len`). 0 for the infinite and
    /// the DATA_FIN-only mappings.
    #[must_use]
    pub const fn data_len(&self) -> u16 {
        if self.data_fin {
            self.len.saturating_sub(1)
        } else {
            self.len
        }
    }

    /// Relative subflow sequence number just past the mapped payload.
    #[must_use]
    pub const fn ssn_end(&self) -> u32 {
        self.ssn.wrapping_add(self.data_len() as u32)
    }

    /// DSN just past the mapped payload; with a DATA_FIN this is the
    /// DATA_FIN's DSN.
    #[must_use]
    pub const fn dsn_end(&self) -> u64 {
        self.dsn.wrapping_add(self.data_len() as u64)
    }

    /// DSN just past the whole mapping, DATA_FIN included: the data-level
    /// ack once everything in it has been received.
    #[must_use]
    pub const fn dsn_next(&self) -> u64 {
        self.dsn.wrapping_add(self.len as u64)
    }

    /// The DSN of the DATA_FIN, `dsn + len - 1`, if flag F is set and the
    /// length is not 0 (mainline `data_fin_seq`).
    #[must_use]
    pub const fn data_fin_dsn(&self) -> Option<u64> {
        if self.data_fin && self.len > 0 {
            Some(self.dsn.wrapping_add(self.len as u64).wrapping_sub(1))
        } else {
            None
        }
    }

    /// Offset of subflow octet `ssn` in the mapping, if the mapping covers
    /// it (mainline `mptcp_subflow_get_map_offset()` once
    /// `validate_mapping()` has accepted `ssn`).
    #[must_use]
    pub const fn offset_of(&self, ssn: u32) -> Option<u32> {
        let off = ssn.wrapping_sub(self.ssn);
        if off < self.data_len() as u32 {
            Some(off)
        } else {
            None
        }
    }

    /// Whether subflow octet `ssn` lies in the mapping: not before its
    /// start and before its end (mainline `validate_mapping()`).
    #[must_use]
    pub const fn contains_ssn(&self, ssn: u32) -> bool {
        self.offset_of(ssn).is_some()
    }

    /// The DSN of subflow octet `ssn`, if the mapping covers it (mainline
    /// `mptcp_subflow_get_mapped_dsn()`).
    #[must_use]
    pub const fn dsn_of(&self, ssn: u32) -> Option<u64> {
        match self.offset_of(ssn) {
            Some(off) => Some(self.dsn.wrapping_add(off as u64)),
            None => None,
        }
    }

    /// How many octets at the start of the subflow range `[ssn, ssn + len)`
    /// the mapping covers: 0 if `ssn` itself is not covered, otherwise
    /// `min(len, ssn_end - ssn)`.
    #[must_use]
    pub const fn covered_len(&self, ssn: u32, len: u32) -> u32 {
        match self.offset_of(ssn) {
            Some(off) => {
                let left = (self.data_len() as u32).saturating_sub(off);
                if len < left {
                    len
                } else {
                    left
                }
            }
            None => 0,
        }
    }

    /// Whether the whole subflow range `[ssn, ssn + len)` lies in the
    /// mapping (mainline `skb_is_fully_mapped()` on the unread part of an
    /// skb). An empty range is inside if `ssn` is covered.
    #[must_use]
    pub const fn contains_range(&self, ssn: u32, len: u32) -> bool {
        match self.offset_of(ssn) {
            Some(off) => len <= (self.data_len() as u32).saturating_sub(off),
            None => false,
        }
    }

    /// Whether `self` and `other` map the same subflow octet to different
    /// DSNs, i.e. their subflow ranges overlap and `dsn - ssn` differs.
    const fn dsn_offset_differs(&self, other: &Self) -> bool {
        // Signed subflow distance from self to other; overlapping ranges
        // are at most 2^16 apart, so the 32-bit sign is meaningful.
        let d = other.ssn.wrapping_sub(self.ssn) as i32 as i64;
        other.dsn != self.dsn.wrapping_add(d as u64)
    }

    /// Whether the payload subflow ranges of `self` and `other` overlap.
    const fn overlaps(&self, other: &Self) -> bool {
        let a = self.data_len() as u32;
        let b = other.data_len() as u32;
        a > 0
            && b > 0
            && (other.ssn.wrapping_sub(self.ssn) < a || self.ssn.wrapping_sub(other.ssn) < b)
    }

    /// Classifies a new mapping `new` against this current one by content
    /// alone; see [`MappingRelation`]. Payload ranges are compared, so the
    /// DATA_FIN flag only matters through the payload length it implies
    /// (mainline records a DATA_FIN separately, before comparing maps).
    #[must_use]
    pub const fn relation(&self, new: &Self) -> MappingRelation {
        if self.dsn == new.dsn && self.ssn == new.ssn && self.data_len() == new.data_len() {
            return MappingRelation::Same;
        }
        if !self.overlaps(new) {
            if new.data_len() > 0 && new.ssn == self.ssn_end() {
                return MappingRelation::Follows;
            }
            return MappingRelation::Disjoint;
        }
        if self.dsn_offset_differs(new) {
            return MappingRelation::Conflicts;
        }
        // Overlapping and consistent: is new within self?
        let start_off = new.ssn.wrapping_sub(self.ssn);
        let starts_inside = start_off < self.data_len() as u32;
        if starts_inside && self.contains_range(new.ssn, new.data_len() as u32) {
            MappingRelation::Covered
        } else {
            MappingRelation::Extends
        }
    }

    /// Mainline's decision when an skb whose unread part is the subflow
    /// range `[ssn, ssn + len)` carries mapping `new` while `self` is in
    /// use (`get_mapping_status()`): identical maps are merged; otherwise
    /// the new one is accepted for later only if the skb reaches past the
    /// current mapping, else it is `DSSNotMatching`.
    ///
    /// Mainline compares the 64-bit DSN, SSN and payload length (and the
    /// checksum presence, which the caller compares itself).
    #[must_use]
    pub const fn check_new_mapping(&self, new: &Self, ssn: u32, len: u32) -> NewMappingVerdict {
        if self.dsn == new.dsn && self.ssn == new.ssn && self.data_len() == new.data_len() {
            NewMappingVerdict::Identical
        } else if self.contains_range(ssn, len) {
            NewMappingVerdict::DssNoMatch
        } else {
            NewMappingVerdict::Deferred
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_matches_seq_semantics() {
        assert_eq!(expand_seq(0x5_ffff_fff0, 0x10), 0x6_0000_0010);
        assert_eq!(expand_seq(0x6_0000_0010, 0xffff_fff0), 0x5_ffff_fff0);
        assert_eq!(expand_seq(0x5_0000_1000, 0x2000), 0x5_0000_2000);
        assert_eq!(expand_seq(0xffff_ffff_ffff_fff0, 0x10), 0x10);
        assert_eq!(expand_seq(0x10, 0xffff_fff0), 0xffff_ffff_ffff_fff0);
    }

    #[test]
    fn data_fin_lengths() {
        let m = Mapping::new(100, 1, 11, true);
        assert_eq!(m.data_len(), 10);
        assert_eq!(m.dsn_end(), 110);
        assert_eq!(m.data_fin_dsn(), Some(110));
        assert_eq!(m.dsn_next(), 111);
        assert_eq!(m.ssn_end(), 11);
        let fin = Mapping::new(500, 0, 1, true);
        assert!(fin.is_data_fin_only());
        assert_eq!(fin.data_len(), 0);
        assert_eq!(fin.data_fin_dsn(), Some(500));
        assert!(!fin.contains_ssn(0));
        let inf = Mapping::new(7, 0, 0, false);
        assert!(inf.is_infinite());
        assert_eq!(inf.data_fin_dsn(), None);
        assert_eq!(Mapping::new(7, 0, 0, true).data_fin_dsn(), None);
    }
}
