#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Summarise `make bench`: summary.py OUTPUT_FILE... (the guests' BENCH lines)."""
import re, statistics, sys

runs = {}   # (kernel, topo, proto) -> [(round, mbps, is_mptcp)]
mem = {}    # (kernel, proto) -> [(KiB per connection, conns, is_mptcp count)]
acks = {}   # (kernel, topo, proto) -> [receiver ACKs per MiB received]
for path in sys.argv[1:]:
    for line in open(path, errors="replace"):
        if line.startswith("MEM "):
            kv = dict(re.findall(r"(\w+)=(\S+)", line))
            mem.setdefault((kv["kernel"], kv["proto"]), []).append(
                (float(kv["kib_per_conn"]), int(kv["conns"]), int(kv["is_mptcp"])))
        if line.startswith("BENCH "):
            kv = dict(re.findall(r"(\w+)=(\S+)", line))
            runs.setdefault((kv["kernel"], kv["topo"], kv["proto"]), []).append(
                (int(kv["round"]), float(kv["mbps"]), int(kv["is_mptcp"])))
            if int(kv.get("acks", -1)) >= 0 and int(kv["bytes"]) > 0:
                acks.setdefault((kv["kernel"], kv["topo"], kv["proto"]), []).append(
                    int(kv["acks"]) / (int(kv["bytes"]) / (1 << 20)))

if not runs:
    print("bench: no results")
    sys.exit(1)
kernels = list(dict.fromkeys(k for k, _, _ in runs))
topos = list(dict.fromkeys(t for _, t, _ in runs))


def stats(xs):
    return statistics.median(xs), min(xs), max(xs)


def fmt(xs):
    m, lo, hi = stats(xs)
    return f"{m:8.0f} [{lo:.0f}-{hi:.0f}]"


print(f"{'topology':8}  {'kernel':8}  {'MPTCP Mbit/s med [min-max]':27}  {'TCP Mbit/s med [min-max]':27}"
      f"  {'MPTCP/TCP':9}  {'paired':6}  MPTCP socket")
ratio, spread = {}, {}
for t in topos:
    for k in kernels:
        m, tc = runs.get((k, t, "mptcp"), []), runs.get((k, t, "tcp"), [])
        if not m or not tc:
            print(f"{t:8}  {k:8}  missing runs"); continue
        r = stats([x[1] for x in m])[0] / stats([x[1] for x in tc])[0]
        tcp_by_round = {x[0]: x[1] for x in tc}
        per_round = [x[1] / tcp_by_round[x[0]] for x in m if tcp_by_round.get(x[0])]
        paired = statistics.median(per_round)
        spread[(k, t)] = (min(per_round), max(per_round))
        ratio[(k, t)] = (r, len(m))
        ism = {x[2] for x in m}
        sock = "MPTCP (is_mptcp=1)" if ism == {1} else \
            "TCP fallback (is_mptcp=0)" if ism == {0} else f"mixed is_mptcp {sorted(ism)}"
        print(f"{t:8}  {k:8}  {fmt([x[1] for x in m]):27}  {fmt([x[1] for x in tc]):27}"
              f"  {r:9.3f}  {paired:6.3f}  {sock}")
print()
for t in topos:
    parts = [f"{k} MPTCP/TCP = {ratio[(k, t)][0]:.3f} (median of {ratio[(k, t)][1]};"
             f" per round {spread[(k, t)][0]:.3f}-{spread[(k, t)][1]:.3f})"
             for k in kernels if (k, t) in ratio]
    print(f"{t}: " + ", ".join(parts))
if any(x[2] == 0 for k, t, p in runs if k == "ours" and p == "mptcp" for x in runs[(k, t, p)]):
    print("note: on our kernel the IPPROTO_MPTCP connection is a plain-TCP fallback today (no MPTCP on the\n"
          "      wire), so its ratio measures the cost of our forwarding layer (msk -> TCP subflow), not MPTCP.")
print("(MPTCP/TCP = ratio of the medians; paired = median of the per-round ratios)")
if acks:
    # Each ACK costs both ends instructions: a receiver that ACKs every
    # segment shows here (and in the ratio) at once.
    print()
    print("segments the receiver sent (ACKs) per MiB received, median [min-max]:")
    for t in topos:
        for k in kernels:
            cols = [f"{p.upper()} {statistics.median(v):7.1f} [{min(v):.1f}-{max(v):.1f}]"
                    for p in ("mptcp", "tcp") for v in [acks.get((k, t, p))] if v]
            if cols:
                print(f"  {t:8} {k:9} " + "  ".join(cols))

if mem:
    print()
    print("memory per established idle connection, both ends (slab + TCP socket memory, KiB;"
          " min-max of the runs)")
    base = {}
    for k in kernels + [k for k, _ in mem if k not in kernels]:
        m, tc = mem.get((k, "mptcp"), []), mem.get((k, "tcp"), [])
        if not m or not tc:
            continue
        mm, tt = statistics.median(x[0] for x in m), statistics.median(x[0] for x in tc)
        base[k] = mm
        ism = sorted({x[2] for x in m})
        print(f"  {k:9} MPTCP {mm:6.2f} [{min(x[0] for x in m):.2f}-{max(x[0] for x in m):.2f}]"
              f"  TCP {tt:6.2f} [{min(x[0] for x in tc):.2f}-{max(x[0] for x in tc):.2f}]"
              f"  MPTCP-TCP {mm - tt:+6.2f}  ({m[0][1]} conns, is_mptcp {ism})")
    if "ours" in base and "reference" in base:
        print(f"  ours/reference (MPTCP) = {base['ours'] / base['reference']:.3f}")
