// SPDX-License-Identifier: GPL-2.0

//! Tests of `mptcp_core::reassembly`: hand-made cases after mainline
//! `protocol.c`, and a property test that cuts a random byte stream into
//! random, partly duplicated and overlapping segments, shuffles them,
//! feeds them through `OfoQueue` while keeping the octets in a simulated
//! store (as the kernel keeps skbs), retransmits what was dropped for lack
//! of room, and checks the delivered stream is byte-exact and complete.

use mptcp_core::reassembly::*;
use proptest::prelude::*;

/// A growable store, as the kernel would keep one (a vector whose growth
/// may fail); here it never does, so only the window bounds the queue.
#[derive(Default)]
struct VecStore(Vec<DsnRange>);

impl RangeStore for VecStore {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn get(&self, index: usize) -> Option<DsnRange> {
        self.0.get(index).copied()
    }
    fn set(&mut self, index: usize, r: DsnRange) {
        if let Some(x) = self.0.get_mut(index) {
            *x = r;
        }
    }
    fn try_insert(&mut self, index: usize, r: DsnRange) -> Result<(), NoRoom> {
        self.0.try_reserve(1).map_err(|_| NoRoom)?;
        self.0.insert(index, r);
        Ok(())
    }
    fn remove(&mut self, at: usize, count: usize) {
        let end = (at + count).min(self.0.len());
        self.0.drain(at.min(end)..end);
    }
    fn clear(&mut self) {
        self.0.clear();
    }
}

/// The caller's side: the octets of each queued entry, and the delivered
/// stream.
struct Sim<'a, S> {
    q: OfoQueue<S>,
    /// Most entries the store can hold.
    cap: usize,
    /// The receive buffer: out-of-order data must end within
    /// `ack_seq + window` (None: no window, the store's room bounds).
    window: Option<u64>,
    stream: &'a [u8],
    base: u64,
    store: Vec<(u64, Vec<u8>)>,
    out: Vec<u8>,
}

impl<'a, const N: usize> Sim<'a, ArrayStore<N>> {
    fn new(base: u64, stream: &'a [u8]) -> Self {
        Self::with_store(base, stream, ArrayStore::new(), N, None)
    }
}

impl<'a, S: RangeStore> Sim<'a, S> {
    fn with_store(base: u64, stream: &'a [u8], store: S, cap: usize, window: Option<u64>) -> Self {
        Self {
            q: OfoQueue::with_store(base, store),
            cap,
            window,
            stream,
            base,
            store: Vec::new(),
            out: Vec::new(),
        }
    }

    /// The octets of DSN range [dsn, dsn + len) of the stream.
    fn bytes(&self, dsn: u64, len: usize) -> &'a [u8] {
        let off = dsn.wrapping_sub(self.base) as usize;
        &self.stream[off..off + len]
    }

    fn check(&self) {
        assert!(self.q.len() <= self.cap);
        assert_eq!(self.q.len(), self.store.len());
        let held: usize = self.store.iter().map(|(_, d)| d.len()).sum();
        assert_eq!(self.q.queued(), held as u64);
        if let Some(w) = self.window {
            assert!(
                self.q.queued() <= w,
                "{} queued, window {w}",
                self.q.queued()
            );
        }
        for (r, (start, data)) in self.q.iter().zip(&self.store) {
            assert_eq!(r.start, *start);
            assert_eq!(r.len(), data.len() as u64);
            assert!(!data.is_empty());
            // The store holds the right octets for the range.
            assert_eq!(&data[..], self.bytes(*start, data.len()));
        }
        // Sorted and disjoint, all after ack_seq.
        let v: Vec<DsnRange> = self.q.iter().collect();
        for w in v.windows(2) {
            let gap = w[1].start.wrapping_sub(w[0].end) as i64;
            assert!(gap >= 0, "overlap {w:?}");
        }
        assert_eq!(
            self.q.ack_seq(),
            self.base.wrapping_add(self.out.len() as u64)
        );
        assert_eq!(&self.out[..], &self.stream[..self.out.len()]);
    }

    fn feed(&mut self, dsn: u64, len: u32) -> Decision {
        let seg = self.bytes(dsn, len as usize);
        let d = match self.window {
            Some(w) => {
                let max_seq = self.q.ack_seq().wrapping_add(w);
                self.q.insert_in_window(dsn, len, max_seq)
            }
            None => self.q.insert(dsn, len),
        };
        match d {
            Decision::Old | Decision::Duplicate | Decision::Full | Decision::OutOfWindow => {}
            Decision::InOrder { trim_front } => {
                self.out.extend_from_slice(&seg[trim_front as usize..]);
                self.drain();
            }
            Decision::OutOfOrder(q) => {
                let kept = &seg[q.trim_front as usize..seg.len() - q.trim_back as usize];
                assert!(!kept.is_empty());
                assert_eq!(q.range.start, dsn.wrapping_add(u64::from(q.trim_front)));
                assert_eq!(q.range.len(), kept.len() as u64);
                let first_removed = q.pos + usize::from(q.merged);
                self.store.drain(first_removed..first_removed + q.removed);
                if q.merged {
                    let (start, data) = &mut self.store[q.pos];
                    assert_eq!(start.wrapping_add(data.len() as u64), q.range.start);
                    data.extend_from_slice(kept);
                } else {
                    self.store.insert(q.pos, (q.range.start, kept.to_vec()));
                }
            }
        }
        self.check();
        d
    }

    fn drain(&mut self) {
        while let Some(r) = self.q.pop_ready() {
            let (start, data) = self.store.remove(0);
            match r {
                Ready::Deliver { range, trim_front } => {
                    assert_eq!(range.start, start);
                    self.out.extend_from_slice(&data[trim_front as usize..]);
                }
                Ready::Drop { range } => {
                    assert_eq!(range.start, start);
                }
            }
        }
        assert!(!self.q.has_ready());
    }
}

#[test]
fn mainline_like_sequence() {
    let stream: Vec<u8> = (0..100u8).collect();
    let mut s = Sim::<ArrayStore<8>>::new(1000, &stream);
    // Out of order, then tail merge.
    assert!(matches!(
        s.feed(1020, 10),
        Decision::OutOfOrder(Queued {
            pos: 0,
            merged: false,
            tail: true,
            ..
        })
    ));
    assert!(matches!(
        s.feed(1030, 10),
        Decision::OutOfOrder(Queued {
            pos: 0,
            merged: true,
            tail: true,
            ..
        })
    ));
    // A later hole.
    assert!(matches!(
        s.feed(1060, 10),
        Decision::OutOfOrder(Queued {
            pos: 1,
            merged: false,
            tail: true,
            ..
        })
    ));
    // Overlapping both queued entries: trimmed at both ends, merged left.
    let d = s.feed(1035, 30);
    assert_eq!(
        d,
        Decision::OutOfOrder(Queued {
            trim_front: 5,
            trim_back: 5,
            range: DsnRange {
                start: 1040,
                end: 1060
            },
            pos: 0,
            merged: true,
            removed: 0,
            tail: false,
        })
    );
    // Fully queued already.
    assert_eq!(s.feed(1045, 10), Decision::Duplicate);
    // Queue is now [1020, 1060) [1060, 1070): adjacent entries are not
    // merged, as mainline only appends a new skb to an existing one.
    assert_eq!(
        s.q.iter().collect::<Vec<_>>(),
        [
            DsnRange {
                start: 1020,
                end: 1060
            },
            DsnRange {
                start: 1060,
                end: 1070
            }
        ]
    );
    // Covering an entry entirely: it is replaced.
    assert!(matches!(
        s.feed(1075, 5),
        Decision::OutOfOrder(Queued {
            pos: 2,
            tail: true,
            ..
        })
    ));
    let d = s.feed(1072, 10);
    assert_eq!(
        d,
        Decision::OutOfOrder(Queued {
            trim_front: 0,
            trim_back: 0,
            range: DsnRange {
                start: 1072,
                end: 1082
            },
            pos: 2,
            merged: false,
            removed: 1,
            tail: false,
        })
    );
    // In order, partially overlapping the queue.
    assert_eq!(s.feed(1000, 25), Decision::InOrder { trim_front: 0 });
    assert_eq!(s.q.ack_seq(), 1070);
    // Old.
    assert_eq!(s.feed(1010, 10), Decision::Old);
    assert_eq!(s.feed(1068, 4), Decision::InOrder { trim_front: 2 });
    s.feed(1082, 18);
    assert_eq!(s.out, stream);
    let st = s.q.stats();
    assert_eq!(st.ofo_merge, 2);
    assert!(st.dup_data >= 3);
}

#[test]
fn window_limit() {
    let mut q = ArrayOfoQueue::<4>::new(0);
    assert_eq!(q.insert_in_window(100, 10, 105), Decision::OutOfWindow);
    assert!(matches!(
        q.insert_in_window(100, 5, 105),
        Decision::OutOfOrder(_)
    ));
    // In-order data is not limited (as mainline).
    assert_eq!(
        q.insert_in_window(0, 200, 105),
        Decision::InOrder { trim_front: 0 }
    );
    assert_eq!(q.stats().out_of_window, 1);
}

#[test]
fn wraps_around_u64() {
    let stream: Vec<u8> = (0..=255u8).collect();
    let base = u64::MAX - 100;
    let mut s = Sim::<ArrayStore<4>>::new(base, &stream);
    s.feed(base.wrapping_add(150), 50);
    s.feed(base.wrapping_add(90), 30);
    s.feed(base.wrapping_add(200), 56);
    s.feed(base, 95);
    s.feed(base.wrapping_add(100), 60);
    assert_eq!(s.out, stream);
    assert!(s.q.is_empty());
}

#[test]
fn advance_for_data_fin() {
    let mut q = ArrayOfoQueue::<4>::new(10);
    assert!(matches!(q.insert(11, 5), Decision::OutOfOrder(_)));
    // A DATA_FIN at DSN 10 consumed outside the queue.
    q.advance_ack_seq(1);
    assert!(q.has_ready());
    assert_eq!(
        q.pop_ready(),
        Some(Ready::Deliver {
            range: DsnRange { start: 11, end: 16 },
            trim_front: 0
        })
    );
    q.reset(100);
    assert!(q.is_empty());
    assert_eq!(q.ack_seq(), 100);
}

/// Builds the segment list: a partition of the stream, plus duplicates of
/// random sub-ranges, in a random order.
fn segments(
    len: usize,
    cuts: &[usize],
    dups: &[(usize, usize)],
    keys: &[u32],
) -> Vec<(usize, usize)> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (len + 1)).collect();
    cuts.push(0);
    cuts.push(len);
    cuts.sort_unstable();
    cuts.dedup();
    let mut segs: Vec<(usize, usize)> = cuts.windows(2).map(|w| (w[0], w[1] - w[0])).collect();
    for &(a, b) in dups {
        let a = a % len;
        let l = 1 + b % (len - a);
        segs.push((a, l));
    }
    let mut keyed: Vec<(u32, (usize, usize))> = segs
        .into_iter()
        .enumerate()
        .map(|(i, s)| (keys.get(i).copied().unwrap_or(i as u32), s))
        .collect();
    keyed.sort_by_key(|k| k.0);
    keyed.into_iter().map(|k| k.1).collect()
}

fn run<const N: usize>(base: u64, stream: &[u8], segs: &[(usize, usize)]) {
    run_sim(Sim::<ArrayStore<N>>::new(base, stream), stream, segs);
}

fn run_sim<S: RangeStore>(mut s: Sim<'_, S>, stream: &[u8], segs: &[(usize, usize)]) {
    let base = s.base;
    let mut pending: Vec<(usize, usize)> = segs.to_vec();
    // Each round feeds what is pending; segments dropped as Full or
    // OutOfWindow are "retransmitted" in the next round. The segment
    // holding ack_seq is always accepted, so every round makes progress.
    for _round in 0..=segs.len() + 1 {
        if pending.is_empty() {
            break;
        }
        let mut again = Vec::new();
        for &(off, len) in &pending {
            let d = s.feed(base.wrapping_add(off as u64), len as u32);
            if d == Decision::Full || d == Decision::OutOfWindow {
                again.push((off, len));
            }
        }
        pending = again;
    }
    assert!(pending.is_empty(), "no progress");
    assert_eq!(s.out.len(), stream.len());
    assert_eq!(&s.out[..], stream);
    assert!(s.q.is_empty());
}

fn base_dsn() -> impl Strategy<Value = u64> {
    prop_oneof![any::<u64>(), (0u64..4096).prop_map(|d| u64::MAX - d)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn reassembles_exactly_n4(
        base in base_dsn(),
        stream in proptest::collection::vec(any::<u8>(), 1..1500),
        cuts in proptest::collection::vec(any::<usize>(), 0..40),
        dups in proptest::collection::vec((any::<usize>(), 0usize..300), 0..20),
        keys in proptest::collection::vec(any::<u32>(), 80),
    ) {
        let segs = segments(stream.len(), &cuts, &dups, &keys);
        run::<4>(base, &stream, &segs);
    }

    #[test]
    fn reassembles_exactly_n16(
        base in base_dsn(),
        stream in proptest::collection::vec(any::<u8>(), 1..1500),
        cuts in proptest::collection::vec(any::<usize>(), 0..60),
        dups in proptest::collection::vec((any::<usize>(), 0usize..300), 0..30),
        keys in proptest::collection::vec(any::<u32>(), 100),
    ) {
        let segs = segments(stream.len(), &cuts, &dups, &keys);
        run::<16>(base, &stream, &segs);
    }

    #[test]
    fn reassembles_exactly_n1_small_segments(
        base in base_dsn(),
        stream in proptest::collection::vec(any::<u8>(), 1..200),
        cuts in proptest::collection::vec(any::<usize>(), 0..100),
        dups in proptest::collection::vec((any::<usize>(), 0usize..20), 0..40),
        keys in proptest::collection::vec(any::<u32>(), 150),
    ) {
        let segs = segments(stream.len(), &cuts, &dups, &keys);
        run::<1>(base, &stream, &segs);
    }

    /// A growable store: no count limit, and the receive window alone
    /// bounds what is queued (`queued() <= window`, checked after every
    /// segment), yet everything arrives byte-exactly.
    #[test]
    fn window_bounds_a_growable_store(
        base in base_dsn(),
        stream in proptest::collection::vec(any::<u8>(), 1..3000),
        window in 1u64..2000,
        cuts in proptest::collection::vec(any::<usize>(), 0..80),
        dups in proptest::collection::vec((any::<usize>(), 0usize..300), 0..30),
        keys in proptest::collection::vec(any::<u32>(), 120),
    ) {
        let segs = segments(stream.len(), &cuts, &dups, &keys);
        let sim = Sim::with_store(base, &stream, VecStore::default(), usize::MAX, Some(window));
        run_sim(sim, &stream, &segs);
    }

    #[test]
    fn arbitrary_inserts_never_break_invariants(
        ack in any::<u64>(),
        ops in proptest::collection::vec((-300i64..3000, 0u32..400, any::<bool>()), 0..200),
    ) {
        let mut q = ArrayOfoQueue::<8>::new(ack);
        for (rel, len, pop) in ops {
            let dsn = q.ack_seq().wrapping_add(rel as u64);
            let _ = q.insert(dsn, len);
            if pop {
                while q.pop_ready().is_some() {}
            }
            prop_assert!(q.len() <= 8);
            let held: u64 = q.iter().map(|r| r.len()).sum();
            prop_assert_eq!(q.queued(), held);
            let v: Vec<DsnRange> = q.iter().collect();
            for r in &v {
                prop_assert!(!r.is_empty());
            }
            for w in v.windows(2) {
                prop_assert!(w[1].start.wrapping_sub(w[0].end) as i64 >= 0);
            }
        }
    }
}
