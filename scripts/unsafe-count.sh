#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The `unsafe` count per glue file (issue 9 asks for it in closing notes):
# `unsafe {` blocks and `unsafe fn`/`unsafe extern "C" fn` definitions, as a
# markdown table, with the total and the part outside rust/sys (the safe
# layer, the only place meant to hold unsafe code).  The core (rust/core)
# forbids unsafe code and is not listed.
set -euo pipefail
cd "$(dirname "$0")/../rust"
echo "| file | lines | unsafe blocks | unsafe fns |"
echo "|---|---|---|---|"
tb=0 tf=0 ob=0 of=0
for f in $(find . -name '*.rs' -not -path './core/*' | sed 's|^\./||' | sort); do
  b=$(grep -c 'unsafe {' "$f" || true)
  n=$(grep -cE 'unsafe (extern "C" )?fn ' "$f" || true)
  echo "| $f | $(wc -l < "$f") | $b | $n |"
  tb=$((tb + b)) tf=$((tf + n))
  case $f in sys/*) ;; *) ob=$((ob + b)) of=$((of + n)) ;; esac
done
echo "| **total** | | $tb | $tf |"
echo "| outside rust/sys | | $ob | $of |"
