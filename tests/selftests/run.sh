#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make selftests`: run mainline's MPTCP selftests (tools/testing/selftests/
# net/mptcp of the kernel tree in build/kdir) in a VM on our kernel with
# build/mptcp.ko, and on Debian's stock 6.12 kernel (mainline MPTCP built in)
# as the yardstick; print pass/fail/skip per script for both side by side.
#
# Environment:
#   SELFTESTS_FULL=1       also run mptcp_join.sh (~35 min on mainline under TCG)
#   SELFTESTS_MAINLINE=1   run every script on mainline too (default: the fast ones)
#   SELFTESTS_KERNELS="ours mainline"   which kernels (default both)
#   ONLY="diag pm_netlink" run only these scripts (names without .sh)
#   SELFTESTS_TIMEOUT=SEC  per-script timeout for every script (default: per script)
# Every VM runs under flock /tmp/mptcp-rs-vm.lock (one VM at a time per machine).
# Logs and parsed results: build/selftests/logs/<date>/ (latest: logs/latest).
# On our kernel the scripts' /proc/kallsyms feature probes are answered from
# tests/selftests/kallsyms-probes.tsv (see guest.sh); parse.awk counts the
# cases each probe gates, on both kernels.  Both kernels run the scripts with
# a newer `ss` (iproute2 from bookworm-backports, ss.sh) when it can be fetched.
# Exit status: 0 when the tables were produced (failing tests are expected
# while the module is incomplete), 1 when a kernel could not run any script.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/tests/selftests
LOCK=/tmp/mptcp-rs-vm.lock
OUT=$ROOT/build/selftests
PROBES=$HERE/kallsyms-probes.tsv
start=$(date +%s)

# Per-script timeouts (seconds, under TCG; mainline's own limit is 1800).
declare -A TO=(
  [mptcp_connect]=1500 [mptcp_connect_checksum]=1500 [mptcp_connect_mmap]=1500
  [mptcp_connect_sendfile]=1500 [mptcp_sockopt]=600 [diag]=600 [pm_netlink]=600
  [simult_flows]=1200 [userspace_pm]=900 [mptcp_join]=4200
)
ALL=(mptcp_connect mptcp_connect_checksum mptcp_connect_mmap mptcp_connect_sendfile
     mptcp_sockopt diag pm_netlink simult_flows userspace_pm)
FAST=(mptcp_connect mptcp_sockopt diag pm_netlink userspace_pm)
if [ "${SELFTESTS_FULL:-0}" = 1 ]; then ALL+=(mptcp_join); FAST+=(mptcp_join); fi
[ "${SELFTESTS_MAINLINE:-0}" = 1 ] && FAST=("${ALL[@]}")

pick() {  # pick NAMES...: apply ONLY
  local s o
  for s in "$@"; do
    if [ -z "${ONLY:-}" ]; then echo "$s"; continue; fi
    for o in $ONLY; do [ "${o%.sh}" = "$s" ] && echo "$s"; done
  done
}
mapfile -t ours_list < <(pick "${ALL[@]}")
mapfile -t main_list < <(pick "${FAST[@]}")
for o in ${ONLY:-}; do
  [ -n "${TO[${o%.sh}]:-}" ] || { echo "selftests: unknown script '$o' (known: ${!TO[*]})" >&2; exit 2; }
done

ST=$(bash "$HERE/build.sh")
SS=$(bash "$HERE/ss.sh")
stamp=$(date -u +%Y%m%d-%H%M%S)
LOGDIR=$OUT/logs/$stamp
mkdir -p "$LOGDIR"
ln -sfn "$stamp" "$OUT/logs/latest"

# Progress on the terminal; the full console goes to the log files.
progress() {
  awk -v k="$1" '
    /^##ST-KERNEL / { printf "  [%s] kernel %s %s\n", k, $2, $3; fflush() }
    /^##ST-MODULE / { printf "  [%s] module loaded\n", k; fflush() }
    /^##ST-SS /     { l = $0; sub(/^##ST-SS /, "", l); printf "  [%s] %s\n", k, l; fflush() }
    /^##ST-PROBE /  { p = $0; sub(/^##ST-PROBE [^ ]+ /, "", p)
                      printf "  [%s] kallsyms probe %-9s (table): %s\n", k, $2, p; fflush() }
    /^##ST-BEGIN /  { printf "  [%s] %-24s ... ", k, $2; fflush() }
    /^##ST-END /    { printf "%s %s\n", $3, $4; fflush() }
    /^##ST-(FATAL|RMMOD)/ || /^vm\.sh:/ { l = $0; sub(/^##ST-/, "", l); print "  [" k "] " tolower(substr(l, 1, 5)) substr(l, 6); fflush() }'
}

# run_kernel KERNEL SCRIPT...: boot, run the scripts; if the VM dies (panic,
# hang past vm.sh --timeout) the unfinished script is recorded as such and the
# rest run in a fresh boot.
failed_kernels=0
run_kernel() {
  local k=$1; shift
  local todo=("$@") boots=0 t0 ko="" probes="" spec vmto s part vmrc
  local log=$LOGDIR/$k.log
  [ "$k" = ours ] && ko=$ROOT/build/mptcp.ko probes=$PROBES
  [ -z "$ko" ] || [ -f "$ko" ] || { echo "selftests: no $ko (make module)" >&2; exit 2; }
  : > "$log"
  if [ -n "$ko" ]; then
    echo "$(basename "$ko") built $(date -u -r "$ko" '+%F %T UTC') from the work tree at" \
      "git $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?')" > "$LOGDIR/$k.info"
  fi
  t0=$(date +%s)
  while [ ${#todo[@]} -gt 0 ]; do
    boots=$((boots + 1)) spec="" vmto=300
    for s in "${todo[@]}"; do
      local to=${SELFTESTS_TIMEOUT:-${TO[$s]}}
      spec+="$s:$to " vmto=$((vmto + to + 60))
    done
    part=$LOGDIR/$k.boot$boots.log
    echo "== $k: boot $boots (waiting for $LOCK if another VM runs): ${todo[*]}"
    set +e
    MPTCP_RS_VM_LOCKED=1 flock "$LOCK" "$ROOT/qemu/vm.sh" --kernel "$k" --timeout "$vmto" -- \
      env ST_DIR="$ST" ST_SCRIPTS="$spec" KO="$ko" ST_PROBES="$probes" ST_SS="$SS" bash "$HERE/guest.sh" 2>&1 |
      tr -d '\r' | tee "$part" | progress "$k"
    vmrc=${PIPESTATUS[0]}
    set -e
    cat "$part" >> "$log"
    local rest=()
    for s in "${todo[@]}"; do
      if grep -q "^##ST-END $s " "$part"; then continue; fi
      if grep -q "^##ST-BEGIN $s " "$part"; then
        echo "(VM ended, vm.sh exit $vmrc)"
        echo "== $k: $s did not finish; see $part"
        continue
      fi
      rest+=("$s")
    done
    if [ ${#rest[@]} -eq ${#todo[@]} ]; then
      echo "== $k: no script ran (vm.sh exit $vmrc); last lines of $part:"
      tail -15 "$part" | sed 's/^/   /'
      failed_kernels=$((failed_kernels + 1))
      break
    fi
    todo=("${rest[@]}")
  done
  echo "$(( $(date +%s) - t0 )) $boots" > "$LOGDIR/$k.wall"
  awk -v probes="$PROBES" -f "$HERE/parse.awk" "$log" > "$LOGDIR/$k.tsv"
}

kernels=${SELFTESTS_KERNELS:-ours mainline}
for k in $kernels; do
  case $k in
    ours) [ ${#ours_list[@]} -eq 0 ] || run_kernel ours "${ours_list[@]}" ;;
    mainline) [ ${#main_list[@]} -eq 0 ] || run_kernel mainline "${main_list[@]}" ;;
    *) echo "selftests: unknown kernel '$k' (ours, mainline)" >&2; exit 2 ;;
  esac
done

bash "$HERE/table.sh" "$LOGDIR" $kernels | tee "$LOGDIR/summary.txt"
echo "selftests: total $(( $(date +%s) - start ))s; logs in $LOGDIR"
[ "$failed_kernels" = 0 ]
