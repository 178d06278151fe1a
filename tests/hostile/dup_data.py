#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Data-level duplicates and gaps from a raw MPTCP server (issue 7, item 1).

Mainline re-sends data at new subflow sequence numbers on the same subflow:
a zero-window probe carries the last DATA_ACKed octet again (DSN =
snd_una - 1), and a data-level retransmission re-sends data that is
TCP-acked but not yet DATA_ACKed.  RFC 8684 §3.3.1 allows both; the
receiver drops the repeated octets at the data level.  This raw server
does each of them deterministically, so our client's handling is tested
without depending on timing:

  dup_data.py server --iface I --peer-mac M --src A --port P [--mode dup|gap] [--csum]
  dup_data.py client --addr A --port P

mode dup (A = 100 octets, B = 100 octets, DSN relative to the IDSN):
  ssn   1: DSN   1, 100 octets A              (new)
  ssn 101: DSN 100,   1 octet  A[99]          (zero-window probe style)
  ssn 102: DSN   1, 100 octets A              (whole mapping again)
  ssn 202: DSN  51, 100 octets A[50:]+B[:50]  (half old, half new)
  ssn 302: DSN 151,  50 octets B[50:]         (new)
  then DATA_FIN (DSN 201) with the TCP FIN.
  The client must read exactly A+B, then EOF.
mode gap: ssn 1 DSN 1 (100 octets), then ssn 101 with DSN 151: 50 octets
  the one subflow never carried.  The client must reset the connection
  (MP_TCPRST "MPTCP-specific error") and its reader get EBADMSG after A.
mode nomap: ssn 1 DSN 1 (A, 100 octets), then ssn 101 with B and a DSS
  that has no mapping, then the TCP FIN.  mode overrun: one segment with
  A+B under a mapping of 100 octets (A), then the TCP FIN.  Either way B
  is covered by no mapping: an invalid mapping (mainline's
  get_mapping_status()); the client falls back to TCP (DssFallback), reads
  A+B as the stream, then EOF.
mode remap: ssn 1 DSN 1 under a mapping of 200 octets carrying A only,
  then ssn 101 DSN 101 with B under its own 100-octet mapping: consistent
  with the first, but a second mapping for octets the first still covers
  (DSSNotMatching): an invalid mapping, the same fallback, A+B, EOF.
  With --csum the first mapping's checksum covers A+B, the octets it
  claims (mainline sums them across both segments and finds it right).
Each command prints one JSON line.
"""
import argparse, hashlib, os, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import mptcplib as ml  # noqa: E402

A = bytes((i * 7 + 3) & 0xFF for i in range(100))
B = bytes((i * 13 + 5) & 0xFF for i in range(100))


def server(a):
    import mptcp_raw as mr
    peer = mr.RawPeer(a.iface, a.peer_mac, 4)
    ml.ready()
    syn = peer.recv(lambda ip, tcp: tcp.dport == a.port and tcp.flags.S and not tcp.flags.A, a.timeout)
    if syn is None:
        return ml.print_json({"error": "no SYN"})
    tcp = syn[mr.TCP]
    c = mr.Conn(peer, a.src, syn.src, a.port, tcp.sport)
    c.rcv_nxt = (tcp.seq + 1) & 0xFFFFFFFF
    local = mr.new_key()
    flags = ml.MPTCP_CAP_HMAC_SHA256 | (ml.MPTCP_CAP_CHECKSUM_REQD if a.csum else 0)
    c.send("SA", [("MSS", 1400), mr.mpc_synack(local, flags)])
    ack = c.recv(5, lambda ip, tcp: tcp.flags.A and not tcp.flags.S)
    if ack is None:
        return ml.print_json({"error": "no third ACK"})
    keys = [o["key"] for o in mr.describe(ack[mr.TCP])["mptcp"] if o.get("opt") == "MP_CAPABLE" and "key" in o]
    if not keys:
        return ml.print_json({"error": "no MP_CAPABLE in the third ACK"})
    _, idsn_remote = mr.key_sha(keys[0])
    _, idsn = mr.key_sha(local)
    if a.mode == "dup":
        plan = [(1, 1, A), (101, 100, A[99:]), (102, 1, A), (202, 51, A[50:] + B[:50]), (302, 151, B[50:])]
        fin_dsn = 201
    elif a.mode == "gap":
        plan = [(1, 1, A), (101, 151, B[:50])]
        fin_dsn = None
    elif a.mode == "nomap":
        plan = [(1, 1, A), (101, None, B)]
        fin_dsn = None
    elif a.mode == "remap":
        plan = [(1, 1, A, len(A) + len(B)), (101, 101, B)]
        fin_dsn = None
    else:  # overrun: the mapping covers A only
        plan = [(1, 1, A + B, len(A))]
        fin_dsn = None
    for ssn, rel, data, *maplen in plan:
        if rel is None:
            # A DSS with the DATA_ACK only: no mapping for these octets.
            c.send("PA", [mr.dss(data_ack=idsn_remote + 1)], data)
            time.sleep(0.2)
            continue
        dsn = idsn + rel
        n = maplen[0] if maplen else len(data)
        # The checksum covers the octets the mapping claims; remap's first
        # mapping claims B too (mainline sums the following skbs for it).
        claimed = (A + B)[:n] if a.mode == "remap" and rel == 1 else data[:n]
        csum = mr.dss_csum(dsn, ssn, n, claimed) if a.csum else None
        c.send("PA", [mr.dss(data_ack=idsn_remote + 1, dsn=dsn, ssn=ssn, data_len=n, csum=csum)], data)
        time.sleep(0.2)
    if a.mode in ("nomap", "overrun", "remap"):
        c.send("FA", [mr.dss(data_ack=idsn_remote + 1)])
    if fin_dsn is not None:
        dsn = idsn + fin_dsn
        csum = mr.dss_csum(dsn, 0, 1) if a.csum else None
        c.send("FA", [mr.dss(data_ack=idsn_remote + 1, dsn=dsn, ssn=0, data_len=1, csum=csum, data_fin=True)])
    seen = [mr.describe(p[mr.TCP]) for p in peer.recv_all(c.from_peer, a.wait)]
    ml.print_json({"sent": len(plan), "from_client": seen,
                   "rst": [d for d in seen if "R" in d["flags"]]})


def client(a):
    s = ml.mptcp_socket()
    s.settimeout(a.timeout)
    s.connect((a.addr, a.port))
    got, e = ml.recv_until_eof(s)
    err = None if e is None else ml.errno_name(e.errno) if e.errno else repr(e)
    is_mptcp = ml.is_mptcp(s)
    s.close()
    ml.print_json({"recv": len(got), "exact_ab": got == A + B, "exact_a": got == A,
                   "sha": hashlib.sha256(got).hexdigest(), "error": err, "tcp_is_mptcp": is_mptcp})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["server", "client"])
    ap.add_argument("--iface"), ap.add_argument("--peer-mac"), ap.add_argument("--src")
    ap.add_argument("--addr"), ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--mode", choices=["dup", "gap", "nomap", "overrun", "remap"], default="dup")
    ap.add_argument("--csum", action="store_true")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--wait", type=float, default=3)
    a = ap.parse_args()
    (server if a.cmd == "server" else client)(a)


if __name__ == "__main__":
    main()
