// SPDX-License-Identifier: GPL-2.0

//! Subflow (`ssk`) state and the MPTCP v1 data path of the first subflow.
//!
//! Stage 2, client side: an msk that connects marks its TCP subflow
//! `is_mptcp` and attaches the "mptcp" ULP, whose data is a [`SubflowCtx`].
//! TCP then calls our hooks (`hooks.rs`) for that subflow:
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
//! skb's `SKB_EXT_MPTCP`; once the octets are in order, [`rx_advance`]
//! compares the mapping's DSN with the next one the stream expects.  Lower
//! means a data-level duplicate (a peer may send data again at new subflow
//! sequence numbers: mainline does when it re-sends data not yet
//! DATA_ACKed or probes a closed data-level window): those octets are
//! queued for the reader to skip (`rx.rs` never reads them), counted in
//! `DuplicateData`.  Higher means data the one subflow never carried: the
//! connection is reset (`DSSCorruptionReset`).  Our DATA_ACK covers the
//! walked octets, 32-bit until the peer maps with 64-bit DSNs (mainline's
//! `use_64bit_ack`).  With DSS checksums each mapping's payload is
//! verified ([`csum_advance`]; a failure means MP_FAIL and fallback).
//! Mappings without payload (a DATA_FIN alone) only set the DATA_FIN.  Ending MPTCP: MP_FAIL /
//! infinite mapping ([`control_options`]), MP_FASTCLOSE + MP_TCPRST on our
//! RSTs.  Not yet: MP_JOIN and everything multipath (see README).
//!
//! Locking: [`SubflowCtx`] is only touched by code that runs with the
//! subflow socket lock held (TCP's own serialisation: the option hooks,
//! `sk_rx_dst_set`, `sk_data_ready`, ULP init/release), through one
//! [`CtxRef`] at a time.  The subflow `state` is also read locklessly by the
//! msk's getsockopt, hence atomic and outside the context.

use core::cell::{Cell, UnsafeCell};
use core::ffi::c_void;
use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU8, Ordering};

use kernel::bindings;
use kernel::c_str;
use kernel::error::to_result;
use kernel::ffi::{c_int, c_uint};
use kernel::prelude::*;

use crate::crypto;
use crate::csum::DssCsum;
use crate::global::Global;
use crate::options::{
    self, DataSeq, Dss, DssMapping, MpCapable, MpCapablePayload, MpFail, MpFastclose, MpTcpRst,
    MptcpOption, MptcpOptions, ResetReason,
};
use crate::seq;

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
}

const MPTCP_VERSION: u8 = 1;
const TCPOPT_NOP: u8 = 1;
/// DSS with 64-bit DATA_ACK and 64-bit mapping, padded: what `tcp_current_mss`
/// must reserve (it asks with no skb).
const MAX_OPT_SIZE: c_uint = 28;

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
    /// Receive-side mapping walk ([`rx_advance`]): received octets up to
    /// this absolute subflow sequence number have had their mappings
    /// checked; the DATA_ACK covers exactly them.
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
    /// MP_TCPRST reason on our next RST.
    reset_reason: ResetReason,
    /// Our token (of `local_key`) is claimed in the token table.
    token_claimed: bool,
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
    orig_data_ready: Option<unsafe extern "C" fn(*mut bindings::sock)>,
    orig_af_ops: *const bindings::inet_connection_sock_af_ops,
}

/// A received mapping whose payload is being checksummed (RFC 8684
/// §3.3.1), possibly spread over many skbs.
#[derive(Clone, Copy)]
struct RxMap {
    dsn: u64,
    /// Relative subflow sequence number of its first octet.
    ssn: u32,
    /// Data-level length as sent (DATA_FIN included).
    data_len: u16,
    data_fin: bool,
    /// The checksum the peer sent.
    csum: u16,
    /// Payload octets summed so far, and their sum.
    done: u32,
    sum: DssCsum,
}

impl RxMap {
    /// Payload octets the mapping covers (a DATA_FIN takes no payload).
    fn payload_len(&self) -> u32 {
        u32::from(self.data_len).saturating_sub(u32::from(self.data_fin))
    }

    /// Whether `e` (an skb's extension) describes this mapping.
    fn matches(&self, e: &bindings::mptcp_ext) -> bool {
        e.data_seq == self.dsn && e.subflow_seq == self.ssn && e.data_len == self.data_len
    }

    /// Whether `e` is this mapping extended: same start, more octets.
    fn extended_by(&self, e: &bindings::mptcp_ext) -> bool {
        e.data_seq == self.dsn && e.subflow_seq == self.ssn && e.data_len > self.data_len
    }
}

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

static ULP_OPS: Global<bindings::tcp_ulp_ops> = {
    // SAFETY: `tcp_ulp_ops` is valid zeroed.
    unsafe { Global::zeroed() }
};
static AF_OPS_V4: Global<bindings::inet_connection_sock_af_ops> = {
    // SAFETY: valid zeroed; filled at init from `ipv4_specific`.
    unsafe { Global::zeroed() }
};
static AF_OPS_V6: Global<bindings::inet_connection_sock_af_ops> = {
    // SAFETY: valid zeroed; filled at init from `ipv6_specific`.
    unsafe { Global::zeroed() }
};
/// For v6 subflows talking to v4-mapped addresses: `ipv6_mapped` (IPv4
/// transmission, IPv6 socket options) with our wrappers, as mainline's
/// `subflow_v6m_specific`.
static AF_OPS_V6M: Global<bindings::inet_connection_sock_af_ops> = {
    // SAFETY: valid zeroed; filled at init.
    unsafe { Global::zeroed() }
};
static REQ_OPS_V4: Global<bindings::tcp_request_sock_ops> = {
    // SAFETY: valid zeroed; filled at init from `tcp_request_sock_ipv4_ops`.
    unsafe { Global::zeroed() }
};
static REQ_OPS_V6: Global<bindings::tcp_request_sock_ops> = {
    // SAFETY: valid zeroed; filled at init from `tcp_request_sock_ipv6_ops`.
    unsafe { Global::zeroed() }
};
/// Secret for the server's per-connection keys (see [`server_key`]).
static KEY_SECRET: Global<[u8; 32]> = {
    // SAFETY: zero bytes are a valid array; randomised at init.
    unsafe { Global::zeroed() }
};

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
        let st = (*sl).state.load(Ordering::Relaxed);
        let c = (*sl).ctx.get();
        // Do not leave pointers into this module behind.
        if !(*c).orig_af_ops.is_null() {
            (*icsk).icsk_af_ops = (*c).orig_af_ops;
        }
        if let Some(f) = (*c).orig_data_ready {
            (*sk).sk_data_ready = Some(f);
        }
        if (*c).token_claimed {
            crate::token::release(
                bindings::sock_net(sk),
                crypto::token_and_idsn((*c).local_key).0,
            );
        }
        if st == state::ESTABLISHED {
            // MPCurrEstab is a gauge: this connection ends here.
            crate::ctl::mib_add(bindings::sock_net(sk), crate::mib::MPCURR_ESTAB, u64::MAX);
        }
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
        if !(*bindings::inet_csk(ssk)).icsk_ulp_ops.is_null()
            || bindings::inet_sk_state_load(ssk) != bindings::TCP_CLOSE as c_int
        {
            bindings::release_sock(ssk);
            return Err(EBUSY);
        }
        let tp = bindings::tcp_sk(ssk);
        (*tp).is_mptcp = true;
        let err = bindings::tcp_set_ulp(ssk, c_str!("mptcp").as_char_ptr());
        let res = if err != 0 {
            (*tp).is_mptcp = false;
            to_result(err)
        } else if let Some(mut c) = ctx(ssk) {
            let c = &mut c;
            let icsk = ssk.cast::<bindings::inet_connection_sock>();
            c.orig_af_ops = (*icsk).icsk_af_ops;
            (*icsk).icsk_af_ops = if is_v6(ssk) {
                AF_OPS_V6.get()
            } else {
                AF_OPS_V4.get()
            };
            if listener {
                c.state.store(state::LISTEN, Ordering::Release);
            } else {
                c.orig_data_ready = (*ssk).sk_data_ready;
                (*ssk).sk_data_ready = Some(data_ready);
                let net = bindings::sock_net(ssk);
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

/// Leaves MPTCP for plain TCP on this subflow (RFC 8684 §3.7).
///
/// # Safety
///
/// Subflow socket locked.
unsafe fn fallback(sk: *mut bindings::sock, c: &mut CtxRef<'_>, mib: usize) {
    // SAFETY: the caller guarantees: subflow socket locked.
    unsafe {
        fallback_quiet(sk, c);
        crate::ctl::mib_add(bindings::sock_net(sk), mib, 1);
    }
}

/// The TCP header's option bytes of a received segment.
///
/// # Safety
///
/// `skb` is a received TCP segment whose header (with options) is linear,
/// as TCP guarantees after `pskb_may_pull(th->doff * 4)`.
unsafe fn tcp_options<'a>(skb: *const bindings::sk_buff) -> (&'a [u8], u8) {
    // SAFETY: the caller guarantees: `skb` is a received TCP segment whose header (with options) is
    // linear, as TCP guarantees after `pskb_may_pull(th->doff * 4)`.
    unsafe {
        let th = (*skb).head.add(usize::from(
            (*skb)
                .__bindgen_anon_4
                .__bindgen_anon_1
                .as_ref()
                .transport_header,
        ));
        let doff = usize::from(*th.add(12) >> 4) * 4;
        let flags = *th.add(13);
        if doff <= 20 {
            return (&[], flags);
        }
        (core::slice::from_raw_parts(th.add(20), doff - 20), flags)
    }
}

/// As [`fallback`], counting nothing (the caller counted the cause).
///
/// # Safety
///
/// Subflow socket locked.
unsafe fn fallback_quiet(sk: *mut bindings::sock, c: &mut CtxRef<'_>) {
    let prev = c.state.swap(state::FALLBACK, Ordering::AcqRel);
    // SAFETY: locked; TCP stops calling our option hooks for this socket.
    unsafe {
        (*bindings::tcp_sk(sk)).is_mptcp = false;
        if prev == state::ESTABLISHED {
            // The MPCurrEstab gauge counts connections running MPTCP.
            crate::ctl::mib_add(bindings::sock_net(sk), crate::mib::MPCURR_ESTAB, u64::MAX);
        }
    }
}

/// TCP flags of a TCP header: SYN 0x02, ACK 0x10.
const TCPF_SYN_ACK: u8 = 0x12;

/// Our `sk_rx_dst_set`: sees the SYN-ACK in `tcp_finish_connect()`.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn rx_dst_set(sk: *mut bindings::sock, skb: *const bindings::sk_buff) {
    // SAFETY: TCP calls this with the socket locked and a valid skb.
    unsafe {
        // The kernel's for this socket: IPv4's also for v4-mapped v6 ones.
        let icsk = sk.cast::<bindings::inet_connection_sock>();
        let orig = if is_v6(sk) && (*icsk).icsk_af_ops != AF_OPS_V6M.get().cast_const() {
            bindings::ipv6_specific.sk_rx_dst_set
        } else {
            bindings::ipv4_specific.sk_rx_dst_set
        };
        if let Some(mut c) = ctx(sk) {
            let c = &mut c;
            let (opts, flags) = tcp_options(skb);
            if c.state.load(Ordering::Relaxed) == state::SYN_SENT
                && flags & TCPF_SYN_ACK == TCPF_SYN_ACK
            {
                synack_received(sk, c, skb, opts);
            }
        }
        if let Some(f) = orig {
            f(sk, skb);
        }
    }
}

/// # Safety
///
/// Subflow socket locked; `skb` is the SYN-ACK.
unsafe fn synack_received(
    sk: *mut bindings::sock,
    c: &mut CtxRef<'_>,
    skb: *const bindings::sk_buff,
    opts: &[u8],
) {
    let mpc = MptcpOptions::new(opts).find_map(|o| match o {
        Ok(MptcpOption::MpCapable(m)) => Some(m),
        _ => None,
    });
    match mpc {
        Some(MpCapable {
            version: MPTCP_VERSION,
            flags,
            payload: MpCapablePayload::SynAck { sender_key },
        }) => {
            // Checksums if either side asked (RFC 8684 §3.1).
            c.csum_reqd |= flags & options::MPTCP_CAP_CHECKSUM_REQD != 0;
            c.remote_key = sender_key;
            c.idsn_remote = crypto::token_and_idsn(sender_key).1;
            // SAFETY: valid skb and socket (caller).
            unsafe {
                let cb = (*skb).cb.as_ptr().cast::<bindings::tcp_skb_cb>();
                c.isn_remote = (*cb).seq;
                // snd_una is ISN + 1 once the SYN is acked.
                c.isn_local = (*bindings::tcp_sk(sk)).snd_una.wrapping_sub(1);
                crate::ctl::mib_add(bindings::sock_net(sk), crate::mib::MPCAPABLE_SYNACK_RX, 1);
            }
            c.snd_rel = 1;
            c.rcv_rel = 1;
            c.csum_seq = c.isn_remote.wrapping_add(1);
            c.rx_seq = c.csum_seq;
            c.state.store(state::MPC_ACK_PENDING, Ordering::Release);
        }
        // No (or unusable) MP_CAPABLE: plain TCP.
        // SAFETY: socket locked (caller).
        _ => unsafe { fallback(sk, c, crate::mib::MPCAPABLE_FALLBACK_SYNACK) },
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
/// # Safety
///
/// Subflow socket locked.
unsafe fn rcv_dsn(sk: *mut bindings::sock, c: &mut CtxRef<'_>) -> u64 {
    // SAFETY: the caller guarantees: subflow socket locked.
    unsafe { rx_advance(sk, c) };
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
///
/// # Safety
///
/// Subflow socket locked.
unsafe fn data_ack(sk: *mut bindings::sock, c: &mut CtxRef<'_>) -> u64 {
    match (c.data_fin_done, c.data_fin_dsn) {
        (true, Some(fin)) => fin.wrapping_add(1),
        // SAFETY: the caller guarantees: subflow socket locked.
        _ => unsafe { rcv_dsn(sk, c) },
    }
}

/// Our DATA_ACK as put on the wire: 64-bit once the peer maps with 64-bit
/// DSNs, 32-bit before (as mainline).
///
/// # Safety
///
/// Subflow socket locked.
unsafe fn data_ack_opt(sk: *mut bindings::sock, c: &mut CtxRef<'_>) -> DataSeq {
    // SAFETY: the caller guarantees: subflow socket locked.
    let ack = unsafe { data_ack(sk, c) };
    if c.ack64 {
        DataSeq::Bits64(ack)
    } else {
        DataSeq::Bits32(ack as u32)
    }
}

/// Whether the peer's DATA_FIN is now in order (the receive side must be
/// shut down); marks it done.  The caller acts on a true answer with no
/// borrow of the context left (see [`ctx`]).
///
/// # Safety
///
/// Subflow socket locked.
unsafe fn data_fin_reached(sk: *mut bindings::sock, c: &mut CtxRef<'_>) -> bool {
    let Some(fin) = c.data_fin_dsn else {
        return false;
    };
    if c.data_fin_done {
        return false;
    }
    // SAFETY: the caller guarantees: subflow socket locked.
    let next = unsafe { rcv_dsn(sk, c) };
    // Only at its own position, as mainline's mptcp_pending_data_fin(): a
    // DATA_FIN behind the data received would otherwise cut the stream.
    if next != fin {
        return false;
    }
    c.data_fin_done = true;
    true
}

/// The peer's DATA_FIN is in order: like tcp_fin(), mark the receive side
/// closed (readers get EOF after the queued data) and acknowledge at once.
///
/// # Safety
///
/// Subflow socket locked; no reference to its context is live.
unsafe fn data_fin_done(sk: *mut bindings::sock) {
    // SAFETY: the caller guarantees: subflow socket locked; no reference to its context is live.
    unsafe {
        (*sk).sk_shutdown |= bindings::RCV_SHUTDOWN as u8;
        bindings::tcp_send_ack(sk);
    }
}

/// Walks the octets queued in order since the last call and checks each
/// mapping against the data stream.  One subflow carries the stream in
/// order, so the first walked octet of a mapping must have the DSN we
/// expect next: if it is lower, the mapping (or its start) repeats data we
/// already have (mainline re-sends data not yet DATA_ACKed, and probes a
/// closed data-level window with an acknowledged octet, on the same
/// subflow: RFC 8684 §3.3.1 allows both), and those octets are queued for
/// the reader to skip ([`rx_readable`]); if it is higher, data the one
/// subflow never carried is missing: `rx_corrupt`.  Octets without a
/// mapping of their own continue the current one.
///
/// # Safety
///
/// Subflow socket locked.
unsafe fn rx_advance(sk: *mut bindings::sock, c: &mut SubflowCtx) {
    // SAFETY: the caller guarantees: subflow socket locked.
    let (rcv_nxt, copied) = unsafe {
        (
            (*bindings::tcp_sk(sk)).rcv_nxt,
            (*bindings::tcp_sk(sk)).copied_seq,
        )
    };
    if seq::before(c.rx_seq, copied) {
        // Consumed without a walk (not through our recvmsg): nothing to
        // check any more.
        c.rx_seq = copied;
        c.rx_cur = None;
    }
    let mut cur = RcvCursor::new(sk);
    while seq::before(c.rx_seq, rcv_nxt) && !c.rx_corrupt {
        // SAFETY: socket locked; nothing in this loop calls into TCP.
        let Some(skb) = (unsafe { cur.at(c.rx_seq) }) else {
            c.rx_seq = rcv_nxt;
            return;
        };
        // SAFETY: a queued skb of this socket.
        let (start, len, ext) = unsafe {
            let cb = (*skb).cb.as_ptr().cast::<bindings::tcp_skb_cb>();
            let e = bindings::skb_ext_find(skb, bindings::skb_ext_id_SKB_EXT_MPTCP)
                .cast::<bindings::mptcp_ext>();
            (
                (*cb).seq,
                (*skb).len,
                e.as_ref()
                    .filter(|e| e.use_map() != 0)
                    .map(|e| (e.subflow_seq, e.data_seq, e.data_len, e.data_fin() != 0)),
            )
        };
        if let Some((ssn, dsn, data_len, fin)) = ext {
            let key = (ssn, dsn, data_len);
            if c.rx_cur != Some(key) {
                let payload = u32::from(data_len).saturating_sub(u32::from(fin));
                let off = c.rx_seq.wrapping_sub(c.isn_remote.wrapping_add(ssn));
                // An octet outside its own mapping continues the stream.
                if off < payload {
                    let at = dsn.wrapping_add(u64::from(off));
                    let want = rx_dsn_at(c, c.rx_seq);
                    if at != want {
                        if !seq::before64(at, want) {
                            c.rx_corrupt = true;
                            return;
                        }
                        if c.skips.is_full() {
                            // Wait for the reader to consume a range.
                            return;
                        }
                        let dup = want.wrapping_sub(at).min(u64::from(payload - off)) as u32;
                        c.skips.push(c.rx_seq, dup);
                        c.rx_off = c.rx_off.wrapping_sub(u64::from(dup));
                        // SAFETY: socket locked.
                        unsafe {
                            crate::ctl::mib_add(
                                bindings::sock_net(sk),
                                crate::mib::DUPLICATE_DATA,
                                1,
                            )
                        };
                    }
                }
                c.rx_cur = Some(key);
            }
        }
        c.rx_seq = start.wrapping_add(len);
        if len == 0 {
            // A FIN-only skb: nothing more to walk.
            c.rx_seq = rcv_nxt;
        }
    }
}

/// What the reader may take from the subflow now: skips the duplicate
/// range at the head of the receive queue, if any (consuming it as read),
/// then returns how many queued octets are walked and readable before the
/// next range to skip.  Process context; the caller reads at most that many
/// octets, so it never reads a duplicate nor an unchecked octet.
///
/// None: the subflow is not ours or never ran MPTCP (plain TCP rules).
///
/// # Safety
///
/// `sk` is a live subflow, process context, locked by the caller with
/// lock_sock().
pub(crate) unsafe fn rx_readable(sk: *mut bindings::sock) -> Option<u32> {
    // SAFETY: the caller guarantees: `sk` is a live subflow, process context, locked by the caller with
    // lock_sock().
    unsafe {
        let tp = bindings::tcp_sk(sk);
        loop {
            let mut guard = ctx(sk)?;
            let c = &mut guard;
            let walking = is_mptcp_state(c.state.load(Ordering::Relaxed));
            if !walking && c.skips.front().is_none() {
                return None;
            }
            let mut limit = if walking {
                rx_advance(sk, c);
                c.rx_seq
            } else {
                (*tp).rcv_nxt
            };
            let copied = (*tp).copied_seq;
            if let Some((s, n)) = c.skips.front() {
                if s == copied {
                    // The range is at the head: consume what of it is
                    // queued, as read (advances copied_seq, frees the skbs,
                    // may send a window update).
                    let queued = (*tp).rcv_nxt.wrapping_sub(copied).min(n);
                    if queued == 0 {
                        return Some(0);
                    }
                    c.skips.pop();
                    if queued < n {
                        let _ = c.skips.push_front(s.wrapping_add(queued), n - queued);
                    }
                    // The borrow ends before this call (TCP may re-enter
                    // our option hooks): the next round fetches it again.
                    drop(guard);
                    bindings::tcp_read_done(sk, queued as usize);
                    continue;
                }
                if seq::before(s, limit) {
                    limit = s;
                }
            }
            return Some(if seq::before(copied, limit) {
                limit.wrapping_sub(copied)
            } else {
                0
            });
        }
    }
}

/// Our `sk_data_ready`: data was queued on the subflow.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn data_ready(sk: *mut bindings::sock) {
    // SAFETY: TCP calls this with the socket locked.
    unsafe {
        let mut orig = None;
        let mut fin = false;
        let mut corrupt = false;
        let mut send_ack = false;
        if let Some(mut c) = ctx(sk) {
            let c = &mut c;
            if is_mptcp_state(c.state.load(Ordering::Relaxed)) {
                csum_advance(sk, c);
                // A checksum failure: MP_FAIL goes out on an ACK now.
                send_ack = c.mp_fail_tx.is_some();
                rx_advance(sk, c);
                corrupt = c.rx_corrupt && is_mptcp_state(c.state.load(Ordering::Relaxed));
            }
            fin = data_fin_reached(sk, c);
            orig = c.orig_data_ready;
        }
        // No context reference is live from here on (TCP re-enters our
        // option hooks).
        if send_ack {
            bindings::tcp_send_ack(sk);
        }
        if corrupt {
            rx_reset(sk);
        } else if fin {
            data_fin_done(sk);
        }
        match orig {
            Some(f) => f(sk),
            None => bindings::sock_def_readable(sk),
        }
    }
}

/// A mapping contradicts the data stream of our one subflow (data the
/// subflow never carried would be missing): delivering more in TCP order
/// would corrupt the stream, so the connection is reset (MP_TCPRST
/// "MPTCP-specific error", `DSSCorruptionReset`), as mainline's
/// subflow_check_data_avail() does: RST, EBADMSG for the reader once it
/// has read the data before the bad mapping, receive side closed.
///
/// # Safety
///
/// Socket locked (TCP's receive path); no reference to its context live.
unsafe fn rx_reset(sk: *mut bindings::sock) {
    // SAFETY: the caller guarantees: socket locked (TCP's receive path); no reference to its context
    // live.
    unsafe {
        crate::ctl::mib_add(bindings::sock_net(sk), crate::mib::DSS_CORRUPTION_RESET, 1);
        if let Some(mut c) = ctx(sk) {
            let c = &mut c;
            c.reset_reason = ResetReason::MptcpSpecific;
        }
        bindings::tcp_send_active_reset(sk, bindings::sk_rst_reason_SK_RST_REASON_NOT_SPECIFIED);
        AtomicI32::from_ptr(ptr::addr_of_mut!((*sk).sk_err))
            .store(bindings::EBADMSG as i32, Ordering::Release);
        (*sk).sk_shutdown = bindings::SHUTDOWN_MASK as u8;
        bindings::tcp_set_state(sk, bindings::TCP_CLOSE as c_int);
        if let Some(f) = (*sk).sk_error_report {
            f(sk);
        }
    }
}

/// `mptcp_incoming_options` hook: options of a received segment.  Returns
/// false when the segment must be dropped (the subflow was just reset).
///
/// # Safety
///
/// Called by TCP with the socket locked and a valid skb.
pub(crate) unsafe fn incoming_options(
    sk: *mut bindings::sock,
    skb: *mut bindings::sk_buff,
) -> bool {
    // SAFETY: the caller guarantees: called by TCP with the socket locked and a valid skb.
    let Some(mut guard) = (unsafe { ctx(sk) }) else {
        return true;
    };
    let c = &mut guard;
    let st = c.state.load(Ordering::Relaxed);
    if !is_mptcp_state(st) {
        return true;
    }
    // SAFETY: the caller guarantees: called by TCP with the socket locked and a valid skb.
    let (opts, flags) = unsafe { tcp_options(skb) };
    // SAFETY: socket locked.
    let net = unsafe { bindings::sock_net(sk) };
    let mut fin_announced = false;
    let mut infinite_rx = false;
    let mut fastclose = false;
    let mut any_mptcp = false;
    // SAFETY: valid skb (caller).
    let has_payload = unsafe {
        let cb = (*skb).cb.as_ptr().cast::<bindings::tcp_skb_cb>();
        (*cb).seq != (*cb).end_seq
    };
    for o in MptcpOptions::new(opts) {
        any_mptcp |= matches!(o, Ok(MptcpOption::Dss(_) | MptcpOption::MpCapable(_)));
        match o {
            Ok(MptcpOption::Dss(dss)) => {
                if c.state.load(Ordering::Relaxed) == state::MPC_ACK_PENDING {
                    // The peer maps data: it has our key.
                    c.state.store(state::ESTABLISHED, Ordering::Release);
                    // SAFETY: socket locked.
                    unsafe { crate::ctl::mib_add(net, crate::mib::MPCURR_ESTAB, 1) };
                }
                let Some(m) = dss.mapping else { continue };
                if m.data_len == 0 {
                    // The infinite mapping: the peer falls back (§3.7).
                    infinite_rx = true;
                    continue;
                }
                // SAFETY: socket locked.
                let next = unsafe { rcv_dsn(sk, c) };
                let dsn = match m.dsn {
                    DataSeq::Bits64(d) => d,
                    DataSeq::Bits32(d) => seq::expand_seq(next, u64::from(d)),
                };
                // Our DATA_ACK follows the width of the peer's DSNs.
                c.ack64 = matches!(m.dsn, DataSeq::Bits64(_));
                if m.data_fin {
                    // The DATA_FIN is the last octet the mapping counts.
                    // The first announcement holds until it is reached (as
                    // mainline), unless it lies behind what we already
                    // received: such a one can never be reached, and a
                    // later one replaces it.
                    let stale =
                        !c.data_fin_done && c.data_fin_dsn.is_some_and(|f| seq::before64(f, next));
                    if c.data_fin_dsn.is_none() || stale {
                        c.data_fin_dsn =
                            Some(dsn.wrapping_add(u64::from(m.data_len)).wrapping_sub(1));
                        fin_announced = true;
                    }
                }
                // A mapping of payload octets goes with them (checked when
                // they are in order: [`rx_advance`], [`csum_advance`]).  A
                // DATA_FIN-only mapping (length 1) maps no octet: whatever
                // payload its segment has belongs to the current mapping,
                // as mainline's get_mapping_status() reads it.
                if has_payload && m.data_len > u16::from(m.data_fin) {
                    let csum = if c.csum_reqd { m.checksum } else { None };
                    // SAFETY: valid skb owned by TCP's receive path.
                    unsafe { set_rx_ext(skb, dsn, m.ssn, m.data_len, m.data_fin, csum) };
                }
            }
            Ok(MptcpOption::MpCapable(MpCapable {
                payload:
                    MpCapablePayload::AckData {
                        data_len, checksum, ..
                    },
                ..
            })) => {
                if data_len == 0 {
                    // Length 0 is the infinite mapping, which MP_CAPABLE
                    // cannot carry: mainline's get_mapping_status() finds
                    // the mapping invalid and falls back.
                    infinite_rx = true;
                    continue;
                }
                // The first data's mapping, implicit in MP_CAPABLE (§3.1).
                c.ack64 = true;
                if has_payload {
                    let dsn = c.idsn_remote.wrapping_add(1);
                    let csum = if c.csum_reqd { checksum } else { None };
                    // SAFETY: a valid skb owned by TCP's receive path (this fn's # Safety).
                    unsafe { set_rx_ext(skb, dsn, 1, data_len, false, csum) };
                }
            }
            Ok(MptcpOption::MpFail(MpFail { dsn })) => {
                // SAFETY: socket locked.
                unsafe { crate::ctl::mib_add(net, crate::mib::MPFAIL_RX, 1) };
                // Our data failed the peer's checksum: answer with the
                // infinite mapping from its DSN and fall back (§3.7).  Only
                // where checksums are in use (else nothing could have
                // failed), and never in reply to a RST.
                if c.csum_reqd && flags & bindings::TCPHDR_RST as u8 == 0 {
                    c.infinite_map_tx = Some(dsn);
                }
            }
            Ok(MptcpOption::MpFastclose(MpFastclose { receiver_key }))
                if receiver_key == c.local_key =>
            {
                // SAFETY: socket locked.
                unsafe { crate::ctl::mib_add(net, crate::mib::MPFASTCLOSE_RX, 1) };
                fastclose = true;
            }
            Ok(MptcpOption::MpTcpRst(_)) => {
                // SAFETY: socket locked.
                unsafe { crate::ctl::mib_add(net, crate::mib::MPRST_RX, 1) };
            }
            _ => {}
        }
    }
    if st == state::MPC_ACK_PENDING && !any_mptcp && flags & TCPF_SYN_ACK != TCPF_SYN_ACK {
        // The server's first segment after the handshake lacks MPTCP
        // options (a middlebox strips them after the SYN-ACK): plain TCP,
        // as mainline's check_fully_established() decides (RFC 8684 §3.7).
        // SAFETY: socket locked.
        unsafe { fallback(sk, c, crate::mib::MPCAPABLE_DATA_FALLBACK) };
        return true;
    }
    const TCPF_RST: u8 = bindings::TCPHDR_RST as u8;
    if fastclose && flags & TCPF_RST == 0 {
        // MP_FASTCLOSE on an ACK (RFC 8684 §3.5): the peer aborted the
        // connection and waits for our RST, which TCP then sends without
        // MPTCP options (see `control_options`).
        // SAFETY: socket locked.
        unsafe { fallback_quiet(sk, c) };
        drop(guard);
        // SAFETY: socket locked; no context reference live.
        unsafe { abort(sk, bindings::ECONNRESET) };
        return false;
    }
    if infinite_rx {
        // The infinite mapping (or an MP_CAPABLE whose data-level length
        // is 0, which mainline reads as one): plain TCP from here, counted
        // as mainline's get_mapping_status() + fallback do.
        // SAFETY: socket locked.
        unsafe {
            crate::ctl::mib_add(net, crate::mib::INFINITE_MAP_RX, 1);
            fallback(sk, c, crate::mib::DSS_FALLBACK);
        }
        return true;
    }
    let send_ack = c.infinite_map_tx.is_some();
    // A DATA_FIN on a segment without data completes now (with data it
    // completes in data_ready once the data is queued).
    // SAFETY: socket locked.
    let fin_done = fin_announced && unsafe { data_fin_reached(sk, c) };
    let orig = c.orig_data_ready;
    // The borrow ends here: TCP re-enters our option hooks when it sends.
    drop(guard);
    // SAFETY: socket locked.
    unsafe {
        if send_ack {
            bindings::tcp_send_ack(sk);
        }
        if fin_done {
            data_fin_done(sk);
            match orig {
                Some(f) => f(sk),
                None => bindings::sock_def_readable(sk),
            }
        }
    }
    true
}

/// Resets the subflow from its receive path, as tcp_reset() does: RST to
/// the peer (with the options of `control_options` while still MPTCP),
/// `err` for the reader, state CLOSE.  The caller drops the segment.
///
/// # Safety
///
/// Socket locked, in TCP's receive path (which holds a reference on it).
unsafe fn abort(sk: *mut bindings::sock, err: u32) {
    // SAFETY: the caller guarantees: socket locked, in TCP's receive path (which holds a reference on
    // it).
    unsafe {
        bindings::tcp_send_active_reset(sk, bindings::sk_rst_reason_SK_RST_REASON_NOT_SPECIFIED);
        AtomicI32::from_ptr(ptr::addr_of_mut!((*sk).sk_err)).store(err as i32, Ordering::Release);
        bindings::tcp_done(sk);
    }
}

/// Records a received mapping in the skb's `SKB_EXT_MPTCP` extension, for
/// the checksum check once the payload is queued ([`csum_advance`]).  TCP
/// merges queued skbs only when their extensions are equal, so every
/// queued octet keeps its mapping.  Without memory for the extension the
/// mapping goes unchecked.
///
/// # Safety
///
/// `skb` valid and owned by the caller.
unsafe fn set_rx_ext(
    skb: *mut bindings::sk_buff,
    dsn: u64,
    ssn: u32,
    data_len: u16,
    data_fin: bool,
    csum: Option<u16>,
) {
    // SAFETY: the caller guarantees: `skb` valid and owned by the caller.
    unsafe {
        let e = bindings::skb_ext_add(skb, bindings::skb_ext_id_SKB_EXT_MPTCP)
            .cast::<bindings::mptcp_ext>();
        let Some(e) = e.as_mut() else { return };
        // Zeroed first: TCP compares extensions byte for byte.
        ptr::write_bytes(e, 0, 1);
        e.data_seq = dsn;
        e.subflow_seq = ssn;
        e.data_len = data_len;
        e.set_use_map(1);
        e.set_dsn64(1);
        e.set_data_fin(u8::from(data_fin));
        if let Some(sum) = csum {
            e.csum = sum;
            e.set_csum_reqd(1);
        }
    }
}

/// The skb of the receive queue holding subflow sequence number `seq`,
/// searched from the tail (the new data).
///
/// # Safety
///
/// Socket locked.
unsafe fn rcv_skb_at(sk: *mut bindings::sock, seq: u32) -> Option<*mut bindings::sk_buff> {
    // SAFETY: per the caller: the queue is stable under the socket lock.
    unsafe {
        let head = ptr::addr_of_mut!((*sk).sk_receive_queue).cast::<bindings::sk_buff>();
        let mut skb = (*head).__bindgen_anon_1.__bindgen_anon_1.prev;
        while !skb.is_null() && skb != head {
            let cb = (*skb).cb.as_ptr().cast::<bindings::tcp_skb_cb>();
            let start = (*cb).seq;
            if !seq::before(seq, start) {
                return seq::before(seq, start.wrapping_add((*skb).len)).then_some(skb);
            }
            skb = (*skb).__bindgen_anon_1.__bindgen_anon_1.prev;
        }
        None
    }
}

/// Looks up queued skbs by sequence number for one walk, stepping forward
/// from the skb found last: a walk over k new skbs costs one search from
/// the tail plus k steps, not k searches (quadratic with many small
/// segments, in softirq).
struct RcvCursor {
    sk: *mut bindings::sock,
    last: *mut bindings::sk_buff,
}

impl RcvCursor {
    fn new(sk: *mut bindings::sock) -> Self {
        Self {
            sk,
            last: ptr::null_mut(),
        }
    }

    /// The queued skb holding `seq`.
    ///
    /// # Safety
    ///
    /// Socket locked, and the receive queue unchanged since this cursor's
    /// previous answer (no call into TCP in between).
    unsafe fn at(&mut self, seq: u32) -> Option<*mut bindings::sk_buff> {
        // SAFETY: per the caller: `last` is still queued.
        unsafe {
            if !self.last.is_null() {
                let head =
                    ptr::addr_of_mut!((*self.sk).sk_receive_queue).cast::<bindings::sk_buff>();
                let next = (*self.last).__bindgen_anon_1.__bindgen_anon_1.next;
                for skb in [next, self.last] {
                    if skb.is_null() || skb == head {
                        continue;
                    }
                    let start = (*(*skb).cb.as_ptr().cast::<bindings::tcp_skb_cb>()).seq;
                    if !seq::before(seq, start) && seq::before(seq, start.wrapping_add((*skb).len))
                    {
                        self.last = skb;
                        return Some(skb);
                    }
                }
            }
            let found = rcv_skb_at(self.sk, seq);
            self.last = found.unwrap_or(ptr::null_mut());
            found
        }
    }
}

/// Checks the DSS checksums of the payload queued since the last call
/// (RFC 8684 §3.3.1): follows each mapping over as many skbs as it spans
/// and compares the sum when its last octet is in.  On a mismatch the
/// connection falls back to TCP with MP_FAIL (one subflow, §3.7), keeping
/// the data as mainline does; octets read before they could be checked
/// (SO_RCVLOWAT readers) and octets without a mapping are skipped.
///
/// # Safety
///
/// Socket locked.
unsafe fn csum_advance(sk: *mut bindings::sock, c: &mut SubflowCtx) {
    if !c.csum_reqd || c.mp_fail_tx.is_some() {
        return;
    }
    // SAFETY: the caller guarantees: socket locked.
    let (rcv_nxt, copied) = unsafe {
        (
            (*bindings::tcp_sk(sk)).rcv_nxt,
            (*bindings::tcp_sk(sk)).copied_seq,
        )
    };
    if seq::before(c.csum_seq, copied) {
        c.rx_map = None;
        c.csum_seq = copied;
    }
    let mut cur = RcvCursor::new(sk);
    while seq::before(c.csum_seq, rcv_nxt) {
        // SAFETY: socket locked; nothing in this loop calls into TCP.
        let Some(skb) = (unsafe { cur.at(c.csum_seq) }) else {
            c.rx_map = None;
            c.csum_seq = rcv_nxt;
            return;
        };
        // SAFETY: a queued skb of this socket.
        let (start, len, ext) = unsafe {
            let cb = (*skb).cb.as_ptr().cast::<bindings::tcp_skb_cb>();
            let e = bindings::skb_ext_find(skb, bindings::skb_ext_id_SKB_EXT_MPTCP)
                .cast::<bindings::mptcp_ext>();
            (
                (*cb).seq,
                (*skb).len,
                e.as_ref().filter(|e| e.use_map() != 0),
            )
        };
        let skb_end = start.wrapping_add(len);
        let map = match (c.rx_map.as_mut(), ext) {
            (Some(m), Some(e)) if m.extended_by(e) => {
                // The same mapping, longer: mainline appends data to an
                // unsent skb whose mapping was partly sent already (TSO
                // split, then mptcp_sendmsg_frag() extends the tail), and
                // its checksum then covers the longer range.  Keep summing.
                m.data_len = e.data_len;
                m.data_fin = e.data_fin() != 0;
                m.csum = e.csum;
                m
            }
            (Some(m), Some(e)) if !m.matches(e) => {
                // A second mapping inside one still open.
                // SAFETY: socket locked.
                unsafe {
                    crate::ctl::mib_add(bindings::sock_net(sk), crate::mib::DSS_NOT_MATCHING, 1)
                };
                let dsn = m.dsn;
                csum_failed(c, dsn);
                return;
            }
            (Some(m), _) => m,
            // (Mappings without payload octets are never stored on skbs,
            // see `incoming_options`; the guard below keeps the walk going
            // whatever an extension says.)
            (None, Some(e)) if c.isn_remote.wrapping_add(e.subflow_seq) == c.csum_seq => {
                c.rx_map.insert(RxMap {
                    dsn: e.data_seq,
                    ssn: e.subflow_seq,
                    data_len: e.data_len,
                    data_fin: e.data_fin() != 0,
                    csum: e.csum,
                    done: 0,
                    sum: DssCsum::new(),
                })
            }
            (None, _) => {
                // Unmapped, or the middle of a mapping we did not see start.
                c.csum_seq = skb_end;
                continue;
            }
        };
        let map_end = c
            .isn_remote
            .wrapping_add(map.ssn)
            .wrapping_add(map.payload_len());
        let mut upto = skb_end;
        for limit in [map_end, rcv_nxt] {
            if seq::before(limit, upto) {
                upto = limit;
            }
        }
        let n = upto.wrapping_sub(c.csum_seq);
        if n == 0 || n > len {
            // No progress possible on this mapping (it maps no octet here):
            // never loop on it, skip the skb unchecked.
            c.rx_map = None;
            c.csum_seq = skb_end;
            continue;
        }
        // SAFETY: [csum_seq, upto) lies inside this skb's payload.
        map.sum.add_sum(
            unsafe { skb_sum(skb, c.csum_seq.wrapping_sub(start), n) },
            n as usize,
        );
        map.done = map.done.wrapping_add(n);
        c.csum_seq = upto;
        if upto == map_end {
            let m = *map;
            c.rx_map = None;
            if !m.sum.verify(m.dsn, m.ssn, m.data_len, m.csum) {
                // SAFETY: socket locked.
                unsafe {
                    crate::ctl::mib_add(bindings::sock_net(sk), crate::mib::DATA_CSUM_ERR, 1);
                    csum_failed(c, m.dsn);
                }
                return;
            }
        }
    }
}

/// A mapping failed its checksum on our only subflow: tell the peer with
/// MP_FAIL (on an ACK the caller sends once it holds no context reference)
/// and continue as plain TCP, delivering the data as received (RFC 8684
/// §3.7; mainline does the same).
fn csum_failed(c: &mut SubflowCtx, dsn: u64) {
    c.mp_fail_tx = Some(dsn);
}

/// Encodes `opt` into the scratch space of `opts`, NOP-padded to 32 bits;
/// returns the padded size, or None if it does not fit `remaining`.
///
/// # Safety
///
/// `opts` valid for writes.
unsafe fn put_option(
    opt: &MptcpOption<'_>,
    opts: *mut bindings::mptcp_out_options,
    remaining: c_uint,
) -> Option<c_uint> {
    // SAFETY: the caller guarantees: `opts` valid for writes.
    unsafe { put_options(&[*opt], opts, remaining) }
}

/// Encodes `list` back to back into the scratch space of `opts` (at most
/// 32 octets), NOP-padded to 32 bits; returns the padded size, or None if
/// it does not fit `remaining`.
///
/// # Safety
///
/// `opts` valid for writes.
unsafe fn put_options(
    list: &[MptcpOption<'_>],
    opts: *mut bindings::mptcp_out_options,
    remaining: c_uint,
) -> Option<c_uint> {
    const SPACE: usize = core::mem::size_of::<bindings::mptcp_out_options__bindgen_ty_1>();
    const _: () = assert!(SPACE >= 32);
    let mut buf = [TCPOPT_NOP; 32];
    let mut n = 0;
    for opt in list {
        n += opt.encode(buf.get_mut(n..)?).ok()?;
    }
    let padded = (n + 3) & !3;
    if padded as c_uint > remaining || padded > buf.len() {
        return None;
    }
    // SAFETY: `opts` is valid; the union has at least 32 bytes (checked).
    unsafe {
        ptr::copy_nonoverlapping(
            buf.as_ptr(),
            ptr::addr_of_mut!((*opts).__bindgen_anon_1).cast::<u8>(),
            padded,
        );
        (*opts).suboptions = padded as u16;
    }
    Some(padded as c_uint)
}

/// `mptcp_syn_options` hook.
///
/// # Safety
///
/// Called by TCP with the socket locked.
pub(crate) unsafe fn syn_options(
    sk: *mut bindings::sock,
    size: *mut c_uint,
    opts: *mut bindings::mptcp_out_options,
) -> bool {
    // SAFETY: the caller guarantees: called by TCP with the socket locked.
    let Some(mut c) = (unsafe { ctx(sk) }) else {
        return false;
    };
    let c = &mut c;
    if c.state.load(Ordering::Relaxed) != state::SYN_SENT {
        return false;
    }
    // SAFETY: socket locked (caller).
    if unsafe { (*sk).__sk_common.skc_state } == bindings::TCP_SYN_RECV as u8 {
        // Our SYN crossed the peer's (simultaneous open, or a connect to
        // itself) and TCP answers with a SYN-ACK: MP_CAPABLE cannot
        // complete that way, so plain TCP, as mainline's
        // mptcp_syn_options() decides (RFC 8684 §3.7).
        // SAFETY: socket locked.
        unsafe { fallback(sk, c, crate::mib::SIMULT_CONNECT_FALLBACK) };
        return false;
    }
    let opt = MptcpOption::MpCapable(MpCapable {
        version: MPTCP_VERSION,
        flags: cap_flags(c.csum_reqd),
        payload: MpCapablePayload::Syn,
    });
    // SAFETY: `opts` valid; TCP reserved room for a SYN's options.
    match unsafe { put_option(&opt, opts, 40) } {
        Some(n) => {
            // SAFETY: valid out pointer; socket locked.
            unsafe {
                *size = n;
                crate::ctl::mib_add(bindings::sock_net(sk), crate::mib::MPCAPABLE_SYN_TX, 1);
            }
            true
        }
        None => false,
    }
}

/// Keeps TCP's segments within what one mapping can cover: the data-level
/// length is 16 bits, and BIG TCP lets a device take GSO packets over
/// 64 KiB.  TCP sizes new segments from `sk_gso_max_size` right after
/// asking for our option size (tcp_send_mss() -> tcp_current_mss() ->
/// [`established_options`]), which calls this; a route change re-reads the
/// device's limit (sk_setup_caps()), and the next call clamps it again.
///
/// # Safety
///
/// Socket locked.
unsafe fn clamp_gso(sk: *mut bindings::sock) {
    const GSO_LEGACY_MAX_SIZE: u32 = 65536;
    // SAFETY: the caller guarantees: socket locked.
    unsafe {
        if (*sk).sk_gso_max_size > GSO_LEGACY_MAX_SIZE {
            (*sk).sk_gso_max_size = GSO_LEGACY_MAX_SIZE;
        }
    }
}

/// The mapping of an outgoing segment, from its `SKB_EXT_MPTCP` extension
/// or, at its first transmission, derived from its sequence number and
/// stored in the extension of the queued original (which TCP copies to
/// the pieces when it splits a segment).
///
/// # Safety
///
/// Socket locked; `skb` is the (cloned) segment being transmitted.
unsafe fn tx_mapping(
    sk: *mut bindings::sock,
    c: &mut CtxRef<'_>,
    skb: *mut bindings::sk_buff,
) -> Option<DssMapping> {
    // SAFETY: the caller guarantees: socket locked; `skb` is the (cloned) segment being transmitted.
    unsafe {
        let cb = (*skb).cb.as_ptr().cast::<bindings::tcp_skb_cb>();
        let fin = (*cb).tcp_flags & bindings::TCPHDR_FIN as u8 != 0;
        let len = (*skb).len + u32::from(fin);
        let rel32 = (*cb).seq.wrapping_sub(c.isn_local);
        let ext = bindings::skb_ext_find(skb, bindings::skb_ext_id_SKB_EXT_MPTCP)
            .cast::<bindings::mptcp_ext>();
        if let Some(e) = ext.as_ref() {
            // The stored mapping must cover this segment.  It may not when
            // the segment never left: a local drop (qdisc full) keeps it at
            // the send head, where sendmsg then appends to it; the old
            // mapping was never seen by the peer, so a new one is made.
            let covers =
                rel32.wrapping_sub(e.subflow_seq).wrapping_add(len) <= u32::from(e.data_len);
            let unsent = (*cb).seq == (*bindings::tcp_sk(sk)).snd_nxt;
            if e.use_map() != 0 && (covers || !unsent) {
                return Some(DssMapping {
                    dsn: DataSeq::Bits64(e.data_seq),
                    ssn: e.subflow_seq,
                    data_len: e.data_len,
                    checksum: (e.csum_reqd() != 0).then_some(e.csum),
                    data_fin: e.data_fin() != 0,
                });
            }
        }
        if len == 0 || len > u32::from(u16::MAX) {
            return None;
        }
        c.snd_rel = seq::expand_seq(c.snd_rel, u64::from(rel32));
        let dsn = c.idsn_local.wrapping_add(c.snd_rel);
        // The checksum covers the payload: here, before TCP pushes its
        // header, the clone's data is exactly that payload.
        let checksum = c.csum_reqd.then(|| {
            let mut sum = DssCsum::new();
            sum.add_sum(skb_sum(skb, 0, (*skb).len), (*skb).len as usize);
            sum.finish(dsn, rel32, len as u16)
        });
        let m = DssMapping {
            dsn: DataSeq::Bits64(dsn),
            ssn: rel32,
            data_len: len as u16,
            checksum,
            data_fin: fin,
        };
        // First transmission: the original is the send head, with the same
        // sequence number as this clone.  Record the mapping there.
        let q = ptr::addr_of_mut!((*sk).sk_write_queue);
        let head = (*q).__bindgen_anon_1.__bindgen_anon_1.next;
        if !head.is_null() && head != q.cast::<bindings::sk_buff>() {
            let hcb = (*head).cb.as_ptr().cast::<bindings::tcp_skb_cb>();
            if (*hcb).seq == (*cb).seq && (*head).len == (*skb).len {
                let e = bindings::skb_ext_add(head, bindings::skb_ext_id_SKB_EXT_MPTCP)
                    .cast::<bindings::mptcp_ext>();
                if let Some(e) = e.as_mut() {
                    ptr::write_bytes(e, 0, 1);
                    e.data_seq = c.idsn_local.wrapping_add(c.snd_rel);
                    e.subflow_seq = rel32;
                    e.data_len = len as u16;
                    e.set_use_map(1);
                    e.set_dsn64(1);
                    e.set_data_fin(u8::from(fin));
                    if let Some(sum) = checksum {
                        e.csum = sum;
                        e.set_csum_reqd(1);
                    }
                }
            }
        }
        Some(m)
    }
}

/// The folded sum of `len` payload octets of `skb` from `offset`, as
/// big-endian words ([`DssCsum::add_sum`]'s input).
///
/// # Safety
///
/// `skb` valid and holding the range.
unsafe fn skb_sum(skb: *const bindings::sk_buff, offset: u32, len: u32) -> u16 {
    // SAFETY: the caller guarantees: `skb` valid and holding the range.
    let w = unsafe { bindings::skb_checksum(skb, offset as c_int, len as c_int, 0) };
    // The kernel sums 16-bit words in host order: fold, then convert.
    let s = (w & 0xffff) + (w >> 16);
    let s = (s & 0xffff) + (s >> 16);
    u16::from_be(s as u16)
}

/// The options of segments that end MPTCP on this subflow, if `skb` is
/// one: an RST (the connection is aborted: MP_FASTCLOSE and MP_TCPRST, as
/// mainline sends them), or the first segment after a checksum failure
/// (MP_FAIL, or the infinite mapping answering the peer's MP_FAIL, RFC 8684
/// §3.7), after which the subflow is plain TCP.  Returns the option size.
///
/// # Safety
///
/// Socket locked, valid skb and `opts`.
unsafe fn control_options(
    sk: *mut bindings::sock,
    c: &mut CtxRef<'_>,
    skb: *mut bindings::sk_buff,
    remaining: c_uint,
    opts: *mut bindings::mptcp_out_options,
) -> Option<c_uint> {
    // SAFETY: the caller guarantees: socket locked, valid skb and `opts`.
    unsafe {
        let net = bindings::sock_net(sk);
        let cb = (*skb).cb.as_ptr().cast::<bindings::tcp_skb_cb>();
        if (*cb).tcp_flags & bindings::TCPHDR_RST as u8 != 0 {
            // One subflow: its abortive close is the connection's.
            let list = [
                MptcpOption::MpFastclose(MpFastclose {
                    receiver_key: c.remote_key,
                }),
                MptcpOption::MpTcpRst(MpTcpRst::new(false, c.reset_reason)),
            ];
            let n = put_options(&list, opts, remaining)?;
            crate::ctl::mib_add(net, crate::mib::MPFASTCLOSE_TX, 1);
            crate::ctl::mib_add(net, crate::mib::MPRST_TX, 1);
            return Some(n);
        }
        if c.mp_fail_tx.is_none() && c.infinite_map_tx.is_none() {
            // The common case: an ordinary segment.
            return None;
        }
        let ack = data_ack_opt(sk, c);
        if let Some(dsn) = c.mp_fail_tx {
            let list = [
                MptcpOption::MpFail(MpFail { dsn }),
                MptcpOption::Dss(Dss {
                    data_ack: Some(ack),
                    mapping: None,
                }),
            ];
            let n = put_options(&list, opts, remaining)?;
            c.mp_fail_tx = None;
            fallback(sk, c, crate::mib::MPFAIL_TX);
            return Some(n);
        }
        if let Some(dsn) = c.infinite_map_tx {
            let infinite = DssMapping {
                dsn: DataSeq::Bits64(dsn),
                ssn: 0,
                data_len: 0,
                checksum: c.csum_reqd.then_some(0),
                data_fin: false,
            };
            let n = put_option(
                &MptcpOption::Dss(Dss {
                    data_ack: Some(ack),
                    mapping: Some(infinite),
                }),
                opts,
                remaining,
            )?;
            c.infinite_map_tx = None;
            fallback(sk, c, crate::mib::INFINITE_MAP_TX);
            return Some(n);
        }
        None
    }
}

/// `mptcp_established_options` hook.
///
/// # Safety
///
/// Called by TCP with the socket locked; `skb` may be null (header size
/// estimation by `tcp_current_mss`).
pub(crate) unsafe fn established_options(
    sk: *mut bindings::sock,
    skb: *mut bindings::sk_buff,
    size: *mut c_uint,
    remaining: c_uint,
    opts: *mut bindings::mptcp_out_options,
) -> bool {
    // SAFETY: the caller guarantees: called by TCP with the socket locked; `skb` may be null (header
    // size estimation by `tcp_current_mss`).
    let Some(mut c) = (unsafe { ctx(sk) }) else {
        return false;
    };
    let c = &mut c;
    let st = c.state.load(Ordering::Relaxed);
    if !is_mptcp_state(st) {
        return false;
    }
    // SAFETY: socket locked (caller).
    unsafe { clamp_gso(sk) };
    if skb.is_null() {
        // Size estimate for the MSS: the largest option we may send.
        // SAFETY: valid out pointer.
        unsafe { *size = MAX_OPT_SIZE.min(remaining) };
        return true;
    }
    // SAFETY: socket locked, valid skb.
    if let Some(n) = unsafe { control_options(sk, c, skb, remaining, opts) } {
        // SAFETY: valid out pointer.
        unsafe { *size = n };
        return true;
    }
    // SAFETY: socket locked, valid skb.
    let mapping = unsafe { tx_mapping(sk, c, skb) };
    let opt = if st == state::MPC_ACK_PENDING && mapping.is_none_or(|m| m.ssn == 1 && !m.data_fin) {
        // Until the peer confirms our key: MP_CAPABLE with both keys, and
        // the data-level length on the first data segment (RFC 8684 §3.1).
        let payload = match mapping {
            Some(m) => MpCapablePayload::AckData {
                sender_key: c.local_key,
                receiver_key: c.remote_key,
                data_len: m.data_len,
                checksum: m.checksum,
            },
            None => MpCapablePayload::Ack {
                sender_key: c.local_key,
                receiver_key: c.remote_key,
            },
        };
        MptcpOption::MpCapable(MpCapable {
            version: MPTCP_VERSION,
            flags: cap_flags(c.csum_reqd),
            payload,
        })
    } else {
        // SAFETY: socket locked.
        let ack = unsafe { data_ack_opt(sk, c) };
        MptcpOption::Dss(Dss {
            data_ack: Some(ack),
            mapping,
        })
    };
    // SAFETY: valid `opts`.
    let n = match unsafe { put_option(&opt, opts, remaining) } {
        Some(n) => Some(n),
        // No room for a mapping: at least the DATA_ACK.
        None => {
            // SAFETY: socket locked.
            let ack = unsafe { data_ack_opt(sk, c) };
            let ack_only = MptcpOption::Dss(Dss {
                data_ack: Some(ack),
                mapping: None,
            });
            // SAFETY: valid `opts`.
            unsafe { put_option(&ack_only, opts, remaining) }
        }
    };
    match n {
        Some(n) => {
            // SAFETY: valid out pointer.
            unsafe { *size = n };
            true
        }
        None => false,
    }
}

/// `mptcp_write_options` hook: copy the bytes chosen by the *_options hooks.
///
/// # Safety
///
/// `ptr` points to option space of at least `opts.suboptions` bytes, as
/// reserved through the size the *_options hook returned.
pub(crate) unsafe fn write_options(ptr: *mut u8, opts: *const bindings::mptcp_out_options) {
    // SAFETY: per the caller; `suboptions` holds the padded length (<= 32).
    unsafe {
        let n = usize::from((*opts).suboptions).min(32);
        ptr::copy_nonoverlapping(ptr::addr_of!((*opts).__bindgen_anon_1).cast::<u8>(), ptr, n);
    }
}

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

/// `MPTCP_INFO` of a connection running MPTCP on this subflow, written
/// field by field into `info` (zeroed by the caller, which copies it to
/// user space: padding must stay zero); left alone if the subflow is not
/// in MPTCP state (the caller answers zeros then, as mainline does).
///
/// # Safety
///
/// `ssk` live, process context, not locked by the caller.
pub(crate) unsafe fn mptcp_info(ssk: *mut bindings::sock, info: &mut bindings::mptcp_info) {
    // SAFETY: per the caller; the fields are read under the subflow lock.
    unsafe {
        bindings::lock_sock(ssk);
        if let Some(mut c) = ctx(ssk) {
            let c = &mut c;
            if is_mptcp_state(c.state.load(Ordering::Relaxed)) {
                let tp = bindings::tcp_sk(ssk);
                let dsn = |seq: u32, c: &SubflowCtx| {
                    c.idsn_local.wrapping_add(seq::expand_seq(
                        c.snd_rel,
                        u64::from(seq.wrapping_sub(c.isn_local)),
                    ))
                };
                info.mptcpi_flags = 2; // MPTCP_INFO_FLAG_REMOTE_KEY_RECEIVED
                info.mptcpi_token = crypto::token_and_idsn(c.local_key).0;
                info.mptcpi_write_seq = dsn((*tp).write_seq, c);
                info.mptcpi_snd_una = dsn((*tp).snd_una, c);
                info.mptcpi_rcv_nxt = data_ack(ssk, c);
                info.mptcpi_bytes_retrans = (*tp).bytes_retrans;
                info.mptcpi_bytes_sent = (*tp).bytes_sent;
                info.mptcpi_bytes_received = (*tp).bytes_received;
                info.mptcpi_bytes_acked = (*tp).bytes_acked;
                info.mptcpi_subflows_total = 1;
                info.mptcpi_csum_enabled = u8::from(c.csum_reqd);
            }
        }
        bindings::release_sock(ssk);
    }
}

// ---- server side -------------------------------------------------------------

/// The server's key for a connection request.  Derived, not stored: a
/// keyed hash of both initial sequence numbers and the namespace's random
/// `hash_mix` (one key space per namespace), so the SYN-ACK, the third ACK
/// and syncookie requests agree without per-request memory.
///
/// # Safety
///
/// `req` is a live TCP request sock.
unsafe fn server_key(req: *const bindings::request_sock) -> u64 {
    // SAFETY: per the caller; `KEY_SECRET` is written once at init; a
    // request holds its namespace.
    unsafe {
        let treq = req.cast::<bindings::tcp_request_sock>();
        let net = (*req).__req_common.skc_net.net;
        let mut msg = [0u8; 12];
        msg[..4].copy_from_slice(&(*treq).snt_isn.to_be_bytes());
        msg[4..8].copy_from_slice(&(*treq).rcv_isn.to_be_bytes());
        msg[8..].copy_from_slice(&(*net).hash_mix.to_be_bytes());
        let mac = crypto::hmac_sha256(&*KEY_SECRET.get(), &msg);
        let mut k = [0u8; 8];
        k.copy_from_slice(&mac[..8]);
        u64::from_be_bytes(k)
    }
}

/// After the kernel's route_req: mark the request MPTCP if the SYN asks
/// for MPTCP v1 (without DSS checksums, which we do not implement yet).
///
/// # Safety
///
/// Listener and request valid, listener locked (TCP's SYN processing).
unsafe fn syn_received(
    sk: *const bindings::sock,
    skb: *mut bindings::sk_buff,
    req: *mut bindings::request_sock,
) {
    // SAFETY: the caller guarantees: listener and request valid, listener locked (TCP's SYN
    // processing).
    unsafe {
        let net = bindings::sock_net(sk);
        if !crate::ctl::mptcp_enabled(net) {
            return;
        }
        let (opts, _) = tcp_options(skb);
        let mpc = MptcpOptions::new(opts).find_map(|o| match o {
            Ok(MptcpOption::MpCapable(m)) => Some(m),
            _ => None,
        });
        // A client's flag A needs no state here: the client then also
        // sets it on its third ACK, where `syn_recv_sock` sees it.
        // A SYN asking for a later version gets our v1 (RFC 8684 §3.1: the
        // server answers with the highest version it supports; mainline
        // accepts any SYN version >= 1).
        if let Some(MpCapable {
            version: MPTCP_VERSION..,
            payload: MpCapablePayload::Syn,
            ..
        }) = mpc
        {
            crate::ctl::mib_add(net, crate::mib::MPCAPABLE_SYN_RX, 1);
            (*req.cast::<bindings::tcp_request_sock>()).is_mptcp = true;
        }
    }
}

/// The kernel's `route_req` (`orig`), then [`syn_received`].
///
/// # Safety
///
/// The arguments of a `route_req` call by tcp_conn_request().
unsafe fn route_req(
    kernel_ops: *const bindings::tcp_request_sock_ops,
    sk: *const bindings::sock,
    skb: *mut bindings::sk_buff,
    fl: *mut bindings::flowi,
    req: *mut bindings::request_sock,
    tw_isn: u32,
) -> *mut bindings::dst_entry {
    // SAFETY: per the caller; the kernel's ops are static.
    unsafe {
        // From here the request points at the kernel's ops, not at ours:
        // tcp_conn_request() uses its own copy of the pointer for the rest
        // of the SYN, and a request can outlive this module (a listener
        // closed with tcp_migrate_req moves it to another listener), so it
        // must not keep module memory (SYN-ACK retransmissions call
        // af_specific->send_synack, which we do not override).
        (*req.cast::<bindings::tcp_request_sock>()).af_specific = kernel_ops;
        let Some(f) = (*kernel_ops).route_req else {
            return ptr::null_mut();
        };
        let dst = f(sk, skb, fl, req, tw_isn);
        if !dst.is_null() {
            syn_received(sk, skb, req);
        }
        dst
    }
}

/// Kernel callback.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn route_req_v4(
    sk: *const bindings::sock,
    skb: *mut bindings::sk_buff,
    fl: *mut bindings::flowi,
    req: *mut bindings::request_sock,
    tw_isn: u32,
) -> *mut bindings::dst_entry {
    // SAFETY: called by tcp_conn_request() with its own arguments.
    unsafe {
        route_req(
            ptr::addr_of!(bindings::tcp_request_sock_ipv4_ops),
            sk,
            skb,
            fl,
            req,
            tw_isn,
        )
    }
}

/// Kernel callback.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn route_req_v6(
    sk: *const bindings::sock,
    skb: *mut bindings::sk_buff,
    fl: *mut bindings::flowi,
    req: *mut bindings::request_sock,
    tw_isn: u32,
) -> *mut bindings::dst_entry {
    // SAFETY: called by tcp_conn_request() with its own arguments.
    unsafe {
        route_req(
            ptr::addr_of!(bindings::tcp_request_sock_ipv6_ops),
            sk,
            skb,
            fl,
            req,
            tw_isn,
        )
    }
}

/// The route TCP's input path attached to a received segment
/// (`skb_dst()`), or null.
///
/// # Safety
///
/// `skb` is a valid received segment.
unsafe fn skb_dst(skb: *const bindings::sk_buff) -> *const bindings::dst_entry {
    // SAFETY: per the caller; on the input path the union holds the dst
    // reference (`_skb_refdst`, low bit: not refcounted).
    let refdst = unsafe { (*skb).__bindgen_anon_3.__bindgen_anon_1._skb_refdst };
    (refdst & bindings::SKB_DST_PTRMASK as kernel::ffi::c_ulong) as *const bindings::dst_entry
}

/// `conn_request` of our listeners: the kernel's, with our request ops.
///
/// SYNs that tcp_v4_conn_request() refuses (sent to a broadcast or
/// multicast address) go to it instead, so that they are dropped and
/// counted (tcp_listendrop: TcpExtListenDrops) exactly as for TCP, as
/// mainline's subflow_v4_conn_request() does.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn conn_request_v4(
    sk: *mut bindings::sock,
    skb: *mut bindings::sk_buff,
) -> c_int {
    // SAFETY: called by TCP for a SYN on our listener; a received segment
    // holds its input route, an `rtable` (whose first member is the dst).
    unsafe {
        let rt = skb_dst(skb).cast::<bindings::rtable>();
        if !rt.is_null()
            && (*rt).rt_flags & (bindings::RTCF_BROADCAST | bindings::RTCF_MULTICAST) != 0
        {
            if let Some(tcp) = bindings::ipv4_specific.conn_request {
                return tcp(sk, skb);
            }
            return 0;
        }
        bindings::tcp_conn_request(
            ptr::addr_of_mut!(bindings::tcp_request_sock_ops),
            REQ_OPS_V4.get(),
            sk,
            skb,
        )
    }
}

/// As [`conn_request_v4`] for IPv6 listeners: IPv4 SYNs (dual-stack) take
/// the IPv4 path; SYNs to a non-unicast destination or from a v4-mapped
/// source go to tcp_v6_conn_request(), which drops them and counts
/// TcpExtListenDrops or Ip6InHdrErrors as for TCP (mainline's
/// subflow_v6_conn_request() does the same checks).
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn conn_request_v6(
    sk: *mut bindings::sock,
    skb: *mut bindings::sk_buff,
) -> c_int {
    // SAFETY: called by TCP for a SYN on our listener: the IPv6 header is
    // linear at the network header, the input route is an `rt6_info`.
    unsafe {
        let proto = (*skb).__bindgen_anon_4.__bindgen_anon_1.as_ref().protocol;
        if proto == (bindings::ETH_P_IP as u16).to_be() {
            return conn_request_v4(sk, skb);
        }
        let rt = skb_dst(skb).cast::<bindings::rt6_info>();
        // ipv6_unicast_destination()
        let unicast = rt.is_null() || (*rt).rt6i_flags & bindings::RTF_LOCAL != 0;
        let nh = usize::from(
            (*skb)
                .__bindgen_anon_4
                .__bindgen_anon_1
                .as_ref()
                .network_header,
        );
        let ip6 = (*skb).head.add(nh).cast::<bindings::ipv6hdr>();
        let s = ptr::read_unaligned(ptr::addr_of!(
            (*ip6).__bindgen_anon_1.addrs.saddr.in6_u.u6_addr32
        ));
        // ipv6_addr_v4mapped(): ::ffff:a.b.c.d
        let v4mapped = s[0] == 0 && s[1] == 0 && s[2] == 0xffff_u32.to_be();
        if !unicast || v4mapped {
            if let Some(tcp) = bindings::ipv6_specific.conn_request {
                return tcp(sk, skb);
            }
            return 0;
        }
        bindings::tcp_conn_request(
            ptr::addr_of_mut!(bindings::tcp6_request_sock_ops),
            REQ_OPS_V6.get(),
            sk,
            skb,
        )
    }
}

/// `mptcp_synack_options` hook: MP_CAPABLE with the server key.
///
/// # Safety
///
/// Called by TCP for a request it marked MPTCP (`syn_received`).
pub(crate) unsafe fn synack_options(
    req: *const bindings::request_sock,
    size: *mut c_uint,
    opts: *mut bindings::mptcp_out_options,
) -> bool {
    // SAFETY: per the caller; a request holds its namespace.
    let (key, csum) = unsafe {
        (
            server_key(req),
            crate::ctl::checksum_enabled((*req).__req_common.skc_net.net),
        )
    };
    let opt = MptcpOption::MpCapable(MpCapable {
        version: MPTCP_VERSION,
        flags: cap_flags(csum),
        payload: MpCapablePayload::SynAck { sender_key: key },
    });
    // SAFETY: valid `opts`; a SYN-ACK has room for 12 option bytes more.
    match unsafe { put_option(&opt, opts, 40) } {
        Some(n) => {
            // SAFETY: valid out pointer.
            unsafe { *size = n };
            true
        }
        None => false,
    }
}

/// `syn_recv_sock` of our listeners: the third ACK creates the child; with
/// MP_CAPABLE (both keys, ours matching) the child runs MPTCP.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn syn_recv_sock(
    sk: *const bindings::sock,
    skb: *mut bindings::sk_buff,
    req: *mut bindings::request_sock,
    dst: *mut bindings::dst_entry,
    req_unhash: *mut bindings::request_sock,
    own_req: *mut bool,
    opt_child_init: Option<unsafe extern "C" fn(*mut bindings::sock, *const bindings::sock)>,
) -> *mut bindings::sock {
    // SAFETY: called by tcp_check_req() with the listener and request.
    unsafe {
        let orig = if is_v6(sk) {
            bindings::ipv6_specific.syn_recv_sock
        } else {
            bindings::ipv4_specific.syn_recv_sock
        };
        let Some(orig) = orig else {
            return ptr::null_mut();
        };
        let treq = req.cast::<bindings::tcp_request_sock>();
        // TCP drops the request of an MPTCP child when `drop_req` is set
        // (tcp_check_req(), tcp_get_cookie_sock()): ours never ask it to,
        // and request socks are not zeroed, so write it for every child.
        (*treq).drop_req = false;
        let net = bindings::sock_net(sk);
        let mut keys = None;
        if (*treq).is_mptcp {
            let local = server_key(req);
            let (opts, _) = tcp_options(skb);
            // Checksums if we want them or the client does: flag A on the
            // 20-octet ACK, or a checksum in the 24-octet ACK with data
            // (whose flag A mainline ignores).
            let own = crate::ctl::checksum_enabled(net);
            keys = MptcpOptions::new(opts).find_map(|o| match o {
                Ok(MptcpOption::MpCapable(MpCapable {
                    flags,
                    payload:
                        MpCapablePayload::Ack {
                            sender_key,
                            receiver_key,
                        },
                    ..
                })) if receiver_key == local => Some((
                    local,
                    sender_key,
                    own || flags & options::MPTCP_CAP_CHECKSUM_REQD != 0,
                )),
                Ok(MptcpOption::MpCapable(MpCapable {
                    payload:
                        MpCapablePayload::AckData {
                            sender_key,
                            receiver_key,
                            checksum,
                            ..
                        },
                    ..
                })) if receiver_key == local => {
                    Some((local, sender_key, own || checksum.is_some()))
                }
                _ => None,
            });
        }
        let child = orig(sk, skb, req, dst, req_unhash, own_req, opt_child_init);
        if child.is_null() {
            return child;
        }
        if (*treq).is_mptcp && *own_req {
            // Counted once per connection: a duplicated third ACK racing
            // the first one on another CPU gets a child that is dropped
            // (own_req false), as in mainline.
            let mib = if keys.is_some() {
                crate::mib::MPCAPABLE_ACK_RX
            } else {
                crate::mib::MPCAPABLE_FALLBACK_ACK
            };
            crate::ctl::mib_add(net, mib, 1);
        }
        // The child is locked by its creator (sk_clone_lock) until TCP is
        // done with it.  Our ULP's clone op gave it a fresh context.
        match (ctx(child), keys) {
            (Some(mut c), Some((local, remote, csum_reqd)))
                if c.state.load(Ordering::Relaxed) == state::SYN_RECV
                    && *own_req
                    && claim_token(net, local) =>
            {
                c.token_claimed = true;
                c.csum_reqd = csum_reqd;
                c.local_key = local;
                c.remote_key = remote;
                c.idsn_local = crypto::token_and_idsn(local).1;
                c.idsn_remote = crypto::token_and_idsn(remote).1;
                c.isn_local = (*treq).snt_isn;
                c.isn_remote = (*treq).rcv_isn;
                c.snd_rel = 1;
                c.rcv_rel = 1;
                c.csum_seq = c.isn_remote.wrapping_add(1);
                c.rx_seq = c.csum_seq;
                (*bindings::tcp_sk(child)).is_mptcp = true;
                c.state.store(state::ESTABLISHED, Ordering::Release);
                crate::ctl::mib_add(net, crate::mib::MPCURR_ESTAB, 1);
            }
            (Some(c), keys) => {
                // A child that lost the race (!own_req) is dropped by TCP:
                // it claims nothing and counts nothing.
                if keys.is_some() && *own_req {
                    // The token of the key we derived is taken here.
                    crate::ctl::mib_add(net, crate::mib::MPFALLBACK_TOKEN_INIT, 1);
                }
                c.state.store(state::FALLBACK, Ordering::Release);
                (*bindings::tcp_sk(child)).is_mptcp = false;
            }
            (None, _) => (*bindings::tcp_sk(child)).is_mptcp = false,
        }
        child
    }
}

/// Claims the token of the server key `local` in `net`.
fn claim_token(net: *const bindings::net, local: u64) -> bool {
    crate::token::claim(net, crypto::token_and_idsn(local).0)
}

/// ULP clone: a child of our listener gets its own context (decided in
/// [`syn_recv_sock`]) and holds a module reference, like `tcp_set_ulp()`
/// would take, released by `tcp_cleanup_ulp()`.
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
                (*c).orig_data_ready = (*newsk).sk_data_ready;
                (*newsk).sk_data_ready = Some(data_ready);
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
