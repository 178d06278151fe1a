#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""DATA_FIN ahead of the subflow FIN (RFC 8684 §3.3.3), seen by sockets.

  datafin.py server --port P [--family 4|6]
      accept; read until EOF; then read the subflow's TCP_INFO (TCP_INFO
      on an msk answers for its first subflow, as mainline): with our
      DATA_FIN on a DSS and no subflow FIN yet, tcpi_state is still
      ESTABLISHED and tcpi_bytes_received counts the data only; then
      send REPLY bytes, shutdown(SHUT_WR), read EOF.  Prints JSON.
  datafin.py client --addr A --port P [--blackout DEV]
      connect; send DATA bytes; shutdown(SHUT_WR) (with --blackout, while
      netem drops everything on DEV for 0.6 s, so the first DATA_FIN is
      lost and only a retransmission can end the stream); send() after it
      must fail with EPIPE; read the reply until EOF.  Prints JSON.
"""
import argparse, socket, struct, subprocess, time

import mptcplib as ml

DATA = 100_000
REPLY = 5_000
TCPI_BYTES_RECEIVED = 128   # offset in struct tcp_info
TCP_ESTABLISHED = 1


def tcp_info(s):
    b = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 232)
    return b[0], struct.unpack_from("=Q", b, TCPI_BYTES_RECEIVED)[0]


def server(a, fam):
    ls = ml.listener(fam, ml.IPPROTO_MPTCP, a.port)
    ml.ready()
    c, _ = ls.accept()
    c.settimeout(10)                # a DATA_FIN never seen: a timeout, not a hang
    t0 = time.monotonic()
    got, err = ml.recv_until_eof(c)
    eof_after = round(time.monotonic() - t0, 2)
    state, rcvd = tcp_info(c)
    c.sendall(bytes(REPLY))
    c.shutdown(socket.SHUT_WR)
    tail = c.recv(1)
    ml.print_json({"got": len(got), "data_ok": got == ml_data(), "eof_after": eof_after,
                   "error": err and ml.errno_name(err.errno),
                   "tcpi_state": state, "tcpi_bytes_received": rcvd,
                   "tcp_is_mptcp": ml.is_mptcp(c), "eof_again": tail == b""})
    c.close()


def ml_data():
    return bytes(i % 251 for i in range(DATA))


def netem(dev, add):
    cmd = ["tc", "qdisc", "add" if add else "del", "dev", dev, "root"]
    subprocess.run(cmd + (["netem", "loss", "100%"] if add else []), check=True)


def client(a, fam):
    s = ml.mptcp_socket(fam)
    s.connect((a.addr, a.port))
    s.sendall(ml_data())
    time.sleep(0.3)                 # let the data be acked first
    if a.blackout:
        netem(a.blackout, True)
    s.shutdown(socket.SHUT_WR)
    try:
        s.send(b"x")
        after = "ok"
    except OSError as e:
        after = ml.errno_name(e.errno)
    if a.blackout:
        time.sleep(0.6)
        netem(a.blackout, False)
    s.settimeout(20)
    reply, err = ml.recv_until_eof(s)
    ml.print_json({"send_after_shutdown": after, "reply": len(reply),
                   "error": err and ml.errno_name(err.errno),
                   "tcp_is_mptcp": ml.is_mptcp(s)})
    s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("server", "client"))
    ap.add_argument("--addr")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--family", default="4")
    ap.add_argument("--blackout")
    a = ap.parse_args()
    fam = ml.family(a.family)
    (server if a.mode == "server" else client)(a, fam)


if __name__ == "__main__":
    main()
