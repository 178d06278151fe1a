// SPDX-License-Identifier: GPL-2.0

//! Per-network-namespace state: the `net.mptcp.*` sysctls and the MIB.
//!
//! Names, types, defaults and accepted ranges follow mainline
//! (`net/mptcp/ctrl.c`, Linux 6.12) so that tools and selftests see the same
//! interface; out-of-range writes fail with `-EINVAL`, an unknown scheduler
//! name with `-ENOENT` (as mainline).

use core::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};

use kernel::bindings;
use kernel::c_str;
use kernel::ffi::{c_int, c_uint};
use kernel::prelude::*;

use crate::sys::Unregister;
use kernel::str::CStr;

use crate::mib::{MIB_MAX, MIB_NAMES};
use crate::sys::pernet::{Entry, Kind, Pernet as Registration, PernetState, SysctlStr, STR_MAX};
use crate::sys::seq_file::NetstatSeq;
use crate::sys::Net;

/// Schedulers this module implements (`net.mptcp.available_schedulers`).
pub(crate) const SCHEDULERS: &[&str] = &["default"];

// The scheduler sysctl's buffer is mainline's size.
const _: () = assert!(bindings::MPTCP_SCHED_NAME_MAX as usize == STR_MAX);

/// `net.mptcp.pm_type`: 0 = in-kernel, 1 = userspace (mainline's values).
const PM_TYPE_MAX: c_uint = 1;

/// Per-namespace state, one per namespace (see `sys/pernet.rs`).
///
/// Locking: the sysctl fields are written by the proc handlers (serialised
/// per file by the sysctl core) and read locklessly (READ_ONCE semantics),
/// as mainline does: they are atomics (same layout as the `c_uint`/`u8` the
/// proc handlers write).  MIB counters and the token count are atomics.
pub(crate) struct Pernet {
    add_addr_timeout: AtomicU32,
    blackhole_timeout: AtomicU32,
    close_timeout: AtomicU32,
    stale_loss_cnt: AtomicU32,
    mptcp_enabled: AtomicU8,
    checksum_enabled: AtomicU8,
    allow_join_initial_addr_port: AtomicU8,
    pm_type: AtomicU8,
    scheduler: SysctlStr,
    mib: [AtomicU64; MIB_MAX],
    /// Tokens this namespace holds in the token table (`token.rs`), at
    /// most the table's limit; changed only by [`token_charge`] and
    /// [`token_uncharge`].
    tokens: AtomicU32,
}

static PERNET: Registration<Pernet> = Registration::new();

// Bounds for the minmax handlers (read-only for the kernel).
static ZERO: c_uint = 0;
static ONE: c_uint = 1;
static PM_TYPE_MAX_VAL: c_uint = PM_TYPE_MAX;
static ZERO_INT: c_int = 0;

impl PernetState for Pernet {
    const SYSCTL_PATH: &'static CStr = c_str!("net/mptcp");

    fn ops() -> &'static Registration<Self> {
        &PERNET
    }

    /// Mainline's defaults.
    fn new() -> Self {
        Self {
            // TCP_RTO_MAX: 120 s.
            add_addr_timeout: AtomicU32::new(kernel::time::msecs_to_jiffies(120_000) as c_uint),
            blackhole_timeout: AtomicU32::new(3600),
            // TCP_TIMEWAIT_LEN: 60 s.
            close_timeout: AtomicU32::new(bindings::TCP_TIMEWAIT_LEN),
            stale_loss_cnt: AtomicU32::new(4),
            mptcp_enabled: AtomicU8::new(1),
            checksum_enabled: AtomicU8::new(0),
            allow_join_initial_addr_port: AtomicU8::new(1),
            pm_type: AtomicU8::new(0),
            scheduler: SysctlStr::new("default"),
            mib: [const { AtomicU64::new(0) }; MIB_MAX],
            tokens: AtomicU32::new(0),
        }
    }

    fn sysctls<'a>(&'a self, add: &mut dyn FnMut(Entry<'a>)) {
        let mut e =
            |name: &'static CStr, mode: u16, kind: Kind<'a>| add(Entry { name, mode, kind });
        let bool8 = |data| Kind::U8 {
            data,
            min: &ZERO,
            max: &ONE,
        };
        e(c_str!("enabled"), 0o644, bool8(&self.mptcp_enabled));
        e(
            c_str!("add_addr_timeout"),
            0o644,
            Kind::JiffiesNonNeg(&self.add_addr_timeout),
        );
        e(
            c_str!("checksum_enabled"),
            0o644,
            bool8(&self.checksum_enabled),
        );
        e(
            c_str!("allow_join_initial_addr_port"),
            0o644,
            bool8(&self.allow_join_initial_addr_port),
        );
        e(
            c_str!("stale_loss_cnt"),
            0o644,
            Kind::Uint(&self.stale_loss_cnt),
        );
        e(
            c_str!("pm_type"),
            0o644,
            Kind::U8 {
                data: &self.pm_type,
                min: &ZERO,
                max: &PM_TYPE_MAX_VAL,
            },
        );
        e(
            c_str!("scheduler"),
            0o644,
            Kind::Str {
                data: &self.scheduler,
                valid: |name| SCHEDULERS.iter().any(|s| s.as_bytes() == name),
            },
        );
        e(
            c_str!("available_schedulers"),
            0o444,
            Kind::StrRo(available_schedulers),
        );
        e(
            c_str!("close_timeout"),
            0o644,
            Kind::JiffiesNonNeg(&self.close_timeout),
        );
        e(
            c_str!("blackhole_timeout"),
            0o644,
            Kind::IntMin {
                data: &self.blackhole_timeout,
                min: &ZERO_INT,
            },
        );
    }
}

/// `net.mptcp.available_schedulers`: the names, space-separated.
fn available_schedulers(buf: &mut [u8]) -> usize {
    let mut n = 0;
    for s in SCHEDULERS {
        let sep = usize::from(n != 0);
        let Some(dst) = buf.get_mut(n..n + sep + s.len()) else {
            break;
        };
        if let Some((first, rest)) = dst.split_first_mut() {
            if sep == 1 {
                *first = b' ';
                rest.copy_from_slice(s.as_bytes());
            } else {
                dst.copy_from_slice(s.as_bytes());
            }
        }
        n += sep + s.len();
    }
    n
}

/// The namespace's state; `None` only while the module is not (or no
/// longer) registered.
pub(crate) fn pernet(net: &Net) -> Option<&Pernet> {
    PERNET.get(net)
}

/// `net.mptcp.enabled` of the namespace of `net`.
pub(crate) fn mptcp_enabled(net: &Net) -> bool {
    pernet(net).is_some_and(|p| p.mptcp_enabled.load(Ordering::Relaxed) != 0)
}

/// `net.mptcp.checksum_enabled` of the namespace of `net`.
pub(crate) fn checksum_enabled(net: &Net) -> bool {
    pernet(net).is_some_and(|p| p.checksum_enabled.load(Ordering::Relaxed) != 0)
}

/// `net.mptcp.close_timeout` of the namespace of `net`, in jiffies: how
/// long a closed connection waits for the DATA_FIN exchange.
pub(crate) fn close_timeout(net: &Net) -> u64 {
    pernet(net).map_or(u64::from(bindings::TCP_TIMEWAIT_LEN), |p| {
        u64::from(p.close_timeout.load(Ordering::Relaxed))
    })
}

/// Adds `val` to MIB counter `id` of the namespace of `net`.
pub(crate) fn mib_add(net: &Net, id: usize, val: u64) {
    if let Some(c) = pernet(net).and_then(|p| p.mib.get(id)) {
        c.fetch_add(val, Ordering::Relaxed);
    }
}

/// Counts one more token for the namespace of `net` unless it already
/// holds `limit`; true if counted.
pub(crate) fn token_charge(net: &Net, limit: usize) -> bool {
    let limit = u32::try_from(limit).unwrap_or(u32::MAX);
    pernet(net).is_some_and(|p| {
        p.tokens
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < limit).then(|| n + 1)
            })
            .is_ok()
    })
}

/// Undoes one [`token_charge`] of the namespace of `net`.
pub(crate) fn token_uncharge(net: &Net) {
    if let Some(p) = pernet(net) {
        // Never below zero, whatever a caller does.
        let _ = p
            .tokens
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }
}

/// Writes the two `MPTcpExt` lines of `/proc/net/netstat`.
pub(crate) fn seq_show(seq: &NetstatSeq) {
    let p = pernet(seq.net());
    let put = |s: &[u8]| seq.write(s);
    put(b"MPTcpExt:");
    for name in MIB_NAMES {
        put(b" ");
        put(name.as_bytes());
    }
    put(b"\nMPTcpExt:");
    for i in 0..MIB_MAX {
        let v = p
            .and_then(|p| p.mib.get(i))
            .map_or(0, |c| c.load(Ordering::Relaxed));
        let mut buf = [0u8; 24];
        let s = fmt_u64(v, &mut buf);
        put(b" ");
        put(s);
    }
    put(b"\n");
}

fn fmt_u64(mut v: u64, buf: &mut [u8; 24]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    &buf[i..]
}

/// Registers the per-namespace state and sysctls (all namespaces, present
/// and future).
pub(crate) fn register() -> Result<Unregister> {
    PERNET.register()?;
    Ok(Unregister::new(unregister))
}

/// Undoes [`register`]: drops every namespace's state and sysctls.
fn unregister() {
    PERNET.unregister();
}
