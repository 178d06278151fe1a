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
# mbps=.. is_mptcp=.." line per run; then the memory of BENCH_CONNS
# (1000) established idle connections, MPTCP and TCP, twice each ("MEM"
# lines, below); the host summarises.
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

# Memory per established idle connection: slab (after dropping the
# reclaimable caches) and TCP socket memory (/proc/net/sockstat, pages),
# before and while idle_conns.py holds BENCH_CONNS connections, both ends
# in ns1 over 127.0.0.1.  Prints one "MEM kernel=.. proto=.. round=.."
# line per run.
kib() {  # Slab + TCP socket memory now, KiB
  sync; echo 3 > /proc/sys/vm/drop_caches
  local slab pages
  slab=$(awk '/^Slab:/ {print $2}' /proc/meminfo)
  pages=$(ip netns exec ns1 awk '/^TCP:/ {for (i = 2; i < NF; i++) if ($i == "mem") print $(i + 1)}' /proc/net/sockstat)
  echo $((slab + ${pages:-0} * 4))
}
mem_run() {  # mem_run PROTO ROUND
  local proto=$1 r=$2 n=${BENCH_CONNS:-1000} before after pid line
  port=$((port + 1))
  ip netns add ns1 2>/dev/null; ip -n ns1 link set lo up
  before=$(kib)
  ip netns exec ns1 python3 "$ROOT/tests/bench/idle_conns.py" "$n" "$proto" $port > /tmp/idle.out 2>&1 &
  pid=$!
  for _ in $(seq 600); do grep -q '^ready' /tmp/idle.out && break; kill -0 $pid 2>/dev/null || break; sleep 0.5; done
  line=$(grep '^ready' /tmp/idle.out) || { echo "# bench: idle $proto round $r failed: $(tail -3 /tmp/idle.out)"; rc=1; kill $pid 2>/dev/null; return; }
  after=$(kib)
  kill $pid; wait $pid 2>/dev/null
  echo "MEM kernel=$kernel proto=$proto round=$r ${line#ready } kib_before=$before kib_after=$after kib_per_conn=$(awk -v a="$after" -v b="$before" -v n="$n" 'BEGIN {printf "%.2f", (a - b) / n}')"
  ip netns del ns1; sleep 2   # the namespace's sockets are freed by a work item
}
ulimit -n 8192
for r in 1 2; do
  mem_run mptcp $r
  mem_run tcp $r
done
bad=$(dmesg_bad)
[ -z "$bad" ] || { echo "# bench: kernel warnings:"; echo "$bad" | head -20; rc=1; }
exit $rc
