// SPDX-License-Identifier: GPL-2.0

//! Connection tokens in use (RFC 8684 §3.1, §3.2): a token names its
//! connection to MP_JOIN, so no two connections of a network namespace may
//! share one (mainline: `net/mptcp/token.c`).
//!
//! A client draws keys until its token is free and reserves it before its
//! SYN; a server derives its key from the request (see `subflow.rs`) and
//! claims the token at the third ACK, falling back to plain TCP in the
//! (2^-32 per connection) case that it is taken, counted in
//! `MPTcpExtMPFallbackTokenInit` as mainline does.  A token is released
//! when its subflow context is freed.
//!
//! Storage: one vector of `(token, netns)` pairs kept sorted, under a BH
//! spinlock (claims happen in softirq on the server side).  Lookups are
//! binary searches; insertion shifts the tail, fine for the connection
//! counts of stage 2.  MP_JOIN's token -> msk lookup will need a hash table.

use kernel::bindings;
use kernel::c_str;
use kernel::prelude::*;

use crate::global::Global;

/// A token in use in one namespace (`net` is the namespace's address,
/// only compared).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    token: u32,
    net: usize,
}

/// Protects `TOKENS`.  Taken with BHs disabled (softirq users).
static LOCK: Global<bindings::spinlock_t> = {
    // SAFETY: initialised by `init()` before any use.
    unsafe { Global::zeroed() }
};
static LOCK_KEY: Global<bindings::lock_class_key> = {
    // SAFETY: a lockdep class key is valid zeroed (static storage).
    unsafe { Global::zeroed() }
};
/// Sorted; `None` outside the module's lifetime.  Protected by `LOCK`.
static TOKENS: Global<Option<KVec<Entry>>> = {
    // SAFETY: written with `ptr::write` by `init()` before any read.
    unsafe { Global::zeroed() }
};

/// Runs `f` on the table under the lock.
fn with_table<R>(f: impl FnOnce(&mut Option<KVec<Entry>>) -> R) -> R {
    // SAFETY: the lock was initialised by `init()`; spinlock_t starts with
    // its raw_spinlock_t in every configuration.
    unsafe { bindings::_raw_spin_lock_bh(LOCK.get().cast()) };
    // SAFETY: `TOKENS` is only accessed under `LOCK`, held here.
    let r = f(unsafe { &mut *TOKENS.get() });
    // SAFETY: locked above.
    unsafe { bindings::_raw_spin_unlock_bh(LOCK.get().cast()) };
    r
}

/// Claims `token` in `net`; false if it is in use there (or no memory).
pub(crate) fn claim(net: *const bindings::net, token: u32) -> bool {
    let e = Entry { token, net: net as usize };
    with_table(|t| {
        let Some(v) = t.as_mut() else { return false };
        let Err(pos) = v.binary_search(&e) else { return false };
        // Grow first (may fail), then shift the tail up by one.
        if v.push(e, GFP_ATOMIC).is_err() {
            return false;
        }
        if let Some(tail) = v.get_mut(pos..) {
            tail.rotate_right(1);
        }
        true
    })
}

/// Releases a token claimed with [`claim`].
pub(crate) fn release(net: *const bindings::net, token: u32) {
    let e = Entry { token, net: net as usize };
    with_table(|t| {
        if let Some(v) = t.as_mut() {
            if let Ok(pos) = v.binary_search(&e) {
                if let Some(tail) = v.get_mut(pos..) {
                    tail.rotate_left(1);
                }
                let len = v.len() - 1;
                // SAFETY: shrinking by one; the dropped slot holds a copy
                // of the removed `Copy` entry.
                unsafe { v.set_len(len) };
            }
        }
    });
}

/// Module init: before any connection can exist.
pub(crate) fn init() {
    // SAFETY: module init, no concurrent user; the name is static.
    unsafe {
        bindings::__spin_lock_init(LOCK.get(), c_str!("mptcp_tokens").as_char_ptr(), LOCK_KEY.get());
        core::ptr::write(TOKENS.get(), Some(KVec::new()));
    }
}

/// Module exit: after every subflow context (and so every token) is gone.
pub(crate) fn exit() {
    with_table(|t| *t = None);
}
