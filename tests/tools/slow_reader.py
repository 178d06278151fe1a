#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A fast writer and a slow reader on one connection over loopback (the
current namespace): the connection's memory must stay within the socket
buffers the application set, and every octet arrive intact.

The writer sends --bytes (16 MiB) as fast as it can; the reader takes --chunk octets
every --pause seconds.  Meanwhile `ss -tmn` and `ss -Mmn` are sampled: the
reader's memory is the receive memory (skmem r) of its msk and its subflow,
the writer's is the send queue (skmem w) of both; the limits are the
buffers the application's sockets report (SO_RCVBUF/SO_SNDBUF, set before
connect, so autotuning is off).
Prints the figures as one JSON line; exit 0 if the data is byte-exact and
the peaks stay within the buffers plus --slack octets (TCP may overshoot
by about one skb).  Usage: slow_reader.py mptcp|tcp [options].

--autotune: no SO_RCVBUF/SO_SNDBUF, so buffer autotuning runs (it sizes
the receive buffer by what the application read per round trip, up to
tcp_rmem[2]).  The reader's memory must stay within its buffer as
autotuning grew it (the subflow's skmem rb, which the msk's memory shares)
plus --slack, and SO_RCVBUF on the reader must report that buffer.  The
writer's side is printed, not checked (send buffer autotuning follows the
congestion window).

For reference, on a mainline 6.18 host with the defaults: TCP reader 522 KB,
writer 530-535 KB (rb = tb = 524288); MPTCP reader 525 KB, writer 600-717
KB: its subflows' send queues hold copies on top of the msk's (the check is
written for our module, whose msk keeps no second copy today).
"""
import argparse, hashlib, json, re, socket, subprocess, sys, threading, time

import mptcplib as ml

ap = argparse.ArgumentParser()
ap.add_argument("proto", choices=("mptcp", "tcp"))
ap.add_argument("--bytes", type=int, default=16 << 20)
ap.add_argument("--rcvbuf", type=int, default=256 << 10)
ap.add_argument("--sndbuf", type=int, default=256 << 10)
ap.add_argument("--chunk", type=int, default=64 << 10)
ap.add_argument("--pause", type=float, default=0.02)
ap.add_argument("--slack", type=int, default=128 << 10)
ap.add_argument("--autotune", action="store_true")
a = ap.parse_args()
proto = ml.protocol(a.proto)

ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
if not a.autotune:
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(1)
port = ls.getsockname()[1]
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
if not a.autotune:
    c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, a.sndbuf)
c.connect(("127.0.0.1", port))
s, _ = ls.accept()
# The accepted socket inherits the listener's SOL_SOCKET options (TCP and
# mainline MPTCP clone it from the listener).
for opt in (socket.SO_RCVBUF, socket.SO_KEEPALIVE):
    got, want = s.getsockopt(socket.SOL_SOCKET, opt), ls.getsockopt(socket.SOL_SOCKET, opt)
    assert got == want, f"accepted socket: option {opt} is {got}, the listener's {want}"

SKMEM = re.compile(r"skmem:\(([^)]*)\)")


def skmem(args, filt):
    """Sum of the skmem fields of the sockets `ss args filt` lists."""
    out = subprocess.run(["ss", "-Hn", "-m", *args, filt], capture_output=True,
                         text=True).stdout
    tot = {}
    for m in SKMEM.finditer(out):
        for f in m.group(1).split(","):
            k = f.rstrip("0123456789")
            tot[k] = tot.get(k, 0) + int(f[len(k):])
    return tot


peak = {"reader_r": 0, "writer_w": 0, "reader_rb": 0}
# The limits: the buffers the application's sockets report (the kernel
# doubles what setsockopt asked for); with autotuning, the cap of the
# receive buffer (tcp_rmem[2]), and no limit for the writer.
if a.autotune:
    rmem2 = int(open("/proc/sys/net/ipv4/tcp_rmem").read().split()[2])
    limits = {"rb": rmem2, "tb": 1 << 40}
else:
    limits = {"rb": s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF),
              "tb": c.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)}
samples = 0
done = threading.Event()


def sample():
    global samples
    while not done.is_set():
        kinds = [["-t"]] + ([["-M"]] if proto == ml.IPPROTO_MPTCP else [])
        rd = [skmem(k, f"sport = :{port}") for k in kinds]
        wr = [skmem(k, f"dport = :{port}") for k in kinds]
        peak["reader_r"] = max(peak["reader_r"], sum(x.get("r", 0) for x in rd))
        peak["reader_rb"] = max(peak["reader_rb"], rd[0].get("rb", 0))
        peak["writer_w"] = max(peak["writer_w"], sum(x.get("w", 0) for x in wr))
        samples += 1
        time.sleep(0.05)


payload = bytes(range(256)) * 4096  # 1 MiB pattern
sent_sha = hashlib.sha256()


def writer():
    left = a.bytes
    while left:
        n = min(left, len(payload))
        c.sendall(payload[:n])
        sent_sha.update(payload[:n])
        left -= n
    c.shutdown(socket.SHUT_WR)


sampler = threading.Thread(target=sample, daemon=True)
sampler.start()
wt = threading.Thread(target=writer)
t0 = time.monotonic()
wt.start()
# The reader starts once the sampler has seen the writer run into full
# buffers a few times: the peak is then sampled however slow `ss` is (a
# debug kernel takes ~1 s per sample).
while samples < 5 and time.monotonic() - t0 < 120:
    time.sleep(0.05)
recv_sha, got = hashlib.sha256(), 0
while True:
    d = s.recv(a.chunk)
    if not d:
        break
    recv_sha.update(d)
    got += len(d)
    time.sleep(a.pause)
wt.join()
done.set()
sampler.join()
res = {
    "proto": a.proto, "bytes": got, "intact": got == a.bytes and
    recv_sha.digest() == sent_sha.digest(), "secs": round(time.monotonic() - t0, 2),
    "samples": samples, "autotune": a.autotune,
    "so_rcvbuf": None if a.autotune else a.rcvbuf, "so_sndbuf": None if a.autotune else a.sndbuf,
    **limits, **peak, "final_so_rcvbuf": s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF),
    "is_mptcp": int(ml.is_mptcp(c)) if proto == ml.IPPROTO_MPTCP else 0,
}
print(json.dumps(res))
for x in (c, s, ls):
    x.close()
ok = (res["intact"] and samples >= 5 and limits["rb"] > 0 and limits["tb"] > 0 and
      peak["reader_r"] <= limits["rb"] + a.slack and peak["writer_w"] <= limits["tb"] + a.slack
      and (not a.autotune or (peak["reader_r"] <= peak["reader_rb"] + a.slack
                              and res["final_so_rcvbuf"] == peak["reader_rb"]))
      and (proto != ml.IPPROTO_MPTCP or res["is_mptcp"] == 1))
sys.exit(0 if ok else 1)
