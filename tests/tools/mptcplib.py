# SPDX-License-Identifier: GPL-2.0
"""What the test tools share: MPTCP constants (named as in the Linux uapi and
net/mptcp), socket set-up, result output and pcap reading.  Standard
library only (Python 3.11); it must also run on Debian's stock kernel
(tests/interop).

The tools in tests/tools import it directly (a script's own folder is on
sys.path):  import mptcplib as ml
Scripts in other folders (tests/hostile, tests/interop) first add
tests/tools, relative to their own file:

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
    import mptcplib as ml  # noqa: E402

The shell tests' inline Python runs as $PYLIB (tests/vm/lib.sh): python3
with tests/tools on PYTHONPATH.
"""
import errno
import json
import socket
import struct
import sys

# ---- socket API (include/uapi/linux/in.h, linux/socket.h, uapi/linux/mptcp.h, uapi/linux/tcp.h)
IPPROTO_MPTCP = 262
SOL_MPTCP = 284
# SOL_MPTCP getsockopt options
MPTCP_INFO = 1
MPTCP_TCPINFO = 2
MPTCP_SUBFLOW_ADDRS = 3
MPTCP_FULL_INFO = 4
# SOL_TCP option: 1 on an MPTCP socket (not fallen back), 0 on plain TCP
TCP_IS_MPTCP = 43

# struct mptcp_info (6.12): its size and the offsets of the fields the tests read
MPTCP_INFO_SIZE = 96
MPTCPI_TOKEN = 12
MPTCPI_CSUM_ENABLED = 42
MPTCPI_BYTES_SENT = 56
MPTCPI_BYTES_RECEIVED = 64

# ---- wire format (RFC 8684; names of include/net/tcp.h, net/mptcp/protocol.h)
TCPOPT_MPTCP = 30
# subtypes (high nibble of the option's first octet)
MPTCPOPT_MP_CAPABLE = 0
MPTCPOPT_DSS = 2
MPTCPOPT_RST = 8
# MP_CAPABLE flags: A (checksums required), H (HMAC-SHA256)
MPTCP_CAP_CHECKSUM_REQD = 0x80
MPTCP_CAP_HMAC_SHA256 = 0x01
# DSS flags: F (DATA_FIN), m (8-octet DSN), M (mapping), a (8-octet DATA_ACK), A (DATA_ACK)
MPTCP_DSS_DATA_FIN = 0x10
MPTCP_DSS_DSN64 = 0x08
MPTCP_DSS_HAS_MAP = 0x04
MPTCP_DSS_ACK64 = 0x02
MPTCP_DSS_HAS_ACK = 0x01

# ---- sockets

# IPV6_V6ONLY off: an AF_INET6 socket that also speaks IPv4 through
# v4-mapped addresses (a dual-stack [::] listener, a client of ::ffff:a.b.c.d).
# A setsockopt() argument tuple, for the opts of mptcp_socket() and listener().
DUAL_STACK = (socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)


def family(name):
    """The address family of the tools' --family: AF_INET for "4", AF_INET6
    for "6" and the v4-mapped variants ("6m", "4m")."""
    return socket.AF_INET if name == "4" else socket.AF_INET6


def protocol(name):
    """The protocol of the tools' --proto: IPPROTO_MPTCP for "mptcp",
    IPPROTO_TCP for "tcp"."""
    return IPPROTO_MPTCP if name == "mptcp" else socket.IPPROTO_TCP


def mptcp_socket(family=socket.AF_INET, proto=IPPROTO_MPTCP, opts=()):
    """A SOCK_STREAM socket of PROTO (IPPROTO_MPTCP unless told otherwise:
    the tools' plain TCP runs pass IPPROTO_TCP), with each setsockopt()
    argument tuple of OPTS applied."""
    s = socket.socket(family, socket.SOCK_STREAM, proto)
    for o in opts:
        s.setsockopt(*o)
    return s


def listener(family, proto, port, addr="", backlog=8, opts=()):
    """mptcp_socket() with SO_REUSEADDR and OPTS, bound to ADDR:PORT, listening."""
    s = mptcp_socket(family, proto, [(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1), *opts])
    s.bind((addr, port))
    s.listen(backlog)
    return s


def loopback_pair(proto=IPPROTO_MPTCP, port=0):
    """A connection over 127.0.0.1 (PORT 0: any): (listener, client, server end)."""
    ls = listener(socket.AF_INET, proto, port, "127.0.0.1", 1)
    c = mptcp_socket(socket.AF_INET, proto)
    c.connect(ls.getsockname())
    s, _ = ls.accept()
    return ls, c, s


def is_mptcp(s):
    """TCP_IS_MPTCP of socket s (1: MPTCP; 0: plain TCP or fallen back), or
    -errno if the getsockopt() fails."""
    try:
        return s.getsockopt(socket.IPPROTO_TCP, TCP_IS_MPTCP)
    except OSError as e:
        return -e.errno


def mptcp_info(s, size=256):
    """The raw struct mptcp_info of socket s (OSError where MPTCP_INFO fails:
    a fallen-back socket, plain TCP)."""
    return s.getsockopt(SOL_MPTCP, MPTCP_INFO, size)


def mptcp_state(s):
    """What socket s reports about MPTCP, for a JSON result: tcp_is_mptcp
    (TCP_IS_MPTCP or -errno), mptcp_info ("ok" or -errno) and, when
    MPTCP_INFO answers, csum (mptcpi_csum_enabled)."""
    st = {"tcp_is_mptcp": is_mptcp(s)}
    try:
        info = mptcp_info(s)
        st["mptcp_info"] = "ok"
        st["csum"] = info[MPTCPI_CSUM_ENABLED]
    except OSError as e:
        st["mptcp_info"] = -e.errno
    return st


def check(name, ok, got):
    """Asserts OK, naming the check NAME and what it GOT; prints it."""
    assert ok, f"{name}: got {got!r}"
    print(f"{name}: {got!r}")


def recv_exact(s, n, chunk=1 << 16):
    """N octets from socket s, read CHUNK at most at a time; fewer at EOF."""
    got = bytearray()
    while len(got) < n:
        b = s.recv(min(chunk, n - len(got)))
        if not b:
            break
        got += b
    return bytes(got)


def recv_until_eof(s, bufsize=4096):
    """Read socket s to its end: (data, None) at EOF, or (the data read
    before, the OSError) when a recv() fails (a timeout included)."""
    got = b""
    try:
        while True:
            d = s.recv(bufsize)
            if not d:
                return got, None
            got += d
    except OSError as e:
        return got, e


def errno_name(n):
    """The name of errno N ("ECONNREFUSED"), or N as text if it has none."""
    return errno.errorcode.get(n, str(n))


def socket_args(ap, families=("4", "6")):
    """The socket tools' common options on argparse parser AP: --addr,
    --port (required), --proto mptcp|tcp (default mptcp), --family
    (one of FAMILIES, default 4)."""
    ap.add_argument("--addr", default="")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--proto", choices=["mptcp", "tcp"], default="mptcp")
    ap.add_argument("--family", choices=list(families), default="4")


# ---- results (the shell tests parse them)

def ready():
    """A server end listens: "listening" on stderr, which the tests wait for."""
    print("listening", file=sys.stderr, flush=True)


def print_json(obj, prefix=""):
    """One result line: PREFIX, then OBJ as JSON; flushed."""
    print(prefix + json.dumps(obj), flush=True)


def json_lines(path):
    """The objects of a file of JSON lines (print_json's output)."""
    with open(path) as f:
        return [json.loads(line) for line in f]


# ---- pcap reading (tcpdump -w: Ethernet, Linux cooked v1/v2), TCP over IPv4/IPv6

def pcap_packets(path):
    """The TCP segments of a capture, in order, as dicts: n (frame number,
    from 1), t (seconds), src and dst ((address bytes, port)), seq, ack,
    flags, win, plen (payload length; BIG TCP's zero IP lengths taken from
    the frame) and dss (parse_dss() of its DSS option, or None)."""
    b = open(path, "rb").read()
    magic = struct.unpack("<I", b[:4])[0]
    e = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    nano = magic in (0xa1b23c4d, 0x4d3cb2a1)
    link = struct.unpack(e + "I", b[20:24])[0]
    off, n = 24, 0
    while off + 16 <= len(b):
        ts, tf, incl, orig = struct.unpack(e + "IIII", b[off:off + 16])
        p = b[off + 16:off + 16 + incl]
        off += 16 + incl
        n += 1
        l2 = {1: 14, 113: 16, 276: 20}.get(link, 14)
        ip = p[l2:]
        if not ip:
            continue
        if ip[0] >> 4 == 4 and ip[9] == 6:
            hl, tot = (ip[0] & 15) * 4, struct.unpack(">H", ip[2:4])[0]
            if tot == 0:  # BIG TCP (over 64 KiB): the frame's length says
                tot = orig - l2
            src, dst = ip[12:16], ip[16:20]
            tcp, plen_ip = ip[hl:], tot - hl
        elif ip[0] >> 4 == 6 and ip[6] == 6:
            src, dst = ip[8:24], ip[24:40]
            tcp, plen_ip = ip[40:], struct.unpack(">H", ip[4:6])[0]
            if plen_ip == 0:  # BIG TCP jumbogram
                plen_ip = orig - l2 - 40
        else:
            continue
        sport, dport, seq, ack = struct.unpack(">HHII", tcp[:12])
        doff = (tcp[12] >> 4) * 4
        flags = tcp[13]
        win = struct.unpack(">H", tcp[14:16])[0]
        opts, dss, i = tcp[20:doff], None, 0
        while i < len(opts):
            k = opts[i]
            if k == 0:
                break
            if k == 1:
                i += 1
                continue
            if i + 1 >= len(opts) or opts[i + 1] < 2:
                break
            ln = opts[i + 1]
            if k == TCPOPT_MPTCP and ln >= 4 and opts[i + 2] >> 4 == MPTCPOPT_DSS:
                dss = parse_dss(opts[i:i + ln])
            i += ln
        t = ts + tf / (1e9 if nano else 1e6)
        yield dict(n=n, t=t, src=(src, sport), dst=(dst, dport), seq=seq, ack=ack, flags=flags,
                   win=win, plen=plen_ip - doff, dss=dss)


def parse_dss(o):
    """A DSS option (kind and length included) as a dict: ack and ack64
    (DATA_ACK, 8 octets?), dsn, dsn64, ssn and dlen (the mapping), fin."""
    f, p, d = o[3], 4, {}
    if f & MPTCP_DSS_HAS_ACK:
        w = 8 if f & MPTCP_DSS_ACK64 else 4
        d["ack"] = int.from_bytes(o[p:p + w], "big"); d["ack64"] = w == 8; p += w
    if f & MPTCP_DSS_HAS_MAP:
        w = 8 if f & MPTCP_DSS_DSN64 else 4
        d["dsn"] = int.from_bytes(o[p:p + w], "big"); d["dsn64"] = w == 8; p += w
        d["ssn"], d["dlen"] = struct.unpack(">IH", o[p:p + 6])
    d["fin"] = bool(f & MPTCP_DSS_DATA_FIN)
    return d
