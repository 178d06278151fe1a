// SPDX-License-Identifier: GPL-2.0

//! MPTCP MIB: the `MPTcpExt` counters of `/proc/net/netstat`.
//!
//! Names and order are mainline's (`net/mptcp/mib.c`, Linux 6.12), so that
//! `nstat` and the kernel selftests read them unchanged.

/// Counter names, in mainline's order; the index is the counter id.
pub(crate) const MIB_NAMES: [&str; 75] = [
    "MPCapableSYNRX",
    "MPCapableSYNTX",
    "MPCapableSYNACKRX",
    "MPCapableACKRX",
    "MPCapableFallbackACK",
    "MPCapableFallbackSYNACK",
    "MPCapableSYNTXDrop",
    "MPCapableSYNTXDisabled",
    "MPCapableEndpAttempt",
    "MPFallbackTokenInit",
    "MPTCPRetrans",
    "MPJoinNoTokenFound",
    "MPJoinSynRx",
    "MPJoinSynBackupRx",
    "MPJoinSynAckRx",
    "MPJoinSynAckBackupRx",
    "MPJoinSynAckHMacFailure",
    "MPJoinAckRx",
    "MPJoinAckHMacFailure",
    "MPJoinSynTx",
    "MPJoinSynTxCreatSkErr",
    "MPJoinSynTxBindErr",
    "MPJoinSynTxConnectErr",
    "DSSNotMatching",
    "DSSCorruptionFallback",
    "DSSCorruptionReset",
    "InfiniteMapTx",
    "InfiniteMapRx",
    "DSSNoMatchTCP",
    "DataCsumErr",
    "OFOQueueTail",
    "OFOQueue",
    "OFOMerge",
    "NoDSSInWindow",
    "DuplicateData",
    "AddAddr",
    "AddAddrTx",
    "AddAddrTxDrop",
    "EchoAdd",
    "EchoAddTx",
    "EchoAddTxDrop",
    "PortAdd",
    "AddAddrDrop",
    "MPJoinPortSynRx",
    "MPJoinPortSynAckRx",
    "MPJoinPortAckRx",
    "MismatchPortSynRx",
    "MismatchPortAckRx",
    "RmAddr",
    "RmAddrDrop",
    "RmAddrTx",
    "RmAddrTxDrop",
    "RmSubflow",
    "MPPrioTx",
    "MPPrioRx",
    "MPFailTx",
    "MPFailRx",
    "MPFastcloseTx",
    "MPFastcloseRx",
    "MPRstTx",
    "MPRstRx",
    "RcvPruned",
    "SubflowStale",
    "SubflowRecover",
    "SndWndShared",
    "RcvWndShared",
    "RcvWndConflictUpdate",
    "RcvWndConflict",
    "MPCurrEstab",
    "Blackhole",
    "MPCapableDataFallback",
    "MD5SigFallback",
    "DssFallback",
    "SimultConnectFallback",
    "FallbackFailed",
];

/// Number of counters.
pub(crate) const MIB_MAX: usize = MIB_NAMES.len();

// Indices of the counters the module updates so far.
/// `MPTcpExtMPCapableSYNRX`.
pub(crate) const MPCAPABLE_SYN_RX: usize = 0;
/// `MPTcpExtMPCapableACKRX`.
pub(crate) const MPCAPABLE_ACK_RX: usize = 3;
/// `MPTcpExtMPCapableFallbackACK`.
pub(crate) const MPCAPABLE_FALLBACK_ACK: usize = 4;
/// `MPTcpExtMPCapableSYNTX`.
pub(crate) const MPCAPABLE_SYN_TX: usize = 1;
/// `MPTcpExtMPCapableSYNACKRX`.
pub(crate) const MPCAPABLE_SYNACK_RX: usize = 2;
/// `MPTcpExtMPCapableFallbackSYNACK`.
pub(crate) const MPCAPABLE_FALLBACK_SYNACK: usize = 5;
/// `MPTcpExtMPCapableSYNTXDisabled`.
pub(crate) const MPCAPABLE_SYN_TX_DISABLED: usize = 7;
/// `MPTcpExtMPCurrEstab`.
pub(crate) const MPCURR_ESTAB: usize = 68;
