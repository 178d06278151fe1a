#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Hold many IPPROTO_MPTCP sockets in a non-blocking connect(), as an
unprivileged user could, to load the token table.

  holdconn.py --addr A --port P --count N [--ready FILE] [--stop FILE]

Opens N sockets, connect()s each without blocking (the caller makes sure
the SYNs go nowhere), then prints one line "held=N mptcp=M fallback=F"
(M sockets read TCP_IS_MPTCP 1, F fell back at connect), creates FILE
--ready, and keeps them all open until FILE --stop exists (or for at most
600 s), then closes them.
"""
import argparse, errno, os, resource, socket, sys, time

import mptcplib as ml


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--ready")
    ap.add_argument("--stop")
    a = ap.parse_args()
    want = a.count + 64
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
    socks, mptcp = [], 0
    t0 = time.monotonic()
    for _ in range(a.count):
        s = ml.mptcp_socket()
        s.setblocking(False)
        e = s.connect_ex((a.addr, a.port))
        if e not in (0, errno.EINPROGRESS):
            sys.exit(f"connect: {ml.errno_name(e)}")
        mptcp += s.getsockopt(socket.IPPROTO_TCP, ml.TCP_IS_MPTCP)
        socks.append(s)
    print(f"held={len(socks)} mptcp={mptcp} fallback={len(socks) - mptcp}"
          f" in {time.monotonic() - t0:.1f}s", flush=True)
    if a.ready:
        open(a.ready, "w").close()
    end = time.monotonic() + 600
    while a.stop and not os.path.exists(a.stop) and time.monotonic() < end:
        time.sleep(0.1)
    for s in socks:
        s.close()


main()
