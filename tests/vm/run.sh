#!/usr/bin/env bash
# Boot our kernel and run the in-VM suite (tests/vm/guest.sh) in it.
# ONLY="test names" runs a subset; FLAVOUR=debug runs it on the debug kernel.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
start=$(date +%s)
rc=0
# FLAVOUR=debug (build/kdir then points at the debug kernel): KASAN's
# shadow memory needs more guest memory.
mem=2G; [ "${FLAVOUR:-default}" = debug ] && mem=3G
log=$(mktemp /tmp/mptcp-rs-vm-test.XXXXXX)
"$ROOT/qemu/vm.sh" --kernel ours --mem "$mem" -- env ONLY="${ONLY:-}" bash "$ROOT/tests/vm/guest.sh" 2>&1 |
  tee "$log" || rc=$?
# A guest that died (a kernel stall panics it: tests/hostile) or hung until
# vm.sh's timeout printed no summary: the test it was running failed.
if ! grep -qE '^[0-9]+ passed, [0-9]+ failed' "$log"; then
  last=$(grep -E '^# running ' "$log" | tail -1 | sed 's/^# running [0-9]* - //')
  pass=$(grep -cE '^ok [0-9]+ ' "$log" || true)
  failed=$(grep -cE '^not ok [0-9]+ ' "$log" || true)
  echo "not ok - ${last:-boot} (the VM died or hung during this test; kernel log above)"
  echo "$pass passed, $((failed + 1)) failed"
  [ "$rc" != 0 ] || rc=1
fi
rm -f "$log"
echo "# in-VM suite: $(( $(date +%s) - start ))s (boot included), exit $rc"
exit $rc
