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
import sys, time

import mptcplib as ml

PORT = 34567


def run():
    ls, c, s = ml.loopback_pair(port=PORT)
    data = bytes(range(256)) * 1024
    s.sendall(data)
    got = ml.recv_exact(c, len(data))
    assert got == data
    time.sleep(0.3)
    c.sendall(b"z" * 1024)
    ml.recv_exact(s, 1024, 4096)
    time.sleep(0.3)
    for x in (c, s, ls):
        x.close()
    time.sleep(0.5)


def check(path):
    srv = {"pre": set(), "post": set()}
    cli = set()
    client_mapped = False
    for p in ml.pcap_packets(path):
        d = p["dss"]
        if not d:
            continue
        if p["src"][1] == PORT:
            if "ack" in d:
                srv["post" if client_mapped else "pre"].add(d["ack64"])
        elif p["dst"][1] == PORT:
            if "ack" in d and "dsn" not in d:
                cli.add(d["ack64"])
            if "dsn" in d and p["plen"] > 0:
                client_mapped = True
    print(f"server DATA_ACK 8-octet before the client mapped data: {sorted(srv['pre'])}; "
          f"after: {sorted(srv['post'])}; client's: {sorted(cli)}")
    # The client's pure ACKs once it has seen the server's 64-bit mappings.
    ok = srv["pre"] == {False} and srv["post"] == {True} and True in cli
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    {"run": lambda: run(), "check": lambda: check(sys.argv[2])}[sys.argv[1]]()
