// SPDX-License-Identifier: GPL-2.0

//! Data-level reassembly of an MPTCP connection as pure range logic, after
//! mainline `net/mptcp/protocol.c` (`__mptcp_move_skb()`,
//! `mptcp_data_queue_ofo()`, `__mptcp_ofo_queue()`).
//!
//! [`OfoQueue`] holds `ack_seq` (the next DSN expected, mainline
//! `msk->ack_seq`) and the out-of-order DSN ranges, in a [`RangeStore`]
//! the caller chooses. It never sees data: the caller keeps the octets (skbs) and applies each [`Decision`]
//! to its own store, which then mirrors the queue entry for entry. For
//! every segment (an skb's DSN and length) [`OfoQueue::insert`] says
//! whether it is
//!
//! - entirely old ([`Decision::Old`]: drop it, DuplicateData),
//! - in order, maybe partially old ([`Decision::InOrder`]: skip
//!   `trim_front` octets and deliver the rest; `ack_seq` advances, and
//!   queued entries may have become deliverable: drain them with
//!   [`OfoQueue::pop_ready`]),
//! - out of order ([`Decision::OutOfOrder`]: keep the octets the queue
//!   lacks, either appended to the entry before them (OFOMerge) or as a
//!   new entry, dropping any entries they cover entirely),
//! - already fully queued ([`Decision::Duplicate`]),
//! - beyond the receive window ([`Decision::OutOfWindow`], only with
//!   [`OfoQueue::insert_in_window`]), or
//! - out of order with no room for a new entry ([`Decision::Full`]).
//!
//! What bounds the queue is the receive buffer, as in mainline (which
//! charges every queued skb to the msk's receive memory): with
//! [`OfoQueue::insert_in_window`] every queued octet lies in
//! `[ack_seq, max_seq)`, so a caller passing `max_seq = ack_seq + rcvbuf`
//! never queues more than `rcvbuf` octets ([`OfoQueue::queued`]), and as
//! every entry holds at least one octet, never more than `rcvbuf` entries.
//! A growable store ([`RangeStore`] for a vector whose growth may fail)
//! therefore needs no count limit of its own; [`ArrayStore`] is the
//! allocation-free store with a fixed number of entries, for callers that
//! want one.
//!
//! Queued entries are sorted, never overlap, and may touch (an entry is
//! only ever extended at its end, as mainline's `mptcp_ooo_try_coalesce()`
//! only appends). Unlike mainline, which keeps partially overlapping skbs
//! in its rbtree and trims them when they are dequeued, a new segment is
//! trimmed at both ends against queued data, so that each DSN is held at
//! most once. An in-order segment is delivered whole, even when it
//! overlaps queued entries; those are then trimmed or dropped by
//! [`OfoQueue::pop_ready`] (as `__mptcp_ofo_queue()` does).
//!
//! DSNs compare modulo 2^64 (`before64()`/`after64()`), so the stream may
//! wrap; the caller must keep segments within 2^63 of `ack_seq` (the
//! receive window does, see [`OfoQueue::insert_in_window`]).
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

/// 64-bit `before64()`: `(s64)(seq1 - seq2) < 0`.
#[inline]
const fn before64(seq1: u64, seq2: u64) -> bool {
    (seq1.wrapping_sub(seq2) as i64) < 0
}

/// 64-bit `after64(seq2, seq1)`: `seq2` comes after `seq1`.
#[inline]
const fn after64(seq2: u64, seq1: u64) -> bool {
    before64(seq1, seq2)
}

/// A half-open range `[start, end)` of data sequence numbers (modulo
/// 2^64: `end` may be numerically below `start` after a wrap).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct DsnRange {
    /// First DSN of the range.
    pub start: u64,
    /// DSN just past the range.
    pub end: u64,
}

impl DsnRange {
    /// The range of `len` octets from `start`.
    #[must_use]
    pub const fn new(start: u64, len: u64) -> Self {
        Self {
            start,
            end: start.wrapping_add(len),
        }
    }

    /// The number of octets in the range.
    #[must_use]
    pub const fn len(&self) -> u64 {
        self.end.wrapping_sub(self.start)
    }

    /// Whether the range holds no octet.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

/// An out-of-order segment was queued: what the caller keeps and where.
///
/// The caller keeps octets `[trim_front, len - trim_back)` of the segment
/// (DSNs [`Queued::range`]) and updates its store in this order:
/// 1. remove the `removed` entries starting at index `pos + merged as
///    usize` (they are fully covered by the new data; drop their skbs,
///    counted as DuplicateData);
/// 2. if `merged`, append the kept octets to entry `pos` (which ended
///    exactly where they start), else insert them as a new entry at `pos`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Queued {
    /// Octets to drop from the front (already queued).
    pub trim_front: u32,
    /// Octets to drop from the back (already queued).
    pub trim_back: u32,
    /// The DSNs of the kept octets.
    pub range: DsnRange,
    /// Index, after the update, of the entry that holds the kept octets.
    pub pos: usize,
    /// The kept octets extend entry `pos` at its end (mainline OFOMerge).
    pub merged: bool,
    /// Number of queued entries the kept octets cover entirely.
    pub removed: usize,
    /// The segment starts at or after the end of the last queued entry
    /// (mainline OFOQueueTail).
    pub tail: bool,
}

/// What to do with a segment given to [`OfoQueue::insert`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Every octet is before `ack_seq`: drop the segment (DuplicateData).
    /// Also returned, without counting, for a zero-length segment.
    Old,
    /// The segment reaches `ack_seq`: deliver it from octet `trim_front`
    /// on (`trim_front > 0` if it is partially old). `ack_seq` is now its
    /// end; then call [`OfoQueue::pop_ready`] until it returns `None`.
    InOrder {
        /// Octets already received, to skip.
        trim_front: u32,
    },
    /// Out of order, queued; see [`Queued`].
    OutOfOrder(Queued),
    /// Out of order, and every octet is already queued: drop it
    /// (DuplicateData).
    Duplicate,
    /// Out of order and ending beyond the window limit given to
    /// [`OfoQueue::insert_in_window`]: drop it (mainline
    /// `MPTCP_MIB_NODSSWINDOW`).
    OutOfWindow,
    /// Out of order, but a new entry is needed and all `N` are in use:
    /// drop it (counted in [`OfoStats::full`]).
    Full,
}

/// A queued entry handed back by [`OfoQueue::pop_ready`]; it is removed
/// from the front of the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ready {
    /// Deliver the entry from octet `trim_front` on; `ack_seq` is now
    /// `range.end`.
    Deliver {
        /// The entry's DSNs.
        range: DsnRange,
        /// Octets of it already delivered by an earlier in-order segment.
        trim_front: u64,
    },
    /// Every octet of the entry was already delivered: drop it
    /// (DuplicateData).
    Drop {
        /// The entry's DSNs.
        range: DsnRange,
    },
}

/// Event counters, named after the mainline MIB counters they mirror.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct OfoStats {
    /// Segments or queued entries dropped because all their data was
    /// already received or queued (`MPTCP_MIB_DUPDATA`).
    pub dup_data: u64,
    /// Out-of-order segments handled by the queue, whether kept or
    /// duplicate (`MPTCP_MIB_OFOQUEUE`).
    pub ofo_queue: u64,
    /// Out-of-order segments starting at or past the last entry's end
    /// (`MPTCP_MIB_OFOQUEUETAIL`).
    pub ofo_queue_tail: u64,
    /// Out-of-order segments appended to an existing entry
    /// (`MPTCP_MIB_OFOMERGE`).
    pub ofo_merge: u64,
    /// Out-of-order segments beyond the window (`MPTCP_MIB_NODSSWINDOW`).
    pub out_of_window: u64,
    /// Out-of-order segments dropped for lack of a free entry.
    pub full: u64,
}

/// Bumps a counter.
#[inline]
fn bump(counter: &mut u64) {
    *counter = counter.wrapping_add(1);
}

/// A new entry did not fit in a [`RangeStore`] (no free slot, or the
/// allocation to grow it failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NoRoom;

/// Where an [`OfoQueue`] keeps its entries: an ordered sequence of ranges
/// the queue keeps sorted and disjoint. Only [`RangeStore::try_insert`]
/// may fail; the queue calls it before changing anything else, so a
/// failure leaves the queue as it was.
pub trait RangeStore {
    /// Number of entries.
    fn len(&self) -> usize;
    /// Whether there is no entry.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The entry at `index`, if any.
    fn get(&self, index: usize) -> Option<DsnRange>;
    /// Replaces the entry at `index` (no-op past the end).
    fn set(&mut self, index: usize, r: DsnRange);
    /// Inserts `r` before the entry at `index` (`index <= len`).
    ///
    /// # Errors
    /// [`NoRoom`] when the store cannot hold one more entry; it is then
    /// unchanged.
    fn try_insert(&mut self, index: usize, r: DsnRange) -> Result<(), NoRoom>;
    /// Removes `count` entries from `at` on (clamped to the store).
    fn remove(&mut self, at: usize, count: usize);
    /// Removes every entry.
    fn clear(&mut self);
}

/// An allocation-free [`RangeStore`] of at most `N` entries.
#[derive(Debug, Clone)]
pub struct ArrayStore<const N: usize> {
    /// The entries; only the first `len` are meaningful.
    ranges: [DsnRange; N],
    /// Number of entries in use.
    len: usize,
}

impl<const N: usize> ArrayStore<N> {
    /// An empty store.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            ranges: [DsnRange { start: 0, end: 0 }; N],
            len: 0,
        }
    }
}

impl<const N: usize> Default for ArrayStore<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> RangeStore for ArrayStore<N> {
    fn len(&self) -> usize {
        self.len
    }

    fn get(&self, index: usize) -> Option<DsnRange> {
        if index < self.len {
            self.ranges.get(index).copied()
        } else {
            None
        }
    }

    fn set(&mut self, index: usize, r: DsnRange) {
        if index < self.len {
            if let Some(slot) = self.ranges.get_mut(index) {
                *slot = r;
            }
        }
    }

    fn try_insert(&mut self, index: usize, r: DsnRange) -> Result<(), NoRoom> {
        let len = self.len;
        if len >= N || index > len {
            return Err(NoRoom);
        }
        let tail = self.ranges.get_mut(index..=len).ok_or(NoRoom)?;
        tail.rotate_right(1);
        if let Some(slot) = tail.first_mut() {
            *slot = r;
        }
        self.len = len.saturating_add(1);
        Ok(())
    }

    fn remove(&mut self, at: usize, count: usize) {
        let len = self.len;
        if let Some(tail) = self.ranges.get_mut(at..len) {
            let count = count.min(tail.len());
            tail.rotate_left(count);
            self.len = len.saturating_sub(count);
        }
    }

    fn clear(&mut self) {
        self.len = 0;
    }
}

/// An [`OfoQueue`] with an [`ArrayStore`] of `N` entries.
pub type ArrayOfoQueue<const N: usize> = OfoQueue<ArrayStore<N>>;

/// The data-level receive state: `ack_seq` and the out-of-order DSN
/// ranges, sorted, disjoint, non-empty, in a [`RangeStore`]. See the
/// module documentation.
#[derive(Debug, Clone)]
pub struct OfoQueue<S> {
    /// Next DSN expected in order.
    ack_seq: u64,
    /// The entries.
    store: S,
    /// Octets held by the entries (the sum of their lengths).
    queued: u64,
    /// Event counters.
    stats: OfoStats,
}

impl<const N: usize> OfoQueue<ArrayStore<N>> {
    /// An empty queue of at most `N` entries expecting `ack_seq` next (for
    /// a new connection: the peer's IDSN + 1).
    #[must_use]
    pub const fn new(ack_seq: u64) -> Self {
        Self::with_store(ack_seq, ArrayStore::new())
    }
}

impl<S: RangeStore> OfoQueue<S> {
    /// An queue expecting `ack_seq` next that keeps its entries in
    /// `store`, which must be empty.
    #[must_use]
    pub const fn with_store(ack_seq: u64, store: S) -> Self {
        Self {
            ack_seq,
            store,
            queued: 0,
            stats: OfoStats {
                dup_data: 0,
                ofo_queue: 0,
                ofo_queue_tail: 0,
                ofo_merge: 0,
                out_of_window: 0,
                full: 0,
            },
        }
    }

    /// Octets held out of order (what the caller's store charges).
    #[must_use]
    pub const fn queued(&self) -> u64 {
        self.queued
    }

    /// The next DSN expected in order (the data-level cumulative ack).
    #[must_use]
    pub const fn ack_seq(&self) -> u64 {
        self.ack_seq
    }

    /// The number of queued entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.store.len()
    }

    /// Whether no entry is queued.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.store.is_empty()
    }

    /// The event counters.
    #[must_use]
    pub const fn stats(&self) -> &OfoStats {
        &self.stats
    }

    /// The queued entries, in DSN order.
    pub fn iter(&self) -> impl Iterator<Item = DsnRange> + '_ {
        (0..self.store.len()).map_while(|i| self.store.get(i))
    }

    /// The entry at `index`, if any.
    #[must_use]
    pub fn get(&self, index: usize) -> Option<DsnRange> {
        self.store.get(index)
    }

    /// Whether the first entry starts at or before `ack_seq`, i.e.
    /// [`Self::pop_ready`] would return something.
    #[must_use]
    pub fn has_ready(&self) -> bool {
        self.get(0).is_some_and(|r| !after64(r.start, self.ack_seq))
    }

    /// Moves `ack_seq` forward by `n` DSNs that were received outside the
    /// queue (e.g. 1 for a DATA_FIN). Entries may become ready.
    pub fn advance_ack_seq(&mut self, n: u64) {
        self.ack_seq = self.ack_seq.wrapping_add(n);
    }

    /// Drops every entry and restarts at `ack_seq` (counters are kept).
    pub fn reset(&mut self, ack_seq: u64) {
        self.ack_seq = ack_seq;
        self.store.clear();
        self.queued = 0;
    }

    /// Takes the first entry if it starts at or before `ack_seq`, and
    /// advances `ack_seq` past it (mainline `__mptcp_ofo_queue()`).
    pub fn pop_ready(&mut self) -> Option<Ready> {
        let first = self.get(0)?;
        if after64(first.start, self.ack_seq) {
            return None;
        }
        self.remove(0, 1);
        if !after64(first.end, self.ack_seq) {
            bump(&mut self.stats.dup_data);
            return Some(Ready::Drop { range: first });
        }
        let trim_front = self.ack_seq.wrapping_sub(first.start);
        self.ack_seq = first.end;
        Some(Ready::Deliver {
            range: first,
            trim_front,
        })
    }

    /// Classifies the segment of `len` octets at DSN `dsn`, updates
    /// `ack_seq` and the queue accordingly, and tells the caller what to
    /// do with the octets; see [`Decision`].
    pub fn insert(&mut self, dsn: u64, len: u32) -> Decision {
        self.insert_inner(dsn, len, None)
    }

    /// As [`Self::insert`], but an out-of-order segment ending after
    /// `max_seq` (mainline `msk->rcv_wnd_sent`, the right edge of the
    /// advertised window) is dropped as [`Decision::OutOfWindow`].
    pub fn insert_in_window(&mut self, dsn: u64, len: u32, max_seq: u64) -> Decision {
        self.insert_inner(dsn, len, Some(max_seq))
    }

    fn insert_inner(&mut self, dsn: u64, len: u32, max_seq: Option<u64>) -> Decision {
        if len == 0 {
            return Decision::Old;
        }
        let seg = DsnRange::new(dsn, u64::from(len));
        if !after64(seg.end, self.ack_seq) {
            bump(&mut self.stats.dup_data);
            return Decision::Old;
        }
        if !after64(seg.start, self.ack_seq) {
            let trim = self.ack_seq.wrapping_sub(seg.start);
            self.ack_seq = seg.end;
            return Decision::InOrder {
                trim_front: u32::try_from(trim).unwrap_or(0),
            };
        }
        if let Some(max_seq) = max_seq {
            if after64(seg.end, max_seq) {
                bump(&mut self.stats.out_of_window);
                return Decision::OutOfWindow;
            }
        }
        self.queue_ofo(seg, len)
    }

    /// Index of the first entry ending after `seq`.
    fn first_ending_after(&self, seq: u64) -> usize {
        self.iter()
            .position(|r| after64(r.end, seq))
            .unwrap_or_else(|| self.len())
    }

    fn queue_ofo(&mut self, seg: DsnRange, len: u32) -> Decision {
        let mut i = self.first_ending_after(seg.start);
        let tail = i == self.len();
        let mut start = seg.start;
        // Left overlap: skip what entry i already holds.
        if let Some(r) = self.get(i) {
            if !after64(r.start, start) {
                if !after64(seg.end, r.end) {
                    return self.duplicate();
                }
                start = r.end;
                i = i.saturating_add(1);
            }
        }
        // Entries entirely within [start, seg.end).
        let mut j = i;
        while let Some(r) = self.get(j) {
            if after64(r.end, seg.end) {
                break;
            }
            j = j.saturating_add(1);
        }
        let removed = j.saturating_sub(i);
        // Right overlap: stop where entry j begins.
        let mut end = seg.end;
        if let Some(r) = self.get(j) {
            if before64(r.start, end) {
                end = r.start;
            }
        }
        if !after64(end, start) {
            return self.duplicate();
        }
        let merged = i
            .checked_sub(1)
            .and_then(|left| self.get(left))
            .is_some_and(|l| l.end == start);
        let range = DsnRange { start, end };
        // The only step that can fail comes first: a new entry that
        // replaces none.
        if !merged && removed == 0 {
            if self.store.try_insert(i, range).is_err() {
                bump(&mut self.stats.full);
                return Decision::Full;
            }
            self.queued = self.queued.wrapping_add(range.len());
        }
        bump(&mut self.stats.ofo_queue);
        if tail {
            bump(&mut self.stats.ofo_queue_tail);
        }
        for _ in 0..removed {
            bump(&mut self.stats.dup_data);
        }
        let pos = if merged {
            self.remove(i, removed);
            let pos = i.saturating_sub(1);
            if let Some(l) = self.store.get(pos) {
                self.store.set(
                    pos,
                    DsnRange {
                        start: l.start,
                        end,
                    },
                );
            }
            self.queued = self.queued.wrapping_add(range.len());
            bump(&mut self.stats.ofo_merge);
            pos
        } else {
            if removed > 0 {
                // Reuse the first covered entry's slot for the new one.
                self.remove(i.saturating_add(1), removed.saturating_sub(1));
                if let Some(old) = self.store.get(i) {
                    self.queued = self.queued.wrapping_sub(old.len());
                }
                self.store.set(i, range);
                self.queued = self.queued.wrapping_add(range.len());
            }
            i
        };
        let trim_front = start.wrapping_sub(seg.start);
        let trim_back = seg.end.wrapping_sub(end);
        Decision::OutOfOrder(Queued {
            trim_front: u32::try_from(trim_front).unwrap_or(len),
            trim_back: u32::try_from(trim_back).unwrap_or(0),
            range,
            pos,
            merged,
            removed,
            tail,
        })
    }

    fn duplicate(&mut self) -> Decision {
        bump(&mut self.stats.ofo_queue);
        bump(&mut self.stats.dup_data);
        Decision::Duplicate
    }

    /// Removes `count` entries starting at `at` (clamped to the queue),
    /// uncharging their octets.
    fn remove(&mut self, at: usize, count: usize) {
        let end = at.saturating_add(count).min(self.len());
        for k in at..end {
            if let Some(r) = self.store.get(k) {
                self.queued = self.queued.wrapping_sub(r.len());
            }
        }
        self.store.remove(at, count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges<const N: usize>(q: &ArrayOfoQueue<N>) -> [(u64, u64); N] {
        let mut out = [(0, 0); N];
        for (o, r) in out.iter_mut().zip(q.iter()) {
            *o = (r.start, r.end);
        }
        out
    }

    #[test]
    fn in_order_and_old() {
        let mut q = ArrayOfoQueue::<4>::new(100);
        assert_eq!(q.insert(100, 10), Decision::InOrder { trim_front: 0 });
        assert_eq!(q.ack_seq(), 110);
        assert_eq!(q.insert(95, 10), Decision::Old);
        assert_eq!(q.insert(105, 10), Decision::InOrder { trim_front: 5 });
        assert_eq!(q.ack_seq(), 115);
        assert_eq!(q.insert(115, 0), Decision::Old);
        assert_eq!(q.stats().dup_data, 1);
    }

    #[test]
    fn ofo_then_fill() {
        let mut q = ArrayOfoQueue::<4>::new(0);
        let d = q.insert(20, 10);
        assert!(matches!(
            d,
            Decision::OutOfOrder(Queued {
                pos: 0,
                merged: false,
                ..
            })
        ));
        // Appended to [20, 30).
        let d = q.insert(30, 10);
        assert!(matches!(
            d,
            Decision::OutOfOrder(Queued {
                pos: 0,
                merged: true,
                tail: true,
                ..
            })
        ));
        assert_eq!(ranges(&q)[0], (20, 40));
        assert_eq!(q.insert(0, 25), Decision::InOrder { trim_front: 0 });
        assert_eq!(
            q.pop_ready(),
            Some(Ready::Deliver {
                range: DsnRange { start: 20, end: 40 },
                trim_front: 5
            })
        );
        assert_eq!(q.pop_ready(), None);
        assert_eq!(q.ack_seq(), 40);
        assert!(q.is_empty());
        assert_eq!(q.stats().ofo_merge, 1);
    }

    #[test]
    fn full() {
        let mut q = ArrayOfoQueue::<2>::new(0);
        assert!(matches!(q.insert(10, 1), Decision::OutOfOrder(_)));
        assert!(matches!(q.insert(20, 1), Decision::OutOfOrder(_)));
        assert_eq!(q.insert(30, 1), Decision::Full);
        // Merging needs no new entry.
        assert!(matches!(
            q.insert(21, 1),
            Decision::OutOfOrder(Queued { merged: true, .. })
        ));
        // Covering an entry frees one.
        assert!(matches!(
            q.insert(5, 10),
            Decision::OutOfOrder(Queued { removed: 1, .. })
        ));
        assert_eq!(q.stats().full, 1);
    }

    #[test]
    fn zero_capacity() {
        let mut q = ArrayOfoQueue::<0>::new(0);
        assert_eq!(q.insert(10, 1), Decision::Full);
        assert_eq!(q.insert(0, 1), Decision::InOrder { trim_front: 0 });
        assert_eq!(q.pop_ready(), None);
    }
}
