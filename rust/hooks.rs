// SPDX-License-Identifier: GPL-2.0

//! The ops table this module registers with the kernel's MPTCP hook layer
//! (`include/net/mptcp_hooks.h`, kernel patch 0001).
//!
//! TCP calls the option hooks only for subflows marked `is_mptcp` (see
//! `subflow/`).  Hooks left `None` get the hook layer's "no MPTCP"
//! default.

use kernel::bindings;
use kernel::error::to_result;
use kernel::prelude::*;

use crate::ctl;
use crate::subflow;
use crate::sys::global::Global;
use crate::sys::seq_file::NetstatSeq;
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

/// Kernel callback.
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
    // SAFETY: called from tcp_syn_options() with the socket locked.
    unsafe { subflow::syn_options(sk, size, opts) }
}

/// Kernel callback.
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
    // SAFETY: called from tcp_synack_options() for a request marked MPTCP.
    unsafe { subflow::synack_options(req, size, opts) }
}

/// Kernel callback.
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
    // SAFETY: called from tcp_established_options() with the socket locked.
    unsafe { subflow::established_options(sk, skb, size, remaining, opts) }
}

/// Kernel callback.
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
    // SAFETY: called from tcp_options_write() with room for the size our
    // *_options hook returned.
    unsafe { subflow::write_options(ptr.cast(), opts) }
}

/// Kernel callback.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn incoming_options(
    sk: *mut bindings::sock,
    skb: *mut bindings::sk_buff,
) -> bool {
    // SAFETY: called from the TCP receive path with the socket locked.
    unsafe { subflow::incoming_options(sk, skb) }
}

/// Kernel callback.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn v6_handle_mapped(sk: *mut bindings::sock, mapped: bool) {
    // SAFETY: called from tcp_v6_connect()/syn_recv_sock with the socket locked.
    unsafe { subflow::v6_handle_mapped(sk, mapped) }
}

/// Registers the ops table; fails with -EBUSY if another module owns the
/// hooks.
pub(crate) fn register() -> Result {
    let ops = HOOK_OPS.get();
    // SAFETY: module init, before publication.
    unsafe {
        (*ops).seq_show = Some(seq_show);
        (*ops).syn_options = Some(syn_options);
        (*ops).synack_options = Some(synack_options);
        (*ops).established_options = Some(established_options);
        (*ops).write_options = Some(write_options);
        (*ops).incoming_options = Some(incoming_options);
        (*ops).v6_handle_mapped = Some(v6_handle_mapped);
    }
    // SAFETY: `ops` is static and fully initialised.
    to_result(unsafe { bindings::mptcp_hooks_register(ops) })
}

/// Unregisters; on return no CPU runs one of our hooks (RCU grace period).
pub(crate) fn unregister() {
    // SAFETY: `HOOK_OPS` was registered by `register()`.
    unsafe { bindings::mptcp_hooks_unregister(HOOK_OPS.get()) };
}
