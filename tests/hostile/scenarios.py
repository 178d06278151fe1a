#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Hostile-peer scenarios: raw peers (scapy) and the ordinary socket ends
they talk to.  Every command prints one JSON line on stdout; hostile.sh
asserts on it.  "listening" on stderr means a server end is ready.

  raw peers (PF_PACKET on IFACE, frames to PEER_MAC):
    mpc-data  --iface --peer-mac --src --dst --port [--data-len N] [--syn-flags F]
        client: MP_CAPABLE SYN, then the third ACK with 1 octet of payload
        and the 24-octet MP_CAPABLE (A|H, both keys, data-level length N,
        a correct DSS checksum for N)
    datafin-server --iface --peer-mac --src --port
        server: answers an MP_CAPABLE SYN with checksums on (flag A), then
        sends a DSS with DATA_FIN, data-level length 1 (no mapped payload)
        on a segment carrying 1 octet; --variant stale: "abc", a DATA_FIN
        behind it, "def", then the real DATA_FIN
    syn-probes --iface --peer-mac --ctr-ns NS --ctr NAME... --probe FAM,SRC,DST,PORT...
        for each --probe one MP_CAPABLE SYN: did a SYN-ACK come back, and
        how did NS's counters NAME change around it
  socket ends:
    listen  --family --proto --port --seconds [--transparent]
    accept  --family --proto --port --timeout
    client  --addr --port --timeout
"""
import argparse, os, socket, subprocess, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import mptcplib as ml  # noqa: E402


def raw_peer(a):
    import mptcp_raw as mr  # scapy import is slow: only for raw commands
    return mr, mr.RawPeer(a.iface, a.peer_mac, int(a.family))


def handshake_syn(mr, c, flags, tries=3):
    """SYN with MP_CAPABLE (FLAGS); the SYN-ACK or None."""
    for _ in range(tries):
        c.snd_nxt = c.isn
        c.send("S", [("MSS", 1400), mr.mpc_syn(flags)])
        p = c.recv(2, lambda ip, tcp: tcp.flags.S and tcp.flags.A)
        if p is not None:
            return p
    return None


def cmd_mpc_data(a):
    mr, peer = raw_peer(a)
    c = mr.Conn(peer, a.src, a.dst, mr.syn_port(), a.port)
    local = mr.new_key()
    sa = handshake_syn(mr, c, int(a.syn_flags, 0))
    if sa is None:
        return ml.print_json({"error": "no SYN-ACK"})
    tcp = sa[mr.TCP]
    res = {"synack": mr.describe(tcp)}
    keys = [o["key"] for o in res["synack"]["mptcp"] if o.get("opt") == "MP_CAPABLE" and "key" in o]
    if not keys:
        res["error"] = "no MP_CAPABLE key in the SYN-ACK"
        return ml.print_json(res)
    remote = keys[0]
    c.rcv_nxt = (tcp.seq + 1) & 0xFFFFFFFF
    payload = b"x"
    _, idsn = mr.key_sha(local)
    mapped = payload[:a.data_len]
    csum = mr.dss_csum(idsn + 1, 1, a.data_len, mapped)
    c.send("PA", [mr.mpc_ack(local, remote, ml.MPTCP_CAP_CHECKSUM_REQD | ml.MPTCP_CAP_HMAC_SHA256, a.data_len, csum)],
           payload)
    res["sent"] = {"data_len": a.data_len, "csum": csum, "idsn": idsn}
    res["after"] = [mr.describe(p[mr.TCP]) for p in peer.recv_all(c.from_peer, a.wait)]
    ml.print_json(res)


def cmd_datafin_server(a):
    mr, peer = raw_peer(a)
    ml.ready()
    syn = peer.recv(lambda ip, tcp: tcp.dport == a.port and tcp.flags.S and not tcp.flags.A, a.timeout)
    if syn is None:
        return ml.print_json({"error": "no SYN"})
    tcp = syn[mr.TCP]
    res = {"syn": mr.describe(tcp)}
    c = mr.Conn(peer, a.src, syn.src, a.port, tcp.sport)
    c.rcv_nxt = (tcp.seq + 1) & 0xFFFFFFFF
    local = mr.new_key()
    # Flag A: checksums on for this connection, whatever the client's sysctl
    # (the stale variant runs without).
    flags = ml.MPTCP_CAP_HMAC_SHA256 | (0 if a.variant == "stale" else ml.MPTCP_CAP_CHECKSUM_REQD)
    c.send("SA", [("MSS", 1400), mr.mpc_synack(local, flags)])
    ack = c.recv(3, lambda ip, tcp: tcp.flags.A and not tcp.flags.S)
    if ack is None:
        res["error"] = "no third ACK"
        return ml.print_json(res)
    res["ack"] = mr.describe(ack[mr.TCP])
    keys = [o["key"] for o in res["ack"]["mptcp"] if o.get("opt") == "MP_CAPABLE" and "key" in o]
    if not keys:
        res["error"] = "no MP_CAPABLE in the third ACK"
        return ml.print_json(res)
    _, idsn_remote = mr.key_sha(keys[0])
    _, idsn = mr.key_sha(local)
    ack = idsn_remote + 1
    if a.variant == "stale":
        # "abc", a data-less DATA_FIN at DSN idsn+1 (behind the 3 octets
        # already sent: it can never be reached), "def", then the real
        # DATA_FIN at idsn+7 (subflow sequence 0: no payload, §3.3.3).
        c.send("PA", [mr.dss(data_ack=ack, dsn=idsn + 1, ssn=1, data_len=3)], b"abc")
        time.sleep(0.2)
        c.send("A", [mr.dss(data_ack=ack, dsn=idsn + 1, ssn=0, data_len=1, data_fin=True)])
        time.sleep(0.2)
        c.send("PA", [mr.dss(data_ack=ack, dsn=idsn + 4, ssn=4, data_len=3)], b"def")
        time.sleep(0.2)
        c.send("A", [mr.dss(data_ack=ack, dsn=idsn + 7, ssn=0, data_len=1, data_fin=True)])
    else:
        # DATA_FIN with data-level length 1: the mapping covers no payload
        # octet; the segment carries one (subflow sequence 1).
        csum = mr.dss_csum(idsn + 1, 1, 1)
        c.send("PA", [mr.dss(data_ack=ack, dsn=idsn + 1, ssn=1, data_len=1, csum=csum, data_fin=True)], b"x")
    res["after"] = [mr.describe(p[mr.TCP]) for p in peer.recv_all(c.from_peer, a.wait)]
    ml.print_json(res)


def counters(ns, names):
    """{name: value} of nstat's absolute counters in namespace NS."""
    out = subprocess.run(["ip", "netns", "exec", ns, "nstat", "-asz"], capture_output=True,
                         text=True, check=True).stdout
    vals = dict.fromkeys(names, 0)
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 2 and f[0] in vals:
            vals[f[0]] = int(f[1])
    return vals


def cmd_syn_probes(a):
    """For each --probe FAMILY,SRC,DST,PORT one MP_CAPABLE SYN, whether a
    SYN-ACK came back, and the change of the --ctr counters of namespace
    --ctr-ns around it, as one JSON line {"probe": ..., "result":
    "synack=B NAME=delta ..."}; one process for all (scapy starts once).
    Any source address may answer (a broadcast destination's reply comes
    from it): matched on ports only.  One SYN per probe: the listener's
    drop counters must count exactly one."""
    import mptcp_raw as mr
    peers = {}
    for probe in a.probe:
        fam, src, dst, port = probe.split(",")
        if fam not in peers:
            peers[fam] = mr.RawPeer(a.iface, a.peer_mac, int(fam))
        peer = peers[fam]
        before = counters(a.ctr_ns, a.ctr)
        c = mr.Conn(peer, src, dst, mr.syn_port(), int(port))
        c.send("S", [("MSS", 1400), mr.mpc_syn(ml.MPTCP_CAP_HMAC_SHA256)])
        p = peer.recv(lambda ip, tcp: tcp.sport == c.dport and tcp.dport == c.sport, a.wait)
        synack = bool(p is not None and p[mr.TCP].flags.S and p[mr.TCP].flags.A)
        after = counters(a.ctr_ns, a.ctr)
        res = " ".join([f"synack={synack}"] + [f"{n}={after[n] - before[n]}" for n in a.ctr])
        ml.print_json({"probe": probe, "result": res})


def listener(a):
    # IP_TRANSPARENT / IPV6_TRANSPARENT: replies from any source
    opts = [(socket.SOL_IP, 19, 1) if a.family == "4" else (socket.SOL_IPV6, 75, 1)] if a.transparent else []
    return ml.listener(ml.family(a.family), ml.protocol(a.proto), a.port,
                       "0.0.0.0" if a.family == "4" else "::", 16, opts)


def cmd_listen(a):
    s = listener(a)
    ml.ready()
    time.sleep(a.seconds)
    s.close()


def read_until_end(s, timeout):
    """What a reader sees: data, then "eof", "timeout" or an errno name."""
    s.settimeout(timeout)
    got, e = ml.recv_until_eof(s)
    if e is None:
        return got, "eof"
    return got, "timeout" if isinstance(e, socket.timeout) else ml.errno_name(e.errno)


def cmd_accept(a):
    s = listener(a)
    s.settimeout(a.timeout)
    ml.ready()
    try:
        c, peer = s.accept()
    except socket.timeout:
        return ml.print_json({"accepted": False})
    st = ml.is_mptcp(c)
    got, end = read_until_end(c, 2)
    ml.print_json({"accepted": True, "peer": peer[0], "tcp_is_mptcp": st, "data": got.decode(errors="replace"),
                   "end": end})
    c.close()


def cmd_client(a):
    s = ml.mptcp_socket(ml.family(a.family))
    s.settimeout(a.timeout)
    try:
        s.connect((a.addr, a.port))
    except OSError as e:
        return ml.print_json({"connect": ml.errno_name(e.errno) if e.errno else "timeout"})
    st = ml.is_mptcp(s)
    got, end = read_until_end(s, a.timeout)
    ml.print_json({"connect": "ok", "tcp_is_mptcp": st, "data": got.decode(errors="replace"), "end": end})
    s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["mpc-data", "datafin-server", "syn-probes", "listen", "accept",
                                       "client"])
    ap.add_argument("--iface")
    ap.add_argument("--peer-mac")
    ap.add_argument("--src")
    ap.add_argument("--dst")
    ml.socket_args(ap)
    ap.add_argument("--data-len", type=int, default=0)
    ap.add_argument("--variant", choices=["nopayload", "stale"], default="nopayload",
                    help="datafin-server: a DATA_FIN mapping no payload, or a stale DATA_FIN then the real one")
    ap.add_argument("--syn-flags", default="0x01", help="MP_CAPABLE flags of the SYN (0x81: A|H)")
    ap.add_argument("--wait", type=float, default=2, help="seconds to collect the peer's answers")
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--transparent", action="store_true", help="listen/accept: a transparent-proxy listener")
    ap.add_argument("--probe", action="append", default=[], help="syn-probes: FAMILY,SRC,DST,PORT")
    ap.add_argument("--ctr", action="append", default=[], help="syn-probes: a counter to report")
    ap.add_argument("--ctr-ns", help="syn-probes: the namespace of the counters")
    a = ap.parse_args()
    {"mpc-data": cmd_mpc_data, "datafin-server": cmd_datafin_server, "syn-probes": cmd_syn_probes,
     "listen": cmd_listen, "accept": cmd_accept, "client": cmd_client}[a.cmd](a)


if __name__ == "__main__":
    main()
