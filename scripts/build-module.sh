#!/usr/bin/env bash
# Build mptcp.ko out of tree against the cached custom kernel.
# Output: build/mptcp.ko (and build/kdir -> the kernel tree it was built for).
set -euo pipefail
. "$(dirname "$0")/env.sh"
KDIR=${KDIR:-$(bash "$MPTCP_RS_ROOT/scripts/build-kernel.sh")}
start=$(date +%s%N)
# Kbuild writes objects next to the sources; build in a copy (one per
# kernel) so the work tree stays clean and objects never mix kernels.
B="$MPTCP_RS_ROOT/build/obj-$(basename "$KDIR")"
mkdir -p "$B"
# Sources moved or deleted in the tree must not linger in the copy (rustc
# refuses a module found both as foo.rs and foo/mod.rs); tar restores the
# others with their times, so nothing unchanged is rebuilt.
find "$B" -name '*.rs' -delete
tar -C "$MPTCP_RS_ROOT" --exclude=rust/core/target -cf - Kbuild rust | tar -C "$B" -xpf -
make -s -C "$KDIR" M="$B" "${KMAKE_VARS[@]}" CONFIG_WERROR=y modules
cp "$B/mptcp.ko" "$MPTCP_RS_ROOT/build/mptcp.ko"
ln -sfn "$KDIR" "$MPTCP_RS_ROOT/build/kdir"
echo "module: build/mptcp.ko for $(cat "$KDIR/include/config/kernel.release") in $(( ($(date +%s%N) - start) / 1000000 )) ms" >&2
