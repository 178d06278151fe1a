#!/usr/bin/env bash
# The mainline reference kernel for `make bench`: the same Debian source,
# toolchain and config fragment as our kernel (scripts/build-kernel.sh), but
# with none of our patches, so mainline's net/mptcp is built in.  Comparing
# ours with it isolates the MPTCP implementations from config differences
# (Debian's stock kernel differs in mitigations, debug options, ...).
# Runs build-kernel.sh from a scratch copy of the tree whose patch series is
# one empty patch; cached as $MPTCP_RS_CACHE/kernel/reference-<key>.
# Prints the kernel directory on stdout.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/scripts" "$tmp/kernel/patches" "$tmp/kernel/config"
cp "$ROOT/scripts/env.sh" "$ROOT/scripts/build-kernel.sh" "$tmp/scripts/"
cp "$ROOT"/kernel/config/*.config "$tmp/kernel/config/"
: > "$tmp/kernel/patches/0000-none.patch"
FLAVOUR=reference bash "$tmp/scripts/build-kernel.sh"
