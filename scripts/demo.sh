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
echo '== what each socket reports is in the lines above: tcp_is_mptcp=1 and mptcp_info=ok mean MPTCP v1'
echo '== MP_CAPABLE handshake in the MIB (client ns1, server ns2):'
ip netns exec ns1 nstat -asz | grep -E 'MPCapable(SYNTX|SYNACKRX)'
ip netns exec ns2 nstat -asz | grep -E 'MPCapable(SYNRX|ACKRX)'
echo '== /proc/net/protocols:'; grep -E '^(protocol|MPTCP)' /proc/net/protocols
topo_down
rmmod mptcp && echo '== module unloaded'
"
