// SPDX-License-Identifier: GPL-2.0

//! The MP_CAPABLE handshake's decisions (RFC 8684 §3.1), shared by the core
//! endpoint and the kernel glue: from the MP_CAPABLE option a SYN, SYN-ACK
//! or third ACK carries, MPTCP (with what the peer sent) or plain TCP.
//!
//! The option codec already enforces mainline's version rule (any version
//! of at least 1 on the SYN, exactly 1 elsewhere: an MP_CAPABLE with another
//! version does not parse), so these functions see version 1 only, or a
//! SYN's later version that is answered with 1.
//!
//! This file only uses `core` and the sibling `options` module and is
//! included by `#[path]` into the kernel module, so it must stay
//! self-contained.

#![forbid(unsafe_code)]

use crate::options::{MpCapable, MpCapablePayload, MptcpOption, MptcpOptions};

/// What the peer's MP_CAPABLE tells: its key and whether it requires DSS
/// checksums (flag A, or a checksum on MP_CAPABLE with data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerKey {
    /// The peer's key.
    pub key: u64,
    /// The peer requires DSS checksums.
    pub csum: bool,
}

/// The first well-formed MP_CAPABLE option of a TCP option area.
#[must_use]
pub fn find_mpc(opts: &[u8]) -> Option<MpCapable> {
    MptcpOptions::new(opts).find_map(|o| match o {
        Ok(MptcpOption::MpCapable(m)) => Some(m),
        _ => None,
    })
}

/// Server, on a SYN: `Some(csum)` when the SYN asks for MPTCP (`csum`: the
/// client requires DSS checksums), `None` for plain TCP.
#[must_use]
pub fn syn(mpc: Option<&MpCapable>) -> Option<bool> {
    mpc.filter(|m| m.payload == MpCapablePayload::Syn)
        .map(MpCapable::checksum_required)
}

/// Client, on the SYN-ACK: the server's key, or `None` to fall back to TCP
/// (MPCapableFallbackSYNACK).
#[must_use]
pub fn synack(mpc: Option<&MpCapable>) -> Option<PeerKey> {
    match mpc? {
        m @ MpCapable {
            payload: MpCapablePayload::SynAck { sender_key },
            ..
        } => Some(PeerKey {
            key: *sender_key,
            csum: m.checksum_required(),
        }),
        _ => None,
    }
}

/// Server, on the third ACK (or the client's first data, MP_CAPABLE with
/// data): the client's key when the option echoes ours (`local_key`), else
/// `None` (MPCapableFallbackACK).  The client asks for checksums with flag
/// A on the 20-octet ACK, with a checksum in the 22/24-octet ACK with data
/// (whose flag A mainline ignores).  Mainline does not compare the echoed
/// key, as it keeps the request's key; ours is derived statelessly from the
/// request, and a wrong echo means the option is not for this connection.
#[must_use]
pub fn third_ack(mpc: Option<&MpCapable>, local_key: u64) -> Option<PeerKey> {
    match mpc? {
        m @ MpCapable {
            payload:
                MpCapablePayload::Ack {
                    sender_key,
                    receiver_key,
                },
            ..
        } if *receiver_key == local_key => Some(PeerKey {
            key: *sender_key,
            csum: m.checksum_required(),
        }),
        MpCapable {
            payload:
                MpCapablePayload::AckData {
                    sender_key,
                    receiver_key,
                    checksum,
                    ..
                },
            ..
        } if *receiver_key == local_key => Some(PeerKey {
            key: *sender_key,
            csum: checksum.is_some(),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::MPTCP_CAP_CHECKSUM_REQD;

    fn mpc(payload: MpCapablePayload, flags: u8) -> MpCapable {
        MpCapable::new(payload, flags)
    }

    #[test]
    fn syn_asks_mptcp() {
        assert_eq!(syn(Some(&mpc(MpCapablePayload::Syn, 0))), Some(false));
        assert_eq!(
            syn(Some(&mpc(MpCapablePayload::Syn, MPTCP_CAP_CHECKSUM_REQD))),
            Some(true)
        );
        assert_eq!(syn(None), None);
        let sa = MpCapablePayload::SynAck { sender_key: 1 };
        assert_eq!(syn(Some(&mpc(sa, 0))), None);
    }

    #[test]
    fn synack_key_or_fallback() {
        let sa = MpCapablePayload::SynAck { sender_key: 7 };
        assert_eq!(
            synack(Some(&mpc(sa, MPTCP_CAP_CHECKSUM_REQD))),
            Some(PeerKey { key: 7, csum: true })
        );
        assert_eq!(synack(Some(&mpc(MpCapablePayload::Syn, 0))), None);
        assert_eq!(synack(None), None);
    }

    #[test]
    fn third_ack_needs_our_key() {
        let ack = |r| MpCapablePayload::Ack {
            sender_key: 5,
            receiver_key: r,
        };
        assert_eq!(
            third_ack(Some(&mpc(ack(9), 0)), 9),
            Some(PeerKey {
                key: 5,
                csum: false
            })
        );
        assert_eq!(third_ack(Some(&mpc(ack(8), 0)), 9), None);
        let data = MpCapablePayload::AckData {
            sender_key: 5,
            receiver_key: 9,
            data_len: 10,
            checksum: Some(3),
        };
        assert_eq!(
            third_ack(Some(&mpc(data, 0)), 9),
            Some(PeerKey { key: 5, csum: true })
        );
        assert_eq!(third_ack(None, 9), None);
    }

    #[test]
    fn find_mpc_skips_others() {
        let mut buf = [0u8; 40];
        let sa = mpc(MpCapablePayload::SynAck { sender_key: 42 }, 0);
        let n = MptcpOption::MpCapable(sa).encode(&mut buf).unwrap_or(0);
        assert!(n > 0);
        assert_eq!(find_mpc(buf.get(..n).unwrap_or(&[])), Some(sa));
        assert_eq!(find_mpc(&[]), None);
    }
}
