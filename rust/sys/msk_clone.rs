// SPDX-License-Identifier: GPL-2.0

//! The msk of a passive connection exists from its third ACK, as
//! mainline's `mptcp_sk_clone_init()`: `syn_recv_sock` clones the
//! listening msk for an MPTCP child ([`Msk::clone_for_child`]), the child
//! subflow feeds it from its first data on, and accept() grafts it onto the
//! new socket ([`take_unaccepted`]).  A child that is never accepted (its
//! listener closed) takes its msk down with it ([`Msk::release_ref`] from
//! the ULP release).
//!
//! Lifetime and references:
//! - A listening subflow names its msk in its `sk_user_data` (tagged
//!   `SK_USER_DATA_NOCOPY`, so TCP's children do not inherit it), set by
//!   listen() before the subflow listens and cleared by the msk's
//!   destruction.  The listening msk is freed after an RCU grace period
//!   (`SOCK_RCU_FREE`), so `syn_recv_sock` (softirq, RCU read side, the
//!   listener unlocked) may read it through that pointer.
//! - A clone starts with two references (`sk_clone_lock()`): one is the
//!   child subflow's (its slot's `msk`, see `ulp.rs`), the other the
//!   socket's, which accept() grafts; an msk never accepted drops both
//!   when its child goes.
//! - Counted as an msk in `/proc/net/protocols` ("sockets": by
//!   `sk_clone_lock()`; "inuse": at accept) and listed by `ss -M` from
//!   accept on, as an msk created by accept was.
//! - Not charged to a memory cgroup (`sk_clone_lock()` leaves `sk_memcg`
//!   unset, and `mem_cgroup_sk_alloc()` is not exported), as mainline
//!   6.12's msk; an msk created by accept was.

use core::mem::offset_of;
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};

use kernel::bindings;
use kernel::ffi::c_int;

use super::msk::{Msk, Msk6};
use super::{Sock, TcpSock};

const AF_INET6: u16 = bindings::AF_INET6 as u16;

/// The `sk_user_data` word of `sk`, as an atomic (the kernel's
/// `rcu_assign_pointer` / `rcu_dereference` of `__sk_user_data()`).
///
/// # Safety
///
/// `sk` is a live sock for `'a`.
unsafe fn user_data<'a>(sk: *mut bindings::sock) -> &'a AtomicPtr<bindings::sock> {
    // SAFETY: a live sock for 'a (caller); a pointer-sized, aligned field
    // that the kernel accesses with single loads and stores.
    unsafe { AtomicPtr::from_ptr(ptr::addr_of_mut!((*sk).sk_user_data).cast()) }
}

impl Msk {
    /// listen(): the subflow `ssk`, about to listen, names this msk for
    /// `syn_recv_sock` ([`Msk::clone_for_child`]); this msk is freed after
    /// an RCU grace period from now on.  Process context, before `ssk`
    /// listens.
    pub(crate) fn set_listener_of(&self, ssk: &TcpSock) {
        // `sk_flags` is written non-atomically under the socket lock
        // (sk_setsockopt() too).
        let _g = self.sock().lock();
        // SAFETY: a live msk and subflow; the msk is ours (a system call
        // on it) and locked, the subflow not yet listening: no reader yet.
        unsafe {
            bindings::sock_set_flag(self.as_sk(), bindings::sock_flags_SOCK_RCU_FREE);
            let tagged = self
                .as_sk()
                .map_addr(|a| a | bindings::SK_USER_DATA_NOCOPY as usize);
            user_data(ssk.as_ptr()).store(tagged, Ordering::Release);
        }
    }

    /// The msk's destruction: its subflow no longer names it.  `ssk` is
    /// the msk's subflow (process context).
    pub(super) fn clear_listener_of(&self, ssk: *mut bindings::sock) {
        // SAFETY: the msk's own subflow, live (the msk holds it).
        let ud = unsafe { user_data(ssk) };
        let cur = ud.load(Ordering::Relaxed);
        if untag(cur) == self.as_sk() {
            ud.store(ptr::null_mut(), Ordering::Release);
        }
    }

    /// A new msk for the MPTCP child of the listening subflow `listener`
    /// (`syn_recv_sock`, softirq): a clone of the listening msk, in state
    /// ESTABLISHED, with two references (the child's and the socket's, see
    /// the module documentation), or None (the listener is not ours or is
    /// closing, or no memory: accept() then creates one, as before).
    ///
    /// Softirq (or the listener's backlog), `listener` a live subflow.
    pub(crate) fn clone_for_child(listener: &Sock) -> Option<*mut bindings::sock> {
        // SAFETY: a read-side section, closed below on every path.
        unsafe { bindings::rcu_read_lock() };
        // SAFETY: in the section just opened; the caller's live listener.
        let nsk = unsafe { clone_listening(listener) };
        // SAFETY: opened above.
        unsafe { bindings::rcu_read_unlock() };
        let nsk = nsk?;
        // SAFETY: `nsk` is a fresh copy only this call sees; each fix-up
        // undoes a copied pointer or state that belongs to the listener.
        unsafe {
            init_clone(nsk);
            bindings::spin_unlock(ptr::addr_of_mut!((*nsk).sk_lock.slock));
            // Our lock classes (msk_init's), now that it is unlocked and
            // still private.
            bindings::mptcp_sock_lock_init(nsk);
        }
        Some(nsk)
    }
}

/// `sk_clone_lock()` of the msk `listener` names, if it still listens;
/// the clone comes back locked (bh_lock_sock) with two references.
///
/// # Safety
///
/// In an RCU read-side section, `listener` live.
unsafe fn clone_listening(listener: &Sock) -> Option<*mut bindings::sock> {
    // SAFETY: the listener is live; a named msk is freed only after a
    // grace period (SOCK_RCU_FREE), and the caller is in a read-side
    // section.
    let lsk = untag(unsafe { user_data(listener.as_ptr()) }.load(Ordering::Acquire));
    if lsk.is_null() {
        return None;
    }
    // SAFETY: as above: its memory is valid for the section, though its
    // close may have run (checked next: the state is read once, the copy
    // below takes only what a clone may have).
    let lmsk = unsafe { Msk::from_sk(lsk) };
    if lmsk.sock().state() != bindings::TCP_LISTEN as c_int {
        return None;
    }
    // SAFETY: a live sock of our proto (for the section).
    let nsk = unsafe { bindings::sk_clone_lock(lsk, bindings::GFP_ATOMIC) };
    (!nsk.is_null()).then_some(nsk)
}

/// The pointer of a tagged `sk_user_data` word.
fn untag(p: *mut bindings::sock) -> *mut bindings::sock {
    p.map_addr(|a| a & bindings::SK_USER_DATA_PTRMASK as usize)
}

/// The fix-ups of a fresh clone `nsk` of a listening msk.
///
/// # Safety
///
/// `nsk` is fresh from `sk_clone_lock()` of an msk, seen by no one else.
unsafe fn init_clone(nsk: *mut bindings::sock) {
    // SAFETY: `nsk` is a fresh msk copy only this call sees (# Safety):
    // its fields may be written without locks.
    unsafe {
        // Our fields: the listener's subflow, `ss -M` place, queue count,
        // autotuning measure and timer switch are not the clone's (all
        // zero is their initial value, see `Msk`).
        Msk::reset_copied(nsk);
        // Freed at once when the last reference goes, as any msk; only
        // listeners wait for a grace period.
        bindings::sock_reset_flag(nsk, bindings::sock_flags_SOCK_RCU_FREE);
        // The listener's IP options and memberships stay the listener's:
        // the clone frees what it points to (inet_sock_destruct()).
        let inet = nsk.cast::<bindings::inet_sock>();
        (*inet).inet_opt = ptr::null_mut();
        (*inet).mc_list = ptr::null_mut();
        (*inet).ipv6_fl_list = ptr::null_mut();
        if (*nsk).__sk_common.skc_family == AF_INET6 {
            let np = nsk
                .byte_add(offset_of!(Msk6, np))
                .cast::<bindings::ipv6_pinfo>();
            (*inet).pinet6 = np;
            (*np).opt = ptr::null_mut();
            (*np).pktoptions = ptr::null_mut();
            (*np).rxpmtu = ptr::null_mut();
            (*np).ipv6_mc_list = ptr::null_mut();
            (*np).ipv6_ac_list = ptr::null_mut();
        }
        // A listener closing meanwhile may have shut it: not the clone.
        (*nsk).sk_shutdown = 0;
        // A pending listener timer was copied as pending: not the clone's
        // (the rest of the copy, function and lockdep class, is msk_init's
        // setup, as on any msk).  Mainline sets the timer up again.)
        let t = super::msk::sk_timer(nsk);
        (*t).entry.next = ptr::null_mut();
        (*t).entry.pprev = ptr::null_mut();
        bindings::inet_sk_state_store(nsk, bindings::TCP_ESTABLISHED as c_int);
    }
}

/// accept(): takes the msk of the accepted child `ssk` if it has one it
/// was not accepted with yet (a clone from its third ACK): the socket's
/// reference passes to the caller, who grafts it.  Process context, the
/// child just dequeued (accept owns it).
pub(super) fn take_unaccepted(ssk: &TcpSock) -> Option<*mut bindings::sock> {
    let g = ssk.lock();
    let m = g.msk()?;
    m.take_unaccepted().then(|| m.as_sk())
}

impl Msk {
    /// The subflow's reference on this msk goes (ULP release, `clear_msk`):
    /// an msk never accepted goes down with it (its socket's reference
    /// too).  Any context (the child may be destroyed in softirq).
    ///
    /// # Safety
    ///
    /// `sk` is an msk the caller holds a reference on, which this drops.
    pub(super) unsafe fn release_ref(sk: *mut bindings::sock) {
        // SAFETY: a live msk (the caller's reference).
        let m = unsafe { Msk::from_sk(sk) };
        if m.take_unaccepted() {
            // No socket ever had it: nothing else uses it.  What the child
            // moved to it goes (the child's RST announces the loss, as for
            // any child of a closed listener).
            m.rx_purge();
            // A timer armed meanwhile (a checksum failure) stops.
            m.timer_off();
            // inet_sock_destruct() wants it closed and dead.  A pending
            // timer's reference comes back with the stop; one already
            // running needs no wait: with no subflow it only puts its own.
            // SAFETY: a private msk (never accepted), `first` null.
            unsafe {
                bindings::sk_stop_timer(sk, super::msk::sk_timer(sk));
                bindings::inet_sk_state_store(sk, bindings::TCP_CLOSE as c_int);
                bindings::sock_set_flag(sk, bindings::sock_flags_SOCK_DEAD);
                bindings::sk_sockets_allocated_dec(sk);
                // The socket's reference, which no accept() took.
                bindings::sock_put(sk);
            }
        }
        // SAFETY: the caller's reference (for an msk nobody accepted, the
        // last one but a pending timer's).
        unsafe { bindings::sock_put(sk) };
    }
}
