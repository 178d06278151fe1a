// SPDX-License-Identifier: GPL-2.0

//! Encoder and decoder of the MPTCP v1 (RFC 8684) TCP options.
//!
//! Every MPTCP option is carried in TCP option kind 30 and starts with
//! `kind, length, subtype << 4 | nibble`, all multi-octet fields being in
//! network byte order. [`decode`] parses exactly one option,
//! [`MptcpOption::encode`] writes one, and [`MptcpOptions`] walks a whole TCP
//! options area and yields the MPTCP options found in it.
//!
//! The codec is context free: it does not know the TCP flags of the segment,
//! so an MP_CAPABLE form is identified by its length alone (12 octets is
//! the v1 SYN-ACK form, for instance). Where RFC 8684 leaves room, the rules of
//! mainline Linux (`net/mptcp/options.c`) are followed; see each type for
//! details. Reserved bits are ignored on decode and written as zero.
//!
//! This file only uses `core` and is meant to be included by `#[path]` into
//! other crates (the kernel module), so it must stay self-contained.

#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::arithmetic_side_effects
    )
)]

use core::fmt;
use core::iter::FusedIterator;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

// ---------------------------------------------------------------------------
// TCP option kinds
// ---------------------------------------------------------------------------

/// TCP option kind: End of Option List.
pub const TCPOPT_EOL: u8 = 0;
/// TCP option kind: No-Operation (padding).
pub const TCPOPT_NOP: u8 = 1;
/// TCP option kind of every Multipath TCP option.
pub const TCPOPT_MPTCP: u8 = 30;

// ---------------------------------------------------------------------------
// MPTCP option subtypes (high nibble of the third octet)
// ---------------------------------------------------------------------------

/// Subtype of MP_CAPABLE (RFC 8684 §3.1).
pub const MPTCPOPT_MP_CAPABLE: u8 = 0;
/// Subtype of MP_JOIN (RFC 8684 §3.2).
pub const MPTCPOPT_MP_JOIN: u8 = 1;
/// Subtype of DSS, the Data Sequence Signal (RFC 8684 §3.3).
pub const MPTCPOPT_DSS: u8 = 2;
/// Subtype of ADD_ADDR (RFC 8684 §3.4.1).
pub const MPTCPOPT_ADD_ADDR: u8 = 3;
/// Subtype of REMOVE_ADDR (RFC 8684 §3.4.2).
pub const MPTCPOPT_RM_ADDR: u8 = 4;
/// Subtype of MP_PRIO (RFC 8684 §3.3.8).
pub const MPTCPOPT_MP_PRIO: u8 = 5;
/// Subtype of MP_FAIL (RFC 8684 §3.7).
pub const MPTCPOPT_MP_FAIL: u8 = 6;
/// Subtype of MP_FASTCLOSE (RFC 8684 §3.5).
pub const MPTCPOPT_MP_FASTCLOSE: u8 = 7;
/// Subtype of MP_TCPRST (RFC 8684 §3.6).
pub const MPTCPOPT_RST: u8 = 8;
/// Subtype reserved for private use (MP_EXPERIMENTAL); never decoded.
pub const MPTCPOPT_MP_EXPERIMENTAL: u8 = 0xf;

// ---------------------------------------------------------------------------
// Option lengths (names as in mainline net/mptcp/protocol.h)
// ---------------------------------------------------------------------------

/// MP_CAPABLE on a SYN (v1: no key).
pub const TCPOLEN_MPTCP_MPC_SYN: u8 = 4;
/// MP_CAPABLE on a SYN-ACK (sender's key).
pub const TCPOLEN_MPTCP_MPC_SYNACK: u8 = 12;
/// MP_CAPABLE on the third ACK (both keys).
pub const TCPOLEN_MPTCP_MPC_ACK: u8 = 20;
/// MP_CAPABLE on the first data packet (both keys and data-level length).
pub const TCPOLEN_MPTCP_MPC_ACK_DATA: u8 = 22;
/// MP_CAPABLE on the first data packet, with checksum.
pub const TCPOLEN_MPTCP_MPC_ACK_DATA_CSUM: u8 = 24;
/// MP_JOIN on a SYN.
pub const TCPOLEN_MPTCP_MPJ_SYN: u8 = 12;
/// MP_JOIN on a SYN-ACK.
pub const TCPOLEN_MPTCP_MPJ_SYNACK: u8 = 16;
/// MP_JOIN on the third ACK.
pub const TCPOLEN_MPTCP_MPJ_ACK: u8 = 24;
/// DSS header: kind, length, subtype, flags.
pub const TCPOLEN_MPTCP_DSS_BASE: u8 = 4;
/// DSS 4-octet Data ACK.
pub const TCPOLEN_MPTCP_DSS_ACK32: u8 = 4;
/// DSS 8-octet Data ACK.
pub const TCPOLEN_MPTCP_DSS_ACK64: u8 = 8;
/// DSS mapping with 4-octet DSN: DSN, subflow sequence number, length.
pub const TCPOLEN_MPTCP_DSS_MAP32: u8 = 10;
/// DSS mapping with 8-octet DSN: DSN, subflow sequence number, length.
pub const TCPOLEN_MPTCP_DSS_MAP64: u8 = 14;
/// DSS (and MP_CAPABLE) checksum.
pub const TCPOLEN_MPTCP_DSS_CHECKSUM: u8 = 2;
/// ADD_ADDR, IPv4, with HMAC, no port.
pub const TCPOLEN_MPTCP_ADD_ADDR: u8 = 16;
/// ADD_ADDR, IPv4, with HMAC and port.
pub const TCPOLEN_MPTCP_ADD_ADDR_PORT: u8 = 18;
/// ADD_ADDR echo, IPv4, no port.
pub const TCPOLEN_MPTCP_ADD_ADDR_BASE: u8 = 8;
/// ADD_ADDR echo, IPv4, with port.
pub const TCPOLEN_MPTCP_ADD_ADDR_BASE_PORT: u8 = 10;
/// ADD_ADDR, IPv6, with HMAC, no port.
pub const TCPOLEN_MPTCP_ADD_ADDR6: u8 = 28;
/// ADD_ADDR, IPv6, with HMAC and port.
pub const TCPOLEN_MPTCP_ADD_ADDR6_PORT: u8 = 30;
/// ADD_ADDR echo, IPv6, no port.
pub const TCPOLEN_MPTCP_ADD_ADDR6_BASE: u8 = 20;
/// ADD_ADDR echo, IPv6, with port.
pub const TCPOLEN_MPTCP_ADD_ADDR6_BASE_PORT: u8 = 22;
/// Length of the optional ADD_ADDR port.
pub const TCPOLEN_MPTCP_PORT_LEN: u8 = 2;
/// REMOVE_ADDR header; one octet per address id follows.
pub const TCPOLEN_MPTCP_RM_ADDR_BASE: u8 = 3;
/// MP_PRIO.
pub const TCPOLEN_MPTCP_PRIO: u8 = 3;
/// MP_FASTCLOSE.
pub const TCPOLEN_MPTCP_FASTCLOSE: u8 = 12;
/// MP_TCPRST.
pub const TCPOLEN_MPTCP_RST: u8 = 4;
/// MP_FAIL.
pub const TCPOLEN_MPTCP_FAIL: u8 = 12;
/// Shortest MPTCP option: kind, length and subtype octets.
const MPTCP_OPTION_MIN_LEN: u8 = 3;
/// Longest MPTCP option (ADD_ADDR, IPv6, port and HMAC).
pub const MPTCP_OPTION_MAX_LEN: usize = 30;

// ---------------------------------------------------------------------------
// Flags and field sizes
// ---------------------------------------------------------------------------

/// The MPTCP version implemented (RFC 8684 is version 1).
pub const MPTCP_SUPPORTED_VERSION: u8 = 1;
/// Mask of the MP_CAPABLE version nibble.
pub const MPTCP_VERSION_MASK: u8 = 0x0f;
/// MP_CAPABLE flag A: checksum required.
pub const MPTCP_CAP_CHECKSUM_REQD: u8 = 0x80;
/// MP_CAPABLE flag B: extensibility (must be 0 in v1).
pub const MPTCP_CAP_EXTENSIBILITY: u8 = 0x40;
/// MP_CAPABLE flag C: do not attempt to establish subflows to the source
/// address (mainline: `deny_join_id0`).
pub const MPTCP_CAP_DENY_JOIN_ID0: u8 = 0x20;
/// MP_CAPABLE flag H: HMAC-SHA256 (the only crypto algorithm of v1).
pub const MPTCP_CAP_HMAC_SHA256: u8 = 0x01;
/// MP_CAPABLE crypto flags D..H: must equal [`MPTCP_CAP_HMAC_SHA256`].
pub const MPTCP_CAP_FLAG_MASK: u8 = 0x1f;
/// DSS flag F: DATA_FIN.
pub const MPTCP_DSS_DATA_FIN: u8 = 0x10;
/// DSS flag m: the DSN is 8 octets.
pub const MPTCP_DSS_DSN64: u8 = 0x08;
/// DSS flag M: a mapping (DSN, SSN, length, checksum) is present.
pub const MPTCP_DSS_HAS_MAP: u8 = 0x04;
/// DSS flag a: the Data ACK is 8 octets.
pub const MPTCP_DSS_ACK64: u8 = 0x02;
/// DSS flag A: a Data ACK is present.
pub const MPTCP_DSS_HAS_ACK: u8 = 0x01;
/// Mask of the defined DSS flags; the others are reserved.
pub const MPTCP_DSS_FLAG_MASK: u8 = 0x1f;
/// MP_JOIN flag B: the subflow is a backup path.
pub const MPTCPOPT_BACKUP: u8 = 0x01;
/// MP_PRIO flag B: the subflow is a backup path.
pub const MPTCP_PRIO_BKUP: u8 = 0x01;
/// ADD_ADDR flag E: echo of a received ADD_ADDR (no HMAC).
pub const MPTCP_ADDR_ECHO: u8 = 0x01;
/// MP_TCPRST flag T: the error is transient.
pub const MPTCP_RST_TRANSIENT: u8 = 0x01;
/// MP_TCPRST flag W (unassigned).
pub const MPTCP_RST_FLAG_W: u8 = 0x02;
/// MP_TCPRST flag V (unassigned).
pub const MPTCP_RST_FLAG_V: u8 = 0x04;
/// MP_TCPRST flag U (unassigned).
pub const MPTCP_RST_FLAG_U: u8 = 0x08;
/// Mask of the MP_TCPRST flags U, V, W, T.
pub const MPTCP_RST_FLAG_MASK: u8 = 0x0f;
/// Length of the full HMAC in the MP_JOIN third ACK.
pub const MPTCPOPT_HMAC_LEN: usize = 20;
/// Length of the truncated HMAC in the MP_JOIN SYN-ACK.
pub const MPTCPOPT_THMAC_LEN: usize = 8;
/// Largest number of address ids in one REMOVE_ADDR (as mainline).
pub const MPTCP_RM_IDS_MAX: usize = 8;

// ---------------------------------------------------------------------------
// MP_TCPRST reason codes (RFC 8684 §3.6, names as in uapi/linux/mptcp.h)
// ---------------------------------------------------------------------------

/// MP_TCPRST reason: unspecified error.
pub const MPTCP_RST_EUNSPEC: u8 = 0;
/// MP_TCPRST reason: MPTCP-specific error.
pub const MPTCP_RST_EMPTCP: u8 = 1;
/// MP_TCPRST reason: lack of resources.
pub const MPTCP_RST_ERESOURCE: u8 = 2;
/// MP_TCPRST reason: administratively prohibited.
pub const MPTCP_RST_EPROHIBIT: u8 = 3;
/// MP_TCPRST reason: too much outstanding data.
pub const MPTCP_RST_EWQ2BIG: u8 = 4;
/// MP_TCPRST reason: unacceptable performance.
pub const MPTCP_RST_EBADPERF: u8 = 5;
/// MP_TCPRST reason: middlebox interference.
pub const MPTCP_RST_EMIDDLEBOX: u8 = 6;

/// The reason codes of MP_TCPRST defined by RFC 8684 §3.6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum ResetReason {
    /// Unspecified error (0x00).
    #[default]
    Unspecified = MPTCP_RST_EUNSPEC,
    /// MPTCP-specific error (0x01).
    MptcpSpecific = MPTCP_RST_EMPTCP,
    /// Lack of resources (0x02).
    LackOfResources = MPTCP_RST_ERESOURCE,
    /// Administratively prohibited (0x03).
    AdministrativelyProhibited = MPTCP_RST_EPROHIBIT,
    /// Too much outstanding data (0x04).
    TooMuchOutstandingData = MPTCP_RST_EWQ2BIG,
    /// Unacceptable performance (0x05).
    UnacceptablePerformance = MPTCP_RST_EBADPERF,
    /// Middlebox interference (0x06).
    MiddleboxInterference = MPTCP_RST_EMIDDLEBOX,
}

impl ResetReason {
    /// Maps a wire reason code to the enum; `None` for unassigned codes.
    #[must_use]
    pub const fn from_code(code: u8) -> Option<Self> {
        match code {
            MPTCP_RST_EUNSPEC => Some(Self::Unspecified),
            MPTCP_RST_EMPTCP => Some(Self::MptcpSpecific),
            MPTCP_RST_ERESOURCE => Some(Self::LackOfResources),
            MPTCP_RST_EPROHIBIT => Some(Self::AdministrativelyProhibited),
            MPTCP_RST_EWQ2BIG => Some(Self::TooMuchOutstandingData),
            MPTCP_RST_EBADPERF => Some(Self::UnacceptablePerformance),
            MPTCP_RST_EMIDDLEBOX => Some(Self::MiddleboxInterference),
            _ => None,
        }
    }

    /// The wire reason code.
    #[must_use]
    pub const fn code(self) -> u8 {
        self as u8
    }
}

impl From<ResetReason> for u8 {
    fn from(reason: ResetReason) -> u8 {
        reason.code()
    }
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// Why an option could not be decoded or encoded.
///
/// Mainline ignores a malformed or unknown MPTCP option rather than dropping
/// the segment; callers are expected to count these errors and carry on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OptionError {
    /// The input ends before the option does (shorter than 2 octets, or
    /// shorter than its length octet says). From [`MptcpOptions`]: an
    /// option of any kind runs past the end of the options area.
    Truncated,
    /// The first octet is not [`TCPOPT_MPTCP`].
    WrongKind(u8),
    /// The length octet is below 3, so there is no subtype.
    TooShort(u8),
    /// The subtype is not one RFC 8684 defines (including
    /// [`MPTCPOPT_MP_EXPERIMENTAL`]); mainline ignores such options.
    UnknownSubtype(u8),
    /// The length does not fit the subtype (and, for DSS, the flags; for
    /// ADD_ADDR, the E flag).
    BadLength {
        /// The option subtype.
        subtype: u8,
        /// The option length octet.
        len: u8,
    },
    /// MP_CAPABLE with a version this implementation does not speak: a
    /// version other than 1, or on the 4-octet SYN form a version below 1
    /// (a higher version on the SYN is accepted, as mainline does, so the
    /// peer can be answered with version 1).
    UnsupportedVersion(u8),
    /// A flag combination that is not allowed: MP_CAPABLE with B set or with
    /// crypto flags D..H other than just H. (DSS flags are never rejected:
    /// orphan `a`, `m` and `F` bits are ignored, see [`Dss`].)
    BadFlags {
        /// The option subtype.
        subtype: u8,
        /// The offending flags.
        flags: u8,
    },
    /// A field cannot be put on the wire (encode only): MP_CAPABLE version
    /// above 15, REMOVE_ADDR with no id or more than [`MPTCP_RM_IDS_MAX`],
    /// MP_TCPRST flags above [`MPTCP_RST_FLAG_MASK`].
    InvalidField,
    /// The output buffer is shorter than the option (encode only).
    BufferTooSmall {
        /// The number of octets the option needs.
        needed: usize,
    },
    /// A TCP option in the options area has a length octet below 2
    /// ([`MptcpOptions`] only); parsing of the area stops there.
    MalformedArea,
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Truncated => f.write_str("truncated option"),
            Self::WrongKind(k) => write!(f, "option kind {k} is not MPTCP"),
            Self::TooShort(l) => write!(f, "MPTCP option length {l} too short"),
            Self::UnknownSubtype(s) => write!(f, "unknown MPTCP subtype {s}"),
            Self::BadLength { subtype, len } => {
                write!(f, "bad length {len} for MPTCP subtype {subtype}")
            }
            Self::UnsupportedVersion(v) => write!(f, "unsupported MPTCP version {v}"),
            Self::BadFlags { subtype, flags } => {
                write!(f, "bad flags {flags:#04x} for MPTCP subtype {subtype}")
            }
            Self::InvalidField => f.write_str("field value cannot be encoded"),
            Self::BufferTooSmall { needed } => {
                write!(f, "output buffer too small, {needed} octets needed")
            }
            Self::MalformedArea => f.write_str("malformed TCP options area"),
        }
    }
}

// ---------------------------------------------------------------------------
// Option types
// ---------------------------------------------------------------------------

/// MP_CAPABLE (subtype 0), RFC 8684 §3.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MpCapable {
    /// Protocol version (low nibble of the third octet); 1 for RFC 8684.
    pub version: u8,
    /// Flags octet: A ([`MPTCP_CAP_CHECKSUM_REQD`]), B
    /// ([`MPTCP_CAP_EXTENSIBILITY`]), C ([`MPTCP_CAP_DENY_JOIN_ID0`]),
    /// D..G (unassigned, must be 0), H ([`MPTCP_CAP_HMAC_SHA256`], must be 1).
    pub flags: u8,
    /// The length-dependent part.
    pub payload: MpCapablePayload,
}

/// The forms of MP_CAPABLE, one per length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MpCapablePayload {
    /// Length 4: on the SYN (v1 sends no key).
    Syn,
    /// Length 12: on the SYN-ACK, with the sender's key.
    SynAck {
        /// Option sender's key.
        sender_key: u64,
    },
    /// Length 20: on the third ACK, with both keys.
    Ack {
        /// Option sender's key.
        sender_key: u64,
        /// Option receiver's key.
        receiver_key: u64,
    },
    /// Length 22, or 24 with checksum: on the first data packet, with both
    /// keys and a mapping of the data (DSN and SSN implicitly the first).
    AckData {
        /// Option sender's key.
        sender_key: u64,
        /// Option receiver's key.
        receiver_key: u64,
        /// Data-level length.
        data_len: u16,
        /// DSS checksum (length 24), as read big-endian from the wire.
        checksum: Option<u16>,
    },
}

impl MpCapablePayload {
    /// The option length of this form.
    #[must_use]
    pub const fn wire_len(&self) -> u8 {
        match self {
            Self::Syn => TCPOLEN_MPTCP_MPC_SYN,
            Self::SynAck { .. } => TCPOLEN_MPTCP_MPC_SYNACK,
            Self::Ack { .. } => TCPOLEN_MPTCP_MPC_ACK,
            Self::AckData { checksum: None, .. } => TCPOLEN_MPTCP_MPC_ACK_DATA,
            Self::AckData {
                checksum: Some(_), ..
            } => TCPOLEN_MPTCP_MPC_ACK_DATA_CSUM,
        }
    }
}

impl MpCapable {
    /// A version 1 MP_CAPABLE with flag H set plus `extra_flags`.
    #[must_use]
    pub const fn new(payload: MpCapablePayload, extra_flags: u8) -> Self {
        Self {
            version: MPTCP_SUPPORTED_VERSION,
            flags: MPTCP_CAP_HMAC_SHA256 | extra_flags,
            payload,
        }
    }

    /// Flag A: the sender requires DSS checksums.
    #[must_use]
    pub const fn checksum_required(&self) -> bool {
        self.flags & MPTCP_CAP_CHECKSUM_REQD != 0
    }

    /// Flag C: do not establish new subflows to the source address.
    #[must_use]
    pub const fn deny_join_id0(&self) -> bool {
        self.flags & MPTCP_CAP_DENY_JOIN_ID0 != 0
    }

    /// Flag H: HMAC-SHA256 is in use.
    #[must_use]
    pub const fn hmac_sha256(&self) -> bool {
        self.flags & MPTCP_CAP_HMAC_SHA256 != 0
    }

    /// Checks version and flags as mainline does on receive.
    fn validate(&self, len: u8) -> Result<(), OptionError> {
        if self.version > MPTCP_VERSION_MASK {
            return Err(OptionError::InvalidField);
        }
        check_mpc_version(len, self.version)?;
        check_mpc_flags(self.flags)
    }
}

/// MP_JOIN (subtype 1), RFC 8684 §3.2, one variant per length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MpJoin {
    /// Length 12: on the SYN.
    Syn {
        /// Flag B: the sender wants this subflow as a backup path.
        backup: bool,
        /// Address id of the source address.
        addr_id: u8,
        /// Receiver's token.
        token: u32,
        /// Sender's random number.
        nonce: u32,
    },
    /// Length 16: on the SYN-ACK.
    SynAck {
        /// Flag B: the sender wants this subflow as a backup path.
        backup: bool,
        /// Address id of the source address.
        addr_id: u8,
        /// Sender's truncated HMAC (leftmost 64 bits).
        thmac: u64,
        /// Sender's random number.
        nonce: u32,
    },
    /// Length 24: on the third ACK.
    Ack {
        /// Sender's full HMAC (160 bits).
        hmac: [u8; MPTCPOPT_HMAC_LEN],
    },
}

/// A Data ACK or data sequence number as carried in DSS: 4 or 8 octets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataSeq {
    /// 4-octet field: the low 32 bits of the 64-bit number; expand it with
    /// `seq::mptcp_expand_seq`.
    Bits32(u32),
    /// 8-octet field: the full 64-bit number.
    Bits64(u64),
}

impl DataSeq {
    /// Whether the field is 8 octets on the wire.
    #[must_use]
    pub const fn is_64bit(&self) -> bool {
        matches!(self, Self::Bits64(_))
    }

    /// The value as read from the wire, zero-extended for [`Self::Bits32`].
    #[must_use]
    pub const fn value(&self) -> u64 {
        match *self {
            Self::Bits32(v) => v as u64,
            Self::Bits64(v) => v,
        }
    }
}

/// The mapping part of a DSS option (flag M set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DssMapping {
    /// Data sequence number (flag m selects 8 octets).
    pub dsn: DataSeq,
    /// Subflow sequence number, relative to the subflow's initial sequence
    /// number.
    pub ssn: u32,
    /// Data-level length (0 with an SSN of 0 is the infinite mapping).
    pub data_len: u16,
    /// DSS checksum, present when the option is 2 octets longer than the
    /// flags require; as read big-endian from the wire.
    pub checksum: Option<u16>,
    /// Flag F: this mapping ends with a DATA_FIN (which counts one octet of
    /// `data_len`). RFC 8684 ties the DATA_FIN to a mapping, so F without M
    /// is ignored on decode (as mainline) and cannot be encoded.
    pub data_fin: bool,
}

/// DSS, the Data Sequence Signal (subtype 2), RFC 8684 §3.3.
///
/// Decoding is as lenient as mainline 6.12 `mptcp_parse_option()`: flag
/// `a` (8-octet Data ACK) without `A`, and flags `m` (8-octet DSN) or `F`
/// (DATA_FIN) without `M`, are ignored rather than rejected, and the
/// length is checked against the flags that remain. Encoding is
/// canonical: it sets `a`, `m` and `F` only together with `A` or `M`, so a
/// leniently decoded option re-encodes without its orphan bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dss {
    /// Data ACK (flag A; flag a selects 8 octets).
    pub data_ack: Option<DataSeq>,
    /// Mapping (flag M).
    pub mapping: Option<DssMapping>,
}

impl Dss {
    /// The flags octet (F, m, M, a, A) this option is encoded with.
    #[must_use]
    pub const fn flags(&self) -> u8 {
        let mut flags = 0;
        if let Some(ack) = &self.data_ack {
            flags |= MPTCP_DSS_HAS_ACK;
            if ack.is_64bit() {
                flags |= MPTCP_DSS_ACK64;
            }
        }
        if let Some(map) = &self.mapping {
            flags |= MPTCP_DSS_HAS_MAP;
            if map.dsn.is_64bit() {
                flags |= MPTCP_DSS_DSN64;
            }
            if map.data_fin {
                flags |= MPTCP_DSS_DATA_FIN;
            }
        }
        flags
    }

    /// Flag F: the mapping carries a DATA_FIN.
    #[must_use]
    pub const fn data_fin(&self) -> bool {
        match &self.mapping {
            Some(map) => map.data_fin,
            None => false,
        }
    }

    /// The option length for these fields.
    #[must_use]
    pub const fn wire_len(&self) -> u8 {
        let ack = match &self.data_ack {
            Some(ack) => dss_ack_len(true, ack.is_64bit()),
            None => 0,
        };
        let map = match &self.mapping {
            Some(map) => {
                let csum = if map.checksum.is_some() {
                    TCPOLEN_MPTCP_DSS_CHECKSUM
                } else {
                    0
                };
                dss_map_len(true, map.dsn.is_64bit()).saturating_add(csum)
            }
            None => 0,
        };
        TCPOLEN_MPTCP_DSS_BASE
            .saturating_add(ack)
            .saturating_add(map)
    }
}

/// ADD_ADDR (subtype 3), RFC 8684 §3.4.1.
///
/// The address family is inferred from the length on decode. The E (echo)
/// flag is not stored: it is set exactly when `hmac` is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddAddr {
    /// Address id.
    pub addr_id: u8,
    /// The advertised address.
    pub addr: IpAddr,
    /// Optional port (host byte order value of the big-endian field).
    pub port: Option<u16>,
    /// Truncated HMAC (leftmost 64 bits); `None` for an echo (E = 1).
    pub hmac: Option<u64>,
}

impl AddAddr {
    /// Flag E: this is the echo of a received ADD_ADDR.
    #[must_use]
    pub const fn echo(&self) -> bool {
        self.hmac.is_none()
    }

    /// The option length for these fields.
    #[must_use]
    pub const fn wire_len(&self) -> u8 {
        let base = match self.addr {
            IpAddr::V4(_) => TCPOLEN_MPTCP_ADD_ADDR_BASE,
            IpAddr::V6(_) => TCPOLEN_MPTCP_ADD_ADDR6_BASE,
        };
        let port = if self.port.is_some() {
            TCPOLEN_MPTCP_PORT_LEN
        } else {
            0
        };
        let hmac = if self.hmac.is_some() {
            MPTCPOPT_THMAC_LEN as u8
        } else {
            0
        };
        base.saturating_add(port).saturating_add(hmac)
    }
}

/// REMOVE_ADDR (subtype 4), RFC 8684 §3.4.2: 1 to [`MPTCP_RM_IDS_MAX`]
/// address ids, borrowed from the decoded option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RemoveAddr<'a> {
    /// The address ids to remove.
    pub ids: &'a [u8],
}

/// MP_PRIO (subtype 5), RFC 8684 §3.3.8 (length 3, no address id in v1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MpPrio {
    /// Flag B: the subflow becomes a backup path.
    pub backup: bool,
}

/// MP_FAIL (subtype 6), RFC 8684 §3.7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MpFail {
    /// Data sequence number of the start of the failed mapping.
    pub dsn: u64,
}

/// MP_FASTCLOSE (subtype 7), RFC 8684 §3.5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MpFastclose {
    /// Option receiver's key.
    pub receiver_key: u64,
}

/// MP_TCPRST (subtype 8), RFC 8684 §3.6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MpTcpRst {
    /// Flags U V W T (low nibble); only T ([`MPTCP_RST_TRANSIENT`]) is
    /// assigned. Must not exceed [`MPTCP_RST_FLAG_MASK`].
    pub flags: u8,
    /// Reason code, see [`ResetReason`]; unassigned codes are kept as is.
    pub reason: u8,
}

impl MpTcpRst {
    /// An MP_TCPRST with flag T set as `transient`.
    #[must_use]
    pub const fn new(transient: bool, reason: ResetReason) -> Self {
        Self {
            flags: if transient { MPTCP_RST_TRANSIENT } else { 0 },
            reason: reason.code(),
        }
    }

    /// Flag T: the error is transient, the subflow may be retried.
    #[must_use]
    pub const fn transient(&self) -> bool {
        self.flags & MPTCP_RST_TRANSIENT != 0
    }

    /// The reason code, if it is one RFC 8684 assigns.
    #[must_use]
    pub const fn reason_code(&self) -> Option<ResetReason> {
        ResetReason::from_code(self.reason)
    }
}

/// One decoded MPTCP option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MptcpOption<'a> {
    /// MP_CAPABLE.
    MpCapable(MpCapable),
    /// MP_JOIN.
    MpJoin(MpJoin),
    /// DSS.
    Dss(Dss),
    /// ADD_ADDR.
    AddAddr(AddAddr),
    /// REMOVE_ADDR.
    RemoveAddr(RemoveAddr<'a>),
    /// MP_PRIO.
    MpPrio(MpPrio),
    /// MP_FAIL.
    MpFail(MpFail),
    /// MP_FASTCLOSE.
    MpFastclose(MpFastclose),
    /// MP_TCPRST.
    MpTcpRst(MpTcpRst),
}

// ---------------------------------------------------------------------------
// Shared validation helpers
// ---------------------------------------------------------------------------

const fn dss_ack_len(has_ack: bool, ack64: bool) -> u8 {
    match (has_ack, ack64) {
        (false, _) => 0,
        (true, false) => TCPOLEN_MPTCP_DSS_ACK32,
        (true, true) => TCPOLEN_MPTCP_DSS_ACK64,
    }
}

const fn dss_map_len(has_map: bool, dsn64: bool) -> u8 {
    match (has_map, dsn64) {
        (false, _) => 0,
        (true, false) => TCPOLEN_MPTCP_DSS_MAP32,
        (true, true) => TCPOLEN_MPTCP_DSS_MAP64,
    }
}

/// Mainline: be gentle to future versions on the initial SYN only.
const fn check_mpc_version(len: u8, version: u8) -> Result<(), OptionError> {
    let ok = if len == TCPOLEN_MPTCP_MPC_SYN {
        version >= MPTCP_SUPPORTED_VERSION
    } else {
        version == MPTCP_SUPPORTED_VERSION
    };
    if ok {
        Ok(())
    } else {
        Err(OptionError::UnsupportedVersion(version))
    }
}

/// Mainline: exactly H among D..H, and B clear.
const fn check_mpc_flags(flags: u8) -> Result<(), OptionError> {
    if flags & MPTCP_CAP_FLAG_MASK != MPTCP_CAP_HMAC_SHA256 || flags & MPTCP_CAP_EXTENSIBILITY != 0
    {
        Err(OptionError::BadFlags {
            subtype: MPTCPOPT_MP_CAPABLE,
            flags,
        })
    } else {
        Ok(())
    }
}

/// Splits the third octet into subtype (high nibble) and low nibble.
const fn split_nibbles(octet: u8) -> (u8, u8) {
    (octet.wrapping_shr(4), octet & 0x0f)
}

/// Builds the third octet from subtype and low nibble.
const fn join_nibbles(subtype: u8, low: u8) -> u8 {
    subtype.wrapping_shl(4) | (low & 0x0f)
}

// ---------------------------------------------------------------------------
// Reading and writing helpers (never index, never panic)
// ---------------------------------------------------------------------------

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn array<const N: usize>(&mut self) -> Result<[u8; N], OptionError> {
        let (head, tail) = self
            .rest
            .split_first_chunk::<N>()
            .ok_or(OptionError::Truncated)?;
        self.rest = tail;
        Ok(*head)
    }

    fn u8(&mut self) -> Result<u8, OptionError> {
        let [b] = self.array::<1>()?;
        Ok(b)
    }

    fn be16(&mut self) -> Result<u16, OptionError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn be32(&mut self) -> Result<u32, OptionError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    fn be64(&mut self) -> Result<u64, OptionError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    fn remaining(&self) -> &'a [u8] {
        self.rest
    }
}

struct Writer<'b> {
    out: &'b mut [u8],
    pos: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), OptionError> {
        let end = self
            .pos
            .checked_add(bytes.len())
            .ok_or(OptionError::BufferTooSmall { needed: usize::MAX })?;
        let dst = self
            .out
            .get_mut(self.pos..end)
            .ok_or(OptionError::BufferTooSmall { needed: end })?;
        dst.copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }

    fn u8(&mut self, v: u8) -> Result<(), OptionError> {
        self.put(&[v])
    }

    fn be16(&mut self, v: u16) -> Result<(), OptionError> {
        self.put(&v.to_be_bytes())
    }

    fn be32(&mut self, v: u32) -> Result<(), OptionError> {
        self.put(&v.to_be_bytes())
    }

    fn be64(&mut self, v: u64) -> Result<(), OptionError> {
        self.put(&v.to_be_bytes())
    }

    fn data_seq(&mut self, v: DataSeq) -> Result<(), OptionError> {
        match v {
            DataSeq::Bits32(v) => self.be32(v),
            DataSeq::Bits64(v) => self.be64(v),
        }
    }

    /// Kind, length and the subtype/nibble octet.
    fn header(&mut self, len: u8, subtype: u8, low: u8) -> Result<(), OptionError> {
        self.put(&[TCPOPT_MPTCP, len, join_nibbles(subtype, low)])
    }
}

// ---------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------

/// Decodes one MPTCP option.
///
/// `bytes` starts with the kind octet (which must be [`TCPOPT_MPTCP`]); the
/// length octet decides how many octets belong to the option, and anything
/// after them is not looked at. Reserved bits are ignored, and so are DSS
/// flags that have no meaning without another (see [`Dss`]).
///
/// # Errors
///
/// See [`OptionError`]: the caller should count and ignore the option, as
/// mainline does, rather than drop the segment.
pub fn decode(bytes: &[u8]) -> Result<MptcpOption<'_>, OptionError> {
    let (&kind, rest) = bytes.split_first().ok_or(OptionError::Truncated)?;
    if kind != TCPOPT_MPTCP {
        return Err(OptionError::WrongKind(kind));
    }
    let &len = rest.first().ok_or(OptionError::Truncated)?;
    if len < MPTCP_OPTION_MIN_LEN {
        return Err(OptionError::TooShort(len));
    }
    let (opt, _) = bytes
        .split_at_checked(usize::from(len))
        .ok_or(OptionError::Truncated)?;
    let (_, body) = opt.split_at_checked(2).ok_or(OptionError::Truncated)?;
    let mut r = Reader { rest: body };
    let (subtype, low) = split_nibbles(r.u8()?);
    let opt = match subtype {
        MPTCPOPT_MP_CAPABLE => MptcpOption::MpCapable(decode_mp_capable(len, low, &mut r)?),
        MPTCPOPT_MP_JOIN => MptcpOption::MpJoin(decode_mp_join(len, low, &mut r)?),
        MPTCPOPT_DSS => MptcpOption::Dss(decode_dss(len, &mut r)?),
        MPTCPOPT_ADD_ADDR => MptcpOption::AddAddr(decode_add_addr(len, low, &mut r)?),
        MPTCPOPT_RM_ADDR => {
            let max = TCPOLEN_MPTCP_RM_ADDR_BASE.saturating_add(MPTCP_RM_IDS_MAX as u8);
            if len <= TCPOLEN_MPTCP_RM_ADDR_BASE || len > max {
                return Err(bad_len(subtype, len));
            }
            MptcpOption::RemoveAddr(RemoveAddr { ids: r.remaining() })
        }
        MPTCPOPT_MP_PRIO => {
            expect_len(subtype, len, TCPOLEN_MPTCP_PRIO)?;
            MptcpOption::MpPrio(MpPrio {
                backup: low & MPTCP_PRIO_BKUP != 0,
            })
        }
        MPTCPOPT_MP_FAIL => {
            expect_len(subtype, len, TCPOLEN_MPTCP_FAIL)?;
            let _reserved = r.u8()?;
            MptcpOption::MpFail(MpFail { dsn: r.be64()? })
        }
        MPTCPOPT_MP_FASTCLOSE => {
            expect_len(subtype, len, TCPOLEN_MPTCP_FASTCLOSE)?;
            let _reserved = r.u8()?;
            MptcpOption::MpFastclose(MpFastclose {
                receiver_key: r.be64()?,
            })
        }
        MPTCPOPT_RST => {
            expect_len(subtype, len, TCPOLEN_MPTCP_RST)?;
            MptcpOption::MpTcpRst(MpTcpRst {
                flags: low,
                reason: r.u8()?,
            })
        }
        _ => return Err(OptionError::UnknownSubtype(subtype)),
    };
    Ok(opt)
}

const fn bad_len(subtype: u8, len: u8) -> OptionError {
    OptionError::BadLength { subtype, len }
}

const fn expect_len(subtype: u8, len: u8, want: u8) -> Result<(), OptionError> {
    if len == want {
        Ok(())
    } else {
        Err(bad_len(subtype, len))
    }
}

fn decode_mp_capable(len: u8, version: u8, r: &mut Reader<'_>) -> Result<MpCapable, OptionError> {
    if !matches!(
        len,
        TCPOLEN_MPTCP_MPC_SYN
            | TCPOLEN_MPTCP_MPC_SYNACK
            | TCPOLEN_MPTCP_MPC_ACK
            | TCPOLEN_MPTCP_MPC_ACK_DATA
            | TCPOLEN_MPTCP_MPC_ACK_DATA_CSUM
    ) {
        return Err(bad_len(MPTCPOPT_MP_CAPABLE, len));
    }
    check_mpc_version(len, version)?;
    let flags = r.u8()?;
    check_mpc_flags(flags)?;
    let payload = match len {
        TCPOLEN_MPTCP_MPC_SYN => MpCapablePayload::Syn,
        TCPOLEN_MPTCP_MPC_SYNACK => MpCapablePayload::SynAck {
            sender_key: r.be64()?,
        },
        TCPOLEN_MPTCP_MPC_ACK => MpCapablePayload::Ack {
            sender_key: r.be64()?,
            receiver_key: r.be64()?,
        },
        _ => MpCapablePayload::AckData {
            sender_key: r.be64()?,
            receiver_key: r.be64()?,
            data_len: r.be16()?,
            checksum: if len == TCPOLEN_MPTCP_MPC_ACK_DATA_CSUM {
                Some(r.be16()?)
            } else {
                None
            },
        },
    };
    Ok(MpCapable {
        version,
        flags,
        payload,
    })
}

fn decode_mp_join(len: u8, low: u8, r: &mut Reader<'_>) -> Result<MpJoin, OptionError> {
    let backup = low & MPTCPOPT_BACKUP != 0;
    match len {
        TCPOLEN_MPTCP_MPJ_SYN => Ok(MpJoin::Syn {
            backup,
            addr_id: r.u8()?,
            token: r.be32()?,
            nonce: r.be32()?,
        }),
        TCPOLEN_MPTCP_MPJ_SYNACK => Ok(MpJoin::SynAck {
            backup,
            addr_id: r.u8()?,
            thmac: r.be64()?,
            nonce: r.be32()?,
        }),
        TCPOLEN_MPTCP_MPJ_ACK => {
            let _reserved = r.u8()?;
            Ok(MpJoin::Ack { hmac: r.array()? })
        }
        _ => Err(bad_len(MPTCPOPT_MP_JOIN, len)),
    }
}

fn decode_dss(len: u8, r: &mut Reader<'_>) -> Result<Dss, OptionError> {
    if len < TCPOLEN_MPTCP_DSS_BASE {
        return Err(bad_len(MPTCPOPT_DSS, len));
    }
    let flags = r.u8()? & MPTCP_DSS_FLAG_MASK;
    let has_ack = flags & MPTCP_DSS_HAS_ACK != 0;
    let has_map = flags & MPTCP_DSS_HAS_MAP != 0;
    // As mainline mptcp_parse_option(): 'a' only means something with 'A',
    // 'm' and 'F' only with 'M'; orphan bits are ignored, not rejected.
    let ack64 = has_ack && flags & MPTCP_DSS_ACK64 != 0;
    let dsn64 = has_map && flags & MPTCP_DSS_DSN64 != 0;
    let data_fin = has_map && flags & MPTCP_DSS_DATA_FIN != 0;
    let expected = TCPOLEN_MPTCP_DSS_BASE
        .saturating_add(dss_ack_len(has_ack, ack64))
        .saturating_add(dss_map_len(has_map, dsn64));
    let has_csum = if len == expected {
        false
    } else if has_map && len == expected.saturating_add(TCPOLEN_MPTCP_DSS_CHECKSUM) {
        true
    } else {
        return Err(bad_len(MPTCPOPT_DSS, len));
    };
    let data_ack = match (has_ack, ack64) {
        (false, _) => None,
        (true, false) => Some(DataSeq::Bits32(r.be32()?)),
        (true, true) => Some(DataSeq::Bits64(r.be64()?)),
    };
    let mapping = if has_map {
        let dsn = if dsn64 {
            DataSeq::Bits64(r.be64()?)
        } else {
            DataSeq::Bits32(r.be32()?)
        };
        Some(DssMapping {
            dsn,
            ssn: r.be32()?,
            data_len: r.be16()?,
            checksum: if has_csum { Some(r.be16()?) } else { None },
            data_fin,
        })
    } else {
        None
    };
    Ok(Dss { data_ack, mapping })
}

fn decode_add_addr(len: u8, low: u8, r: &mut Reader<'_>) -> Result<AddAddr, OptionError> {
    let echo = low & MPTCP_ADDR_ECHO != 0;
    // (is IPv6, has port), by length and E flag as mainline does.
    let (v6, has_port) = match (echo, len) {
        (false, TCPOLEN_MPTCP_ADD_ADDR) | (true, TCPOLEN_MPTCP_ADD_ADDR_BASE) => (false, false),
        (false, TCPOLEN_MPTCP_ADD_ADDR_PORT) | (true, TCPOLEN_MPTCP_ADD_ADDR_BASE_PORT) => {
            (false, true)
        }
        (false, TCPOLEN_MPTCP_ADD_ADDR6) | (true, TCPOLEN_MPTCP_ADD_ADDR6_BASE) => (true, false),
        (false, TCPOLEN_MPTCP_ADD_ADDR6_PORT) | (true, TCPOLEN_MPTCP_ADD_ADDR6_BASE_PORT) => {
            (true, true)
        }
        _ => return Err(bad_len(MPTCPOPT_ADD_ADDR, len)),
    };
    let addr_id = r.u8()?;
    let addr = if v6 {
        IpAddr::V6(Ipv6Addr::from(r.array::<16>()?))
    } else {
        IpAddr::V4(Ipv4Addr::from(r.array::<4>()?))
    };
    let port = if has_port { Some(r.be16()?) } else { None };
    let hmac = if echo { None } else { Some(r.be64()?) };
    Ok(AddAddr {
        addr_id,
        addr,
        port,
        hmac,
    })
}

// ---------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------

impl<'a> MptcpOption<'a> {
    /// Decodes one MPTCP option; same as the free function [`decode`].
    ///
    /// # Errors
    ///
    /// See [`decode`].
    pub fn decode(bytes: &'a [u8]) -> Result<Self, OptionError> {
        decode(bytes)
    }

    /// The subtype (`MPTCPOPT_*`) of this option.
    #[must_use]
    pub const fn subtype(&self) -> u8 {
        match self {
            Self::MpCapable(_) => MPTCPOPT_MP_CAPABLE,
            Self::MpJoin(_) => MPTCPOPT_MP_JOIN,
            Self::Dss(_) => MPTCPOPT_DSS,
            Self::AddAddr(_) => MPTCPOPT_ADD_ADDR,
            Self::RemoveAddr(_) => MPTCPOPT_RM_ADDR,
            Self::MpPrio(_) => MPTCPOPT_MP_PRIO,
            Self::MpFail(_) => MPTCPOPT_MP_FAIL,
            Self::MpFastclose(_) => MPTCPOPT_MP_FASTCLOSE,
            Self::MpTcpRst(_) => MPTCPOPT_RST,
        }
    }

    /// The number of octets [`Self::encode`] writes (kind and length
    /// included, no padding). For an option that `encode` rejects (e.g. a
    /// REMOVE_ADDR with too many ids) this is the length it would have had.
    #[must_use]
    pub const fn encoded_len(&self) -> usize {
        match self {
            Self::MpCapable(o) => o.payload.wire_len() as usize,
            Self::MpJoin(MpJoin::Syn { .. }) => TCPOLEN_MPTCP_MPJ_SYN as usize,
            Self::MpJoin(MpJoin::SynAck { .. }) => TCPOLEN_MPTCP_MPJ_SYNACK as usize,
            Self::MpJoin(MpJoin::Ack { .. }) => TCPOLEN_MPTCP_MPJ_ACK as usize,
            Self::Dss(o) => o.wire_len() as usize,
            Self::AddAddr(o) => o.wire_len() as usize,
            Self::RemoveAddr(o) => {
                (TCPOLEN_MPTCP_RM_ADDR_BASE as usize).saturating_add(o.ids.len())
            }
            Self::MpPrio(_) => TCPOLEN_MPTCP_PRIO as usize,
            Self::MpFail(_) => TCPOLEN_MPTCP_FAIL as usize,
            Self::MpFastclose(_) => TCPOLEN_MPTCP_FASTCLOSE as usize,
            Self::MpTcpRst(_) => TCPOLEN_MPTCP_RST as usize,
        }
    }

    /// Validates the fields and returns the option length octet.
    fn checked_len(&self) -> Result<u8, OptionError> {
        match self {
            Self::MpCapable(o) => {
                let len = o.payload.wire_len();
                o.validate(len)?;
                Ok(len)
            }
            Self::RemoveAddr(o) => {
                if o.ids.is_empty() || o.ids.len() > MPTCP_RM_IDS_MAX {
                    return Err(OptionError::InvalidField);
                }
                u8::try_from(self.encoded_len()).map_err(|_| OptionError::InvalidField)
            }
            Self::MpTcpRst(o) => {
                if o.flags > MPTCP_RST_FLAG_MASK {
                    return Err(OptionError::InvalidField);
                }
                Ok(TCPOLEN_MPTCP_RST)
            }
            _ => u8::try_from(self.encoded_len()).map_err(|_| OptionError::InvalidField),
        }
    }

    /// Writes the option (kind, length, subtype and fields, network byte
    /// order, reserved bits zero, no padding) at the start of `out` and
    /// returns the number of octets written, [`Self::encoded_len`].
    ///
    /// Whatever `encode` accepts, [`decode`] gives back unchanged: fields
    /// that decode would reject (MP_CAPABLE version or flags, REMOVE_ADDR
    /// count) are rejected here too, and nothing is written then.
    ///
    /// # Errors
    ///
    /// [`OptionError::BufferTooSmall`] if `out` is too short;
    /// [`OptionError::InvalidField`], [`OptionError::UnsupportedVersion`] or
    /// [`OptionError::BadFlags`] for fields that cannot be sent.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, OptionError> {
        let len = self.checked_len()?;
        let needed = usize::from(len);
        if out.len() < needed {
            return Err(OptionError::BufferTooSmall { needed });
        }
        let mut w = Writer { out, pos: 0 };
        match self {
            Self::MpCapable(o) => {
                w.header(len, MPTCPOPT_MP_CAPABLE, o.version)?;
                w.u8(o.flags)?;
                match o.payload {
                    MpCapablePayload::Syn => {}
                    MpCapablePayload::SynAck { sender_key } => w.be64(sender_key)?,
                    MpCapablePayload::Ack {
                        sender_key,
                        receiver_key,
                    } => {
                        w.be64(sender_key)?;
                        w.be64(receiver_key)?;
                    }
                    MpCapablePayload::AckData {
                        sender_key,
                        receiver_key,
                        data_len,
                        checksum,
                    } => {
                        w.be64(sender_key)?;
                        w.be64(receiver_key)?;
                        w.be16(data_len)?;
                        if let Some(csum) = checksum {
                            w.be16(csum)?;
                        }
                    }
                }
            }
            Self::MpJoin(o) => match *o {
                MpJoin::Syn {
                    backup,
                    addr_id,
                    token,
                    nonce,
                } => {
                    w.header(len, MPTCPOPT_MP_JOIN, flag(backup, MPTCPOPT_BACKUP))?;
                    w.u8(addr_id)?;
                    w.be32(token)?;
                    w.be32(nonce)?;
                }
                MpJoin::SynAck {
                    backup,
                    addr_id,
                    thmac,
                    nonce,
                } => {
                    w.header(len, MPTCPOPT_MP_JOIN, flag(backup, MPTCPOPT_BACKUP))?;
                    w.u8(addr_id)?;
                    w.be64(thmac)?;
                    w.be32(nonce)?;
                }
                MpJoin::Ack { hmac } => {
                    w.header(len, MPTCPOPT_MP_JOIN, 0)?;
                    w.u8(0)?;
                    w.put(&hmac)?;
                }
            },
            Self::Dss(o) => {
                w.header(len, MPTCPOPT_DSS, 0)?;
                w.u8(o.flags())?;
                if let Some(ack) = o.data_ack {
                    w.data_seq(ack)?;
                }
                if let Some(map) = o.mapping {
                    w.data_seq(map.dsn)?;
                    w.be32(map.ssn)?;
                    w.be16(map.data_len)?;
                    if let Some(csum) = map.checksum {
                        w.be16(csum)?;
                    }
                }
            }
            Self::AddAddr(o) => {
                w.header(len, MPTCPOPT_ADD_ADDR, flag(o.echo(), MPTCP_ADDR_ECHO))?;
                w.u8(o.addr_id)?;
                match o.addr {
                    IpAddr::V4(a) => w.put(&a.octets())?,
                    IpAddr::V6(a) => w.put(&a.octets())?,
                }
                if let Some(port) = o.port {
                    w.be16(port)?;
                }
                if let Some(hmac) = o.hmac {
                    w.be64(hmac)?;
                }
            }
            Self::RemoveAddr(o) => {
                w.header(len, MPTCPOPT_RM_ADDR, 0)?;
                w.put(o.ids)?;
            }
            Self::MpPrio(o) => {
                w.header(len, MPTCPOPT_MP_PRIO, flag(o.backup, MPTCP_PRIO_BKUP))?;
            }
            Self::MpFail(o) => {
                w.header(len, MPTCPOPT_MP_FAIL, 0)?;
                w.u8(0)?;
                w.be64(o.dsn)?;
            }
            Self::MpFastclose(o) => {
                w.header(len, MPTCPOPT_MP_FASTCLOSE, 0)?;
                w.u8(0)?;
                w.be64(o.receiver_key)?;
            }
            Self::MpTcpRst(o) => {
                w.header(len, MPTCPOPT_RST, o.flags)?;
                w.u8(o.reason)?;
            }
        }
        Ok(w.pos)
    }
}

const fn flag(set: bool, bit: u8) -> u8 {
    if set {
        bit
    } else {
        0
    }
}

// ---------------------------------------------------------------------------
// Walking a TCP options area
// ---------------------------------------------------------------------------

/// One TCP option of an options area, other than EOL and NOP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RawOption<'a> {
    /// The option kind.
    pub kind: u8,
    /// The whole option, kind and length octets included.
    pub bytes: &'a [u8],
}

/// Iterator over the options of a TCP options area (the octets after the
/// fixed 20-octet TCP header), following mainline `mptcp_get_options()`:
/// NOPs are skipped, EOL ends the walk, and an option whose length octet is
/// missing, below 2, or runs past the end yields one error and ends it.
#[derive(Debug, Clone)]
pub struct TcpOptions<'a> {
    area: &'a [u8],
}

impl<'a> TcpOptions<'a> {
    /// Walks `area`.
    #[must_use]
    pub const fn new(area: &'a [u8]) -> Self {
        Self { area }
    }
}

impl<'a> Iterator for TcpOptions<'a> {
    type Item = Result<RawOption<'a>, OptionError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (&kind, rest) = self.area.split_first()?;
            match kind {
                TCPOPT_EOL => {
                    self.area = &[];
                    return None;
                }
                TCPOPT_NOP => {
                    self.area = rest;
                }
                _ => {
                    let area = core::mem::take(&mut self.area);
                    let Some(&len) = rest.first() else {
                        return Some(Err(OptionError::Truncated));
                    };
                    if len < 2 {
                        return Some(Err(OptionError::MalformedArea));
                    }
                    let Some((bytes, tail)) = area.split_at_checked(usize::from(len)) else {
                        return Some(Err(OptionError::Truncated));
                    };
                    self.area = tail;
                    return Some(Ok(RawOption { kind, bytes }));
                }
            }
        }
    }
}

impl FusedIterator for TcpOptions<'_> {}

/// Iterator over the MPTCP options of a TCP options area: each option of
/// kind 30 is decoded with [`decode`] and yielded as `Ok` or `Err` (so the
/// caller can count and skip bad ones); other kinds are skipped. Errors of
/// the area itself ([`OptionError::Truncated`], [`OptionError::MalformedArea`])
/// are yielded once, then the walk ends.
#[derive(Debug, Clone)]
pub struct MptcpOptions<'a> {
    inner: TcpOptions<'a>,
}

impl<'a> MptcpOptions<'a> {
    /// Walks `area`.
    #[must_use]
    pub const fn new(area: &'a [u8]) -> Self {
        Self {
            inner: TcpOptions::new(area),
        }
    }
}

/// The MPTCP options of a TCP options area; see [`MptcpOptions`].
#[must_use]
pub const fn mptcp_options(area: &[u8]) -> MptcpOptions<'_> {
    MptcpOptions::new(area)
}

impl<'a> Iterator for MptcpOptions<'a> {
    type Item = Result<MptcpOption<'a>, OptionError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.inner.next()? {
                Err(e) => return Some(Err(e)),
                Ok(raw) if raw.kind == TCPOPT_MPTCP => return Some(decode(raw.bytes)),
                Ok(_) => {}
            }
        }
    }
}

impl FusedIterator for MptcpOptions<'_> {}
