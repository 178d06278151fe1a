#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""DATA_ACK width on the wire, as mainline: 32-bit until the peer's
mappings use 64-bit DSNs (mainline's use_64bit_ack), then 64-bit.

  dss_width.py run PCAP     run the exchange over loopback (tcpdump is
                            capturing lo into PCAP meanwhile)
  dss_width.py check PCAP   read the capture and assert

The exchange: a client connects and sends nothing; the server sends 256 KiB
(64-bit mappings, as we and mainline always map) and waits; the client reads
it all, then sends 1 KiB; the server reads it; both close.  Expected:
- the server's data segments, sent before the client mapped anything,
  carry a 4-octet DATA_ACK;
- the client's DSS, after it received the server's 64-bit mappings, carry
  an 8-octet DATA_ACK;
- the server's DSS after the client's 64-bit mapping carry 8 octets.
"""
import socket, struct, sys, time

IPPROTO_MPTCP = 262
PORT = 34567


def run():
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", PORT)); ls.listen(1)
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
    c.connect(("127.0.0.1", PORT))
    s, _ = ls.accept()
    data = bytes(range(256)) * 1024
    s.sendall(data)
    got = b""
    while len(got) < len(data):
        got += c.recv(65536)
    assert got == data
    time.sleep(0.3)
    c.sendall(b"z" * 1024)
    got = b""
    while len(got) < 1024:
        got += s.recv(4096)
    time.sleep(0.3)
    for x in (c, s, ls):
        x.close()
    time.sleep(0.5)


def packets(path):
    """(sport, dport, tcp payload length, [dss option bytes]) per IPv4 packet."""
    b = open(path, "rb").read()
    magic = struct.unpack("<I", b[:4])[0]
    e = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    link = struct.unpack(e + "I", b[20:24])[0]
    off = 24
    while off + 16 <= len(b):
        _, _, incl, _ = struct.unpack(e + "IIII", b[off:off + 16])
        p = b[off + 16:off + 16 + incl]
        off += 16 + incl
        l2 = {1: 14, 113: 16, 276: 20}.get(link, 14)
        ip = p[l2:]
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
            continue
        ihl = (ip[0] & 15) * 4
        tot = struct.unpack(">H", ip[2:4])[0]
        tcp = ip[ihl:]
        sport, dport = struct.unpack(">HH", tcp[:4])
        doff = (tcp[12] >> 4) * 4
        plen = tot - ihl - doff
        opts, dss, i = tcp[20:doff], [], 0
        while i < len(opts):
            k = opts[i]
            if k == 0:
                break
            if k == 1:
                i += 1
                continue
            ln = opts[i + 1]
            if ln < 2:
                break
            if k == 30 and opts[i + 2] >> 4 == 2:
                dss.append(opts[i:i + ln])
            i += ln
        yield sport, dport, plen, dss


def check(path):
    srv = {"pre": set(), "post": set()}
    cli = set()
    client_mapped = False
    for sport, dport, plen, dss in packets(path):
        for o in dss:
            flags = o[3]
            ack = flags & 1
            ack8 = bool(flags & 2)
            mapping = bool(flags & 4)
            if sport == PORT:
                if ack:
                    srv["post" if client_mapped else "pre"].add(ack8)
            elif dport == PORT:
                if ack and not mapping:
                    cli.add(ack8)
                if mapping and plen > 0:
                    client_mapped = True
    print(f"server DATA_ACK 8-octet before the client mapped data: {sorted(srv['pre'])}; "
          f"after: {sorted(srv['post'])}; client's: {sorted(cli)}")
    ok = srv["pre"] == {False} and srv["post"] == {True} and True in cli
    # The client's pure ACKs once it has seen the server's 64-bit mappings.
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    {"run": lambda: run(), "check": lambda: check(sys.argv[2])}[sys.argv[1]]()
