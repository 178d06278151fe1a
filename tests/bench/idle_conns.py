#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Memory of established idle connections, for `make bench`.

  idle_conns.py N mptcp|tcp PORT

Opens N connections over 127.0.0.1 (both ends in this process, so every
connection costs its client and its server socket), exchanges one octet
each way on each (for MPTCP handshake is complete: the server has the
client's key and both have sent a DATA_ACK), then prints

  ready conns=N is_mptcp=K

(K: how many client sockets report TCP_IS_MPTCP = 1) and waits for
SIGTERM, holding the connections.  The guest measures the kernel's slab
and socket memory before the start and at "ready" (tests/bench/guest.sh).
"""
import os
import signal
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import mptcplib as ml  # noqa: E402


def main():
    n, proto, port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    p = ml.IPPROTO_MPTCP if proto == "mptcp" else 0
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM, p)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(n + 16)
    pairs = []
    for _ in range(n):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM, p)
        c.connect(("127.0.0.1", port))
        s, _ = ls.accept()
        pairs.append((c, s))
    for c, s in pairs:
        c.sendall(b"x")
        s.recv(1)
        s.sendall(b"y")
        c.recv(1)
    ls.close()
    k = sum(ml.is_mptcp(c) == 1 for c, _ in pairs)
    print(f"ready conns={n} is_mptcp={k}", flush=True)
    signal.pause()  # until SIGTERM ends the process


if __name__ == "__main__":
    main()
