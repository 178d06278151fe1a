#!/usr/bin/env bash
# Boot our kernel and run the in-VM suite (tests/vm/guest.sh) in it.
# ONLY="test names" runs a subset, REPEAT=n runs each n times, TRACE=1
# timestamps every command of a test, VM_APPEND adds kernel arguments;
# FLAVOUR=debug runs it on the debug kernel.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
start=$(date +%s)
rc=0
# FLAVOUR=debug (build/kdir then points at the debug kernel): KASAN's
# shadow memory needs more guest memory.
# KASAN/lockdep make every test 1.5-3x slower: the guest's time limit too.
mem=2G timeout=1800; [ "${FLAVOUR:-default}" = debug ] && mem=3G timeout=5400
# A hostile-peer test (tests/hostile) can freeze the guest outright (a CPU
# spinning in softirq); a guest silent this long during one is killed.
HOSTILE_SILENCE=${HOSTILE_SILENCE:-300}
log=$(mktemp /tmp/mptcp-rs-vm-test.XXXXXX)
# Its own process group, so the watchdog can end the VM and nothing else.
setsid "$ROOT/qemu/vm.sh" --kernel ours --mem "$mem" --timeout "$timeout" ${VM_APPEND:+--append "$VM_APPEND"} -- env ONLY="${ONLY:-}" REPEAT="${REPEAT:-1}" TRACE="${TRACE:-}" bash "$ROOT/tests/vm/guest.sh" \
  > "$log" 2>&1 &
vm=$!
tail -f -n +1 --pid=$vm "$log" &
shown=$!
size=0 still=0
while kill -0 $vm 2>/dev/null; do
  sleep 5
  s=$(stat -c %s "$log")
  if [ "$s" != "$size" ]; then size=$s still=0; continue; fi
  still=$((still + 5))
  cur=$(grep -E '^(# running |ok |not ok )' "$log" | tail -1 || true)
  if [[ $cur == "# running "*" - hostile_"* ]] && [ $still -ge "$HOSTILE_SILENCE" ]; then
    echo "# watchdog: no output for ${still}s during ${cur#\# running }: ending the VM" >> "$log"
    kill -TERM -- -$vm 2>/dev/null || true
    sleep 10
    kill -KILL -- -$vm 2>/dev/null || true
    break
  fi
done
wait $vm || rc=$?
wait $shown 2>/dev/null || true
# A guest that died (a kernel stall, or the watchdog above) or hung until
# vm.sh's timeout printed no summary: the test it was running failed.
if ! grep -qE '^[0-9]+ passed, [0-9]+ failed' "$log"; then
  last=$(grep -E '^# running ' "$log" | tail -1 | sed 's/^# running [0-9]* - //')
  pass=$(grep -cE '^ok [0-9]+ ' "$log" || true)
  failed=$(grep -cE '^not ok [0-9]+ ' "$log" || true)
  echo "not ok - ${last:-boot} (the VM died or hung during this test; its output above)"
  echo "$pass passed, $((failed + 1)) failed"
  [ "$rc" != 0 ] || rc=1
fi
rm -f "$log"
echo "# in-VM suite: $(( $(date +%s) - start ))s (boot included), exit $rc"
exit $rc
