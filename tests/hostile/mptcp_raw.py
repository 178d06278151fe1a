# SPDX-License-Identifier: GPL-2.0
"""A raw MPTCP peer for the hostile-peer scenarios (tests/hostile).

Speaks the MP_CAPABLE handshake itself over a PF_PACKET socket (scapy), so
a scenario can put any option on any segment.  Runs in a namespace with no
kernel socket on the port; the namespace's own RSTs are dropped by an nft
rule (hostile.sh) since PF_PACKET output bypasses netfilter, ours do not.

RFC 8684 formats used here:
  MP_CAPABLE  kind 30, subtype 0: SYN 4 octets, SYN-ACK 12 (sender key),
              ACK 20 (both keys), ACK+data 22 (+ data-level length) or 24
              (+ DSS checksum)
  DSS         subtype 2, flags F(DATA_FIN) m(DSN 8) M(mapping) a(ACK 8) A(ACK)
  MP_TCPRST   subtype 8, reason in the fourth octet
"""
import hashlib
import os
import select
import struct
import sys
import time

# python3-scapy (Debian).  Only the layers used: `scapy.all` loads every
# layer and takes five times as long to import (seconds under TCG).
from scapy.config import conf
from scapy.layers.inet import IP, TCP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import mptcplib as ml  # noqa: E402

MPTCP_VERSION = 1
# MP_TCPRST reasons (RFC 8684 §3.6)
RST_REASONS = {0: "unspecified", 1: "mptcp-error", 2: "lack-of-resources",
               3: "administratively-prohibited", 4: "too-much-outstanding-data",
               5: "unacceptable-performance", 6: "middlebox-interference"}


def key_sha(key):
    """(token, IDSN) of a 64-bit key: SHA-256 of the key, first 32 bits
    and last 64 bits (RFC 8684 §3.1)."""
    h = hashlib.sha256(struct.pack(">Q", key)).digest()
    return struct.unpack(">I", h[:4])[0], struct.unpack(">Q", h[24:])[0]


def new_key():
    return struct.unpack(">Q", os.urandom(8))[0] | 1


def inet_sum(data, acc=0):
    if len(data) % 2:
        data += b"\0"
    for (w,) in struct.iter_unpack(">H", data):
        acc += w
    while acc >> 16:
        acc = (acc & 0xFFFF) + (acc >> 16)
    return acc


def dss_csum(dsn, ssn, data_len, payload=b""):
    """The DSS checksum (RFC 8684 §3.3.1): over the pseudo-header (64-bit
    DSN, relative subflow sequence number, data-level length, zero) and the
    mapped payload."""
    hdr = struct.pack(">QIHH", dsn & (2**64 - 1), ssn, data_len, 0)
    return ~inet_sum(hdr + payload) & 0xFFFF


def opt(subtype, first_low, body):
    """An MPTCP option (kind, value) for scapy: subtype in the high nibble
    of the first octet."""
    return (ml.TCPOPT_MPTCP, bytes([(subtype << 4) | first_low]) + body)


def mpc_syn(flags=ml.MPTCP_CAP_HMAC_SHA256):
    return opt(ml.MPTCPOPT_MP_CAPABLE, MPTCP_VERSION, bytes([flags]))


def mpc_synack(key, flags=ml.MPTCP_CAP_HMAC_SHA256):
    return opt(ml.MPTCPOPT_MP_CAPABLE, MPTCP_VERSION, bytes([flags]) + struct.pack(">Q", key))


def mpc_ack(local, remote, flags=ml.MPTCP_CAP_HMAC_SHA256, data_len=None, csum=None):
    body = bytes([flags]) + struct.pack(">QQ", local, remote)
    if data_len is not None:
        body += struct.pack(">H", data_len)
    if csum is not None:
        body += struct.pack(">H", csum)
    return opt(ml.MPTCPOPT_MP_CAPABLE, MPTCP_VERSION, body)


def dss(data_ack=None, dsn=None, ssn=0, data_len=0, csum=None, data_fin=False):
    """DSS with a 64-bit DATA_ACK and/or a 64-bit DSN mapping."""
    flags, body = 0, b""
    if data_ack is not None:
        flags |= ml.MPTCP_DSS_HAS_ACK | ml.MPTCP_DSS_ACK64
        body += struct.pack(">Q", data_ack)
    if dsn is not None:
        flags |= ml.MPTCP_DSS_HAS_MAP | ml.MPTCP_DSS_DSN64
        body += struct.pack(">QIH", dsn, ssn, data_len)
        if csum is not None:
            body += struct.pack(">H", csum)
    if data_fin:
        flags |= ml.MPTCP_DSS_DATA_FIN
    return opt(ml.MPTCPOPT_DSS, 0, bytes([flags]) + body)


def mptcp_opts(tcp):
    """The MPTCP options of a scapy TCP layer as (subtype, raw value)."""
    out = []
    for o in tcp.options:
        if isinstance(o, tuple) and o[0] in (ml.TCPOPT_MPTCP, "MPTCP") and isinstance(o[1], bytes) and o[1]:
            out.append((o[1][0] >> 4, o[1]))
    return out


def describe(tcp):
    """A short, JSON-friendly account of one segment: TCP flags, payload
    length and the MPTCP options (MP_CAPABLE keys, MP_TCPRST reason)."""
    d = {"flags": str(tcp.flags), "len": len(bytes(tcp.payload)), "mptcp": []}
    for sub, v in mptcp_opts(tcp):
        if sub == ml.MPTCPOPT_MP_CAPABLE:
            e = {"opt": "MP_CAPABLE", "len": len(v) + 2, "flags": v[1] if len(v) > 1 else None}
            if len(v) >= 10:
                e["key"] = struct.unpack(">Q", v[2:10])[0]
            d["mptcp"].append(e)
        elif sub == ml.MPTCPOPT_RST:
            d["mptcp"].append({"opt": "MP_TCPRST", "reason": RST_REASONS.get(v[1] if len(v) > 1 else -1, "?"),
                               "flags": v[0] & 0xF})
        elif sub == ml.MPTCPOPT_DSS:
            d["mptcp"].append({"opt": "DSS", "flags": v[1] if len(v) > 1 else None})
        else:
            d["mptcp"].append({"opt": f"subtype{sub}", "len": len(v) + 2})
    return d


def mac_of(iface):
    with open(f"/sys/class/net/{iface}/address") as f:
        return f.read().strip()


class RawPeer:
    """One side of a connection on IFACE, written at layer 2 to PEER_MAC
    (so a frame can carry a broadcast/multicast IP destination and still
    reach the host as PACKET_HOST, as an attacker's would)."""

    def __init__(self, iface, peer_mac, family=4):
        self.iface, self.peer_mac, self.family = iface, peer_mac, family
        self.mac = mac_of(iface)
        # not promiscuous: every frame of ours is addressed to IFACE
        self.sock = conf.L2socket(iface=iface, promisc=False)
        self.ip = IP if family == 4 else IPv6

    def close(self):
        self.sock.close()

    def send(self, l3):
        self.sock.send(Ether(src=self.mac, dst=self.peer_mac) / l3)

    def recv(self, match, timeout):
        """The first received TCP segment (scapy IP/IPv6 layer) for which
        match(ip, tcp) is true, or None after TIMEOUT seconds."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                continue
            p = self.sock.recv()
            if p is None or self.ip not in p or TCP not in p:
                continue
            if p[Ether].src == self.mac:  # our own frames, seen on output
                continue
            if match(p[self.ip], p[TCP]):
                return p[self.ip]

    def recv_all(self, match, timeout):
        """Every matching segment within TIMEOUT seconds."""
        out, end = [], time.monotonic() + timeout
        while True:
            p = self.recv(match, max(0.0, end - time.monotonic()))
            if p is None:
                return out
            out.append(p)


class Conn:
    """Sequence state of one raw connection (our side is "local")."""

    def __init__(self, peer, src, dst, sport, dport):
        self.peer, self.src, self.dst, self.sport, self.dport = peer, src, dst, sport, dport
        self.isn = struct.unpack(">I", os.urandom(4))[0]
        self.snd_nxt = self.isn
        self.rcv_nxt = 0

    def seg(self, flags, options=(), payload=b"", seq=None):
        tcp = TCP(sport=self.sport, dport=self.dport, flags=flags, window=65535,
                  seq=self.snd_nxt if seq is None else seq,
                  ack=self.rcv_nxt if "A" in flags else 0, options=list(options))
        return self.peer.ip(src=self.src, dst=self.dst) / tcp / payload

    def send(self, flags, options=(), payload=b""):
        self.peer.send(self.seg(flags, options, payload))
        self.snd_nxt = (self.snd_nxt + len(payload) + ("S" in flags) + ("F" in flags)) & 0xFFFFFFFF

    def from_peer(self, ip, tcp):
        return (ip.src == self.dst and tcp.sport == self.dport and tcp.dport == self.sport)

    def recv(self, timeout, extra=lambda ip, tcp: True):
        return self.peer.recv(lambda ip, tcp: self.from_peer(ip, tcp) and extra(ip, tcp), timeout)


def syn_port():
    return 20000 + struct.unpack(">H", os.urandom(2))[0] % 20000

