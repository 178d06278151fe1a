#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# In-guest half of `make selftests` (started by tests/selftests/run.sh via
# qemu/vm.sh): copies the built selftests to a writable /tmp, loads mptcp.ko
# if KO is set (our kernel; empty on the stock kernel), then runs each script
# under its own timeout.  Output: every script's own output between markers
#   ##ST-BEGIN <script> <timeout>
#   ##ST-END <script> rc=<exit code> secs=<seconds>
# plus "##ST-KSYM hit|miss <pattern>" for every /proc/kallsyms probe,
# "##ST-PROBE found|not-found <probe>" for every row of the probe table (our
# kernel only, see below) and "##ST-DMESG <line>" for kernel warnings;
# run.sh parses them.
#
# Environment: ST_DIR (built .../tools/testing/selftests, read-only is fine),
# ST_SCRIPTS ("name:timeout ..."), KO (module to insmod, optional),
# ST_PROBES (tests/selftests/kallsyms-probes.tsv; used only with KO),
# ST_SS (an `ss` to use instead of the system's, optional: tests/selftests/ss.sh).
set -u
ST_DIR=${ST_DIR:?} ST_SCRIPTS=${ST_SCRIPTS:?} KO=${KO:-} ST_PROBES=${ST_PROBES:-}
ST_SS=${ST_SS:-}
W=/tmp/selftests

echo "##ST-KERNEL $(uname -r) cpus=$(nproc)"
rm -rf "$W"; mkdir -p "$W/net" "$W/bin"
cp -a "$ST_DIR/net/mptcp" "$W/net/"
cp -a "$ST_DIR/net/lib.sh" "$ST_DIR/net/net_helper.sh" "$W/net/"
# Some scripts (the mptcp_connect_*.sh wrappers) are not executable in the
# source tarball; the kselftest runner would run them through their #! line.
chmod +x "$W"/net/mptcp/*.sh

# Observe (never change) the scripts' /proc/kallsyms feature probes
# (mptcp_lib_kallsyms_has & co. are `grep -q " sym" /proc/kallsyms`): a grep
# first on PATH runs the real grep with the same arguments, returns its exit
# status and output unchanged, and reports the probe on stderr, so run.sh can
# tell which [SKIP] follows a missed probe.
realgrep=$(command -v grep)
cat > "$W/bin/grep" <<EOF
#!/bin/sh
eval "last=\\\${\$#}"
[ "\$last" = /proc/kallsyms ] || exec $realgrep "\$@"
$realgrep "\$@"; rc=\$?
eval "pat=\\\${\$((\$# - 1))}"
if [ \$rc = 0 ]; then r=hit; else r=miss; fi
echo "##ST-KSYM \$r \$pat" >&2
exit \$rc
EOF
chmod +x "$W/bin/grep"
# diag.sh reads MPTCP_INFO's mptcpi_last_* through `ss -iM` (iproute2 >= 6.10).
[ -z "$ST_SS" ] || cp "$ST_SS" "$W/bin/ss"
export PATH="$W/bin:$PATH"
echo "##ST-SS $(ss -V 2>&1)"

# Kernel problems worth a line in the table.
dmesg_bad() {
  dmesg | grep -E 'WARNING:|BUG:|Oops|general protection|refcount_t|KASAN|UBSAN|kmemleak|lockdep|INFO: task .* blocked|rcu.*stall' || true
}

if [ -n "$KO" ]; then
  dmesg -C
  if ! insmod "$KO"; then
    echo "##ST-FATAL insmod $KO failed"; exit 1
  fi
  echo "##ST-MODULE $(lsmod | grep '^mptcp ' || echo 'not listed')"
fi

# Our kernel only: answer the scripts' kallsyms feature probes from the
# table in the repo (ST_PROBES), not from symbol names (our module's are
# other names, and print as "name\t[mptcp]", which no '$'-anchored probe
# matches).  The scripts read a copy of /proc/kallsyms, taken with the
# module loaded and bind-mounted over it while they run: the lines matching
# a row's probe are dropped, and one "ffffffffc0000000 T <symbol>" line is
# added where the probe must find the symbol (sense has + present=yes,
# sense doesnt_have + present=no); present=kernel rows keep the real lines.
probes_mounted=0
if [ -n "$KO" ] && [ -n "$ST_PROBES" ]; then
  [ -r "$ST_PROBES" ] || { echo "##ST-FATAL no probe table $ST_PROBES"; exit 1; }
  drop=() add=() rows=()
  while IFS=$'\t' read -r probe sense _ _ _ _ present _; do
    case $probe in ''|'#'*|probe) continue ;; esac
    rows+=("$probe")
    [ "$present" = kernel ] && continue
    drop+=(-e " $probe")
    sym=${probe#T }; sym=${sym%\$}
    if { [ "$sense" = has ] && [ "$present" = yes ]; } ||
       { [ "$sense" = doesnt_have ] && [ "$present" != yes ]; }; then
      add+=("ffffffffc0000000 T $sym")
    fi
  done < "$ST_PROBES"
  cat /proc/kallsyms > "$W/kallsyms.real"
  { if [ ${#drop[@]} -gt 0 ]; then $realgrep -v "${drop[@]}" "$W/kallsyms.real"
    else cat "$W/kallsyms.real"; fi
    [ ${#add[@]} -eq 0 ] || printf '%s\n' "${add[@]}"; } > "$W/kallsyms"
  mount --bind "$W/kallsyms" /proc/kallsyms ||
    { echo "##ST-FATAL mount --bind $W/kallsyms /proc/kallsyms failed"; exit 1; }
  probes_mounted=1
  # What the scripts will find: the probe exactly as mptcp_lib.sh runs it.
  for probe in "${rows[@]}"; do
    if $realgrep -q " $probe" /proc/kallsyms; then r=found; else r=not-found; fi
    echo "##ST-PROBE $r $probe"
  done
fi

# No stale namespaces or processes from one script into the next.
cleanup() {
  ip -all netns delete 2>/dev/null || true
  rm -f /tmp/tmp.* 2>/dev/null || true
}

cd "$W/net/mptcp"
for ent in $ST_SCRIPTS; do
  name=${ent%%:*} to=${ent#*:}
  cleanup
  dmesg -C
  echo "##ST-BEGIN $name $to"
  t0=$(date +%s)
  # timeout (not --foreground) kills the script's whole process group;
  # `| cat` keeps stdout a pipe (no colours) like under the kselftest runner.
  timeout -k 20 "$to" "./$name.sh" 2>&1 < /dev/null | cat
  rc=${PIPESTATUS[0]}
  secs=$(( $(date +%s) - t0 ))
  dmesg_bad | sed 's/^/##ST-DMESG /'
  echo "##ST-END $name rc=$rc secs=$secs"
done
cleanup
[ "$probes_mounted" = 0 ] || umount /proc/kallsyms || echo "##ST-PROBE umount failed"

if [ -n "$KO" ]; then
  if rmmod mptcp 2>/dev/null; then echo "##ST-RMMOD ok"; else echo "##ST-RMMOD failed (busy?)"; fi
fi
echo "##ST-DONE"
