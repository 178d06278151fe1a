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
//! - `mod.rs` (this one): the context ([`SubflowCtx`], [`SubflowSlot`],
//!   [`ctx`]), the "mptcp" ULP (init, release, clone), attaching a subflow,
//!   fallback, the af_ops wrappers and their registration;
//! - `info.rs`: `MPTCP_INFO` of the connection on a subflow;
//! - `handshake.rs`: MP_CAPABLE, client and server;
//! - `incoming.rs`: the options of received segments;
//! - `rx.rs`: the receive walk over in-order octets, DATA_ACK, DATA_FIN,
//!   `sk_data_ready`;
//! - `checksum.rs`: DSS checksums of received payload;
//! - `datafin.rs`: our DATA_FIN (shutdown), ahead of the subflow FIN;
//! - `tx.rs`: the options and mappings of our segments.

use core::cell::{Cell, UnsafeCell};
use core::ffi::c_void;
use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use kernel::bindings;
use kernel::c_str;
use kernel::error::to_result;
use kernel::ffi::c_int;
use kernel::prelude::*;

use crate::crypto;
use crate::options::{self, ResetReason};
use crate::sys::global::Global;
use crate::sys::sock::{DataReady, TcpLocked};

mod checksum;
mod datafin;
mod handshake;
mod incoming;
mod info;
mod rx;
mod tx;

use crate::sys::hooks::subflow_data_ready;
use checksum::RxMap;
use handshake::{
    conn_request_v4, conn_request_v6, route_req_v4, route_req_v6, rx_dst_set, syn_recv_sock,
};
pub(crate) use rx::data_ready;
use rx::SkipRing;

pub(crate) use datafin::{close_deferrable, close_poll, data_fin_timer, msk_state, shutdown_send};
pub(crate) use handshake::{syn_options, synack_options};
pub(crate) use incoming::incoming_options;
pub(crate) use info::mptcp_info;
pub(crate) use rx::{rx_inq, rx_readable};
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
    /// The mapping (subflow_seq, data_seq, data_len) the walk is inside.
    rx_cur: Option<(u32, u64, u16)>,
    /// Queued octets the reader must skip: data-level duplicates (a
    /// mainline sender re-sends DATA_ACK-pending data, or probes a zero
    /// data-level window with an already acknowledged octet, at new subflow
    /// sequence numbers; RFC 8684 §3.3.1 lets it).
    skips: SkipRing,
    /// A mapping broke the data stream (DSN ahead of what one subflow can
    /// carry): the connection is reset from the receive path.
    rx_corrupt: bool,
    /// The peer's latest mapping used a 64-bit DSN: our DATA_ACK is 64-bit
    /// too (mainline's `use_64bit_ack`), else 32-bit.
    ack64: bool,
    /// DSN of the peer's DATA_FIN, once announced.
    data_fin_dsn: Option<u64>,
    /// The DATA_FIN is in order: the receive side is shut down.
    data_fin_done: bool,
    /// The peer's DATA_FIN was in order before we queued ours: the msk
    /// state is LAST_ACK until ours is acked, else (both sides closing at
    /// once) CLOSING, as mainline's `mptcp_check_data_fin()`.
    data_fin_rx_first: bool,
    /// DSN of our DATA_FIN, once shutdown(SHUT_WR) queued it
    /// ([`datafin`]).
    data_fin_tx: Option<u64>,
    /// The peer's DATA_ACK covers our DATA_FIN.
    data_fin_tx_acked: bool,
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
    /// The received mapping being checksummed.
    rx_map: Option<RxMap>,
    /// An MP_FAIL to send (DSN of the failed mapping); then plain TCP.
    mp_fail_tx: Option<u64>,
    /// An infinite mapping to send (answering the peer's MP_FAIL); then
    /// plain TCP.
    infinite_map_tx: Option<u64>,
    orig_data_ready: Option<DataReady>,
    orig_af_ops: *const bindings::inet_connection_sock_af_ops,
}

// SAFETY: the raw pointer is a static kernel table; access is serialised by
// the subflow socket lock (see the module documentation).
unsafe impl Send for SubflowCtx {}

/// The ULP data of a subflow: its [`SubflowCtx`] behind a borrow flag.
///
/// Invariants: `ctx` is reached only through [`CtxRef`] (one at a time:
/// `busy` is set while one lives) by code holding the subflow's socket lock;
/// `state` sits outside the cell because the msk's getsockopt reads it
/// without that lock.
#[derive(Default)]
pub(crate) struct SubflowSlot {
    state: AtomicU8,
    busy: Cell<bool>,
    ctx: UnsafeCell<SubflowCtx>,
}

/// The one live reference to a subflow's context ([`ctx`]).  While it
/// lives, a re-entered hook finds the context busy and does nothing, so two
/// `&mut SubflowCtx` never exist at once; dropping it ends the borrow.
pub(crate) struct CtxRef<'a> {
    slot: &'a SubflowSlot,
    /// The subflow state (`state::*`), also read without the lock.
    pub(crate) state: &'a AtomicU8,
}

impl core::ops::Deref for CtxRef<'_> {
    type Target = SubflowCtx;
    fn deref(&self) -> &SubflowCtx {
        // SAFETY: `busy` makes this guard the only path to the context
        // while it lives (see `SubflowSlot`).
        unsafe { &*self.slot.ctx.get() }
    }
}

impl core::ops::DerefMut for CtxRef<'_> {
    fn deref_mut(&mut self) -> &mut SubflowCtx {
        // SAFETY: as in `deref`; `&mut self` makes this borrow unique.
        unsafe { &mut *self.slot.ctx.get() }
    }
}

impl Drop for CtxRef<'_> {
    fn drop(&mut self) {
        self.slot.busy.set(false);
    }
}

static ULP_OPS: Global<bindings::tcp_ulp_ops> = Global::zeroed();
static AF_OPS_V4: Global<bindings::inet_connection_sock_af_ops> = Global::zeroed();
static AF_OPS_V6: Global<bindings::inet_connection_sock_af_ops> = Global::zeroed();
/// For v6 subflows talking to v4-mapped addresses: `ipv6_mapped` (IPv4
/// transmission, IPv6 socket options) with our wrappers, as mainline's
/// `subflow_v6m_specific`.
static AF_OPS_V6M: Global<bindings::inet_connection_sock_af_ops> = Global::zeroed();
static REQ_OPS_V4: Global<bindings::tcp_request_sock_ops> = Global::zeroed();
static REQ_OPS_V6: Global<bindings::tcp_request_sock_ops> = Global::zeroed();
/// Secret for the server's per-connection keys (see
/// [`server_key`](handshake::server_key)).
static KEY_SECRET: Global<[u8; 32]> = Global::new([0; 32]);

/// The slot of a subflow, if it is one of ours.
///
/// # Safety
///
/// `sk` must be a live full TCP socket.
unsafe fn slot(sk: *mut bindings::sock) -> *mut SubflowSlot {
    // SAFETY: the caller guarantees: `sk` must be a live full TCP socket.
    unsafe {
        let icsk = sk.cast::<bindings::inet_connection_sock>();
        if (*icsk).icsk_ulp_ops != ULP_OPS.get().cast_const() {
            return ptr::null_mut();
        }
        (*icsk).icsk_ulp_data.cast::<SubflowSlot>()
    }
}

/// The context of a subflow, if it is one of ours and not already borrowed.
///
/// Aliasing rule: TCP re-enters our hooks (option writers, data_ready)
/// from tcp_send_ack(), tcp_send_active_reset(), tcp_read_done(), ...; each
/// such entry asks for its own [`CtxRef`].  So no `CtxRef` may be live
/// across a call into TCP: functions taking `c: &mut CtxRef` never call
/// into TCP (they return what the caller must do), and callers drop their
/// reference before such a call and fetch a new one after.  A breach of
/// the rule is caught here (the re-entered hook gets None, and a warning is
/// logged once) instead of being undefined behaviour.
///
/// # Safety
///
/// `sk` must be a live full TCP socket; the caller holds its socket lock
/// for the lifetime of the returned reference.
pub(crate) unsafe fn ctx<'a>(sk: *mut bindings::sock) -> Option<CtxRef<'a>> {
    // SAFETY: per the caller; the slot lives until `ulp_release`, which runs
    // when the socket is destroyed, after every holder of its lock.
    let slot = unsafe { slot(sk).as_ref()? };
    if slot.busy.replace(true) {
        if !CTX_REENTERED.swap(true, Ordering::Relaxed) {
            pr_warn!("mptcp: subflow context re-entered while borrowed (hook skipped)\n");
        }
        return None;
    }
    Some(CtxRef {
        slot,
        state: &slot.state,
    })
}

/// The context of a subflow locked by `g` (our guard or the kernel's
/// lock around a callback), as [`ctx`].
pub(crate) fn ctx_locked<'a>(g: &'a TcpLocked<'_>) -> Option<CtxRef<'a>> {
    // SAFETY: a live full TCP socket (the lock's invariant), locked for as
    // long as the returned reference borrows `g`.
    unsafe { ctx(g.sock().as_ptr()) }
}

/// A re-entered context was reported (log once).
static CTX_REENTERED: AtomicBool = AtomicBool::new(false);

/// The subflow's state, read without its lock (for getsockopt).
///
/// # Safety
///
/// `sk` must be a live full TCP socket.
pub(crate) unsafe fn state_of(sk: *mut bindings::sock) -> u8 {
    // SAFETY: the ULP data is set at attach time (under the lock, before the
    // msk publishes the subflow to other threads' operations that could race)
    // and freed only when the socket is destroyed.
    unsafe {
        let icsk = sk.cast::<bindings::inet_connection_sock>();
        if (*icsk).icsk_ulp_ops != ULP_OPS.get().cast_const() {
            return 0;
        }
        match (*icsk).icsk_ulp_data.cast::<SubflowSlot>().as_ref() {
            Some(c) => c.state.load(Ordering::Acquire),
            None => 0,
        }
    }
}

/// Whether the subflow runs MPTCP (handshake answered by the peer).
pub(crate) fn is_mptcp_state(s: u8) -> bool {
    s == state::MPC_ACK_PENDING || s == state::ESTABLISHED
}

/// Kernel callback.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn ulp_init(sk: *mut bindings::sock) -> c_int {
    // Only subflows this module marked may carry the ULP: a user's
    // setsockopt(TCP_ULP, "mptcp") on a plain TCP socket is refused.
    // SAFETY: TCP calls ULP init with the socket locked.
    if !unsafe { bindings::sk_is_mptcp(sk) } {
        return -(bindings::EOPNOTSUPP as c_int);
    }
    let Ok(b) = KBox::new(SubflowSlot::default(), GFP_ATOMIC) else {
        return -(bindings::ENOMEM as c_int);
    };
    // SAFETY: socket locked; freed in `ulp_release`.
    unsafe {
        (*sk.cast::<bindings::inet_connection_sock>()).icsk_ulp_data =
            KBox::into_raw(b).cast::<c_void>();
    }
    0
}

/// Kernel callback.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn ulp_release(sk: *mut bindings::sock) {
    // SAFETY: called from tcp_cleanup_ulp() when the socket is destroyed;
    // nothing else uses the context any more.
    unsafe {
        let icsk = sk.cast::<bindings::inet_connection_sock>();
        let sl = (*icsk).icsk_ulp_data.cast::<SubflowSlot>();
        if sl.is_null() {
            return;
        }
        let c = (*sl).ctx.get();
        // Do not leave pointers into this module behind.
        if !(*c).orig_af_ops.is_null() {
            (*icsk).icsk_af_ops = (*c).orig_af_ops;
        }
        if let Some(f) = (*c).orig_data_ready {
            (*sk).sk_data_ready = Some(f.get());
        }
        end_connection(sk, &*c);
        (*icsk).icsk_ulp_data = ptr::null_mut();
        drop(KBox::from_raw(sl));
    }
}

/// Makes a not yet connected TCP subflow an MPTCP one: `is_mptcp`, ULP,
/// af_ops wrappers (SYN-ACK, and for listeners SYN / third ACK), and for a
/// client the data_ready wrapper and a fresh key.  On error the subflow
/// stays plain TCP.
///
/// # Safety
///
/// `ssk` must be a live TCP socket in state CLOSE, not locked by the caller,
/// process context.
unsafe fn attach(ssk: *mut bindings::sock, listener: bool) -> Result {
    // SAFETY: the caller guarantees: `ssk` must be a live TCP socket in state CLOSE, not locked by the
    // caller, process context.
    unsafe {
        bindings::lock_sock(ssk);
        // Checked again under the lock: a concurrent connect() or listen()
        // on the same socket may have attached first, and then this one
        // must leave the winner's subflow (and its is_mptcp) alone.
        // A subflow reset by a disconnect (`reset`) keeps our ULP, its
        // wrappers and an empty context: it is reused as a fresh one.
        let reused = !listener && state_of(ssk) == state::RESET;
        if (!(*bindings::inet_csk(ssk)).icsk_ulp_ops.is_null() && !reused)
            || bindings::inet_sk_state_load(ssk) != bindings::TCP_CLOSE as c_int
        {
            bindings::release_sock(ssk);
            return Err(EBUSY);
        }
        let tp = bindings::tcp_sk(ssk);
        (*tp).is_mptcp = true;
        let err = if reused {
            0
        } else {
            bindings::tcp_set_ulp(ssk, c_str!("mptcp").as_char_ptr())
        };
        let res = if err != 0 {
            (*tp).is_mptcp = false;
            to_result(err)
        } else if let Some(mut c) = ctx(ssk) {
            let c = &mut c;
            let icsk = ssk.cast::<bindings::inet_connection_sock>();
            if !reused {
                c.orig_af_ops = (*icsk).icsk_af_ops;
                (*icsk).icsk_af_ops = if is_v6(ssk) {
                    AF_OPS_V6.get()
                } else {
                    AF_OPS_V4.get()
                };
            }
            if listener {
                c.state.store(state::LISTEN, Ordering::Release);
            } else {
                if !reused {
                    // The socket's own, kept in its context.
                    c.orig_data_ready = (*ssk).sk_data_ready.map(|f| DataReady::new(f));
                    (*ssk).sk_data_ready = Some(subflow_data_ready);
                }
                let net = crate::sys::net::sock_net(ssk);
                // A key whose token no other connection here uses (a few
                // draws, as mainline's mptcp_token_new_connect()).
                for _ in 0..4 {
                    c.local_key = bindings::get_random_u64();
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
                    (*tp).is_mptcp = false;
                    crate::ctl::mib_add(net, crate::mib::MPFALLBACK_TOKEN_INIT, 1);
                }
            }
            Ok(())
        } else {
            Err(EINVAL)
        };
        bindings::release_sock(ssk);
        res
    }
}

/// Client side: the SYN of `ssk` will carry MP_CAPABLE.
///
/// # Safety
///
/// As [`attach`].
pub(crate) unsafe fn attach_client(ssk: *mut bindings::sock) -> Result {
    // SAFETY: the caller guarantees: as [`attach`].
    unsafe { attach(ssk, false) }
}

/// Server side: `ssk` (about to listen) answers MP_CAPABLE SYNs.
///
/// # Safety
///
/// As [`attach`].
pub(crate) unsafe fn attach_listener(ssk: *mut bindings::sock) -> Result {
    // SAFETY: the caller guarantees: as [`attach`].
    unsafe { attach(ssk, true) }
}

/// After `connect(AF_UNSPEC)` disconnected the subflow (TCP state CLOSE,
/// queues purged): its connection ends for MPTCP too, as in mainline's
/// `mptcp_disconnect()` — the token is released, `MPCurrEstab` drops, and
/// the context is emptied, so that the next connect() on the msk starts a
/// new MPTCP connection (new key) on the same subflow ([`attach`]).
/// Nothing if the subflow is not ours or not closed.
///
/// # Safety
///
/// `ssk` must be a live TCP socket, not locked by the caller, process
/// context.
pub(crate) unsafe fn reset(ssk: *mut bindings::sock) {
    // SAFETY: `ssk` is live and unlocked, process context (# Safety); the
    // context is changed under its socket lock, taken here.
    unsafe {
        bindings::lock_sock(ssk);
        if bindings::inet_sk_state_load(ssk) == bindings::TCP_CLOSE as c_int {
            if let Some(mut c) = ctx(ssk) {
                let st = c.state.load(Ordering::Relaxed);
                if st != state::LISTEN && st != state::RESET {
                    end_connection(ssk, &c);
                    let (af_ops, data_ready) = (c.orig_af_ops, c.orig_data_ready);
                    *c = SubflowCtx {
                        orig_af_ops: af_ops,
                        orig_data_ready: data_ready,
                        ..SubflowCtx::default()
                    };
                    c.state.store(state::RESET, Ordering::Release);
                    (*bindings::tcp_sk(ssk)).is_mptcp = false;
                }
            }
        }
        bindings::release_sock(ssk);
    }
}

/// What ends with a connection on this subflow: its token and its place in
/// the `MPCurrEstab` gauge.
///
/// # Safety
///
/// `sk` is a live subflow whose context `c` is (locked, or the socket is
/// being destroyed); `st` is its state.
unsafe fn end_connection(sk: *mut bindings::sock, c: &SubflowCtx) {
    // SAFETY: `sk` is live (# Safety).
    let net = unsafe { crate::sys::net::sock_net(sk) };
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

/// # Safety
///
/// `sk` live.
unsafe fn is_v6(sk: *const bindings::sock) -> bool {
    // SAFETY: the caller guarantees: `sk` live.
    c_int::from(unsafe { (*sk).__sk_common.skc_family }) == bindings::PF_INET6 as c_int
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
    c.state.store(state::FALLBACK, Ordering::Release);
    l.clear_mptcp();
}

/// TCP flags of a TCP header: SYN 0x02, ACK 0x10.
const TCPF_SYN_ACK: u8 = 0x12;

/// `mptcpv6_handle_mapped` hook: TCP switched a v6 subflow to the
/// v4-mapped operations (`ipv6_mapped`: a client connecting to
/// `::ffff:a.b.c.d`, or the child of a dual-stack listener for an IPv4
/// client), or back (`mapped` false: that connect failed).  The subflow
/// stays MPTCP: our wrappers go on top of those ops, as mainline's
/// `subflow_v6m_specific`.
///
/// # Safety
///
/// Called by TCP with the socket locked.
pub(crate) unsafe fn v6_handle_mapped(sk: *mut bindings::sock, mapped: bool) {
    // SAFETY: the caller guarantees: called by TCP with the socket locked.
    if let Some(mut c) = unsafe { ctx(sk) } {
        let c = &mut c;
        let icsk = sk.cast::<bindings::inet_connection_sock>();
        // SAFETY: socket locked; TCP just installed the kernel's ops, which
        // ULP release restores.
        unsafe {
            c.orig_af_ops = (*icsk).icsk_af_ops;
            (*icsk).icsk_af_ops = if mapped {
                AF_OPS_V6M.get()
            } else {
                AF_OPS_V6.get()
            };
        }
    }
}

/// ULP clone: a child of our listener gets its own context (decided in
/// [`syn_recv_sock`](handshake::syn_recv_sock)) and holds a module
/// reference, like `tcp_set_ulp()` would take, released by
/// `tcp_cleanup_ulp()`.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn ulp_clone(
    _req: *const bindings::request_sock,
    newsk: *mut bindings::sock,
    _priority: bindings::gfp_t,
) {
    // SAFETY: called by inet_csk_clone_lock() on the locked new child, which
    // still points at the listener's context.
    unsafe {
        let icsk = newsk.cast::<bindings::inet_connection_sock>();
        (*icsk).icsk_ulp_data = ptr::null_mut();
        match KBox::new(SubflowSlot::default(), GFP_ATOMIC) {
            Ok(b) => {
                bindings::__module_get((*ULP_OPS.get()).owner);
                let sl = KBox::into_raw(b);
                (*sl).state.store(state::SYN_RECV, Ordering::Relaxed);
                let c = (*sl).ctx.get();
                (*c).orig_af_ops = if is_v6(newsk) {
                    ptr::addr_of!(bindings::ipv6_specific)
                } else {
                    ptr::addr_of!(bindings::ipv4_specific)
                };
                // The socket's own, kept in its context.
                (*c).orig_data_ready = (*newsk).sk_data_ready.map(|f| DataReady::new(f));
                (*newsk).sk_data_ready = Some(subflow_data_ready);
                (*icsk).icsk_ulp_data = sl.cast();
            }
            Err(_) => {
                // No memory: a plain TCP child without our ULP.
                (*icsk).icsk_ulp_ops = ptr::null();
                (*icsk).icsk_af_ops = if is_v6(newsk) {
                    ptr::addr_of!(bindings::ipv6_specific)
                } else {
                    ptr::addr_of!(bindings::ipv4_specific)
                };
                (*bindings::tcp_sk(newsk)).is_mptcp = false;
            }
        }
    }
}

/// Registers the "mptcp" ULP and prepares the af_ops wrappers.
pub(crate) fn register(module: &'static ThisModule) -> Result {
    // SAFETY: module init, before registration; `ipv4_specific` and
    // `ipv6_specific` are initialised kernel tables.
    unsafe {
        // The secret must be unpredictable: wait for the RNG to be seeded
        // (get_random_bytes_wait()); only interruptible at module load.
        to_result(bindings::wait_for_random_bytes())?;
        bindings::get_random_bytes(KEY_SECRET.get().cast(), 32);
        *AF_OPS_V4.get() = ptr::read(ptr::addr_of!(bindings::ipv4_specific));
        (*AF_OPS_V4.get()).sk_rx_dst_set = Some(rx_dst_set);
        (*AF_OPS_V4.get()).conn_request = Some(conn_request_v4);
        (*AF_OPS_V4.get()).syn_recv_sock = Some(syn_recv_sock);
        *AF_OPS_V6.get() = ptr::read(ptr::addr_of!(bindings::ipv6_specific));
        (*AF_OPS_V6.get()).sk_rx_dst_set = Some(rx_dst_set);
        (*AF_OPS_V6.get()).conn_request = Some(conn_request_v6);
        (*AF_OPS_V6.get()).syn_recv_sock = Some(syn_recv_sock);
        // The v4-mapped variant: ipv6_mapped's IPv4 members (tcp_ipv6.c).
        *AF_OPS_V6M.get() = ptr::read(AF_OPS_V6.get());
        let v4 = &*ptr::addr_of!(bindings::ipv4_specific);
        let m = &mut *AF_OPS_V6M.get();
        m.queue_xmit = v4.queue_xmit;
        m.send_check = v4.send_check;
        m.rebuild_header = v4.rebuild_header;
        m.net_header_len = v4.net_header_len;
        m.mtu_reduced = v4.mtu_reduced;
        *REQ_OPS_V4.get() = ptr::read(ptr::addr_of!(bindings::tcp_request_sock_ipv4_ops));
        (*REQ_OPS_V4.get()).route_req = Some(route_req_v4);
        *REQ_OPS_V6.get() = ptr::read(ptr::addr_of!(bindings::tcp_request_sock_ipv6_ops));
        (*REQ_OPS_V6.get()).route_req = Some(route_req_v6);
        let u = &mut *ULP_OPS.get();
        for (d, s) in u.name.iter_mut().zip(b"mptcp") {
            *d = *s;
        }
        u.owner = module.as_ptr();
        u.init = Some(ulp_init);
        u.release = Some(ulp_release);
        u.clone = Some(ulp_clone);
        to_result(bindings::tcp_register_ulp(ULP_OPS.get()))
    }
}

/// Undoes [`register`].  Every subflow holds a module reference through
/// its ULP, so none exists any more.
pub(crate) fn unregister() {
    // SAFETY: registered by `register()`.
    unsafe { bindings::tcp_unregister_ulp(ULP_OPS.get()) };
}
