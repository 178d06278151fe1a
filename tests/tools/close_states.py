#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The msk close states of RFC 8684 §3.3.3 as `ss -M` shows them.

  close_states.py      (run in a network namespace of its own: it loads
                        nftables rules there)

Two MPTCP connections over 127.0.0.1; nftables drops one direction (or
both) so that a DATA_FIN or its DATA_ACK is lost and a state lasts:

  last_ack: the client shuts down first; the server reads EOF (CLOSE-WAIT)
            and shuts down while its packets are dropped: the server stays
            LAST-ACK, the client FIN-WAIT-2.
  closing:  both shut down while everything is dropped (both FIN-WAIT-1);
            then only the server's packets are dropped: the client's
            DATA_FIN, re-sent, reaches the server before its own is acked:
            the server is CLOSING (mainline's `mptcp_check_data_fin()`),
            the client stays FIN-WAIT-1.

Then the drops go and both ends must read EOF.  Prints one JSON line per
case with the states seen; exits 1 when a state differs.
"""
import subprocess, time

import mptcplib as ml


def nft(rules):
    """Replace the test's nftables table with RULES (output hook)."""
    subprocess.run(["nft", "delete", "table", "inet", "close_states"],
                   stderr=subprocess.DEVNULL)
    if rules:
        subprocess.run(["nft", "-f", "-"], check=True, text=True, input=(
            "table inet close_states { chain out {\n"
            " type filter hook output priority 0; policy accept;\n"
            f" {rules}\n}}\n}}\n"))


def states():
    """{local port: state} of every MPTCP socket (`ss -MnHa`)."""
    out = subprocess.run(["ss", "-MnHa"], capture_output=True, text=True,
                         check=True).stdout
    st = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 4:
            st[int(f[3].rsplit(":", 1)[1])] = f[0]
    return st


def wait_state(port, want, secs=10):
    """The state of the msk on local PORT once it is WANT (or the last seen
    after SECS)."""
    end = time.monotonic() + secs
    while True:
        st = states().get(port)
        if st == want or time.monotonic() > end:
            return st
        time.sleep(0.05)


def pair():
    ls, c, s = ml.loopback_pair()
    ls.close()
    return c, s, s.getsockname()[1], c.getsockname()[1]


def finish(c, s):
    """Both ends read EOF once nothing is dropped."""
    nft("")
    ok = True
    for x in (c, s):
        x.settimeout(20)
        try:
            ok &= x.recv(1) == b""
        except OSError:
            ok = False
    c.close()
    s.close()
    return ok


def last_ack():
    c, s, sp, cp = pair()
    c.shutdown(ml.socket.SHUT_WR)
    s.settimeout(10)
    eof = s.recv(1) == b""
    r = {"case": "last_ack", "server_eof": eof,
         "server_after_eof": wait_state(sp, "CLOSE-WAIT"),
         "client_after_ack": wait_state(cp, "FIN-WAIT-2")}
    nft(f"tcp sport {sp} drop")
    s.shutdown(ml.socket.SHUT_WR)
    r["server"] = wait_state(sp, "LAST-ACK")
    time.sleep(0.5)
    r["server_later"] = states().get(sp)
    r["client"] = states().get(cp)
    r["eof_both"] = finish(c, s)
    want = {"server_eof": True, "server_after_eof": "CLOSE-WAIT",
            "client_after_ack": "FIN-WAIT-2", "server": "LAST-ACK",
            "server_later": "LAST-ACK", "client": "FIN-WAIT-2", "eof_both": True}
    return r, want


def closing():
    c, s, sp, cp = pair()
    nft(f"tcp sport {sp} drop\n tcp dport {sp} drop")
    c.shutdown(ml.socket.SHUT_WR)
    s.shutdown(ml.socket.SHUT_WR)
    r = {"case": "closing", "client_first": wait_state(cp, "FIN-WAIT-1"),
         "server_first": wait_state(sp, "FIN-WAIT-1")}
    nft(f"tcp sport {sp} drop")
    r["server"] = wait_state(sp, "CLOSING")
    time.sleep(0.5)
    r["server_later"] = states().get(sp)
    r["client"] = states().get(cp)
    r["eof_both"] = finish(c, s)
    want = {"client_first": "FIN-WAIT-1", "server_first": "FIN-WAIT-1",
            "server": "CLOSING", "server_later": "CLOSING", "client": "FIN-WAIT-1",
            "eof_both": True}
    return r, want


def main():
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    bad = []
    for case in (last_ack, closing):
        r, want = case()
        ml.print_json(r)
        bad += [f"{r['case']}: {k} {r.get(k)!r}, want {v!r}" for k, v in want.items()
                if r.get(k) != v]
    nft("")
    if bad:
        raise SystemExit("; ".join(bad))


if __name__ == "__main__":
    main()
