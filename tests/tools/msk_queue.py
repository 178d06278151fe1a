#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The msk owns the received data: one MPTCP connection over loopback (the
current namespace); the client writes --bytes, the accepted socket reads
nothing yet.  Then the data sits on the msk's receive queue, charged to
the msk, not on its subflow:
  - SIOCINQ on the msk = --bytes;
  - `ss -M` (the msk) shows Recv-Q = --bytes and receive memory (skmem r) > 0;
  - `ss -t` (the subflow) shows Recv-Q 0 (at most the FIN, none here);
  - /proc/net/protocols counts the msks (3: listener, client, accepted) in
    its `sockets` column, and the MPTCP line has TCP's memory accounting
    (a page count, not -1), as mainline's mptcp_prot.
Then everything is read back byte-exact, and Recv-Q drops to 0.
Also: a blocking recv() that starts while the client's handshake is still
in progress (non-blocking connect) gets the data, then EOF: the reader
must not wait on TCP's own queue, which the msk empties.  Prints one line
per check; exit 0 on success.  Usage: msk_queue.py [--bytes N].
"""
import argparse, array, errno, fcntl, re, signal, socket, subprocess, threading, time

import mptcplib as ml

SIOCINQ = 0x541B
ap = argparse.ArgumentParser()
ap.add_argument("--bytes", type=int, default=100_000)
a = ap.parse_args()
signal.alarm(60)


def inq(s):
    buf = array.array("i", [-1])
    fcntl.ioctl(s.fileno(), SIOCINQ, buf, True)
    return buf[0]


def ss(kind, port):
    """(Recv-Q, skmem r) of the sockets `ss kind` lists with local port `port`."""
    out = subprocess.run(["ss", "-Hnm", kind, "state", "established", f"sport = :{port}"],
                         capture_output=True, text=True, check=True).stdout
    lines = [l for l in out.splitlines() if l and not l.startswith("\t") and not l.startswith(" ")]
    recvq = sum(int(l.split()[0]) for l in lines)
    rmem = sum(int(m.group(1)) for m in re.finditer(r"skmem:\(r(\d+),", out))
    return recvq, rmem, len(lines)


def protocols(name):
    for line in open("/proc/net/protocols"):
        f = line.split()
        if f and f[0] == name:
            return f
    raise AssertionError(f"no {name} in /proc/net/protocols")


before = int(protocols("MPTCP")[2])
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM, ml.IPPROTO_MPTCP)
ls.bind(("127.0.0.1", 0))
ls.listen(1)
port = ls.getsockname()[1]
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM, ml.IPPROTO_MPTCP)
c.connect(("127.0.0.1", port))
s, _ = ls.accept()
ml.check("TCP_IS_MPTCP", s.getsockopt(socket.IPPROTO_TCP, ml.TCP_IS_MPTCP) == 1, 1)
payload = bytes((i * 7 + 3) & 0xFF for i in range(a.bytes))
c.sendall(payload)
end = time.monotonic() + 10
while inq(s) < a.bytes and time.monotonic() < end:
    time.sleep(0.01)
ml.check("SIOCINQ", inq(s) == a.bytes, inq(s))
mq, mr, n = ss("-M", port)
ml.check("ss -M: one msk", n == 1, n)
ml.check("ss -M Recv-Q (the msk's queue)", mq == a.bytes, mq)
ml.check("ss -M skmem r (charged to the msk)", mr > 0, mr)
tq, _, n = ss("-t", port)
ml.check("ss -t: one subflow", n == 1, n)
ml.check("ss -t Recv-Q (nothing left on the subflow)", tq == 0, tq)
p = protocols("MPTCP")
ml.check("/proc/net/protocols MPTCP sockets", int(p[2]) - before == 3, int(p[2]) - before)
ml.check("/proc/net/protocols MPTCP memory accounted", p[3] != "-1", p[3])
got = bytearray()
while len(got) < a.bytes:
    d = s.recv(65536)
    assert d, "EOF before the data"
    got += d
ml.check("byte-exact", bytes(got) == payload, len(got))
mq, _, _ = ss("-M", port)
ml.check("ss -M Recv-Q after reading", mq == 0, mq)
for x in (c, s, ls):
    x.close()

# A blocking recv() issued before the handshake completes (loopback
# delayed by 100 ms so that the SYN-ACK comes after the recv() starts).
subprocess.run(["tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "100ms"], check=True)
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM, ml.IPPROTO_MPTCP)
ls.bind(("127.0.0.1", 0))
ls.listen(1)
port = ls.getsockname()[1]
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM, ml.IPPROTO_MPTCP)
c.setblocking(False)
rc = c.connect_ex(("127.0.0.1", port))
assert rc in (0, errno.EINPROGRESS), rc
c.setblocking(True)
got = []


def reader():
    while True:
        d = c.recv(4096)
        got.append(d)
        if not d:
            break


t = threading.Thread(target=reader)
t.start()
s, _ = ls.accept()
s.sendall(b"x" * 1000)
s.shutdown(socket.SHUT_WR)
t.join(20)
subprocess.run(["tc", "qdisc", "del", "dev", "lo", "root"], check=True)
ml.check("recv before the handshake: data, then EOF",
      b"".join(got) == b"x" * 1000 and got[0] != b"" and got[-1] == b"",
      [len(g) for g in got])
for x in (c, s, ls):
    x.close()
