// SPDX-License-Identifier: GPL-2.0

//! DSS checksums of received payload (RFC 8684 §3.3.1): each mapping's
//! sum is collected over the skbs it spans and verified when complete
//! ([`csum_advance`]); a failure means MP_FAIL, and fallback once the
//! peer's infinite mapping arrives ([`crate::fail`]).

use core::sync::atomic::Ordering;

use kernel::bindings;
use kernel::ffi::c_int;

use super::{ctx_locked, is_mptcp_state, SubflowCtx};
use crate::csum::{CsumStep, CsumVerdict};
use crate::seq;
use crate::sys::skb::TcpSkb;
use crate::sys::{TcpLocked, TcpSock};

/// Checks the DSS checksums of the payload queued since the last call
/// (RFC 8684 §3.3.1) with the core's walk ([`crate::csum::CsumWalk`], the
/// endpoint's too): each mapping is followed over as many skbs as it spans
/// and its sum compared when its last octet is in.  On a mismatch MP_FAIL
/// is to go out (one subflow, §3.7: [`crate::fail::MpFail`]) and nothing
/// is checked any more, keeping the data as mainline does; octets read
/// before they could be checked (SO_RCVLOWAT readers) and octets of
/// mappings whose start was not seen are passed unchecked.
pub(super) fn csum_advance(l: &TcpLocked<'_>, c: &mut SubflowCtx) {
    if !c.csum_reqd || !c.fail.checking() {
        return;
    }
    let seqs = l.seqs();
    let (rcv_nxt, copied) = (seqs.rcv_nxt, seqs.copied_seq);
    if seq::before(c.csum_seq, copied) {
        c.csum_walk.reset();
        c.csum_seq = copied;
    }
    let mut cur = l.rcv_cursor();
    while seq::before(c.csum_seq, rcv_nxt) {
        let Some(skb) = cur.at(c.csum_seq) else {
            c.csum_walk.reset();
            c.csum_seq = rcv_nxt;
            return;
        };
        let start = skb.seq();
        let mut end = start.wrapping_add(skb.len());
        if seq::before(rcv_nxt, end) {
            end = rcv_nxt;
        }
        let left = end.wrapping_sub(c.csum_seq);
        let own = skb.mapping().map(|m| (m.to_core(), m.csum.unwrap_or(0)));
        let rel = c.csum_seq.wrapping_sub(c.isn_remote);
        match c.csum_walk.step(own, rel, left) {
            CsumStep::Sum(n) => {
                // [csum_seq, csum_seq + n) lies inside this skb's payload.
                let Some(w) = skb_sum(skb, c.csum_seq.wrapping_sub(start), n) else {
                    c.csum_walk.reset();
                    c.csum_seq = end;
                    continue;
                };
                c.csum_seq = c.csum_seq.wrapping_add(n);
                match c.csum_walk.add_sum(w, n) {
                    CsumVerdict::Good => c.fail.checksum_ok(),
                    CsumVerdict::Bad(dsn) => {
                        crate::ctl::mib_add(l.sock().net(), crate::mib::DATA_CSUM_ERR, 1);
                        // MP_FAIL goes out on an ACK the caller sends once
                        // it holds no context reference; the data is
                        // delivered as received (§3.7, as mainline).  With
                        // no checksum passed yet: fallback, as the walk
                        // does for an invalid mapping (`rx_fallback`).
                        if !c.fail.checksum_failed(dsn) {
                            c.rx_invalid = true;
                        } else if c.fail.awaiting_answer() {
                            // The wait for the peer's answer starts now
                            // (mainline's fail timeout), on the msk's timer.
                            let t = fail_timeout();
                            c.fail_due = (crate::sys::jiffies() as u64).wrapping_add(t);
                            if let Some(msk) = l.msk() {
                                msk.arm_timer_earlier(t);
                            }
                        }
                        return;
                    }
                    CsumVerdict::Pending => {}
                }
            }
            CsumStep::Skip(n) => c.csum_seq = c.csum_seq.wrapping_add(n),
            // The receive walk decides (DSSNotMatching).
            CsumStep::Stop => return,
        }
    }
}

/// What our MP_FAIL's wait asks of the msk timer ([`fail_timer`]).
pub(super) enum FailWait {
    /// No answer awaited.
    Idle,
    /// Fire again in this many jiffies.
    Due(u64),
    /// No answer came in time: the connection was reset.
    Reset,
}

/// The msk timer fired (softirq, the subflow's spinlock held, no owner):
/// if our MP_FAIL still awaits the peer's answer and its time is up
/// ([`fail_timeout`] after the failure), the connection is reset, as
/// mainline's `mptcp_mp_fail_no_response()` resets the subflow (our RST
/// carries MP_FASTCLOSE and MP_TCPRST, see `tx::control_options`: one
/// subflow is the connection).
pub(super) fn fail_timer(l: &mut TcpLocked<'_>) -> FailWait {
    // Data can still flow (mainline stops at the msk's CLOSE).
    const OPEN: u32 = bindings::TCPF_ESTABLISHED
        | bindings::TCPF_CLOSE_WAIT
        | bindings::TCPF_FIN_WAIT1
        | bindings::TCPF_FIN_WAIT2;
    if !l.sock().state_in(OPEN) {
        return FailWait::Idle;
    }
    {
        let Some(c) = ctx_locked(l) else {
            return FailWait::Idle;
        };
        if !c.fail.awaiting_answer() || !is_mptcp_state(c.state.load(Ordering::Relaxed)) {
            return FailWait::Idle;
        }
        // Both DATA_FINs are through: the connection is closed at the
        // data level, nothing to reset.
        if c.data_fin_tx.is_acked() && c.peer_fin.is_done() {
            return FailWait::Idle;
        }
        let left = c.fail_due.wrapping_sub(crate::sys::jiffies() as u64);
        if left != 0 && left < u64::MAX / 2 {
            return FailWait::Due(left);
        }
    }
    // No context borrow: TCP asks our option hook for the RST's options.
    l.abort(bindings::ECONNRESET as c_int);
    FailWait::Reset
}

/// If our MP_FAIL awaits the peer's answer on `ssk`: the jiffies left
/// until [`fail_timer`] resets the connection (at least 1).  Process
/// context.
pub(crate) fn fail_wait_left(ssk: &TcpSock) -> Option<u64> {
    let g = ssk.lock();
    let c = ctx_locked(&g)?;
    if !c.fail.awaiting_answer() || !is_mptcp_state(c.state.load(Ordering::Relaxed)) {
        return None;
    }
    let left = c.fail_due.wrapping_sub(crate::sys::jiffies() as u64);
    Some(if left < u64::MAX / 2 { left.max(1) } else { 1 })
}

/// How long our MP_FAIL waits for the peer's answer, in jiffies
/// ([`crate::fail::ANSWER_TIMEOUT_MS`]: `TCP_RTO_MAX`).
pub(super) fn fail_timeout() -> u64 {
    crate::fail::ANSWER_TIMEOUT_MS * crate::sys::HZ / 1000
}

/// The folded sum of `len` payload octets of `skb` from `offset`, as
/// big-endian words ([`DssCsum::add_sum`]'s input); None when the range
/// is not inside the payload.
pub(super) fn skb_sum(skb: &TcpSkb, offset: u32, len: u32) -> Option<u16> {
    // skb_checksum() sums 16-bit words in host order: fold, then convert.
    let w = skb.checksum(offset, len)?;
    let s = (w & 0xffff) + (w >> 16);
    let s = (s & 0xffff) + (s >> 16);
    Some(u16::from_be(s as u16))
}
