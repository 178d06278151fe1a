#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A zero-length recv()/recvmsg() on an established connection returns 0 at
once, with and without queued data, and consumes nothing, as on mainline
MPTCP (whose copy loop never runs).  Plain TCP differs when nothing is
queued: tcp_recvmsg() waits for one octet it cannot copy, so `tcp` runs
only the queued-data case.  Runs a connection over loopback in the current namespace
with blocking sockets (a timeout would make Python poll first); a hang is
caught by SIGALRM.  Usage: recv_zero.py mptcp|tcp.  Exit 0 on success.
"""
import signal, socket, sys, time

import mptcplib as ml

proto = ml.protocol(sys.argv[1])


def hang(*_):
    raise TimeoutError("zero-length receive did not return")


signal.signal(signal.SIGALRM, hang)
ls, c, s = ml.loopback_pair(proto)
# Established both ways (MPTCP fully established after the first data).
c.sendall(b"x"); assert s.recv(1) == b"x"
s.sendall(b"y"); assert c.recv(1) == b"y"
if proto == ml.IPPROTO_MPTCP:
    assert (c.getsockopt(socket.IPPROTO_TCP, ml.TCP_IS_MPTCP) == 1 and
            s.getsockopt(socket.IPPROTO_TCP, ml.TCP_IS_MPTCP) == 1), "not MPTCP"
for queued in ((b"",) if proto == ml.IPPROTO_MPTCP else ()) + (b"abc",):
    if queued:
        s.sendall(queued)
        time.sleep(0.3)
    signal.alarm(5)
    n1 = c.recv_into(bytearray(0))
    n2 = c.recvmsg_into([bytearray(0)])[0]
    signal.alarm(0)
    assert (n1, n2) == (0, 0), (n1, n2)
    if queued:
        got = c.recv(16)
        assert got == queued, got
    print(f"{sys.argv[1]}: zero-length recv/recvmsg with {len(queued)} B queued: returned 0, 0")
for x in (c, s, ls):
    x.close()
