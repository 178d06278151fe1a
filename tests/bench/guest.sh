#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# In-guest half of `make bench` (run by tests/bench/run.sh through qemu/vm.sh).
#   guest.sh KERNEL TPUT_BINARY
# Goodput of one IPPROTO_MPTCP connection vs one TCP connection, alternating
# MPTCP, TCP, MPTCP, TCP... BENCH_ROUNDS times each (default 5), BENCH_SECS
# seconds per run (default 3), on two topologies:
#   veth  ns1 (10.0.1.1) -> ns2 (10.0.1.2) over one unshaped veth pair
#   lo    127.0.0.1 inside ns1
# Prints one "BENCH kernel=.. topo=.. proto=.. round=.. bytes=.. secs=..
# mbps=.. is_mptcp=.." line per run; the host summarises.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/vm/lib.sh"
kernel=$1 tput=$2
rounds=${BENCH_ROUNDS:-5} secs=${BENCH_SECS:-3}
if [ ! -x "$tput" ]; then
  tput=/tmp/tput; gcc -O2 -o "$tput" "$ROOT/tests/bench/tput.c" || exit 1
fi
if [ "$kernel" = ours ] && ! grep -q '^MPTCP ' /proc/net/protocols; then
  insmod "$ROOT/build/mptcp.ko" || { echo "bench: insmod failed"; exit 1; }
fi
echo "# bench: kernel $(uname -r) ($kernel), $(nproc) CPUs, $rounds rounds x ${secs}s"
topo_up
ip netns exec ns1 ip addr add 127.0.0.1/8 dev lo 2>/dev/null || true
port=20000 rc=0
run() {  # run TOPO PROTO ROUND
  local topo=$1 proto=$2 r=$3 srv_ns dst line
  port=$((port + 1))
  if [ "$topo" = veth ]; then srv_ns=ns2 dst=10.0.1.2; else srv_ns=ns1 dst=127.0.0.1; fi
  ip netns exec $srv_ns "$tput" server $port "$proto" > /tmp/bench.srv 2> /tmp/bench.err &
  local spid=$!
  for _ in $(seq 50); do grep -q listening /tmp/bench.err 2>/dev/null && break; sleep 0.1; done
  if ! timeout $((secs + 60)) ip netns exec ns1 "$tput" client $dst $port "$proto" "$secs"; then
    echo "# bench: $topo $proto round $r: client failed"; kill $spid 2>/dev/null; rc=1; return
  fi
  wait $spid || { echo "# bench: $topo $proto round $r: server failed: $(cat /tmp/bench.err)"; rc=1; return; }
  line=$(cat /tmp/bench.srv)
  echo "BENCH kernel=$kernel topo=$topo proto=$proto round=$r $line"
}
for topo in veth lo; do
  for r in $(seq "$rounds"); do
    run "$topo" mptcp "$r"
    run "$topo" tcp "$r"
  done
done
topo_down
bad=$(dmesg_bad)
[ -z "$bad" ] || { echo "# bench: kernel warnings:"; echo "$bad" | head -20; rc=1; }
exit $rc
