#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""An MP_FAIL that goes unanswered: the server sends FIRST octets (their
DSS checksum passes), then SECOND octets that a middlebox rewrites (the
test's tc pedit) in one write, then nothing; the client, whose checksum
fails, sends MP_FAIL, whose answer the test's nftables drops.  With no
answer and no infinite mapping (the server has no new data to carry it),
the client resets the connection after mainline's fail timeout
(TCP_RTO_MAX, 120 s): both ends' blocked recv() fails with ECONNRESET.

Usage: fail_timeout.py server|client --addr A --port P.  Prints one JSON
line: what was received, the error that ended the wait and its delay in
seconds (the client from the rewritten data, the server from its write).
"""
import argparse, socket, time

import mptcplib as ml

FIRST, SECOND = 500, 2000

ap = argparse.ArgumentParser()
ap.add_argument("role", choices=["server", "client"])
ml.socket_args(ap)
a = ap.parse_args()


def wait_reset(s, since, got=0):
    """Blocks in recv() until it fails (or EOF): the result's fields."""
    s.settimeout(200)
    extra = b""
    err = None
    try:
        while True:
            d = s.recv(4096)
            if not d:
                break
            extra += d
    except OSError as e:
        err = ml.errno_name(e.errno) if e.errno else type(e).__name__
    return {"recv": got, "extra": len(extra), "error": err,
            "after": round(time.monotonic() - since, 1)}


if a.role == "server":
    ls = ml.listener(socket.AF_INET, ml.IPPROTO_MPTCP, a.port, a.addr, 1)
    ml.ready()
    s, _ = ls.accept()
    s.sendall(b"a" * FIRST)
    time.sleep(0.5)
    s.sendall(b"b" * SECOND)
    ml.print_json(wait_reset(s, time.monotonic()))
else:
    c = ml.mptcp_socket()
    c.connect((a.addr, a.port))
    got = ml.recv_exact(c, FIRST + SECOND)
    res = wait_reset(c, time.monotonic(), len(got))
    res["is_mptcp"] = ml.is_mptcp(c)
    ml.print_json(res)
