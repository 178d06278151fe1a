#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Byte-exact stream transfer over IPPROTO_MPTCP (or TCP) sockets.

  xfer.py server --port P [--proto mptcp|tcp] [--family 4|6|6m] [--send N] [--count C]
  xfer.py client --addr A --port P [--proto ...] --send N [--seed S] [--count C]

Each side sends N bytes of a seeded pseudo-random stream, half-closes, and
reads until EOF; it prints one JSON line with the byte count and SHA-256 of
what it sent and what it received, plus what the socket reports about MPTCP
(TCP_IS_MPTCP, MPTCP_INFO).  The test compares the two sides' lines.
With --count C, C connections run concurrently (a thread each; connection i
sends the stream of seed S+i); one JSON line per connection, each with the
client's port ("port") so the test can pair the two sides' lines.
--family 6m: an AF_INET6 socket that also speaks IPv4 through v4-mapped
addresses (IPV6_V6ONLY=0): a dual-stack server on [::], or a client given
--addr ::ffff:a.b.c.d.
"""
import argparse, os, hashlib, random, socket, sys, threading, time

import mptcplib as ml

# Write size (XFER_CHUNK: small writes make TCP append to unsent segments).
CHUNK = int(os.environ.get("XFER_CHUNK", 1 << 16))
# XFER_FIRST=N: the first N octets go out alone, 0.2 s before the rest (a
# first mapping small and early: the peer checks one DSS checksum before a
# middlebox rewriting large packets strikes).
FIRST = int(os.environ.get("XFER_FIRST", 0))


def stream(seed, n):
    rnd = random.Random(seed)
    while n > 0:
        k = min(CHUNK, n)
        yield rnd.randbytes(k)
        n -= k


def run(s, send, seed, port=None):
    res = {}
    state = ml.mptcp_state(s)
    out = hashlib.sha256()

    def sender():
        sent = 0
        for buf in stream(seed, send):
            if FIRST and sent == 0 and len(buf) > FIRST:
                s.sendall(buf[:FIRST])
                time.sleep(0.2)
                s.sendall(buf[FIRST:])
            else:
                s.sendall(buf)
            out.update(buf)
            sent += len(buf)
        s.shutdown(socket.SHUT_WR)
        res["sent"] = sent

    t = threading.Thread(target=sender)
    t.start()
    inp = hashlib.sha256()
    got = 0
    while True:
        b = s.recv(1 << 18)
        if not b:
            break
        inp.update(b)
        got += len(b)
    t.join()
    return dict(port=port, sent=res.get("sent", -1), sent_sha=out.hexdigest(),
                recv=got, recv_sha=inp.hexdigest(), **state)


def guarded(results, i, fn):
    """Run fn() in a thread, keeping its result (or its error) in results[i]."""
    def body():
        try:
            results[i] = fn()
        except OSError as e:
            print(f"connection {i}: {e!r}", file=sys.stderr, flush=True)
            results[i] = {"error": repr(e)}
    t = threading.Thread(target=body)
    t.start()
    return t


def server_conn(c, peer, a, i):
    c.settimeout(a.timeout)
    try:
        return run(c, a.send, a.seed + 1000 + i, peer[1])
    finally:
        c.close()


def client_conn(fam, proto, opts, a, i):
    s = ml.mptcp_socket(fam, proto, opts)
    s.settimeout(a.timeout)
    try:
        s.connect((a.addr, a.port))
        return run(s, a.send, a.seed + i, s.getsockname()[1])
    finally:
        s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["server", "client"])
    ml.socket_args(ap, families=("4", "6", "6m"))
    ap.add_argument("--send", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=300)
    a = ap.parse_args()
    fam, proto = ml.family(a.family), ml.protocol(a.proto)
    opts = [ml.DUAL_STACK] if a.family == "6m" else []
    results = [None] * a.count
    if a.mode == "server":
        s = ml.listener(fam, proto, a.port, a.addr, max(8, a.count), opts)
        s.settimeout(a.timeout)
        ml.ready()
        threads = []
        for i in range(a.count):
            c, peer = s.accept()
            threads.append(guarded(results, i, lambda c=c, p=peer, i=i: server_conn(c, p, a, i)))
        s.close()
    else:
        threads = [guarded(results, i, lambda i=i: client_conn(fam, proto, opts, a, i))
                   for i in range(a.count)]
    for t in threads:
        t.join()
    for r in results:
        ml.print_json(r)
    return 0 if all("error" not in r for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
