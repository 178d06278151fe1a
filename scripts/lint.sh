#!/usr/bin/env bash
# Lints with the toolchain the module is built with (Debian's rustc-web
# 1.96): rustfmt on the glue and the core (rustfmt.toml: the kernel's
# settings), clippy on the glue as the kernel runs it (CLIPPY=1; settings
# in .clippy.toml), any warning failing.  The core's own clippy (host
# target, all tests) runs with the host tests.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$MPTCP_RS_ROOT"
rc=0
files=(rust/*.rs rust/subflow/*.rs rust/msk/*.rs rust/core/src/*.rs rust/core/src/*/*.rs rust/core/tests/*.rs rust/core/tests/*/*.rs)
if ! /usr/bin/rustfmt --check --config-path rustfmt.toml "${files[@]}" > /tmp/mptcp-rs-rustfmt.log 2>&1; then
  echo "lint: rustfmt would change $(grep -c '^Diff in' /tmp/mptcp-rs-rustfmt.log) places (see /tmp/mptcp-rs-rustfmt.log; fix: /usr/bin/rustfmt --config-path rustfmt.toml FILES)"
  rc=1
fi
KDIR=${KDIR:-$(bash scripts/build-kernel.sh)}
B=$MPTCP_RS_ROOT/build/clippy-$(basename "$KDIR")
rm -rf "$B"; mkdir -p "$B"
tar --exclude=rust/core/target -cf - Kbuild rust | tar -C "$B" -xpf -
make -s -C "$KDIR" M="$B" "${KMAKE_VARS[@]}" CLIPPY=1 CLIPPY_DRIVER=/usr/bin/clippy-driver \
  CLIPPY_CONF_DIR="$MPTCP_RS_ROOT" modules > /tmp/mptcp-rs-clippy.log 2>&1 || { cat /tmp/mptcp-rs-clippy.log; rc=1; }
if grep -qE '^(warning|error)' /tmp/mptcp-rs-clippy.log; then
  grep -A12 -E '^(warning|error)' /tmp/mptcp-rs-clippy.log | head -100
  echo "lint: clippy found $(grep -cE '^(warning|error)(\[|:)' /tmp/mptcp-rs-clippy.log) problems in the glue"
  rc=1
fi
[ $rc = 0 ] && echo "lint: rustfmt and clippy clean (glue and core)"
exit $rc
