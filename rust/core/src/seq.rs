// SPDX-License-Identifier: GPL-2.0

//! Sequence-number arithmetic for MPTCP (RFC 8684).
//!
//! Subflow sequence numbers are 32-bit TCP sequence numbers; data sequence
//! numbers (DSN) and DATA_ACKs are 64-bit but may travel on the wire as their
//! low 32 bits only. Comparisons are modular ("serial number arithmetic"), as
//! with the kernel's `before()`/`after()`/`before64()`/`after64()`.
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

/// Sign bit of a 32-bit sequence-number difference.
const SIGN32: u32 = 1 << 31;
/// Sign bit of a 64-bit sequence-number difference.
const SIGN64: u64 = 1 << 63;
/// Mask of the upper 32 bits of a 64-bit sequence number.
const HIGH32: u64 = 0xffff_ffff_0000_0000;
/// One full turn of the 32-bit sequence space.
const WRAP32: u64 = 1 << 32;

/// Returns `true` if 32-bit sequence number `seq1` comes before `seq2`
/// (kernel `before()`: `(s32)(seq1 - seq2) < 0`).
#[inline]
#[must_use]
pub const fn before(seq1: u32, seq2: u32) -> bool {
    seq1.wrapping_sub(seq2) & SIGN32 != 0
}

/// Returns `true` if 32-bit sequence number `seq2` comes after `seq1`
/// (kernel `after(seq2, seq1)` is `before(seq1, seq2)`).
#[inline]
#[must_use]
pub const fn after(seq2: u32, seq1: u32) -> bool {
    before(seq1, seq2)
}

/// Returns `true` if 64-bit sequence number `seq1` comes before `seq2`
/// (kernel `before64()`: `(s64)(seq1 - seq2) < 0`).
#[inline]
#[must_use]
pub const fn before64(seq1: u64, seq2: u64) -> bool {
    seq1.wrapping_sub(seq2) & SIGN64 != 0
}

/// Returns `true` if 64-bit sequence number `seq2` comes after `seq1`
/// (kernel `after64(seq2, seq1)` is `before64(seq1, seq2)`).
#[inline]
#[must_use]
pub const fn after64(seq2: u64, seq1: u64) -> bool {
    before64(seq1, seq2)
}

/// Expands the low 32 bits of `cur_seq` to a full 64-bit sequence number,
/// using `old_seq` (the last known 64-bit value, e.g. the current data-level
/// `ack_seq` or `snd_una`) to supply the upper 32 bits.
///
/// The result is the 64-bit value whose low 32 bits are `cur_seq as u32`
/// and which lies within 2^31 of `old_seq`, so both forward wrap
/// (`0xffff_fff0` → `0x10`) and backward wrap are handled. Mirrors
/// mainline `__mptcp_expand_seq()`; the upper 32 bits of `cur_seq` are
/// ignored.
#[inline]
#[must_use]
pub const fn expand_seq(old_seq: u64, cur_seq: u64) -> u64 {
    // Truncations are intended: only the low 32 bits travel on the wire.
    let old32 = old_seq as u32;
    let cur32 = cur_seq as u32;
    let cur = (old_seq & HIGH32) | (cur32 as u64);
    if cur32 < old32 && before(old32, cur32) {
        // The 32-bit value wrapped forward past old_seq.
        return cur.wrapping_add(WRAP32);
    }
    if cur32 > old32 && after(old32, cur32) {
        // Reverse wrap: the value is slightly older than old_seq.
        return cur.wrapping_sub(WRAP32);
    }
    cur
}

/// Returns `cur_seq` unchanged when it was carried as a 64-bit field on the
/// wire (`use_64bit`), otherwise expands its low 32 bits against `old_seq`
/// with [`expand_seq`]. Mirrors mainline `mptcp_expand_seq()`.
#[inline]
#[must_use]
pub const fn mptcp_expand_seq(old_seq: u64, cur_seq: u64, use_64bit: bool) -> u64 {
    if use_64bit {
        cur_seq
    } else {
        expand_seq(old_seq, cur_seq)
    }
}

/// Octets in the 32-bit sequence range `[from, to)` that lie in none of
/// `skips` (`(start, len)` ranges, disjoint): what a reader at `from` can
/// take of the octets queued up to `to` when the ranges are consumed
/// unseen.  0 when `to` is not after `from`.
#[must_use]
pub fn octets_outside(from: u32, to: u32, skips: impl Iterator<Item = (u32, u32)>) -> u32 {
    if !before(from, to) {
        return 0;
    }
    let mut n = to.wrapping_sub(from);
    for (start, len) in skips {
        let end = start.wrapping_add(len);
        let lo = if before(start, from) { from } else { start };
        let hi = if before(to, end) { to } else { end };
        if before(lo, hi) {
            n = n.saturating_sub(hi.wrapping_sub(lo));
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octets_outside_skips() {
        assert_eq!(octets_outside(10, 10, [].into_iter()), 0);
        assert_eq!(octets_outside(10, 5, [].into_iter()), 0);
        assert_eq!(octets_outside(10, 110, [].into_iter()), 100);
        // One range inside, one straddling each end, one outside.
        let skips = [(0, 15), (50, 10), (100, 20), (200, 5)];
        assert_eq!(
            octets_outside(10, 110, skips.into_iter()),
            100 - 5 - 10 - 10
        );
        // Across the 32-bit wrap.
        let from = u32::MAX - 9;
        assert_eq!(
            octets_outside(from, 10, [(u32::MAX - 1, 4)].into_iter()),
            16
        );
    }

    #[test]
    fn before_after_32_basic() {
        assert!(before(1, 2));
        assert!(!before(2, 1));
        assert!(!before(5, 5));
        assert!(after(2, 1));
        assert!(!after(1, 2));
        assert!(!after(7, 7));
    }

    #[test]
    fn before_after_32_wrap() {
        assert!(before(0xffff_fff0, 0x10));
        assert!(after(0x10, 0xffff_fff0));
        assert!(!before(0x10, 0xffff_fff0));
        assert!(before(u32::MAX, 0));
        assert!(after(0, u32::MAX));
        // Just under half the space apart: ordered normally.
        assert!(before(0, 0x7fff_ffff));
        assert!(!before(0x7fff_ffff, 0));
        // Exactly half: both directions say "before", like the kernel.
        assert!(before(0, 0x8000_0000));
        assert!(before(0x8000_0000, 0));
    }

    #[test]
    fn before_after_64() {
        assert!(before64(1, 2));
        assert!(!before64(2, 1));
        assert!(!before64(3, 3));
        assert!(after64(2, 1));
        assert!(before64(u64::MAX, 0));
        assert!(after64(0, u64::MAX));
        assert!(before64(0xffff_ffff_ffff_fff0, 0x10));
        assert!(before64(0, 0x7fff_ffff_ffff_ffff));
        assert!(!before64(0x7fff_ffff_ffff_ffff, 0));
    }

    #[test]
    fn expand_same_epoch() {
        assert_eq!(expand_seq(0x5_0000_1000, 0x2000), 0x5_0000_2000);
        assert_eq!(expand_seq(0x5_0000_1000, 0x1000), 0x5_0000_1000);
        // Slightly older value in the same epoch.
        assert_eq!(expand_seq(0x5_0000_1000, 0x0800), 0x5_0000_0800);
        // Upper bits of cur_seq are ignored.
        assert_eq!(expand_seq(0x5_0000_1000, 0xabcd_0000_2000), 0x5_0000_2000);
    }

    #[test]
    fn expand_forward_wrap() {
        assert_eq!(expand_seq(0x5_ffff_fff0, 0x10), 0x6_0000_0010);
        assert_eq!(expand_seq(0xffff_fff0, 0x0), 0x1_0000_0000);
    }

    #[test]
    fn expand_reverse_wrap() {
        assert_eq!(expand_seq(0x6_0000_0010, 0xffff_fff0), 0x5_ffff_fff0);
        // Reverse wrap below zero wraps the 64-bit space as the kernel does.
        assert_eq!(expand_seq(0x10, 0xffff_fff0), 0xffff_ffff_ffff_fff0);
    }

    #[test]
    fn expand_forward_wrap_at_u64_max() {
        assert_eq!(expand_seq(0xffff_ffff_ffff_fff0, 0x10), 0x10);
    }

    #[test]
    fn expand_is_nearest() {
        // Exhaustive-ish check on a grid: the result has the right low bits
        // and lies within 2^31 of old_seq.
        let olds = [
            0u64,
            0x7fff_ffff,
            0x8000_0000,
            0xffff_ffff,
            0x1_0000_0000,
            0x3_8000_0001,
            u64::MAX,
        ];
        let curs = [0u32, 1, 0x7fff_fffe, 0x7fff_ffff, 0x8000_0001, u32::MAX];
        for &old in &olds {
            for &cur in &curs {
                let e = expand_seq(old, u64::from(cur));
                assert_eq!(e as u32, cur);
                let d = e.wrapping_sub(old);
                assert!(
                    d <= 0x8000_0000 || d >= 0u64.wrapping_sub(0x8000_0000),
                    "old={old:#x} cur={cur:#x} e={e:#x}"
                );
            }
        }
    }

    #[test]
    fn mptcp_expand_64bit_passthrough() {
        assert_eq!(
            mptcp_expand_seq(0x5_0000_0000, 0x9_1234_5678, true),
            0x9_1234_5678
        );
        assert_eq!(
            mptcp_expand_seq(0x5_0000_0000, 0x9_1234_5678, false),
            0x5_1234_5678
        );
    }
}
