// SPDX-License-Identifier: GPL-2.0

//! The safe layer over the kernel objects the protocol code touches.
//!
//! A kernel object is reached as a borrowed wrapper (`&Sock`, `&TcpSock`),
//! created once from a raw pointer by an `unsafe fn from_raw` whose caller
//! states that the object is live for the borrow; after that every method
//! is safe, and the `unsafe` blocks inside say which invariant they rely
//! on.  Locks are guards ([`sock::SockGuard`]) that unlock on drop, and
//! what may only be read under a lock is only reachable through its guard.
//!
//! Status (issue 9): `sock.rs` covers the socket lock, the socket flags,
//! errors and timeouts, and the TCP sequence numbers the read and ioctl
//! paths use; `net.rs` the namespace; `pernet.rs` per-namespace state with
//! its sysctls (C entry points included); `sync.rs` the BH spinlock of the
//! module's lists and tables; `global.rs` static C tables.  The other glue
//! files still dereference bindings directly (their `unsafe` blocks each
//! carry a SAFETY comment); they move here file by file
//! (`scripts/unsafe-count.sh` counts them).

pub(crate) mod global;
pub(crate) mod net;
pub(crate) mod pernet;
pub(crate) mod sock;
pub(crate) mod sync;

pub(crate) use net::Net;
pub(crate) use sock::{Sock, TcpSock};

/// `jiffies`.
pub(crate) fn jiffies() -> kernel::ffi::c_ulong {
    // SAFETY: `jiffies` is a kernel global, always readable; a volatile
    // read, as READ_ONCE(jiffies).
    unsafe { core::ptr::read_volatile(core::ptr::addr_of!(kernel::bindings::jiffies)) }
}

/// `jiffies`, low 32 bits (`tcp_jiffies32`).
pub(crate) fn jiffies32() -> u32 {
    jiffies() as u32
}

/// `jiffies_to_msecs()`.
pub(crate) fn jiffies_to_msecs(j: u32) -> u32 {
    // SAFETY: a pure conversion.
    unsafe { kernel::bindings::jiffies_to_msecs(j as _) }
}

/// Whether the current task has a signal pending (`signal_pending()`).
pub(crate) fn signal_pending() -> bool {
    // SAFETY: `get_current()` is the running task, live while it runs.
    unsafe { kernel::bindings::signal_pending(kernel::bindings::get_current()) != 0 }
}
