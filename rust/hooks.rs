// SPDX-License-Identifier: GPL-2.0

//! The ops table this module registers with the kernel's MPTCP hook layer
//! (`include/net/mptcp_hooks.h`, kernel patch 0001).
//!
//! TCP calls most hooks only for sockets marked `is_mptcp`; this module
//! does not mark subflows yet (every connection is a plain-TCP fallback,
//! see `protocol.rs`), so today only the MIB hook is live.  Hooks left
//! `None` get the hook layer's "no MPTCP" default.

use kernel::bindings;
use kernel::error::to_result;
use kernel::prelude::*;

use crate::ctl;
use crate::global::Global;

static HOOK_OPS: Global<bindings::mptcp_hook_ops> = {
    // SAFETY: the ops table holds only `Option<fn>` fields.
    unsafe { Global::zeroed() }
};

/// `/proc/net/netstat`: the `MPTcpExt` lines.
unsafe extern "C" fn seq_show(seq: *mut bindings::seq_file) {
    // SAFETY: the hook layer calls this from netstat_seq_show(), whose
    // seq_file's `private` is the namespace.
    unsafe { ctl::seq_show(seq) };
}

/// Registers the ops table; fails with -EBUSY if another module owns the
/// hooks.
pub(crate) fn register() -> Result {
    let ops = HOOK_OPS.get();
    // SAFETY: module init, before publication.
    unsafe { (*ops).seq_show = Some(seq_show) };
    // SAFETY: `ops` is static and fully initialised.
    to_result(unsafe { bindings::mptcp_hooks_register(ops) })
}

/// Unregisters; on return no CPU runs one of our hooks (RCU grace period).
pub(crate) fn unregister() {
    // SAFETY: `HOOK_OPS` was registered by `register()`.
    unsafe { bindings::mptcp_hooks_unregister(HOOK_OPS.get()) };
}
