#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make interop: our MPTCP against mainline's, in two VMs (qemu/twovm.sh).
#
# Matrix: {ours client -> mainline server, mainline client -> ours server}
#       x {checksum off, on (net.mptcp.checksum_enabled=1 on both sides)}
#       x sizes (INTEROP_SIZES, bytes; default 1 MiB and 64 MiB, sent both ways)
# over IPPROTO_MPTCP sockets on link 0 (10.0.1.1 <-> 10.0.1.2).  Prints a table
# (tests/interop/report.py): byte-exact?, the mainline side's MPTcpExt
# deltas, verdict MPTCP / FALLBACK / FAIL.
#
# Environment: INTEROP_A / INTEROP_B (kernels, default ours / mainline),
# INTEROP_SIZES, INTEROP_CORRUPT=1 (four more cases: a middlebox rewrites the
# server's payload, checksums catch it: MP_FAIL and the infinite mapping, or
# fallback when no checksum passed before), INTEROP_FAMILY (4|6|4m: IPv4 through v4-mapped AF_INET6
# sockets, a dual-stack [::] server), INTEROP_PCAP=1 (per-case mapping traces), INTEROP_TIMEOUT (whole run, s, default
# 600), INTEROP_OUT (output directory), INTEROP_REQUIRE_MPTCP=1 (fallback fails).
# Exit status: 0 iff every transfer is byte-exact (and MPTCP if required).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export INTEROP_A=${INTEROP_A:-ours} INTEROP_B=${INTEROP_B:-mainline}
sizes=${INTEROP_SIZES:-"1048576 67108864"}
cases=""
for d in a2b b2a; do for c in 0 1; do for s in $sizes; do cases+="$d:$c:$s "; done; done; done
# INTEROP_CORRUPT=1: also a middlebox rewriting the server's payload, each
# side detecting once, after a good checksum (x: the MP_FAIL exchange) and
# from the first packet on (y: fallback without MP_FAIL); 1 MiB each way;
# report.py.  Known: Debian's 6.12.117 as the x responder (server) often
# stalls after counting InfiniteMapTx, its sender blocked with data left,
# whatever the client: mainline<->mainline (INTEROP_A=mainline) too.
[ "${INTEROP_CORRUPT:-0}" = 1 ] && cases+="a2b:x:1048576 b2a:x:1048576 a2b:y:1048576 b2a:y:1048576 "
cases=${cases% }
out=${INTEROP_OUT:-$(mktemp -d /tmp/interop.XXXXXX)}
cmd="INTEROP_CASES='$cases' INTEROP_PORT=31000 INTEROP_FAMILY=${INTEROP_FAMILY:-4} INTEROP_PCAP=${INTEROP_PCAP:-0} python3 tests/interop/guest.py"
start=$(date +%s)
echo "# interop: A=$INTEROP_A B=$INTEROP_B, $(wc -w <<< "$cases") cases, output in $out"
rc=0
"$ROOT/qemu/twovm.sh" --a-kernel "$INTEROP_A" --b-kernel "$INTEROP_B" --links 1 \
  --timeout "${INTEROP_TIMEOUT:-600}" --out "$out" --hide '^INTEROP ' --a "$cmd" --b "$cmd" || rc=$?
echo
rrc=0
python3 "$ROOT/tests/interop/report.py" "$out" "$cases" || rrc=$?
read -r run wait < "$out/secs" 2>/dev/null || run=? wait=?
echo "# interop: VMs ${run}s (two boots included; ${wait}s waiting for the VM lock before)," \
  "$(( $(date +%s) - start ))s in all; VMs exit $rc, table exit $rrc"
if [ "$rc" != 0 ]; then
  for s in a b; do
    echo "# --- $s (tail of $out/$s.out, $s.err)"
    cat "$out/$s.out" "$out/$s.err" 2>/dev/null | grep -v '^INTEROP ' | tail -15 | sed 's/^/#   /'
  done
fi
[ "$rrc" = 0 ] && [ "$rc" = 0 ]
