#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Connection error paths of IPPROTO_MPTCP (or TCP) sockets; each mode
prints one "key=value ..." line of what the socket calls returned
(an errno name, or ok / eof / data).  Sockets are truly blocking (no
Python timeout, which would turn connect() into a non-blocking one);
the caller bounds the run time with timeout(1).

  conn.py refused --addr A --port P [--family 4|6]
      connect() to a closed port, with TCP then MPTCP sockets; one line
      each: "PROTO blocking: connect=..." (if it succeeds, also what the
      first send() and recv() return) and "PROTO nonblocking: connect=...
      poll=... so_error=..." (poll for POLLOUT, then SO_ERROR).
  conn.py abort-server --port P ...   accept, read one byte, close with
      SO_LINGER {1, 0} (abortive close: RST, or MP_FASTCLOSE for MPTCP).
  conn.py abort-client --addr A ...   connect, send one byte, recv():
      what the peer's abortive close gives a blocked reader.
  conn.py unread-server --port P ...  accept, send 1000 bytes, recv(): what
      the peer's close with unread data gives.
  conn.py unread-client --addr A ...  connect, wait for data, close()
      without reading it.
"""
import argparse, select, socket, struct

import mptcplib as ml


def name(e):
    return ml.errno_name(e) if e else "ok"


def attempt(fn):
    """Run fn(); its result, or the errno name of its OSError."""
    try:
        r = fn()
    except OSError as e:
        return name(e.errno)
    if isinstance(r, bytes):
        return "data" if r else "eof"
    return "ok"


def listener(a, fam, proto):
    s = ml.listener(fam, proto, a.port)
    ml.ready()
    c, _ = s.accept()
    s.close()
    return c


def refused(a, fam, proto, nonblock):
    with ml.mptcp_socket(fam, proto) as s:
        if not nonblock:
            r = attempt(lambda: s.connect((a.addr, a.port)))
            if r == "ok":  # the refusal would only show up later
                r += f" send={attempt(lambda: s.send(b'x'))} recv={attempt(lambda: s.recv(1))}"
            return f"connect={r}"
        s.setblocking(False)
        r = s.connect_ex((a.addr, a.port))
        p = select.poll()
        p.register(s, select.POLLOUT)
        ev = p.poll(10000)
        revents = ev[0][1] if ev else 0
        flags = "|".join(f for f in ("POLLOUT", "POLLERR", "POLLHUP")
                         if revents & getattr(select, f)) or "timeout"
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        return f"connect={name(r)} poll={flags} so_error={name(err)}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["refused", "abort-server", "abort-client",
                                     "unread-server", "unread-client"])
    ml.socket_args(ap)
    a = ap.parse_args()
    fam, proto = ml.family(a.family), ml.protocol(a.proto)

    if a.mode.endswith("-server"):
        c = listener(a, fam, proto)
        if a.mode == "abort-server":
            got = attempt(lambda: c.recv(1))
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()
            print(f"recv={got} close=ok")
        else:
            sent = attempt(lambda: c.sendall(bytes(1000)))
            print(f"send={sent} recv={attempt(lambda: c.recv(1))}")
            c.close()
        return

    if a.mode == "refused":
        for pname in ("tcp", "mptcp"):
            print(f"{pname} blocking: {refused(a, fam, ml.protocol(pname), False)}")
            print(f"{pname} nonblocking: {refused(a, fam, ml.protocol(pname), True)}")
        return

    s = ml.mptcp_socket(fam, proto)
    if a.mode == "abort-client":
        s.connect((a.addr, a.port))
        s.sendall(b"x")
        print(f"recv={attempt(lambda: s.recv(1))}")
    elif a.mode == "unread-client":
        s.connect((a.addr, a.port))
        got = attempt(lambda: s.recv(1, socket.MSG_PEEK))
        print(f"peek={got} close=ok")
    s.close()


if __name__ == "__main__":
    main()
