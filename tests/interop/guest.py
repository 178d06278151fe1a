#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""In-guest half of `make interop`; qemu/twovm.sh runs it on both VMs.

Environment: TWOVM_SIDE (a|b), TWOVM_PEER_ID, TWOVM_KERNEL, TWOVM_IFS (from
twovm.sh); INTEROP_CASES: space-separated DIR:CSUM:BYTES with DIR a2b (A is
the client, B the server) or b2a, CSUM 0, 1 or x (checksums on, and the
server's link rewrites one payload octet of each IPv4 data packet of 1 KiB
and more it sends: tc pedit, TCP checksum fixed up, so only the DSS checksum
sees it; the server's first 500 octets go out alone, so one checksum passes
before and the client answers with MP_FAIL), or y (the same rewriting from
the first packet on: the client falls back without MP_FAIL); INTEROP_PORT (control port; case k uses PORT+1+k);
INTEROP_FAMILY (4|6|4m: IPv4 via v4-mapped AF_INET6 sockets); INTEROP_TIMEOUT (seconds: socket operations, waits);
INTEROP_PCAP=1: capture each case's headers (tcpdump on the link) and print
tests/tools/dss_trace.py's summary of its mappings ("TRACE" lines).

The two sides keep in step over a plain-TCP control connection on link 0
(A listens on INTEROP_PORT): per case the server sends "ready K" once it
listens, the client connects only then, and both send "done K" and wait for
the other's before the next case (a client that fails early sends "done K"
at once, so the server stops waiting for it).

Per case: set net.mptcp.checksum_enabled, snapshot `nstat -asz`, run the
transfer with tests/tools/xfer.py's stream (both directions BYTES,
IPPROTO_MPTCP), wait for the peer, snapshot again, print one line
"INTEROP {json}" with what the socket reported and the MPTcpExt deltas.
"""
import os, select, socket, subprocess, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import mptcplib as ml  # noqa: E402
import xfer  # noqa: E402

SIDE = os.environ["TWOVM_SIDE"]
PEER = os.environ["TWOVM_PEER_ID"]
KERNEL = os.environ.get("TWOVM_KERNEL", "?")
FAMILY = os.environ.get("INTEROP_FAMILY", "4")
PORT = int(os.environ.get("INTEROP_PORT", "31000"))
TIMEOUT = float(os.environ.get("INTEROP_TIMEOUT", "60"))
CASES = [c.split(":") for c in os.environ["INTEROP_CASES"].split()]
FAM = ml.family(FAMILY)
PEER_ADDR = {"4": f"10.0.1.{PEER}", "6": f"fd00:1::{PEER}", "4m": f"::ffff:10.0.1.{PEER}"}[FAMILY]
# 4m: IPv4 through AF_INET6 sockets (v4-mapped addresses, dual-stack [::]).
OPTS = [ml.DUAL_STACK] if FAMILY == "4m" else []


class Ctrl:
    """Line messages "KIND K" over a plain TCP connection; remembers what came."""

    def __init__(self):
        if SIDE == "a":
            ls = ml.listener(socket.AF_INET, socket.IPPROTO_TCP, PORT, backlog=1)
            ls.settimeout(TIMEOUT * 2)
            self.s, _ = ls.accept()
            ls.close()
        else:
            deadline = time.monotonic() + TIMEOUT * 2
            while True:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
                s.settimeout(5)
                try:
                    s.connect((f"10.0.1.{PEER}", PORT))
                    break
                except OSError:
                    s.close()
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            self.s = s
        self.s.settimeout(None)
        self.buf = b""
        self.seen = set()
        self.dead = False

    def send(self, kind, k):
        try:
            self.s.sendall(f"{kind} {k}\n".encode())
        except OSError:
            self.dead = True

    def pump(self, timeout):
        """Read what arrives within timeout; False on EOF."""
        r, _, _ = select.select([self.s], [], [], max(timeout, 0))
        if not r:
            return True
        try:
            data = self.s.recv(4096)
        except OSError:
            data = b""
        if not data:
            self.dead = True
            return False
        self.buf += data
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            kind, k = line.decode().split()
            self.seen.add((kind, int(k)))
        return True

    def wait(self, k, kinds, timeout):
        """Wait until one of kinds for case k has come; return it (None: timeout/EOF)."""
        deadline = time.monotonic() + timeout
        while True:
            for kind in kinds:
                if (kind, k) in self.seen:
                    return kind
            left = deadline - time.monotonic()
            if left <= 0 or not self.pump(left):
                return None


def nstat():
    out = subprocess.run(["nstat", "-asz"], capture_output=True, text=True).stdout
    mib = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 2 and f[0].startswith("MPTcpExt"):
            mib[f[0][len("MPTcpExt"):]] = int(f[1])
    return mib


def set_csum(v):
    try:
        with open("/proc/sys/net/mptcp/checksum_enabled", "w") as f:
            f.write(v + "\n")
        return True
    except OSError as e:
        print(f"interop: checksum_enabled={v}: {e}", file=sys.stderr)
        return False


def csum_negotiated(s):
    """mptcp_info.mptcpi_csum_enabled (offset 42), or None without MPTCP_INFO."""
    try:
        info = ml.mptcp_info(s)
    except OSError:
        return None
    return info[ml.MPTCPI_CSUM_ENABLED] if len(info) > ml.MPTCPI_CSUM_ENABLED else None


def corrupt(on):
    """Invert the octet at IP offset 148 (payload: headers take at most 80) of
    every IPv4 packet of 1 KiB and more leaving our link; off: remove it."""
    dev = os.environ.get("TWOVM_IFS", "eth0").split()[0]
    run = lambda *a: subprocess.run(["tc", *a], capture_output=True, text=True)
    if not on:
        run("qdisc", "del", "dev", dev, "clsact")
        return True
    ok = run("qdisc", "add", "dev", dev, "clsact").returncode == 0
    for m in ("0x0400 0xfc00", "0x0800 0xf800", "0x1000 0xf000", "0x2000 0xe000", "0x4000 0xc000",
              "0x8000 0x8000"):
        r = run("filter", "add", "dev", dev, "egress", "protocol", "ip", "prio", "1", "u32", "match", "u16",
                *m.split(), "at", "2", "action", "pedit", "munge", "offset", "148", "u8", "invert", "pipe",
                "csum", "tcp")
        if r.returncode != 0:
            print(f"interop: tc pedit on {dev}: {r.stderr.strip()}", file=sys.stderr)
            ok = False
    return ok


def transfer(s, size, seed):
    s.settimeout(TIMEOUT)
    r = xfer.run(s, size, seed)
    r["end"] = ml.mptcp_state(s)
    r["csum_neg"] = csum_negotiated(s)
    return r


def server(ctrl, k, size):
    ls = ml.listener(FAM, ml.IPPROTO_MPTCP, PORT + 1 + k, opts=OPTS)
    try:
        ctrl.send("ready", k)
        deadline = time.monotonic() + TIMEOUT
        while True:  # accept, unless the client gives up first
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no connection")
            r, _, _ = select.select([ls, ctrl.s], [], [], left)
            if ls in r:
                break
            if ctrl.s in r and (not ctrl.pump(0) or ("done", k) in ctrl.seen):
                raise ConnectionError("client gave up before connecting")
        c, _ = ls.accept()
    finally:
        ls.close()
    try:
        return transfer(c, size, 1001)
    finally:
        c.close()


def client(ctrl, k, size):
    if ctrl.wait(k, ["ready", "done"], TIMEOUT) != "ready":
        raise ConnectionError("server not ready")
    s = ml.mptcp_socket(FAM, opts=OPTS)
    try:
        s.settimeout(TIMEOUT)
        s.connect((PEER_ADDR, PORT + 1 + k))
        return transfer(s, size, 1)
    finally:
        s.close()


def start_capture(port):
    if os.environ.get("INTEROP_PCAP") != "1":
        return None
    path = f"/tmp/interop-{port}.pcap"
    p = subprocess.Popen(["tcpdump", "-q", "-n", "-s", "160", "-i", "any", "-w", path, f"tcp port {port}"],
                         stderr=subprocess.DEVNULL)
    time.sleep(1)
    return p, path


def stop_capture(cap, k):
    if not cap:
        return
    p, path = cap
    time.sleep(0.5)
    p.terminate()
    p.wait()
    out = subprocess.run([sys.executable, os.path.join(os.path.dirname(ml.__file__), "dss_trace.py"), path],
                         capture_output=True, text=True)
    for line in (out.stdout + out.stderr).splitlines():
        print(f"TRACE case {k + 1} side {SIDE}: {line}", file=sys.stderr, flush=True)


def main():
    rc = 0
    ctrl = Ctrl()
    for k, (d, csum, size) in enumerate(CASES):
        if ctrl.dead:
            print("interop: control connection lost; stopping", file=sys.stderr)
            return 1
        size = int(size)
        role = "client" if d[0] == SIDE else "server"
        csum_ok = set_csum("1" if csum in "xy" else csum)
        pedit = corrupt(True) if csum in "xy" and role == "server" else None
        xfer.FIRST = 500 if pedit is not None and csum == "x" else 0
        before = nstat()
        cap = start_capture(PORT + 1 + k)
        t0 = time.monotonic()
        try:
            r = (client if role == "client" else server)(ctrl, k, size)
        except Exception as e:  # report it; the host decides
            r = {"error": repr(e)}
            rc = 1
        secs = time.monotonic() - t0
        ctrl.send("done", k)
        if ctrl.wait(k, ["done"], TIMEOUT * 2) is None:
            print(f"interop: case {k + 1}: peer did not finish", file=sys.stderr)
            rc = 1
        stop_capture(cap, k)
        if pedit is not None:
            corrupt(False)
        after = nstat()
        delta = {n: after[n] - before.get(n, 0) for n in after if after[n] != before.get(n, 0)}
        print(f"interop: case {k + 1}/{len(CASES)} {d} csum={csum} {size} B: {role}, {secs:.1f}s, "
              + (r["error"] if "error" in r else f"is_mptcp={r.get('tcp_is_mptcp')}"), file=sys.stderr, flush=True)
        ml.print_json(dict(case=k, side=SIDE, kernel=KERNEL, uname=os.uname().release, role=role, dir=d,
                           csum=csum, csum_set=csum_ok, pedit=pedit, size=size, secs=round(secs, 2), xfer=r, mib=delta,
                           mib_seen=bool(after)), prefix="INTEROP ")
    return rc


if __name__ == "__main__":
    sys.exit(main())
