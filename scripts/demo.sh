#!/usr/bin/env bash
# The main job: boot our kernel, load mptcp.ko, transfer data between two
# network namespaces over an IPPROTO_MPTCP socket, and print what happened.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
exec "$ROOT/qemu/vm.sh" --kernel ours -- bash -c "
set -e
ROOT=$ROOT; . $ROOT/tests/vm/lib.sh
echo '== kernel:' \$(uname -r)
insmod $ROOT/build/mptcp.ko
echo '== module loaded:'; lsmod | grep '^mptcp '
echo '== sysctls:'; sysctl net.mptcp
topo_up
echo '== transfer: ns1 (10.0.1.1) <-> ns2 (10.0.1.2), 8 MiB each way, IPPROTO_MPTCP sockets'
xfer_check 4 10.0.1.2 8388608 8388608
echo '== sockets report (stage 1: TCP fallback, so TCP_IS_MPTCP=0, MPTCP_INFO=-ENOPROTOOPT)'
echo '== /proc/net/protocols:'; grep -E '^(protocol|MPTCP)' /proc/net/protocols
topo_down
rmmod mptcp && echo '== module unloaded'
echo '== kernel log:'; dmesg | grep -iE 'mptcp' | tail -5
"
