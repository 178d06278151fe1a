// SPDX-License-Identifier: GPL-2.0

//! The ops table this module registers with the kernel's MPTCP hook layer
//! (`include/net/mptcp_hooks.h`, kernel patch 0001): the C entry points,
//! which turn TCP's arguments into the safe layer's types and call the
//! subflow code.
//!
//! TCP calls the option hooks only for subflows marked `is_mptcp` (see
//! `subflow/`).  Hooks left `None` get the hook layer's "no MPTCP"
//! default.

use kernel::bindings;
use kernel::error::to_result;
use kernel::prelude::*;

use super::global::Global;
use super::opts::OutOptions;
use super::request::TcpRequest;
use super::seq_file::NetstatSeq;
use super::skb::{TcpSegment, TcpSkb};
use super::TcpSock;
use crate::ctl;
use crate::subflow;
use kernel::ffi::c_uint;

static HOOK_OPS: Global<bindings::mptcp_hook_ops> = Global::zeroed();

/// `/proc/net/netstat`: the `MPTcpExt` lines.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn seq_show(seq: *mut bindings::seq_file) {
    // SAFETY: the hook layer calls this from netstat_seq_show(), with the
    // netstat file being shown.
    ctl::seq_show(unsafe { NetstatSeq::from_raw(seq) });
}

/// Stores an option size for TCP: `Some(n)` writes `*size` and means
/// "options", None "none".
///
/// # Safety
///
/// `size` is the out pointer TCP passed to the hook now running.
unsafe fn answer(size: *mut c_uint, n: Option<c_uint>) -> bool {
    match n {
        Some(n) => {
            // SAFETY: the caller guarantees: TCP's out pointer.
            unsafe { *size = n };
            true
        }
        None => false,
    }
}

/// Kernel callback: `tcp_syn_options()` for a socket marked `is_mptcp`.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn syn_options(
    sk: *mut bindings::sock,
    _skb: *const bindings::sk_buff,
    size: *mut c_uint,
    opts: *mut bindings::mptcp_out_options,
) -> bool {
    // SAFETY: called from tcp_syn_options() for a full TCP socket it holds
    // locked, with its out pointers for this call.
    unsafe {
        let l = TcpSock::from_raw(sk).assume_locked();
        answer(size, subflow::syn_options(&l, OutOptions::from_raw(opts)))
    }
}

/// Kernel callback: `tcp_synack_options()` for a request marked MPTCP.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn synack_options(
    req: *const bindings::request_sock,
    size: *mut c_uint,
    opts: *mut bindings::mptcp_out_options,
) -> bool {
    // SAFETY: called from tcp_synack_options() for a request marked MPTCP,
    // which it owns for the call, with its out pointers for this call.
    unsafe {
        let req = TcpRequest::from_raw(req);
        answer(
            size,
            subflow::synack_options(req, OutOptions::from_raw(opts)),
        )
    }
}

/// Kernel callback: `tcp_established_options()` for a socket marked
/// `is_mptcp`.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn established_options(
    sk: *mut bindings::sock,
    skb: *mut bindings::sk_buff,
    size: *mut c_uint,
    remaining: c_uint,
    opts: *mut bindings::mptcp_out_options,
) -> bool {
    // SAFETY: called from tcp_established_options() for a full TCP socket
    // it holds locked; `skb` is null (an MSS estimate) or the segment being
    // transmitted; the out pointers are for this call.
    unsafe {
        let l = TcpSock::from_raw(sk).assume_locked();
        let skb = (!skb.is_null()).then(|| TcpSkb::from_raw(skb));
        let opts = OutOptions::from_raw(opts);
        answer(size, subflow::established_options(&l, skb, remaining, opts))
    }
}

/// Kernel callback: `tcp_options_write()` copies the options one of the
/// hooks above chose.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn write_options(
    _th: *mut bindings::tcphdr,
    ptr: *mut bindings::__be32,
    _tp: *mut bindings::tcp_sock,
    opts: *mut bindings::mptcp_out_options,
) {
    // SAFETY: `opts` is what our *_options hook filled for this segment,
    // and `ptr` has room for the size it returned (`opts.bytes()`).
    unsafe {
        let b = OutOptions::from_raw(opts).bytes();
        core::ptr::copy_nonoverlapping(b.as_ptr(), ptr.cast::<u8>(), b.len());
    }
}

/// Kernel callback: the TCP receive path, for a socket marked
/// `is_mptcp`; false drops the segment.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn incoming_options(
    sk: *mut bindings::sock,
    skb: *mut bindings::sk_buff,
) -> bool {
    // SAFETY: called from TCP's receive path for a full TCP socket it holds
    // locked, with the received segment it owns (header pulled).
    unsafe {
        let mut l = TcpSock::from_raw(sk).assume_locked();
        subflow::incoming_options(&mut l, TcpSegment::from_raw(skb))
    }
}

/// Kernel callback: `mptcpv6_handle_mapped`: TCP switched a v6 subflow to
/// the v4-mapped operations (`ipv6_mapped`: a client connecting to
/// `::ffff:a.b.c.d`, or the child of a dual-stack listener for an IPv4
/// client), or back (`mapped` false: that connect failed).  The subflow
/// stays MPTCP: our wrappers go on top of those ops, as mainline's
/// `subflow_v6m_specific`.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn v6_handle_mapped(sk: *mut bindings::sock, mapped: bool) {
    // SAFETY: called from tcp_v6_connect()/syn_recv_sock with the socket
    // locked (its one entry here).
    unsafe { TcpSock::from_raw(sk).assume_locked().v6_mapped(mapped) }
}

/// Kernel callback: `mptcp_space()`, from `__tcp_select_window()`: the
/// receive space a subflow of ours announces (`*space` arrives as TCP's
/// `tcp_space()`).
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn space(
    ssk: *const bindings::sock,
    space: *mut kernel::ffi::c_int,
    _full_space: *mut kernel::ffi::c_int,
) {
    // SAFETY: TCP chooses the window of a full TCP socket it holds locked
    // (sending a segment, or tcp_cleanup_rbuf()), with its out pointers.
    unsafe {
        let l = TcpSock::from_raw(ssk.cast_mut()).assume_locked();
        *space = subflow::rcv_space(&l, *space);
    }
}

/// The `sk_data_ready` of our subflows (installed at attach, the
/// socket's own kept in its context).
///
/// # Safety
///
/// Only the kernel calls this, as a socket's `sk_data_ready`, for a full
/// TCP socket it holds locked.
pub(crate) unsafe extern "C" fn subflow_data_ready(sk: *mut bindings::sock) {
    // SAFETY: TCP calls `sk_data_ready` for a live full TCP socket, locked
    // (by its owner or by softirq) for the whole call.
    let mut l = unsafe { TcpSock::from_raw(sk).assume_locked() };
    subflow::data_ready(&mut l);
}

static HOOKS_CLAIM: super::Claim = super::Claim::new();

/// Registers the ops table (EBUSY if another module owns the hooks, or if
/// it is registered already); dropping the result unregisters it.
pub(crate) fn register() -> Result<super::Unregister> {
    if !HOOKS_CLAIM.claim() {
        return Err(EBUSY);
    }
    let ops = HOOK_OPS.get();
    // SAFETY: not registered (the claim above), so nobody else reads it.
    unsafe {
        (*ops).seq_show = Some(seq_show);
        (*ops).syn_options = Some(syn_options);
        (*ops).synack_options = Some(synack_options);
        (*ops).established_options = Some(established_options);
        (*ops).write_options = Some(write_options);
        (*ops).incoming_options = Some(incoming_options);
        (*ops).v6_handle_mapped = Some(v6_handle_mapped);
        (*ops).space = Some(space);
    }
    // SAFETY: `ops` is static and fully initialised.
    if let Err(e) = to_result(unsafe { bindings::mptcp_hooks_register(ops) }) {
        HOOKS_CLAIM.release();
        return Err(e);
    }
    Ok(super::Unregister::new(unregister))
}

/// Unregisters (if registered); on return no CPU runs one of our hooks
/// (RCU grace period).
fn unregister() {
    if HOOKS_CLAIM.release() {
        // SAFETY: registered by `register()` (the claim).
        unsafe { bindings::mptcp_hooks_unregister(HOOK_OPS.get()) };
    }
}
