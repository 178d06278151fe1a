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
/// `MPTcpExtMPFallbackTokenInit`.
pub(crate) const MPFALLBACK_TOKEN_INIT: usize = 9;
/// `MPTcpExtMPCapableDataFallback`.
pub(crate) const MPCAPABLE_DATA_FALLBACK: usize = 70;
/// `MPTcpExtDSSCorruptionReset`.
pub(crate) const DSS_CORRUPTION_RESET: usize = 25;
/// `MPTcpExtDSSNotMatching`.
pub(crate) const DSS_NOT_MATCHING: usize = 23;
/// `MPTcpExtDSSNoMatchTCP` (mainline's `MPTCP_MIB_DSSTCPMISMATCH`).
pub(crate) const DSS_TCP_MISMATCH: usize = 28;
/// `MPTcpExtInfiniteMapTx`.
pub(crate) const INFINITE_MAP_TX: usize = 26;
/// `MPTcpExtInfiniteMapRx`.
pub(crate) const INFINITE_MAP_RX: usize = 27;
/// `MPTcpExtDataCsumErr`.
pub(crate) const DATA_CSUM_ERR: usize = 29;
/// `MPTcpExtMPFailTx`.
pub(crate) const MPFAIL_TX: usize = 55;
/// `MPTcpExtMPFailRx`.
pub(crate) const MPFAIL_RX: usize = 56;
/// `MPTcpExtMPFastcloseTx`.
pub(crate) const MPFASTCLOSE_TX: usize = 57;
/// `MPTcpExtDssFallback`.
pub(crate) const DSS_FALLBACK: usize = 72;
/// `MPTcpExtDuplicateData`.
pub(crate) const DUPLICATE_DATA: usize = 34;
/// `MPTcpExtMPFastcloseRx`.
pub(crate) const MPFASTCLOSE_RX: usize = 58;
/// `MPTcpExtMPRstTx`.
pub(crate) const MPRST_TX: usize = 59;
/// `MPTcpExtMPRstRx`.
pub(crate) const MPRST_RX: usize = 60;
/// `MPTcpExtSimultConnectFallback`.
pub(crate) const SIMULT_CONNECT_FALLBACK: usize = 73;

// The indices above must name the counters they claim to.
const _: () = {
    const fn eq(a: &str, b: &str) -> bool {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        let mut i = 0;
        while i < a.len() {
            if a[i] != b[i] {
                return false;
            }
            i += 1;
        }
        true
    }
    assert!(eq(MIB_NAMES[MPCAPABLE_SYN_RX], "MPCapableSYNRX"));
    assert!(eq(
        MIB_NAMES[SIMULT_CONNECT_FALLBACK],
        "SimultConnectFallback"
    ));
    assert!(eq(MIB_NAMES[MPCAPABLE_SYN_TX], "MPCapableSYNTX"));
    assert!(eq(MIB_NAMES[MPCAPABLE_SYNACK_RX], "MPCapableSYNACKRX"));
    assert!(eq(MIB_NAMES[MPCAPABLE_ACK_RX], "MPCapableACKRX"));
    assert!(eq(
        MIB_NAMES[MPCAPABLE_FALLBACK_ACK],
        "MPCapableFallbackACK"
    ));
    assert!(eq(
        MIB_NAMES[MPCAPABLE_FALLBACK_SYNACK],
        "MPCapableFallbackSYNACK"
    ));
    assert!(eq(
        MIB_NAMES[MPCAPABLE_SYN_TX_DISABLED],
        "MPCapableSYNTXDisabled"
    ));
    assert!(eq(MIB_NAMES[MPCURR_ESTAB], "MPCurrEstab"));
    assert!(eq(MIB_NAMES[MPFALLBACK_TOKEN_INIT], "MPFallbackTokenInit"));
    assert!(eq(MIB_NAMES[DSS_NOT_MATCHING], "DSSNotMatching"));
    assert!(eq(MIB_NAMES[DSS_CORRUPTION_RESET], "DSSCorruptionReset"));
    assert!(eq(MIB_NAMES[DSS_TCP_MISMATCH], "DSSNoMatchTCP"));
    assert!(eq(
        MIB_NAMES[MPCAPABLE_DATA_FALLBACK],
        "MPCapableDataFallback"
    ));
    assert!(eq(MIB_NAMES[INFINITE_MAP_TX], "InfiniteMapTx"));
    assert!(eq(MIB_NAMES[INFINITE_MAP_RX], "InfiniteMapRx"));
    assert!(eq(MIB_NAMES[DATA_CSUM_ERR], "DataCsumErr"));
    assert!(eq(MIB_NAMES[MPFAIL_TX], "MPFailTx"));
    assert!(eq(MIB_NAMES[MPFAIL_RX], "MPFailRx"));
    assert!(eq(MIB_NAMES[MPFASTCLOSE_TX], "MPFastcloseTx"));
    assert!(eq(MIB_NAMES[MPFASTCLOSE_RX], "MPFastcloseRx"));
    assert!(eq(MIB_NAMES[MPRST_TX], "MPRstTx"));
    assert!(eq(MIB_NAMES[MPRST_RX], "MPRstRx"));
    assert!(eq(MIB_NAMES[DUPLICATE_DATA], "DuplicateData"));
    assert!(eq(MIB_NAMES[DSS_FALLBACK], "DssFallback"));
};
