// SPDX-License-Identifier: GPL-2.0

//! The MP_CAPABLE handshake (RFC 8684 §3.1) of the first subflow, both
//! roles.
//!
//! Client: the SYN carries MP_CAPABLE ([`syn_options`]); the SYN-ACK is
//! parsed in our `sk_rx_dst_set` wrapper ([`rx_dst_set`]).  Server: our
//! `conn_request` ([`conn_request_v4`], [`conn_request_v6`]) runs the
//! kernel's with our request ops, whose `route_req` marks MP_CAPABLE SYNs;
//! the SYN-ACK carries the key derived from the request ([`server_key`],
//! [`synack_options`]); [`syn_recv_sock`] checks the third ACK's keys.

use core::ptr;
use core::sync::atomic::Ordering;

use kernel::bindings;
use kernel::ffi::{c_int, c_uint};

use super::tx::put_option;
use super::{
    cap_flags, count_estab, ctx, ctx_locked, fallback, is_v6, state, CtxRef, SubflowCtx,
    AF_OPS_V6M, KEY_SECRET, MPTCP_VERSION, REQ_OPS_V4, REQ_OPS_V6, TCPF_SYN_ACK,
};
use crate::crypto;
use crate::handshake;
use crate::options::{MpCapable, MpCapablePayload, MptcpOption};
use crate::sys::opts::OutOptions;
use crate::sys::skb::TcpSegment;
use crate::sys::{TcpLocked, TcpSock};

// ---- client side -------------------------------------------------------------

/// Our `sk_rx_dst_set`: sees the SYN-ACK in `tcp_finish_connect()`.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
pub(super) unsafe extern "C" fn rx_dst_set(sk: *mut bindings::sock, skb: *const bindings::sk_buff) {
    // SAFETY: TCP calls this with the socket locked and a valid skb.
    unsafe {
        // The kernel's for this socket: IPv4's also for v4-mapped v6 ones.
        let icsk = sk.cast::<bindings::inet_connection_sock>();
        let orig = if is_v6(sk) && (*icsk).icsk_af_ops != AF_OPS_V6M.get().cast_const() {
            bindings::ipv6_specific.sk_rx_dst_set
        } else {
            bindings::ipv4_specific.sk_rx_dst_set
        };
        synack_seen(
            &TcpSock::from_raw(sk).assume_locked(),
            TcpSegment::from_raw(skb),
        );
        if let Some(f) = orig {
            f(sk, skb);
        }
    }
}

/// `seg` reached our subflow in `tcp_finish_connect()`: the SYN-ACK, if
/// we sent a SYN.
fn synack_seen(l: &TcpLocked<'_>, seg: &TcpSegment) {
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
        let net = crate::sys::net::sock_net(sk);
        if !crate::ctl::mptcp_enabled(net) {
            return;
        }
        let (opts, _) = TcpSegment::from_raw(skb).options();
        // A client's flag A needs no state here: the client then also
        // sets it on its third ACK, where `syn_recv_sock` sees it.
        // A SYN asking for a later version gets our v1 (RFC 8684 §3.1: the
        // server answers with the highest version it supports; mainline
        // accepts any SYN version >= 1; the codec enforces that).
        if handshake::syn(handshake::find_mpc(opts).as_ref()).is_some() {
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
pub(super) unsafe extern "C" fn route_req_v4(
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
pub(super) unsafe extern "C" fn route_req_v6(
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
pub(super) unsafe extern "C" fn conn_request_v4(
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
pub(super) unsafe extern "C" fn conn_request_v6(
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

/// `mptcp_synack_options` hook: MP_CAPABLE with the server key.  Returns
/// the option size.
///
/// # Safety
///
/// Called by TCP for a request it marked MPTCP (`syn_received`).
pub(crate) unsafe fn synack_options(
    req: *const bindings::request_sock,
    opts: &mut OutOptions,
) -> Option<c_uint> {
    // SAFETY: per the caller; a request holds its namespace.
    let (key, csum) = unsafe {
        (
            server_key(req),
            crate::ctl::checksum_enabled(crate::sys::Net::from_raw(
                (*req).__req_common.skc_net.net,
            )),
        )
    };
    let opt = MptcpOption::MpCapable(MpCapable {
        version: MPTCP_VERSION,
        flags: cap_flags(csum),
        payload: MpCapablePayload::SynAck { sender_key: key },
    });
    // A SYN-ACK has room for 12 option bytes more.
    put_option(&opt, opts, 40)
}

/// `syn_recv_sock` of our listeners: the third ACK creates the child; with
/// MP_CAPABLE (both keys, ours matching) the child runs MPTCP.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
pub(super) unsafe extern "C" fn syn_recv_sock(
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
        let net = crate::sys::net::sock_net(sk);
        let mut keys = None;
        if (*treq).is_mptcp {
            let local = server_key(req);
            let (opts, _) = TcpSegment::from_raw(skb).options();
            let own = crate::ctl::checksum_enabled(net);
            let mpc = handshake::find_mpc(opts);
            keys = match handshake::third_ack(mpc.as_ref(), local) {
                Some(peer) => Some((local, Some(peer.key), own || peer.csum)),
                // Fast open: TCP creates the child from the SYN itself
                // (tcp_fastopen_create_child), before any key of the
                // client's; it comes with the third ACK (`incoming.rs`).
                None if is_syn(skb) => {
                    handshake::syn(mpc.as_ref()).map(|csum| (local, None, own || csum))
                }
                None => None,
            };
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
                c.idsn_local = crypto::token_and_idsn(local).1;
                match remote {
                    Some(remote) => set_remote_key(&mut c, remote),
                    None => c.remote_key_pending = true,
                }
                c.isn_local = (*treq).snt_isn;
                // Fast-open data (queued by TCP after this returns) lies
                // outside the data sequence space, as on mainline
                // (mptcp_fastopen_subflow_synack_set_params): subflow
                // sequence numbers of mappings count from after it.
                c.isn_remote = (*treq).rcv_isn.wrapping_add(syn_data_len(skb));
                c.snd_rel = 1;
                c.rcv_rel = 1;
                c.csum_seq = c.isn_remote.wrapping_add(1);
                c.rx_seq = c.csum_seq;
                (*bindings::tcp_sk(child)).is_mptcp = true;
                c.state.store(state::ESTABLISHED, Ordering::Release);
                count_estab(crate::sys::net::sock_net(child), &mut c);
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

/// The peer's key, from its MP_CAPABLE: the key and its IDSN.
pub(super) fn set_remote_key(c: &mut SubflowCtx, remote: u64) {
    c.remote_key = remote;
    c.idsn_remote = crypto::token_and_idsn(remote).1;
    c.remote_key_pending = false;
}

/// Whether `skb` is a SYN.
///
/// # Safety
///
/// `skb` is a TCP segment in TCP's receive path.
unsafe fn is_syn(skb: *const bindings::sk_buff) -> bool {
    // SAFETY: the control block of a received TCP segment (# Safety).
    unsafe {
        let cb = (*skb).cb.as_ptr().cast::<bindings::tcp_skb_cb>();
        (*cb).tcp_flags & bindings::TCPHDR_SYN as u8 != 0
    }
}

/// Payload octets of a SYN (fast-open data; 0 for any other segment).
///
/// # Safety
///
/// `skb` is a TCP segment in TCP's receive path.
unsafe fn syn_data_len(skb: *const bindings::sk_buff) -> u32 {
    // SAFETY: the control block of a received TCP segment (# Safety).
    unsafe {
        if !is_syn(skb) {
            return 0;
        }
        let cb = (*skb).cb.as_ptr().cast::<bindings::tcp_skb_cb>();
        let fin = u32::from((*cb).tcp_flags & bindings::TCPHDR_FIN as u8 != 0);
        (*cb).end_seq.wrapping_sub((*cb).seq).wrapping_sub(1 + fin)
    }
}

/// Claims the token of the server key `local` in `net`.
fn claim_token(net: &crate::sys::Net, local: u64) -> bool {
    crate::token::claim(net, crypto::token_and_idsn(local).0)
}
