#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The msk's read-side and write-side counts, as mainline MPTCP and TCP give
them: ioctl SIOCINQ (FIONREAD), SIOCOUTQ (TIOCOUTQ), SIOCOUTQNSD, the TCP_INQ
cmsg, MSG_PEEK and MSG_WAITALL.  One connection over loopback in the
current namespace; the same expectations for `tcp` and `mptcp`, so TCP is
the oracle.  Prints one line per check.  Usage: inq.py mptcp|tcp.  Exit 0 on
success.
"""
import array, errno, fcntl, signal, socket, sys, threading, time

import mptcplib as ml

SIOCINQ = 0x541B  # FIONREAD
SIOCOUTQ = 0x5411  # TIOCOUTQ
SIOCOUTQNSD = 0x894B
TCP_INQ = 36
TCP_CM_INQ = TCP_INQ

proto = ml.protocol(sys.argv[1])


def ioctl_int(s, cmd):
    buf = array.array("i", [-1])
    fcntl.ioctl(s.fileno(), cmd, buf, True)
    return buf[0]


def recv_inq(s, n, flags=0):
    """recvmsg of up to n octets: (data, the TCP_CM_INQ value or None)."""
    data, anc, _, _ = s.recvmsg(n, socket.CMSG_SPACE(4), flags)
    inq = [int.from_bytes(d[:4], sys.byteorder) for lvl, typ, d in anc
           if lvl == socket.IPPROTO_TCP and typ == TCP_CM_INQ]
    return data, (inq[0] if inq else None)


def wait_for(what, cond, secs=5.0):
    end = time.monotonic() + secs
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def check(name, got, want):
    assert got == want, f"{name}: got {got!r}, want {want!r}"
    print(f"{sys.argv[1]}: {name} = {got!r}")


signal.alarm(60)
ls, c, s = ml.loopback_pair(proto)
try:
    ioctl_int(ls, SIOCINQ)
    raise AssertionError("SIOCINQ on a listener succeeded")
except OSError as e:
    check("SIOCINQ on a listener", errno.errorcode[e.errno], "EINVAL")
c.sendall(b"x"); assert s.recv(1) == b"x"
s.sendall(b"y"); assert c.recv(1) == b"y"
if proto == ml.IPPROTO_MPTCP:
    assert ml.is_mptcp(c) and ml.is_mptcp(s), "not MPTCP"

check("TCP_INQ before setsockopt", s.getsockopt(socket.IPPROTO_TCP, TCP_INQ), 0)
s.setsockopt(socket.IPPROTO_TCP, TCP_INQ, 1)
check("TCP_INQ after setsockopt", s.getsockopt(socket.IPPROTO_TCP, TCP_INQ), 1)
try:
    s.setsockopt(socket.IPPROTO_TCP, TCP_INQ, 2)
    raise AssertionError("TCP_INQ=2 accepted")
except OSError as e:
    check("TCP_INQ=2", errno.errorcode[e.errno], "EINVAL")

# SIOCINQ and the cmsg count the data level's queue.
n = 3000
payload = bytes(i % 251 for i in range(n))
c.sendall(payload)
wait_for("SIOCINQ == n", lambda: ioctl_int(s, SIOCINQ) == n)
check("SIOCINQ with n queued", ioctl_int(s, SIOCINQ), n)
wait_for("SIOCOUTQ == 0", lambda: ioctl_int(c, SIOCOUTQ) == 0)
check("SIOCOUTQ once acked", (ioctl_int(c, SIOCOUTQ), ioctl_int(c, SIOCOUTQNSD)), (0, 0))
d, inq = recv_inq(s, 1, socket.MSG_PEEK)
check("peek 1: data, inq", (d, inq), (payload[:1], n))
d, inq = recv_inq(s, 1)
check("read 1: data, inq", (d, inq), (payload[:1], n - 1))
d, inq = recv_inq(s, n)
check("read the rest: length, inq", (d == payload[1:], inq), (True, 0))
check("SIOCINQ drained", ioctl_int(s, SIOCINQ), 0)

# MSG_WAITALL waits for the whole length, sent in pieces.
def trickle():
    for i in range(3):
        time.sleep(0.2)
        c.sendall(payload[i * 100:(i + 1) * 100])


t = threading.Thread(target=trickle)
t.start()
d, inq = recv_inq(s, 300, socket.MSG_WAITALL)
t.join()
check("MSG_WAITALL 300 from 3 writes: data, inq", (d == payload[:300], inq), (True, 0))

# The peer's close: 1 once nothing is left, at the last octet and at EOF.
c.sendall(b"z")
c.shutdown(socket.SHUT_WR)
time.sleep(0.5)
d, inq = recv_inq(s, 1)
check("last octet after the peer's close: data, inq", (d, inq), (b"z", 1))
d, inq = recv_inq(s, 1)
check("EOF: data, inq", (d, inq), (b"", 1))
# TCP's ioctl leaves the FIN out (0); mainline's msk answers its hint (1).
check("SIOCINQ at EOF", ioctl_int(s, SIOCINQ), 1 if proto == ml.IPPROTO_MPTCP else 0)
for x in (c, s, ls):
    x.close()
