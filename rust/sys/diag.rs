// SPDX-License-Identifier: GPL-2.0

//! `ss -M`: the `inet_diag` handler for `IPPROTO_MPTCP` (mainline:
//! `net/mptcp/mptcp_diag.c`), so that `ss -Mti` lists MPTCP sockets with
//! their `MPTCP_INFO`; subflows are TCP sockets and stay visible to
//! `ss -ti`.
//!
//! Mainline finds established msks through its token hash and listeners
//! through TCP's listening hash.  Our msks are in neither, so every msk is
//! on one list ([`Link`] in each [`Msk`]) from `msk_init` until
//! `msk_destroy`, and a dump walks it.
//!
//! The msk forwards everything to its subflow and does not keep addresses
//! or a TCP state of its own; before an msk is reported, [`sync`] copies the
//! subflow's addresses, ports and state into it (mainline's msk keeps them
//! in sync as it goes; `inet_sk_diag_fill()` and the `ss` filters read them
//! from the msk).
//!
//! # Locking
//!
//! `LIST` (a spinlock, taken with BHs off) protects the list links and
//! the list's ends; nothing else is done under it (an msk is taken with a reference,
//! then the lock is dropped).  An msk is reported under its socket lock,
//! which keeps its subflow alive: `msk_close` marks the msk closed under
//! that lock before `msk_destroy` releases the subflow, and [`sync`] skips
//! closed msks.  Lock order: msk socket lock, then the subflow's (taken by
//! [`subflow::mptcp_info`]); never the list lock with either.

use core::mem::size_of;
use core::ptr;

use kernel::bindings;
use kernel::c_str;
use kernel::ffi::{c_int, c_void};
use kernel::prelude::*;

use super::global::Global;
use super::msk::Msk;
use super::sync::{LockKey, SpinLockBh};
use super::TcpSock;
use crate::msk::IPPROTO_MPTCP;
use crate::subflow;

/// An msk's place on the diag list.  Protected by `LIST`.
pub(crate) struct Link {
    prev: *mut Msk,
    next: *mut Msk,
    linked: bool,
}

/// First and last msk on the list, or null.  New msks go to the tail, so
/// a dump's position stays valid across its calls unless msks before it go
/// away (then it skips some, as mainline's may).
struct Ends {
    head: *mut Msk,
    tail: *mut Msk,
}

// SAFETY: the pointers are only followed under `LIST`, whichever CPU holds
// it (module doc); they are not tied to a thread.
unsafe impl Send for Ends {}

/// The list lock and the list's ends (see the module doc).
static LIST: SpinLockBh<Ends> = SpinLockBh::new(Ends {
    head: ptr::null_mut(),
    tail: ptr::null_mut(),
});
static LIST_KEY: LockKey = Global::zeroed();

static HANDLER: Global<bindings::inet_diag_handler> = Global::zeroed();

/// Runs `f` on the list's ends under the list lock.  `register()`
/// initialises the lock in module init, before any msk can exist, so `f`
/// always runs (were it not initialised, nothing would be tracked or
/// dumped, and nothing touched unlocked).
fn locked<R: Default>(f: impl FnOnce(&mut Ends) -> R) -> R {
    match LIST.lock() {
        Some(mut ends) => f(&mut ends),
        None => R::default(),
    }
}

/// Puts a new msk on the list.
///
/// # Safety
///
/// `m` is a live msk not on the list, process context.
pub(super) unsafe fn track(m: *mut Msk) {
    locked(|ends| {
        // SAFETY: the links and the ends are protected by `LIST`, held;
        // `m` and every msk on the list are live (an msk leaves the list in
        // `untrack`, before it is freed).
        unsafe {
            let tail = ends.tail;
            *(*m).diag.get() = Link {
                prev: tail,
                next: ptr::null_mut(),
                linked: true,
            };
            if tail.is_null() {
                ends.head = m;
            } else {
                (*(*tail).diag.get()).next = m;
            }
            ends.tail = m;
        }
    });
}

/// Takes an msk off the list (if `track` put it there).
///
/// # Safety
///
/// `m` is a live msk, called once from its destruction.
pub(super) unsafe fn untrack(m: *mut Msk) {
    locked(|ends| {
        // SAFETY: as in `track`.
        unsafe {
            let Link { prev, next, linked } = *(*m).diag.get();
            if !linked {
                return;
            }
            if prev.is_null() {
                ends.head = next;
            } else {
                (*(*prev).diag.get()).next = next;
            }
            if next.is_null() {
                ends.tail = prev;
            } else {
                (*(*next).diag.get()).prev = prev;
            }
            *(*m).diag.get() = Link::default();
        }
    });
}

impl Default for Link {
    fn default() -> Self {
        Self {
            prev: ptr::null_mut(),
            next: ptr::null_mut(),
            linked: false,
        }
    }
}

/// The first msk of `net` at or after position `pos` of the list, with a
/// reference taken, and the position after it; None at the end.
fn nth(net: *const bindings::net, pos: usize) -> Option<(*mut bindings::sock, usize)> {
    locked(|ends| {
        // SAFETY: under `LIST` every msk on the list is live (module doc).
        unsafe {
            let mut m = ends.head;
            let mut i = 0;
            while !m.is_null() {
                let sk = m.cast::<bindings::sock>();
                if i >= pos
                    && bindings::sock_net(sk).cast_const() == net
                    && bindings::refcount_inc_not_zero(ptr::addr_of_mut!(
                        (*sk).__sk_common.skc_refcnt
                    ))
                {
                    return Some((sk, i + 1));
                }
                i += 1;
                m = (*(*m).diag.get()).next;
            }
            None
        }
    })
}

/// Copies the subflow's addresses, ports and TCP state into the msk, as
/// `inet_sk_diag_fill()` and the filters read them; the subflow, or None
/// if the msk has none or is closed.
///
/// # Safety
///
/// `sk` is an msk the caller holds a reference on and has locked.
unsafe fn sync(sk: *mut bindings::sock) -> Option<*mut bindings::sock> {
    // SAFETY: `sk` is a live, locked msk (# Safety): `msk_close` cannot run
    // past its locked section, so a `first` seen here outlives our lock.
    unsafe {
        if (*sk).sk_shutdown == bindings::SHUTDOWN_MASK as u8
            && bindings::inet_sk_state_load(sk) == bindings::TCP_CLOSE as c_int
        {
            return None;
        }
        // Not closed, so not destroyed while we hold the lock.
        let ssk = Msk::from_sk(sk).first()?.tcp().as_ptr();
        let (c, sc) = (&mut (*sk).__sk_common, &(*ssk).__sk_common);
        c.__bindgen_anon_1 = sc.__bindgen_anon_1;
        c.__bindgen_anon_3 = sc.__bindgen_anon_3;
        c.skc_v6_daddr = sc.skc_v6_daddr;
        c.skc_v6_rcv_saddr = sc.skc_v6_rcv_saddr;
        let (i, si) = (
            sk.cast::<bindings::inet_sock>(),
            ssk.cast::<bindings::inet_sock>(),
        );
        (*i).inet_sport = (*si).inet_sport;
        (*i).inet_saddr = (*si).inet_saddr;
        // The data-level state while the subflow is open (msk lock, then
        // subflow lock: the documented order).
        let st =
            crate::subflow::msk_state(TcpSock::from_raw(ssk), bindings::inet_sk_state_load(ssk));
        if bindings::inet_sk_state_load(sk) != bindings::TCP_LISTEN as c_int {
            bindings::inet_sk_state_store(sk, st);
        }
        Some(ssk)
    }
}

/// One msk into the dump, if it passes the request's filters: the return
/// of `inet_sk_diag_fill()` (negative when the message is full).
///
/// # Safety
///
/// As [`sync`]; the arguments are those of the dump callback.
unsafe fn dump_sk(
    sk: *mut bindings::sock,
    skb: *mut bindings::sk_buff,
    cb: *mut bindings::netlink_callback,
    r: *const bindings::inet_diag_req_v2,
    net_admin: bool,
) -> c_int {
    // SAFETY: as the callers guarantee; the request and callback data are
    // inet_diag's for the duration of the dump.
    unsafe {
        if sync(sk).is_none() {
            return 0;
        }
        let inet = sk.cast::<bindings::inet_sock>();
        let id = &(*r).id;
        if (*r).idiag_states & (1 << (*sk).__sk_common.skc_state) == 0
            || (c_int::from((*r).sdiag_family) != bindings::AF_UNSPEC as c_int
                && (*sk).__sk_common.skc_family != u16::from((*r).sdiag_family))
            || (id.idiag_sport != 0 && id.idiag_sport != (*inet).inet_sport)
            || (id.idiag_dport != 0
                && id.idiag_dport
                    != (*sk)
                        .__sk_common
                        .__bindgen_anon_3
                        .__bindgen_anon_1
                        .skc_dport)
        {
            return 0;
        }
        let data = (*cb).data.cast::<bindings::inet_diag_dump_data>();
        let bc = (*data).req_nlas[bindings::INET_DIAG_REQ_BYTECODE as usize];
        if bindings::inet_diag_bc_sk(bc, sk) == 0 {
            return 0;
        }
        bindings::inet_sk_diag_fill(
            sk,
            bindings::inet_csk(sk),
            skb,
            cb,
            r,
            bindings::NLM_F_MULTI as u16,
            net_admin,
        )
    }
}

/// The dump position is kept in `cb->args[0]` between calls.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn dump(
    skb: *mut bindings::sk_buff,
    cb: *mut bindings::netlink_callback,
    r: *const bindings::inet_diag_req_v2,
) {
    // SAFETY: called by inet_diag_dump() in process context with a reply
    // skb of a netlink socket, its callback and the parsed request.
    unsafe {
        let net_admin = bindings::netlink_net_capable((*cb).skb, bindings::CAP_NET_ADMIN as c_int);
        let net = bindings::sock_net((*skb).sk);
        let args = &mut (*cb).__bindgen_anon_1.args;
        let mut pos = usize::try_from(args[0]).unwrap_or(0);
        while let Some((sk, next)) = nth(net, pos) {
            bindings::lock_sock(sk);
            let ret = dump_sk(sk, skb, cb, r, net_admin);
            bindings::release_sock(sk);
            bindings::sock_put(sk);
            if ret < 0 {
                // The reply is full: this msk comes first next time.
                break;
            }
            pos = next;
            bindings::__cond_resched();
        }
        args[0] = pos as _;
    }
}

/// `ss` asking for one connection by its token (`idiag_cookie[0]`), as
/// mainline.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn dump_one(
    cb: *mut bindings::netlink_callback,
    req: *const bindings::inet_diag_req_v2,
) -> c_int {
    // SAFETY: called by inet_diag_cmd_exact() in process context with the
    // request's callback (its skb is the request).
    unsafe {
        let in_skb = (*cb).skb;
        let net = bindings::sock_net((*in_skb).sk);
        let want = (*req).id.idiag_cookie[0];
        let mut pos = 0;
        while let Some((sk, next)) = nth(net, pos) {
            bindings::lock_sock(sk);
            let mut ret = None;
            if let Some(ssk) = sync(sk) {
                let mut info = bindings::mptcp_info::default();
                subflow::mptcp_info(TcpSock::from_raw(ssk), &mut info);
                if info.mptcpi_token == want && info.mptcpi_token != 0 {
                    ret = Some(reply_one(sk, cb, req, in_skb, net));
                }
            }
            bindings::release_sock(sk);
            bindings::sock_put(sk);
            if let Some(ret) = ret {
                return ret;
            }
            pos = next;
        }
        -(bindings::ENOENT as c_int)
    }
}

/// The reply to `dump_one`, sent.
///
/// # Safety
///
/// As [`sync`]; the other arguments are `dump_one`'s.
unsafe fn reply_one(
    sk: *mut bindings::sock,
    cb: *mut bindings::netlink_callback,
    req: *const bindings::inet_diag_req_v2,
    in_skb: *mut bindings::sk_buff,
    net: *mut bindings::net,
) -> c_int {
    // SAFETY: as the caller guarantees.
    unsafe {
        let size = bindings::nla_total_size(size_of::<bindings::inet_diag_msg>() as c_int) as usize
            + bindings::inet_diag_msg_attrs_size()
            + bindings::nla_total_size(size_of::<bindings::mptcp_info>() as c_int) as usize
            + bindings::nla_total_size(size_of::<bindings::inet_diag_meminfo>() as c_int) as usize
            + 64;
        let rep = bindings::nlmsg_new(size, bindings::GFP_KERNEL);
        if rep.is_null() {
            return -(bindings::ENOMEM as c_int);
        }
        let err = bindings::inet_sk_diag_fill(
            sk,
            bindings::inet_csk(sk),
            rep,
            cb,
            req,
            0,
            bindings::netlink_net_capable(in_skb, bindings::CAP_NET_ADMIN as c_int),
        );
        if err < 0 {
            // kfree_skb(), an inline: drop the unsent reply.
            bindings::sk_skb_reason_drop(
                ptr::null_mut(),
                rep,
                bindings::skb_drop_reason_SKB_DROP_REASON_NOT_SPECIFIED,
            );
            return err;
        }
        bindings::nlmsg_unicast((*net).diag_nlsk, rep, bindings::netlink_cb_portid(in_skb))
    }
}

/// `INET_DIAG_INFO`: the connection's `MPTCP_INFO`, and the queues.
///
/// # Safety
///
/// Only the kernel calls this, through the table it is registered in,
/// with the arguments and locks that callback's contract gives.
unsafe extern "C" fn get_info(
    sk: *mut bindings::sock,
    r: *mut bindings::inet_diag_msg,
    info: *mut c_void,
) {
    // SAFETY: only inet_sk_diag_fill() from our dump/dump_one calls this, msk
    // locked and synced (subflow alive); a non-null `info` is
    // `idiag_info_size` bytes reserved in the reply, not zeroed.
    unsafe {
        let Some(sub) = Msk::from_sk(sk).first() else {
            return;
        };
        let ssk = sub.tcp().as_ptr();
        if bindings::inet_sk_state_load(sk) == bindings::TCP_LISTEN as c_int {
            // Like mainline: the accept queue, from the subflow listener.
            (*r).idiag_rqueue = (*ssk).sk_ack_backlog;
            (*r).idiag_wqueue = (*ssk).sk_max_ack_backlog;
        } else {
            // Unread: the msk's queue and what the subflow still holds
            // (`tcp_diag_get_info()`).
            let tp = bindings::tcp_sk(ssk);
            (*r).idiag_rqueue = (*tp)
                .rcv_nxt
                .wrapping_sub((*tp).copied_seq)
                .saturating_add(Msk::from_sk(sk).rx_bytes())
                .min(i32::MAX as u32);
            (*r).idiag_wqueue = (*tp).write_seq.wrapping_sub((*tp).snd_una);
        }
        if !info.is_null() {
            // The attribute is reserved in the reply skb, not zeroed, and
            // only 4-byte aligned (netlink attributes), while mptcp_info
            // holds u64s: fill an aligned, zeroed copy (padding included,
            // so no old skb memory reaches user space) and copy its bytes.
            let mut tmp = core::mem::MaybeUninit::<bindings::mptcp_info>::zeroed();
            subflow::mptcp_info(TcpSock::from_raw(ssk), &mut *tmp.as_mut_ptr());
            ptr::copy_nonoverlapping(
                tmp.as_ptr().cast::<u8>(),
                info.cast::<u8>(),
                size_of::<bindings::mptcp_info>(),
            );
        }
    }
}

/// Registers the handler.
pub(super) fn register(module: &'static ThisModule) -> Result {
    LIST.init(c_str!("mptcp_diag_list"), &LIST_KEY);
    // SAFETY: module init, before any msk exists and before the handler
    // is visible.
    unsafe {
        let h = &mut *HANDLER.get();
        h.owner = module.as_ptr();
        h.dump = Some(dump);
        h.dump_one = Some(dump_one);
        h.idiag_get_info = Some(get_info);
        h.idiag_type = IPPROTO_MPTCP as u16;
        h.idiag_info_size = size_of::<bindings::mptcp_info>() as u16;
        kernel::error::to_result(bindings::inet_diag_register(HANDLER.get()))
    }
}

/// Unregisters the handler (inet_diag waits for running dumps).
pub(super) fn unregister() {
    // SAFETY: registered by `register()`.
    unsafe { bindings::inet_diag_unregister(HANDLER.get()) };
}
