#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""SO_RCVLOWAT on an msk, as on a TCP socket (MPTCP connections over
loopback, the current namespace): getsockopt reads back the value set;
with fewer octets queued, poll() reports no POLLIN and a blocking recv()
waits for --lowat octets, then returns them in one call; with them queued,
POLLIN; a non-blocking recv() returns what is queued, below the mark too.
The mark is capped as TCP's; one set before connect() works the same, and
MSG_PEEK waits for the mark.
The mark is the msk's: its subflow keeps sk_rcvlowat 0 (mainline's rule),
or TCP would neither wake the msk's reader below the mark nor delay its
ACKs once the msk took the data.  Prints one line per check; exit 0 on
success.  Usage: rcvlowat.py [--lowat N].
"""
import argparse, select, signal, socket, threading, time

import mptcplib as ml

ap = argparse.ArgumentParser()
ap.add_argument("--lowat", type=int, default=10_000)
a = ap.parse_args()
signal.alarm(60)


def below_then_at(rx, tx, what, flags=0):
    """TX sends half the mark to RX (whose mark is set): no POLLIN, and a
    recv(FLAGS) started then waits; TX sends the rest: the recv returns
    the mark in one call, and POLLIN.  Returns what the recv got."""
    p = select.poll()
    p.register(rx, select.POLLIN)
    half = a.lowat // 2
    tx.sendall(b"x" * half)
    ev = p.poll(300)
    ml.check(f"{what}: no POLLIN below the mark", not ev, ev)
    got, done = bytearray(), threading.Event()

    def reader():
        got.extend(rx.recv(a.lowat, flags))
        done.set()

    rt = threading.Thread(target=reader)
    rt.start()
    ml.check(f"{what}: recv waits below the mark", not done.wait(0.5), len(got))
    tx.sendall(b"y" * (a.lowat - half))
    rt.join(10)
    ml.check(f"{what}: recv returns the mark in one call",
             done.is_set() and bytes(got) == b"x" * half + b"y" * (a.lowat - half), len(got))
    if flags & socket.MSG_PEEK:
        ev = p.poll(5000)
        ml.check(f"{what}: POLLIN at the mark", bool(ev) and bool(ev[0][1] & select.POLLIN), ev)
        d = ml.recv_exact(rx, a.lowat)
        ml.check(f"{what}: read after the peek", d == bytes(got), len(d))
    return bytes(got)


ls, c, s = ml.loopback_pair()
ml.check("MPTCP", ml.is_mptcp(s) == 1, ml.is_mptcp(s))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, a.lowat)
v = s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT)
ml.check("SO_RCVLOWAT reads back", v == a.lowat, v)
below_then_at(s, c, "mark after connect")
c.sendall(b"z" * a.lowat)
p = select.poll()
p.register(s, select.POLLIN)
ev = p.poll(5000)
ml.check("poll: POLLIN at the low-water mark", bool(ev) and bool(ev[0][1] & select.POLLIN), ev)
d = ml.recv_exact(s, a.lowat)
ml.check("recv at the low-water mark", d == b"z" * a.lowat, len(d))
c.sendall(b"w" * 10)
time.sleep(0.3)
s.setblocking(False)
d = s.recv(a.lowat)
ml.check("non-blocking recv below the low-water mark returns what is queued", d == b"w" * 10, len(d))
for x in (c, s, ls):
    x.close()

# The mark is capped as TCP caps it (half the largest buffer), on the msk
# as on a TCP socket.
caps = []
for proto in (socket.IPPROTO_TCP, ml.IPPROTO_MPTCP):
    x = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
    x.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, 0x7FFFFFFF)
    caps.append(x.getsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT))
    x.close()
ml.check("SO_RCVLOWAT capped as TCP's (TCP, MPTCP)", caps[0] == caps[1] < 0x7FFFFFFF, caps)

# A mark set before connect (the client's), with MSG_PEEK: it waits for
# the mark too, as TCP's.
ls = ml.listener(socket.AF_INET, ml.IPPROTO_MPTCP, 0, "127.0.0.1", 1)
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM, ml.IPPROTO_MPTCP)
c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, a.lowat)
c.connect(ls.getsockname())
s, _ = ls.accept()
ml.check("MPTCP (mark before connect)", ml.is_mptcp(c) == 1, ml.is_mptcp(c))
below_then_at(c, s, "mark before connect, MSG_PEEK", socket.MSG_PEEK)
for x in (c, s, ls):
    x.close()
