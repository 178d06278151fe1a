// SPDX-License-Identifier: GPL-2.0

//! The TCP tables our subflows run with, and their C entry points: the
//! `inet_connection_sock_af_ops` wrappers (IPv4, IPv6, v4-mapped IPv6)
//! and the request ops of our listeners.  Each entry point turns TCP's
//! pointers into the safe layer's types around the kernel's own function
//! and calls the handshake code (`subflow/handshake.rs`).
//!
//! The wrappers are copies of the kernel's tables with three members
//! replaced: `sk_rx_dst_set` (sees the SYN-ACK), `conn_request` (our
//! request ops) and `syn_recv_sock` (the third ACK); the request ops
//! replace `route_req` (sees the SYN).

use core::ptr;

use kernel::bindings;
use kernel::ffi::c_int;

use super::global::Global;
use super::msk::Msk;
use super::request::TcpRequest;
use super::skb::TcpSegment;
use super::{Sock, TcpSock};
use crate::subflow;

type AfOps = bindings::inet_connection_sock_af_ops;

static AF_OPS_V4: Global<AfOps> = Global::zeroed();
static AF_OPS_V6: Global<AfOps> = Global::zeroed();
/// For v6 subflows talking to v4-mapped addresses: `ipv6_mapped` (IPv4
/// transmission, IPv6 socket options) with our wrappers, as mainline's
/// `subflow_v6m_specific`.
static AF_OPS_V6M: Global<AfOps> = Global::zeroed();
static REQ_OPS_V4: Global<bindings::tcp_request_sock_ops> = Global::zeroed();
static REQ_OPS_V6: Global<bindings::tcp_request_sock_ops> = Global::zeroed();

static TABLES: super::Claim = super::Claim::new();

/// Module init, before any subflow can use the tables: copies the
/// kernel's tables and puts our entry points in (the first call only).
pub(crate) fn init_tables() {
    if !TABLES.claim() {
        return;
    }
    // SAFETY: the first call (the claim above), from module init before
    // any subflow uses the tables (`Global`'s invariant); `ipv4_specific`,
    // `ipv6_specific` and the request ops are initialised kernel tables.
    unsafe {
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
        (*REQ_OPS_V4.get()).route_req = Some(route_req::<false>);
        *REQ_OPS_V6.get() = ptr::read(ptr::addr_of!(bindings::tcp_request_sock_ipv6_ops));
        (*REQ_OPS_V6.get()).route_req = Some(route_req::<true>);
    }
}

/// Our af_ops for a subflow: IPv4, IPv6, or IPv6 to a v4-mapped address.
pub(crate) fn af_ops(v6: bool, v4_mapped: bool) -> *const AfOps {
    match (v6, v4_mapped) {
        (false, _) => AF_OPS_V4.get(),
        (true, false) => AF_OPS_V6.get(),
        (true, true) => AF_OPS_V6M.get(),
    }
}

/// Whether `ops` is one of our wrapper tables.
pub(crate) fn is_ours(ops: *const AfOps) -> bool {
    [AF_OPS_V4.get(), AF_OPS_V6.get(), AF_OPS_V6M.get()]
        .iter()
        .any(|&o| ptr::eq(o, ops))
}

/// The kernel's af_ops of a socket of family `v6` (what TCP installs
/// without us).
pub(crate) fn kernel_af_ops(v6: bool) -> *const AfOps {
    if v6 {
        ptr::addr_of!(bindings::ipv6_specific)
    } else {
        ptr::addr_of!(bindings::ipv4_specific)
    }
}

/// `sk_rx_dst_set`: sees the SYN-ACK in `tcp_finish_connect()`.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn rx_dst_set(sk: *mut bindings::sock, skb: *const bindings::sk_buff) {
    // SAFETY: TCP calls this with the socket locked (its one entry here)
    // and the received SYN-ACK, which it owns.
    unsafe {
        let tsk = TcpSock::from_raw(sk);
        // The kernel's for this socket: IPv4's also for v4-mapped v6 ones.
        let icsk = sk.cast::<bindings::inet_connection_sock>();
        let orig = if tsk.is_v6() && (*icsk).icsk_af_ops != AF_OPS_V6M.get().cast_const() {
            bindings::ipv6_specific.sk_rx_dst_set
        } else {
            bindings::ipv4_specific.sk_rx_dst_set
        };
        subflow::synack_seen(&tsk.assume_locked(), TcpSegment::from_raw(skb));
        if let Some(f) = orig {
            f(sk, skb);
        }
    }
}

/// `route_req` of our request ops (IPv6 ones if `V6`): the kernel's, then
/// the handshake's [`syn_received`](subflow::syn_received).
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn route_req<const V6: bool>(
    sk: *const bindings::sock,
    skb: *mut bindings::sk_buff,
    fl: *mut bindings::flowi,
    req: *mut bindings::request_sock,
    tw_isn: u32,
) -> *mut bindings::dst_entry {
    let kernel_ops = if V6 {
        ptr::addr_of!(bindings::tcp_request_sock_ipv6_ops)
    } else {
        ptr::addr_of!(bindings::tcp_request_sock_ipv4_ops)
    };
    // SAFETY: called by tcp_conn_request() with a live listener, the SYN its
    // receive path owns and the request it is building; the kernel's ops
    // are static.
    unsafe {
        let r = TcpRequest::from_raw(req);
        // From here the request points at the kernel's ops, not at ours:
        // tcp_conn_request() uses its own copy of the pointer for the rest
        // of the SYN, and a request can outlive this module (a listener
        // closed with tcp_migrate_req moves it to another listener), so it
        // must not keep module memory (SYN-ACK retransmissions call
        // af_specific->send_synack, which we do not override).
        r.set_af_specific(kernel_ops);
        let Some(f) = (*kernel_ops).route_req else {
            return ptr::null_mut();
        };
        let dst = f(sk, skb, fl, req, tw_isn);
        if !dst.is_null() {
            let net = Sock::from_raw(sk.cast_mut()).net();
            subflow::syn_received(net, TcpSegment::from_raw(skb), r);
        }
        dst
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
        let refuse = !rt.is_null()
            && (*rt).rt_flags & (bindings::RTCF_BROADCAST | bindings::RTCF_MULTICAST) != 0;
        conn_request(false, refuse, sk, skb)
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
        conn_request(true, !unicast || v4mapped, sk, skb)
    }
}

/// The kernel's `conn_request` for a SYN it refuses (`refuse`: it drops
/// and counts it as for TCP), else `tcp_conn_request()` with our request
/// ops.
///
/// # Safety
///
/// The arguments of a `conn_request` call on our listener.
unsafe fn conn_request(
    v6: bool,
    refuse: bool,
    sk: *mut bindings::sock,
    skb: *mut bindings::sk_buff,
) -> c_int {
    // SAFETY: per the caller; the ops tables are static.
    unsafe {
        if refuse {
            let kernel = if v6 {
                bindings::ipv6_specific.conn_request
            } else {
                bindings::ipv4_specific.conn_request
            };
            return kernel.map_or(0, |f| f(sk, skb));
        }
        let (ops, ours) = if v6 {
            (
                ptr::addr_of_mut!(bindings::tcp6_request_sock_ops),
                REQ_OPS_V6.get(),
            )
        } else {
            (
                ptr::addr_of_mut!(bindings::tcp_request_sock_ops),
                REQ_OPS_V4.get(),
            )
        };
        bindings::tcp_conn_request(ops, ours, sk, skb)
    }
}

/// `syn_recv_sock` of our listeners: the handshake reads the third ACK's
/// keys ([`third_ack_keys`](subflow::third_ack_keys)), the kernel's
/// creates the child, and the handshake decides whether it runs MPTCP
/// ([`child_created`](subflow::child_created)).
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
    // `own_req` is tcp_check_req()'s out flag, set by the kernel's function.
    // SAFETY: tcp_check_req() (or the syncookie/fast-open paths) passes a
    // live listener, the segment and the request its receive path owns.
    unsafe {
        let listener = Sock::from_raw(sk.cast_mut());
        let orig = if listener.is_v6() {
            bindings::ipv6_specific.syn_recv_sock
        } else {
            bindings::ipv4_specific.syn_recv_sock
        };
        let Some(orig) = orig else {
            return ptr::null_mut();
        };
        let r = TcpRequest::from_raw(req);
        let seg = TcpSegment::from_raw(skb);
        r.keep();
        let keys = subflow::third_ack_keys(listener.net(), seg, r);
        // The connection's msk (`msk_clone.rs`), cloned before the child:
        // its creation holds the child's spinlock, of the class a clone is
        // locked with at first (lockdep would see recursion).  Without one
        // (no memory, the listener closing), accept() creates it.
        let msk = keys.as_ref().and_then(|_| Msk::clone_for_child(listener));
        let child = orig(sk, skb, req, dst, req_unhash, own_req, opt_child_init);
        if child.is_null() {
            if let Some(nsk) = msk {
                Msk::release_ref(nsk);
            }
            return child;
        }
        // The child is locked by its creator (sk_clone_lock) until TCP is
        // done with it, and only this call sees it yet.
        let mut l = TcpSock::from_raw(child).assume_locked();
        subflow::child_created(&mut l, r, seg, keys, *own_req);
        if let Some(nsk) = msk {
            if *own_req && subflow::child_is_mptcp(&l) {
                l.adopt_msk(nsk);
            } else {
                // Both references: a clone no one will accept.
                Msk::release_ref(nsk);
            }
        }
        child
    }
}
