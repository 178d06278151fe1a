#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Host-side check of tests/selftests/kallsyms-probes.tsv (part of `make
# host-test`, takes well under a second):
#  - every row has the 7 tab-separated columns, sense has|doesnt_have,
#    present yes|no|kernel, a probe that names one symbol, a valid ERE (or
#    "-") in cases, and is listed once;
#  - present=yes names a test of ours that exists: a t_* function of
#    tests/vm/guest.sh or tests/hostile/*.sh, or a path under tests/
#    ("present" means implemented AND tested);
#  - present=kernel: when the kernel is built (build/kdir/System.map), the
#    probe matches a symbol there;
#  - when the kernel tree is there (build/kdir), every probe of mainline's
#    selftests (mptcp_lib_kallsyms_has / _doesnt_have "...") has a row with
#    that sense, so a kernel upgrade that adds a probe is noticed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$ROOT/tests/selftests/kallsyms-probes.tsv
KDIR=${KDIR:-$ROOT/build/kdir}
err=0
bad() { echo "check-probes: $T: $*" >&2; err=1; }

tfuncs=$( { cat "$ROOT/tests/vm/guest.sh"; cat "$ROOT"/tests/hostile/*.sh 2>/dev/null || true; } |
         sed -n 's/^[[:space:]]*\(t_[A-Za-z0-9_]*\)[[:space:]]*().*/\1/p')
declare -A seen
rows=0 ln=0 header=0
while IFS= read -r line || [ -n "$line" ]; do
  ln=$((ln + 1))
  case $line in ''|'#'*) continue ;; esac
  IFS=$'\t' read -r -a c <<< "$line"
  if [ "$header" = 0 ]; then
    [ "$line" = $'probe\tsense\tscripts\tcases\tfeature\ttest\tpresent' ] ||
      bad "line $ln: header must be: probe sense scripts cases feature test present (tabs)"
    header=1; continue
  fi
  rows=$((rows + 1))
  n=$(awk -F'\t' '{ print NF }' <<< "$line")
  [ "$n" = 7 ] || { bad "line $ln: $n columns, not 7"; continue; }
  probe=${c[0]} sense=${c[1]} cases=${c[3]} test=${c[5]} present=${c[6]}
  for v in "${c[@]}"; do [ -n "$v" ] || bad "line $ln: empty column (use -)"; done
  [ -z "${seen[$probe]:-}" ] || bad "line $ln: '$probe' listed twice"
  seen[$probe]=$sense
  sym=${probe#T }; sym=${sym%\$}
  [[ $sym =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || bad "line $ln: probe '$probe' is not [T ]symbol[\$]"
  case $sense in has|doesnt_have) ;; *) bad "line $ln: sense '$sense' (has|doesnt_have)" ;; esac
  if [ "$cases" != - ]; then
    rc=0; grep -Eq -- "$cases" /dev/null 2>/dev/null || rc=$?
    [ "$rc" = 1 ] || bad "line $ln: cases '$cases' is not a valid ERE"
  fi
  case $present in
    yes)
      if [ "$test" = - ]; then
        bad "line $ln: '$probe' present=yes needs a test of ours"
      elif ! grep -qx "t_${test#t_}" <<< "$tfuncs" && [ ! -e "$ROOT/tests/$test" ] &&
           [ ! -e "$ROOT/$test" ]; then
        bad "line $ln: '$probe' present=yes names test '$test': no t_${test#t_} in tests/vm/guest.sh or tests/hostile/, no file tests/$test"
      fi ;;
    no) ;;
    kernel)
      if [ -f "$KDIR/System.map" ] && ! grep -q -- " $probe" "$KDIR/System.map"; then
        bad "line $ln: '$probe' present=kernel but not in $KDIR/System.map"
      fi ;;
    *) bad "line $ln: present '$present' (yes|no|kernel)" ;;
  esac
done < "$T"
[ "$rows" -gt 0 ] || bad "no rows"

# Every probe of mainline's scripts has a row with its sense.
ST=$KDIR/tools/testing/selftests/net/mptcp
if [ -d "$ST" ]; then
  while read -r fn probe; do
    want=has; [ "$fn" = mptcp_lib_kallsyms_doesnt_have ] && want=doesnt_have
    if [ -z "${seen[$probe]:-}" ]; then
      bad "mainline probes '$probe' ($fn in $ST): no row"
    elif [ "${seen[$probe]}" != "$want" ]; then
      bad "mainline probes '$probe' with $fn: sense should be $want"
    fi
  done < <(cat "$ST"/*.sh | grep -o 'mptcp_lib_kallsyms_[a-z_]* "[^"$][^"]*"' |
           sed 's/^\([a-z_]*\) "\(.*\)"$/\1 \2/' | sort -u)
fi

[ "$err" = 0 ] && echo "check-probes: $rows rows of $(basename "$T") ok"
exit $err
