// SPDX-License-Identifier: GPL-2.0

//! The receive side of an MPTCP subflow once its octets are in order: the
//! walk that checks each peer mapping against the data stream
//! ([`rx_advance`]), the move of checked octets to the msk's receive
//! queue, skipping data-level duplicates ([`move_to_msk`]), the window the
//! subflow announces ([`rcv_space`]), our DATA_ACK, the peer's DATA_FIN,
//! and `sk_data_ready` ([`data_ready`]).

use core::sync::atomic::Ordering;

use kernel::bindings;
use kernel::ffi::c_int;

use super::checksum::csum_advance;
use super::{ctx_locked, is_mptcp_state, state, CtxRef, SubflowCtx};
use crate::mapping::{self, RxStep, WalkStep};
use crate::options::{DataSeq, ResetReason};
use crate::rcvbuf::{self, RcvSpace, Sample};
use crate::seq;
use crate::sys::msk_rx::Moved;
use crate::sys::sock::{TcpLocked, TcpSock};

/// Ranges of queued subflow octets to skip, in sequence order.  Bounded:
/// when full, the walk waits for the reader to consume the first range
/// (the DATA_ACK then waits too), so a peer cannot make us allocate.
#[derive(Default)]
pub(crate) struct SkipRing {
    /// (absolute subflow sequence number, length), `len` entries from `head`.
    r: [(u32, u32); SKIP_RING],
    head: usize,
    len: usize,
}

const SKIP_RING: usize = 8;

impl SkipRing {
    fn front(&self) -> Option<(u32, u32)> {
        (self.len > 0)
            .then(|| self.r.get(self.head).copied())
            .flatten()
    }

    fn pop(&mut self) {
        if self.len > 0 {
            self.head = (self.head + 1) % SKIP_RING;
            self.len -= 1;
        }
    }

    fn is_full(&self) -> bool {
        self.len == SKIP_RING
    }

    /// The ranges, in sequence order.
    fn iter(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        (0..self.len).filter_map(move |i| self.r.get((self.head + i) % SKIP_RING).copied())
    }

    fn last(&self) -> Option<(u32, u32)> {
        (self.len > 0)
            .then(|| self.r.get((self.head + self.len - 1) % SKIP_RING).copied())
            .flatten()
    }

    /// Puts back the rest of the first range (after a `pop`).
    fn push_front(&mut self, start: u32, n: u32) -> bool {
        if self.is_full() {
            return false;
        }
        self.head = (self.head + SKIP_RING - 1) % SKIP_RING;
        match self.r.get_mut(self.head) {
            Some(e) => {
                *e = (start, n);
                self.len += 1;
                true
            }
            None => false,
        }
    }

    /// Appends [start, start + n), merged with the last range if adjacent.
    /// False when full (the caller checked `is_full` first).
    fn push(&mut self, start: u32, n: u32) -> bool {
        if self.len > 0 {
            let last = (self.head + self.len - 1) % SKIP_RING;
            if let Some(l) = self.r.get_mut(last) {
                if l.0.wrapping_add(l.1) == start {
                    l.1 = l.1.wrapping_add(n);
                    return true;
                }
            }
        }
        if self.is_full() {
            return false;
        }
        let at = (self.head + self.len) % SKIP_RING;
        match self.r.get_mut(at) {
            Some(e) => {
                *e = (start, n);
                self.len += 1;
                true
            }
            None => false,
        }
    }
}

/// The 64-bit DSN of the received octet at absolute subflow sequence
/// number `seq` (at or after the last skipped range), updating the wrap
/// tracking.
fn rx_dsn_at(c: &mut SubflowCtx, seq: u32) -> u64 {
    c.rcv_rel = seq::expand_seq(c.rcv_rel, u64::from(seq.wrapping_sub(c.isn_remote)));
    c.idsn_remote.wrapping_add(c.rcv_rel).wrapping_add(c.rx_off)
}

/// The 64-bit DSN of the next new octet we expect from the peer (without
/// any DATA_FIN): the walked position, past a skipped range it is in.
///
pub(super) fn rcv_dsn(l: &TcpLocked<'_>, c: &mut CtxRef<'_>) -> u64 {
    rx_advance(l, c);
    let mut at = c.rx_seq;
    if let Some((s, n)) = c.skips.last() {
        let end = s.wrapping_add(n);
        if !seq::before(at, s) && seq::before(at, end) {
            at = end;
        }
    }
    rx_dsn_at(c, at)
}

/// Our DATA_ACK: everything received in order, plus the DATA_FIN.
pub(super) fn data_ack(l: &TcpLocked<'_>, c: &mut CtxRef<'_>) -> u64 {
    match c.peer_fin.ack() {
        Some(ack) => ack,
        None => rcv_dsn(l, c),
    }
}

/// Our DATA_ACK as put on the wire: 64-bit once the peer maps with 64-bit
/// DSNs, 32-bit before (as mainline).
pub(super) fn data_ack_opt(l: &TcpLocked<'_>, c: &mut CtxRef<'_>) -> DataSeq {
    let ack = data_ack(l, c);
    if c.ack64 {
        DataSeq::Bits64(ack)
    } else {
        DataSeq::Bits32(ack as u32)
    }
}

/// Whether the peer's DATA_FIN is now in order (the receive side must be
/// shut down); marks it done.  The caller acts on a true answer with no
/// borrow of the context left (see [`ctx`](super::ctx)).
pub(super) fn data_fin_reached(l: &TcpLocked<'_>, c: &mut CtxRef<'_>) -> bool {
    if !c.peer_fin.is_pending() {
        return false;
    }
    // Only at its own position, as mainline's mptcp_pending_data_fin(): a
    // DATA_FIN behind the data received would otherwise cut the stream.
    let next = rcv_dsn(l, c);
    if !c.peer_fin.reach(next) {
        return false;
    }
    c.data_fin_rx_first = !c.data_fin_tx.is_queued();
    true
}

/// The peer's DATA_FIN is in order: like tcp_fin(), mark the receive side
/// closed (readers get EOF after the queued data) and acknowledge at once.
/// `&mut`: no reference to the context is live.
pub(super) fn data_fin_done(l: &mut TcpLocked<'_>) {
    l.shut_recv();
    l.send_ack();
}

/// Walks the octets queued in order since the last call and checks each
/// mapping against the data stream.  One subflow carries the stream in
/// order, so the first walked octet of a mapping must have the DSN we
/// expect next: if it is lower, the mapping (or its start) repeats data we
/// already have (mainline re-sends data not yet DATA_ACKed, and probes a
/// closed data-level window with an acknowledged octet, on the same
/// subflow: RFC 8684 §3.3.1 allows both), and those octets are recorded
/// to be consumed unseen ([`move_to_msk`]); if it is higher, data the one
/// subflow never carried is missing: `rx_corrupt`.
///
/// Every octet must be covered by a mapping, as mainline's
/// `get_mapping_status()` checks on every skb ([`mapping::rx_step`], the
/// endpoint's rule too): the mapping the walk is in while it covers the
/// octet (a mapping may span segments that carry no DSS, and TCP coalesces
/// such segments into the skb before them), then its segment's own.  An
/// octet no mapping covers (past the end of the last mapping, or before
/// the start of its segment's new one: `DSSNoMatchTCP`), or one a second
/// mapping claims while the current one still covers it and the rest of
/// its skb (`DSSNotMatching`), is an invalid mapping: `rx_invalid`, and
/// the connection falls back to TCP ([`rx_fallback`]; with one subflow
/// and no data-level retransmission, mainline's `allow_infinite_fallback`
/// holds).
fn rx_advance(l: &TcpLocked<'_>, c: &mut SubflowCtx) {
    let seqs = l.seqs();
    // The subflow's FIN (in order once TCP set SOCK_DONE) takes a sequence
    // number but no DSN: the walk stays before it, so that the stream's
    // next DSN (`rcv_dsn`: our DATA_ACK, and where the peer's DATA_FIN is
    // reached) does not count it.  A peer may send its FIN with the last
    // data before the DATA_FIN exchange ends.
    let data_end = seqs.rcv_nxt.wrapping_sub(u32::from(l.sock().is_done()));
    let copied = seqs.copied_seq;
    if seq::before(c.rx_seq, copied) {
        // Consumed without a walk (not through our recvmsg): nothing to
        // check any more.  (A reader also consumes the FIN.)
        c.rx_seq = if seq::before(data_end, copied) {
            data_end
        } else {
            copied
        };
        c.rx_cur = None;
    }
    let mut cur = l.rcv_cursor();
    while seq::before(c.rx_seq, data_end) && !c.rx_corrupt && !c.rx_invalid {
        // Every octet before `data_end` is queued (or read, above): no skb
        // holding it would leave the walk stuck for good, so it is taken
        // as an invalid mapping state (fallback: TCP's rules).
        let Some(skb) = cur.at(c.rx_seq).filter(|s| s.len() > 0) else {
            c.rx_invalid = true;
            return;
        };
        let (start, len) = (skb.seq(), skb.len());
        let rel = c.rx_seq.wrapping_sub(c.isn_remote);
        // The skb's own mapping counts once, as mainline drops the MPTCP
        // extension of the skb whose mapping it took: at the skb's first
        // octet, or later while it is not the mapping the walk took (one
        // deferred until the current one is consumed).  So a mapping that
        // ends inside its own skb leaves the rest uncovered without
        // `DSSNoMatchTCP`, as mainline.
        let own = skb
            .mapping()
            .map(|m| m.to_core())
            .filter(|k| c.rx_seq == start || c.rx_cur != Some(*k));
        let skb_left = len.wrapping_sub(c.rx_seq.wrapping_sub(start));
        let left = match mapping::rx_step(c.rx_cur, own, rel, skb_left) {
            RxStep::Use {
                map,
                left,
                new: true,
            } => {
                // A new mapping: its DSN at this octet against the stream's.
                let at = map.dsn_of(rel).unwrap_or(map.dsn);
                let want = rx_dsn_at(c, c.rx_seq);
                match mapping::walk_step(at, want, left) {
                    WalkStep::Deliver => {}
                    WalkStep::Ahead => {
                        c.rx_corrupt = true;
                        return;
                    }
                    // Wait for the reader to consume a range.
                    WalkStep::Duplicate(_) if c.skips.is_full() => return,
                    WalkStep::Duplicate(dup) => {
                        c.skips.push(c.rx_seq, dup);
                        c.rx_off = c.rx_off.wrapping_sub(u64::from(dup));
                        crate::ctl::mib_add(l.sock().net(), crate::mib::DUPLICATE_DATA, 1);
                    }
                }
                c.rx_cur = Some(map);
                left
            }
            RxStep::Use { left, .. } => left,
            // Past the peer's DATA_FIN: not the connection's data (mainline
            // leaves it unread), and no reason to fall back.
            _ if c.peer_fin.is_done() => skb_left,
            RxStep::NotMatching => {
                crate::ctl::mib_add(l.sock().net(), crate::mib::DSS_NOT_MATCHING, 1);
                c.rx_invalid = true;
                return;
            }
            RxStep::Uncovered { tcp_mismatch } => {
                if tcp_mismatch {
                    crate::ctl::mib_add(l.sock().net(), crate::mib::DSS_TCP_MISMATCH, 1);
                }
                c.rx_invalid = true;
                return;
            }
        };
        // To the end of the skb or of the mapping, whichever comes first.
        let (skb_end, map_end) = (start.wrapping_add(len), c.rx_seq.wrapping_add(left));
        c.rx_seq = if seq::before(map_end, skb_end) {
            map_end
        } else {
            skb_end
        };
    }
}

/// The walk found an octet no mapping covers (`rx_invalid`): the
/// connection falls back to TCP, counted as mainline's
/// `mptcp_try_fallback(ssk, MPTCP_MIB_DSSFALLBACK)`.  What was walked is
/// read as before; the rest, from the uncovered octet on, as TCP data.
/// Only from the receive paths (`data_ready`, the reader), never from an
/// option hook: TCP sizes a segment's options before it writes them.
fn rx_fallback(l: &TcpLocked<'_>, c: &mut CtxRef<'_>) {
    if c.rx_invalid && is_mptcp_state(c.state.load(Ordering::Relaxed)) {
        super::fallback(l, c, crate::mib::DSS_FALLBACK);
    }
}

/// Moves what the subflow holds for the connection to the msk's receive
/// queue (mainline's `__mptcp_move_skbs_from_subflow()`), as far as the
/// msk has room: once the subflow ran MPTCP, its octets whose mappings
/// the walk checked (and, with DSS checksums, whose sums are taken), up to
/// the next duplicate range; duplicate ranges at the head are consumed
/// unseen (as read, with `tcp_read_done()`).  After a fallback
/// (`rx_invalid`, MP_FAIL) the rest of the stream follows the same way
/// unchecked, so the reader keeps one queue in order.  Returns whether
/// the subflow's data goes through the msk (false: it never ran MPTCP, or
/// has no msk yet; TCP's own reader applies).
fn move_to_msk(l: &mut TcpLocked<'_>) -> bool {
    enum Step {
        Skip(u32),
        Move(u32),
    }
    loop {
        let step = {
            let Some(mut c) = ctx_locked(l) else {
                return false;
            };
            let mptcp = is_mptcp_state(c.state.load(Ordering::Relaxed));
            // Once MPTCP (or with duplicates to skip, which TCP's reader
            // would not), always: the reader keeps one queue in order.
            c.rx_via_msk |= mptcp || c.skips.front().is_some();
            if !c.rx_via_msk || l.msk().is_none() {
                return false;
            }
            // SO_RCVLOWAT is the msk's (its own copy: recvmsg and poll
            // read it there); the subflow's stays 0, as mainline's
            // mptcp_sockopt_sync_locked() sets it.  Else TCP's
            // __tcp_ack_snd_check() ACKs every segment at once: with the
            // data moved, rcv_nxt - copied_seq is 0, below any lowat.
            // With 0, TCP ACKs when the window grows: the reader's
            // cleanup_rbuf() once it made room, as plain TCP.
            lowat_to_msk(l);
            let seqs = l.seqs();
            let copied = seqs.copied_seq;
            let mut limit = if mptcp {
                // Sums first (data_ready does too; a reader with SO_RCVLOWAT
                // may come before it).
                csum_advance(l, &mut c);
                rx_advance(l, &mut c);
                let mut limit = c.rx_seq;
                if c.csum_reqd && c.fail.checking() && seq::before(c.csum_seq, limit) {
                    limit = c.csum_seq;
                }
                limit
            } else {
                // Fallen back: the rest, but not the FIN.
                seqs.rcv_nxt.wrapping_sub(u32::from(l.sock().is_done()))
            };
            match c.skips.front() {
                Some((s, n)) if s == copied => {
                    // The range is at the head: consume what of it is queued.
                    let queued = seqs.rcv_nxt.wrapping_sub(copied).min(n);
                    if queued == 0 {
                        return true;
                    }
                    c.skips.pop();
                    if queued < n {
                        let _ = c.skips.push_front(s.wrapping_add(queued), n - queued);
                    }
                    Step::Skip(queued)
                }
                Some((s, _)) => {
                    if seq::before(s, limit) {
                        limit = s;
                    }
                    if !seq::before(copied, limit) {
                        return true;
                    }
                    Step::Move(limit.wrapping_sub(copied))
                }
                None if seq::before(copied, limit) => Step::Move(limit.wrapping_sub(copied)),
                None => return true,
            }
        };
        // No context borrow from here (TCP may re-enter our hooks).
        match step {
            Step::Skip(n) => l.read_done(n),
            Step::Move(n) => match l.move_rcv_to_msk(n) {
                Moved::Octets(_) => {}
                Moved::NoRoom | Moved::Nothing => return true,
            },
        }
    }
}

/// The reader's turn (process context, the subflow locked by the
/// reader): moves what `data_ready` could not (the msk was full, or data
/// came before accept() gave it an msk).  False: the subflow is plain TCP
/// for good ([`rx_plain`]), TCP's reader applies.
pub(crate) fn rx_pull(g: &mut TcpLocked<'_>) -> bool {
    move_to_msk(g);
    let send_ack = match ctx_locked(g) {
        Some(mut c) => {
            rx_fallback(g, &mut c);
            // A checksum failure found here: MP_FAIL on an ACK now.
            c.fail.wants_ack() && is_mptcp_state(c.state.load(Ordering::Relaxed))
        }
        None => false,
    };
    if send_ack {
        g.send_ack();
    }
    !rx_plain(g)
}

/// Whether the subflow's data is TCP's alone for good: not ours, or it
/// never ran MPTCP (fallback at the handshake, or no MPTCP at all) and
/// none of it went to the msk.  One still in its handshake is not: its
/// reader waits for the outcome.
pub(crate) fn rx_plain(l: &TcpLocked<'_>) -> bool {
    match ctx_locked(l) {
        Some(c) => {
            let st = c.state.load(Ordering::Relaxed);
            !c.rx_via_msk && matches!(st, state::FALLBACK | state::RESET | state::LISTEN)
        }
        None => true,
    }
}

/// SO_RCVLOWAT was set on the msk (and, for TCP's buffer sizing, on its
/// subflow `ssk`): unless the subflow is plain TCP ([`rx_plain`]: TCP's
/// reader reads its own copy), the subflow's goes back to 0 (see
/// [`move_to_msk`]), and what TCP kept from us meanwhile (tcp_data_ready()
/// calls `sk_data_ready` only at the subflow's mark) moves now, waking
/// pollers.  Process context.
pub(crate) fn rcvlowat_set(ssk: &TcpSock) {
    let mut g = ssk.lock();
    let via_msk = match ctx_locked(&g) {
        Some(c) => c.rx_via_msk || is_mptcp_state(c.state.load(Ordering::Relaxed)),
        None => false,
    };
    // Still in its handshake: the mark stays until it is MPTCP
    // ([`lowat_to_msk`]), for TCP's reader if it falls back.
    if !via_msk {
        return;
    }
    lowat_to_msk(&g);
    data_ready(&mut g);
}

/// The subflow went MPTCP (SYN-ACK with MP_CAPABLE, or a child that
/// runs MPTCP): from now on its data goes to the msk, whose SO_RCVLOWAT
/// applies; the subflow's own mark is 0 (see [`move_to_msk`]), as
/// mainline's `mptcp_sockopt_sync_locked()` sets it.
pub(super) fn lowat_to_msk(l: &TcpLocked<'_>) {
    if l.sock().rcvlowat() != 0 {
        l.sock().set_rcvlowat(0);
    }
}

/// The reader took `n` octets off the msk's queue: more may move, and
/// the window TCP announces grows (`tcp_cleanup_rbuf()`, autotuning).
pub(crate) fn rx_consumed(g: &mut TcpLocked<'_>, n: u32) {
    move_to_msk(g);
    rcv_space_adjust(g, n);
    g.cleanup_rbuf(n);
}

/// Receive buffer autotuning after the reader took `n` octets, from what
/// the application read per round trip ([`crate::rcvbuf`], mainline's
/// `mptcp_rcv_space_adjust()`): TCP's own (`tcp_rcv_space_adjust()`)
/// counts what moved to the msk as read, and would grow the buffer of a
/// slow reader to `tcp_rmem[2]`.  The subflow's buffer is the budget of
/// both queues (see [`rcv_space`]).
fn rcv_space_adjust(g: &mut TcpLocked<'_>, n: u32) {
    let t = g.rcv_tuning();
    let now_us = crate::sys::now_us();
    let Some(slot) = g.msk_rcv_space() else {
        return;
    };
    if !slot.init {
        slot.space = RcvSpace::new(t.rcv_wnd, t.advmss, now_us);
        slot.init = true;
    }
    let sample = Sample {
        now_us,
        rtt_us8: t.rtt_us8,
        advmss: t.advmss,
    };
    let Some(win) = slot.space.on_read(n, sample, t.may_grow) else {
        return;
    };
    let rcvbuf = rcvbuf::space_from_win(win, t.scaling_ratio).min(u64::from(t.rmem_max));
    if rcvbuf > u64::from(t.rcvbuf) {
        let clamp = rcvbuf::win_from_space(rcvbuf, t.scaling_ratio);
        g.grow_rcvbuf(
            c_int::try_from(rcvbuf).unwrap_or(c_int::MAX),
            u32::try_from(clamp).unwrap_or(u32::MAX),
        );
    }
}

/// The receive space our subflow announces (`mptcp_space()`): TCP's,
/// from the subflow's buffer, less what the msk holds of it (one receive
/// buffer for both: the subflow's, which SO_RCVBUF and autotuning set).
pub(crate) fn rcv_space(l: &TcpLocked<'_>, space: c_int) -> c_int {
    let Some(msk) = l.msk() else {
        return space;
    };
    // tcp_win_from_space(): payload per 256 octets of buffer.
    let held = (i64::from(msk.rmem()) * i64::from(l.scaling_ratio())) >> 8;
    c_int::try_from((i64::from(space) - held).max(0)).unwrap_or(0)
}

/// The msk's count of octets a reader can take now, mainline's
/// `mptcp_inq_hint()` (SIOCINQ and the TCP_INQ cmsg): queued octets whose
/// mapping is checked, less the data-level duplicates to skip; with none,
/// 1 once the peer closed (its DATA_FIN in order, or the subflow's FIN) or
/// the socket is closed, else 0.  Plain TCP subflows count as TCP does,
/// without their FIN.  Process context.
pub(crate) fn rx_inq(ssk: &TcpSock) -> u32 {
    let g = ssk.lock();
    let queued = g.msk().map_or(0, |m| m.rx_bytes());
    let seqs = g.seqs();
    let done = ssk.is_done();
    // A FIN takes a sequence number; it is not data.
    let mut limit = seqs.rcv_nxt.wrapping_sub(u32::from(done));
    let mut closed = done
        || ssk.shutdown() & bindings::RCV_SHUTDOWN as u8 != 0
        || ssk.state() == bindings::TCP_CLOSE as c_int;
    // The context borrow ends before the guard (release_sock() may run our
    // hooks from the backlog).
    let inq = match ctx_locked(&g) {
        Some(mut c) => {
            if is_mptcp_state(c.state.load(Ordering::Relaxed)) {
                rx_advance(&g, &mut c);
                if seq::before(c.rx_seq, limit) {
                    limit = c.rx_seq;
                }
                closed |= c.peer_fin.is_done();
            }
            seq::octets_outside(seqs.copied_seq, limit, c.skips.iter())
        }
        None => seq::octets_outside(seqs.copied_seq, limit, core::iter::empty()),
    };
    drop(g);
    let inq = inq.saturating_add(queued);
    if inq == 0 && closed {
        1
    } else {
        inq
    }
}

/// Our `sk_data_ready` (entry point: `sys::hooks::subflow_data_ready`):
/// data was queued on the subflow, which TCP holds locked.
pub(crate) fn data_ready(l: &mut TcpLocked<'_>) {
    let mut fin = false;
    let mut corrupt = false;
    let mut send_ack = false;
    if let Some(mut c) = ctx_locked(l) {
        let c = &mut c;
        if is_mptcp_state(c.state.load(Ordering::Relaxed)) {
            csum_advance(l, c);
            // A checksum failure: MP_FAIL goes out on an ACK now.
            send_ack = c.fail.wants_ack();
            rx_advance(l, c);
            corrupt = c.rx_corrupt && is_mptcp_state(c.state.load(Ordering::Relaxed));
            rx_fallback(l, c);
        }
        fin = data_fin_reached(l, c);
    }
    // No context reference is live from here on (TCP re-enters our
    // option hooks).
    if send_ack {
        l.send_ack();
    }
    // What is checked goes to the msk now (before a reset or the EOF,
    // which the reader sees after the data).
    if move_to_msk(l) {
        // A reader waiting below the msk's SO_RCVLOWAT waits for more
        // data: ACK at once once more than a segment is unacked, as TCP
        // does below its own mark (mainline's subflow_data_ready()).
        let below = l
            .msk()
            .is_some_and(|m| i64::from(m.rx_bytes()) < i64::from(m.sock().rcvlowat()));
        if below {
            l.ack_now_if_segment_unacked();
        }
    }
    if corrupt {
        rx_reset(l);
    } else if fin {
        data_fin_done(l);
    }
    l.data_ready();
}

/// A mapping contradicts the data stream of our one subflow (data the
/// subflow never carried would be missing): delivering more in TCP order
/// would corrupt the stream, so the connection is reset (MP_TCPRST
/// "MPTCP-specific error", `DSSCorruptionReset`), as mainline's
/// subflow_check_data_avail() does: RST, EBADMSG for the reader once it
/// has read the data before the bad mapping, receive side closed.
fn rx_reset(l: &mut TcpLocked<'_>) {
    crate::ctl::mib_add(l.sock().net(), crate::mib::DSS_CORRUPTION_RESET, 1);
    if let Some(mut c) = ctx_locked(l) {
        c.reset_reason = ResetReason::MptcpSpecific;
    }
    l.abort(bindings::EBADMSG as i32);
}
