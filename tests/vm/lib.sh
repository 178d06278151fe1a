# SPDX-License-Identifier: GPL-2.0
# Helpers for the in-guest tests: TAP output, namespaces, transfers.
# Sourced by guest.sh; every test is a function `t_<name>` returning 0/1.

ROOT=${ROOT:?}
# The Python tools (stdlib only) run from a copy in the guest's /tmp: the
# 9p root is read-only, and a writable __pycache__ saves compiling mptcplib
# at every start.  PY skips site (-S): no scan of dist-packages.  Under TCG
# a Python start costs ~0.3-0.4 s, and the suite starts several hundred.
TOOLS=/tmp/mptcp-rs-tools
rm -rf "$TOOLS" && cp -r "$ROOT/tests/tools" "$TOOLS"
PY="/usr/bin/python3 -S"
XFER="$PY $TOOLS/xfer.py"
CONN="$PY $TOOLS/conn.py"
# python3 that can `import mptcplib` (tests/tools/mptcplib.py), for inline Python
PYLIB="env PYTHONPATH=$TOOLS $PY"
TAP_N=0 TAP_PASS=0 TAP_FAIL=0

note() { echo "# $*"; }
# Tests run in a subshell (tap_run), so fail ends the test.
fail() { echo "FAIL: $*"; exit 1; }

tap_run() {  # tap_run NAME FUNC [ARGS...]
  local name=$1; shift
  local t0=$(date +%s) rc=0
  TAP_N=$((TAP_N + 1))
  # If the kernel dies in the test, run.sh names it from this line.
  echo "# running $TAP_N - $name"
  # TRACE=1 (make vm-test): every command of the test with its time, to
  # see where a slow test spends it.
  if [ -n "${TRACE:-}" ]; then
    ( PS4='+ ${EPOCHREALTIME} '; set -x; "$@" ) > /tmp/test.out 2>&1 || rc=$?
  else
    ( "$@" ) > /tmp/test.out 2>&1 || rc=$?
  fi
  sed 's/^/#   /' /tmp/test.out
  if [ "$rc" = 0 ]; then
    TAP_PASS=$((TAP_PASS + 1)); echo "ok $TAP_N - $name ($(( $(date +%s) - t0 ))s)"
  else
    TAP_FAIL=$((TAP_FAIL + 1)); echo "not ok $TAP_N - $name ($(( $(date +%s) - t0 ))s)"
  fi
}

# Two namespaces joined by a veth pair: ns1 10.0.1.1 / fd00:1::1,
# ns2 10.0.1.2 / fd00:1::2.  Optional netem on both ends: topo_netem "...".
# Under TCG every process start costs ~0.1-0.2 s, so the commands go to
# `ip -batch` (3 processes instead of 11).
topo_up() {
  topo_down
  veth_pair ns1 veth1 10.0.1.1/24 fd00:1::1/64 ns2 veth2 10.0.1.2/24 fd00:1::2/64
}
# veth_pair NS1 DEV1 V4 V6 NS2 DEV2 V4 V6: fresh namespaces NS1 and NS2 (lo
# up) joined by veth DEV1 <-> DEV2, each end up with its two addresses
# (IPv6 without DAD).  Non-zero if a step failed.
veth_pair() {
  printf 'netns add %s\nnetns add %s\nlink add %s netns %s type veth peer name %s netns %s\n' \
    "$1" "$5" "$2" "$1" "$6" "$5" | ip -b - || return 1
  printf 'addr add %s dev %s\naddr add %s dev %s nodad\nlink set lo up\nlink set %s up\n' \
    "$3" "$2" "$4" "$2" "$2" | ip -n "$1" -b - || return 1
  printf 'addr add %s dev %s\naddr add %s dev %s nodad\nlink set lo up\nlink set %s up\n' \
    "$7" "$6" "$8" "$6" "$6" | ip -n "$5" -b -
}
topo_netem() {
  ip netns exec ns1 tc qdisc add dev veth1 root netem "$@" &&
  ip netns exec ns2 tc qdisc add dev veth2 root netem "$@"
}
topo_down() { netns_del ns1 ns2; }
# netns_del NS...: delete those of the namespaces that exist (no process
# for those that do not).
netns_del() {
  local ns cmds=""
  for ns in "$@"; do [ -e "/run/netns/$ns" ] && cmds+="netns del $ns"$'\n'; done
  [ -z "$cmds" ] || printf '%s' "$cmds" | ip -force -b - 2>/dev/null || true
}

# nap SECONDS: sleep without starting a process (read times out on a pipe
# nobody writes).
exec {NAP_FD}<> <(:)
nap() { read -r -t "$1" -u "$NAP_FD" _ || true; }

# wait_listening FILE [TRIES]: until a server started in the background has
# written "listening" to FILE (its stderr); checks every 0.05 s, TRIES
# times (default 600: 30 s).  Builtins only: the poll costs no process.
# The caller empties FILE before starting the server: the background job
# opens (truncates) it at some point after `&` returns, so a "listening" left
# by an earlier server could otherwise be read first.
wait_listening() {
  local i l
  for ((i = 0; i < ${2:-600}; i++)); do
    if [ -s "$1" ]; then
      while IFS= read -r l || [ -n "$l" ]; do
        [[ $l == *listening* ]] && return 0
      done < "$1"
    fi
    nap 0.05
  done
  return 1
}

# xfer_check FAMILY ADDR BYTES_C2S BYTES_S2C [PROTO_SERVER PROTO_CLIENT [COUNT]]
# Runs the server in ns2 and the client in ns1 (COUNT concurrent
# connections, default 1); checks both directions of every connection
# byte-exactly and prints what the sockets reported.
xfer_check() {
  xfer_run "$@" || return 1
  $PYLIB - "$3" "$4" "${7:-1}" <<'PY'
import sys, mptcplib as ml
c2s, s2c, n = map(int, sys.argv[1:])
load = lambda f: {r["port"]: r for r in ml.json_lines(f)}
cli, srv = load("/tmp/cli.json"), load("/tmp/srv.json")
bad = 0
for port in sorted(cli.keys() | srv.keys()):
    c, s = cli.get(port), srv.get(port)
    if n == 1 or not (c and s):
        print(f"client: {c}\nserver: {s}")
    ok = (c and s and c["sent"] == c2s == s["recv"] and c["sent_sha"] == s["recv_sha"] and
          s["sent"] == s2c == c["recv"] and s["sent_sha"] == c["recv_sha"])
    if not ok:
        bad += 1
        if n > 1 and c and s:
            print(f"port {port} differs:\nclient: {c}\nserver: {s}")
if n > 1:
    print(f"{n - bad} of {n} connections byte-exact both ways")
if len(cli) != n or len(srv) != n:
    print(f"{len(cli)} client and {len(srv)} server connections, want {n}")
    bad += 1
sys.exit(1 if bad else 0)
PY
}

# xfer_run: as xfer_check, without the check (results in /tmp/{cli,srv}.json).
# SFAM=F runs the server with family F (default: FAMILY, as the client).
xfer_run() {
  local fam=$1 addr=$2 c2s=$3 s2c=$4 ps=${5:-mptcp} pc=${6:-mptcp} n=${7:-1}
  local port=$((10000 + RANDOM % 20000))
  : > /tmp/srv.err  # emptied first: see wait_listening
  ip netns exec ns2 $XFER server --family "${SFAM:-$fam}" --port "$port" --proto "$ps" --send "$s2c" \
    --count "$n" --timeout "${XFER_TIMEOUT:-300}" > /tmp/srv.json 2>/tmp/srv.err &
  local spid=$!
  wait_listening /tmp/srv.err
  ip netns exec ns1 $XFER client --family "$fam" --addr "$addr" --port "$port" --proto "$pc" \
    --send "$c2s" --count "$n" --timeout "${XFER_TIMEOUT:-300}" > /tmp/cli.json 2>/tmp/cli.err || { cat /tmp/cli.err; kill $spid; return 1; }
  wait $spid || { cat /tmp/srv.err; return 1; }
}

# mib_diff "BEFORE" "AFTER": the per-counter difference of two mib lines.
mib_diff() {
  local -A b; local kv out=""
  for kv in $1; do b[${kv%=*}]=${kv#*=}; done
  for kv in $2; do out+="${kv%=*}=$(( ${kv#*=} - ${b[${kv%=*}]:-0} )) "; done
  echo "${out% }"
}

# Kernel log lines that mean a test broke the kernel.
BAD_RE='context re-entered|WARNING:|BUG:|Oops|Call Trace|refcount_t|UBSAN|KASAN|rust_panic|panicked'
dmesg_bad() { dmesg | grep -E "$BAD_RE" || true; }
# dmesg_bad_since N: dmesg_bad for the lines after the first N
# (N from `dmesg | wc -l` when the test started).
dmesg_bad_since() { dmesg | tail -n +$(($1 + 1)) | grep -E "$BAD_RE" || true; }
