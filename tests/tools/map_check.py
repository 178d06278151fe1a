#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Checks the mappings of one side's outgoing MPTCP data in a capture
(taken on the sender, before segmentation, SYN-ACK or SYN included): every
segment with payload carries a DSS mapping, the mapping covers the
segment's octets (relative subflow sequence numbers, RFC 8684 §3.3.1), no
two mappings that left overlap unless they are identical (a receiver would
see two mappings for one octet: mainline's DSSNotMatching), and no segment
is larger than a mapping can cover (65535 octets).

  map_check.py PCAP
Prints the counts and the largest payload; exits 1 on any violation."""
import sys

import mptcplib as ml


def overlaps(s1, l1, s2, l2):
    """Subflow ranges [s1, s1 + l1) and [s2, s2 + l2) share an octet."""
    return ((s1 - s2) & 0xFFFFFFFF) < l2 or ((s2 - s1) & 0xFFFFFFFF) < l1


def main():
    isn = {}
    n = unmapped = uncovered = big = biggest = conflicts = 0
    maps = set()  # every distinct mapping seen: (flow, ssn, len, dsn)
    for p in ml.pcap_packets(sys.argv[1]):
        flow = (p["src"], p["dst"])
        if p["flags"] & 0x02:
            isn[flow] = p["seq"]
            continue
        if p["plen"] <= 0:
            continue
        n += 1
        biggest = max(biggest, p["plen"])
        big += p["plen"] > 65535
        d = p["dss"]
        if not (d and "dsn" in d):
            unmapped += 1
            continue
        if flow in isn:
            rel = (p["seq"] - isn[flow]) & 0xFFFFFFFF
            key = (flow, d["ssn"], d["dlen"], d["dsn"])
            if key not in maps:
                for f, s2, l2, _ in maps:
                    if f == flow and overlaps(d["ssn"], d["dlen"], s2, l2):
                        conflicts += 1
                        if conflicts <= 3:
                            print(f"pkt {p['n']}: mapping ssn {d['ssn']} len {d['dlen']} overlaps "
                                  f"the earlier ssn {s2} len {l2}")
                maps.add(key)
            off = (rel - d["ssn"]) & 0xFFFFFFFF
            if off + p["plen"] > d["dlen"]:
                uncovered += 1
                if uncovered <= 3:
                    print(f"pkt {p['n']}: payload [{rel}, +{p['plen']}) outside its mapping "
                          f"ssn {d['ssn']} len {d['dlen']}")
    print(f"data segments {n}, largest payload {biggest}, unmapped {unmapped}, "
          f"not covered by their mapping {uncovered}, conflicting {conflicts}, "
          f"over 64 KiB {big}")
    return 1 if n == 0 or unmapped or uncovered or conflicts or big else 0


if __name__ == "__main__":
    sys.exit(main())
