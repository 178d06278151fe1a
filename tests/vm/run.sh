#!/usr/bin/env bash
# Boot our kernel and run the in-VM suite (tests/vm/guest.sh) in it.
# ONLY="test names" runs a subset.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
start=$(date +%s)
rc=0
"$ROOT/qemu/vm.sh" --kernel ours -- env ONLY="${ONLY:-}" bash "$ROOT/tests/vm/guest.sh" || rc=$?
echo "# in-VM suite: $(( $(date +%s) - start ))s (boot included), exit $rc"
exit $rc
