#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make bench: goodput of one IPPROTO_MPTCP connection vs one TCP connection,
# on our kernel (mptcp.ko loaded) and on the mainline kernel, one VM each.
# See tests/bench/guest.sh.  Kernels: ours; reference = the same source and
# config as ours with mainline's net/mptcp built in (scripts/build-reference-
# kernel.sh, built on first use, ~10 min): the like-for-like comparison;
# mainline = Debian's stock kernel.  Environment: BENCH_KERNELS (default
# "ours reference mainline"), BENCH_ROUNDS (5), BENCH_SECS (3), BENCH_CPUS (1: steadier under TCG than 2),
# BENCH_OUT (output directory), BENCH_ICOUNT (1: the guests run in QEMU's
# icount mode, one vCPU, so a transfer measures instructions per byte and
# host load does not matter, ratios repeat to ~0.1 % (see
# ../shared/notes/measuring.md); 0: real time, +-20 % under TCG).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
out=${BENCH_OUT:-$(mktemp -d /tmp/bench.XXXXXX)}
mkdir -p "$out"
# Built on the host; the guest sees the host's /tmp (and compiles itself if not).
gcc -O2 -Wall -Wextra -Werror -o "$out/tput" "$ROOT/tests/bench/tput.c"
start=$(date +%s) rc=0 files=()
cpus=${BENCH_CPUS:-1} qopts=""
if [ "${BENCH_ICOUNT:-1}" = 1 ]; then
  cpus=1 qopts="-icount shift=0,align=off,sleep=off"   # multi-threaded TCG has no icount
  echo "# bench: icount mode (guest time = instructions executed), 1 vCPU"
fi
for k in ${BENCH_KERNELS:-ours reference mainline}; do
  t0=$(date +%s)
  echo "# bench: $k kernel ..."
  image=$k
  [ "$k" = reference ] && image=$(bash "$ROOT/scripts/build-reference-kernel.sh")/arch/x86/boot/bzImage
  MPTCP_RS_VM_LOCKED=1 flock /tmp/mptcp-rs-vm.lock bash -c 'date +%s > "$0"; exec "$@"' "$out/$k.locked" \
    "$ROOT/qemu/vm.sh" --kernel "$image" --cpus "$cpus" ${qopts:+--qemu-opts "$qopts"} --timeout 1800 -- \
    env BENCH_ROUNDS="${BENCH_ROUNDS:-5}" BENCH_SECS="${BENCH_SECS:-3}" \
    bash "$ROOT/tests/bench/guest.sh" "$k" "$out/tput" | tee "$out/$k.out" | { grep -v '^BENCH ' || true; } || rc=1
  t1=$(cat "$out/$k.locked" 2>/dev/null || echo "$t0")
  echo "# bench: $k kernel: VM $(( $(date +%s) - t1 ))s (boot included), $((t1 - t0))s waiting for the VM lock"
  files+=("$out/$k.out")
done
echo
python3 "$ROOT/tests/bench/summary.py" "${files[@]}"
echo "# bench: $(( $(date +%s) - start ))s in all, output in $out"
exit $rc
