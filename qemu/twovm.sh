#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Boot two VMs at once, joined by N virtual links, run one command in each,
# collect both outputs and exit statuses.
#
#   qemu/twovm.sh [--a-kernel ours|mainline|PATH] [--b-kernel ...] [--links N]
#                 [--mem SIZE] [--timeout SEC] [--sync SEC] [--out DIR] [--quiet]
#                 [--hide REGEX]
#                 --a 'COMMAND' --b 'COMMAND'
#
# Defaults: A = ours (build/mptcp.ko loaded before COMMAND), B = mainline
# (Debian's stock kernel, MPTCP built in), 1 link, 1 vCPU each, 600 s.
#
# Link i (0..N-1) is a virtio-net NIC in each VM; the two NICs are joined by a
# QEMU socket netdev over host loopback (A listens, B connects).  In the guest
# the link has 10.0.<i+1>.1/24 + fd00:<i+1>::1/64 on A and .2 / ::2 on B (the
# same numbering as tests/vm/lib.sh topo_up for link 0).  Before COMMAND runs
# each guest configures its links and waits (up to --sync seconds) until it
# can ping the peer on every link, so the two commands start at about the
# same time; they still have to synchronise themselves (the server listens,
# the client retries connecting).
#
# COMMAND is run by `bash -c` in the guest (cwd = this repository, as root,
# host root file system read-only, /tmp writable) with these variables:
#   TWOVM_SIDE=a|b  TWOVM_ID=1|2  TWOVM_PEER_ID=2|1  TWOVM_LINKS=N
#   TWOVM_KERNEL=ours|mainline|PATH  TWOVM_IFS="eth0 eth1..." (link order)
#   ROOT=<repository>
#
# Output: each side's stdout/stderr is echoed live, prefixed "[A] "/"[B] "
# (--quiet: stderr only; --hide REGEX: not the stdout lines matching it),
# and kept in DIR/{a,b}.{out,err,rc} and DIR/secs ("RUN LOCKWAIT") (--out;
# default a fresh mktemp directory, printed at the end).  vm.sh merges the
# guest's stderr into its stdout, so *.err only gets what vm.sh prints itself.
# Exit status: 0 if both commands exit 0; else A's status if non-zero, else
# B's; 124 on timeout.  When one side fails the
# other gets --grace seconds (default 20) to finish, then both are killed.
#
# Takes /tmp/mptcp-rs-vm.lock once for both VMs (the project's VM lock).
# Each VM gets 1 vCPU (TCG on 2 host cores); KVM is used when vm.sh finds it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LOCK=/tmp/mptcp-rs-vm.lock

# ---------------------------------------------------------------------------
# Guest side: `twovm.sh --guest` runs inside each VM (called by the host part).
guest() {
  local id=$TWOVM_ID peer=$TWOVM_PEER_ID n=$TWOVM_LINKS i ifs="" dev mac
  export PATH="/usr/sbin:/sbin:$PATH"
  if [ "$TWOVM_KERNEL" = ours ] && [ "${TWOVM_NO_MODULE:-0}" != 1 ] &&
     ! grep -q '^MPTCP ' /proc/net/protocols; then
    insmod "$ROOT/build/mptcp.ko" || { echo "twovm: insmod mptcp.ko failed" >&2; return 90; }
  fi
  for i in $(seq 0 $((n - 1))); do
    mac=$(printf '52:54:00:7e:%02x:%02x' "$i" "$id")
    dev=""
    for _ in 1 2; do
      for d in /sys/class/net/*; do
        [ "$(cat "$d/address" 2>/dev/null)" = "$mac" ] && dev=${d##*/}
      done
      [ -n "$dev" ] && break
      modprobe -q virtio_net 2>/dev/null || true; sleep 1   # stock kernel: a module
    done
    [ -n "$dev" ] || { echo "twovm: no NIC with MAC $mac" >&2; ip -br link >&2; return 91; }
    ip link set "$dev" up
    ip addr add "10.0.$((i + 1)).$id/24" dev "$dev"
    ip addr add "fd00:$((i + 1))::$id/64" dev "$dev" nodad
    ifs="$ifs $dev"
  done
  ip link set lo up
  export TWOVM_IFS=${ifs# }
  local t0=$SECONDS
  for i in $(seq 0 $((n - 1))); do
    until ping -c1 -W1 "10.0.$((i + 1)).$peer" >/dev/null 2>&1; do
      [ $((SECONDS - t0)) -lt "${TWOVM_SYNC:-180}" ] ||
        { echo "twovm: peer 10.0.$((i + 1)).$peer unreachable after ${TWOVM_SYNC:-180}s" >&2; return 92; }
    done
  done
  echo "twovm: side $TWOVM_SIDE, kernel $(uname -r), links: $TWOVM_IFS, peer up after $((SECONDS - t0))s" >&2
  export ROOT
  cd "$ROOT"
  bash -c "$1"
}
if [ "${1:-}" = --guest ]; then guest "$2"; exit; fi

# ---------------------------------------------------------------------------
# Host side.
akern=ours bkern=mainline links=1 mem=1G timeout=600 sync=180 grace=20 out="" quiet=0 hide="" acmd="" bcmd=""
while [ $# -gt 0 ]; do
  case "$1" in
    --a-kernel) akern=$2; shift 2 ;;
    --b-kernel) bkern=$2; shift 2 ;;
    --links) links=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --sync) sync=$2; shift 2 ;;
    --grace) grace=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --quiet) quiet=1; shift ;;
    --hide) hide=$2; shift 2 ;;
    --a) acmd=$2; shift 2 ;;
    --b) bcmd=$2; shift 2 ;;
    *) echo "twovm.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "$acmd" ] && [ -n "$bcmd" ] || { echo "twovm.sh: need --a 'CMD' and --b 'CMD'" >&2; exit 2; }
[[ "$links" =~ ^[1-9][0-9]?$ ]] || { echo "twovm.sh: bad --links $links" >&2; exit 2; }
if [ "$akern" = ours ] || [ "$bkern" = ours ]; then
  [ -f "$ROOT/build/mptcp.ko" ] || { echo "twovm.sh: no build/mptcp.ko (run make)" >&2; exit 2; }
fi

# One lock for both VMs, held by this process (fd 9) until it exits.
if [ "${MPTCP_RS_VM_LOCKED:-0}" != 1 ]; then
  exec 9>>"$LOCK"
  if ! flock -n 9; then
    w0=$(date +%s)
    echo "twovm: waiting for $LOCK ..." >&2
    flock 9
    lockwait=$(( $(date +%s) - w0 ))
    echo "twovm: got the lock after ${lockwait}s" >&2
  fi
  export MPTCP_RS_VM_LOCKED=1
fi

[ -n "$out" ] || out=$(mktemp -d /tmp/twovm.XXXXXX)
mkdir -p "$out"
rm -f "$out"/{a,b}.{out,err,rc}

# Free loopback ports for the links.
port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }
base=0
for _ in $(seq 50); do
  b=$((20000 + RANDOM % 30000)) ok=1
  for i in $(seq 0 $((links - 1))); do port_free $((b + i)) || ok=0; done
  [ $ok = 1 ] && { base=$b; break; }
done
[ $base != 0 ] || { echo "twovm.sh: no free ports" >&2; exit 2; }

qopts() {  # qopts SIDE(1|2)
  local s=$1 i o=""
  for i in $(seq 0 $((links - 1))); do
    if [ "$s" = 1 ]; then o+=" -netdev socket,id=l$i,listen=127.0.0.1:$((base + i))"
    else o+=" -netdev socket,id=l$i,connect=127.0.0.1:$((base + i))"; fi
    o+=" -device virtio-net-pci,netdev=l$i,mac=$(printf '52:54:00:7e:%02x:%02x' "$i" "$s")"
  done
  echo "$o"   # leading space: vng's argparse must not take it for an option
}

start=$(date +%s)
declare -A pid
launch() {  # launch a|b KERNEL ID PEER CMD
  local side=$1 kern=$2 id=$3 peer=$4 cmd=$5 tag
  tag=$(echo "$side" | tr ab AB)
  # setsid: own process group, so the whole VM (vm.sh, vng, qemu) can be killed.
  # Pipes, not files, for the VM's stdout/stderr: QEMU reopens them through
  # /proc/self/fd/N, and on a regular file each open has its own offset.
  setsid bash -c '
    set -o pipefail; out=$1 side=$2; shift 2
    { "$@" < /dev/null 2>&1 1>&3 3>&- | cat > "$out/$side.err"; } 3>&1 | cat > "$out/$side.out"
    echo $? > "$out/$side.rc"' _ "$out" "$side" \
    "$ROOT/qemu/vm.sh" --kernel "$kern" --cpus 1 --mem "$mem" --timeout "$timeout" \
      --qemu-opts "$(qopts "$id")" -- \
      env TWOVM_SIDE="$side" TWOVM_ID="$id" TWOVM_PEER_ID="$peer" TWOVM_LINKS="$links" \
          TWOVM_KERNEL="$kern" TWOVM_SYNC="$sync" TWOVM_NO_MODULE="${TWOVM_NO_MODULE:-0}" \
          ROOT="$ROOT" bash "$ROOT/qemu/twovm.sh" --guest "$cmd" &
  pid[$side]=$!
  # Echo live: tail follows the files until the VM's process group leader is gone.
  [ $quiet = 1 ] ||
    tail -q -n +1 --pid="${pid[$side]}" -F "$out/$side.out" 2>/dev/null |
      grep --line-buffered -v -E "${hide:-^\b$}" | sed -u "s/^/[$tag] /" &
  tail -q -n +1 --pid="${pid[$side]}" -F "$out/$side.err" 2>/dev/null | sed -u "s/^/[$tag] /" >&2 &
}

killvm() {  # killvm a|b: the VM's whole process group
  local p=${pid[$1]:-}
  [ -n "$p" ] || return 0
  kill -TERM -- "-$p" 2>/dev/null || true
  for _ in $(seq 20); do kill -0 -- "-$p" 2>/dev/null || return 0; sleep 0.5; done
  kill -KILL -- "-$p" 2>/dev/null || true
}
cleanup() { killvm a; killvm b; }
trap 'cleanup; exit 130' INT TERM

rc_of() { [ -f "$out/$1.rc" ] && cat "$out/$1.rc"; }
failed() { [ -n "$1" ] && [ "$1" != 0 ]; }

# A first: its QEMU listens; B's QEMU connects once the ports are open
# (vm.sh's one-time KVM probe, if any, runs before A's QEMU starts).
launch a "$akern" 1 2 "$acmd"
for _ in $(seq 240); do
  ok=1
  for i in $(seq 0 $((links - 1))); do port_free $((base + i)) && ok=0; done
  [ $ok = 1 ] && break
  [ -n "$(rc_of a)" ] && break
  sleep 0.5
done
if [ $ok != 1 ]; then
  echo "twovm: VM A's QEMU did not listen on 127.0.0.1:$base (see $out/a.err)" >&2
  cleanup; tail -20 "$out/a.err" >&2; exit 1
fi
launch b "$bkern" 2 1 "$bcmd"

# Wait for both; on the first failure give the other side $grace seconds.
deadline=$((start + timeout + 30)) fail_at=""
while :; do
  ra=$(rc_of a || true) rb=$(rc_of b || true)
  [ -n "$ra" ] && [ -n "$rb" ] && break
  now=$(date +%s)
  if [ -z "$fail_at" ] && { failed "$ra" || failed "$rb"; }; then fail_at=$now; fi
  if [ -n "$fail_at" ] && [ $((now - fail_at)) -ge "$grace" ]; then
    echo "twovm: one side failed; killing the other after ${grace}s" >&2; break
  fi
  if [ "$now" -ge "$deadline" ]; then
    echo "twovm: timeout after ${timeout}s; killing both VMs" >&2; ra=${ra:-124} rb=${rb:-124}; break
  fi
  sleep 1
done
cleanup
wait 2>/dev/null || true
ra=$(rc_of a || true) rb=$(rc_of b || true)
ra=${ra:-124} rb=${rb:-124}
echo "$ra" > "$out/a.rc"; echo "$rb" > "$out/b.rc"
echo "$(( $(date +%s) - start )) ${lockwait:-0}" > "$out/secs"   # run time, lock wait
echo "twovm: A ($akern) exit $ra, B ($bkern) exit $rb, $(( $(date +%s) - start ))s; output in $out" >&2
if [ "$ra" != 0 ]; then exit "$ra"; fi
exit "$rb"
