// SPDX-License-Identifier: GPL-2.0

//! `struct sock` ([`Sock`]), `struct tcp_sock` ([`TcpSock`]) and the socket
//! lock ([`SockGuard`], [`TcpGuard`]).
//!
//! Invariant of both wrappers: a `&Sock`/`&TcpSock` only exists for a live
//! full socket (not a request or timewait sock), live at least as long as
//! the borrow; [`Sock::from_raw`]/[`TcpSock::from_raw`] are where callers
//! promise it.  A `&TcpSock` is also a TCP socket (its `struct sock` is the
//! head of a `struct tcp_sock`).
//!
//! Locking: fields written by TCP under the socket lock are read through a
//! guard only; the lockless reads here (`state`, `shutdown`, the error, the
//! flags) are the ones the kernel itself makes without the lock
//! (`inet_sk_state_load()`, `READ_ONCE()`, `sock_error()`, `sock_flag()`).
//! `lock()` may sleep: process context only, as `lock_sock()`.

use core::marker::PhantomData;
use core::ptr;
use core::sync::atomic::{AtomicI32, Ordering};

use kernel::bindings;
use kernel::ffi::{c_int, c_long};
use kernel::types::Opaque;

/// A live `struct sock` (see the module invariant).
#[repr(transparent)]
pub(crate) struct Sock(Opaque<bindings::sock>);

impl Sock {
    /// # Safety
    ///
    /// `sk` points to a live full socket that stays alive for `'a`.
    pub(crate) unsafe fn from_raw<'a>(sk: *mut bindings::sock) -> &'a Sock {
        // SAFETY: `Sock` is a transparent wrapper of `sock`; liveness for
        // 'a is the caller's promise.
        unsafe { &*sk.cast::<Sock>() }
    }

    /// The raw pointer, for calls the safe layer does not wrap yet.
    pub(crate) fn as_ptr(&self) -> *mut bindings::sock {
        self.0.get()
    }

    /// Whether the socket is an IPv6 one (`sk_family == AF_INET6`; a
    /// v4-mapped IPv6 socket included).
    pub(crate) fn is_v6(&self) -> bool {
        // SAFETY: a live socket (type invariant); the family never changes.
        let f = unsafe { (*self.as_ptr()).__sk_common.skc_family };
        c_int::from(f) == bindings::PF_INET6 as c_int
    }

    /// `sk_state`, read locklessly (`inet_sk_state_load()`).
    pub(crate) fn state(&self) -> c_int {
        // SAFETY: live by the type invariant; the helper reads with acquire.
        unsafe { bindings::inet_sk_state_load(self.as_ptr()) }
    }

    /// Whether `sk_state` is one of `TCPF_*` mask `mask`.
    pub(crate) fn state_in(&self, mask: u32) -> bool {
        let st = self.state();
        (0..32).contains(&st) && mask & (1 << st) != 0
    }

    /// `sock_flag(sk, flag)`.
    pub(crate) fn flag(&self, flag: u32) -> bool {
        // SAFETY: live by the type invariant; a word-sized volatile read of
        // the flags (the kernel's test_bit() reads them without the lock).
        let flags = unsafe {
            ptr::read_volatile(ptr::addr_of!(
                (*self.as_ptr()).__sk_common.__bindgen_anon_5.skc_flags
            ))
        };
        flag < usize::BITS && flags & (1 << flag) != 0
    }

    /// The peer finished the stream (`SOCK_DONE`: TCP took its FIN).
    pub(crate) fn is_done(&self) -> bool {
        self.flag(bindings::sock_flags_SOCK_DONE)
    }

    /// `sk_shutdown` (`RCV_SHUTDOWN`, `SEND_SHUTDOWN`), read locklessly.
    pub(crate) fn shutdown(&self) -> u8 {
        // SAFETY: live by the type invariant; a byte read (READ_ONCE()).
        unsafe { ptr::read_volatile(ptr::addr_of!((*self.as_ptr()).sk_shutdown)) }
    }

    fn err(&self) -> &AtomicI32 {
        // SAFETY: live by the type invariant; `sk_err` is an aligned int
        // the kernel accesses with READ_ONCE/WRITE_ONCE/xchg().
        unsafe { AtomicI32::from_ptr(ptr::addr_of_mut!((*self.as_ptr()).sk_err)) }
    }

    /// Whether a socket error is pending.
    pub(crate) fn has_error(&self) -> bool {
        self.err().load(Ordering::Acquire) != 0
    }

    /// Takes the pending socket error (positive errno, 0 if none), as
    /// `sock_error()`: reported once.
    pub(crate) fn take_error(&self) -> c_int {
        if self.err().load(Ordering::Acquire) == 0 {
            return 0;
        }
        self.err().swap(0, Ordering::AcqRel)
    }

    /// Sets the socket error (positive errno), as `WRITE_ONCE(sk->sk_err)`.
    pub(crate) fn set_error(&self, err: c_int) {
        self.err().store(err, Ordering::Release);
    }

    /// Sets the socket error unless one is pending already.
    pub(crate) fn set_error_if_none(&self, err: c_int) {
        let _ = self
            .err()
            .compare_exchange(0, err, Ordering::AcqRel, Ordering::Relaxed);
    }

    /// `sk_rcvtimeo` (jiffies; `MAX_SCHEDULE_TIMEOUT` = wait forever).
    pub(crate) fn rcvtimeo(&self) -> c_long {
        // SAFETY: live by the type invariant; set by setsockopt, read
        // without the lock as sock_rcvtimeo() does.
        unsafe { ptr::read_volatile(ptr::addr_of!((*self.as_ptr()).sk_rcvtimeo)) }
    }

    /// `sk_rcvlowat`.
    pub(crate) fn rcvlowat(&self) -> c_int {
        // SAFETY: as `rcvtimeo` (sock_rcvlowat()).
        unsafe { ptr::read_volatile(ptr::addr_of!((*self.as_ptr()).sk_rcvlowat)) }
    }

    /// `sk_rcvbuf`.
    pub(crate) fn rcvbuf(&self) -> c_int {
        // SAFETY: as `rcvtimeo` (READ_ONCE).
        unsafe { ptr::read_volatile(ptr::addr_of!((*self.as_ptr()).sk_rcvbuf)) }
    }

    /// Sets `sk_rcvbuf` (`WRITE_ONCE`).
    pub(crate) fn set_rcvbuf(&self, v: c_int) {
        // SAFETY: live by the type invariant; a plain int that readers
        // take with READ_ONCE.
        unsafe { ptr::write_volatile(ptr::addr_of_mut!((*self.as_ptr()).sk_rcvbuf), v) }
    }

    /// Sets `sk_rcvlowat` (`WRITE_ONCE`, as sk_setsockopt()).
    pub(crate) fn set_rcvlowat(&self, v: c_int) {
        // SAFETY: live by the type invariant; a plain int that readers
        // take with READ_ONCE.
        unsafe { ptr::write_volatile(ptr::addr_of_mut!((*self.as_ptr()).sk_rcvlowat), v) }
    }

    /// Takes the socket lock (`lock_sock()`); process context.
    pub(crate) fn lock(&self) -> SockGuard<'_> {
        // SAFETY: live by the type invariant; released by the guard.
        unsafe { bindings::lock_sock(self.as_ptr()) };
        SockGuard {
            sk: self,
            _not_send: PhantomData,
        }
    }
}

/// The socket lock of a [`Sock`], held while this lives (`release_sock()`
/// on drop, which also processes the backlog).  Not `Send`: released by
/// the task that took it.
pub(crate) struct SockGuard<'a> {
    sk: &'a Sock,
    _not_send: PhantomData<*mut ()>,
}

impl Drop for SockGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: taken in `Sock::lock`, still live (borrowed).
        unsafe { bindings::release_sock(self.sk.as_ptr()) };
    }
}

/// A live TCP socket (see the module invariant).
#[repr(transparent)]
pub(crate) struct TcpSock(Sock);

impl TcpSock {
    /// # Safety
    ///
    /// `sk` points to a live full TCP socket that stays alive for `'a`.
    pub(crate) unsafe fn from_raw<'a>(sk: *mut bindings::sock) -> &'a TcpSock {
        // SAFETY: `TcpSock` is a transparent wrapper of `Sock`; the rest is
        // the caller's promise.
        unsafe { &*sk.cast::<TcpSock>() }
    }

    /// Takes the socket lock: [`TcpGuard`] reads the TCP fields.
    pub(crate) fn lock(&self) -> TcpGuard<'_> {
        // SAFETY: live by the type invariant; released by the guard.
        unsafe { bindings::lock_sock(self.as_ptr()) };
        TcpGuard(TcpLocked::new(self))
    }

    /// As [`lock`](Self::lock), for a socket whose lockdep class is held
    /// already one level up (`lock_sock_nested(sk, SINGLE_DEPTH_NESTING)`):
    /// a subflow under its msk (both are AF_INET/AF_INET6 sockets).
    pub(crate) fn lock_nested(&self) -> TcpGuard<'_> {
        const SINGLE_DEPTH_NESTING: c_int = 1;
        // SAFETY: live by the type invariant; released by the guard.
        unsafe { bindings::lock_sock_nested(self.as_ptr(), SINGLE_DEPTH_NESTING) };
        TcpGuard(TcpLocked::new(self))
    }

    /// The socket spinlock (`bh_lock_sock()`, with BHs disabled so that
    /// any context may call it), for a socket no process owns: the view of
    /// a timer.  None, with the spinlock released again, when a process
    /// owns the socket (`sock_owned_by_user()`): the caller retries later,
    /// as TCP's timers do.
    pub(crate) fn lock_bh_unowned(&self) -> Option<TcpBhGuard<'_>> {
        let sk = self.as_ptr();
        // SAFETY: a live socket (type invariant): its spinlock is
        // initialised (sock_init_data()); a spinlock_t is a raw spinlock
        // without PREEMPT_RT, as `sync.rs` relies on too.
        unsafe {
            let slock = ptr::addr_of_mut!((*sk).sk_lock.slock).cast();
            bindings::_raw_spin_lock_bh(slock);
            if (*sk).sk_lock.owned != 0 {
                bindings::_raw_spin_unlock_bh(slock);
                return None;
            }
        }
        Some(TcpBhGuard(TcpLocked::new(self)))
    }

    /// The socket as locked by the context that calls us: a kernel callback
    /// (TCP's receive and transmit paths, `sk_data_ready`, the option
    /// hooks) runs with the lock owned (`lock_sock()`) or taken by softirq
    /// (`bh_lock_sock()` with no owner).
    ///
    /// # Safety
    ///
    /// The current context holds this socket's lock for `'a`, and nothing
    /// else makes a second [`TcpLocked`] of it meanwhile (the callback's
    /// one entry point makes it).
    pub(crate) unsafe fn assume_locked(&self) -> TcpLocked<'_> {
        TcpLocked::new(self)
    }
}

impl core::ops::Deref for TcpSock {
    type Target = Sock;
    fn deref(&self) -> &Sock {
        &self.0
    }
}

/// A socket's own `sk_data_ready`, saved where we put ours in its place
/// (a subflow's context keeps it), to be called for that socket only.
#[derive(Clone, Copy)]
pub(crate) struct DataReady(unsafe extern "C" fn(*mut bindings::sock));

impl DataReady {
    /// # Safety
    ///
    /// `f` is the `sk_data_ready` of the socket this value is kept for,
    /// and is only passed to [`TcpLocked::data_ready`] of that socket.
    pub(crate) unsafe fn new(f: unsafe extern "C" fn(*mut bindings::sock)) -> Self {
        Self(f)
    }

    /// The function, to put it back in place.
    pub(crate) fn get(self) -> unsafe extern "C" fn(*mut bindings::sock) {
        self.0
    }
}

/// The sequence numbers of a TCP socket, read together under its lock.
#[derive(Clone, Copy)]
pub(crate) struct TcpSeqs {
    /// Next octet the reader takes.
    pub(crate) copied_seq: u32,
    /// Next octet expected from the peer (a FIN counts one).
    pub(crate) rcv_nxt: u32,
    /// Oldest octet not acknowledged by the peer.
    pub(crate) snd_una: u32,
    /// Next octet to send.
    pub(crate) snd_nxt: u32,
    /// End of the queued data (a FIN counts one).
    pub(crate) write_seq: u32,
}

/// TCP's byte counters and activity stamps (as in `tcp_info`), read
/// together under the lock.
#[derive(Clone, Copy)]
pub(crate) struct TcpStats {
    pub(crate) bytes_retrans: u64,
    pub(crate) bytes_sent: u64,
    pub(crate) bytes_received: u64,
    pub(crate) bytes_acked: u64,
    /// Last data sent, last data received, last ACK received (jiffies,
    /// 32 bits as `tcp_jiffies32`).
    pub(crate) lsndtime: u32,
    pub(crate) lrcvtime: u32,
    pub(crate) rcv_tstamp: u32,
}

/// A TCP socket whose lock the current context holds: taken by a
/// [`TcpGuard`] (which derefs to this), or by the kernel around the
/// callback that made it ([`TcpSock::assume_locked`]).  TCP's fields are
/// read through it.  Not `Send`: the lock belongs to this context.
///
/// Invariant relied on by [`rcv_queue`](Self::rcv_queue): TCP calls that
/// may change the socket's queues (sending, reading, resetting) take
/// `&mut self`, so no borrow of a queued skb lives across one.
pub(crate) struct TcpLocked<'a> {
    sk: &'a TcpSock,
    _not_send: PhantomData<*mut ()>,
}

/// The socket lock of a [`TcpSock`] taken by us (`release_sock()` on drop,
/// which also processes the backlog).
pub(crate) struct TcpGuard<'a>(TcpLocked<'a>);

impl<'a> core::ops::Deref for TcpGuard<'a> {
    type Target = TcpLocked<'a>;
    fn deref(&self) -> &TcpLocked<'a> {
        &self.0
    }
}

impl<'a> core::ops::DerefMut for TcpGuard<'a> {
    fn deref_mut(&mut self) -> &mut TcpLocked<'a> {
        &mut self.0
    }
}

impl Drop for TcpGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: taken in `TcpSock::lock`/`lock_nested`, still live
        // (borrowed).
        unsafe { bindings::release_sock(self.sk.as_ptr()) };
    }
}

/// The socket spinlock of an unowned [`TcpSock`], taken by
/// [`TcpSock::lock_bh_unowned`] (`bh_unlock_sock()` on drop).
pub(crate) struct TcpBhGuard<'a>(TcpLocked<'a>);

impl<'a> core::ops::Deref for TcpBhGuard<'a> {
    type Target = TcpLocked<'a>;
    fn deref(&self) -> &TcpLocked<'a> {
        &self.0
    }
}

impl<'a> core::ops::DerefMut for TcpBhGuard<'a> {
    fn deref_mut(&mut self) -> &mut TcpLocked<'a> {
        &mut self.0
    }
}

impl Drop for TcpBhGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: taken in `lock_bh_unowned`; the socket is still live
        // (borrowed).
        unsafe {
            bindings::_raw_spin_unlock_bh(
                ptr::addr_of_mut!((*self.0.sk.as_ptr()).sk_lock.slock).cast(),
            )
        };
    }
}

impl TcpGuard<'_> {
    /// `sk_wait_event()` with `ready` as the condition: unless `ready`
    /// holds, sleeps on the socket's wait queue (interruptibly) until a
    /// wake-up, a signal or `*timeo` (decremented by the time slept).  The
    /// lock is dropped while sleeping; `ready` runs with it held, after the
    /// waiter is queued, so a wake-up between the check and the sleep is
    /// not lost (`wait_woken()`).  Err when the socket was disconnected
    /// meanwhile (`sk_disconnects` moved: a new connection may be on it).
    pub(crate) fn wait_for(
        &mut self,
        timeo: &mut c_long,
        ready: impl FnOnce(&TcpLocked<'_>) -> bool,
    ) -> Result<(), ()> {
        let sk = self.0.sk.as_ptr();
        // SAFETY: a live socket, locked (this guard): the counter changes
        // under the lock.
        let disconnects = unsafe { (*sk).sk_disconnects };
        let mut wait = core::mem::MaybeUninit::<bindings::wait_queue_entry>::zeroed();
        let w = wait.as_mut_ptr();
        // The lock is dropped and retaken around the sleep, as
        // sk_wait_event() does; `woken_wake_function` is the wake function
        // wait_woken() expects.
        // SAFETY: a live socket whose lock this guard owns; the entry lives
        // on this stack frame from its queueing to its removal.
        unsafe {
            bindings::init_wait_entry(w, 0);
            (*w).func = Some(bindings::woken_wake_function);
            let wq = bindings::sk_sleep(sk);
            bindings::add_wait_queue(wq, w);
            if !ready(&self.0) {
                bindings::release_sock(sk);
                *timeo = bindings::wait_woken(w, bindings::TASK_INTERRUPTIBLE, *timeo);
                bindings::lock_sock(sk);
            }
            bindings::remove_wait_queue(wq, w);
        }
        // SAFETY: as above, the lock retaken.
        if unsafe { (*sk).sk_disconnects } == disconnects {
            Ok(())
        } else {
            Err(())
        }
    }
}

impl<'a> TcpLocked<'a> {
    fn new(sk: &'a TcpSock) -> Self {
        Self {
            sk,
            _not_send: PhantomData,
        }
    }
}

impl TcpLocked<'_> {
    /// The sequence numbers, as TCP left them under this lock.
    pub(crate) fn seqs(&self) -> TcpSeqs {
        // SAFETY: a live TCP socket (type invariant), locked (this guard):
        // TCP writes these fields under the lock or with it owned by softirq,
        // which the lock excludes.
        unsafe {
            let tp = bindings::tcp_sk(self.sk.as_ptr());
            TcpSeqs {
                copied_seq: (*tp).copied_seq,
                rcv_nxt: (*tp).rcv_nxt,
                snd_una: (*tp).snd_una,
                snd_nxt: (*tp).snd_nxt,
                write_seq: (*tp).write_seq,
            }
        }
    }
}

impl TcpLocked<'_> {
    /// The byte counters and activity stamps.
    pub(crate) fn stats(&self) -> TcpStats {
        // SAFETY: as `seqs`.
        unsafe {
            let tp = bindings::tcp_sk(self.sk.as_ptr());
            TcpStats {
                bytes_retrans: (*tp).bytes_retrans,
                bytes_sent: (*tp).bytes_sent,
                bytes_received: (*tp).bytes_received,
                bytes_acked: (*tp).bytes_acked,
                lsndtime: (*tp).lsndtime,
                lrcvtime: (*tp).inet_conn.icsk_ack.lrcvtime,
                rcv_tstamp: (*tp).rcv_tstamp,
            }
        }
    }

    /// The retransmission timeout (`icsk_rto`, jiffies).
    pub(crate) fn rto(&self) -> u32 {
        // SAFETY: a live TCP socket (an inet_connection_sock), locked.
        unsafe { (*self.sk.as_ptr().cast::<bindings::inet_connection_sock>()).icsk_rto }
    }

    /// Whether close() must abort at once: SO_LINGER with a zero timeout.
    pub(crate) fn linger_zero(&self) -> bool {
        let sk = self.sk;
        // SAFETY: live and locked; setsockopt writes it under the lock.
        sk.flag(bindings::sock_flags_SOCK_LINGER) && unsafe { (*sk.as_ptr()).sk_lingertime } == 0
    }

    /// Shuts the send side (`sk_shutdown |= SEND_SHUTDOWN`), as
    /// tcp_shutdown() marks it: sendmsg fails with EPIPE.
    pub(crate) fn shut_send(&mut self) {
        // SAFETY: live and locked: the writers of sk_shutdown hold the lock.
        unsafe { (*self.sk.as_ptr()).sk_shutdown |= bindings::SEND_SHUTDOWN as u8 };
    }

    /// Sends an ACK now (`tcp_send_ack()`).  `&mut self`: no borrow of
    /// what the guard protects lives across it (TCP re-enters our option
    /// hooks when it sends).
    pub(crate) fn send_ack(&mut self) {
        // SAFETY: a live TCP socket, locked.
        unsafe { bindings::tcp_send_ack(self.sk.as_ptr()) };
    }

    /// Closes the receive side (`sk_shutdown |= RCV_SHUTDOWN`), as
    /// tcp_fin() marks it: readers get EOF after the queued data.
    pub(crate) fn shut_recv(&mut self) {
        // SAFETY: live and locked: the writers of sk_shutdown hold the lock.
        unsafe { (*self.sk.as_ptr()).sk_shutdown |= bindings::RCV_SHUTDOWN as u8 };
    }

    /// Keeps every packet TCP builds within `max` octets: lowers
    /// `sk_gso_max_size` to `max`, and `sk_gso_max_segs` so that that many
    /// segments of the current MSS (plus the largest TCP options) fit in
    /// `max` too.  The segment count matters when the MSS is small (bounded
    /// by half the peer's window): `tcp_write_xmit()` grows the send head
    /// to at least `tcp_min_tso_segs` (2) MSS (`tcp_grow_skb()`), whatever
    /// the size limit.
    pub(crate) fn clamp_gso(&self, max: u32) {
        const MAX_TCP_OPTION_SPACE: u32 = 40;
        // SAFETY: a live socket, locked: TCP reads these fields under the
        // lock when it sizes segments (sk_setup_caps() writes them under
        // the lock too); `tcp_sk` of a full TCP socket.
        unsafe {
            let sk = self.sk.as_ptr();
            if (*sk).sk_gso_max_size > max {
                (*sk).sk_gso_max_size = max;
            }
            let mss = (*bindings::tcp_sk(sk)).mss_cache;
            let segs = (max / mss.saturating_add(MAX_TCP_OPTION_SPACE).max(1)).max(1);
            let segs = u16::try_from(segs).unwrap_or(u16::MAX);
            if (*sk).sk_gso_max_segs > segs {
                (*sk).sk_gso_max_segs = segs;
            }
        }
    }

    /// Closes the send side with a FIN (`tcp_shutdown(SEND_SHUTDOWN)`;
    /// `tcp_send_fin()` allocates atomically, so any context).
    pub(crate) fn send_fin(&mut self) {
        // SAFETY: a live TCP socket, locked.
        unsafe { bindings::tcp_shutdown(self.sk.as_ptr(), bindings::SEND_SHUTDOWN as c_int) };
    }

    /// Marks the socket `is_mptcp`: TCP calls our option hooks for it.
    pub(crate) fn set_mptcp(&self) {
        // SAFETY: as in `clear_mptcp`.
        unsafe { (*bindings::tcp_sk(self.sk.as_ptr())).is_mptcp = true };
    }

    /// Stops MPTCP on this subflow (`tp->is_mptcp = false`): TCP no longer
    /// calls our option hooks for it.
    pub(crate) fn clear_mptcp(&self) {
        // SAFETY: a live TCP socket, locked: TCP reads the flag under the
        // lock (a bool of its own, no shared bitfield word).
        unsafe { (*bindings::tcp_sk(self.sk.as_ptr())).is_mptcp = false };
    }

    /// Resets the connection from its receive path, as tcp_reset() does:
    /// RST (with our hooks' options), `err` (positive errno) for the
    /// reader, `tcp_done()`.  The caller drops the segment; TCP's receive
    /// path holds a reference on the socket, so it outlives this.
    pub(crate) fn reset_done(&mut self, err: c_int) {
        self.send_reset(err);
        // SAFETY: a live TCP socket, locked, in TCP's receive path.
        unsafe { bindings::tcp_done(self.sk.as_ptr()) };
    }

    /// RST to the peer (`tcp_send_active_reset()`) and `err` for the
    /// socket's user.
    fn send_reset(&mut self, err: c_int) {
        // SAFETY: a live TCP socket, locked.
        unsafe {
            bindings::tcp_send_active_reset(
                self.sk.as_ptr(),
                bindings::sk_rst_reason_SK_RST_REASON_NOT_SPECIFIED,
            )
        };
        self.sk.set_error(err);
    }

    /// Aborts the connection for a fatal error: RST
    /// (`tcp_send_active_reset()`), `err` (positive errno) for the next
    /// call, both directions shut, CLOSE, `sk_error_report`.  The RST's
    /// options come from our hooks: set the reset reason before.
    pub(crate) fn abort(&mut self, err: c_int) {
        self.send_reset(err);
        let sk = self.sk.as_ptr();
        // SAFETY: a live TCP socket, locked: TCP's state change runs under
        // the lock; `sk_error_report` is the socket's own callback (always
        // set, sock_init_data()).
        unsafe {
            (*sk).sk_shutdown = bindings::SHUTDOWN_MASK as u8;
            bindings::tcp_set_state(sk, bindings::TCP_CLOSE as c_int);
            if let Some(f) = (*sk).sk_error_report {
                f(sk);
            }
        }
    }

    /// Consumes `n` octets at the head of the receive queue as read
    /// (`tcp_read_done()`: advances copied_seq, frees the skbs, may send a
    /// window update).  `&mut self` as [`send_ack`](Self::send_ack).
    pub(crate) fn read_done(&mut self, n: u32) {
        let sk = self.sk.as_ptr();
        // SAFETY: a live TCP socket, locked; TCP stops at what is queued.
        unsafe {
            // tcp_read_done() runs TCP's receive buffer autotuning, whose
            // measure (from copied_seq) is not ours: the msk autotunes by
            // what the application read (`core::rcvbuf`).  A measure that
            // starts after these octets makes TCP's a no-op.
            let tp = bindings::tcp_sk(sk);
            (*tp).rcvq_space.seq = (*tp).copied_seq.wrapping_add(n);
            bindings::tcp_read_done(sk, n as usize);
        }
    }

    /// Asks TCP to ACK at once (`ICSK_ACK_NOW`) if more than one full
    /// segment arrived since the last window we announced, as TCP does for
    /// a reader waiting below its SO_RCVLOWAT (`__tcp_ack_snd_check`).
    pub(crate) fn ack_now_if_segment_unacked(&mut self) {
        let sk = self.sk.as_ptr();
        // SAFETY: a live TCP socket, locked.
        unsafe {
            let tp = bindings::tcp_sk(sk);
            let icsk = sk.cast::<bindings::inet_connection_sock>();
            if (*tp).rcv_nxt.wrapping_sub((*tp).rcv_wup) > u32::from((*icsk).icsk_ack.rcv_mss) {
                (*icsk).icsk_ack.pending |= bindings::inet_csk_ack_state_t_ICSK_ACK_NOW as u8;
            }
        }
    }

    /// The locked socket.
    pub(crate) fn sock(&self) -> &Sock {
        self.sk
    }
}
