// SPDX-License-Identifier: GPL-2.0

//! The MP_CAPABLE handshake (RFC 8684 §3.1) of the first subflow, both
//! roles.
//!
//! Client: the SYN carries MP_CAPABLE ([`syn_options`]); the SYN-ACK is
//! seen by our `sk_rx_dst_set` wrapper ([`synack_seen`]).  Server: our
//! `conn_request` runs the kernel's with our request ops, whose `route_req`
//! marks MP_CAPABLE SYNs ([`syn_received`]); the SYN-ACK carries the key
//! derived from the request ([`server_key`], [`synack_options`]); our
//! `syn_recv_sock` checks the third ACK's keys ([`third_ack_keys`]) and
//! makes the child MPTCP ([`child_created`]).  The C entry points are in
//! `sys/subflow_ops.rs`.

use core::sync::atomic::Ordering;

use kernel::bindings;
use kernel::ffi::{c_int, c_uint};

use super::tx::put_option;
use super::{
    cap_flags, count_estab, ctx_locked, fallback, state, CtxRef, SubflowCtx, KEY_SECRET,
    MPTCP_VERSION, TCPF_SYN_ACK,
};
use crate::crypto;
use crate::handshake;
use crate::options::{MpCapable, MpCapablePayload, MptcpOption};
use crate::sys::opts::OutOptions;
use crate::sys::request::TcpRequest;
use crate::sys::skb::TcpSegment;
use crate::sys::{Net, TcpLocked};

// ---- client side -------------------------------------------------------------

/// `seg` reached our subflow in `tcp_finish_connect()` (our
/// `sk_rx_dst_set` wrapper): the SYN-ACK, if we sent a SYN.
pub(crate) fn synack_seen(l: &TcpLocked<'_>, seg: &TcpSegment) {
    if let Some(mut c) = ctx_locked(l) {
        let c = &mut c;
        let (opts, flags) = seg.options();
        if c.state.load(Ordering::Relaxed) == state::SYN_SENT
            && flags & TCPF_SYN_ACK == TCPF_SYN_ACK
        {
            synack_received(l, c, seg, opts);
        }
    }
}

/// The SYN-ACK `seg` (with options `opts`) reached our SYN_SENT subflow.
fn synack_received(l: &TcpLocked<'_>, c: &mut CtxRef<'_>, seg: &TcpSegment, opts: &[u8]) {
    match handshake::synack(handshake::find_mpc(opts).as_ref()) {
        Some(peer) => {
            // Checksums if either side asked (RFC 8684 §3.1).
            c.csum_reqd |= peer.csum;
            c.remote_key = peer.key;
            c.idsn_remote = crypto::token_and_idsn(peer.key).1;
            c.isn_remote = seg.seq();
            // snd_una is ISN + 1 once the SYN is acked.
            c.isn_local = l.seqs().snd_una.wrapping_sub(1);
            crate::ctl::mib_add(l.sock().net(), crate::mib::MPCAPABLE_SYNACK_RX, 1);
            c.snd_rel = 1;
            c.rcv_rel = 1;
            c.csum_seq = c.isn_remote.wrapping_add(1);
            c.rx_seq = c.csum_seq;
            c.state.store(state::MPC_ACK_PENDING, Ordering::Release);
            super::rx::lowat_to_msk(l);
        }
        // No (or unusable) MP_CAPABLE: plain TCP.
        None => fallback(l, c, crate::mib::MPCAPABLE_FALLBACK_SYNACK),
    }
    // The connection is established, MPTCP or not.
    count_estab(l.sock().net(), c);
}

/// `mptcp_syn_options` hook: MP_CAPABLE on the SYN of our locked
/// subflow.  Returns the option size.
pub(crate) fn syn_options(l: &TcpLocked<'_>, opts: &mut OutOptions) -> Option<c_uint> {
    let mut c = ctx_locked(l)?;
    let c = &mut c;
    if c.state.load(Ordering::Relaxed) != state::SYN_SENT {
        return None;
    }
    if l.sock().state() == bindings::TCP_SYN_RECV as c_int {
        // Our SYN crossed the peer's (simultaneous open, or a connect to
        // itself) and TCP answers with a SYN-ACK: MP_CAPABLE cannot
        // complete that way, so plain TCP, as mainline's
        // mptcp_syn_options() decides (RFC 8684 §3.7).
        fallback(l, c, crate::mib::SIMULT_CONNECT_FALLBACK);
        return None;
    }
    let opt = MptcpOption::MpCapable(MpCapable {
        version: MPTCP_VERSION,
        flags: cap_flags(c.csum_reqd),
        payload: MpCapablePayload::Syn,
    });
    // TCP reserved room for a SYN's options.
    let n = put_option(&opt, opts, 40)?;
    crate::ctl::mib_add(l.sock().net(), crate::mib::MPCAPABLE_SYN_TX, 1);
    Some(n)
}

// ---- server side -------------------------------------------------------------

/// The server's key for a connection request.  Derived, not stored: a
/// keyed hash of both initial sequence numbers and the namespace's random
/// `hash_mix` (one key space per namespace), so the SYN-ACK, the third ACK
/// and syncookie requests agree without per-request memory.  None before
/// the secret is drawn (module init, before any listener exists).
fn server_key(req: &TcpRequest) -> Option<u64> {
    let mut msg = [0u8; 12];
    msg[..4].copy_from_slice(&req.snt_isn().to_be_bytes());
    msg[4..8].copy_from_slice(&req.rcv_isn().to_be_bytes());
    msg[8..].copy_from_slice(&req.net().hash_mix().to_be_bytes());
    let mac = crypto::hmac_sha256(KEY_SECRET.get()?, &msg);
    let mut k = [0u8; 8];
    k.copy_from_slice(&mac[..8]);
    Some(u64::from_be_bytes(k))
}

/// After the kernel's route_req accepted the SYN `seg` on a listener in
/// `net`: mark the request MPTCP if the SYN asks for MPTCP v1.
pub(crate) fn syn_received(net: &Net, seg: &TcpSegment, req: &TcpRequest) {
    if !crate::ctl::mptcp_enabled(net) {
        return;
    }
    let (opts, _) = seg.options();
    // A client's flag A needs no state here: the client then also
    // sets it on its third ACK, where `third_ack_keys` sees it.
    // A SYN asking for a later version gets our v1 (RFC 8684 §3.1: the
    // server answers with the highest version it supports; mainline
    // accepts any SYN version >= 1; the codec enforces that).
    if handshake::syn(handshake::find_mpc(opts).as_ref()).is_some() {
        crate::ctl::mib_add(net, crate::mib::MPCAPABLE_SYN_RX, 1);
        req.set_mptcp();
    }
}

/// `mptcp_synack_options` hook: MP_CAPABLE with the server key.  Returns
/// the option size.  Called by TCP for a request [`syn_received`] marked.
pub(crate) fn synack_options(req: &TcpRequest, opts: &mut OutOptions) -> Option<c_uint> {
    let csum = crate::ctl::checksum_enabled(req.net());
    let opt = MptcpOption::MpCapable(MpCapable {
        version: MPTCP_VERSION,
        flags: cap_flags(csum),
        payload: MpCapablePayload::SynAck {
            sender_key: server_key(req)?,
        },
    });
    // A SYN-ACK has room for 12 option bytes more.
    put_option(&opt, opts, 40)
}

/// The keys a child of an MPTCP request starts with.
pub(crate) struct ChildKeys {
    /// Ours (the server key of the request).
    local: u64,
    /// The client's, from the third ACK; None for a fast-open child,
    /// created from the SYN (the key comes with the third ACK later).
    remote: Option<u64>,
    /// DSS checksums: either side asked.
    csum_reqd: bool,
}

/// Before the kernel's `syn_recv_sock` creates the child of `req` for
/// `seg` (the third ACK, or a fast-open SYN) on a listener in `net`: the
/// keys of an MPTCP request whose MP_CAPABLE checks out.
pub(crate) fn third_ack_keys(net: &Net, seg: &TcpSegment, req: &TcpRequest) -> Option<ChildKeys> {
    if !req.is_mptcp() {
        return None;
    }
    let local = server_key(req)?;
    let (opts, _) = seg.options();
    let own = crate::ctl::checksum_enabled(net);
    let mpc = handshake::find_mpc(opts);
    match handshake::third_ack(mpc.as_ref(), local) {
        Some(peer) => Some(ChildKeys {
            local,
            remote: Some(peer.key),
            csum_reqd: own || peer.csum,
        }),
        // Fast open: TCP creates the child from the SYN itself
        // (tcp_fastopen_create_child), before any key of the
        // client's; it comes with the third ACK (`incoming.rs`).
        None if seg.is_syn() => handshake::syn(mpc.as_ref()).map(|csum| ChildKeys {
            local,
            remote: None,
            csum_reqd: own || csum,
        }),
        None => None,
    }
}

/// The kernel's `syn_recv_sock` created the child `l` (locked) of `req`
/// for `seg`; `keys` are what [`third_ack_keys`] found.  With keys the
/// child runs MPTCP, else plain TCP.  `own_req` false: the child lost a
/// race with another CPU's copy of the third ACK, and TCP drops it.
pub(crate) fn child_created(
    l: &mut TcpLocked<'_>,
    req: &TcpRequest,
    seg: &TcpSegment,
    keys: Option<ChildKeys>,
    own_req: bool,
) {
    let net = req.net();
    if req.is_mptcp() && own_req {
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
    // Our ULP's clone op gave the child a fresh context.
    let Some(mut c) = ctx_locked(l) else {
        l.clear_mptcp();
        return;
    };
    match keys {
        Some(k)
            if c.state.load(Ordering::Relaxed) == state::SYN_RECV
                && own_req
                && claim_token(net, k.local) =>
        {
            c.token_claimed = true;
            c.csum_reqd = k.csum_reqd;
            c.local_key = k.local;
            c.idsn_local = crypto::token_and_idsn(k.local).1;
            match k.remote {
                Some(remote) => set_remote_key(&mut c, remote),
                None => c.remote_key_pending = true,
            }
            c.isn_local = req.snt_isn();
            // Fast-open data (queued by TCP after this returns) lies
            // outside the data sequence space, as on mainline
            // (mptcp_fastopen_subflow_synack_set_params): subflow
            // sequence numbers of mappings count from after it.
            c.isn_remote = req.rcv_isn().wrapping_add(seg.syn_data_len());
            c.snd_rel = 1;
            c.rcv_rel = 1;
            c.csum_seq = c.isn_remote.wrapping_add(1);
            c.rx_seq = c.csum_seq;
            c.state.store(state::ESTABLISHED, Ordering::Release);
            count_estab(net, &mut c);
            drop(c);
            super::rx::lowat_to_msk(l);
            l.set_mptcp();
        }
        keys => {
            // A child that lost the race (!own_req) is dropped by TCP:
            // it claims nothing and counts nothing.
            if keys.is_some() && own_req {
                // The token of the key we derived is taken here.
                crate::ctl::mib_add(net, crate::mib::MPFALLBACK_TOKEN_INIT, 1);
            }
            c.state.store(state::FALLBACK, Ordering::Release);
            drop(c);
            l.clear_mptcp();
        }
    }
}

/// The peer's key, from its MP_CAPABLE: the key and its IDSN.
pub(super) fn set_remote_key(c: &mut SubflowCtx, remote: u64) {
    c.remote_key = remote;
    c.idsn_remote = crypto::token_and_idsn(remote).1;
    c.remote_key_pending = false;
}

/// Claims the token of the server key `local` in `net`.
fn claim_token(net: &crate::sys::Net, local: u64) -> bool {
    crate::token::claim(net, crypto::token_and_idsn(local).0)
}
