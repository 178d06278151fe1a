// SPDX-License-Identifier: GPL-2.0

//! The pair harness: a client and a server [`Endpoint`] joined by a
//! simulated path. TCP below is modelled as reliable and in order: the
//! harness assigns subflow sequence numbers, carries each segment
//! (options encoded by the sender, payload bytes) to the peer's
//! `on_segment` in order, and lets a test's path hook rewrite segments on
//! the way, as the VM suite's tc/nftables middleboxes do.

#![allow(dead_code)]

use std::collections::VecDeque;

use mptcp_core::endpoint::*;
use mptcp_core::options::*;

/// Index of the client side.
pub const C: usize = 0;
/// Index of the server side.
pub const S: usize = 1;

/// xorshift64*: deterministic, seedable, good enough for segmentation.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % ((hi - lo) as u64 + 1)) as usize
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

/// A segment on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seg {
    pub flags: u8,
    pub seq: u32,
    pub options: Vec<u8>,
    pub payload: Vec<u8>,
}

impl Seg {
    /// The MPTCP options that decode.
    pub fn mptcp(&self) -> Vec<MptcpOption<'_>> {
        MptcpOptions::new(&self.options)
            .filter_map(Result::ok)
            .collect()
    }

    pub fn dss(&self) -> Option<Dss> {
        self.mptcp().into_iter().find_map(|o| match o {
            MptcpOption::Dss(d) => Some(d),
            _ => None,
        })
    }

    pub fn mpc(&self) -> Option<MpCapable> {
        self.mptcp().into_iter().find_map(|o| match o {
            MptcpOption::MpCapable(m) => Some(m),
            _ => None,
        })
    }

    pub fn has(&self, subtype: u8) -> bool {
        self.mptcp().iter().any(|o| o.subtype() == subtype)
    }

    pub fn is_data(&self) -> bool {
        !self.payload.is_empty()
    }

    /// Rewrites the MPTCP options with `f` (other options are dropped: the
    /// endpoints send none) and re-encodes them, NOP-padded.
    pub fn map_options(&mut self, mut f: impl FnMut(&mut MptcpOption<'_>)) {
        let bytes = self.options.clone();
        let mut opts: Vec<MptcpOption<'_>> =
            MptcpOptions::new(&bytes).filter_map(Result::ok).collect();
        for o in &mut opts {
            f(o);
        }
        self.options = encode_all(&opts);
    }

    /// Rewrites the DSS mapping, if any.
    pub fn map_dss(&mut self, mut f: impl FnMut(&mut DssMapping)) {
        self.map_options(|o| {
            if let MptcpOption::Dss(Dss {
                mapping: Some(m), ..
            }) = o
            {
                f(m);
            }
        });
    }

    pub fn strip_mptcp(&mut self) {
        self.options.clear();
    }
}

/// Encodes options back to back, NOP-padded to 32 bits.
pub fn encode_all(opts: &[MptcpOption<'_>]) -> Vec<u8> {
    let mut out = vec![0u8; 64];
    let mut n = 0;
    for o in opts {
        n += o.encode(&mut out[n..]).expect("encode");
    }
    out.truncate(n);
    while !out.len().is_multiple_of(4) {
        out.push(TCPOPT_NOP);
    }
    out
}

/// One endpoint with its application and its TCP sender.
#[derive(Debug)]
pub struct Side {
    pub ep: Endpoint,
    /// Next TCP sequence number to send.
    pub snd_nxt: u32,
    /// Everything the application wrote.
    pub app_tx: Vec<u8>,
    /// Octets of `app_tx` sent as new data.
    pub sent: usize,
    /// What the endpoint handed to the application.
    pub rx: Vec<u8>,
    /// Times end of stream was signalled.
    pub eof: usize,
    /// Received segments the endpoint dropped.
    pub dropped: usize,
    pub fin_sent: bool,
}

impl Side {
    fn new(ep: Endpoint, isn: u32) -> Self {
        Self {
            ep,
            snd_nxt: isn,
            app_tx: Vec::new(),
            sent: 0,
            rx: Vec::new(),
            eof: 0,
            dropped: 0,
            fin_sent: false,
        }
    }

    pub fn count(&self, m: Mib) -> u64 {
        self.ep.counters().get(m)
    }

    pub fn all_sent(&self) -> bool {
        self.sent == self.app_tx.len()
    }
}

/// Rewrites a segment sent by side `from` (its `index`-th segment, from 0).
pub type PathFn = Box<dyn FnMut(usize, usize, &mut Seg)>;

pub struct Pair {
    pub sides: [Side; 2],
    /// In flight to side i.
    pub queues: [VecDeque<Seg>; 2],
    /// As sent by side i (before the path).
    pub sent_log: [Vec<Seg>; 2],
    /// As delivered to side i (after the path).
    pub rcvd_log: [Vec<Seg>; 2],
    pub path: Option<PathFn>,
    pub rng: Rng,
    /// Largest data segment.
    pub max_seg: usize,
}

impl Pair {
    pub fn new(client: Config, server: Config, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let ck = rng.next_u64();
        let sk = rng.next_u64();
        let cisn = rng.next_u64() as u32;
        let sisn = rng.next_u64() as u32;
        Self::with(
            Endpoint::new_client(client, ck),
            Endpoint::new_server(server, sk),
            cisn,
            sisn,
            rng,
        )
    }

    /// Two clients (simultaneous open).
    pub fn new_clients(seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let a = Endpoint::new_client(Config::default(), rng.next_u64());
        let b = Endpoint::new_client(Config::default(), rng.next_u64());
        let (ia, ib) = (rng.next_u64() as u32, rng.next_u64() as u32);
        Self::with(a, b, ia, ib, rng)
    }

    pub fn with(a: Endpoint, b: Endpoint, ia: u32, ib: u32, rng: Rng) -> Self {
        Self {
            sides: [Side::new(a, ia), Side::new(b, ib)],
            queues: [VecDeque::new(), VecDeque::new()],
            sent_log: [Vec::new(), Vec::new()],
            rcvd_log: [Vec::new(), Vec::new()],
            path: None,
            rng,
            max_seg: 1460,
        }
    }

    pub fn set_path(&mut self, f: impl FnMut(usize, usize, &mut Seg) + 'static) {
        self.path = Some(Box::new(f));
    }

    pub fn ep(&self, i: usize) -> &Endpoint {
        &self.sides[i].ep
    }

    /// Sends a segment from side `i`: the endpoint writes its options, the
    /// TCP sender its sequence number; the path may rewrite it.
    pub fn transmit(&mut self, i: usize, flags: u8, payload: Vec<u8>, dsn: Option<u64>) -> Seg {
        let side = &mut self.sides[i];
        let seq = side.snd_nxt;
        let mut buf = [0u8; MAX_TCP_OPTION_SPACE];
        let n = side.ep.next_options(
            &TxSegment {
                flags,
                seq,
                payload: &payload,
                dsn,
            },
            MAX_TCP_OPTION_SPACE,
            &mut buf,
        );
        assert!(
            n <= MAX_TCP_OPTION_SPACE && n.is_multiple_of(4),
            "option length {n}"
        );
        let mut len = payload.len() as u32;
        if flags & (TCPHDR_SYN | TCPHDR_FIN) != 0 {
            len += 1;
        }
        if flags & TCPHDR_FIN != 0 {
            side.fin_sent = true;
        }
        if flags & TCPHDR_RST == 0 {
            side.snd_nxt = seq.wrapping_add(len);
        }
        let mut seg = Seg {
            flags,
            seq,
            options: buf[..n].to_vec(),
            payload,
        };
        let index = self.sent_log[i].len();
        self.sent_log[i].push(seg.clone());
        if let Some(path) = self.path.as_mut() {
            path(i, index, &mut seg);
        }
        self.queues[1 - i].push_back(seg.clone());
        seg
    }

    /// Puts a crafted segment in flight to side `to` (a peer behaviour).
    pub fn inject(&mut self, to: usize, seg: Seg) {
        self.queues[to].push_back(seg);
    }

    /// Delivers the next segment in flight to side `i`; the receiver
    /// answers as TCP would (an ACK for data, a RST when asked).
    pub fn deliver(&mut self, i: usize) -> Option<RxOutcome> {
        let seg = self.queues[i].pop_front()?;
        self.rcvd_log[i].push(seg.clone());
        let side = &mut self.sides[i];
        let out = side.ep.on_segment(&RxSegment {
            flags: seg.flags,
            seq: seg.seq,
            options: &seg.options,
            payload: &seg.payload,
        });
        for chunk in out.data(&seg.payload) {
            side.rx.extend_from_slice(chunk);
        }
        assert!(out.delivered() <= seg.payload.len());
        check_close_state(&side.ep);
        if out.eof {
            side.eof += 1;
        }
        if out.dropped {
            side.dropped += 1;
        }
        if out.send_rst {
            self.transmit(i, TCPHDR_RST | TCPHDR_ACK, Vec::new(), None);
        } else if (seg.is_data() || out.send_ack)
            && self.sides[i].ep.error().is_none()
            && seg.flags & TCPHDR_RST == 0
        {
            self.transmit(i, TCPHDR_ACK, Vec::new(), None);
        }
        Some(out)
    }

    /// Delivers everything in flight, both ways, until quiet.
    pub fn flush(&mut self) {
        for _ in 0..100_000 {
            let a = self.deliver(C).is_some();
            let b = self.deliver(S).is_some();
            if !a && !b {
                return;
            }
        }
        panic!("flush does not converge");
    }

    /// The MP_CAPABLE handshake: SYN, SYN-ACK, third ACK.
    pub fn handshake(&mut self) {
        self.transmit(C, TCPHDR_SYN, Vec::new(), None);
        self.deliver(S);
        self.transmit(S, TCPHDR_SYN | TCPHDR_ACK, Vec::new(), None);
        self.deliver(C);
        self.transmit(C, TCPHDR_ACK, Vec::new(), None);
        self.deliver(S);
    }

    /// Simultaneous open of two clients.
    pub fn simultaneous_open(&mut self) {
        self.transmit(0, TCPHDR_SYN, Vec::new(), None);
        self.transmit(1, TCPHDR_SYN, Vec::new(), None);
        self.deliver(0);
        self.deliver(1);
        // Both answer the crossed SYN with a SYN-ACK (same ISN).
        for i in 0..2 {
            self.sides[i].snd_nxt = self.sides[i].snd_nxt.wrapping_sub(1);
            self.transmit(i, TCPHDR_SYN | TCPHDR_ACK, Vec::new(), None);
        }
        self.deliver(0);
        self.deliver(1);
    }

    /// The application of side `i` writes `data`.
    pub fn write(&mut self, i: usize, data: &[u8]) {
        self.sides[i].app_tx.extend_from_slice(data);
        self.sides[i].ep.app_write(data.len());
    }

    /// Writes `n` random octets.
    pub fn write_random(&mut self, i: usize, n: usize) {
        let data = self.rng.bytes(n);
        self.write(i, &data);
    }

    pub fn close(&mut self, i: usize) {
        self.sides[i].ep.app_close();
    }

    /// Sends the next chunk of new data of side `i` (random size up to
    /// `max_seg`, or `size`).
    pub fn send_chunk(&mut self, i: usize, size: Option<usize>) -> bool {
        let side = &self.sides[i];
        if side.all_sent() || side.ep.error().is_some() {
            return false;
        }
        let left = side.app_tx.len() - side.sent;
        let n = size
            .unwrap_or_else(|| self.rng.range(1, self.max_seg))
            .min(left);
        let side = &mut self.sides[i];
        let chunk = side.app_tx[side.sent..side.sent + n].to_vec();
        side.sent += n;
        self.transmit(i, TCPHDR_ACK | TCPHDR_PSH, chunk, None);
        true
    }

    /// Sends data of side `i` again at new subflow sequence numbers: `len`
    /// octets from DSN `dsn` (a data-level retransmission).
    pub fn retransmit(&mut self, i: usize, dsn: u64, len: usize) {
        let side = &self.sides[i];
        let off = dsn.wrapping_sub(side.ep.local_idsn().wrapping_add(1)) as usize;
        let chunk = side.app_tx[off..off + len].to_vec();
        self.transmit(i, TCPHDR_ACK, chunk, Some(dsn));
    }

    /// One sending step of side `i`: data, else a pending control ACK,
    /// else the subflow FIN.
    pub fn pump(&mut self, i: usize) -> bool {
        if self.send_chunk(i, None) {
            return true;
        }
        let side = &self.sides[i];
        if side.ep.wants_ack() {
            self.transmit(i, TCPHDR_ACK, Vec::new(), None);
            return true;
        }
        if side.ep.wants_fin() && side.all_sent() && !side.fin_sent {
            self.transmit(i, TCPHDR_ACK | TCPHDR_FIN, Vec::new(), None);
            return true;
        }
        false
    }

    /// Runs both sides with random interleaving until nothing moves.
    pub fn run(&mut self) {
        for _ in 0..1_000_000 {
            let mut moved = false;
            let order = self.rng.range(0, 3);
            for k in 0..4 {
                moved |= match (order + k) % 4 {
                    0 => self.pump(C),
                    1 => self.pump(S),
                    2 => self.deliver(C).is_some(),
                    _ => self.deliver(S).is_some(),
                };
                if moved {
                    break;
                }
            }
            if !moved {
                return;
            }
        }
        panic!("run does not converge");
    }

    /// Data sent by side `i`'s endpoint with a mapping, in order (for
    /// checks on what went on the wire).
    pub fn dss_sent(&self, i: usize) -> Vec<Dss> {
        self.sent_log[i].iter().filter_map(Seg::dss).collect()
    }

    /// Asserts both directions byte-exact.
    pub fn assert_exact(&self) {
        assert_eq!(
            self.sides[S].rx.len(),
            self.sides[C].app_tx.len(),
            "client -> server length"
        );
        assert!(
            self.sides[S].rx == self.sides[C].app_tx,
            "client -> server data"
        );
        assert_eq!(
            self.sides[C].rx.len(),
            self.sides[S].app_tx.len(),
            "server -> client length"
        );
        assert!(
            self.sides[C].rx == self.sides[S].app_tx,
            "server -> client data"
        );
    }
}

/// The endpoint's event-driven close state agrees with the one the glue
/// derives from the DATA_FIN facts (`close::state_of`), while MPTCP runs
/// and no error closed the connection.
pub fn check_close_state(ep: &Endpoint) {
    use mptcp_core::close::state_of;
    let open = matches!(
        ep.state(),
        MskState::Established
            | MskState::FinWait1
            | MskState::FinWait2
            | MskState::Closing
            | MskState::CloseWait
            | MskState::LastAck
            | MskState::Closed
    );
    if open && ep.error().is_none() && !ep.is_fallback() && ep.is_fully_established() {
        assert_eq!(
            state_of(ep.data_fins()),
            ep.state(),
            "facts {:?}",
            ep.data_fins()
        );
    }
}
