#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Simultaneous open: an MPTCP socket bound to ADDR:PORT connects to
itself, so its SYN crosses itself (TCP answers a SYN with a SYN-ACK from
SYN_SENT).  Prints one JSON line: connect result, TCP_IS_MPTCP, and
whether the octets written came back byte-exact."""
import socket, sys

import mptcplib as ml


def main():
    addr, port = sys.argv[1], int(sys.argv[2])
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = ml.mptcp_socket(fam)
    s.settimeout(10)
    s.bind((addr, port))
    res = {}
    try:
        s.connect((addr, port))
        res["connect"] = "ok"
    except OSError as e:
        res["connect"] = repr(e)
        ml.print_json(res)
        return 1
    res["tcp_is_mptcp"] = s.getsockopt(socket.IPPROTO_TCP, ml.TCP_IS_MPTCP)
    msg = bytes(range(256)) * 64
    s.sendall(msg)
    got = b""
    try:
        got = ml.recv_exact(s, len(msg))
    except OSError as e:
        res["recv"] = repr(e)
    res["echo"] = got == msg
    s.close()
    ml.print_json(res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
