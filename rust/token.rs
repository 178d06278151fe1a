// SPDX-License-Identifier: GPL-2.0

//! Connection tokens in use (RFC 8684 §3.1, §3.2): a token names its
//! connection to MP_JOIN, so no two connections of a network namespace may
//! share one (mainline: `net/mptcp/token.c`).
//!
//! A client draws keys until its token is free and reserves it before its
//! SYN; a server derives its key from the request (see
//! `subflow/handshake.rs`) and claims the token at the third ACK, falling
//! back to plain TCP when the claim fails, counted in
//! `MPTcpExtMPFallbackTokenInit` as mainline does.
//! A token is released when its subflow context is freed.
//!
//! # Storage
//!
//! A hash table of [`Bucket`]s allocated once at module init (`kvmalloc`),
//! sized from the machine's memory as mainline sizes its token hash (one
//! bucket per MiB of RAM, a power of two, here clamped to
//! [`MIN_BUCKETS`]..=[`MAX_BUCKETS`]).  A token hashes to a bucket by its
//! low bits mixed with its namespace; each bucket is a short chain of
//! [`Node`]s, one per claim, allocated with `GFP_ATOMIC` (claims happen in
//! softirq on the server side) before the bucket lock is taken.
//!
//! # Bounds
//!
//! * A chain holds at most [`MAX_CHAIN`] tokens (mainline: 4): a claim or a
//!   release walks at most that many nodes with BHs off.  A claim into a
//!   full bucket fails (the connection falls back), as in mainline.
//! * A namespace holds at most as many tokens as there are buckets
//!   (`pernet.tokens`, see [`crate::ctl::token_charge`]), so one
//!   namespace, however many connections it opens, loads the table with at
//!   most one token per bucket on average: another namespace's claim then
//!   meets a full bucket with probability `P(Poisson(1) >= 8)`, about
//!   1e-5.  Past its limit a namespace's own connections fall back.
//!   (Many namespaces together still share the table, as in mainline.)
//!
//! # Locking
//!
//! Each bucket's chain and length are protected by the bucket's own
//! spinlock, taken with BHs disabled (softirq users); no two bucket locks
//! are ever held together, and nothing else is called under one (the node
//! is allocated before and freed after).  The table itself is written only
//! by [`init`] (before any connection can exist) and [`exit`] (after every
//! subflow context, and so every token, is gone); in between it is read
//! without a lock.  The per-namespace counts are atomics.

use kernel::c_str;
use kernel::prelude::*;

use crate::sys::global::{Global, ModuleData};
use crate::sys::sync::{LockKey, SpinLockBh};
use crate::sys::{Net, Unregister};

/// Smallest table: 4096 buckets.
const MIN_BUCKETS: usize = 1 << 12;
/// Largest table: 65536 buckets, mainline's upper limit.
const MAX_BUCKETS: usize = 1 << 16;
/// Tokens per bucket at most (bounds the work of a claim).
const MAX_CHAIN: u32 = 8;

/// One claimed token.
struct Node {
    token: u32,
    /// The namespace's address, only compared.
    net: usize,
    next: Option<KBox<Node>>,
}

/// A hash bucket's chain, under the bucket's lock (taken with BHs
/// disabled).
struct Chain {
    /// The nodes, in no particular order.
    head: Option<KBox<Node>>,
    /// Nodes in `head`, at most [`MAX_CHAIN`].
    len: u32,
}

/// A hash bucket.
type Bucket = SpinLockBh<Chain>;

/// The buckets (a power of two of them); `None` outside the module's
/// lifetime.  Written only by [`init`] and [`exit`] (see the module doc),
/// read without a lock in between.  The buckets never move once
/// allocated: the vector is never grown.
static TABLE: ModuleData<KVVec<Bucket>> = ModuleData::new();
/// The lockdep class of every bucket lock (never nested).
static LOCK_KEY: LockKey = Global::zeroed();

/// The table, while the module is live.
fn table() -> Option<&'static [Bucket]> {
    // `TABLE` is written only by `init()` before any caller can run and by
    // `exit()` after the last one (module doc, "Locking").
    TABLE.get().map(|v| &v[..])
}

/// The bucket of `token` in `net`.
fn bucket(t: &[Bucket], net: usize, token: u32) -> Option<&Bucket> {
    // Tokens are uniformly distributed (SHA-256 of a random or secret-keyed
    // key); the namespace is mixed in so that namespaces do not line up.
    let mix = ((net as u64).wrapping_mul(0x61c8_8646_80b5_83eb) >> 32) as u32;
    // `t.len()` is a power of two.
    t.get(((token ^ mix) as usize) & (t.len().wrapping_sub(1)))
}

/// Runs `f` on the bucket's chain and length under its lock; `None` if
/// the lock is not initialised (never after `init()`).
fn with_bucket<R>(b: &Bucket, f: impl FnOnce(&mut Option<KBox<Node>>, &mut u32) -> R) -> Option<R> {
    let mut chain = b.lock()?;
    let Chain { head, len } = &mut *chain;
    Some(f(head, len))
}

/// Claims `token` in `net`; false if it is in use there, its bucket is
/// full, the namespace holds its limit of tokens, or no memory.
pub(crate) fn claim(net: &Net, token: u32) -> bool {
    let Some(t) = table() else { return false };
    let Some(b) = bucket(t, net.as_ptr() as usize, token) else {
        return false;
    };
    if !crate::ctl::token_charge(net, t.len()) {
        return false;
    }
    let Ok(node) = KBox::new(
        Node {
            token,
            net: net.as_ptr() as usize,
            next: None,
        },
        GFP_ATOMIC,
    ) else {
        crate::ctl::token_uncharge(net);
        return false;
    };
    // Insert unless taken or full; a refused node comes back to be freed
    // outside the lock.
    let mut node = Some(node);
    let _ = with_bucket(b, |head, len| {
        if *len >= MAX_CHAIN || contains(head, net.as_ptr() as usize, token) {
            return;
        }
        if let Some(mut n) = node.take() {
            n.next = head.take();
            *head = Some(n);
            *len += 1;
        }
    });
    let refused = node;
    match refused {
        None => true,
        Some(node) => {
            drop(node);
            crate::ctl::token_uncharge(net);
            false
        }
    }
}

/// Whether the chain holds `token` of `net`.
fn contains(mut cur: &Option<KBox<Node>>, net: usize, token: u32) -> bool {
    while let Some(n) = cur {
        if n.token == token && n.net == net {
            return true;
        }
        cur = &n.next;
    }
    false
}

/// Releases a token claimed with [`claim`].
pub(crate) fn release(net: &Net, token: u32) {
    let Some(t) = table() else { return };
    let Some(b) = bucket(t, net.as_ptr() as usize, token) else {
        return;
    };
    let removed = with_bucket(b, |head, len| {
        // Relink every node but the first match (at most MAX_CHAIN).
        let mut rest = head.take();
        let mut removed = None;
        while let Some(mut n) = rest {
            rest = n.next.take();
            if removed.is_none() && n.token == token && n.net == net.as_ptr() as usize {
                removed = Some(n);
            } else {
                n.next = head.take();
                *head = Some(n);
            }
        }
        if removed.is_some() {
            *len = len.saturating_sub(1);
        }
        removed
    })
    .flatten();
    if removed.is_some() {
        drop(removed);
        crate::ctl::token_uncharge(net);
    }
}

/// Buckets for this machine: one per MiB of RAM, a power of two within
/// [`MIN_BUCKETS`]..=[`MAX_BUCKETS`] (mainline: `alloc_large_system_hash`
/// with scale 20 and at most 64Ki).
fn bucket_count() -> usize {
    let mib = crate::sys::totalram_bytes() >> 20;
    let n = mib.clamp(MIN_BUCKETS, MAX_BUCKETS);
    n.checked_next_power_of_two()
        .unwrap_or(MAX_BUCKETS)
        .min(MAX_BUCKETS)
}

/// Module init: allocates the table, before any connection can exist;
/// dropping the result frees it (module exit).
pub(crate) fn init() -> Result<Unregister> {
    let n = bucket_count();
    let mut v = KVVec::with_capacity(n, GFP_KERNEL)?;
    for _ in 0..n {
        let b = Bucket::new(Chain { head: None, len: 0 });
        // Within the capacity: no reallocation, the buckets stay put.
        v.push(b, GFP_KERNEL)?;
    }
    // Module init, no concurrent user: publishes the table.
    if TABLE.set(v).is_err() {
        return Err(EBUSY);
    }
    // The locks are initialised where they stay (until `exit()`); a bucket
    // refuses to lock before (no claim can come before init returns).
    for b in table().unwrap_or_default() {
        b.init(c_str!("mptcp_token_bucket"), &LOCK_KEY);
    }
    pr_info!(
        "MPTCP token table: {} buckets, at most {} tokens per bucket and {} per namespace\n",
        n,
        MAX_CHAIN,
        n
    );
    Ok(Unregister::new(exit))
}

/// Module exit: after every subflow context (and so every token) is gone.
/// Frees the table (and any node left behind, which would be a leak of a
/// token release).
fn exit() {
    // SAFETY: module exit, after the last user (module doc, "Locking"): no
    // borrow of the table is live or will be made.
    let Some(v) = (unsafe { TABLE.take() }) else {
        return;
    };
    let mut left = 0usize;
    for b in v.iter() {
        // Iteratively, so that a long chain could not recurse in drop.
        let mut rest = with_bucket(b, |head, len| {
            *len = 0;
            head.take()
        })
        .flatten();
        while let Some(mut n) = rest {
            rest = n.next.take();
            left += 1;
        }
    }
    if left != 0 {
        pr_warn!("MPTCP token table: {} tokens never released\n", left);
    }
}
