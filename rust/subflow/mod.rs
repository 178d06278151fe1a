// SPDX-License-Identifier: GPL-2.0

//! Subflow (`ssk`) state and the MPTCP v1 data path of the first subflow.
//!
//! Stage 2, client side: an msk that connects marks its TCP subflow
//! `is_mptcp` and attaches the "mptcp" ULP, whose data is a [`SubflowCtx`].
//! TCP then calls our hooks (`sys/hooks.rs`) for that subflow:
//! - the SYN carries MP_CAPABLE (v1, no key);
//! - the SYN-ACK is parsed in our `sk_rx_dst_set` wrapper (called by
//!   `tcp_finish_connect()`): with MP_CAPABLE the peer key is taken and the
//!   connection is MPTCP, without it the subflow falls back to plain TCP
//!   (RFC 8684 §3.7) and stops calling our hooks;
//! - until the peer shows it has our key (its first DSS), segments carry
//!   MP_CAPABLE with both keys (20 bytes, or 22 with data-level length on
//!   the first data segment), then DSS with a 64-bit DATA_ACK and, on
//!   segments with data or FIN, a 64-bit mapping;
//! - the DATA_FIN received from the peer ends the data stream: when all
//!   data before it is in, the subflow's receive side is shut down (the
//!   reader sees EOF), and our DATA_ACK acknowledges it.
//!
//! With one subflow, our data-level order is subflow order: DSN = IDSN +
//! (seq - ISN), and the mapping of a segment is derived from its sequence
//! number.  (The peer's mappings are checked, not assumed: see below.)
//! The mapping chosen at a segment's first transmission is stored in its
//! `SKB_EXT_MPTCP` extension, which TCP copies when it splits the segment,
//! so retransmissions repeat the original mapping (RFC 8684 §3.3.1; a
//! receiver must not see a second, different mapping inside one it holds).
//!
//! Server side: a listening msk makes its subflow listener MPTCP too.  Our
//! `conn_request` runs the kernel's with our request ops, whose `route_req`
//! marks a request MPTCP when the SYN carries MP_CAPABLE; the SYN-ACK then
//! carries our key, derived from the request (see `server_key`), and our
//! `syn_recv_sock` checks the third ACK's MP_CAPABLE (both keys) before the
//! child subflow, which our ULP's clone op gave a context, runs MPTCP.
//!
//! Checks on the peer's mappings: every mapping of payload is stored in its
//! skb's `SKB_EXT_MPTCP`; once the octets are in order,
//! [`rx_advance`](rx::rx_advance) compares the mapping's DSN with the next
//! one the stream expects.  Lower means a data-level duplicate (a peer may
//! send data again at new subflow sequence numbers: mainline does when it
//! re-sends data not yet DATA_ACKed or probes a closed data-level window):
//! those octets are queued for the reader to skip (`msk/rx.rs` never reads
//! them), counted in `DuplicateData`.  Higher means data the one subflow
//! never carried: the connection is reset (`DSSCorruptionReset`).  Our
//! DATA_ACK covers the walked octets, 32-bit until the peer maps with
//! 64-bit DSNs (mainline's `use_64bit_ack`).  With DSS checksums each
//! mapping's payload is verified ([`csum_advance`](checksum::csum_advance);
//! a failure means MP_FAIL and fallback).  Mappings without payload (a
//! DATA_FIN alone) only set the DATA_FIN.  Ending MPTCP: MP_FAIL / infinite
//! mapping ([`control_options`](tx::control_options)), MP_FASTCLOSE +
//! MP_TCPRST on our RSTs.  Not yet: MP_JOIN and everything multipath (see
//! README).
//!
//! Locking: [`SubflowCtx`] is only touched by code that runs with the
//! subflow socket lock held (TCP's own serialisation: the option hooks,
//! `sk_rx_dst_set`, `sk_data_ready`, ULP init/release), through one
//! [`CtxRef`] at a time.  The subflow `state` is also read locklessly by the
//! msk's getsockopt, hence atomic and outside the context.
//!
//! Files:
//! - `mod.rs` (this one): the context ([`SubflowCtx`], [`ctx_locked`]; it
//!   lives in the ULP's `SubflowSlot`, `sys/ulp.rs`), attaching a subflow,
//!   fallback, the end of a connection (the C entry points of the ULP and
//!   the af_ops are in `sys/ulp.rs` and `sys/subflow_ops.rs`);
//! - `info.rs`: `MPTCP_INFO` of the connection on a subflow;
//! - `handshake.rs`: MP_CAPABLE, client and server;
//! - `incoming.rs`: the options of received segments;
//! - `rx.rs`: the receive walk over in-order octets, DATA_ACK, DATA_FIN,
//!   `sk_data_ready`;
//! - `checksum.rs`: DSS checksums of received payload;
//! - `datafin.rs`: our DATA_FIN (shutdown), ahead of the subflow FIN;
//! - `tx.rs`: the options and mappings of our segments.

use core::cell::RefMut;
use core::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use kernel::bindings;
use kernel::ffi::c_int;
use kernel::prelude::*;

use crate::crypto;
use crate::options::{self, ResetReason};
use crate::sys::global::Secret;
use crate::sys::msk::Msk;
use crate::sys::subflow_ops;
use crate::sys::{TcpLocked, TcpSock};

mod checksum;
mod datafin;
mod handshake;
mod incoming;
mod info;
mod rx;
mod tx;

pub(crate) use rx::data_ready;
use rx::SkipRing;

pub(crate) use checksum::fail_wait_left;
pub(crate) use datafin::{
    close_deferrable, close_poll, msk_state, msk_timer, shutdown_send, ShutdownSend,
};
pub(crate) use handshake::{
    child_created, syn_options, syn_received, synack_options, synack_seen, third_ack_keys,
};
pub(crate) use incoming::incoming_options;
pub(crate) use info::mptcp_info;
pub(crate) use rx::{rcv_space, rcvlowat_set, rx_consumed, rx_inq, rx_plain, rx_pull};
pub(crate) use tx::{established_options, outq};

/// Subflow states (`SubflowSlot::state`).
pub(crate) mod state {
    /// SYN with MP_CAPABLE sent, no SYN-ACK yet.
    pub(crate) const SYN_SENT: u8 = 1;
    /// SYN-ACK with MP_CAPABLE received; our keys not yet confirmed.
    pub(crate) const MPC_ACK_PENDING: u8 = 2;
    /// Fully established MPTCP (the peer sent DSS).
    pub(crate) const ESTABLISHED: u8 = 3;
    /// Plain TCP (RFC 8684 §3.7 fallback).
    pub(crate) const FALLBACK: u8 = 4;
    /// An MPTCP listener: answers MP_CAPABLE SYNs.
    pub(crate) const LISTEN: u8 = 5;
    /// A listener's child being created (until `syn_recv_sock` decides).
    pub(crate) const SYN_RECV: u8 = 6;
    /// Disconnected (`connect(AF_UNSPEC)`): an empty context, our ULP and
    /// wrappers kept; the next connect() starts a new connection on it.
    pub(crate) const RESET: u8 = 7;
}

const MPTCP_VERSION: u8 = 1;

/// Per-subflow MPTCP state, the ULP data of an `is_mptcp` subflow.
#[derive(Default)]
pub(crate) struct SubflowCtx {
    local_key: u64,
    remote_key: u64,
    idsn_local: u64,
    idsn_remote: u64,
    /// Our ISN and the peer's (SYN sequence numbers).
    isn_local: u32,
    isn_remote: u32,
    /// Last 64-bit relative sequence numbers seen, to expand 32-bit ones.
    snd_rel: u64,
    rcv_rel: u64,
    /// Receive-side mapping walk ([`rx_advance`](rx::rx_advance)): received
    /// octets up to this absolute subflow sequence number have had their
    /// mappings checked; the DATA_ACK covers exactly them.
    rx_seq: u32,
    /// DSN of an octet at or after `rx_seq` = IDSN + its relative subflow
    /// sequence number + `rx_off` (wrapping): starts at 0 and goes down by
    /// every octet skipped as a data-level duplicate.
    rx_off: u64,
    /// The mapping the walk is inside.
    rx_cur: Option<crate::mapping::Mapping>,
    /// The subflow's data goes to the msk's receive queue (`rx::move_to_msk`):
    /// from its first move while it runs MPTCP, and after a fallback too.
    rx_via_msk: bool,
    /// Queued octets the reader must skip: data-level duplicates (a
    /// mainline sender re-sends DATA_ACK-pending data, or probes a zero
    /// data-level window with an already acknowledged octet, at new subflow
    /// sequence numbers; RFC 8684 §3.3.1 lets it).
    skips: SkipRing,
    /// A mapping broke the data stream (DSN ahead of what one subflow can
    /// carry): the connection is reset from the receive path.
    rx_corrupt: bool,
    /// The walk reached an octet no mapping covers, or the first mapping
    /// checked failed its checksum: the connection falls back to TCP from
    /// the receive path (`rx::rx_fallback`).
    rx_invalid: bool,
    /// The peer's latest mapping used a 64-bit DSN: our DATA_ACK is 64-bit
    /// too (mainline's `use_64bit_ack`), else 32-bit.
    ack64: bool,
    /// The peer's DATA_FIN: announced, then reached (the receive side is
    /// shut down).
    peer_fin: crate::close::PeerDataFin,
    /// The peer's DATA_FIN was in order before we queued ours: the msk
    /// state is LAST_ACK until ours is acked, else (both sides closing at
    /// once) CLOSING, as mainline's `mptcp_check_data_fin()`.
    data_fin_rx_first: bool,
    /// Our DATA_FIN, once shutdown(SHUT_WR) or close() queued it
    /// ([`datafin`]): sent, then acked by the peer's DATA_ACK.
    data_fin_tx: crate::close::LocalDataFin,
    /// DATA_FIN retransmissions by the msk timer (its backoff).
    data_fin_tx_tries: u8,
    /// After close(): when the DATA_FIN is due again (jiffies).
    data_fin_tx_due: u64,
    /// MP_TCPRST reason on our next RST.
    reset_reason: ResetReason,
    /// A fast-open child, created from the SYN: the client's key comes
    /// with its third ACK; until then no DATA_ACK can be computed.
    remote_key_pending: bool,
    /// Our token (of `local_key`) is claimed in the token table.
    token_claimed: bool,
    /// This connection is in the `MPCurrEstab` gauge ([`count_estab`]).
    estab_counted: bool,
    /// DSS checksums are in use (RFC 8684 §3.1: either side set flag A).
    csum_reqd: bool,
    /// Receive-side checksum validation has summed the payload up to this
    /// (absolute) subflow sequence number.
    csum_seq: u32,
    /// The received mappings' checksums.
    csum_walk: crate::csum::CsumWalk,
    /// MP_FAIL and the infinite mapping (RFC 8684 §3.7): what to send, and
    /// whether received payload is still checksummed.
    fail: crate::fail::MpFail,
    /// While `fail` awaits the peer's answer to our MP_FAIL: when the
    /// connection is reset without one (jiffies; the msk timer,
    /// [`datafin::msk_timer`]).
    fail_due: u64,
}

/// The one live reference to a subflow's context ([`ctx_locked`]).  While
/// it lives, a re-entered hook finds the context busy and does nothing, so
/// two `&mut SubflowCtx` never exist at once; dropping it ends the borrow.
pub(crate) struct CtxRef<'a> {
    ctx: RefMut<'a, SubflowCtx>,
    /// The subflow state (`state::*`), also read without the lock.
    pub(crate) state: &'a AtomicU8,
}

impl core::ops::Deref for CtxRef<'_> {
    type Target = SubflowCtx;
    fn deref(&self) -> &SubflowCtx {
        &self.ctx
    }
}

impl core::ops::DerefMut for CtxRef<'_> {
    fn deref_mut(&mut self) -> &mut SubflowCtx {
        &mut self.ctx
    }
}

/// Secret for the server's per-connection keys (see
/// [`server_key`](handshake::server_key)).
static KEY_SECRET: Secret<32> = Secret::new();

/// The context of a subflow locked by `g` (our guard or the kernel's lock
/// around a callback), if it is one of ours and not already borrowed.
///
/// Aliasing rule: TCP re-enters our hooks (option writers, data_ready)
/// from tcp_send_ack(), tcp_send_active_reset(), tcp_read_done(), ...; each
/// such entry asks for its own [`CtxRef`].  So no `CtxRef` may be live
/// across a call into TCP: functions taking `c: &mut CtxRef` never call
/// into TCP (they return what the caller must do), and callers drop their
/// reference before such a call and fetch a new one after (the calls into
/// TCP that send or free take `&mut TcpLocked`, which the borrow checker
/// refuses while a `CtxRef` borrows it).  A breach is caught here: the
/// re-entered hook gets None, and a warning is logged once.
pub(crate) fn ctx_locked<'a>(g: &'a TcpLocked<'_>) -> Option<CtxRef<'a>> {
    let slot = g.subflow()?;
    let Some(ctx) = slot.ctx() else {
        if !CTX_REENTERED.swap(true, Ordering::Relaxed) {
            pr_warn!("mptcp: subflow context re-entered while borrowed (hook skipped)\n");
        }
        return None;
    };
    Some(CtxRef {
        ctx,
        state: slot.state(),
    })
}

/// A re-entered context was reported (log once).
static CTX_REENTERED: AtomicBool = AtomicBool::new(false);

/// The subflow's state, read without its lock (for getsockopt); 0 if
/// `ssk` is not one of our subflows.
pub(crate) fn state_of(ssk: &TcpSock) -> u8 {
    ssk.subflow_state()
}

/// Whether the child `l` that `child_created` just set up runs MPTCP
/// (it gets an msk at once, `sys::msk_clone`).
pub(crate) fn child_is_mptcp(l: &TcpLocked<'_>) -> bool {
    ctx_locked(l).is_some_and(|c| is_mptcp_state(c.state.load(Ordering::Relaxed)))
}

/// Whether the subflow runs MPTCP (handshake answered by the peer).
pub(crate) fn is_mptcp_state(s: u8) -> bool {
    s == state::MPC_ACK_PENDING || s == state::ESTABLISHED
}

/// Makes a not yet connected TCP subflow an MPTCP one: `is_mptcp`, ULP,
/// af_ops wrappers (SYN-ACK, and for listeners SYN / third ACK), and for a
/// client the data_ready wrapper and a fresh key.  On error the subflow
/// stays plain TCP.  Process context, `ssk` not locked by the caller.
fn attach(ssk: &TcpSock, msk: Option<&Msk>) -> Result {
    let listener = msk.is_none();
    let mut g = ssk.lock();
    // Checked again under the lock: a concurrent connect() or listen()
    // on the same socket may have attached first, and then this one
    // must leave the winner's subflow (and its is_mptcp) alone.
    // A subflow reset by a disconnect (`reset`) keeps our ULP, its
    // wrappers and an empty context: it is reused as a fresh one.
    let reused = !listener && ssk.subflow_state() == state::RESET;
    if (g.has_ulp() && !reused) || g.sock().state() != bindings::TCP_CLOSE as c_int {
        return Err(EBUSY);
    }
    g.set_mptcp();
    if !reused {
        if let Err(e) = g.install_ulp() {
            g.clear_mptcp();
            return Err(e);
        }
        g.install_wrappers(!listener);
    }
    let Some(mut c) = ctx_locked(&g) else {
        return Err(EINVAL);
    };
    let Some(msk) = msk else {
        c.state.store(state::LISTEN, Ordering::Release);
        return Ok(());
    };
    g.set_msk(msk);
    let net = g.sock().net();
    // A key whose token no other connection here uses (a few draws, as
    // mainline's mptcp_token_new_connect()).
    for _ in 0..4 {
        c.local_key = crate::sys::random_u64();
        let (token, idsn) = crypto::token_and_idsn(c.local_key);
        if crate::token::claim(net, token) {
            c.token_claimed = true;
            c.idsn_local = idsn;
            break;
        }
    }
    c.csum_reqd = crate::ctl::checksum_enabled(net);
    if c.token_claimed {
        c.state.store(state::SYN_SENT, Ordering::Release);
    } else {
        // No free token: this connection runs plain TCP.
        c.state.store(state::FALLBACK, Ordering::Release);
        drop(c);
        g.clear_mptcp();
        crate::ctl::mib_add(net, crate::mib::MPFALLBACK_TOKEN_INIT, 1);
    }
    Ok(())
}

/// Client side: the SYN of `ssk` will carry MP_CAPABLE, and its data
/// goes to `msk`.  As [`attach`].
pub(crate) fn attach_client(ssk: &TcpSock, msk: &Msk) -> Result {
    attach(ssk, Some(msk))
}

/// Server side: `ssk` (about to listen) answers MP_CAPABLE SYNs.  As
/// [`attach`].
pub(crate) fn attach_listener(ssk: &TcpSock) -> Result {
    attach(ssk, None)
}

/// An accepted child subflow `ssk`: its data goes to its new `msk` (data
/// that came before stays on the subflow until the reader moves it).
/// Process context.
pub(crate) fn set_msk(ssk: &TcpSock, msk: &Msk) {
    ssk.lock().set_msk(msk);
}

/// The msk is being destroyed: its subflow no longer reaches it, and
/// what it had not read is freed.  Returns the unread octets.  Process
/// context, `ssk` not locked by the caller.
pub(crate) fn detach_msk(ssk: &TcpSock, msk: &Msk) -> u32 {
    let g = ssk.lock();
    g.clear_msk();
    // Under the subflow lock: no reader is copying from the queue.
    msk.rx_purge()
}

/// After `connect(AF_UNSPEC)` disconnected the subflow (TCP state CLOSE,
/// queues purged): its connection ends for MPTCP too, as in mainline's
/// `mptcp_disconnect()` — the token is released, `MPCurrEstab` drops, and
/// the context is emptied, so that the next connect() on the msk starts a
/// new MPTCP connection (new key) on the same subflow ([`attach`]).
/// Nothing if the subflow is not ours or not closed.  Process context,
/// `ssk` not locked by the caller.
pub(crate) fn reset(ssk: &TcpSock) {
    let mut g = ssk.lock();
    if g.sock().state() != bindings::TCP_CLOSE as c_int {
        return;
    }
    let Some(mut c) = ctx_locked(&g) else {
        return;
    };
    let st = c.state.load(Ordering::Relaxed);
    if st != state::LISTEN && st != state::RESET {
        // What the application did not read goes with the connection (TCP
        // purged the subflow's queue); under the lock, which keeps readers
        // out of the msk's queue.
        if let Some(msk) = g.msk() {
            msk.rx_purge();
        }
        end_connection(g.sock().net(), &c);
        // Our ULP and wrappers stay (the slot keeps the originals).
        *c = SubflowCtx::default();
        c.state.store(state::RESET, Ordering::Release);
        drop(c);
        g.clear_mptcp();
        // A new connection measures its reader afresh (mainline's
        // mptcp_disconnect() clears rcvspace_init).
        if let Some(slot) = g.msk_rcv_space() {
            slot.init = false;
        }
    }
}

/// close() with data the application never read (on the msk's queue):
/// the connection is reset, as `tcp_close()` does when its own queue
/// holds unread data (our RST carries MP_FASTCLOSE).  Process context,
/// `ssk` not locked by the caller.
pub(crate) fn abort_unread(ssk: &TcpSock) {
    let mut g = ssk.lock();
    let st = g.sock().state();
    if st != bindings::TCP_CLOSE as c_int && st != bindings::TCP_LISTEN as c_int {
        g.abort(bindings::ECONNRESET as c_int);
    }
}

/// What ends with a connection on a subflow in `net`: its token and its
/// place in the `MPCurrEstab` gauge.  The subflow is locked, or being
/// destroyed (ULP release).
pub(crate) fn end_connection(net: &crate::sys::Net, c: &SubflowCtx) {
    if c.token_claimed {
        crate::token::release(net, crypto::token_and_idsn(c.local_key).0);
    }
    if c.estab_counted {
        // MPCurrEstab is a gauge: this connection ends here.
        crate::ctl::mib_add(net, crate::mib::MPCURR_ESTAB, u64::MAX);
    }
}

/// Puts the connection into the `MPCurrEstab` gauge, once; the count ends
/// when we send our DATA_FIN ([`uncount_estab`]) or in [`end_connection`].
/// As mainline's `mptcp_set_state`, the gauge counts MPTCP sockets (msk) in
/// ESTABLISHED or CLOSE_WAIT: every client connection from its SYN-ACK,
/// MPTCP or fallen back, and server children that are MPTCP (a fallen-back
/// child is a plain TCP socket on mainline), until shutdown or close.
/// `net` is the subflow's namespace; the caller holds its lock.
fn count_estab(net: &crate::sys::Net, c: &mut SubflowCtx) {
    if !c.estab_counted {
        c.estab_counted = true;
        crate::ctl::mib_add(net, crate::mib::MPCURR_ESTAB, 1);
    }
}

/// MP_CAPABLE flags: HMAC-SHA256, and A when we want DSS checksums.
fn cap_flags(csum_reqd: bool) -> u8 {
    let a = if csum_reqd {
        options::MPTCP_CAP_CHECKSUM_REQD
    } else {
        0
    };
    options::MPTCP_CAP_HMAC_SHA256 | a
}

/// Takes the connection out of the `MPCurrEstab` gauge: our DATA_FIN is
/// queued (mainline's msk leaves ESTABLISHED/CLOSE_WAIT for FIN_WAIT1 or
/// LAST_ACK).
/// `net` is the subflow's namespace; the caller holds its lock.
fn uncount_estab(net: &crate::sys::Net, c: &mut SubflowCtx) {
    if c.estab_counted {
        c.estab_counted = false;
        crate::ctl::mib_add(net, crate::mib::MPCURR_ESTAB, u64::MAX);
    }
}

/// Leaves MPTCP for plain TCP on this subflow (RFC 8684 §3.7).
fn fallback(l: &TcpLocked<'_>, c: &mut CtxRef<'_>, mib: usize) {
    fallback_quiet(l, c);
    crate::ctl::mib_add(l.sock().net(), mib, 1);
}

/// As [`fallback`], counting nothing (the caller counted the cause).  A
/// fallen-back connection stays in the MPCurrEstab gauge, as mainline's
/// msk stays ESTABLISHED.
fn fallback_quiet(l: &TcpLocked<'_>, c: &mut CtxRef<'_>) {
    c.fail.fallen_back();
    c.state.store(state::FALLBACK, Ordering::Release);
    l.clear_mptcp();
}

/// TCP flags of a TCP header: SYN 0x02, ACK 0x10.
const TCPF_SYN_ACK: u8 = 0x12;

/// Draws the key secret, prepares the af_ops wrappers and registers the
/// "mptcp" ULP; dropping the result unregisters it.
pub(crate) fn register(module: &'static ThisModule) -> Result<crate::sys::Unregister> {
    // The secret must be unpredictable: `init` waits for the RNG.
    KEY_SECRET.init()?;
    subflow_ops::init_tables();
    crate::sys::ulp::register(module)
}
