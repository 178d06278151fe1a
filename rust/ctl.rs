// SPDX-License-Identifier: GPL-2.0

//! Per-network-namespace state: the `net.mptcp.*` sysctls and the MIB.
//!
//! Names, types, defaults and accepted ranges follow mainline
//! (`net/mptcp/ctrl.c`, Linux 6.12) so that tools and selftests see the same
//! interface; out-of-range writes fail with `-EINVAL`, an unknown scheduler
//! name with `-ENOENT` (as mainline).

use core::cell::UnsafeCell;
use core::ffi::c_void;
use core::ptr;
use core::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};

use kernel::bindings;
use kernel::c_str;
use kernel::error::to_result;
use kernel::ffi::{c_char, c_int, c_uint};
use kernel::prelude::*;

use crate::mib::{MIB_MAX, MIB_NAMES};
use crate::sys::global::Global;
use crate::sys::Net;

/// Schedulers this module implements (`net.mptcp.available_schedulers`).
pub(crate) const SCHEDULERS: &[&str] = &["default"];

const SCHED_NAME_MAX: usize = bindings::MPTCP_SCHED_NAME_MAX as usize;

/// `net.mptcp.pm_type`: 0 = in-kernel, 1 = userspace (mainline's values).
const PM_TYPE_MAX: c_uint = 1;

/// Per-namespace state, allocated and zeroed by the netns core
/// (`pernet_operations.size`) and found with `net_generic()`.
///
/// Locking: the sysctl fields are written by the proc handlers (serialised
/// per file by the sysctl core, through `ctl_table.data`) and read
/// locklessly (READ_ONCE semantics), as mainline does: the scalar ones are
/// atomics (same layout as the `c_uint`/`u8` the proc handlers write), the
/// scheduler name is only reached by its proc handler.  MIB counters and
/// the token count are atomics.  `ctl_table_hdr` is written by
/// [`pernet_init`] and [`pernet_exit`] only, when no socket of the
/// namespace exists.
#[repr(C)]
pub(crate) struct Pernet {
    ctl_table_hdr: *mut bindings::ctl_table_header,
    add_addr_timeout: AtomicU32,
    blackhole_timeout: AtomicU32,
    close_timeout: AtomicU32,
    stale_loss_cnt: AtomicU32,
    mptcp_enabled: AtomicU8,
    checksum_enabled: AtomicU8,
    allow_join_initial_addr_port: AtomicU8,
    pm_type: AtomicU8,
    scheduler: UnsafeCell<[u8; SCHED_NAME_MAX]>,
    mib: [AtomicU64; MIB_MAX],
    /// Tokens this namespace holds in the token table (`token.rs`), at
    /// most the table's limit; changed only by [`token_charge`] and
    /// [`token_uncharge`].
    tokens: AtomicU32,
}

static PERNET_ID: Global<c_uint> = Global::new(0);

static PERNET_OPS: Global<bindings::pernet_operations> = Global::zeroed();

// Bounds for the proc_*_minmax handlers (read-only for the kernel).
static ZERO: c_uint = 0;
static ONE: c_uint = 1;
static PM_TYPE_MAX_VAL: c_uint = PM_TYPE_MAX;

/// The raw pernet area of `net`, for its init and exit handlers.
///
/// # Safety
///
/// `net` must be a live namespace and the pernet ops registered.
unsafe fn pernet_ptr(net: *const bindings::net) -> *mut Pernet {
    // SAFETY: per the caller, `net` is live and `PERNET_ID` was assigned by
    // `register_pernet_subsys()` (written once before any namespace could
    // reach this module).
    unsafe { bindings::net_generic(net, *PERNET_ID.get()).cast() }
}

/// The namespace's state.
///
/// Every `&Net` the glue holds belongs to a socket of ours or to a
/// namespace being set up or torn down while our pernet ops are registered
/// (module init registers them before the protocol and hooks, exit removes
/// them after): its pernet area was allocated and set up by
/// [`pernet_init`] and stays until after its last socket is gone.
pub(crate) fn pernet(net: &Net) -> &Pernet {
    // SAFETY: `net` is live for the borrow (`Net`'s invariant) and has our
    // pernet state (above); shared access is sound, as every field written
    // concurrently is atomic or behind `UnsafeCell` (type doc).
    unsafe { &*pernet_ptr(net.as_ptr()) }
}

/// `net.mptcp.enabled` of the namespace of `net`.
pub(crate) fn mptcp_enabled(net: &Net) -> bool {
    pernet(net).mptcp_enabled.load(Ordering::Relaxed) != 0
}

/// `net.mptcp.checksum_enabled` of the namespace of `net`.
pub(crate) fn checksum_enabled(net: &Net) -> bool {
    pernet(net).checksum_enabled.load(Ordering::Relaxed) != 0
}

/// `net.mptcp.close_timeout` of the namespace of `net`, in jiffies: how
/// long a closed connection waits for the DATA_FIN exchange.
pub(crate) fn close_timeout(net: &Net) -> u64 {
    u64::from(pernet(net).close_timeout.load(Ordering::Relaxed))
}

/// Adds `val` to MIB counter `id` of the namespace of `net`.
pub(crate) fn mib_add(net: &Net, id: usize, val: u64) {
    if let Some(c) = pernet(net).mib.get(id) {
        c.fetch_add(val, Ordering::Relaxed);
    }
}

/// Counts one more token for the namespace of `net` unless it already
/// holds `limit`; true if counted.
pub(crate) fn token_charge(net: &Net, limit: usize) -> bool {
    let limit = u32::try_from(limit).unwrap_or(u32::MAX);
    let p = pernet(net);
    p.tokens
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
            (n < limit).then(|| n + 1)
        })
        .is_ok()
}

/// Undoes one [`token_charge`] of the namespace of `net`.
pub(crate) fn token_uncharge(net: &Net) {
    // Never below zero, whatever a caller does.
    let _ = pernet(net)
        .tokens
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
}

fn set_defaults(p: &mut Pernet) {
    *p.mptcp_enabled.get_mut() = 1;
    // TCP_RTO_MAX: 120 s.
    *p.add_addr_timeout.get_mut() = kernel::time::msecs_to_jiffies(120_000) as c_uint;
    *p.blackhole_timeout.get_mut() = 3600;
    // TCP_TIMEWAIT_LEN: 60 s.
    *p.close_timeout.get_mut() = bindings::TCP_TIMEWAIT_LEN;
    *p.checksum_enabled.get_mut() = 0;
    *p.allow_join_initial_addr_port.get_mut() = 1;
    *p.stale_loss_cnt.get_mut() = 4;
    *p.pm_type.get_mut() = 0;
    let sched = p.scheduler.get_mut();
    *sched = [0; SCHED_NAME_MAX];
    let name = b"default";
    if let Some(dst) = sched.get_mut(..name.len()) {
        dst.copy_from_slice(name);
    }
}

type Handler = unsafe extern "C" fn(
    *const bindings::ctl_table,
    c_int,
    *mut c_void,
    *mut usize,
    *mut bindings::loff_t,
) -> c_int;

/// One sysctl: name, field offset in [`Pernet`], size, mode, handler, bounds.
struct Entry {
    name: &'static CStr,
    data: fn(&mut Pernet) -> *mut c_void,
    maxlen: usize,
    mode: u16,
    handler: Handler,
    min: Option<&'static c_uint>,
    max: Option<&'static c_uint>,
}

const fn entry(
    name: &'static CStr,
    data: fn(&mut Pernet) -> *mut c_void,
    maxlen: usize,
    mode: u16,
    handler: Handler,
    min: Option<&'static c_uint>,
    max: Option<&'static c_uint>,
) -> Entry {
    Entry {
        name,
        data,
        maxlen,
        mode,
        handler,
        min,
        max,
    }
}

const U8: usize = core::mem::size_of::<u8>();
const UINT: usize = core::mem::size_of::<c_uint>();

static TABLE: [Entry; 10] = [
    entry(
        c_str!("enabled"),
        |p| ptr::addr_of_mut!(p.mptcp_enabled).cast(),
        U8,
        0o644,
        bindings::proc_dou8vec_minmax,
        Some(&ZERO),
        Some(&ONE),
    ),
    entry(
        c_str!("add_addr_timeout"),
        |p| ptr::addr_of_mut!(p.add_addr_timeout).cast(),
        UINT,
        0o644,
        proc_jiffies_nonneg,
        None,
        None,
    ),
    entry(
        c_str!("checksum_enabled"),
        |p| ptr::addr_of_mut!(p.checksum_enabled).cast(),
        U8,
        0o644,
        bindings::proc_dou8vec_minmax,
        Some(&ZERO),
        Some(&ONE),
    ),
    entry(
        c_str!("allow_join_initial_addr_port"),
        |p| ptr::addr_of_mut!(p.allow_join_initial_addr_port).cast(),
        U8,
        0o644,
        bindings::proc_dou8vec_minmax,
        Some(&ZERO),
        Some(&ONE),
    ),
    entry(
        c_str!("stale_loss_cnt"),
        |p| ptr::addr_of_mut!(p.stale_loss_cnt).cast(),
        UINT,
        0o644,
        bindings::proc_douintvec_minmax,
        None,
        None,
    ),
    entry(
        c_str!("pm_type"),
        |p| ptr::addr_of_mut!(p.pm_type).cast(),
        U8,
        0o644,
        bindings::proc_dou8vec_minmax,
        Some(&ZERO),
        Some(&PM_TYPE_MAX_VAL),
    ),
    entry(
        c_str!("scheduler"),
        |p| p.scheduler.get().cast(),
        SCHED_NAME_MAX,
        0o644,
        proc_scheduler,
        None,
        None,
    ),
    entry(
        c_str!("available_schedulers"),
        |p| p.scheduler.get().cast(),
        SCHED_NAME_MAX * 8,
        0o444,
        proc_available_schedulers,
        None,
        None,
    ),
    entry(
        c_str!("close_timeout"),
        |p| ptr::addr_of_mut!(p.close_timeout).cast(),
        UINT,
        0o644,
        proc_jiffies_nonneg,
        None,
        None,
    ),
    entry(
        c_str!("blackhole_timeout"),
        |p| ptr::addr_of_mut!(p.blackhole_timeout).cast(),
        UINT,
        0o644,
        bindings::proc_dointvec_minmax,
        Some(&ZERO),
        None,
    ),
];

/// `proc_dointvec_jiffies` that also rejects negative values with -EINVAL
/// (mainline would store them and wrap).
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn proc_jiffies_nonneg(
    ctl: *const bindings::ctl_table,
    write: c_int,
    buffer: *mut c_void,
    lenp: *mut usize,
    ppos: *mut bindings::loff_t,
) -> c_int {
    // SAFETY: the sysctl core passes a valid table whose `data` points to a
    // `c_uint` field of a live `Pernet`.
    let data = unsafe { (*ctl).data }.cast::<c_int>();
    // SAFETY: `data` is valid, see above.
    let mut val: c_int = unsafe { ptr::read_volatile(data) };
    // SAFETY: `ctl` is valid; we copy it to redirect `data` to a local.
    let mut tmp = unsafe { ptr::read(ctl) };
    tmp.data = ptr::addr_of_mut!(val).cast();
    // SAFETY: `tmp` is a valid table for an `int`; the buffers come from the
    // sysctl core.
    let ret = unsafe { bindings::proc_dointvec_jiffies(&tmp, write, buffer, lenp, ppos) };
    if write != 0 && ret == 0 {
        if val < 0 {
            return -(bindings::EINVAL as c_int);
        }
        // SAFETY: `data` is valid, see above.
        unsafe { ptr::write_volatile(data, val) };
    }
    ret
}

/// `net.mptcp.scheduler`: accepts only names in [`SCHEDULERS`].
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn proc_scheduler(
    ctl: *const bindings::ctl_table,
    write: c_int,
    buffer: *mut c_void,
    lenp: *mut usize,
    ppos: *mut bindings::loff_t,
) -> c_int {
    // SAFETY: `data` points to `Pernet::scheduler` of a live namespace.
    let cur = unsafe { &mut *(*ctl).data.cast::<[u8; SCHED_NAME_MAX]>() };
    let mut val = *cur;
    // SAFETY: `ctl` is valid.
    let mut tmp = unsafe { ptr::read(ctl) };
    tmp.data = val.as_mut_ptr().cast();
    tmp.maxlen = SCHED_NAME_MAX as c_int;
    // SAFETY: `tmp` describes `val`, a NUL-terminated buffer of `maxlen`.
    let ret = unsafe { bindings::proc_dostring(&tmp, write, buffer, lenp, ppos) };
    if write != 0 && ret == 0 {
        let len = val.iter().position(|&b| b == 0).unwrap_or(SCHED_NAME_MAX);
        let name = val.get(..len).unwrap_or(&[]);
        if !SCHEDULERS.iter().any(|s| s.as_bytes() == name) {
            return -(bindings::ENOENT as c_int);
        }
        *cur = val;
    }
    ret
}

/// `net.mptcp.available_schedulers`: read-only list.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn proc_available_schedulers(
    ctl: *const bindings::ctl_table,
    write: c_int,
    buffer: *mut c_void,
    lenp: *mut usize,
    ppos: *mut bindings::loff_t,
) -> c_int {
    let mut list = [0u8; SCHED_NAME_MAX * 8];
    let mut n = 0;
    for s in SCHEDULERS {
        let sep = usize::from(n != 0);
        if let Some(dst) = list.get_mut(n..n + sep + s.len()) {
            if sep == 1 {
                dst[0] = b' ';
            }
            dst[sep..].copy_from_slice(s.as_bytes());
            n += sep + s.len();
        }
    }
    // SAFETY: `ctl` is valid.
    let mut tmp = unsafe { ptr::read(ctl) };
    tmp.data = list.as_mut_ptr().cast();
    tmp.maxlen = list.len() as c_int;
    // SAFETY: `tmp` describes `list`, NUL-terminated (last byte never written).
    unsafe { bindings::proc_dostring(&tmp, write, buffer, lenp, ppos) }
}

/// Kernel callback.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn pernet_init(net: *mut bindings::net) -> c_int {
    // SAFETY: the netns core calls us with a live `net` whose generic area of
    // `size_of::<Pernet>()` zeroed bytes was allocated for `PERNET_ID`.
    let p = unsafe { &mut *pernet_ptr(net) };
    set_defaults(p);

    let n = TABLE.len();
    let Ok(layout) = core::alloc::Layout::array::<bindings::ctl_table>(n) else {
        return -(bindings::ENOMEM as c_int);
    };
    // SAFETY: non-zero size; freed in `pernet_exit`.
    let table: *mut bindings::ctl_table = unsafe {
        bindings::krealloc(
            ptr::null(),
            layout.size(),
            bindings::GFP_KERNEL | bindings::__GFP_ZERO,
        )
    }
    .cast();
    if table.is_null() {
        return -(bindings::ENOMEM as c_int);
    }
    for (i, e) in TABLE.iter().enumerate() {
        // SAFETY: `table` has room for `n` zeroed entries.
        let t = unsafe { &mut *table.add(i) };
        t.procname = e.name.as_char_ptr();
        t.data = (e.data)(p);
        t.maxlen = e.maxlen as c_int;
        t.mode = e.mode;
        t.proc_handler = Some(e.handler);
        t.extra1 = e
            .min
            .map_or(ptr::null_mut(), |v| (v as *const c_uint).cast_mut().cast());
        t.extra2 = e
            .max
            .map_or(ptr::null_mut(), |v| (v as *const c_uint).cast_mut().cast());
    }
    // SAFETY: `table` holds `n` initialised entries that stay alive until
    // `unregister_net_sysctl_table()` in `pernet_exit`.
    let hdr = unsafe {
        bindings::register_net_sysctl_sz(net, c_str!("net/mptcp").as_char_ptr(), table, n)
    };
    if hdr.is_null() {
        // SAFETY: allocated above, never published.
        unsafe { bindings::kfree(table.cast()) };
        return -(bindings::ENOMEM as c_int);
    }
    p.ctl_table_hdr = hdr;
    0
}

/// Kernel callback.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn pernet_exit(net: *mut bindings::net) {
    // SAFETY: `net` is live until its exit handlers return.
    let p = unsafe { &mut *pernet_ptr(net) };
    let hdr = core::mem::replace(&mut p.ctl_table_hdr, ptr::null_mut());
    if hdr.is_null() {
        return;
    }
    // SAFETY: `hdr` came from `register_net_sysctl_sz()`; `ctl_table_arg`
    // is the table we allocated, freed once the sysctl is gone.
    unsafe {
        let table = (*hdr).ctl_table_arg;
        bindings::unregister_net_sysctl_table(hdr);
        bindings::kfree(table.cast());
    }
}

/// Writes the two `MPTcpExt` lines of `/proc/net/netstat`.
///
/// # Safety
///
/// `seq` must be the netstat seq_file, whose `private` is the namespace.
pub(crate) unsafe fn seq_show(seq: *mut bindings::seq_file) {
    // SAFETY: `seq` is the netstat seq_file and its `private` the live namespace (# Safety).
    let net = unsafe { (*seq).private }.cast::<bindings::net>();
    // SAFETY: `net` is the live namespace of the file.
    let p = pernet(unsafe { Net::from_raw(net) });
    let put = |s: &[u8]| {
        // SAFETY: `seq` is valid and `s` is a live buffer.
        unsafe { bindings::seq_write(seq, s.as_ptr().cast(), s.len()) };
    };
    put(b"MPTcpExt:");
    for name in MIB_NAMES {
        put(b" ");
        put(name.as_bytes());
    }
    put(b"\nMPTcpExt:");
    for c in &p.mib {
        let mut buf = [0u8; 24];
        let s = fmt_u64(c.load(Ordering::Relaxed), &mut buf);
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
pub(crate) fn register() -> Result {
    let ops = PERNET_OPS.get();
    // SAFETY: module init, before registration: nobody else accesses `ops`.
    unsafe {
        (*ops).init = Some(pernet_init);
        (*ops).exit = Some(pernet_exit);
        (*ops).id = PERNET_ID.get();
        (*ops).size = core::mem::size_of::<Pernet>();
    }
    // SAFETY: `ops` is fully initialised and static.
    to_result(unsafe { bindings::register_pernet_subsys(ops) })
}

/// Undoes [`register`]; runs `pernet_exit` for every namespace.
pub(crate) fn unregister() {
    // SAFETY: registered by `register()`.
    unsafe { bindings::unregister_pernet_subsys(PERNET_OPS.get()) };
}

#[allow(dead_code)]
fn _assert_char(_: *const c_char) {}
