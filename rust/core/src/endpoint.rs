// SPDX-License-Identifier: GPL-2.0

//! A sans-IO MPTCP endpoint: one connection (msk) on one subflow (ssk),
//! driven by the segments it receives ([`Endpoint::on_segment`]) and asked
//! for the options of the segments it sends ([`Endpoint::next_options`]).
//! It owns no buffer and knows no kernel type: TCP below (sequence numbers,
//! ordering, retransmission) and the data itself belong to the caller.
//!
//! What it models (RFC 8684; mainline Linux `net/mptcp` where the RFC
//! leaves a choice):
//!
//! - the MP_CAPABLE v1 handshake in both roles, checksums when either side
//!   sets flag A, "fully established" once the peer shows it has our key;
//! - the fallback decisions of §3.7 with mainline's counters;
//! - DSN assignment on send (DSN = IDSN + relative subflow sequence number,
//!   less what data-level retransmissions took) and, on receive, the
//!   mapping walk: duplicates are skipped, a mapping ahead of the stream
//!   resets the connection (one subflow carries the stream in order, so
//!   data would be missing), and payload beyond every mapping falls back;
//! - DSS checksums, MP_FAIL and the infinite mapping;
//! - DATA_ACK (32-bit until the peer maps with 64-bit DSNs), DATA_FIN and
//!   the connection-level close states; MP_FASTCLOSE and MP_TCPRST.
//!
//! Contract with the caller: segments reach [`Endpoint::on_segment`] in
//! subflow order, as TCP's receive queue hands them (octets before the
//! next expected one are trimmed, a segment past it is dropped);
//! [`Endpoint::next_options`] is asked once per first transmission (a TCP
//! retransmission repeats the options recorded with the segment, as the
//! glue does with `SKB_EXT_MPTCP`); a data segment carries at most 65535
//! octets (the data-level length is 16 bits). Received payload is handed
//! to the application as the ranges of [`RxOutcome`]; nothing else of it
//! is, so skipped duplicates never reach the reader.
//!
//! Invariants:
//! - `rcv_dsn` is the DSN of the next new octet; every octet handed to the
//!   application had exactly that DSN (or arrived after fallback);
//! - `snd_una <= snd_nxt (+1 once our DATA_FIN is sent) <= write_seq (+1)`;
//!   a DATA_ACK outside is ignored (mainline `ack_update_msk`);
//! - after a reset or fastclose no received segment changes anything;
//! - every structure is fixed-size: no allocation, no unbounded loop (each
//!   walk step consumes at least one octet or ends the walk).

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

use core::ops::Range;

pub use crate::close::MskState;
use crate::close::{DataFins, LocalDataFin, PeerDataFin};
use crate::crypto;
use crate::csum::CsumWalk;
use crate::fail::MpFail;
use crate::mapping::Mapping;
use crate::options::ResetReason;

// The receive and send paths (`on_segment`, `next_options`).
#[path = "endpoint/segment.rs"]
mod segment;

/// TCP header flag FIN.
pub const TCPHDR_FIN: u8 = 0x01;
/// TCP header flag SYN.
pub const TCPHDR_SYN: u8 = 0x02;
/// TCP header flag RST.
pub const TCPHDR_RST: u8 = 0x04;
/// TCP header flag PSH.
pub const TCPHDR_PSH: u8 = 0x08;
/// TCP header flag ACK.
pub const TCPHDR_ACK: u8 = 0x10;

/// Most TCP option space a segment has (60-octet header).
pub const MAX_TCP_OPTION_SPACE: usize = 40;

/// Most payload ranges one received segment hands to the application: one
/// before the segment's own mapping starts and one from there (a skipped
/// duplicate only ever precedes the delivered part of each).
const MAX_RANGES: usize = 4;

/// Per-connection settings (the namespace's `net.mptcp.*` in the glue).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Config {
    /// `net.mptcp.checksum_enabled`: ask for DSS checksums (flag A).
    pub checksum: bool,
}

/// Which side of the handshake this endpoint plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Sends the SYN (`connect()`).
    Client,
    /// Answers a SYN (the child of a listener).
    Server,
}

/// What the subflow runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubflowMode {
    /// MP_CAPABLE handshake in progress.
    Handshake,
    /// Client: SYN-ACK with the server's key received; the server has not
    /// yet shown it has ours (mainline: not `fully_established`).
    PreEstablished,
    /// MPTCP, both keys known to both sides.
    FullyEstablished,
    /// Plain TCP (RFC 8684 §3.7); the data-level stream is the TCP stream.
    Fallback,
}

/// Why a connection ended abnormally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseError {
    /// The peer sent a RST (`ECONNRESET`).
    PeerReset,
    /// The peer sent MP_FASTCLOSE with our key on an ACK (`ECONNRESET`).
    Fastclosed,
    /// A mapping contradicted the data stream (`EBADMSG`).
    Corrupt,
    /// The application aborted ([`Endpoint::abort`]).
    Aborted,
}

macro_rules! mibs {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
        /// The `MPTcpExt*` counters (mainline `net/mptcp/mib.c` names, without
        /// the prefix) that the endpoint updates.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(usize)]
        pub enum Mib {
            $($(#[$doc])* $name,)*
        }

        impl Mib {
            /// Every counter, in declaration order (the index of each).
            pub const ALL: &'static [Mib] = &[$(Mib::$name,)*];

            /// The mainline name (`MPTcpExt` + this is the `nstat` name).
            #[must_use]
            pub const fn name(self) -> &'static str {
                match self {
                    $(Mib::$name => stringify!($name),)*
                }
            }
        }
    };
}

mibs! {
    /// MP_CAPABLE SYN received (server).
    MPCapableSYNRX,
    /// MP_CAPABLE SYN sent (client).
    MPCapableSYNTX,
    /// MP_CAPABLE SYN-ACK received (client).
    MPCapableSYNACKRX,
    /// MP_CAPABLE third ACK received (server).
    MPCapableACKRX,
    /// Server: third ACK without MP_CAPABLE, fallback.
    MPCapableFallbackACK,
    /// Client: SYN-ACK without MP_CAPABLE, fallback.
    MPCapableFallbackSYNACK,
    /// A second mapping for octets the current one still covers.
    DSSNotMatching,
    /// A mapping ahead of the stream: reset.
    DSSCorruptionReset,
    /// Infinite mapping sent.
    InfiniteMapTx,
    /// Infinite mapping received.
    InfiniteMapRx,
    /// A mapping of payload that covers no octet of its segment.
    DSSNoMatchTCP,
    /// DSS checksum mismatch.
    DataCsumErr,
    /// Data-level duplicate skipped.
    DuplicateData,
    /// MP_FAIL sent.
    MPFailTx,
    /// MP_FAIL received.
    MPFailRx,
    /// MP_FASTCLOSE sent.
    MPFastcloseTx,
    /// MP_FASTCLOSE with our key received.
    MPFastcloseRx,
    /// MP_TCPRST sent.
    MPRstTx,
    /// MP_TCPRST received.
    MPRstRx,
    /// Client: the server's first segment after the handshake had no
    /// MPTCP option, fallback.
    MPCapableDataFallback,
    /// Fallback on the data path (infinite mapping, unmapped payload).
    DssFallback,
    /// Simultaneous open, fallback.
    SimultConnectFallback,
}

/// Number of [`Mib`] counters.
pub const MIB_COUNT: usize = Mib::ALL.len();

/// The endpoint's counters: [`Mib`] plus the malformed options it dropped
/// (mainline ignores those without a counter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counters {
    mib: [u64; MIB_COUNT],
    /// MPTCP options that did not decode, or a DSS whose checksum field
    /// disagrees with the negotiated use of checksums (mainline's parser
    /// finds such a DSS the wrong length): ignored.
    pub malformed_options: u64,
}

impl Counters {
    /// The value of one counter.
    #[must_use]
    pub fn get(&self, mib: Mib) -> u64 {
        self.mib.get(mib as usize).copied().unwrap_or(0)
    }

    fn inc(&mut self, mib: Mib) {
        if let Some(v) = self.mib.get_mut(mib as usize) {
            *v = v.saturating_add(1);
        }
    }

    /// Every counter with its name.
    pub fn iter(&self) -> impl Iterator<Item = (Mib, u64)> + '_ {
        Mib::ALL.iter().map(move |&m| (m, self.get(m)))
    }
}

/// A received segment, in subflow order.
#[derive(Debug, Clone, Copy)]
pub struct RxSegment<'a> {
    /// TCP flags (`TCPHDR_*`).
    pub flags: u8,
    /// Sequence number of the first payload octet (of the SYN on a SYN).
    pub seq: u32,
    /// The TCP options area (after the 20-octet header).
    pub options: &'a [u8],
    /// The payload.
    pub payload: &'a [u8],
}

/// What the caller must do after [`Endpoint::on_segment`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RxOutcome {
    ranges: [(usize, usize); MAX_RANGES],
    n_ranges: usize,
    /// The peer's DATA_FIN (or, after fallback, TCP FIN) was reached:
    /// end of stream for the reader after the data delivered.
    pub eof: bool,
    /// Send an ACK now (DATA_FIN reached, MP_FAIL or infinite mapping to
    /// send).
    pub send_ack: bool,
    /// Send a RST now (we reset the connection; its options come from
    /// [`Endpoint::next_options`]).
    pub send_rst: bool,
    /// The segment was ignored (connection closed, or not in order).
    pub dropped: bool,
}

impl RxOutcome {
    /// The payload ranges (offsets in the segment's payload) to hand to the
    /// application, in order.
    pub fn ranges(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        self.ranges
            .iter()
            .take(self.n_ranges)
            .map(|&(start, end)| start..end)
    }

    /// The octets of `payload` (the segment's) to hand to the application.
    pub fn data(self, payload: &[u8]) -> impl Iterator<Item = &[u8]> {
        let n = self.n_ranges;
        self.ranges
            .into_iter()
            .take(n)
            .filter_map(move |(start, end)| payload.get(start..end))
    }

    /// Number of octets to hand to the application.
    #[must_use]
    pub fn delivered(&self) -> usize {
        self.ranges().map(|r| r.len()).sum()
    }

    /// Appends a range, merged with the last one when adjacent.
    fn push(&mut self, start: usize, end: usize) {
        if start >= end {
            return;
        }
        if let Some(last) = self
            .n_ranges
            .checked_sub(1)
            .and_then(|i| self.ranges.get_mut(i))
        {
            if last.1 == start {
                last.1 = end;
                return;
            }
        }
        // Never full: see MAX_RANGES.
        if let Some(slot) = self.ranges.get_mut(self.n_ranges) {
            *slot = (start, end);
            self.n_ranges = self.n_ranges.saturating_add(1);
        }
    }
}

/// A segment about to be sent for the first time.
#[derive(Debug, Clone, Copy)]
pub struct TxSegment<'a> {
    /// TCP flags (`TCPHDR_*`).
    pub flags: u8,
    /// Its sequence number.
    pub seq: u32,
    /// Its payload (summed for the DSS checksum).
    pub payload: &'a [u8],
    /// `Some(dsn)`: the payload is data already sent, from `dsn`, sent
    /// again at new subflow sequence numbers (mainline's data-level
    /// retransmission of data not DATA_ACKed, or its zero-window probe with
    /// the octet before the DATA_ACK; RFC 8684 §3.3.1). `None`: new data.
    pub dsn: Option<u64>,
}

/// One MPTCP connection on one subflow; see the module documentation.
#[derive(Debug, Clone)]
pub struct Endpoint {
    cfg: Config,
    role: Role,
    state: MskState,
    mode: SubflowMode,
    error: Option<CloseError>,
    counters: Counters,

    local_key: u64,
    remote_key: u64,
    local_token: u32,
    idsn_local: u64,
    idsn_remote: u64,
    isn_local: u32,
    isn_remote: u32,
    /// DSS checksums in use (either side set flag A, RFC 8684 §3.1).
    csum: bool,
    /// The peer's SYN (or SYN-ACK) asked for checksums.
    peer_csum: bool,

    // Send side.
    /// 64-bit relative sequence number of the next new subflow octet.
    snd_rel_nxt: u64,
    /// Added to IDSN + relative SSN to get the DSN of new data: 0, less
    /// every octet data-level retransmissions put at new subflow sequence
    /// numbers.
    tx_off: u64,
    /// DSN just past the application's data (given or sent).
    write_seq: u64,
    /// DSN just past the data mapped so far (the DATA_FIN excluded).
    snd_nxt: u64,
    /// Oldest DSN the peer has not DATA_ACKed.
    snd_una: u64,
    /// Our DATA_FIN, once the application closed.
    fin_tx: LocalDataFin,
    /// Our TCP FIN went out.
    tcp_fin_sent: bool,

    // Receive side.
    /// Next subflow sequence number expected.
    rcv_nxt: u32,
    /// DSN of the next new octet (mainline `ack_seq`, DATA_FIN excluded).
    rcv_dsn: u64,
    /// The mapping the walk is in (payload only, DATA_FIN stripped).
    rx_map: Option<Mapping>,
    /// The received payload's checksums.
    csum_walk: CsumWalk,
    /// Our DATA_ACK is 64-bit (mainline `use_64bit_ack`).
    ack64: bool,
    /// The peer's DATA_FIN.
    fin_rx: PeerDataFin,
    /// The peer's DATA_FIN was in order before we queued ours.
    fin_rx_first: bool,

    // Control options to send.
    /// MP_FAIL and the infinite mapping (§3.7).
    fail: MpFail,
    fastclose_tx: bool,
    reset_reason: ResetReason,
    rst_sent: bool,
    /// Reason code of the peer's MP_TCPRST, if any.
    peer_reset_reason: Option<u8>,
}

impl Endpoint {
    fn new(cfg: Config, role: Role, local_key: u64) -> Self {
        let (local_token, idsn_local) = crypto::token_and_idsn(local_key);
        let first = idsn_local.wrapping_add(1);
        Self {
            cfg,
            role,
            state: match role {
                Role::Client => MskState::SynSent,
                Role::Server => MskState::Listen,
            },
            mode: SubflowMode::Handshake,
            error: None,
            counters: Counters {
                mib: [0; MIB_COUNT],
                malformed_options: 0,
            },
            local_key,
            remote_key: 0,
            local_token,
            idsn_local,
            idsn_remote: 0,
            isn_local: 0,
            isn_remote: 0,
            csum: cfg.checksum,
            peer_csum: false,
            snd_rel_nxt: 1,
            tx_off: 0,
            write_seq: first,
            snd_nxt: first,
            snd_una: first,
            fin_tx: LocalDataFin::new(),
            tcp_fin_sent: false,
            rcv_nxt: 0,
            rcv_dsn: 0,
            rx_map: None,
            csum_walk: CsumWalk::new(),
            ack64: false,
            fin_rx: PeerDataFin::new(),
            fin_rx_first: false,
            fail: MpFail::new(),
            fastclose_tx: false,
            reset_reason: ResetReason::Unspecified,
            rst_sent: false,
            peer_reset_reason: None,
        }
    }

    /// A client (`connect()`) with our key `local_key` (the glue draws it
    /// at random until its token is unused).
    #[must_use]
    pub fn new_client(cfg: Config, local_key: u64) -> Self {
        Self::new(cfg, Role::Client, local_key)
    }

    /// A server for one incoming connection with our key `local_key`.
    #[must_use]
    pub fn new_server(cfg: Config, local_key: u64) -> Self {
        Self::new(cfg, Role::Server, local_key)
    }

    /// Connection-level state.
    #[must_use]
    pub const fn state(&self) -> MskState {
        self.state
    }

    /// The DATA_FIN facts; once established and while no error closed the
    /// connection, [`crate::close::state_of`] of them is [`Self::state`].
    #[must_use]
    pub const fn data_fins(&self) -> DataFins {
        DataFins {
            tx: self.fin_tx.is_queued(),
            tx_acked: self.fin_tx.is_acked(),
            rx: self.fin_rx.is_done(),
            rx_first: self.fin_rx_first,
        }
    }

    /// What the subflow runs.
    #[must_use]
    pub const fn mode(&self) -> SubflowMode {
        self.mode
    }

    /// Our role.
    #[must_use]
    pub const fn role(&self) -> Role {
        self.role
    }

    /// Whether the connection fell back to plain TCP.
    #[must_use]
    pub const fn is_fallback(&self) -> bool {
        matches!(self.mode, SubflowMode::Fallback)
    }

    /// Whether the connection runs MPTCP with both keys confirmed.
    #[must_use]
    pub const fn is_fully_established(&self) -> bool {
        matches!(self.mode, SubflowMode::FullyEstablished)
    }

    /// Why the connection ended abnormally, if it did.
    #[must_use]
    pub const fn error(&self) -> Option<CloseError> {
        self.error
    }

    /// The counters.
    #[must_use]
    pub const fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Whether DSS checksums are in use.
    #[must_use]
    pub const fn checksum_enabled(&self) -> bool {
        self.csum
    }

    /// Our key.
    #[must_use]
    pub const fn local_key(&self) -> u64 {
        self.local_key
    }

    /// The peer's key (0 until known).
    #[must_use]
    pub const fn remote_key(&self) -> u64 {
        self.remote_key
    }

    /// Our token (of our key).
    #[must_use]
    pub const fn local_token(&self) -> u32 {
        self.local_token
    }

    /// Our IDSN: our first data octet has DSN `local_idsn() + 1`.
    #[must_use]
    pub const fn local_idsn(&self) -> u64 {
        self.idsn_local
    }

    /// The peer's IDSN (0 until its key is known).
    #[must_use]
    pub const fn remote_idsn(&self) -> u64 {
        self.idsn_remote
    }

    /// Our DATA_ACK: the DSN after the octets received in order, plus one
    /// once the peer's DATA_FIN is reached.
    #[must_use]
    pub fn data_ack(&self) -> u64 {
        self.fin_rx.ack().unwrap_or(self.rcv_dsn)
    }

    /// Whether our DATA_ACK goes out 64-bit.
    #[must_use]
    pub const fn ack64(&self) -> bool {
        self.ack64
    }

    /// Oldest of our DSNs the peer has not DATA_ACKed.
    #[must_use]
    pub const fn snd_una(&self) -> u64 {
        self.snd_una
    }

    /// DSN just past the data mapped so far.
    #[must_use]
    pub const fn snd_nxt(&self) -> u64 {
        self.snd_nxt
    }

    /// The MP_TCPRST reason code the peer sent, if any.
    #[must_use]
    pub const fn peer_reset_reason(&self) -> Option<u8> {
        self.peer_reset_reason
    }

    /// The application queued `len` more octets (not yet sent), so that a
    /// later [`Endpoint::app_close`] places the DATA_FIN after them.
    /// Sending data also counts it; calling this is only needed for data
    /// still queued when the application closes.
    pub fn app_write(&mut self, len: usize) {
        let len = u64::try_from(len).unwrap_or(u64::MAX);
        self.write_seq = self.write_seq.wrapping_add(len);
    }

    /// The application closed its sending side (`shutdown(SHUT_WR)` or
    /// `close()`): a DATA_FIN follows the data written, on the segment that
    /// carries the last of it or on a data-less ACK ([`Self::wants_ack`]);
    /// after fallback the TCP FIN is the DATA_FIN ([`Self::wants_fin`]).
    pub fn app_close(&mut self) {
        self.state = match self.state {
            MskState::Established => MskState::FinWait1,
            MskState::CloseWait => MskState::LastAck,
            MskState::Listen | MskState::SynSent | MskState::SynRecv => MskState::Closed,
            // Already closing or closed.
            _ => return,
        };
        self.fin_tx.queue(self.write_seq);
    }

    /// Abortive close (`SO_LINGER` 0, close with unread data): returns
    /// whether a RST must be sent. While MPTCP runs it carries MP_FASTCLOSE
    /// with the peer's key and MP_TCPRST (RFC 8684 §3.5, mainline
    /// `mptcp_do_fastclose`).
    pub fn abort(&mut self) -> bool {
        if matches!(self.state, MskState::Closed | MskState::Listen) {
            return false;
        }
        self.fastclose_tx = matches!(
            self.mode,
            SubflowMode::PreEstablished | SubflowMode::FullyEstablished
        );
        self.close_with(CloseError::Aborted);
        true
    }

    /// Our MP_FAIL went unanswered for [`crate::fail::ANSWER_TIMEOUT_MS`]
    /// (the caller keeps the time, from the checksum failure on): returns
    /// whether a RST must be sent, as [`Self::abort`] (mainline's
    /// `mptcp_mp_fail_no_response()` resets the subflow).  False when no
    /// answer is awaited any more.
    pub fn fail_timeout(&mut self) -> bool {
        if !self.fail.awaiting_answer() || !self.mptcp_running() {
            return false;
        }
        self.abort()
    }

    /// Whether our MP_FAIL waits for the peer's answer (the caller's
    /// timer for [`Self::fail_timeout`] runs).
    #[must_use]
    pub fn awaiting_fail_answer(&self) -> bool {
        self.fail.awaiting_answer() && self.mptcp_running()
    }

    /// Whether a data-less ACK should go out for options pending: MP_FAIL,
    /// the infinite mapping, or the DATA_FIN once all data is sent.
    #[must_use]
    pub fn wants_ack(&self) -> bool {
        if !self.mptcp_running() || self.rst_sent || self.error.is_some() {
            return false;
        }
        self.fail.wants_ack() || (self.fin_tx.dsn() == Some(self.snd_nxt) && !self.fin_tx.is_sent())
    }

    /// Whether the caller should send the subflow's FIN now (once all its
    /// data is out): after fallback as soon as the application closed (the
    /// TCP FIN is the DATA_FIN); with MPTCP once the connection is closed
    /// (mainline closes the subflows then).
    #[must_use]
    pub fn wants_fin(&self) -> bool {
        if self.tcp_fin_sent || self.error.is_some() {
            return false;
        }
        match self.mode {
            SubflowMode::Fallback => self.fin_tx.is_queued(),
            SubflowMode::FullyEstablished | SubflowMode::PreEstablished => {
                self.state == MskState::Closed
            }
            SubflowMode::Handshake => false,
        }
    }

    const fn mptcp_running(&self) -> bool {
        matches!(
            self.mode,
            SubflowMode::PreEstablished | SubflowMode::FullyEstablished
        )
    }

    fn close_with(&mut self, err: CloseError) {
        self.state = MskState::Closed;
        if self.error.is_none() {
            self.error = Some(err);
        }
    }

    fn fallback(&mut self, mib: Option<Mib>) {
        if self.mode == SubflowMode::Fallback {
            return;
        }
        self.mode = SubflowMode::Fallback;
        if let Some(m) = mib {
            self.counters.inc(m);
        }
        // Nothing MPTCP is pending any more; the TCP stream is the data.
        self.rx_map = None;
        self.csum_walk.reset();
        self.fail.fallen_back();
    }
}
