// SPDX-License-Identifier: GPL-2.0

//! The "mptcp" TCP ULP: the slot a subflow keeps its MPTCP context in
//! (`icsk_ulp_data`, a [`SubflowSlot`]), its lifecycle (ULP init, clone
//! for a listener's child, release when the socket is destroyed), and our
//! wrappers on the socket (af_ops from `subflow_ops.rs`, `sk_data_ready`),
//! which release puts back so that no pointer into the module outlives
//! the subflow.

use core::cell::{Cell, RefCell, RefMut};
use core::ffi::c_void;
use core::ptr;
use core::sync::atomic::{AtomicU8, Ordering};

use kernel::bindings;
use kernel::c_str;
use kernel::error::to_result;
use kernel::ffi::c_int;
use kernel::prelude::*;

use super::global::Global;
use super::hooks::subflow_data_ready;
use super::msk::Msk;
use super::sock::DataReady;
use super::subflow_ops::{af_ops, is_ours, kernel_af_ops};
use super::{Sock, TcpLocked, TcpSock};
use crate::subflow::{self, state, SubflowCtx};

static ULP_OPS: Global<bindings::tcp_ulp_ops> = Global::zeroed();

/// The ULP data of one of our subflows.
///
/// Invariants: allocated by ULP init or clone, freed by ULP release when
/// the socket is destroyed, so it lives as long as the socket.  `ctx` and
/// the `orig_*` cells are only touched by code holding the subflow's
/// socket lock (reached through [`TcpLocked::subflow`]); `ctx` is borrowed
/// once at a time ([`ctx`](Self::ctx): a re-entered hook finds it busy).
/// `state` is also read without the lock ([`TcpSock::subflow_state`]),
/// hence an atomic outside the cell.
pub(crate) struct SubflowSlot {
    state: AtomicU8,
    ctx: RefCell<SubflowCtx>,
    /// The kernel's af_ops, put back at release (null: ours not installed).
    orig_af_ops: Cell<*const bindings::inet_connection_sock_af_ops>,
    /// The socket's own `sk_data_ready`, which ours calls and release puts
    /// back.
    orig_data_ready: Cell<Option<DataReady>>,
    /// Ours is installed (`orig_data_ready` is the socket's own).
    data_ready_wrapped: Cell<bool>,
    /// The msk whose receive queue this subflow feeds, or null (before
    /// the third ACK's clone, accept() or connect() set it, after the
    /// msk's destruction cleared it).  Written and read under the subflow
    /// lock only; a non-null one holds a reference on the msk, dropped
    /// when cleared or at release ([`Msk::release_ref`], which also takes
    /// down a clone no accept() took).
    msk: Cell<*mut bindings::sock>,
}

impl SubflowSlot {
    fn new(st: u8) -> Self {
        Self {
            state: AtomicU8::new(st),
            ctx: RefCell::new(SubflowCtx::default()),
            orig_af_ops: Cell::new(ptr::null()),
            orig_data_ready: Cell::new(None),
            data_ready_wrapped: Cell::new(false),
            msk: Cell::new(ptr::null_mut()),
        }
    }

    /// The subflow state (`subflow::state::*`).
    pub(crate) fn state(&self) -> &AtomicU8 {
        &self.state
    }

    /// The context, unless it is borrowed already (a hook re-entered from
    /// TCP while its caller holds it).
    pub(crate) fn ctx(&self) -> Option<RefMut<'_, SubflowCtx>> {
        self.ctx.try_borrow_mut().ok()
    }
}

/// The slot of `sk` if it carries our ULP.
///
/// # Safety
///
/// `sk` is a live full TCP socket.
unsafe fn slot_ptr(sk: *mut bindings::sock) -> *mut SubflowSlot {
    // SAFETY: the caller guarantees a live full TCP socket.
    unsafe {
        let icsk = sk.cast::<bindings::inet_connection_sock>();
        if (*icsk).icsk_ulp_ops != ULP_OPS.get().cast_const() {
            return ptr::null_mut();
        }
        (*icsk).icsk_ulp_data.cast::<SubflowSlot>()
    }
}

impl TcpLocked<'_> {
    /// Our slot, if this socket is one of our subflows.
    pub(crate) fn subflow(&self) -> Option<&SubflowSlot> {
        // SAFETY: a live full TCP socket, locked (the lock's invariant): the
        // slot lives until the socket is destroyed, after every holder of
        // its lock; the lock makes this the only context using it.
        unsafe { slot_ptr(self.sock().as_ptr()).as_ref() }
    }

    /// The msk this subflow's received data goes to, if set (see
    /// `SubflowSlot::msk`); live while the lock is held.
    pub(crate) fn msk(&self) -> Option<&Msk> {
        let p = self.subflow()?.msk.get();
        // SAFETY: a non-null back-pointer is a live msk until cleared under
        // this lock (`SubflowSlot::msk`), which this borrow holds.
        (!p.is_null()).then(|| unsafe { Msk::from_sk(p) })
    }

    /// Makes `msk` the receiver of this subflow's data (accept, connect),
    /// with a reference of its own; nothing if the socket is not one of
    /// our subflows or already feeds `msk`.
    pub(crate) fn set_msk(&self, msk: &Msk) {
        let Some(s) = self.subflow() else {
            return;
        };
        let old = s.msk.get();
        if old == msk.as_sk() {
            return;
        }
        // SAFETY: a live msk (the borrow): the slot's reference.
        unsafe { bindings::sock_hold(msk.as_sk()) };
        s.msk.set(msk.as_sk());
        if !old.is_null() {
            // SAFETY: the slot's reference on the previous one.
            unsafe { Msk::release_ref(old) };
        }
    }

    /// Makes the fresh clone `nsk` (`Msk::clone_for_child`) the receiver
    /// of this child's data, with one of its two references.  Nothing
    /// else holds the slot's msk yet (the child is new).
    pub(super) fn adopt_msk(&self, nsk: *mut bindings::sock) {
        match self.subflow() {
            Some(s) if s.msk.get().is_null() => s.msk.set(nsk),
            // SAFETY: not ours (or taken): both references go, as for a
            // clone never accepted.
            _ => unsafe { Msk::release_ref(nsk) },
        }
    }

    /// Detaches the msk (its destruction): from now on no subflow path
    /// reaches it; the slot's reference goes.
    pub(crate) fn clear_msk(&self) {
        if let Some(s) = self.subflow() {
            let old = s.msk.replace(ptr::null_mut());
            if !old.is_null() {
                // SAFETY: the slot's reference.
                unsafe { Msk::release_ref(old) };
            }
        }
    }

    /// Whether some ULP is installed on the socket (ours or another).
    pub(crate) fn has_ulp(&self) -> bool {
        // SAFETY: a `TcpLocked` is a live full TCP socket, locked.
        ulp_installed(unsafe { TcpSock::from_raw(self.sock().as_ptr()) })
    }

    /// Installs our ULP (`tcp_set_ulp()`): the socket gets an empty slot.
    /// Only for a socket marked `is_mptcp` (ULP init refuses others).
    pub(crate) fn install_ulp(&mut self) -> Result {
        // SAFETY: a live full TCP socket, locked, as tcp_set_ulp() needs.
        to_result(unsafe {
            bindings::tcp_set_ulp(self.sock().as_ptr(), c_str!("mptcp").as_char_ptr())
        })
    }

    /// Puts our af_ops wrappers on this subflow (and with `data_ready` our
    /// `sk_data_ready`), keeping the socket's own in its slot.  Nothing if
    /// the socket has no slot of ours; a wrapper already in place is kept
    /// (its saved original too).
    pub(crate) fn install_wrappers(&self, data_ready: bool) {
        let Some(s) = self.subflow() else {
            return;
        };
        let sk = self.sock().as_ptr();
        // SAFETY: a live full TCP socket, locked; `s` is its slot, which
        // release uses to put the originals back.
        unsafe {
            let icsk = bindings::inet_csk(sk);
            if !is_ours((*icsk).icsk_af_ops) {
                s.orig_af_ops.set((*icsk).icsk_af_ops);
                (*icsk).icsk_af_ops = af_ops(self.sock().is_v6(), false);
            }
            if data_ready && !s.data_ready_wrapped.replace(true) {
                s.orig_data_ready
                    .set((*sk).sk_data_ready.map(|f| DataReady::new(f)));
                (*sk).sk_data_ready = Some(subflow_data_ready);
            }
        }
    }

    /// TCP switched a v6 subflow to the v4-mapped operations (`mapped`:
    /// `ipv6_mapped`), or back: our wrappers go on top of those, as
    /// mainline's `subflow_v6m_specific`.  Only for the hook that reports
    /// the switch.
    pub(super) fn v6_mapped(&self, mapped: bool) {
        let Some(s) = self.subflow() else {
            return;
        };
        // SAFETY: a live full TCP socket, locked; TCP just installed the
        // kernel's ops (kept for release unless they are ours already).
        unsafe {
            let icsk = bindings::inet_csk(self.sock().as_ptr());
            if !is_ours((*icsk).icsk_af_ops) {
                s.orig_af_ops.set((*icsk).icsk_af_ops);
            }
            (*icsk).icsk_af_ops = af_ops(true, mapped);
        }
    }

    /// Wakes the socket's readers as TCP does after queueing data: the
    /// socket's own `sk_data_ready` (kept in our slot), or
    /// `sock_def_readable()`.
    pub(crate) fn data_ready(&mut self) {
        let orig = self.subflow().and_then(|s| s.orig_data_ready.get());
        let sk = self.sock().as_ptr();
        // SAFETY: a live socket, locked, as TCP calls `sk_data_ready`;
        // `orig` is this socket's own callback (`DataReady::new`).
        unsafe {
            match orig {
                Some(f) => (f.get())(sk),
                None => bindings::sock_def_readable(sk),
            }
        }
    }
}

impl TcpSock {
    /// The subflow state (`subflow::state::*`) read without the lock, 0 if
    /// the socket is not one of our subflows.
    pub(crate) fn subflow_state(&self) -> u8 {
        // The slot is set at attach (under the lock, before other operations
        // can race with it) and freed when the socket is destroyed.
        // SAFETY: a live full TCP socket (type invariant); only the slot's
        // atomic `state` is read, no reference to the slot is made.
        unsafe {
            let s = slot_ptr(self.as_ptr());
            if s.is_null() {
                return 0;
            }
            (*ptr::addr_of!((*s).state)).load(Ordering::Acquire)
        }
    }
}

/// ULP init (`tcp_set_ulp()`, socket locked): only subflows this module
/// marked `is_mptcp` may carry the ULP: a user's setsockopt(TCP_ULP,
/// "mptcp") on a plain TCP socket is refused.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn ulp_init(sk: *mut bindings::sock) -> c_int {
    // SAFETY: TCP calls ULP init with a live full socket, locked.
    if !unsafe { bindings::sk_is_mptcp(sk) } {
        return -(bindings::EOPNOTSUPP as c_int);
    }
    let Ok(b) = KBox::new(SubflowSlot::new(0), GFP_ATOMIC) else {
        return -(bindings::ENOMEM as c_int);
    };
    // SAFETY: socket locked; freed in `ulp_release`.
    unsafe { (*bindings::inet_csk(sk)).icsk_ulp_data = KBox::into_raw(b).cast::<c_void>() };
    0
}

/// ULP release (`tcp_cleanup_ulp()`, the socket being destroyed): puts
/// the kernel's af_ops and `sk_data_ready` back, ends the connection's
/// token and gauge ([`subflow::end_connection`]), frees the slot.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn ulp_release(sk: *mut bindings::sock) {
    // SAFETY: called from tcp_cleanup_ulp() when the socket is destroyed;
    // nothing else uses the slot any more, so it is taken back here.
    unsafe {
        let icsk = bindings::inet_csk(sk);
        let sl = (*icsk).icsk_ulp_data.cast::<SubflowSlot>();
        if sl.is_null() {
            return;
        }
        (*icsk).icsk_ulp_data = ptr::null_mut();
        let mut s = KBox::from_raw(sl);
        // Do not leave pointers into this module behind.
        let af = s.orig_af_ops.get();
        if !af.is_null() {
            (*icsk).icsk_af_ops = af;
        }
        if s.data_ready_wrapped.get() {
            (*sk).sk_data_ready = s.orig_data_ready.get().map(|f| f.get());
        }
        subflow::end_connection(Sock::from_raw(sk).net(), s.ctx.get_mut());
        // The slot's msk reference; a clone no accept() took goes with
        // its child (its listener closed).
        let m = s.msk.replace(ptr::null_mut());
        if !m.is_null() {
            Msk::release_ref(m);
        }
    }
}

/// ULP clone: a child of our listener gets its own slot (the handshake
/// decides in `syn_recv_sock` whether it runs MPTCP) and holds a module
/// reference, like `tcp_set_ulp()` would take, released by
/// `tcp_cleanup_ulp()`.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn ulp_clone(
    _req: *const bindings::request_sock,
    newsk: *mut bindings::sock,
    _priority: bindings::gfp_t,
) {
    // SAFETY: called by inet_csk_clone_lock() on the locked new child, which
    // still points at the listener's slot.
    unsafe {
        let icsk = bindings::inet_csk(newsk);
        (*icsk).icsk_ulp_data = ptr::null_mut();
        let v6 = Sock::from_raw(newsk).is_v6();
        match KBox::new(SubflowSlot::new(state::SYN_RECV), GFP_ATOMIC) {
            Ok(s) => {
                bindings::__module_get((*ULP_OPS.get()).owner);
                s.orig_af_ops.set(kernel_af_ops(v6));
                // The socket's own, kept in the slot.
                s.orig_data_ready
                    .set((*newsk).sk_data_ready.map(|f| DataReady::new(f)));
                (*newsk).sk_data_ready = Some(subflow_data_ready);
                (*icsk).icsk_ulp_data = KBox::into_raw(s).cast();
            }
            Err(_) => {
                // No memory: a plain TCP child without our ULP.
                (*icsk).icsk_ulp_ops = ptr::null();
                (*icsk).icsk_af_ops = kernel_af_ops(v6);
                (*bindings::tcp_sk(newsk)).is_mptcp = false;
            }
        }
    }
}

static ULP_CLAIM: super::Claim = super::Claim::new();

/// Registers the "mptcp" ULP; dropping the result unregisters it.
pub(crate) fn register(module: &'static ThisModule) -> Result<super::Unregister> {
    if !ULP_CLAIM.claim() {
        return Err(EBUSY);
    }
    // SAFETY: not registered (the claim above), so nobody else reads it.
    let res = unsafe {
        let u = &mut *ULP_OPS.get();
        for (d, s) in u.name.iter_mut().zip(b"mptcp") {
            *d = *s;
        }
        u.owner = module.as_ptr();
        u.init = Some(ulp_init);
        u.release = Some(ulp_release);
        u.clone = Some(ulp_clone);
        to_result(bindings::tcp_register_ulp(ULP_OPS.get()))
    };
    if let Err(e) = res {
        ULP_CLAIM.release();
        return Err(e);
    }
    Ok(super::Unregister::new(unregister))
}

/// Unregisters the ULP (if registered).  Every subflow holds a module
/// reference through its ULP, so at module exit none exists any more.
fn unregister() {
    if ULP_CLAIM.release() {
        // SAFETY: registered by `register()` (the claim).
        unsafe { bindings::tcp_unregister_ulp(ULP_OPS.get()) };
    }
}

/// Whether some ULP is installed on the full TCP socket `sk`: one
/// volatile read of the pointer (READ_ONCE), which `tcp_set_ulp()` sets
/// once, under the socket lock.
fn ulp_installed(sk: &TcpSock) -> bool {
    // SAFETY: a live full TCP socket (a `TcpSock`), so its icsk is there;
    // an aligned pointer-sized field, read once.
    unsafe {
        !ptr::read_volatile(ptr::addr_of!(
            (*bindings::inet_csk(sk.as_ptr())).icsk_ulp_ops
        ))
        .is_null()
    }
}

impl TcpSock {
    /// Whether some ULP is installed on the socket, read without its lock
    /// (a racing `tcp_set_ulp()` is seen or not, never torn).  The msk's
    /// connect/listen ask it of their own subflow, which only they attach.
    pub(crate) fn has_ulp(&self) -> bool {
        ulp_installed(self)
    }
}
