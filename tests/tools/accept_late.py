#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The msk of a passive connection exists from its third ACK (mainline's
mptcp_sk_clone_init()), before accept():

1. Data sent before the server accepts moves off the subflow at once (ss:
   the subflow's Recv-Q is 0) onto the msk, where accept() finds it
   (SIOCINQ, then read byte-exact).  Before, it stayed on the subflow
   until the first read.
2. A listener closed with unaccepted connections holding data takes their
   msks down: the clients are reset, and the module's reference count
   (each msk holds one) comes back to where it was.
3. The same with a full accept queue (backlog 1, eight clients): TCP
   drops the third ACKs it has no room for, and the msks cloned for them.

Runs over loopback in the current namespace.  Exit 0 on success.
"""
import fcntl, os, socket, subprocess, termios, time

import mptcplib as ml

N = 64 * 1024


def subflow_recvq(port):
    """Recv-Q of the established TCP sockets (subflows) with local PORT."""
    out = subprocess.run(["ss", "-tnH", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True, check=True).stdout
    return [int(line.split()[0]) for line in out.splitlines() if line.strip()]


def module_refcnt():
    with open("/sys/module/mptcp/refcnt") as f:
        return int(f.read())


def settle(before):
    """The module's reference count once it is back to BEFORE (closed
    subflows may take a moment to go), or after 10 s."""
    after = module_refcnt()
    for _ in range(40):
        if after <= before:
            break
        time.sleep(0.25)
        after = module_refcnt()
    return after


# 1. Data before accept() is on the msk.
ls = ml.listener(socket.AF_INET, ml.IPPROTO_MPTCP, 0, "127.0.0.1", 4)
port = ls.getsockname()[1]
c = ml.mptcp_socket()
c.connect(("127.0.0.1", port))
data = os.urandom(N)
c.sendall(data)
time.sleep(0.5)
ml.check("subflow Recv-Q before accept", subflow_recvq(port) == [0], subflow_recvq(port))
s, _ = ls.accept()
inq = int.from_bytes(fcntl.ioctl(s, termios.FIONREAD, b"\0" * 4), "little")
ml.check("SIOCINQ right after accept", inq == N, inq)
got = ml.recv_exact(s, N)
ml.check("read byte-exact", got == data, len(got))
ml.check("MPTCP both ends", (ml.is_mptcp(c), ml.is_mptcp(s)) == (1, 1),
         (ml.is_mptcp(c), ml.is_mptcp(s)))
for x in (c, s, ls):
    x.close()

# 2. Unaccepted connections with data, then the listener closes.
time.sleep(1)
before = module_refcnt()
ls = ml.listener(socket.AF_INET, ml.IPPROTO_MPTCP, 0, "127.0.0.1", 8)
port = ls.getsockname()[1]
clients = []
for _ in range(3):
    k = ml.mptcp_socket()
    k.connect(("127.0.0.1", port))
    k.sendall(os.urandom(10_000))
    clients.append(k)
time.sleep(0.5)
ml.check("unaccepted subflows hold nothing", subflow_recvq(port) == [0, 0, 0], subflow_recvq(port))
ls.close()
errs = []
for k in clients:
    k.settimeout(5)
    try:
        errs.append(f"EOF {len(k.recv(100))}")
    except OSError as e:
        errs.append(ml.errno_name(e.errno) if e.errno else type(e).__name__)
    k.close()
ml.check("clients reset", errs == ["ECONNRESET"] * 3, errs)
after = settle(before)
ml.check("module references back", after <= before, (before, after))


# 3. A full accept queue.
ls = ml.listener(socket.AF_INET, ml.IPPROTO_MPTCP, 0, "127.0.0.1", 1)
port = ls.getsockname()[1]
clients = []
for _ in range(8):
    k = ml.mptcp_socket()
    k.setblocking(False)
    try:
        k.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    clients.append(k)
time.sleep(1.5)
for k in clients:
    try:
        k.send(b"x" * 1000)
    except OSError:
        pass
time.sleep(0.5)
queued = len(subflow_recvq(port))
ls.close()
for k in clients:
    k.close()
after = settle(before)
ml.check("full queue: module references back", after <= before, (before, queued, after))
