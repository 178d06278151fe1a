#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Table for `make interop` from qemu/twovm.sh's output directory.

  report.py DIR CASES   (DIR/a.out, DIR/b.out hold the "INTEROP {json}" lines)

Per case: were both directions byte-exact (count and SHA-256 of what each side
sent vs what the other received), the mainline side's MPTcpExt deltas
(nstat), and a verdict:
  MPTCP     bytes ok, the mainline side's socket says MPTCP (TCP_IS_MPTCP=1 at
            start and end) and its MIB shows the MP_CAPABLE handshake
            (server: MPCapableSYNRX and MPCapableACKRX; client:
            MPCapableSYNACKRX) with no MPCapableFallback* counts
  FALLBACK  bytes ok, anything less (plain TCP underneath)
  FAIL      bytes wrong, an error, or a side did not report
Cases with CSUM x (INTEROP_CORRUPT=1: the server's link rewrites payload it
sends) instead expect the client->server direction byte-exact, the
server->client one complete but different, and RFC 8684 §3.7's exchange in
both sides' counters (the client: DataCsumErr, MPFailTx, then fallback on
the infinite mapping, InfiniteMapRx; the server: MPFailRx, its MP_FAIL
answer, InfiniteMapTx); verdict MP_FAIL, else FAIL.  CSUM y rewrites from
the first packet on: no checksum passes before, so the client falls back
without MP_FAIL (mainline's valid_csum_seen): DataCsumErr and DssFallback,
no MPFailTx; verdict FALLBACK (expected), else FAIL.
Exit status: 0 if every case is byte-exact; with INTEROP_REQUIRE_MPTCP=1,
every case must also be MPTCP.
"""
import json, os, sys

COLS = [("MPCapableSYNRX", "SYNRX"), ("MPCapableSYNACKRX", "SYNACKRX"), ("MPCapableACKRX", "ACKRX"),
        ("MPCapableFallbackACK", "FbACK"), ("MPCapableFallbackSYNACK", "FbSYNACK")]
NOTES = ["DataCsumErr", "MPFailTx", "MPFailRx", "InfiniteMapTx", "InfiniteMapRx", "DSSNotMatching",
         "MPCapableSYNTXDrop", "MPCapableSYNTXDisabled"]


def load(path):
    res = {}
    try:
        for line in open(path, errors="replace"):
            if line.startswith("INTEROP "):
                r = json.loads(line[8:])
                res[r["case"]] = r
    except OSError:
        pass
    return res


def human(n):
    for u, k in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= k and n % k == 0:
            return f"{n // k} {u}"
    return f"{n} B"


def bytes_ok(cl, sv, size):
    c, s = cl.get("xfer", {}), sv.get("xfer", {})
    if "error" in c or "error" in s:
        return False, "error: " + (c.get("error") or s.get("error"))
    if not (c.get("sent") == size == s.get("recv") and c.get("sent_sha") == s.get("recv_sha")):
        return False, f"client->server: sent {c.get('sent')} recv {s.get('recv')}"
    if not (s.get("sent") == size == c.get("recv") and s.get("sent_sha") == c.get("recv_sha")):
        return False, f"server->client: sent {s.get('sent')} recv {c.get('recv')}"
    return True, ""


# The §3.7 exchange when the server's data is rewritten: (side, counter,
# wanted: at least one, or none).
FAIL_EXCHANGE = {
    "x": [("cli", "DataCsumErr", True), ("cli", "MPFailTx", True), ("srv", "MPFailRx", True),
          ("srv", "MPFailTx", True), ("cli", "MPFailRx", True), ("srv", "InfiniteMapTx", True),
          ("cli", "InfiniteMapRx", True)],
    "y": [("cli", "DataCsumErr", True), ("cli", "DssFallback", True), ("cli", "MPFailTx", False),
          ("srv", "MPFailRx", False)],
}


def corrupt_case(cl, sv, size, mode):
    """(ok, notes) for a CSUM x or y case."""
    c, s = cl.get("xfer", {}), sv.get("xfer", {})
    if "error" in c or "error" in s:
        return False, ["error: " + (c.get("error") or s.get("error"))]
    notes, ok = [], True
    if not (c.get("sent") == size == s.get("recv") and c.get("sent_sha") == s.get("recv_sha")):
        ok = False
        notes.append(f"client->server: sent {c.get('sent')} recv {s.get('recv')}")
    if not (s.get("sent") == size == c.get("recv")):
        ok = False
        notes.append(f"server->client: sent {s.get('sent')} recv {c.get('recv')}")
    elif s.get("sent_sha") == c.get("recv_sha"):
        ok = False
        notes.append("no payload was rewritten (test broken?)")
    if not sv.get("pedit"):
        ok = False
        notes.append("tc pedit failed on the server")
    side = {"cli": cl.get("mib", {}), "srv": sv.get("mib", {})}
    for who, n, want in FAIL_EXCHANGE[mode]:
        v = side[who].get(n, 0)
        notes.append(f"{who} {n}={v}")
        ok = ok and (v >= 1) == want
    return ok, notes


def main():
    d, cases = sys.argv[1], sys.argv[2].split()
    A, B = load(os.path.join(d, "a.out")), load(os.path.join(d, "b.out"))
    kern = {"a": os.environ.get("INTEROP_A", "A"), "b": os.environ.get("INTEROP_B", "B")}
    for r in list(A.values())[:1] + list(B.values())[:1]:
        kern[r["side"]] = r["kernel"]
    # The side whose counters are shown: the mainline one (B if both or neither).
    ref = "a" if kern["a"] == "mainline" and kern["b"] != "mainline" else "b"
    name = {s: ("ours" if kern[s] == "ours" else kern[s]) for s in "ab"}
    if name["a"] == name["b"]:
        name = {s: f"{name[s]}({s.upper()})" for s in "ab"}
    hdr = ["direction", "csum", "size", "bytes"] + [c[1] for c in COLS] + \
          [f"is_mptcp {name['a']}/{name['b']}", "verdict", "notes"]
    rows, nfail, nfb, nx = [], 0, 0, 0
    for k, case in enumerate(cases):
        dirn, csum, size = case.split(":")
        size = int(size)
        cli, srv = ("a", "b") if dirn == "a2b" else ("b", "a")
        res = {"a": A.get(k), "b": B.get(k)}
        direction = f"{name[cli]} -> {name[srv]}"
        row = [direction, {"1": "on", "x": "on+rewrite", "y": "on+rewrite1"}.get(csum, "off"), human(size)]
        if res["a"] is None or res["b"] is None:
            miss = " and ".join(s.upper() for s in "ab" if res[s] is None)
            rows.append(row + ["-"] + ["-"] * len(COLS) + ["-", "FAIL", f"no result from {miss}"])
            nfail += 1
            continue
        if csum in "xy":
            ok, notes = corrupt_case(res[cli], res[srv], size, csum)
            nfail += not ok
            nx += ok
            verdict = ("MP_FAIL" if csum == "x" else "FALLBACK") if ok else "FAIL"
            rows.append(row + ["ok" if ok else "BAD"] + ["-"] * len(COLS) + ["-", verdict, ", ".join(notes)])
            continue
        ok, why = bytes_ok(res[cli], res[srv], size)
        mib = res[ref].get("mib", {})
        xs = {s: res[s].get("xfer", {}) for s in "ab"}
        ism = "/".join(str(xs[s].get("tcp_is_mptcp", "?")) for s in "ab")
        r = res[ref]
        x = xs[ref]
        hs = (mib.get("MPCapableSYNRX", 0) >= 1 and mib.get("MPCapableACKRX", 0) >= 1) if r["role"] == "server" \
            else mib.get("MPCapableSYNACKRX", 0) >= 1
        fb = mib.get("MPCapableFallbackACK", 0) + mib.get("MPCapableFallbackSYNACK", 0)
        # MPTCP from start to end on both sockets (a connection that falls
        # back mid-transfer, e.g. after MP_FAIL, is not an MPTCP result).
        sock = all(xs[s].get("tcp_is_mptcp") == 1 and xs[s].get("end", {}).get("tcp_is_mptcp") == 1 for s in "ab")
        notes = [why] if why else []
        notes += [f"{n}={mib[n]}" for n in NOTES if mib.get(n)]
        notes += [f"{s.upper()}: checksum_enabled not set" for s in "ab" if not res[s].get("csum_set", True)]
        if ok and hs and sock and x.get("csum_neg") is not None and x["csum_neg"] != int(csum):
            notes.append(f"{name[ref]} socket: csum_enabled={x['csum_neg']}")
        if not res[ref].get("mib_seen", True):
            notes.append("no MPTcpExt counters on the mainline side")
        if not ok:
            verdict = "FAIL"
            nfail += 1
        elif hs and sock and not fb:
            verdict = "MPTCP"
        else:
            verdict = "FALLBACK"
            nfb += 1
        if ok:
            notes.append(f"{res[cli]['secs']}s")
        rows.append(row + ["ok" if ok else "BAD"] + [str(mib.get(c[0], 0)) for c in COLS] +
                    [ism, verdict, ", ".join(notes)])
    w = [max(len(str(x)) for x in col) for col in zip(hdr, *rows)]
    uname = next((r["uname"] for r in (A if ref == "a" else B).values()), "?")
    print(f"MPTcpExt deltas (nstat) on the {name[ref]} side ({kern[ref]} kernel, {uname}); "
          f"is_mptcp = TCP_IS_MPTCP on each side's socket")
    for line in [hdr] + rows:
        print("  ".join(str(v).ljust(n) for v, n in zip(line, w)).rstrip())
    req = os.environ.get("INTEROP_REQUIRE_MPTCP", "0") == "1"
    print(f"{len(rows)} cases: {len(rows) - nfail} byte-exact, {nfail} failed; "
          f"{len(rows) - nfail - nfb - nx} MPTCP, {nfb} fallback"
          + (f", {nx} payload-rewrite cases as expected" if nx else "")
          + ("  (INTEROP_REQUIRE_MPTCP=1: fallback fails)" if req else ""))
    sys.exit(1 if nfail or (req and nfb) else 0)


if __name__ == "__main__":
    main()
