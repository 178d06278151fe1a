#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""MPTCP fast open (TCP fast open on an MPTCP socket, as mainline 6.12).

  fastopen.py server --port P [--family 4|6] [-n N]
      an MPTCP listener with TCP_FASTOPEN; N connections, each: read to
      EOF, reply with the data reversed, close.  One JSON line each.
  fastopen.py client --addr A --port P [-n N] [--mode sendto|connect]
      N connections, each sending DATA bytes as the first write: sendto()
      with MSG_FASTOPEN on an unconnected socket, or connect() with
      TCP_FASTOPEN_CONNECT then write(); then shutdown(SHUT_WR) and read
      the reply.  The first connection gets the cookie, the later ones put
      their data in the SYN (the namespaces' tcp_fastopen sysctls allow
      it).  One JSON line each.
"""
import argparse, socket

import mptcplib as ml

TCP_FASTOPEN_CONNECT = 30
DATA = bytes((i * 7) % 256 for i in range(1000))


def server(a, fam):
    ls = ml.listener(fam, ml.IPPROTO_MPTCP, a.port, opts=[(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 16)])
    ml.ready()
    for _ in range(a.n):
        c, _ = ls.accept()
        c.settimeout(20)
        state = ml.mptcp_state(c)
        got, err = ml.recv_until_eof(c)
        c.sendall(got[::-1])
        c.shutdown(socket.SHUT_WR)
        ml.print_json({"got": len(got), "data_ok": got == DATA, "error": err and str(err), **state})
        c.close()


def client(a, fam):
    for _ in range(a.n):
        s = ml.mptcp_socket(fam)   # blocking: a Python timeout would make it non-blocking
        if a.mode == "sendto":
            sent = s.sendto(DATA, socket.MSG_FASTOPEN, (a.addr, a.port))
        else:
            s.setsockopt(socket.IPPROTO_TCP, TCP_FASTOPEN_CONNECT, 1)
            s.connect((a.addr, a.port))
            sent = s.send(DATA)
        s.settimeout(20)
        s.sendall(DATA[sent:])
        s.shutdown(socket.SHUT_WR)
        reply, err = ml.recv_until_eof(s)
        ml.print_json({"reply_ok": reply == DATA[::-1], "error": err and str(err), **ml.mptcp_state(s)})
        s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode_", choices=("server", "client"))
    ap.add_argument("--addr")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--family", default="4")
    ap.add_argument("-n", type=int, default=3)
    ap.add_argument("--mode", default="sendto", choices=("sendto", "connect"))
    a = ap.parse_args()
    fam = ml.family(a.family)
    (server if a.mode_ == "server" else client)(a, fam)


if __name__ == "__main__":
    main()
