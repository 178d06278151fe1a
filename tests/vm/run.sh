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
"$ROOT/qemu/vm.sh" --kernel ours --mem "$mem" -- env ONLY="${ONLY:-}" bash "$ROOT/tests/vm/guest.sh" || rc=$?
echo "# in-VM suite: $(( $(date +%s) - start ))s (boot included), exit $rc"
exit $rc
