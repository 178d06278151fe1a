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
//! Status (issue 9): all the glue is written on this layer.  `sock.rs`
//! covers the socket lock (our guards, and `TcpLocked`, the lock a kernel
//! callback runs under), the socket flags, errors and timeouts, and the
//! TCP fields the receive, read and ioctl paths use; `skb.rs` the skbs of
//! a locked socket, their MPTCP mapping and received segments;
//! `request.rs` a listener's request socks; `hooks.rs` (the hook layer's
//! ops), `subflow_ops.rs` (af_ops and request ops) and `ulp.rs` (the
//! "mptcp" ULP and the subflow's slot) the C entry points of the subflow
//! side; `msk.rs` (the msk, its socket, its subflow socket and the call
//! arguments), `msk_proto.rs` (its `struct proto`/`proto_ops`), `msk_rx.rs` (its
//! receive queue) and
//! `diag.rs` (`ss -M`) those of the msk; `inet.rs` addresses and
//! `tcp_info`; `uaccess.rs` user memory; `socket.rs` a forwarded recvmsg
//! and an owned subflow socket; `work.rs` a static delayed work; `net.rs`
//! the namespace; `pernet.rs` per-namespace state with its sysctls (C
//! entry points included); `seq_file.rs` the netstat file; `sync.rs` the
//! BH spinlock of the module's lists and tables; `global.rs` static C
//! tables, the key secret and module-lifetime data.  Outside this layer
//! one `unsafe` is left: module exit taking the token table back
//! (`token.rs`; `scripts/unsafe-count.sh` counts per file).

pub(crate) mod diag;
pub(crate) mod global;
pub(crate) mod hooks;
pub(crate) mod inet;
pub(crate) mod msk;
pub(crate) mod msk_clone;
pub(crate) mod msk_proto;
pub(crate) mod msk_rx;
pub(crate) mod net;
pub(crate) mod opts;
pub(crate) mod pernet;
pub(crate) mod request;
pub(crate) mod seq_file;
pub(crate) mod skb;
pub(crate) mod sock;
pub(crate) mod socket;
pub(crate) mod subflow_ops;
pub(crate) mod sync;
pub(crate) mod uaccess;
pub(crate) mod ulp;
pub(crate) mod work;

pub(crate) use net::Net;
pub(crate) use sock::{Sock, TcpLocked, TcpSock};

/// Jiffies per second: the kernel's `HZ` (`CONFIG_HZ`).  Not
/// `bindings::HZ`, which is the user-space value of the uapi header (100).
pub(crate) const HZ: u64 = kernel::bindings::CONFIG_HZ as u64;

/// `jiffies`.
pub(crate) fn jiffies() -> kernel::ffi::c_ulong {
    // SAFETY: `jiffies` is a kernel global, always readable; a volatile
    // read, as READ_ONCE(jiffies).
    unsafe { core::ptr::read_volatile(core::ptr::addr_of!(kernel::bindings::jiffies)) }
}

/// Now, in µs of the monotonic clock (`ktime_get()`, as mainline's
/// `mptcp_stamp()`).
pub(crate) fn now_us() -> u64 {
    // SAFETY: reads the monotonic clock; callable from any context.
    let ns = unsafe { kernel::bindings::ktime_get() };
    u64::try_from(ns).unwrap_or(0) / 1000
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

/// The machine's RAM in octets (`si_meminfo()`: totalram * mem_unit).
pub(crate) fn totalram_bytes() -> usize {
    let mut si = core::mem::MaybeUninit::<kernel::bindings::sysinfo>::zeroed();
    // SAFETY: `si` is a writable `struct sysinfo`; si_meminfo() fills it.
    unsafe { kernel::bindings::si_meminfo(si.as_mut_ptr()) };
    // SAFETY: zeroed (a valid sysinfo: integers only), then filled.
    let si = unsafe { si.assume_init() };
    // `mem_unit` (a u32) fits a usize on every 64-bit target.
    si.totalram.saturating_mul(si.mem_unit as usize)
}

/// A random 64-bit number (`get_random_u64()`).
pub(crate) fn random_u64() -> u64 {
    // SAFETY: a kernel function without preconditions.
    unsafe { kernel::bindings::get_random_u64() }
}

/// A registration with the kernel that ends when this is dropped: holds
/// the function that undoes it.  The module keeps one per table it
/// registers, in the reverse order of registration (`mptcp_rs.rs`), so
/// an init that fails half-way and module exit undo the same steps.
#[must_use = "dropping it unregisters at once"]
pub(crate) struct Unregister(fn());

impl Unregister {
    /// `undo` undoes a registration that just succeeded.  Each `undo` of
    /// this module does nothing when its table is not registered, so a
    /// stray guard cannot unregister what is not there.
    pub(crate) fn new(undo: fn()) -> Self {
        Self(undo)
    }
}

impl Drop for Unregister {
    fn drop(&mut self) {
        (self.0)();
    }
}

/// A "registered" flag of a kernel table: [`claim`](Self::claim) lets
/// exactly one registration through, [`release`](Self::release) lets one
/// unregistration through.
pub(crate) struct Claim(core::sync::atomic::AtomicBool);

impl Claim {
    pub(crate) const fn new() -> Self {
        Self(core::sync::atomic::AtomicBool::new(false))
    }

    /// Whether the caller may register (false: registered already).
    pub(crate) fn claim(&self) -> bool {
        use core::sync::atomic::Ordering;
        self.0
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Whether the caller may unregister (false: not registered).
    pub(crate) fn release(&self) -> bool {
        self.0.swap(false, core::sync::atomic::Ordering::AcqRel)
    }
}
