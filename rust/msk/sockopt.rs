// SPDX-License-Identifier: GPL-2.0

//! MPTCP-level socket options, after mainline's `net/mptcp/sockopt.c`.
//!
//! - `SOL_MPTCP` `MPTCP_INFO` reports the connection; `MPTCP_TCPINFO`,
//!   `MPTCP_SUBFLOW_ADDRS` and `MPTCP_FULL_INFO` report per-subflow data
//!   (one subflow today: `first`) with mainline's uapi layouts and size
//!   negotiation: user space states the sizes it knows, the kernel copies
//!   min(user, kernel) bytes per element and writes back the sizes it used
//!   and its own, so old and new binaries keep working on either side.
//! - Every struct that reaches user space is built by
//!   [`UserPtr::write_zeroed`] in a
//!   zeroed buffer that never moves and is copied from that buffer's bytes,
//!   so padding, reserved fields and unset fields are zero, never stale
//!   kernel stack.
//! - [`setsockopt_check`] is mainline's allow-list: options it rejects on an
//!   msk are rejected here with the same error before reaching the subflow.
//!
//! On a fallback connection mainline passes every option to the TCP
//! subflow, so `SOL_MPTCP` fails there as on plain TCP (`ip_getsockopt`:
//! EOPNOTSUPP, `ipv6_getsockopt`: ENOPROTOOPT); [`getsockopt`] leaves such
//! calls to the caller, which forwards them to the subflow.

use core::mem::{offset_of, size_of};

use kernel::bindings;
use kernel::ffi::c_int;
use kernel::prelude::*;

use crate::subflow;
use crate::sys::uaccess::UserPtr;
use crate::sys::TcpSock;

const SOL_SOCKET: c_int = bindings::SOL_SOCKET as c_int;
const SOL_IP: c_int = bindings::SOL_IP as c_int;
const SOL_IPV6: c_int = bindings::SOL_IPV6 as c_int;
pub(crate) const SOL_TCP: c_int = bindings::SOL_TCP as c_int;
pub(crate) const SOL_MPTCP: c_int = bindings::SOL_MPTCP as c_int;

// uapi `linux/mptcp.h`.
const MPTCP_INFO: c_int = 1;
const MPTCP_TCPINFO: c_int = 2;
const MPTCP_SUBFLOW_ADDRS: c_int = 3;
const MPTCP_FULL_INFO: c_int = 4;

/// The smallest `struct mptcp_subflow_data` user space may pass.
const MIN_INFO_OPTLEN_SIZE: usize = 16;
/// The `struct mptcp_full_info` header before its `mptcp_info`.
const MIN_FULL_INFO_OPTLEN_SIZE: usize = 40;
const INT_MAX: u32 = i32::MAX as u32;

// Mainline's BUILD_BUG_ONs: the minimal sizes are the uapi v1 headers.
const _: () = assert!(size_of::<bindings::mptcp_subflow_data>() == MIN_INFO_OPTLEN_SIZE);
const _: () =
    assert!(offset_of!(bindings::mptcp_full_info, mptcp_info) == MIN_FULL_INFO_OPTLEN_SIZE);
// Two `__kernel_sockaddr_storage` unions.
const _: () = assert!(size_of::<bindings::mptcp_subflow_addrs>() == 256);

/// An errno the kernel crate has no constant for.
fn errno(e: u32) -> Error {
    Error::from_errno(-(e as c_int))
}

/// Mainline numbers subflows from 1; the first subflow is 1.
const FIRST_SUBFLOW_ID: u32 = 1;

/// Whether mainline would consider the msk fallen back to TCP: not MPTCP,
/// not an MPTCP listener, not an MP_CAPABLE connect in progress, and not a
/// fresh socket (mainline decides fallback at connect/accept time).
/// `ssk` is the msk's subflow; read without its lock, as mainline's
/// fallback test (a concurrent connect makes either answer valid).
pub(crate) fn is_fallback(ssk: &TcpSock) -> bool {
    let st = subflow::state_of(ssk);
    if subflow::is_mptcp_state(st)
        || st == subflow::state::LISTEN
        || st == subflow::state::SYN_SENT
        || st == subflow::state::RESET
    {
        return false;
    }
    if st != 0 {
        return true;
    }
    !(ssk.state() == bindings::TCP_CLOSE as c_int && ssk.dport() == 0)
}

/// getsockopt() result of an int option: up to `*optlen` bytes of it, and
/// the length written back (mainline's size negotiation for ints).
pub(crate) fn put_int(optval: UserPtr, optlen: UserPtr, v: c_int) -> c_int {
    let res = optlen.read_int().and_then(|len| {
        let len = usize::try_from(len)
            .map_err(|_| EINVAL)?
            .min(size_of::<c_int>());
        optval.write_bytes(&v.to_ne_bytes()[..len])?;
        optlen.write_int(len as c_int)
    });
    match res {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

// ---- MPTCP_INFO -----------------------------------------------------------------

/// Mainline's `mptcp_getsockopt_info()`: min(user, kernel) bytes of
/// `mptcp_info`, zeros if the subflow is not (yet) in MPTCP state
/// (listener, connect in progress, fresh socket), as mainline answers with
/// what it has then.
fn info(ssk: &TcpSock, optval: UserPtr, optlen: UserPtr) -> Result {
    let len = optlen.read_int()?;
    let len = usize::try_from(len)
        .map_err(|_| EINVAL)?
        .min(size_of::<bindings::mptcp_info>());
    optval.write_zeroed::<bindings::mptcp_info>(|mi| {
        subflow::mptcp_info(ssk, mi);
        // `len` fits a c_int.
        optlen.write_int(len as c_int)?;
        Ok(len)
    })?;
    Ok(())
}

// ---- MPTCP_TCPINFO / MPTCP_SUBFLOW_ADDRS ---------------------------------------

/// Mainline's `mptcp_get_subflow_data()`: the user's header, validated,
/// read into `sfd`; returns the number of bytes after it.
fn get_subflow_data(
    sfd: &mut bindings::mptcp_subflow_data,
    optval: UserPtr,
    optlen: UserPtr,
) -> Result<u32> {
    let len = optlen.read_int()?;
    let len = u32::try_from(len).map_err(|_| EINVAL)?;
    if len < MIN_INFO_OPTLEN_SIZE as u32 {
        return Err(EINVAL);
    }
    optval.read_into(sfd, size_of::<bindings::mptcp_subflow_data>())?;
    // size_subflow_data is u32, but len is signed.
    if sfd.size_subflow_data > INT_MAX || sfd.size_user > INT_MAX {
        return Err(EINVAL);
    }
    if sfd.size_subflow_data < MIN_INFO_OPTLEN_SIZE as u32 || sfd.size_subflow_data > len {
        return Err(EINVAL);
    }
    if sfd.num_subflows != 0 || sfd.size_kernel != 0 {
        return Err(EINVAL);
    }
    Ok(len - sfd.size_subflow_data)
}

/// One subflow's element of an `MPTCP_TCPINFO`/`MPTCP_SUBFLOW_ADDRS` array.
enum Elem {
    TcpInfo,
    Addrs,
}

/// Copies the subflow's `tcp_info`, `len` bytes of it, to `dst`.
fn put_tcp_info(ssk: &TcpSock, dst: UserPtr, len: usize) -> Result {
    dst.write_zeroed::<bindings::tcp_info>(|info| {
        ssk.tcp_info(info);
        Ok(len)
    })?;
    Ok(())
}

/// Mainline's `mptcp_getsockopt_tcpinfo()` and
/// `mptcp_getsockopt_subflow_addrs()`, with `mptcp_put_subflow_data()`:
/// the elements, then the total length and the header (only its first
/// min(size_subflow_data, kernel size) bytes; header only if no element
/// was copied).
fn subflow_array(ssk: &TcpSock, elem: Elem, optval: UserPtr, optlen: UserPtr) -> Result {
    optval.write_zeroed::<bindings::mptcp_subflow_data>(|sfd| {
        let len = get_subflow_data(sfd, optval, optlen)?;
        let size_kernel = match elem {
            Elem::TcpInfo => size_of::<bindings::tcp_info>(),
            Elem::Addrs => size_of::<bindings::mptcp_subflow_addrs>(),
        } as u32;
        sfd.size_kernel = size_kernel;
        sfd.size_user = sfd.size_user.min(size_kernel);
        let dst = optval.add(sfd.size_subflow_data as usize);
        let mut copied = 0u32;
        // The subflow list is `first` only: one element, if it fits.
        if len != 0 && len >= sfd.size_user {
            let n = sfd.size_user as usize;
            match elem {
                Elem::TcpInfo => put_tcp_info(ssk, dst, n)?,
                Elem::Addrs => {
                    dst.write_zeroed::<bindings::mptcp_subflow_addrs>(|a| {
                        ssk.addrs(a);
                        Ok(n)
                    })?;
                }
            }
            copied = sfd.size_user;
        }
        sfd.num_subflows = 1;
        let copylen = sfd
            .size_subflow_data
            .min(size_of::<bindings::mptcp_subflow_data>() as u32);
        // Both are bounded by the user's int length: no overflow.
        let total = if copied != 0 {
            copied.saturating_add(sfd.size_subflow_data)
        } else {
            copylen
        };
        optlen.write_int(total as c_int)?;
        Ok(copylen as usize)
    })?;
    Ok(())
}

// ---- MPTCP_FULL_INFO ------------------------------------------------------------

/// Mainline's `mptcp_getsockopt_full_info()`.
fn full_info(ssk: &TcpSock, optval: UserPtr, optlen: UserPtr) -> Result {
    let len = optlen.read_int()?;
    let len = u32::try_from(len).map_err(|_| EINVAL)?;
    if len < MIN_FULL_INFO_OPTLEN_SIZE as u32 {
        return Err(EINVAL);
    }
    optval.write_zeroed::<bindings::mptcp_full_info>(|mfi| {
        // The header before `mptcp_info`.
        optval.read_into(mfi, MIN_FULL_INFO_OPTLEN_SIZE)?;
        if mfi.size_tcpinfo_kernel != 0 || mfi.size_sfinfo_kernel != 0 || mfi.num_subflows != 0 {
            return Err(EINVAL);
        }
        if mfi.size_sfinfo_user > INT_MAX || mfi.size_tcpinfo_user > INT_MAX {
            return Err(EINVAL);
        }
        let len = len - MIN_FULL_INFO_OPTLEN_SIZE as u32;
        let mut copylen = 0u32;
        // No mptcp_info if user space has no room for it.
        if len > 0 {
            // Left zero when the subflow is not (yet) in MPTCP state
            // (listener, connect in progress, fresh socket).
            subflow::mptcp_info(ssk, &mut mfi.mptcp_info);
            copylen = len.min(size_of::<bindings::mptcp_info>() as u32);
        }
        mfi.size_tcpinfo_kernel = size_of::<bindings::tcp_info>() as u32;
        mfi.size_tcpinfo_user = mfi.size_tcpinfo_user.min(mfi.size_tcpinfo_kernel);
        mfi.size_sfinfo_kernel = size_of::<bindings::mptcp_subflow_info>() as u32;
        mfi.size_sfinfo_user = mfi.size_sfinfo_user.min(mfi.size_sfinfo_kernel);
        let sfinfoptr = UserPtr::from_u64(mfi.subflow_info);
        let tcpinfoptr = UserPtr::from_u64(mfi.tcp_info);
        // The subflow list is `first` only: one element, if user space
        // wants it.
        if mfi.size_arrays_user > 0 {
            let sfinfo_user = mfi.size_sfinfo_user as usize;
            sfinfoptr.write_zeroed::<bindings::mptcp_subflow_info>(|sfinfo| {
                sfinfo.id = FIRST_SUBFLOW_ID;
                // Addresses only if the user's element reaches them.
                if sfinfo_user > offset_of!(bindings::mptcp_subflow_info, addrs) {
                    ssk.addrs(&mut sfinfo.addrs);
                }
                Ok(sfinfo_user)
            })?;
            if mfi.size_tcpinfo_user != 0 {
                put_tcp_info(ssk, tcpinfoptr, mfi.size_tcpinfo_user as usize)?;
            }
        }
        mfi.num_subflows = 1;
        copylen += MIN_FULL_INFO_OPTLEN_SIZE as u32;
        optlen.write_int(copylen as c_int)?;
        Ok(copylen as usize)
    })?;
    Ok(())
}

/// The msk's getsockopt for the options of this file, on the connection
/// whose (first) subflow is `ssk` (process context, not locked): Some(result),
/// or None if not handled here (other options, and everything on a fallback
/// connection: the caller forwards those to the subflow, as mainline does).
/// `optval`/`optlen` are the user pointers of the getsockopt system call.
pub(crate) fn getsockopt(
    ssk: &TcpSock,
    level: c_int,
    optname: c_int,
    optval: UserPtr,
    optlen: UserPtr,
) -> Option<c_int> {
    if level != SOL_MPTCP
        || !matches!(
            optname,
            MPTCP_INFO | MPTCP_TCPINFO | MPTCP_SUBFLOW_ADDRS | MPTCP_FULL_INFO
        )
    {
        return None;
    }
    if is_fallback(ssk) {
        return None;
    }
    let ret = match optname {
        MPTCP_INFO => info(ssk, optval, optlen),
        MPTCP_TCPINFO => subflow_array(ssk, Elem::TcpInfo, optval, optlen),
        MPTCP_SUBFLOW_ADDRS => subflow_array(ssk, Elem::Addrs, optval, optlen),
        _ => full_info(ssk, optval, optlen),
    };
    Some(match ret {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    })
}

// ---- setsockopt ------------------------------------------------------------------

/// Mainline's `SOL_SOCKET` options for an msk (`mptcp_setsockopt_sol_socket`).
fn sol_socket_supported(optname: c_int) -> bool {
    use bindings::*;
    // Some of these are no-ops on a mainline msk (SO_BROADCAST, ...); here
    // they act on the subflow as on TCP.
    matches!(
        optname as u32,
        SO_REUSEPORT
            | SO_REUSEADDR
            | SO_BINDTODEVICE
            | SO_BINDTOIFINDEX
            | SO_KEEPALIVE
            | SO_PRIORITY
            | SO_SNDBUF
            | SO_SNDBUFFORCE
            | SO_RCVBUF
            | SO_RCVBUFFORCE
            | SO_MARK
            | SO_INCOMING_CPU
            | SO_DEBUG
            | SO_TIMESTAMP_OLD
            | SO_TIMESTAMP_NEW
            | SO_TIMESTAMPNS_OLD
            | SO_TIMESTAMPNS_NEW
            | SO_TIMESTAMPING_OLD
            | SO_TIMESTAMPING_NEW
            | SO_LINGER
            | SO_RCVLOWAT
            | SO_RCVTIMEO_OLD
            | SO_RCVTIMEO_NEW
            | SO_SNDTIMEO_OLD
            | SO_SNDTIMEO_NEW
            | SO_BUSY_POLL
            | SO_PREFER_BUSY_POLL
            | SO_BUSY_POLL_BUDGET
            | SO_NO_CHECK
            | SO_DONTROUTE
            | SO_BROADCAST
            | SO_BSDCOMPAT
            | SO_PASSCRED
            | SO_PASSPIDFD
            | SO_PASSSEC
            | SO_RXQ_OVFL
            | SO_WIFI_STATUS
            | SO_NOFCS
            | SO_SELECT_ERR_QUEUE
    )
}

/// Mainline's `mptcp_supported_sockopt()`: the other levels.
fn mptcp_supported_sockopt(level: c_int, optname: c_int) -> bool {
    let o = optname as u32;
    match level {
        SOL_IP => sol_ip_supported(o),
        SOL_IPV6 => sol_ipv6_supported(o),
        SOL_TCP => sol_tcp_supported(o),
        _ => false,
    }
}

fn sol_ip_supported(o: u32) -> bool {
    use bindings::*;
    // Not IP_OPTIONS (per subflow), raw-only or multicast options.
    matches!(
        o,
        IP_FREEBIND
            | IP_TRANSPARENT
            | IP_BIND_ADDRESS_NO_PORT
            | IP_LOCAL_PORT_RANGE
            | IP_PKTINFO
            | IP_RECVTTL
            | IP_RECVTOS
            | IP_RECVOPTS
            | IP_RETOPTS
            | IP_PASSSEC
            | IP_RECVORIGDSTADDR
            | IP_CHECKSUM
            | IP_RECVFRAGSIZE
            | IP_TOS
            | IP_TTL
            | IP_MTU_DISCOVER
            | IP_RECVERR
            | IP_MINTTL
            | IP_RECVERR_RFC4884
    )
}

fn sol_ipv6_supported(o: u32) -> bool {
    use bindings::*;
    // Not extension headers, multicast, router alert or address preferences.
    matches!(
        o,
        IPV6_V6ONLY
            | IPV6_RECVPKTINFO
            | IPV6_2292PKTINFO
            | IPV6_RECVHOPLIMIT
            | IPV6_2292HOPLIMIT
            | IPV6_RECVRTHDR
            | IPV6_2292RTHDR
            | IPV6_RECVHOPOPTS
            | IPV6_2292HOPOPTS
            | IPV6_RECVDSTOPTS
            | IPV6_2292DSTOPTS
            | IPV6_RECVTCLASS
            | IPV6_FLOWINFO
            | IPV6_RECVPATHMTU
            | IPV6_RECVORIGDSTADDR
            | IPV6_RECVFRAGSIZE
            | IPV6_TCLASS
            | IPV6_TRANSPARENT
            | IPV6_FREEBIND
            | IPV6_PKTINFO
            | IPV6_2292PKTOPTIONS
            | IPV6_UNICAST_HOPS
            | IPV6_MTU_DISCOVER
            | IPV6_MTU
            | IPV6_RECVERR
            | IPV6_FLOWINFO_SEND
            | IPV6_FLOWLABEL_MGR
            | IPV6_MINHOPCOUNT
            | IPV6_DONTFRAG
            | IPV6_AUTOFLOWLABEL
            | IPV6_RECVERR_RFC4884
    )
}

fn sol_tcp_supported(o: u32) -> bool {
    use bindings::*;
    // Not TCP_ULP (it would replace our ULP on the subflow), TCP_MD5SIG*
    // (incompatible with MPTCP), TCP_REPAIR*.
    matches!(
        o,
        TCP_THIN_DUPACK
            | TCP_DEFER_ACCEPT
            | TCP_MAXSEG
            | TCP_NODELAY
            | TCP_THIN_LINEAR_TIMEOUTS
            | TCP_CONGESTION
            | TCP_CORK
            | TCP_KEEPIDLE
            | TCP_KEEPINTVL
            | TCP_KEEPCNT
            | TCP_SYNCNT
            | TCP_SAVE_SYN
            | TCP_LINGER2
            | TCP_WINDOW_CLAMP
            | TCP_QUICKACK
            | TCP_USER_TIMEOUT
            | TCP_TIMESTAMP
            | TCP_NOTSENT_LOWAT
            | TCP_TX_DELAY
            | TCP_INQ
            | TCP_FASTOPEN
            | TCP_FASTOPEN_CONNECT
            | TCP_FASTOPEN_KEY
            | TCP_FASTOPEN_NO_COOKIE
    )
}

/// Whether the msk accepts setsockopt(`level`, `optname`), with mainline's
/// error if not: EOPNOTSUPP for `SOL_SOCKET`, ENOPROTOOPT for the other
/// levels (checked before mainline's fallback test, so on every msk).
pub(crate) fn setsockopt_check(level: c_int, optname: c_int) -> Result {
    if level == SOL_SOCKET {
        return if sol_socket_supported(optname) {
            Ok(())
        } else {
            Err(errno(bindings::EOPNOTSUPP))
        };
    }
    if mptcp_supported_sockopt(level, optname) {
        Ok(())
    } else {
        Err(errno(bindings::ENOPROTOOPT))
    }
}
