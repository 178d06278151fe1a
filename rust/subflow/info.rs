// SPDX-License-Identifier: GPL-2.0

//! `MPTCP_INFO` of the connection on a subflow (getsockopt and `ss -M`).

use core::sync::atomic::Ordering;

use kernel::bindings;

use super::rx::data_ack;
use super::{ctx_locked, is_mptcp_state, state, SubflowCtx};
use crate::crypto;
use crate::seq;
use crate::sys::{self, TcpSock};

/// `MPTCP_INFO_FLAG_FALLBACK` (uapi `linux/mptcp.h`).
const INFO_FLAG_FALLBACK: u32 = 1 << 0;
/// `MPTCP_INFO_FLAG_REMOTE_KEY_RECEIVED`.
const INFO_FLAG_REMOTE_KEY_RECEIVED: u32 = 1 << 1;

/// `MPTCP_INFO` of the connection on this subflow, written field by field
/// into `info` (zeroed by the caller, which copies it to user space:
/// padding must stay zero).  In MPTCP state: the data-level fields.  Fallen
/// back: only the flags (`ss -M` shows "fallback"; `getsockopt` never asks,
/// a fallback socket answers as TCP).  Not yet MPTCP (listener, connect in
/// progress, fresh socket): left alone, zeros as mainline answers then.
/// The last-activity times (`last_data_sent`, ...) come from the subflow,
/// which carries all of the connection's data.
/// Process context, `ssk` not locked by the caller.
pub(crate) fn mptcp_info(ssk: &TcpSock, info: &mut bindings::mptcp_info) {
    // `ss -M` calls this with the msk locked, and msk and subflow share a
    // lockdep class (sk_lock-AF_INET[6]): the subflow lock nests one level
    // under it.
    let g = ssk.lock_nested();
    let Some(mut c) = ctx_locked(&g) else {
        return;
    };
    let c = &mut c;
    let st = c.state.load(Ordering::Relaxed);
    let seqs = g.seqs();
    let stats = g.stats();
    if is_mptcp_state(st) {
        let dsn = |seq: u32, c: &SubflowCtx| {
            c.idsn_local.wrapping_add(seq::expand_seq(
                c.snd_rel,
                u64::from(seq.wrapping_sub(c.isn_local)),
            ))
        };
        info.mptcpi_flags = INFO_FLAG_REMOTE_KEY_RECEIVED;
        info.mptcpi_token = crypto::token_and_idsn(c.local_key).0;
        info.mptcpi_write_seq = dsn(seqs.write_seq, c);
        info.mptcpi_snd_una = dsn(seqs.snd_una, c);
        info.mptcpi_rcv_nxt = data_ack(&g, c);
        info.mptcpi_bytes_retrans = stats.bytes_retrans;
        info.mptcpi_bytes_sent = stats.bytes_sent;
        info.mptcpi_bytes_received = stats.bytes_received;
        info.mptcpi_bytes_acked = stats.bytes_acked;
        info.mptcpi_subflows_total = 1;
        info.mptcpi_csum_enabled = u8::from(c.csum_reqd);
    } else if st == state::FALLBACK {
        info.mptcpi_flags = INFO_FLAG_FALLBACK;
        if c.remote_key != 0 {
            info.mptcpi_flags |= INFO_FLAG_REMOTE_KEY_RECEIVED;
        }
    }
    if is_mptcp_state(st) || st == state::FALLBACK {
        // tcp_jiffies32; the stamps are the subflow's own.
        let now = sys::jiffies32();
        let ms = |t: u32| sys::jiffies_to_msecs(now.wrapping_sub(t));
        info.mptcpi_last_data_sent = ms(stats.lsndtime);
        info.mptcpi_last_data_recv = ms(stats.lrcvtime);
        info.mptcpi_last_ack_recv = ms(stats.rcv_tstamp);
    }
}
