#!/usr/bin/env bash
# Build our custom kernel: Debian's linux-source-6.12 + kernel/patches +
# kernel/config, with LLVM=1 and Debian's rustc.  Cached outside the repo in
# $MPTCP_RS_CACHE/kernel/<flavour>-<key>; a second run with nothing changed
# rebuilds nothing.  FLAVOUR=debug adds kernel/config/debug.config.
# Prints the kernel directory on stdout.  The tree is built in place (Rust
# build products embed their path), and is valid only once the stamp file
# .mptcp-rs-built exists.
set -euo pipefail
. "$(dirname "$0")/env.sh"

KDIR=$(kernel_dir)
# One build of a tree at a time: a second caller (another clone, a VM run
# from a snapshot) waits here, then finds the stamp, instead of deleting the
# tree under the first.  The lock is released when this script exits.
mkdir -p "$MPTCP_RS_CACHE/kernel"
exec 9> "$KDIR.lock"
if ! flock -n 9; then
  echo "kernel: waiting for another build of $KDIR" >&2
  flock 9
fi
if [ -f "$KDIR/.mptcp-rs-built" ]; then
  echo "kernel: cached $(cat "$KDIR/include/config/kernel.release") ($FLAVOUR) in $KDIR" >&2
  echo "$KDIR"; exit 0
fi

# recipe-begin (changing these lines changes the cache key)
start=$(date +%s)
rm -rf "$KDIR"; mkdir -p "$KDIR"
echo "kernel: unpacking $KSRC_TARBALL" >&2
tar -xf "$KSRC_TARBALL" -C "$KDIR" --strip-components=1
cd "$KDIR"
for p in "$MPTCP_RS_ROOT"/kernel/patches/*.patch; do
  echo "kernel: applying $(basename "$p")" >&2
  patch -p1 -s --no-backup-if-mismatch < "$p"
done
make -s "${KMAKE_VARS[@]}" tinyconfig >/dev/null
frags=("$MPTCP_RS_ROOT/kernel/config/mptcp-rs.config")
[ "$FLAVOUR" = debug ] && frags+=("$MPTCP_RS_ROOT/kernel/config/debug.config")
scripts/kconfig/merge_config.sh -m .config "${frags[@]}" >/dev/null
make -s "${KMAKE_VARS[@]}" olddefconfig >/dev/null
# Every =y of the fragments must have survived olddefconfig.
bad=0
for f in "${frags[@]}"; do
  while IFS= read -r line; do
    grep -qx "$line" .config || { echo "kernel: config lost: $line" >&2; bad=1; }
  done < <(grep -E '^CONFIG_[A-Z0-9_]+=y$' "$f")
  while IFS= read -r opt; do
    ! grep -q "^$opt=" .config || { echo "kernel: config not unset: $opt" >&2; bad=1; }
  done < <(sed -n 's/^# \(CONFIG_[A-Z0-9_]*\) is not set$/\1/p' "$f")
done
[ "$bad" = 0 ] || { echo "kernel: config fragment not satisfied" >&2; exit 1; }
make -s "${KMAKE_VARS[@]}" rustavailable >&2
echo "kernel: building bzImage with $(nproc) jobs" >&2
make -s -j"$(nproc)" "${KMAKE_VARS[@]}" bzImage modules >&2
touch .mptcp-rs-built
# recipe-end
echo "kernel: built $(cat "$KDIR/include/config/kernel.release") ($FLAVOUR) in $(( $(date +%s) - start ))s: $KDIR" >&2
echo "$KDIR"
