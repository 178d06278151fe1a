// SPDX-License-Identifier: GPL-2.0

//! The msk's receive queue: skbs moved off its subflow once their
//! mappings are checked ([`TcpLocked::move_rcv_to`]), read by the msk's
//! recvmsg ([`Msk::rx_copy`]), purged when the connection ends
//! ([`Msk::rx_purge`]).  Mainline's `__mptcp_move_skbs_from_subflow()` and
//! `__mptcp_recvmsg_mskq()`.
//!
//! Locking (the order is: subflow socket lock, then the msk data lock):
//! - the queue (`sk_receive_queue` of the msk sock), its memory charge
//!   (`sk_rmem_alloc`, `sk_forward_alloc` of the msk) and
//!   [`Msk::rx_bytes`] change only under the msk **data lock**
//!   ([`MskDataGuard`]: the msk's socket spinlock with BH off, mainline's
//!   `mptcp_data_lock()`), taken by the subflow's receive path (softirq, or
//!   its owner's backlog) while it holds the subflow lock, and by the
//!   reader; never held across a copy to user space.
//! - Readers: recvmsg holds the first subflow's socket lock (owned) from
//!   the first look at the queue to the last, so one reader at a time
//!   takes skbs off the head; the subflow path only appends.  An skb at
//!   the head is freed only by the reader, so the reader may copy from it
//!   without the data lock.  (One subflow; with several, the msk socket
//!   lock takes that role.)
//!
//! Each queued skb is charged to the msk (`skb_set_owner_r()`), after
//! `sk_rmem_schedule()` against TCP's memory pool (the msk proto shares
//! TCP's, as mainline's); its readable octets are `[offset, end)` of its
//! payload ([`MskSkbCb`], in `skb->cb`, which TCP's control block no
//! longer uses once the skb left the subflow).

use core::mem::{size_of, MaybeUninit};
use core::ptr;
use core::sync::atomic::Ordering;

use kernel::bindings;
use kernel::ffi::c_int;

use super::msk::Msk;
use super::sock::{TcpLocked, TcpSock};
use super::socket::RecvCall;

/// Our control block of an skb on the msk receive queue.
#[repr(C)]
struct MskSkbCb {
    /// First octet not yet read (payload offset).
    offset: u32,
    /// End of the readable octets (payload offset): octets after it are
    /// not the connection's (a clone of part of a subflow skb).
    end: u32,
    /// The skb has a receive timestamp (TCP's `has_rxtstamp`).
    has_rxtstamp: bool,
}

const _: () = assert!(size_of::<MskSkbCb>() <= 48);

/// The msk data lock (see the module documentation): the msk's socket
/// spinlock, BH off.  Not the socket's ownership: a process that owns the
/// msk (lock_sock) does not keep softirq from queueing data.
pub(super) struct MskDataGuard<'a>(&'a Msk);

impl<'a> MskDataGuard<'a> {
    pub(super) fn new(msk: &'a Msk) -> Self {
        // SAFETY: a live msk (its borrow); released by the guard.
        unsafe { bindings::mptcp_data_lock(msk.as_sk()) };
        Self(msk)
    }

    fn queue(&self) -> *mut bindings::sk_buff_head {
        // SAFETY: a live sock; only the address is taken.
        unsafe { ptr::addr_of_mut!((*self.0.as_sk()).sk_receive_queue) }
    }
}

impl Drop for MskDataGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: taken in `new`.
        unsafe { bindings::mptcp_data_unlock(self.0.as_sk()) };
    }
}

/// # Safety
///
/// `skb` is a live skb on the msk receive queue (or being put there) and
/// the caller may access its control block (the data lock, or the reader
/// for a queued skb it alone frees).
unsafe fn cb(skb: *mut bindings::sk_buff) -> *mut MskSkbCb {
    // SAFETY: the caller's promise; `cb` is 48 bytes, aligned to 8.
    unsafe { ptr::addr_of_mut!((*skb).cb).cast::<MskSkbCb>() }
}

/// The msk's receive buffer measure ([`TcpLocked::msk_rcv_space`]).
/// All zero (the msk's initial memory) is "not started".
#[derive(Default)]
pub(crate) struct RcvSpaceSlot {
    /// `space` was started.
    pub(crate) init: bool,
    pub(crate) space: crate::rcvbuf::RcvSpace,
}

/// What the subflow reports for receive buffer autotuning
/// ([`TcpLocked::rcv_tuning`]).
pub(crate) struct RcvTuning {
    /// `tp->rcv_rtt_est.rtt_us` (scaled by 8).
    pub(crate) rtt_us8: u64,
    pub(crate) advmss: u32,
    pub(crate) rcv_wnd: u32,
    pub(crate) scaling_ratio: u8,
    /// `tcp_moderate_rcvbuf` on and SO_RCVBUF not set.
    pub(crate) may_grow: bool,
    /// `tcp_rmem[2]`.
    pub(crate) rmem_max: u32,
    /// `sk_rcvbuf`.
    pub(crate) rcvbuf: u32,
}

/// What [`TcpLocked::move_rcv_to`] did.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Moved {
    /// This many octets went to the msk (copied_seq advanced by as many).
    Octets(u32),
    /// No room: the msk holds a receive buffer's worth, or the memory
    /// pool refused the charge, or no memory for a clone.  The data stays
    /// on the subflow (its window closes) until the reader makes room.
    NoRoom,
    /// No queued skb holds the octet at copied_seq.
    Nothing,
}

impl TcpLocked<'_> {
    /// Moves up to `n` octets from copied_seq on (all queued, checked by
    /// the caller) from this subflow's receive queue to its msk's
    /// ([`msk`](Self::msk); `Nothing` without one): the skb itself when
    /// they are the rest of it, else a clone limited to them.  copied_seq
    /// advances past them (not past a FIN, which the reader of an MPTCP
    /// connection leaves unconsumed).  The reader lets TCP send a window
    /// update once it has read ([`cleanup_rbuf`](Self::cleanup_rbuf)).
    pub(crate) fn move_rcv_to_msk(&mut self, n: u32) -> Moved {
        let Some(msk) = self.msk().map(|m| m.as_sk()) else {
            return Moved::Nothing;
        };
        // SAFETY: the back-pointer is live while the lock is held (see
        // `TcpLocked::msk`), which this `&mut` borrow keeps.
        let msk = unsafe { Msk::from_sk(msk) };
        let sk = self.sock().as_ptr();
        // The skbs on the subflow's queue are TCP's, with TCP's control
        // block; the msk's queue and charge change under the data lock
        // taken below.
        // SAFETY: a live full TCP socket, locked (this guard): its receive
        // queue and copied_seq change only under the lock; the msk is live.
        unsafe {
            let tp = bindings::tcp_sk(sk);
            let copied = (*tp).copied_seq;
            let q = ptr::addr_of_mut!((*sk).sk_receive_queue);
            let skb = bindings::skb_peek(q);
            if skb.is_null() || n == 0 {
                return Moved::Nothing;
            }
            let tcb = (*skb).cb.as_ptr().cast::<bindings::tcp_skb_cb>();
            let off = copied.wrapping_sub((*tcb).seq);
            let len = (*skb).len;
            if off >= len {
                return Moved::Nothing;
            }
            let take = n.min(len - off);
            let whole = off + take == len;
            let has_rxtstamp = (*tcb).has_rxtstamp() != 0;
            let rcvbuf = (*sk).sk_rcvbuf;
            let data = MskDataGuard::new(msk);
            let msk_sk = msk.as_sk();
            // One receive buffer for both (the subflow's: SO_RCVBUF and
            // autotuning act on it; the space hook announces what is left,
            // and after a fallback TCP's window closes on what stays here):
            // nothing moves while they hold more, unless the msk's queue
            // is empty (the reader needs data to make room).
            let held = bindings::sk_rmem_alloc_get(msk_sk);
            if held > 0 && held.saturating_add(bindings::sk_rmem_alloc_get(sk)) > rcvbuf {
                return Moved::NoRoom;
            }
            let target = if whole {
                skb
            } else {
                bindings::skb_clone(skb, bindings::GFP_ATOMIC)
            };
            if target.is_null() {
                return Moved::NoRoom;
            }
            if !bindings::sk_rmem_schedule(msk_sk, target, (*target).truesize as c_int) {
                if !whole {
                    bindings::kfree_skb(target);
                }
                return Moved::NoRoom;
            }
            if whole {
                bindings::__skb_unlink(skb, q);
            }
            // Uncharges the subflow (sock_rfree) for the skb itself.
            bindings::skb_set_owner_r(target, msk_sk);
            bindings::skb_dst_drop(target);
            bindings::skb_ext_reset(target);
            cb(target).write(MskSkbCb {
                offset: off,
                end: off + take,
                has_rxtstamp,
            });
            bindings::__skb_queue_tail(data.queue(), target);
            msk.rx_bytes.fetch_add(take, Ordering::Relaxed);
            drop(data);
            ptr::write_volatile(
                ptr::addr_of_mut!((*tp).copied_seq),
                copied.wrapping_add(take),
            );
            Moved::Octets(take)
        }
    }

    /// After the reader moved or consumed `n` octets: autotuning
    /// (`tcp_rcv_space_adjust()`) and a window update if the window grew
    /// enough (`tcp_cleanup_rbuf()`).  `&mut self`: TCP may send an ACK
    /// (our option hooks run).
    pub(crate) fn cleanup_rbuf(&mut self, n: u32) {
        let sk = self.sock().as_ptr();
        // SAFETY: a live TCP socket, locked.
        unsafe { bindings::tcp_cleanup_rbuf(sk, n as c_int) };
    }

    /// The msk's receive buffer measure, for its reader: `&mut self` is
    /// this subflow's lock, which the msk's one reader holds (module
    /// documentation); None without an msk.
    pub(crate) fn msk_rcv_space(&mut self) -> Option<&mut RcvSpaceSlot> {
        let msk = self.msk()?;
        // SAFETY: only the reader uses the slot, and it holds this lock
        // (exclusively borrowed here) for as long as the reference lives.
        Some(unsafe { &mut *msk.rcv_space.get() })
    }

    /// What receive buffer autotuning reads from the subflow and its
    /// namespace.
    pub(crate) fn rcv_tuning(&self) -> RcvTuning {
        let sk = self.sock().as_ptr();
        // SAFETY: a live full TCP socket, locked; its namespace outlives it.
        unsafe {
            let tp = bindings::tcp_sk(sk);
            let net = self.sock().net().as_ptr();
            let locked = u32::from((*sk).sk_userlocks) & bindings::SOCK_RCVBUF_LOCK != 0;
            RcvTuning {
                rtt_us8: u64::from((*tp).rcv_rtt_est.rtt_us),
                advmss: u32::from((*tp).advmss),
                rcv_wnd: (*tp).rcv_wnd,
                scaling_ratio: (*tp).scaling_ratio,
                may_grow: ptr::read_volatile(ptr::addr_of!((*net).ipv4.sysctl_tcp_moderate_rcvbuf))
                    != 0
                    && !locked,
                rmem_max: u32::try_from(ptr::read_volatile(ptr::addr_of!(
                    (*net).ipv4.sysctl_tcp_rmem[2]
                )))
                .unwrap_or(0),
                rcvbuf: u32::try_from((*sk).sk_rcvbuf).unwrap_or(0),
            }
        }
    }

    /// Grows the receive buffer of the subflow to `rcvbuf` and its window
    /// clamp to `window_clamp` (as `tcp_rcv_space_adjust()`), and the
    /// msk's, which SO_RCVBUF reads, along.
    pub(crate) fn grow_rcvbuf(&mut self, rcvbuf: c_int, window_clamp: u32) {
        let sk = self.sock().as_ptr();
        let msk = self.msk().map(|m| m.as_sk());
        // SAFETY: a live full TCP socket, locked; `msk` is its live msk
        // (the back-pointer, under this lock); both fields are read with
        // READ_ONCE where the lock is not held.
        unsafe {
            ptr::write_volatile(ptr::addr_of_mut!((*sk).sk_rcvbuf), rcvbuf);
            ptr::write_volatile(
                ptr::addr_of_mut!((*bindings::tcp_sk(sk)).window_clamp),
                window_clamp,
            );
            if let Some(m) = msk {
                ptr::write_volatile(ptr::addr_of_mut!((*m).sk_rcvbuf), rcvbuf);
            }
        }
    }

    /// The subflow's receive window scaling ratio (`tp->scaling_ratio`:
    /// payload per 256 octets of buffer).
    pub(crate) fn scaling_ratio(&self) -> u8 {
        // SAFETY: a live TCP socket, locked.
        unsafe { (*bindings::tcp_sk(self.sock().as_ptr())).scaling_ratio }
    }
}

/// Receive timestamps of the skbs a recvmsg read (TCP's
/// `scm_timestamping_internal`), for the `SO_TIMESTAMP*` cmsgs.
pub(crate) struct RecvTstamps {
    tss: bindings::scm_timestamping_internal,
    any: bool,
}

impl RecvTstamps {
    pub(crate) fn new() -> Self {
        Self {
            // SAFETY: plain integers: all-zero is valid (TCP zeroes it too).
            tss: unsafe { MaybeUninit::zeroed().assume_init() },
            any: false,
        }
    }

    /// Puts the cmsgs on the call's message, as tcp_recvmsg() does, with
    /// the subflow's timestamping flags (SO_TIMESTAMP* set on the msk go
    /// to its subflow).
    pub(crate) fn finish(&mut self, call: &RecvCall<'_>, ssk: &TcpSock) {
        if self.any {
            // SAFETY: the call's own message; a live socket.
            unsafe { bindings::tcp_recv_timestamp(call.msg_ptr(), ssk.as_ptr(), &mut self.tss) };
        }
    }
}

impl Msk {
    /// Octets on the receive queue not yet read.
    pub(crate) fn rx_bytes(&self) -> u32 {
        self.rx_bytes.load(Ordering::Relaxed)
    }

    /// The msk's receive memory (`sk_rmem_alloc`).
    pub(crate) fn rmem(&self) -> i32 {
        // SAFETY: a live sock; an atomic read.
        unsafe { bindings::sk_rmem_alloc_get(self.as_sk()) }
    }

    /// Copies up to `len` octets from the head of the receive queue to the
    /// call's message (`peek`: leaves them queued; `trunc`: MSG_TRUNC,
    /// discards them without copying), noting receive timestamps.  Returns
    /// the octets taken, or a negative errno when the first copy fails.
    /// Only the reader (see the module documentation: it holds the first
    /// subflow's socket lock); process context.
    pub(crate) fn rx_copy(
        &self,
        call: &RecvCall<'_>,
        len: usize,
        peek: bool,
        trunc: bool,
        ts: &mut RecvTstamps,
    ) -> Result<usize, c_int> {
        let mut copied = 0usize;
        let mut skb = {
            let d = MskDataGuard::new(self);
            // SAFETY: the queue of a live msk, under the data lock.
            unsafe { bindings::skb_peek(d.queue()) }
        };
        while !skb.is_null() && copied < len {
            // SAFETY: a queued skb that only this reader frees (module
            // documentation): its payload and our control block stay.
            let (off, end, tstamp) = unsafe {
                let c = &*cb(skb);
                (c.offset, c.end, c.has_rxtstamp)
            };
            let n = ((end - off) as usize).min(len - copied);
            if !trunc {
                // SAFETY: [off, off + n) is inside the skb's payload (cb);
                // the call's message, process context.
                let r = unsafe {
                    bindings::skb_copy_datagram_iter(
                        skb,
                        off as c_int,
                        ptr::addr_of_mut!((*call.msg_ptr()).msg_iter),
                        n as c_int,
                    )
                };
                if r != 0 {
                    return if copied == 0 { Err(r) } else { Ok(copied) };
                }
            }
            if tstamp {
                // SAFETY: a live skb; the reader's own record.
                unsafe { bindings::tcp_update_recv_tstamps(skb, &mut ts.tss) };
                ts.any = true;
            }
            copied += n;
            let d = MskDataGuard::new(self);
            // SAFETY: as above; the head skb's control block and the queue
            // change under the data lock held here.
            unsafe {
                if peek {
                    skb = bindings::skb_peek_next(skb, d.queue());
                    continue;
                }
                let n = n as u32;
                self.rx_bytes.fetch_sub(n, Ordering::Relaxed);
                if off + n < end {
                    (*cb(skb)).offset = off + n;
                    break;
                }
                bindings::__skb_unlink(skb, d.queue());
                // Uncharges the msk (sock_rfree), under the data lock.
                bindings::mptcp_consume_skb(skb);
                skb = bindings::skb_peek(d.queue());
            }
        }
        Ok(copied)
    }

    /// Frees everything on the receive queue; returns the unread octets.
    /// The connection ends (msk destruction, disconnect): the caller holds
    /// the first subflow's lock, so no reader is inside
    /// [`rx_copy`](Self::rx_copy).
    pub(crate) fn rx_purge(&self) -> u32 {
        let d = MskDataGuard::new(self);
        let q = d.queue();
        // SAFETY: the queue of a live msk, under the data lock.
        unsafe {
            loop {
                let skb = bindings::skb_peek(q);
                if skb.is_null() {
                    break;
                }
                bindings::__skb_unlink(skb, q);
                bindings::kfree_skb(skb);
            }
        }
        self.rx_bytes.swap(0, Ordering::Relaxed)
    }
}
