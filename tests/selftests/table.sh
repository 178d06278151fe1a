#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Print the results of a `make selftests` run side by side:
#   table.sh LOGDIR [KERNEL...]   (default: ours mainline)
# reads LOGDIR/<kernel>.tsv (from parse.awk), <kernel>.wall and <kernel>.log.
set -euo pipefail
dir=$1; shift
kernels=("$@"); [ ${#kernels[@]} -gt 0 ] || kernels=(ours mainline)
order=(mptcp_connect mptcp_connect_checksum mptcp_connect_mmap mptcp_connect_sendfile
       mptcp_sockopt diag pm_netlink simult_flows userspace_pm mptcp_join)

declare -A R N
for k in "${kernels[@]}"; do
  [ -f "$dir/$k.tsv" ] || continue
  while IFS=$'\t' read -r s p f sk ks secs rc note; do
    R[$k,$s]="$p $f $sk $ks $secs $rc"; N[$k,$s]=$note
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

printf '%-24s' ""
for k in "${kernels[@]}"; do printf ' | %-37s' "$(title "$k")"; done; echo
printf '%-24s' "script"
for k in "${kernels[@]}"; do printf ' | %5s %5s %5s %5s %6s %6s' pass fail skip ksym secs rc; done; echo
printf '%-24s' "------------------------"
for k in "${kernels[@]}"; do printf -- '-+-%s' "-------------------------------------"; done; echo
declare -A T
for s in "${order[@]}"; do
  any=0
  for k in "${kernels[@]}"; do [ -n "${R[$k,$s]:-}" ] && any=1; done
  [ $any = 1 ] || continue
  printf '%-24s' "$s"
  for k in "${kernels[@]}"; do
    if [ -n "${R[$k,$s]:-}" ]; then
      read -r p f sk ks secs rc <<< "${R[$k,$s]}"
      printf ' | %5s %5s %5s %5s %6s %6s' "$p" "$f" "$sk" "$ks" "$secs" "$rc"
      T[$k,p]=$(( ${T[$k,p]:-0} + p )); T[$k,f]=$(( ${T[$k,f]:-0} + f ))
      T[$k,s]=$(( ${T[$k,s]:-0} + sk )); T[$k,k]=$(( ${T[$k,k]:-0} + ks ))
      [[ $secs =~ ^[0-9]+$ ]] && T[$k,t]=$(( ${T[$k,t]:-0} + secs ))
    else
      printf ' | %5s %5s %5s %5s %6s %6s' - - - - - "not run"
    fi
  done
  echo
done
printf '%-24s' "total"
for k in "${kernels[@]}"; do
  printf ' | %5s %5s %5s %5s %6s %6s' "${T[$k,p]:-0}" "${T[$k,f]:-0}" "${T[$k,s]:-0}" "${T[$k,k]:-0}" "${T[$k,t]:-0}" ""
done; echo
printf '%-24s' "wall time, boots"
for k in "${kernels[@]}"; do
  read -r wall boots < "$dir/$k.wall" 2>/dev/null || { wall=-; boots=-; }
  printf ' | %-37s' "${wall}s in $boots boot(s)"
done; echo
echo
echo "pass/fail/skip: the scripts' TAP results; ksym: those skips that directly follow a"
echo "missed /proc/kallsyms probe of a mainline symbol name (mptcp_lib_kallsyms_has);"
echo "secs: the script's run time in the guest; rc: its exit status (4 = skipped, 124 = timeout)."
for k in "${kernels[@]}"; do
  for s in "${order[@]}"; do
    [ -n "${N[$k,$s]:-}" ] && echo "- $k/$s: ${N[$k,$s]}"
  done
  [ -f "$dir/$k.info" ] && echo "- $k: $(cat "$dir/$k.info")"
  rm=$(sed -n 's/^##ST-RMMOD //p' "$dir/$k.log" 2>/dev/null | tail -1)
  [ -n "$rm" ] && echo "- $k: rmmod mptcp at the end: $rm"
done
true
