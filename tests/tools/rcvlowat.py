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


ls, c, s = ml.loopback_pair()
ml.check("MPTCP", ml.is_mptcp(s) == 1, ml.is_mptcp(s))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, a.lowat)
v = s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT)
ml.check("SO_RCVLOWAT reads back", v == a.lowat, v)
p = select.poll()
p.register(s, select.POLLIN)
c.sendall(b"x" * (a.lowat // 2))
ev = p.poll(300)
ml.check("poll: no POLLIN below the low-water mark", not ev, ev)
got = bytearray()
done = threading.Event()


def reader():
    d = s.recv(a.lowat)
    got.extend(d)
    done.set()


rt = threading.Thread(target=reader)
rt.start()
ml.check("blocking recv waits below the low-water mark", not done.wait(0.5), len(got))
c.sendall(b"y" * (a.lowat - a.lowat // 2))
rt.join(10)
ml.check("blocking recv returns the low-water mark in one call",
      done.is_set() and bytes(got) == b"x" * (a.lowat // 2) + b"y" * (a.lowat - a.lowat // 2),
      len(got))
c.sendall(b"z" * a.lowat)
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

# A mark set before connect (the client's): no POLLIN below it, POLLIN at
# it; and MSG_PEEK waits for it too, as TCP's.
ls = ml.listener(socket.AF_INET, ml.IPPROTO_MPTCP, 0, "127.0.0.1", 1)
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM, ml.IPPROTO_MPTCP)
c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, a.lowat)
c.connect(ls.getsockname())
s, _ = ls.accept()
ml.check("MPTCP (mark before connect)", ml.is_mptcp(c) == 1, ml.is_mptcp(c))
p = select.poll()
p.register(c, select.POLLIN)
s.sendall(b"a" * (a.lowat // 2))
ev = p.poll(300)
ml.check("mark before connect: no POLLIN below it", not ev, ev)
peeked = bytearray()
done.clear()


def peeker():
    peeked.extend(c.recv(a.lowat, socket.MSG_PEEK))
    done.set()


pt = threading.Thread(target=peeker)
pt.start()
ml.check("MSG_PEEK waits below the mark", not done.wait(0.5), len(peeked))
s.sendall(b"b" * (a.lowat - a.lowat // 2))
pt.join(10)
ml.check("MSG_PEEK returns the mark", done.is_set() and len(peeked) == a.lowat, len(peeked))
ev = p.poll(5000)
ml.check("mark before connect: POLLIN at it", bool(ev) and bool(ev[0][1] & select.POLLIN), ev)
d = ml.recv_exact(c, a.lowat)
ml.check("read after the peek", d == bytes(peeked), len(d))
for x in (c, s, ls):
    x.close()
