#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# In-guest half of `make selftests` (started by tests/selftests/run.sh via
# qemu/vm.sh): copies the built selftests to a writable /tmp, loads mptcp.ko
# if KO is set (our kernel; empty on the stock kernel), then runs each script
# under its own timeout.  Output: every script's own output between markers
#   ##ST-BEGIN <script> <timeout>
#   ##ST-END <script> rc=<exit code> secs=<seconds>
# plus "##ST-KSYM hit|miss <pattern>" for every /proc/kallsyms probe and
# "##ST-DMESG <line>" for kernel warnings; run.sh parses them.
#
# Environment: ST_DIR (built .../tools/testing/selftests, read-only is fine),
# ST_SCRIPTS ("name:timeout ..."), KO (module to insmod, optional).
set -u
ST_DIR=${ST_DIR:?} ST_SCRIPTS=${ST_SCRIPTS:?} KO=${KO:-}
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
export PATH="$W/bin:$PATH"

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

if [ -n "$KO" ]; then
  if rmmod mptcp 2>/dev/null; then echo "##ST-RMMOD ok"; else echo "##ST-RMMOD failed (busy?)"; fi
fi
echo "##ST-DONE"
