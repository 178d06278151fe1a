# SPDX-License-Identifier: GPL-2.0
# Helpers for the in-guest tests: TAP output, namespaces, transfers.
# Sourced by guest.sh; every test is a function `t_<name>` returning 0/1.

ROOT=${ROOT:?}
XFER="python3 $ROOT/tests/tools/xfer.py"
CONN="python3 $ROOT/tests/tools/conn.py"
# python3 that can `import mptcplib` (tests/tools/mptcplib.py), for inline Python
PYLIB="env PYTHONPATH=$ROOT/tests/tools python3"
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
topo_up() {
  topo_down
  ip netns add ns1; ip netns add ns2
  ip link add veth1 netns ns1 type veth peer name veth2 netns ns2
  ip -n ns1 addr add 10.0.1.1/24 dev veth1
  ip -n ns2 addr add 10.0.1.2/24 dev veth2
  ip -n ns1 addr add fd00:1::1/64 dev veth1 nodad
  ip -n ns2 addr add fd00:1::2/64 dev veth2 nodad
  ip -n ns1 link set lo up; ip -n ns2 link set lo up
  ip -n ns1 link set veth1 up; ip -n ns2 link set veth2 up
}
topo_netem() {
  ip netns exec ns1 tc qdisc add dev veth1 root netem "$@" &&
  ip netns exec ns2 tc qdisc add dev veth2 root netem "$@"
}
topo_down() { ip netns del ns1 2>/dev/null || true; ip netns del ns2 2>/dev/null || true; }

# wait_listening FILE: until a server started in the background has
# written "listening" to FILE (its stderr).
wait_listening() {
  for _ in $(seq 100); do grep -q listening "$1" 2>/dev/null && return 0; sleep 0.1; done
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
