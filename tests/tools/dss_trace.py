#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Summarise the MPTCP data mappings of a capture (pcap, IPv4/IPv6 TCP).

  dss_trace.py PCAP [--max N]

Per direction of each connection: the relation DSN - SSN of the first
mapping, and every mapping that departs from it (a mapping carrying a DSN
at another subflow offset: a data-level retransmission or probe).  For each
such mapping it prints the segment (seq, payload length, DSN, SSN,
data-level length, flags) and the last DATA_ACK and TCP window the other
side had sent, so the trace shows what the sender did and why.  Used by
`make interop` with INTEROP_PCAP=1 (evidence for the notes).
"""
import sys

import mptcplib as ml

MASK64 = (1 << 64) - 1


def main():
    path = sys.argv[1]
    mx = int(sys.argv[sys.argv.index("--max") + 1]) if "--max" in sys.argv else 20
    base, last_ack, shown, odd, maps = {}, {}, {}, {}, {}
    # Mappings seen again with the same DSN and SSN but another length (a
    # sender extending a partly sent mapping), per direction.
    lens, ext = {}, {}
    # Mappings starting inside the previous one of their direction with
    # other parameters (what a receiver's DSSNotMatching check trips on).
    prevmap, inside = {}, {}
    for p in ml.pcap_packets(path):
        key = (p["src"], p["dst"])
        d = p["dss"]
        if d and "ack" in d:
            last_ack[key] = (d["ack"], p["win"], p["n"])
        # (Skipped: the infinite mapping, and a DATA_FIN on a segment
        # without data, whose SSN is 0.)
        if not d or "dsn" not in d or d["dlen"] == 0 or not d["dsn64"] or (d["ssn"] == 0 and d["fin"]):
            continue
        maps[key] = maps.get(key, 0) + 1
        prev = lens.setdefault(key, {}).get((d["dsn"], d["ssn"]))
        if prev is not None and prev != d["dlen"]:
            ext[key] = ext.get(key, 0) + 1
            if ext[key] <= 3:
                print(f"  pkt {p['n']} port {p['src'][1]}->{p['dst'][1]}: mapping DSN {d['dsn']} SSN {d['ssn']} "
                      f"seen with data-level length {prev}, now {d['dlen']} (extended)")
        lens[key][(d["dsn"], d["ssn"])] = d["dlen"]
        pm = prevmap.get(key)
        cur = (d["dsn"], d["ssn"], d["dlen"])
        if pm and pm != cur and 0 < ((d["ssn"] - pm[1]) & 0xFFFFFFFF) < pm[2]:
            inside[key] = inside.get(key, 0) + 1
            if inside[key] <= 3:
                print(f"  pkt {p['n']} port {p['src'][1]}->{p['dst'][1]}: mapping DSN {d['dsn']} SSN {d['ssn']} "
                      f"len {d['dlen']} starts inside DSN {pm[0]} SSN {pm[1]} len {pm[2]} (seq {p['seq']})")
        prevmap[key] = cur
        rel = (d["dsn"] - d["ssn"]) & MASK64
        if key not in base:
            base[key] = rel
            continue
        if rel == base[key]:
            continue
        odd[key] = odd.get(key, 0) + 1
        if shown.get(key, 0) >= mx:
            continue
        shown[key] = shown.get(key, 0) + 1
        back = (base[key] - rel) & MASK64
        peer = last_ack.get((p["dst"], p["src"]))
        pa = f"peer's last DATA_ACK {peer[0]} win {peer[1]} (pkt {peer[2]})" if peer else "no DATA_ACK from peer yet"
        print(f"  pkt {p['n']} t={p['t']:.6f} port {p['src'][1]}->{p['dst'][1]}: seq {p['seq']} len {p['plen']} "
              f"DSN {d['dsn']} SSN {d['ssn']} dlen {d['dlen']}{' FIN' if d['fin'] else ''}: "
              f"DSN {back} below the subflow offset; {pa}")
    for key, n in maps.items():
        print(f"  {key[0][1]}->{key[1][1]}: {n} mappings, {odd.get(key, 0)} at another DSN-SSN offset, "
              f"{ext.get(key, 0)} extended, {inside.get(key, 0)} inside the previous one")


if __name__ == "__main__":
    main()
