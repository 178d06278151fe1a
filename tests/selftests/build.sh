#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build mainline's MPTCP selftest helpers (mptcp_connect, pm_nl_ctl,
# mptcp_sockopt, mptcp_inq) from the kernel tree our module is built against
# (build/kdir), without touching that tree (it is a cache shared with others):
# the files needed for `make headers` and the selftests are copied into
# build/selftests/src, the uapi headers are generated there (usr/include), and
# the helpers are built there with gcc.  Nothing of it is committed.
# Prints the selftests directory (.../tools/testing/selftests) on stdout.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
KDIR=$(readlink -f "${KDIR:-$ROOT/build/kdir}")
OUT=$ROOT/build/selftests
SRC=$OUT/src
ST=tools/testing/selftests
[ -f "$KDIR/Makefile" ] && [ -d "$KDIR/$ST/net/mptcp" ] ||
  { echo "selftests: no kernel tree at $KDIR (run make first)" >&2; exit 2; }

# What we copy; the key covers the tree's identity and every copied source.
files=(Makefile scripts include arch/x86 usr/Makefile usr/include/Makefile
       usr/include/headers_check.pl tools/include tools/arch/x86/include
       $ST/lib.mk $ST/kselftest.h $ST/kselftest_harness.h
       $ST/net/lib.sh $ST/net/net_helper.sh $ST/net/mptcp)
key=$( { echo "$KDIR"; cat "$KDIR/include/config/kernel.release" 2>/dev/null
         gcc --version | head -1
         cd "$KDIR" && find include/uapi arch/x86/include/uapi $ST/net/mptcp \
           $ST/net/lib.sh $ST/net/net_helper.sh $ST/lib.mk -type f \
           -printf '%p %s %T@\n' | sort; } | sha256sum | cut -c1-16)
if [ -f "$SRC/.built" ] && [ "$(cat "$SRC/.built")" = "$key" ]; then
  echo "selftests: helpers cached in $SRC/$ST/net/mptcp" >&2
  echo "$SRC/$ST"; exit 0
fi

start=$(date +%s)
rm -rf "$SRC"; mkdir -p "$SRC"
# Sources only: no objects, no command files, no boot images.
tar -C "$KDIR" -cf - --exclude='*.o' --exclude='*.a' --exclude='.*.cmd' \
    --exclude='*.ko' --exclude='*.rmeta' --exclude='*.rlib' --exclude=arch/x86/boot \
    --exclude="$ST/net/mptcp/*.pcap" "${files[@]}" | tar -C "$SRC" -xf -
# Run as if from a shell even when called from our own make: the selftests'
# lib.mk only defaults OUTPUT when MAKELEVEL is 0 (else it writes the
# helpers to "/mptcp_connect", ...), so reset the inherited make state and
# set OUTPUT explicitly; nothing is written outside build/selftests.
fresh_make() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES make "$@"; }
# `make headers` writes usr/include (and builds scripts/unifdef) in the copy.
fresh_make -s -C "$SRC" ARCH=x86 headers >&2
fresh_make -s -C "$SRC/$ST/net/mptcp" CC=gcc OUTPUT="$SRC/$ST/net/mptcp" >&2
for h in mptcp_connect pm_nl_ctl mptcp_sockopt mptcp_inq; do
  [ -x "$SRC/$ST/net/mptcp/$h" ] || { echo "selftests: $h not built" >&2; exit 1; }
done
echo "$key" > "$SRC/.built"
echo "selftests: helpers built from $KDIR in $(( $(date +%s) - start ))s" >&2
echo "$SRC/$ST"
