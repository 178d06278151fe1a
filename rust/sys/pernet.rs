// SPDX-License-Identifier: GPL-2.0

//! Per-namespace state ([`Pernet`]) with its sysctl table.
//!
//! A type implementing [`PernetState`] gets one value per network namespace,
//! created when the namespace is (or, at registration, for every existing
//! one) and dropped when it goes, and its sysctls registered under
//! [`PernetState::SYSCTL_PATH`] for exactly as long.  The netns core
//! allocates the area (`pernet_operations.size`); the C entry points
//! (`init`/`exit`) and the sysctl proc handlers of the kinds in [`Kind`]
//! are here, so the user writes no `unsafe`.

use core::cell::UnsafeCell;
use core::ffi::c_void;
use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering};

use kernel::bindings;
use kernel::error::to_result;
use kernel::ffi::{c_int, c_uint};
use kernel::prelude::*;
use kernel::str::CStr;

use super::global::Global;
use super::Net;

/// The largest string sysctl ([`Kind::Str`]) value, NUL included.
pub(crate) const STR_MAX: usize = 16;

/// The value of a string sysctl ([`Kind::Str`]): NUL-terminated, at most
/// `STR_MAX - 1` octets.  Reached only by its proc handler (the sysctl
/// core serialises writes per file); nothing reads it elsewhere yet (one
/// scheduler).
pub(crate) struct SysctlStr(UnsafeCell<[u8; STR_MAX]>);

// SAFETY: the buffer is reached only by `proc_str`, whose writes the sysctl
// core serialises per file (a concurrent read there may see a torn name,
// as in the C handler it mirrors, never an invalid byte).
unsafe impl Sync for SysctlStr {}
// SAFETY: plain bytes.
unsafe impl Send for SysctlStr {}

impl SysctlStr {
    /// A value holding `init` (truncated to `STR_MAX - 1` octets).
    pub(crate) fn new(init: &str) -> Self {
        let mut b = [0u8; STR_MAX];
        let n = init.len().min(STR_MAX - 1);
        if let (Some(dst), Some(src)) = (b.get_mut(..n), init.as_bytes().get(..n)) {
            dst.copy_from_slice(src);
        }
        Self(UnsafeCell::new(b))
    }
}

/// How a sysctl reads and writes its value.
pub(crate) enum Kind<'a> {
    /// A `u8` within `min..=max` (`proc_dou8vec_minmax`).
    U8 {
        data: &'a AtomicU8,
        min: &'static c_uint,
        max: &'static c_uint,
    },
    /// An unsigned int (`proc_douintvec_minmax`, no bounds).
    Uint(&'a AtomicU32),
    /// An int, at least `min` (`proc_dointvec_minmax`).
    IntMin {
        data: &'a AtomicU32,
        min: &'static c_int,
    },
    /// Jiffies shown and set in seconds (`proc_dointvec_jiffies`), a
    /// negative value refused with EINVAL (mainline would store it).
    JiffiesNonNeg(&'a AtomicU32),
    /// A string of at most `STR_MAX - 1` octets; a write must satisfy
    /// `valid`, else ENOENT.
    Str {
        data: &'a SysctlStr,
        valid: fn(&[u8]) -> bool,
    },
    /// A read-only string that `fill` writes (at most `STR_MAX * 8 - 1`
    /// octets), returning its length.
    StrRo(fn(&mut [u8]) -> usize),
}

/// One sysctl: its name under the table's path, its mode and its value.
pub(crate) struct Entry<'a> {
    pub(crate) name: &'static CStr,
    pub(crate) mode: u16,
    pub(crate) kind: Kind<'a>,
}

/// A type with one value per namespace.
pub(crate) trait PernetState: Sized + Send + Sync + 'static {
    /// Where its sysctls go (`net/mptcp`).
    const SYSCTL_PATH: &'static CStr;
    /// The registration (a `static`) that holds the ops.
    fn ops() -> &'static Pernet<Self>;
    /// The value for a new namespace.
    fn new() -> Self;
    /// Its sysctls, pointing into `self`, each passed to `add`; at most
    /// [`MAX_SYSCTLS`].
    fn sysctls<'a>(&'a self, add: &mut dyn FnMut(Entry<'a>));
}

/// Most sysctls one [`PernetState`] may have.
pub(crate) const MAX_SYSCTLS: usize = 16;

/// The area the netns core allocates per namespace.
struct Slot<T> {
    state: T,
    /// The sysctl table's header; its `ctl_table_arg` is our allocation.
    hdr: *mut bindings::ctl_table_header,
}

/// The registration of a [`PernetState`]: a `static`.
///
/// # Invariants
///
/// `ops` and `id` are written only by [`Pernet::register`] before the
/// kernel sees them (then by the kernel's own registration, which assigns
/// `id`); `live` is set once every existing namespace has its `Slot`, and
/// cleared before [`Pernet::unregister`] drops them.
pub(crate) struct Pernet<T> {
    ops: Global<bindings::pernet_operations>,
    id: Global<c_uint>,
    live: AtomicBool,
    /// Registered with the kernel (one registration at a time).
    claim: super::Claim,
    _t: core::marker::PhantomData<T>,
}

// SAFETY: see the invariants: the C objects are written before publication
// or by the kernel under its own locking; `live` is atomic.
unsafe impl<T> Sync for Pernet<T> {}

impl<T: PernetState> Pernet<T> {
    /// An unregistered registration.
    pub(crate) const fn new() -> Self {
        Self {
            ops: Global::zeroed(),
            id: Global::new(0),
            live: AtomicBool::new(false),
            claim: super::Claim::new(),
            _t: core::marker::PhantomData,
        }
    }

    /// Creates the state of every namespace, present and future (EBUSY if
    /// registered already).
    pub(crate) fn register(&'static self) -> Result {
        if !self.claim.claim() {
            return Err(EBUSY);
        }
        let ops = self.ops.get();
        // SAFETY: not registered (the claim above): nobody else accesses
        // `ops` (type invariants); `id` is static.
        unsafe {
            (*ops).init = Some(pernet_init::<T>);
            (*ops).exit = Some(pernet_exit::<T>);
            (*ops).id = self.id.get();
            (*ops).size = core::mem::size_of::<Slot<T>>();
        }
        // SAFETY: `ops` is fully initialised and static.
        if let Err(e) = to_result(unsafe { bindings::register_pernet_subsys(ops) }) {
            self.claim.release();
            return Err(e);
        }
        self.live.store(true, Ordering::Release);
        Ok(())
    }

    /// Undoes [`Self::register`]: drops the state of every namespace.
    pub(crate) fn unregister(&'static self) {
        self.live.store(false, Ordering::Release);
        if self.claim.release() {
            // SAFETY: registered by `register()` (the claim).
            unsafe { bindings::unregister_pernet_subsys(self.ops.get()) };
        }
    }

    /// The area of `net`.
    ///
    /// # Safety
    ///
    /// The ops are registered (so `net` has an area) and `net` is live.
    unsafe fn slot(&self, net: *const bindings::net) -> *mut Slot<T> {
        // SAFETY: per the caller; `id` was assigned by the registration.
        unsafe { bindings::net_generic(net, *self.id.get()).cast() }
    }

    /// The state of `net`; `None` while not registered.  Every namespace
    /// has one while registered: init runs for each before registration
    /// returns and at each creation, exit after its last socket is gone,
    /// and a `&Net` is of a live namespace.
    pub(crate) fn get<'a>(&self, net: &'a Net) -> Option<&'a T> {
        if !self.live.load(Ordering::Acquire) {
            return None;
        }
        // SAFETY: registered and `net` live (above); its `Slot` was
        // written by `pernet_init` and is dropped only by `pernet_exit`,
        // after every user of the namespace.  Shared access only.
        Some(unsafe { &(*self.slot(net.as_ptr())).state })
    }
}

/// `pernet_operations.init`.
///
/// # Safety
///
/// Called by the netns core with a live `net` whose zeroed area of
/// `size_of::<Slot<T>>()` was allocated for `T::ops().id`.
unsafe extern "C" fn pernet_init<T: PernetState>(net: *mut bindings::net) -> c_int {
    // SAFETY: per the contract above.
    let slot = unsafe { T::ops().slot(net) };
    // SAFETY: the area is ours, aligned (kzalloc) and not yet initialised.
    unsafe {
        ptr::write(
            slot,
            Slot {
                state: T::new(),
                hdr: ptr::null_mut(),
            },
        )
    };
    // SAFETY: initialised just above; the entries point into the state,
    // which outlives the table (`pernet_exit` unregisters it first).
    match unsafe { register_sysctls(net, T::SYSCTL_PATH, &(*slot).state) } {
        Ok(hdr) => {
            // SAFETY: still exclusive to the netns core's init call.
            unsafe { (*slot).hdr = hdr };
            0
        }
        Err(e) => {
            // SAFETY: initialised above and not published.
            unsafe { ptr::drop_in_place(slot) };
            e.to_errno()
        }
    }
}

/// `pernet_operations.exit`.
///
/// # Safety
///
/// Called by the netns core for a namespace whose `pernet_init` succeeded,
/// once, after its last user.
unsafe extern "C" fn pernet_exit<T: PernetState>(net: *mut bindings::net) {
    // SAFETY: per the contract above; the slot was initialised.
    unsafe {
        let slot = T::ops().slot(net);
        let hdr = (*slot).hdr;
        if !hdr.is_null() {
            let table = (*hdr).ctl_table_arg;
            bindings::unregister_net_sysctl_table(hdr);
            bindings::kfree(table.cast());
        }
        ptr::drop_in_place(slot);
    }
}

/// Builds the `ctl_table` array of `state`'s sysctls and registers it
/// under `path` in `net`.
///
/// # Safety
///
/// `net` is live; `state` outlives the registration.
unsafe fn register_sysctls<T: PernetState>(
    net: *mut bindings::net,
    path: &'static CStr,
    state: &T,
) -> Result<*mut bindings::ctl_table_header> {
    let layout =
        core::alloc::Layout::array::<bindings::ctl_table>(MAX_SYSCTLS).map_err(|_| ENOMEM)?;
    // SAFETY: non-zero size; freed by `pernet_exit` or below.
    let table: *mut bindings::ctl_table = unsafe {
        bindings::krealloc(
            ptr::null(),
            layout.size(),
            bindings::GFP_KERNEL | bindings::__GFP_ZERO,
        )
    }
    .cast();
    if table.is_null() {
        return Err(ENOMEM);
    }
    let mut n = 0;
    let mut too_many = false;
    state.sysctls(&mut |e| {
        if n < MAX_SYSCTLS {
            // SAFETY: `table` has room for MAX_SYSCTLS zeroed entries.
            fill(unsafe { &mut *table.add(n) }, &e);
            n += 1;
        } else {
            too_many = true;
        }
    });
    if too_many || n == 0 {
        // SAFETY: allocated above, never published.
        unsafe { bindings::kfree(table.cast()) };
        return Err(EINVAL);
    }
    // SAFETY: `table` holds `n` initialised entries that stay alive until
    // `unregister_net_sysctl_table()`; `path` is static.
    let hdr = unsafe { bindings::register_net_sysctl_sz(net, path.as_char_ptr(), table, n) };
    if hdr.is_null() {
        // SAFETY: allocated above, never published.
        unsafe { bindings::kfree(table.cast()) };
        return Err(ENOMEM);
    }
    Ok(hdr)
}

/// The `ctl_table` entry of `e`.
fn fill(t: &mut bindings::ctl_table, e: &Entry<'_>) {
    fn p<T>(r: &T) -> *mut c_void {
        (r as *const T).cast_mut().cast()
    }
    t.procname = e.name.as_char_ptr();
    t.mode = e.mode;
    let (data, maxlen, handler, extra1, extra2): (_, usize, Handler, _, _) = match &e.kind {
        Kind::U8 { data, min, max } => {
            (p(*data), 1, bindings::proc_dou8vec_minmax, p(*min), p(*max))
        }
        Kind::Uint(data) => (
            p(*data),
            4,
            bindings::proc_douintvec_minmax,
            ptr::null_mut(),
            ptr::null_mut(),
        ),
        Kind::IntMin { data, min } => (
            p(*data),
            4,
            bindings::proc_dointvec_minmax,
            p(*min),
            ptr::null_mut(),
        ),
        Kind::JiffiesNonNeg(data) => (
            p(*data),
            4,
            proc_jiffies_nonneg,
            ptr::null_mut(),
            ptr::null_mut(),
        ),
        Kind::Str { data, valid } => (
            data.0.get().cast(),
            STR_MAX,
            proc_str,
            *valid as *mut c_void,
            ptr::null_mut(),
        ),
        Kind::StrRo(f) => (
            ptr::null_mut(),
            STR_MAX * 8,
            proc_str_ro,
            *f as *mut c_void,
            ptr::null_mut(),
        ),
    };
    t.data = data;
    t.maxlen = maxlen as c_int;
    t.proc_handler = Some(handler);
    t.extra1 = extra1;
    t.extra2 = extra2;
}

type Handler = unsafe extern "C" fn(
    *const bindings::ctl_table,
    c_int,
    *mut c_void,
    *mut usize,
    *mut bindings::loff_t,
) -> c_int;

/// A proc handler's arguments, as the sysctl core passes them.
#[derive(Clone, Copy)]
struct ProcArgs {
    ctl: *const bindings::ctl_table,
    write: c_int,
    buffer: *mut c_void,
    lenp: *mut usize,
    ppos: *mut bindings::loff_t,
}

impl ProcArgs {
    /// Runs the kernel's handler `h` as if the table entry's value were
    /// the local `data` of `maxlen` octets (our handlers check a written
    /// value before storing it, or produce the value read).
    ///
    /// # Safety
    ///
    /// The arguments come from the sysctl core; `data` is valid for
    /// `maxlen` octets of what `h` converts (for strings: NUL-terminated
    /// within `maxlen`).
    unsafe fn on_local(self, h: Handler, data: *mut c_void, maxlen: usize) -> c_int {
        // SAFETY: `ctl` is valid (caller); the copy only redirects `data`.
        let mut tmp = unsafe { ptr::read(self.ctl) };
        tmp.data = data;
        tmp.maxlen = maxlen as c_int;
        // SAFETY: `tmp` describes `data` (caller); the buffers are the core's.
        unsafe { h(&tmp, self.write, self.buffer, self.lenp, self.ppos) }
    }
}

/// Declares a proc handler `$name` whose body sees `$a: ProcArgs`.
macro_rules! proc_handler {
    ($(#[$m:meta])* fn $name:ident($a:ident) $body:block) => {
        $(#[$m])*
        unsafe extern "C" fn $name(
            ctl: *const bindings::ctl_table,
            write: c_int,
            buffer: *mut c_void,
            lenp: *mut usize,
            ppos: *mut bindings::loff_t,
        ) -> c_int {
            let $a = ProcArgs { ctl, write, buffer, lenp, ppos };
            $body
        }
    };
}

proc_handler! {
    /// [`Kind::JiffiesNonNeg`].
    ///
    /// # Safety
    ///
    /// Called by the sysctl core for an entry built by [`fill`] from a
    /// `Kind::JiffiesNonNeg` (`data` is a live `AtomicU32`), writes
    /// serialised per file.
    fn proc_jiffies_nonneg(a) {
        // SAFETY: per the contract above.
        let data = unsafe { &*(*a.ctl).data.cast::<AtomicU32>() };
        let mut val = data.load(Ordering::Relaxed) as c_int;
        let local = ptr::addr_of_mut!(val).cast();
        // SAFETY: our arguments; `local` is an int.
        let ret = unsafe { a.on_local(bindings::proc_dointvec_jiffies, local, 4) };
        if a.write != 0 && ret == 0 {
            if val < 0 {
                return -(bindings::EINVAL as c_int);
            }
            data.store(val as u32, Ordering::Relaxed);
        }
        ret
    }
}

proc_handler! {
    /// [`Kind::Str`].
    ///
    /// # Safety
    ///
    /// Called by the sysctl core for an entry built by [`fill`] from a
    /// `Kind::Str` (`data` is its live buffer, `extra1` its `valid` fn),
    /// writes serialised per file (the only writer of the buffer).
    fn proc_str(a) {
        // SAFETY: per the contract above: `extra1` was made from a
        // `fn(&[u8]) -> bool`.
        let (cur, valid) = unsafe {
            (
                (*a.ctl).data.cast::<[u8; STR_MAX]>(),
                core::mem::transmute::<*mut c_void, fn(&[u8]) -> bool>((*a.ctl).extra1),
            )
        };
        // SAFETY: `cur` is the live buffer; volatile, as a read may race
        // with a write (no reference to it is ever made).
        let mut val = unsafe { ptr::read_volatile(cur) };
        // SAFETY: our arguments; `val` is NUL-terminated within STR_MAX.
        let ret = unsafe { a.on_local(bindings::proc_dostring, val.as_mut_ptr().cast(), STR_MAX) };
        if a.write != 0 && ret == 0 {
            let len = val.iter().position(|&b| b == 0).unwrap_or(STR_MAX);
            if !valid(val.get(..len).unwrap_or(&[])) {
                return -(bindings::ENOENT as c_int);
            }
            // SAFETY: as above; writes are serialised per file.
            unsafe { ptr::write_volatile(cur, val) };
        }
        ret
    }
}

proc_handler! {
    /// [`Kind::StrRo`].
    ///
    /// # Safety
    ///
    /// Called by the sysctl core for an entry built by [`fill`] from a
    /// `Kind::StrRo` (`extra1` its `fill` fn).
    fn proc_str_ro(a) {
        // SAFETY: per the contract above.
        let f = unsafe {
            core::mem::transmute::<*mut c_void, fn(&mut [u8]) -> usize>((*a.ctl).extra1)
        };
        let mut list = [0u8; STR_MAX * 8];
        // The last octet stays NUL.
        let n = list.len() - 1;
        if let Some(buf) = list.get_mut(..n) {
            f(buf);
        }
        let len = list.len();
        // SAFETY: our arguments; `list` is NUL-terminated.
        unsafe { a.on_local(bindings::proc_dostring, list.as_mut_ptr().cast(), len) }
    }
}
