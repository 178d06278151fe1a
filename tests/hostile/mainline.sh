#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Run the hostile-peer scenarios on this machine's own kernel when it has
# mainline MPTCP built in: the reference reactions the scenarios assert.
# Root; creates network namespaces ns1, ns2, lv1, lv2 (deleted at the end).
#   bash tests/hostile/mainline.sh [SCENARIO...]     (default: all)
# Kernel-wide settings are left alone (no panic_on_rcu_stall), and the
# kernel log is not checked (the guest suite does both).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/vm/lib.sh"
$PYLIB -c 'import mptcplib as ml; ml.mptcp_socket()' 2>/dev/null ||
  { echo "this kernel has no MPTCP"; exit 2; }
if [ -e /sys/module/mptcp/initstate ]; then
  echo "mptcp is a loaded module here (ours?), not mainline built in"; exit 2
fi
KO=/nonexistent
lsmod() { echo "mptcp 0 0"; }  # built in: hostile_setup must not insmod
sysctl() { :; }                 # no kernel-wide panic settings on a host
dmesg() { :; }
. "$ROOT/tests/hostile/hostile.sh"
for t in ${*:-$HOSTILE_TESTS}; do tap_run "$t" "t_$t"; done
topo_down
echo "$TAP_PASS passed, $TAP_FAIL failed"
[ "$TAP_FAIL" = 0 ]
