#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Print the results of a `make selftests` run side by side:
#   table.sh LOGDIR [KERNEL...]   (default: ours mainline)
# reads LOGDIR/<kernel>.tsv (from parse.awk), <kernel>.wall and <kernel>.log.
# The "gated" column: TAP cases gated by a /proc/kallsyms feature probe
# (kallsyms-probes.tsv), as "n: passed/failed/absent".
set -euo pipefail
dir=$1; shift
kernels=("$@"); [ ${#kernels[@]} -gt 0 ] || kernels=(ours mainline)
order=(mptcp_connect mptcp_connect_checksum mptcp_connect_mmap mptcp_connect_sendfile
       mptcp_sockopt diag pm_netlink simult_flows userspace_pm mptcp_join)

declare -A R N
for k in "${kernels[@]}"; do
  [ -f "$dir/$k.tsv" ] || continue
  while IFS=$'\t' read -r s p f sk g gp gf ga secs rc note; do
    R[$k,$s]="$p $f $sk $g $gp $gf $ga $secs $rc"; N[$k,$s]=$note
  done < "$dir/$k.tsv"
done

title() {
  local k=$1 rel wall boots
  rel=$(sed -n 's/^##ST-KERNEL \([^ ]*\).*/\1/p' "$dir/$k.log" 2>/dev/null | head -1)
  case $k in
    ours) echo "ours: ${rel:-?} + mptcp.ko" ;;
    mainline) echo "mainline: ${rel:-?}" ;;
    *) echo "$k" ;;
  esac
}

gated() {  # gated N P F A: "N: P/F/A", or "-" when no case was gated
  if [ "$1" = 0 ]; then echo -; else echo "$1: $2/$3/$4"; fi
}
W=45  # width of one kernel's columns
printf '%-24s' ""
for k in "${kernels[@]}"; do printf " | %-${W}s" "$(title "$k")"; done; echo
printf '%-24s' "script"
for k in "${kernels[@]}"; do printf ' | %5s %5s %5s %13s %6s %6s' pass fail skip "gated: p/f/a" secs rc; done; echo
printf '%-24s' "------------------------"
for k in "${kernels[@]}"; do printf -- '-+-%s' "$(printf '%*s' $W '' | tr ' ' -)"; done; echo
declare -A T
for s in "${order[@]}"; do
  any=0
  for k in "${kernels[@]}"; do [ -n "${R[$k,$s]:-}" ] && any=1; done
  [ $any = 1 ] || continue
  printf '%-24s' "$s"
  for k in "${kernels[@]}"; do
    if [ -n "${R[$k,$s]:-}" ]; then
      read -r p f sk g gp gf ga secs rc <<< "${R[$k,$s]}"
      printf ' | %5s %5s %5s %13s %6s %6s' "$p" "$f" "$sk" "$(gated "$g" "$gp" "$gf" "$ga")" "$secs" "$rc"
      T[$k,p]=$(( ${T[$k,p]:-0} + p )); T[$k,f]=$(( ${T[$k,f]:-0} + f ))
      T[$k,s]=$(( ${T[$k,s]:-0} + sk )); T[$k,g]=$(( ${T[$k,g]:-0} + g ))
      T[$k,gp]=$(( ${T[$k,gp]:-0} + gp )); T[$k,gf]=$(( ${T[$k,gf]:-0} + gf ))
      T[$k,ga]=$(( ${T[$k,ga]:-0} + ga ))
      [[ $secs =~ ^[0-9]+$ ]] && T[$k,t]=$(( ${T[$k,t]:-0} + secs ))
    else
      printf ' | %5s %5s %5s %13s %6s %6s' - - - - - "not run"
    fi
  done
  echo
done
printf '%-24s' "total"
for k in "${kernels[@]}"; do
  printf ' | %5s %5s %5s %13s %6s %6s' "${T[$k,p]:-0}" "${T[$k,f]:-0}" "${T[$k,s]:-0}" \
    "$(gated "${T[$k,g]:-0}" "${T[$k,gp]:-0}" "${T[$k,gf]:-0}" "${T[$k,ga]:-0}")" "${T[$k,t]:-0}" ""
done; echo
printf '%-24s' "wall time, boots"
for k in "${kernels[@]}"; do
  { read -r wall boots < "$dir/$k.wall"; } 2>/dev/null || { wall=-; boots=-; }
  printf " | %-${W}s" "${wall}s in $boots boot(s)"
done; echo
echo
echo "pass/fail/skip: the scripts' TAP results; gated: of those, the cases gated by a"
echo "/proc/kallsyms feature probe (mptcp_lib_kallsyms_has & co., tests/selftests/kallsyms-probes.tsv),"
echo "as n: ran and passed / ran and failed / skipped because the probe said the feature is absent;"
echo "on ours the probes are answered from that table (present = implemented and tested),"
echo "on mainline from its symbols.  secs: the script's run time in the guest; rc: its exit"
echo "status (4 = skipped, 124 = timeout)."
for k in "${kernels[@]}"; do
  for s in "${order[@]}"; do
    [ -n "${N[$k,$s]:-}" ] && echo "- $k/$s: ${N[$k,$s]}"
  done
  [ -f "$dir/$k.info" ] && echo "- $k: $(cat "$dir/$k.info")"
  pr=$(awk '/^##ST-PROBE (found|not-found) / && !seen[$0]++ {
              p = $0; sub(/^##ST-PROBE [^ ]+ /, "", p); a[$2] = a[$2] (a[$2] == "" ? "" : ", ") "`" p "`" }
            END { if (a["found"] a["not-found"] != "")
                    printf "symbol found: %s; not found: %s", (a["found"] == "" ? "none" : a["found"]), (a["not-found"] == "" ? "none" : a["not-found"]) }' \
        "$dir/$k.log" 2>/dev/null)
  [ -n "$pr" ] && echo "- $k: kallsyms probes answered from kallsyms-probes.tsv: $pr"
  rm=$(sed -n 's/^##ST-RMMOD //p' "$dir/$k.log" 2>/dev/null | tail -1)
  [ -n "$rm" ] && echo "- $k: rmmod mptcp at the end: $rm"
done
true
