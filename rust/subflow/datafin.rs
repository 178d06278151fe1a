// SPDX-License-Identifier: GPL-2.0

//! Our DATA_FIN (RFC 8684 §3.3.3): shutdown(SHUT_WR) of an MPTCP
//! connection ends the *data* stream first.  The DATA_FIN goes on a DSS
//! mapping, on the last data segment or on a segment without data (subflow
//! sequence number 0, data-level length 1, as mainline's
//! `mptcp_write_data_fin`), once every octet is sent; the subflow's TCP FIN
//! waits until the msk is closed.  So the peer's subflow counts no FIN in
//! its `tcpi_bytes_received` while the connection is half-closed, as with
//! mainline (its `mptcp_sockopt` selftest checks exactly that).
//!
//! The DATA_FIN is repeated on every segment without data until the peer's
//! DATA_ACK covers it, and by the msk's timer ([`msk_timer`], on the
//! msk's `sk_timer`, as mainline's retransmit timer resends it) while the
//! msk is open; after close() the subflow's TCP FIN, which carries the
//! DATA_FIN at the same DSN, is retransmitted by TCP itself.
//!
//! close() of an MPTCP connection sends the DATA_FIN the same way and keeps
//! the subflow open (`msk/closing.rs`) until both DATA_FINs are acked, or
//! the close timeout passes; only then does TCP close the subflow (its
//! FIN), as mainline closes subflows once the msk reaches CLOSE.  Until then
//! [`close_poll`] resends the DATA_FIN.
//!
//! State lives in the subflow context (`data_fin_tx`, the core's
//! `close::LocalDataFin`), under the subflow socket lock like the rest of
//! it.

use super::checksum::{fail_timer, FailWait};
use core::sync::atomic::Ordering;

use kernel::bindings;
use kernel::ffi::c_int;

use super::checksum::skb_sum;
use super::{ctx_locked, state, uncount_estab, SubflowCtx};
use crate::csum::DssCsum;
use crate::options::{DataSeq, DssMapping};
use crate::seq;
use crate::sys::skb::TcpSkb;
use crate::sys::{TcpLocked, TcpSock};

/// The DSN of the next octet we would send: IDSN + (write_seq - ISN).
fn write_dsn(c: &SubflowCtx, write_seq: u32) -> u64 {
    let rel = seq::expand_seq(c.snd_rel, u64::from(write_seq.wrapping_sub(c.isn_local)));
    c.idsn_local.wrapping_add(rel)
}

/// close() of an MPTCP connection on its subflow `ssk`: whether the subflow
/// can wait for the DATA_FIN exchange before TCP closes it (an established
/// MPTCP connection, no unread data, no SO_LINGER with a zero timeout:
/// those close abortively at once, as TCP does).  If so, our DATA_FIN is
/// queued (unless shutdown() already did).  Process context.
pub(crate) fn close_deferrable(ssk: &TcpSock) -> bool {
    let g = ssk.lock();
    let seqs = g.seqs();
    // Not counting the subflow's FIN, which a reader of an MPTCP
    // connection leaves unconsumed (TCP's tcp_close() does not count it
    // either).
    let data_end = seqs.rcv_nxt.wrapping_sub(u32::from(ssk.is_done()));
    let unread = seq::before(seqs.copied_seq, data_end);
    let abort_linger = g.linger_zero();
    let queued = ctx_locked(&g).map(|c| {
        let st = c.state.load(Ordering::Relaxed);
        (st == state::ESTABLISHED || st == state::MPC_ACK_PENDING) && c.data_fin_tx.is_queued()
    });
    drop(g);
    if unread || abort_linger {
        return false;
    }
    queued == Some(true) || shutdown_send(ssk) != ShutdownSend::Tcp
}

/// What [`shutdown_send`] did.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ShutdownSend {
    /// Nothing: not an established MPTCP connection; the caller shuts the
    /// subflow down as plain TCP.
    Tcp,
    /// Our DATA_FIN is queued now (the caller arms the msk's timer).
    Queued,
    /// It was queued before: a repeated shutdown does nothing.
    AlreadyQueued,
}

/// The connection state `ss -M` reports for an msk whose subflow `ssk` is
/// in TCP state `tcp_state`: while the subflow is open, the data-level
/// close state of RFC 8684 §3.3.3 (mainline's msk states: FIN_WAIT1 until
/// our DATA_FIN is acked, FIN_WAIT2, CLOSE_WAIT after the peer's,
/// LAST_ACK, CLOSING when both were sent before either arrived, CLOSE when
/// both are acked); else the subflow's own.
/// The subflow is locked here, nested under the msk's lock held by the
/// caller; process context.
pub(crate) fn msk_state(ssk: &TcpSock, tcp_state: c_int) -> c_int {
    const E: c_int = bindings::TCP_ESTABLISHED as c_int;
    const CW: c_int = bindings::TCP_CLOSE_WAIT as c_int;
    if tcp_state != E && tcp_state != CW {
        return tcp_state;
    }
    // The msk (held) and its subflow share a lockdep class (AF_INET/AF_INET6
    // sockets): the subflow lock nests one level under the msk's.
    let g = ssk.lock_nested();
    let st = ctx_locked(&g).and_then(|c| {
        let s = c.state.load(Ordering::Relaxed);
        (s == state::ESTABLISHED || s == state::MPC_ACK_PENDING).then(|| {
            let facts = crate::close::DataFins {
                tx: c.data_fin_tx.is_queued(),
                tx_acked: c.data_fin_tx.is_acked(),
                rx: c.peer_fin.is_done(),
                rx_first: c.data_fin_rx_first,
            };
            tcp_state_of(crate::close::state_of(facts))
        })
    });
    drop(g);
    st.unwrap_or(tcp_state)
}

/// The `TCP_*` value of a connection state (as `ss -M` and MPTCP_INFO
/// show mainline's msk states).
fn tcp_state_of(st: crate::close::MskState) -> c_int {
    use crate::close::MskState as S;
    (match st {
        S::Closed => bindings::TCP_CLOSE,
        S::Listen => bindings::TCP_LISTEN,
        S::SynSent => bindings::TCP_SYN_SENT,
        S::SynRecv => bindings::TCP_SYN_RECV,
        S::Established => bindings::TCP_ESTABLISHED,
        S::FinWait1 => bindings::TCP_FIN_WAIT1,
        S::FinWait2 => bindings::TCP_FIN_WAIT2,
        S::Closing => bindings::TCP_CLOSING,
        S::CloseWait => bindings::TCP_CLOSE_WAIT,
        S::LastAck => bindings::TCP_LAST_ACK,
    }) as c_int
}

/// A closed connection's subflow waiting in `msk/closing.rs`: resends our
/// DATA_FIN when due and tells whether TCP may close the subflow now: both
/// DATA_FINs acked, the connection no longer MPTCP or no longer open, or
/// `expired` (the close timeout).  Process context.
pub(crate) fn close_poll(ssk: &TcpSock, expired: bool, now: u64) -> bool {
    let mut g = ssk.lock();
    let open = ssk.state_in(bindings::TCPF_ESTABLISHED | bindings::TCPF_CLOSE_WAIT);
    let mut resend = false;
    let ready = match open.then(|| ctx_locked(&g)).flatten() {
        None => true,
        Some(mut c) => {
            let st = c.state.load(Ordering::Relaxed);
            let mptcp = st == state::ESTABLISHED || st == state::MPC_ACK_PENDING;
            if expired || !mptcp || !c.data_fin_tx.is_queued() {
                true
            } else if c.data_fin_tx.is_acked() {
                c.peer_fin.is_done()
            } else {
                let seqs = g.seqs();
                let all_sent = seqs.snd_nxt == seqs.write_seq;
                if all_sent && now.wrapping_sub(c.data_fin_tx_due) < u64::MAX / 2 {
                    c.data_fin_tx_tries = c.data_fin_tx_tries.saturating_add(1);
                    let base = u64::from(g.rto()).clamp(RTO_MIN, RTO_MAX);
                    c.data_fin_tx_due =
                        now.wrapping_add((base << c.data_fin_tx_tries.min(10)).min(RTO_MAX));
                    resend = true;
                }
                false
            }
        }
    };
    if resend {
        g.send_ack();
    }
    ready
}

/// shutdown(SHUT_WR) of an MPTCP connection on its subflow `ssk`: marks
/// the send side shut (sendmsg fails with EPIPE, as after tcp_shutdown) and
/// queues our DATA_FIN, sent at once if all data is out.  A repeated
/// shutdown does nothing (as mainline's: the msk is already closing);
/// passed on to TCP it would send the subflow's FIN ahead of the DATA_FIN
/// exchange.  Process context.
pub(crate) fn shutdown_send(ssk: &TcpSock) -> ShutdownSend {
    let mut g = ssk.lock();
    let open = ssk.state_in(bindings::TCPF_ESTABLISHED | bindings::TCPF_CLOSE_WAIT);
    let mut done = ShutdownSend::Tcp;
    let mut send_now = false;
    let seqs = g.seqs();
    if let Some(mut c) = open.then(|| ctx_locked(&g)).flatten() {
        let st = c.state.load(Ordering::Relaxed);
        let mptcp = st == state::ESTABLISHED || st == state::MPC_ACK_PENDING;
        if mptcp && c.data_fin_tx.is_queued() {
            return ShutdownSend::AlreadyQueued;
        }
        if mptcp && ssk.shutdown() & bindings::SEND_SHUTDOWN as u8 == 0 {
            let fin = write_dsn(&c, seqs.write_seq);
            c.data_fin_tx.queue(fin);
            c.data_fin_tx_tries = 0;
            uncount_estab(ssk.net(), &mut c);
            done = ShutdownSend::Queued;
            send_now = seqs.snd_nxt == seqs.write_seq;
        }
    }
    if done == ShutdownSend::Queued {
        g.shut_send();
    }
    // No context reference is live (TCP re-enters our option hooks when it
    // sends).
    if send_now {
        g.send_ack();
    }
    done
}

/// Adds our pending DATA_FIN to the mapping `m` of an outgoing segment
/// (None: the segment carries no payload), as mainline's
/// `mptcp_write_data_fin`: on a segment without payload once all data is
/// sent, the DATA_FIN alone (SSN 0, length 1); on the segment whose mapping
/// ends where the DATA_FIN sits, one more octet of data-level length.  With
/// DSS checksums the latter only when the segment carries its whole
/// mapping (the checksum is recomputed over it); otherwise a segment
/// without payload brings the DATA_FIN.
///
/// `skb` is the segment being transmitted.
pub(super) fn with_data_fin(
    l: &TcpLocked<'_>,
    c: &SubflowCtx,
    skb: &TcpSkb,
    m: Option<DssMapping>,
) -> Option<DssMapping> {
    if c.data_fin_tx.pending().is_none() {
        return m;
    }
    let len = skb.len();
    let seqs = l.seqs();
    let alone = c.data_fin_tx.alone(seqs.snd_nxt == seqs.write_seq);
    match (m, alone) {
        (None, Some(fin)) if len == 0 => Some(DssMapping {
            dsn: DataSeq::Bits64(fin),
            ssn: 0,
            data_len: 1,
            checksum: c.csum_reqd.then(|| DssCsum::new().finish(fin, 0, 1)),
            data_fin: true,
        }),
        (Some(mut mm), _) if !mm.data_fin => {
            let DataSeq::Bits64(dsn) = mm.dsn else {
                return Some(mm);
            };
            if !c
                .data_fin_tx
                .rides_on(dsn.wrapping_add(u64::from(mm.data_len)), mm.data_len)
            {
                return Some(mm);
            }
            if c.csum_reqd {
                let rel32 = skb.seq().wrapping_sub(c.isn_local);
                if rel32 != mm.ssn || len != u32::from(mm.data_len) {
                    return Some(mm);
                }
                let mut sum = DssCsum::new();
                let Some(w) = skb_sum(skb, 0, len) else {
                    return Some(mm);
                };
                sum.add_sum(w, len as usize);
                mm.checksum = Some(sum.finish(dsn, mm.ssn, mm.data_len + 1));
            }
            mm.data_fin = true;
            mm.data_len += 1;
            Some(mm)
        }
        (other, _) => other,
    }
}

/// The peer's DATA_ACK `ack` (32 or 64 bits): our DATA_FIN is acked once
/// it passes it (and it was sent: `LocalDataFin::on_data_ack`).
pub(super) fn data_ack_received(c: &mut SubflowCtx, ack: DataSeq) {
    let Some(fin) = c.data_fin_tx.dsn() else {
        return;
    };
    let ack = match ack {
        DataSeq::Bits64(a) => a,
        DataSeq::Bits32(a) => seq::expand_seq(fin, u64::from(a)),
    };
    c.data_fin_tx.on_data_ack(ack);
}

/// TCP_RTO_MIN and TCP_RTO_MAX (200 ms, 120 s), in jiffies.
const RTO_MIN: u64 = crate::sys::HZ / 5;
const RTO_MAX: u64 = 120 * crate::sys::HZ;

/// The msk's timer fired for its subflow `ssk`: our MP_FAIL's wait for
/// the peer's answer ([`fail_timer`]), then the DATA_FIN: resend it (on an
/// ACK) if the peer has not acked it; once both DATA_FINs are acked, close
/// the subflow (TCP FIN).  A connection that fell back since gets its TCP
/// FIN at once.  Returns the delay until the next check, or None when the
/// timer can stop.  Softirq.
pub(crate) fn msk_timer(ssk: &TcpSock) -> Option<u64> {
    let Some(mut l) = ssk.lock_bh_unowned() else {
        // The owner (process context) holds the socket: look again soon.
        return Some(RTO_MIN / 4 + 1);
    };
    let fail = match fail_timer(&mut l) {
        FailWait::Reset => return None,
        FailWait::Due(d) => Some(d),
        FailWait::Idle => None,
    };
    match (fail, data_fin_timer_locked(&mut l)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The DATA_FIN part of [`msk_timer`], with the socket spinlock held and
/// no owner.
fn data_fin_timer_locked(l: &mut TcpLocked<'_>) -> Option<u64> {
    let tcp_state = l.sock().state();
    if tcp_state != bindings::TCP_ESTABLISHED as c_int
        && tcp_state != bindings::TCP_CLOSE_WAIT as c_int
    {
        return None;
    }
    let mut c = ctx_locked(l)?;
    let st = c.state.load(Ordering::Relaxed);
    c.data_fin_tx.dsn()?;
    if c.data_fin_tx.is_acked() && st != state::FALLBACK {
        if !c.peer_fin.is_done() {
            // Half-closed: the peer's DATA_FIN ends it.
            return Some(RTO_MIN);
        }
        // Both DATA_FINs are acked: the connection is closed at the data
        // level, so the subflow closes too (its FIN), as mainline's
        // mptcp_shutdown_subflows() when the msk reaches CLOSE.
        drop(c);
        l.send_fin();
        return None;
    }
    let seqs = l.seqs();
    let all_sent = seqs.snd_nxt == seqs.write_seq;
    let rto = u64::from(l.rto());
    if st == state::FALLBACK {
        // Plain TCP now (MP_FAIL after our shutdown): its FIN ends the
        // stream, as mainline's fallback shutdown does.
        drop(c);
        l.send_fin();
        return None;
    }
    let base = rto.clamp(RTO_MIN, RTO_MAX);
    if !all_sent {
        // Data still queued: the DATA_FIN follows it.
        return Some(base);
    }
    let now = crate::sys::jiffies() as u64;
    let wait = c.data_fin_tx_due.wrapping_sub(now);
    if wait != 0 && wait < u64::MAX / 2 {
        // Not due yet: the timer fired for the fail wait.
        return Some(wait);
    }
    c.data_fin_tx_tries = c.data_fin_tx_tries.saturating_add(1);
    let backoff = (base << c.data_fin_tx_tries.min(10)).min(RTO_MAX);
    c.data_fin_tx_due = now.wrapping_add(backoff);
    drop(c);
    // The ACK carries the DATA_FIN.
    l.send_ack();
    Some(backoff)
}
