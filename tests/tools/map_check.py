#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Checks the mappings of one side's outgoing MPTCP data in a capture
(taken on the sender, before segmentation, SYN-ACK or SYN included): every
segment with payload carries a DSS mapping, the mapping covers the
segment's octets (relative subflow sequence numbers, RFC 8684 §3.3.1), and
no segment is larger than a mapping can cover (65535 octets).

  map_check.py PCAP
Prints the counts and the largest payload; exits 1 on any violation."""
import sys

import mptcplib as ml


def main():
    isn = {}
    n = unmapped = uncovered = big = biggest = 0
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
            off = (rel - d["ssn"]) & 0xFFFFFFFF
            if off + p["plen"] > d["dlen"]:
                uncovered += 1
                if uncovered <= 3:
                    print(f"pkt {p['n']}: payload [{rel}, +{p['plen']}) outside its mapping "
                          f"ssn {d['ssn']} len {d['dlen']}")
    print(f"data segments {n}, largest payload {biggest}, unmapped {unmapped}, "
          f"not covered by their mapping {uncovered}, over 64 KiB {big}")
    return 1 if n == 0 or unmapped or uncovered or big else 0


if __name__ == "__main__":
    sys.exit(main())
