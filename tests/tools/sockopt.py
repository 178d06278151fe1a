#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""MPTCP socket options on a live connection, checked from both ends.

  sockopt.py server --port P [--family 4|6] [--proto mptcp|tcp]
  sockopt.py client --addr A --port P [--family 4|6] [--fallback]

The client sends C2S bytes, the server answers S2C bytes, the client checks
its socket and sends one more byte, then the server checks its socket and
closes; so each side checks with nothing in flight.  Checks (after mainline's
tools/testing/selftests/net/mptcp/mptcp_sockopt.c): MPTCP_TCPINFO,
MPTCP_SUBFLOW_ADDRS and MPTCP_FULL_INFO contents and size negotiation, their
errors, and the setsockopt allow-list.  With --fallback (an MPTCP client of a
plain TCP server) the SOL_MPTCP options must fail as on mainline's fallback
msk.  Prints one line per check; exits 1 if any failed.

No kernel memory disclosure (check_padding): MPTCP_INFO, MPTCP_TCPINFO,
MPTCP_SUBFLOW_ADDRS and MPTCP_FULL_INFO are read raw, each right after
syscalls that leave non-zero bytes on the kernel stack, on a fresh socket,
a listener, both ends of a connection and a fallen-back one; every padding
byte (from the C layouts below), reserved byte, unused bitfield bit and byte
past a sockaddr must be zero, and on a fallback socket nothing is written.
"""
import argparse, ctypes, errno, os, socket, struct, sys

import mptcplib as ml
from mptcplib import (SOL_MPTCP, MPTCP_INFO, MPTCP_TCPINFO, MPTCP_SUBFLOW_ADDRS, MPTCP_FULL_INFO, TCP_IS_MPTCP,
                      MPTCP_INFO_SIZE, MPTCPI_TOKEN, MPTCPI_BYTES_SENT, MPTCPI_BYTES_RECEIVED)

TCP_ULP, TCP_MD5SIG, TCP_REPAIR = 31, 14, 19
SO_ATTACH_FILTER, SO_ZEROCOPY, SO_MAX_PACING_RATE = 26, 60, 47
IP_OPTIONS, IP_MULTICAST_TTL = 4, 33
TCP_ESTABLISHED = 1
C2S, S2C = 100000, 50000

# uapi layouts (linux/mptcp.h, linux/tcp.h of 6.12); offsets into the structs
SFD = struct.Struct("=4I")            # struct mptcp_subflow_data (aligned 8: 16 bytes)
FULL_HDR = struct.Struct("=6I2Q")     # struct mptcp_full_info up to mptcp_info (40 bytes)
FULL_INFO_SIZE = FULL_HDR.size + MPTCP_INFO_SIZE
ADDRS_SIZE = 256                      # two __kernel_sockaddr_storage
SFINFO_SIZE = 8 + ADDRS_SIZE          # __u32 id, then the 8-aligned addrs
TI_STATE, TI_SND_MSS, TI_BYTES_ACKED, TI_BYTES_RECEIVED, TI_BYTES_SENT = 0, 16, 120, 128, 200

# The same structs as ctypes, field for field (6.12 include/uapi/linux/mptcp.h,
# tcp.h); ctypes lays them out as the C compiler does, so the bytes no field
# covers are the padding.
u8, u16, u32_t, u64_t = ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32, ctypes.c_uint64


class MptcpInfoC(ctypes.Structure):
    _fields_ = [("mptcpi_subflows", u8), ("mptcpi_add_addr_signal", u8), ("mptcpi_add_addr_accepted", u8),
                ("mptcpi_subflows_max", u8), ("mptcpi_add_addr_signal_max", u8),
                ("mptcpi_add_addr_accepted_max", u8), ("mptcpi_flags", u32_t), ("mptcpi_token", u32_t),
                ("mptcpi_write_seq", u64_t), ("mptcpi_snd_una", u64_t), ("mptcpi_rcv_nxt", u64_t),
                ("mptcpi_local_addr_used", u8), ("mptcpi_local_addr_max", u8), ("mptcpi_csum_enabled", u8),
                ("mptcpi_retransmits", u32_t), ("mptcpi_bytes_retrans", u64_t), ("mptcpi_bytes_sent", u64_t),
                ("mptcpi_bytes_received", u64_t), ("mptcpi_bytes_acked", u64_t), ("mptcpi_subflows_total", u8),
                ("reserved", u8 * 3), ("mptcpi_last_data_sent", u32_t), ("mptcpi_last_data_recv", u32_t),
                ("mptcpi_last_ack_recv", u32_t)]


class TcpInfoC(ctypes.Structure):
    # tcpi_snd_wscale:4/tcpi_rcv_wscale:4 and tcpi_delivery_rate_app_limited:1/
    # tcpi_fastopen_client_fail:2 as their __u8 storage units (bits: TI_BITS)
    _fields_ = ([("tcpi_" + n, u8) for n in ("state", "ca_state", "retransmits", "probes", "backoff", "options",
                                             "wscale_bits", "rate_bits")] +
                [("tcpi_" + n, u32_t) for n in (
                    "rto ato snd_mss rcv_mss unacked sacked lost retrans fackets last_data_sent last_ack_sent "
                    "last_data_recv last_ack_recv pmtu rcv_ssthresh rtt rttvar snd_ssthresh snd_cwnd advmss "
                    "reordering rcv_rtt rcv_space total_retrans").split()] +
                [("tcpi_" + n, u64_t) for n in "pacing_rate max_pacing_rate bytes_acked bytes_received".split()] +
                [("tcpi_" + n, u32_t) for n in "segs_out segs_in notsent_bytes min_rtt data_segs_in data_segs_out".split()] +
                [("tcpi_" + n, u64_t) for n in "delivery_rate busy_time rwnd_limited sndbuf_limited".split()] +
                [("tcpi_delivered", u32_t), ("tcpi_delivered_ce", u32_t), ("tcpi_bytes_sent", u64_t),
                 ("tcpi_bytes_retrans", u64_t)] +
                [("tcpi_" + n, u32_t) for n in "dsack_dups reord_seen rcv_ooopack snd_wnd rcv_wnd rehash".split()] +
                [("tcpi_total_rto", u16), ("tcpi_total_rto_recoveries", u16), ("tcpi_total_rto_time", u32_t)])


TI_BITS = {7: 0x07}  # byte offset -> bits used (the 4+4 bits of byte 6 are all used)


class KSockaddrStorage(ctypes.Union):  # __kernel_sockaddr_storage (aligned as a pointer)
    _fields_ = [("ss_family", u16), ("data", ctypes.c_char * 128), ("align", ctypes.c_void_p)]


class SubflowAddrsC(ctypes.Structure):
    _fields_ = [("local", KSockaddrStorage), ("remote", KSockaddrStorage)]


class SubflowInfoC(ctypes.Structure):
    _fields_ = [("id", u32_t), ("addrs", SubflowAddrsC)]


class SubflowDataC(ctypes.Structure):  # __attribute__((aligned(8))): 16 bytes either way
    _fields_ = [("size_subflow_data", u32_t), ("num_subflows", u32_t), ("size_kernel", u32_t),
                ("size_user", u32_t)]


class FullInfoC(ctypes.Structure):
    _fields_ = [("size_tcpinfo_kernel", u32_t), ("size_tcpinfo_user", u32_t), ("size_sfinfo_kernel", u32_t),
                ("size_sfinfo_user", u32_t), ("num_subflows", u32_t), ("size_arrays_user", u32_t),
                ("subflow_info", u64_t), ("tcp_info", u64_t), ("mptcp_info", MptcpInfoC)]


def padding(cls, base=0):
    """Byte offsets of `cls` that no field covers (recursing into structs;
    a union or array covers its whole size)."""
    covered = set()
    for name, typ in cls._fields_:
        off = base + getattr(cls, name).offset
        if isinstance(typ, type) and issubclass(typ, ctypes.Structure):
            inner = padding(typ, off)
            covered |= set(range(off, off + ctypes.sizeof(typ))) - inner
        else:
            covered |= set(range(off, off + ctypes.sizeof(typ)))
    return set(range(base, base + ctypes.sizeof(cls))) - covered


def field_bytes(cls, name, base=0):
    off = base + getattr(cls, name).offset
    return set(range(off, off + ctypes.sizeof(dict(cls._fields_)[name])))


assert ctypes.sizeof(MptcpInfoC) == MPTCP_INFO_SIZE and ctypes.sizeof(FullInfoC) == FULL_INFO_SIZE
assert ctypes.sizeof(SubflowAddrsC) == ADDRS_SIZE and ctypes.sizeof(SubflowInfoC) == SFINFO_SIZE
assert ctypes.sizeof(SubflowDataC) == SFD.size and ctypes.sizeof(TcpInfoC) == 248
assert TcpInfoC.tcpi_bytes_acked.offset == TI_BYTES_ACKED and TcpInfoC.tcpi_bytes_sent.offset == TI_BYTES_SENT
assert (MptcpInfoC.mptcpi_token.offset, MptcpInfoC.mptcpi_csum_enabled.offset, MptcpInfoC.mptcpi_bytes_sent.offset,
        MptcpInfoC.mptcpi_bytes_received.offset) == (MPTCPI_TOKEN, ml.MPTCPI_CSUM_ENABLED, MPTCPI_BYTES_SENT,
                                                     MPTCPI_BYTES_RECEIVED)
# must be zero: padding and reserved bytes (mptcp_info: 6-7, 43 and reserved 81-83)
MI_ZERO = padding(MptcpInfoC) | field_bytes(MptcpInfoC, "reserved")
FULL_ZERO = padding(FullInfoC) | field_bytes(MptcpInfoC, "reserved", FullInfoC.mptcp_info.offset)
SFI_ZERO = padding(SubflowInfoC)  # 4-7
TI_ZERO = padding(TcpInfoC)       # none in 6.12: only the unused bits of TI_BITS
assert sorted(MI_ZERO) == [6, 7, 43, 81, 82, 83] and sorted(SFI_ZERO) == [4, 5, 6, 7], (MI_ZERO, SFI_ZERO)

libc = ctypes.CDLL(None, use_errno=True)
failures = 0


def check(cond, what):
    global failures
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures += 1


def raw_getsockopt(fd, level, opt, buf, optlen):
    """getsockopt(2) with an input buffer: (ret, errno, olen written back)."""
    olen = ctypes.c_uint32(optlen)
    ret = libc.getsockopt(fd, level, opt, buf, ctypes.byref(olen))
    return ret, (ctypes.get_errno() if ret < 0 else 0), olen.value


def acked_ok(acked, sent): return sent <= acked <= sent + 1
def u32(b, off): return struct.unpack_from("=I", b, off)[0]
def u64(b, off): return struct.unpack_from("=Q", b, off)[0]


def sockaddr(fam, addr):
    """The kernel's sockaddr_in/sockaddr_in6 for a Python address tuple."""
    if fam == socket.AF_INET:
        return struct.pack("=H", fam) + struct.pack("!H", addr[1]) + socket.inet_pton(fam, addr[0]) + bytes(8)
    return (struct.pack("=H", fam) + struct.pack("!H", addr[1]) + bytes(4) +
            socket.inet_pton(fam, addr[0]) + struct.pack("=I", addr[3]))


def sf_data(fd, opt, size_user, room, hdr=None):
    """MPTCP_TCPINFO/MPTCP_SUBFLOW_ADDRS with a 16-byte header: (ret, err,
    olen, header tuple, payload bytes)."""
    buf = ctypes.create_string_buffer(SFD.size + room)
    SFD.pack_into(buf, 0, *(hdr or (SFD.size, 0, 0, size_user)))
    ret, err, olen = raw_getsockopt(fd, SOL_MPTCP, opt, buf, SFD.size + room)
    return ret, err, olen, SFD.unpack_from(buf.raw, 0), buf.raw[SFD.size:]


def bogus_sf_data(fd, opt, name):
    """mainline's do_getsockopt_bogus_sf_data(): header validation."""
    good = (SFD.size, 0, 0, 0)
    buf = ctypes.create_string_buffer(24)  # struct { mptcp_subflow_data d; char buf[2]; }
    ret, err, olen = raw_getsockopt(fd, SOL_MPTCP, opt, buf, SFD.size)
    check(ret < 0 and err == errno.EINVAL and olen == SFD.size, f"{name}: size_subflow_data 0 -> EINVAL")
    SFD.pack_into(buf, 0, *good)
    ret, err, olen = raw_getsockopt(fd, SOL_MPTCP, opt, buf, SFD.size)
    d = SFD.unpack_from(buf.raw, 0)
    check(ret == 0 and olen == SFD.size and d[1] == 1 and d[2] > 0 and d[3] == 0,
          f"{name}: header only -> num_subflows=1 size_kernel>0 size_user=0 ({d}, olen {olen})")
    for short in (0, 1, 8, 15):
        SFD.pack_into(buf, 0, *good)
        ret, err, olen = raw_getsockopt(fd, SOL_MPTCP, opt, buf, short)
        check(ret < 0 and err == errno.EINVAL and olen == short, f"{name}: optlen {short} -> EINVAL, olen unchanged")
    for hdr, what in (((SFD.size, 0, 1, 0), "size_kernel != 0"), ((SFD.size, 1, 0, 0), "num_subflows != 0"),
                      ((8, 0, 0, 0), "size_subflow_data < 16"), ((32, 0, 0, 0), "size_subflow_data > optlen"),
                      ((SFD.size, 0, 0, 1 << 31), "size_user > INT_MAX")):
        SFD.pack_into(buf, 0, *hdr)
        ret, err, _ = raw_getsockopt(fd, SOL_MPTCP, opt, buf, SFD.size)
        check(ret < 0 and err == errno.EINVAL, f"{name}: {what} -> EINVAL")
    # forward compatibility: a larger header from newer user space
    SFD.pack_into(buf, 0, 24, 0, 0, 0)
    ret, err, olen = raw_getsockopt(fd, SOL_MPTCP, opt, buf, 24)
    d = SFD.unpack_from(buf.raw, 0)
    check(ret == 0 and olen == SFD.size and d[0] == 24, f"{name}: 24-byte header -> olen 16, header kept")
    # one byte per element after a 17-byte header
    buf = ctypes.create_string_buffer(24)
    SFD.pack_into(buf, 0, 17, 0, 0, 1)
    ret, err, olen = raw_getsockopt(fd, SOL_MPTCP, opt, buf, 18)
    check(ret == 0 and olen == 18 and buf.raw[16] == 0, f"{name}: 1-byte elements after a 17-byte header -> olen 18")


def full_info(fd, narr, tcpi_user, sfi_user, optlen=FULL_INFO_SIZE, hdr_extra=(0, 0, 0)):
    """MPTCP_FULL_INFO: (ret, err, olen, header, mptcp_info, sfinfo array, tcp_info array)."""
    sfi = ctypes.create_string_buffer(max(1, narr * min(sfi_user, 1024)))
    tci = ctypes.create_string_buffer(max(1, narr * min(tcpi_user, 1024)))
    buf = ctypes.create_string_buffer(max(optlen, FULL_INFO_SIZE))
    FULL_HDR.pack_into(buf, 0, hdr_extra[0], tcpi_user, hdr_extra[1], sfi_user, hdr_extra[2], narr,
                       ctypes.addressof(sfi), ctypes.addressof(tci))
    ret, err, olen = raw_getsockopt(fd, SOL_MPTCP, MPTCP_FULL_INFO, buf, optlen)
    return (ret, err, olen, FULL_HDR.unpack_from(buf.raw, 0), buf.raw[FULL_HDR.size:FULL_INFO_SIZE],
            sfi.raw, tci.raw)


def check_getsockopts(s, fam, sent, recvd):
    fd = s.fileno()
    check(s.getsockopt(socket.IPPROTO_TCP, TCP_IS_MPTCP) == 1, "TCP_IS_MPTCP = 1")
    ti_tcp = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 512)  # the subflow's, forwarded

    # MPTCP_TCPINFO
    ret, err, olen, d, ti = sf_data(fd, MPTCP_TCPINFO, 512, 512)
    size_k = d[2]
    check(ret == 0, f"MPTCP_TCPINFO: ret {ret} errno {err}")
    check(d[1] == 1 and size_k >= TI_BYTES_SENT + 8 and d[3] == size_k and olen == SFD.size + size_k,
          f"MPTCP_TCPINFO: num_subflows=1, size_user=size_kernel={size_k}, olen={olen}")
    check(ti[TI_STATE] == TCP_ESTABLISHED, f"MPTCP_TCPINFO: tcpi_state {ti[TI_STATE]} = ESTABLISHED")
    # TCP counts the active opener's SYN in bytes_acked
    check(acked_ok(u64(ti, TI_BYTES_ACKED), sent) and u64(ti, TI_BYTES_RECEIVED) == recvd,
          f"MPTCP_TCPINFO: bytes_acked {u64(ti, TI_BYTES_ACKED)} = {sent}(+1), "
          f"bytes_received {u64(ti, TI_BYTES_RECEIVED)} = {recvd}")
    check(u64(ti, TI_BYTES_SENT) >= sent, f"MPTCP_TCPINFO: bytes_sent {u64(ti, TI_BYTES_SENT)} >= {sent}")
    check(u32(ti, TI_SND_MSS) == u32(ti_tcp, TI_SND_MSS) and u64(ti, TI_BYTES_RECEIVED) == u64(ti_tcp, TI_BYTES_RECEIVED),
          "MPTCP_TCPINFO: agrees with TCP_INFO")
    # a user tcp_info shorter than the kernel's: truncated, size_user reports it
    ret, err, olen, d, ti8 = sf_data(fd, MPTCP_TCPINFO, 8, 512)
    check(ret == 0 and d[3] == 8 and olen == SFD.size + 8 and ti8[:8] == ti[:8] and ti8[8:] == bytes(len(ti8) - 8),
          f"MPTCP_TCPINFO: size_user 8 -> 8 bytes, olen {olen}")
    # no room for one element: header only
    ret, err, olen, d, _ = sf_data(fd, MPTCP_TCPINFO, size_k, 4)
    check(ret == 0 and olen == SFD.size and d[1] == 1, f"MPTCP_TCPINFO: element does not fit -> olen {olen}")
    bogus_sf_data(fd, MPTCP_TCPINFO, "MPTCP_TCPINFO")

    # MPTCP_SUBFLOW_ADDRS
    local, remote = sockaddr(fam, s.getsockname()), sockaddr(fam, s.getpeername())
    ret, err, olen, d, a = sf_data(fd, MPTCP_SUBFLOW_ADDRS, 512, 512)
    check(ret == 0 and d[1] == 1 and d[2] == ADDRS_SIZE and d[3] == ADDRS_SIZE and olen == SFD.size + ADDRS_SIZE,
          f"MPTCP_SUBFLOW_ADDRS: num_subflows=1 sizes {d[2]}/{d[3]} olen {olen}")
    check(a[:len(local)] == local and a[len(local):128] == bytes(128 - len(local)),
          f"MPTCP_SUBFLOW_ADDRS: local = getsockname() {s.getsockname()}")
    check(a[128:128 + len(remote)] == remote and a[128 + len(remote):256] == bytes(128 - len(remote)),
          f"MPTCP_SUBFLOW_ADDRS: remote = getpeername() {s.getpeername()}")
    ret, err, olen, d, a2 = sf_data(fd, MPTCP_SUBFLOW_ADDRS, 2, 512)
    check(ret == 0 and olen == SFD.size + 2 and struct.unpack_from("=H", a2)[0] == fam and a2[2:] == bytes(len(a2) - 2),
          "MPTCP_SUBFLOW_ADDRS: size_user 2 -> sa_family only")
    bogus_sf_data(fd, MPTCP_SUBFLOW_ADDRS, "MPTCP_SUBFLOW_ADDRS")

    # MPTCP_FULL_INFO, against MPTCP_INFO and the two above
    mi = s.getsockopt(SOL_MPTCP, MPTCP_INFO, MPTCP_INFO_SIZE)
    ret, err, olen, h, fmi, sfi, tci = full_info(fd, 2, 512, 512)
    check(ret == 0, f"MPTCP_FULL_INFO: ret {ret} errno {err}")
    check(olen == FULL_INFO_SIZE and h[4] == 1, f"MPTCP_FULL_INFO: olen {olen}, num_subflows {h[4]}")
    check(h[0] == size_k and h[1] == size_k and h[2] == SFINFO_SIZE and h[3] == SFINFO_SIZE,
          f"MPTCP_FULL_INFO: tcp_info {h[0]}/{h[1]}, subflow_info {h[2]}/{h[3]}")
    check(u32(sfi, 0) == 1 and sfi[8:8 + ADDRS_SIZE] == a[:ADDRS_SIZE], f"MPTCP_FULL_INFO: subflow id {u32(sfi, 0)}, addrs")
    check(sfi[SFINFO_SIZE:] == bytes(len(sfi) - SFINFO_SIZE) and tci[size_k:] == bytes(len(tci) - size_k),
          "MPTCP_FULL_INFO: only one array element written")
    check(tci[TI_STATE] == TCP_ESTABLISHED and acked_ok(u64(tci, TI_BYTES_ACKED), sent) and
          u64(tci, TI_BYTES_RECEIVED) == recvd, "MPTCP_FULL_INFO: tcp_info")
    check(fmi[0] == 0 and u32(fmi, MPTCPI_TOKEN) == u32(mi, MPTCPI_TOKEN) != 0 and
          u64(fmi, MPTCPI_BYTES_RECEIVED) == u64(mi, MPTCPI_BYTES_RECEIVED) == recvd and
          u64(fmi, MPTCPI_BYTES_SENT) == u64(mi, MPTCPI_BYTES_SENT),
          f"MPTCP_FULL_INFO: mptcp_info = MPTCP_INFO (token {u32(mi, MPTCPI_TOKEN):#x}, "
          f"bytes_received {u64(mi, MPTCPI_BYTES_RECEIVED)})")
    # header only: no mptcp_info, arrays still filled
    ret, err, olen, h, fmi, sfi, _ = full_info(fd, 1, 0, 4, optlen=FULL_HDR.size)
    check(ret == 0 and olen == FULL_HDR.size and h[4] == 1 and h[1] == 0 and h[3] == 4 and u32(sfi, 0) == 1,
          f"MPTCP_FULL_INFO: 40-byte optlen, 4-byte subflow_info -> olen {olen}, id only")
    ret, err, olen, h, *_ = full_info(fd, 0, 512, 512, optlen=FULL_HDR.size + 8)
    check(ret == 0 and olen == FULL_HDR.size + 8 and h[4] == 1, f"MPTCP_FULL_INFO: size_arrays_user 0 -> olen {olen}")
    for optlen, extra, what in ((39, (0, 0, 0), "optlen 39"), (FULL_INFO_SIZE, (1, 0, 0), "size_tcpinfo_kernel != 0"),
                                (FULL_INFO_SIZE, (0, 1, 0), "size_sfinfo_kernel != 0"),
                                (FULL_INFO_SIZE, (0, 0, 1), "num_subflows != 0")):
        ret, err, *_ = full_info(fd, 1, 512, 512, optlen=optlen, hdr_extra=extra)
        check(ret < 0 and err == errno.EINVAL, f"MPTCP_FULL_INFO: {what} -> EINVAL")
    ret, err, *_ = full_info(fd, 1, 1 << 31, 512)
    check(ret < 0 and err == errno.EINVAL, "MPTCP_FULL_INFO: size_tcpinfo_user > INT_MAX -> EINVAL")


def dirty_stack(fd):
    """Syscalls that leave non-zero bytes where the next getsockopt's frames
    go: TCP_INFO through the msk (the same call chain down to the subflow's
    tcp_getsockopt(), with a tcp_info of rates ~0 and counters on its stack),
    MPTCP_TCPINFO (a tcp_info in our own frames; fails harmlessly on a
    fallback socket), a poll() whose 256-byte on-stack pollfd array is 0xa5
    from user space (negative fds are skipped), and uname()."""
    libc.getsockopt(fd, socket.IPPROTO_TCP, socket.TCP_INFO, ctypes.create_string_buffer(256),
                    ctypes.byref(ctypes.c_uint32(256)))
    buf = ctypes.create_string_buffer(SFD.size + 512)
    SFD.pack_into(buf, 0, SFD.size, 0, 0, 512)
    libc.getsockopt(fd, SOL_MPTCP, MPTCP_TCPINFO, buf, ctypes.byref(ctypes.c_uint32(SFD.size + 512)))
    pfds = ctypes.create_string_buffer(b"\xa5" * 256, 256)
    libc.poll(pfds, 32, 0)
    os.uname()


def nonzero(b, offsets, masks=None):
    """[(offset, byte)] of the bytes at `offsets` (or bits outside
    masks[offset]) that are not zero."""
    masks = masks or {}
    return [(o, hex(b[o])) for o in sorted(offsets | set(masks)) if o < len(b) and b[o] & ~masks.get(o, 0) & 0xff]


def sockaddr_tail(b, base):
    """Bytes of a 128-byte sockaddr storage at `base` past its sockaddr."""
    fam = struct.unpack_from("=H", b, base)[0]
    used = {socket.AF_INET: 16, socket.AF_INET6: 28}.get(fam, 2)
    return set(range(base + used, base + 128))


def check_padding(s, where, answered=True, rounds=20):
    """No kernel bytes in what the SOL_MPTCP struct options copy out (see the
    module docstring).  `answered`: the socket is not fallen back (else each
    option must fail and leave the user buffers as they were)."""
    fd = s.fileno()
    bad = {}
    fill = b"\x5a"

    def note(name, hits):
        if hits:
            bad.setdefault(name, hits)

    for _ in range(rounds):
        # MPTCP_INFO
        dirty_stack(fd)
        buf = ctypes.create_string_buffer(fill * MPTCP_INFO_SIZE, MPTCP_INFO_SIZE)
        ret, err, olen = raw_getsockopt(fd, SOL_MPTCP, MPTCP_INFO, buf, MPTCP_INFO_SIZE)
        if not answered:
            note("MPTCP_INFO", [] if ret < 0 and buf.raw == fill * MPTCP_INFO_SIZE else [f"ret {ret} written"])
        elif ret < 0 or olen != MPTCP_INFO_SIZE:
            note("MPTCP_INFO", [f"ret {ret} errno {err} olen {olen}"])
        else:
            note("MPTCP_INFO", nonzero(buf.raw, MI_ZERO))
        # MPTCP_TCPINFO, MPTCP_SUBFLOW_ADDRS: header + one element
        for opt, name in ((MPTCP_TCPINFO, "MPTCP_TCPINFO"), (MPTCP_SUBFLOW_ADDRS, "MPTCP_SUBFLOW_ADDRS")):
            dirty_stack(fd)
            buf = ctypes.create_string_buffer(fill * (SFD.size + 512), SFD.size + 512)
            SFD.pack_into(buf, 0, SFD.size, 0, 0, 512)
            before = buf.raw
            ret, err, olen = raw_getsockopt(fd, SOL_MPTCP, opt, buf, SFD.size + 512)
            raw = buf.raw
            if not answered:
                note(name, [] if ret < 0 and raw == before else [f"ret {ret} written"])
                continue
            esize = SFD.unpack_from(raw, 0)[2]  # size_kernel (a newer tcp_info is longer)
            if ret < 0 or olen != SFD.size + esize or esize < (248 if opt == MPTCP_TCPINFO else ADDRS_SIZE):
                note(name, [f"ret {ret} errno {err} olen {olen}"])
                continue
            el = raw[SFD.size:SFD.size + esize]
            if opt == MPTCP_TCPINFO:
                note(name, nonzero(el, TI_ZERO, TI_BITS))
            else:
                note(name, nonzero(el, sockaddr_tail(el, 0) | sockaddr_tail(el, 128)))
            note(name + " (past the element)", [] if raw[SFD.size + esize:] == before[SFD.size + esize:] else ["written"])
        # MPTCP_FULL_INFO: header + mptcp_info, one subflow_info, one tcp_info
        dirty_stack(fd)
        sfi = ctypes.create_string_buffer(fill * 512, 512)
        tci = ctypes.create_string_buffer(fill * 512, 512)
        buf = ctypes.create_string_buffer(fill * FULL_INFO_SIZE, FULL_INFO_SIZE)
        FULL_HDR.pack_into(buf, 0, 0, 512, 0, 512, 0, 1, ctypes.addressof(sfi), ctypes.addressof(tci))
        before = buf.raw
        ret, err, olen = raw_getsockopt(fd, SOL_MPTCP, MPTCP_FULL_INFO, buf, FULL_INFO_SIZE)
        if not answered:
            note("MPTCP_FULL_INFO", [] if ret < 0 and buf.raw == before and sfi.raw == fill * 512 and
                 tci.raw == fill * 512 else [f"ret {ret} written"])
            continue
        if ret < 0 or olen != FULL_INFO_SIZE:
            note("MPTCP_FULL_INFO", [f"ret {ret} errno {err} olen {olen}"])
            continue
        note("MPTCP_FULL_INFO", nonzero(buf.raw, FULL_ZERO))
        el = sfi.raw[:SFINFO_SIZE]
        note("MPTCP_FULL_INFO subflow_info", nonzero(el, SFI_ZERO | sockaddr_tail(el, 8) | sockaddr_tail(el, 136)))
        note("MPTCP_FULL_INFO tcp_info", nonzero(tci.raw[:248], TI_ZERO, TI_BITS))
        ti_size = FULL_HDR.unpack_from(buf.raw, 0)[0]
        note("MPTCP_FULL_INFO (past the elements)",
             [] if sfi.raw[SFINFO_SIZE:] == fill * (512 - SFINFO_SIZE) and tci.raw[ti_size:] == fill * (512 - ti_size)
             else ["written"])
    names = ["MPTCP_INFO", "MPTCP_TCPINFO", "MPTCP_SUBFLOW_ADDRS", "MPTCP_FULL_INFO"]
    what = "fails, writes nothing" if not answered else "padding zero"
    for n in names:
        hits = {k: v for k, v in bad.items() if k.startswith(n)}
        check(not hits, f"{where}: {n} {what} in {rounds} reads after dirtying the stack"
              + (f" {hits}" if hits else ""))


def expect_err(f, want, what):
    try:
        f()
        check(False, f"{what}: succeeded, want {ml.errno_name(want)}")
    except OSError as e:
        check(e.errno == want, f"{what}: {ml.errno_name(e.errno)}, want {ml.errno_name(want)}")


def check_setsockopts(s, fam, fallback=False):
    """mainline's allow-list: SOL_SOCKET rejects with EOPNOTSUPP, other levels
    with ENOPROTOOPT.  Run on a fresh socket, or on a connected fallback one."""
    # a valid accept-all classic BPF program: TCP would take it
    insn = (ctypes.c_uint8 * 8).from_buffer_copy(struct.pack("=HBBI", 0x06, 0, 0, 0xffffffff))
    fprog = struct.pack("=H6xQ", 1, ctypes.addressof(insn))
    expect_err(lambda: s.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog), errno.EOPNOTSUPP, "SO_ATTACH_FILTER")
    expect_err(lambda: s.setsockopt(socket.SOL_SOCKET, socket.SO_OOBINLINE, 1), errno.EOPNOTSUPP, "SO_OOBINLINE")
    expect_err(lambda: s.setsockopt(socket.SOL_SOCKET, SO_ZEROCOPY, 1), errno.EOPNOTSUPP, "SO_ZEROCOPY")
    expect_err(lambda: s.setsockopt(socket.SOL_SOCKET, SO_MAX_PACING_RATE, 1000), errno.EOPNOTSUPP,
               "SO_MAX_PACING_RATE")
    expect_err(lambda: s.setsockopt(socket.IPPROTO_TCP, TCP_ULP, b"tls"), errno.ENOPROTOOPT, "TCP_ULP")
    expect_err(lambda: s.setsockopt(socket.IPPROTO_TCP, TCP_MD5SIG, bytes(216)), errno.ENOPROTOOPT, "TCP_MD5SIG")
    expect_err(lambda: s.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR, 1), errno.ENOPROTOOPT, "TCP_REPAIR")
    expect_err(lambda: s.setsockopt(socket.IPPROTO_IP, IP_OPTIONS, b""), errno.ENOPROTOOPT, "IP_OPTIONS")
    expect_err(lambda: s.setsockopt(socket.IPPROTO_IP, IP_MULTICAST_TTL, 2), errno.ENOPROTOOPT, "IP_MULTICAST_TTL")
    expect_err(lambda: s.setsockopt(SOL_MPTCP, MPTCP_INFO, 1), errno.ENOPROTOOPT, "SOL_MPTCP MPTCP_INFO")
    # supported ones act and read back
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    check(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1, "TCP_NODELAY 1 reads back")
    s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    check(s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1, "SO_KEEPALIVE 1 reads back")
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 77)
    check(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 77, "TCP_KEEPIDLE 77 reads back")
    if fam == socket.AF_INET:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, 0x10)
        check(s.getsockopt(socket.IPPROTO_IP, socket.IP_TOS) == 0x10, "IP_TOS 0x10 reads back")
    elif fallback:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_TCLASS, 0x10)
        check(s.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_TCLASS) == 0x10, "IPV6_TCLASS 0x10 reads back")
    else:
        # Not IPV6_TCLASS: listed by mainline, but its (non-fallback) msk
        # only implements V6ONLY, TRANSPARENT and FREEBIND (EOPNOTSUPP).
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        check(s.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) == 1, "IPV6_V6ONLY 1 reads back")
    avail = open("/proc/sys/net/ipv4/tcp_available_congestion_control").read().split()
    for cc in ("reno", "cubic"):
        if cc not in avail:
            print(f"# TCP_CONGESTION {cc}: not available ({avail})")
            continue
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc.encode())
        got = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\0").decode()
        check(got == cc, f"TCP_CONGESTION {cc} reads back ({got})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["server", "client"])
    ml.socket_args(ap)
    ap.add_argument("--fallback", action="store_true", help="client: the peer is plain TCP")
    a = ap.parse_args()
    fam, proto = ml.family(a.family), ml.protocol(a.proto)
    if a.mode == "server":
        s = ml.listener(fam, proto, a.port, a.addr, 1)
        s.settimeout(60)
        if a.proto == "mptcp":
            check_padding(s, "listener")
        ml.ready()
        c, _ = s.accept()
        c.settimeout(60)
        check(len(ml.recv_exact(c, C2S)) == C2S, f"server: received {C2S}")
        c.sendall(bytes(S2C))
        check(len(ml.recv_exact(c, 1)) == 1, "server: client done")
        if a.proto == "mptcp":
            check_getsockopts(c, fam, S2C, C2S + 1)
            check_padding(c, "server, connected")
        c.close()
    else:
        s = ml.mptcp_socket(fam, proto)
        s.settimeout(60)
        check_padding(s, "fresh")
        check_setsockopts(s, fam)
        s.connect((a.addr, a.port))
        s.sendall(bytes(C2S))
        check(len(ml.recv_exact(s, S2C)) == S2C, f"client: received {S2C}")
        if a.fallback:
            check(s.getsockopt(socket.IPPROTO_TCP, TCP_IS_MPTCP) == 0, "fallback: TCP_IS_MPTCP = 0")
            # mainline hands a fallback msk's options to tcp_getsockopt():
            # ip_getsockopt() says EOPNOTSUPP, ipv6_getsockopt() ENOPROTOOPT
            want = errno.EOPNOTSUPP if fam == socket.AF_INET else errno.ENOPROTOOPT
            for opt, name in ((MPTCP_TCPINFO, "MPTCP_TCPINFO"), (MPTCP_SUBFLOW_ADDRS, "MPTCP_SUBFLOW_ADDRS")):
                ret, err, *_ = sf_data(s.fileno(), opt, 512, 512)
                check(ret < 0 and err == want, f"fallback: {name} -> {ml.errno_name(err)}")
            ret, err, *_ = full_info(s.fileno(), 1, 512, 512)
            check(ret < 0 and err == want, f"fallback: MPTCP_FULL_INFO -> {ml.errno_name(err)}")
            check_setsockopts(s, fam, fallback=True)  # the allow-list holds there too
            check_padding(s, "fallback", answered=False)
        else:
            check_getsockopts(s, fam, C2S, S2C)
            check_padding(s, "client, connected")
        # Done; no FIN before the server's checks (tcpi_bytes_received counts it).
        s.sendall(b"D")
        ml.recv_exact(s, 1)
    s.close()
    print(f"{failures} failed", flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
