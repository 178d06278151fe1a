// SPDX-License-Identifier: GPL-2.0

//! MPTCP-level socket options, after mainline's `net/mptcp/sockopt.c`.
//!
//! - `SOL_MPTCP` `MPTCP_INFO` reports the connection; `MPTCP_TCPINFO`,
//!   `MPTCP_SUBFLOW_ADDRS` and `MPTCP_FULL_INFO` report per-subflow data
//!   (one subflow today: `first`) with mainline's uapi layouts and size
//!   negotiation: user space states the sizes it knows, the kernel copies
//!   min(user, kernel) bytes per element and writes back the sizes it used
//!   and its own, so old and new binaries keep working on either side.
//! - Every struct that reaches user space is built by [`put_zeroed`] in a
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

use core::ffi::c_void;
use core::mem::{offset_of, size_of, MaybeUninit};
use core::ptr;

use kernel::bindings;
use kernel::ffi::{c_char, c_int, c_uint};
use kernel::prelude::*;

use crate::subflow;

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
// [`sub_addrs`] writes these whole: they must have no padding (the sum of
// their fields).
const _: () = assert!(size_of::<bindings::sockaddr_in>() == 2 + 2 + 4 + 8);
const _: () = assert!(size_of::<bindings::sockaddr_in6>() == 2 + 2 + 4 + 16 + 4);

/// An errno the kernel crate has no constant for.
fn errno(e: u32) -> Error {
    Error::from_errno(-(e as c_int))
}

/// Mainline numbers subflows from 1; the first subflow is 1.
const FIRST_SUBFLOW_ID: u32 = 1;

/// Whether mainline would consider the msk fallen back to TCP: not MPTCP,
/// not an MPTCP listener, not an MP_CAPABLE connect in progress, and not a
/// fresh socket (mainline decides fallback at connect/accept time).
///
/// # Safety
///
/// `ssk` must be a live full TCP socket.
pub(crate) unsafe fn is_fallback(ssk: *mut bindings::sock) -> bool {
    // SAFETY: the caller guarantees: `ssk` must be a live full TCP socket.
    let st = unsafe { subflow::state_of(ssk) };
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
    // SAFETY: `ssk` is live; a racy read is fine, as for mainline's lockless
    // fallback test: a concurrent connect makes either answer valid.
    unsafe {
        let dport = (*ssk)
            .__sk_common
            .__bindgen_anon_3
            .__bindgen_anon_1
            .skc_dport;
        !(bindings::inet_sk_state_load(ssk) == bindings::TCP_CLOSE as c_int && dport == 0)
    }
}

// ---- user memory -------------------------------------------------------------

/// # Safety
///
/// `p` is a user pointer (checked by copy_from_user).
unsafe fn get_user_int(p: *const c_int) -> Result<c_int> {
    let mut v: c_int = 0;
    // SAFETY: `v` is a valid kernel destination; the user pointer is checked.
    let left = unsafe {
        bindings::copy_from_user(
            ptr::addr_of_mut!(v).cast(),
            p.cast(),
            size_of::<c_int>() as _,
        )
    };
    if left != 0 {
        return Err(EFAULT);
    }
    Ok(v)
}

/// The int value of a setsockopt() option, as mainline's
/// `mptcp_get_int_option()`: EINVAL if `optlen` is short.
///
/// # Safety
///
/// `optval` is the option pointer of the setsockopt call (a user pointer,
/// checked by copy_from_user, or a kernel one valid for `optlen` bytes).
pub(crate) unsafe fn get_sockptr_int(optval: bindings::sockptr_t, optlen: c_uint) -> Result<c_int> {
    if (optlen as usize) < size_of::<c_int>() {
        return Err(EINVAL);
    }
    if optval.is_kernel() {
        // SAFETY: a kernel sockptr is valid for `optlen` bytes (# Safety),
        // checked above to hold an int; it may be unaligned.
        return Ok(unsafe { ptr::read_unaligned(optval.__bindgen_anon_1.kernel.cast::<c_int>()) });
    }
    // SAFETY: a user pointer, checked by copy_from_user.
    unsafe { get_user_int(optval.__bindgen_anon_1.user.cast::<c_int>()) }
}

/// # Safety
///
/// `p` is a user pointer (checked by copy_to_user).
pub(crate) unsafe fn put_user_int(p: *mut c_int, v: c_int) -> Result {
    // SAFETY: `v` is a valid kernel source; the user pointer is checked.
    unsafe { copy_out(p.cast(), ptr::addr_of!(v).cast(), size_of::<c_int>()) }
}

/// Copies `len` bytes of a kernel object to user space.
///
/// # Safety
///
/// `src` is valid for reads of `len` bytes; `dst` is a user pointer.
unsafe fn copy_out(dst: *mut c_void, src: *const c_void, len: usize) -> Result {
    // SAFETY: per the caller; copy_to_user checks `dst`.
    if unsafe { bindings::copy_to_user(dst, src, len as _) } != 0 {
        return Err(EFAULT);
    }
    Ok(())
}

/// Copies `len` bytes from user space into a kernel object.
///
/// # Safety
///
/// `dst` is valid for writes of `len` bytes and any bytes are a valid value
/// for it; `src` is a user pointer.
unsafe fn copy_in(dst: *mut c_void, src: *const c_void, len: usize) -> Result {
    // SAFETY: per the caller; copy_from_user checks `src`.
    if unsafe { bindings::copy_from_user(dst, src, len as _) } != 0 {
        return Err(EFAULT);
    }
    Ok(())
}

/// A user pointer `off` bytes past `p` (never dereferenced by us).
fn user_add(p: *mut c_void, off: usize) -> *mut c_void {
    p.cast::<u8>().wrapping_add(off).cast()
}

/// A uapi struct that this file copies to user space.
///
/// # Safety
///
/// All-zero bytes must be a valid value: integers, and arrays, unions and
/// structs of those.
unsafe trait UserStruct {}

// SAFETY: integers only (uapi `linux/mptcp.h`, `linux/tcp.h`).
unsafe impl UserStruct for bindings::mptcp_info {}
// SAFETY: integers only (uapi `linux/tcp.h`).
unsafe impl UserStruct for bindings::tcp_info {}
// SAFETY: integers only (uapi `linux/mptcp.h`).
unsafe impl UserStruct for bindings::mptcp_subflow_data {}
// SAFETY: unions of integer sockaddrs.
unsafe impl UserStruct for bindings::mptcp_subflow_addrs {}
// SAFETY: an integer and the above.
unsafe impl UserStruct for bindings::mptcp_subflow_info {}
// SAFETY: integers and the above.
unsafe impl UserStruct for bindings::mptcp_full_info {}

/// Builds a `T` for user space and copies the first `len` bytes of it to
/// `dst`, where `len` is what `fill` returns (the negotiated size, clamped
/// to `size_of::<T>()`); returns `len`.  Nothing is copied if `fill` fails.
///
/// `fill` gets a `T` in a zeroed stack buffer that never moves, and the
/// bytes are copied from that buffer, not from a copy of the value: padding
/// and whatever `fill` leaves alone read as zero, never as old kernel stack.
/// A Rust move or assignment of a whole struct need not carry its padding,
/// so `fill` writes fields (and nested structs in place, through pointers);
/// it must not assign a whole `T` or a nested struct that has padding.
///
/// # Safety
///
/// `dst` is a user pointer (checked by copy_to_user).
unsafe fn put_zeroed<T: UserStruct>(
    dst: *mut c_void,
    fill: impl FnOnce(&mut T) -> Result<usize>,
) -> Result<usize> {
    let mut buf = MaybeUninit::<T>::uninit();
    let p = buf.as_mut_ptr();
    // SAFETY: `p` is valid for writes of one `T`; zeroed, it is a valid `T`
    // (`UserStruct`), so the reference is valid for `fill`.
    let len = unsafe {
        ptr::write_bytes(p, 0, 1);
        fill(&mut *p)
    }?
    .min(size_of::<T>());
    // SAFETY: the buffer is valid for reads of `size_of::<T>()` >= `len`
    // bytes, all initialised (zeroed, then written); copy_to_user checks
    // `dst`.
    unsafe { copy_out(dst, p.cast_const().cast(), len) }?;
    Ok(len)
}

// ---- subflow data ------------------------------------------------------------

/// Copies the subflow's `tcp_info`, `len` bytes of it, to `dst`.
///
/// # Safety
///
/// `ssk` must be a live full TCP socket, process context, not locked; `dst`
/// a user pointer.
unsafe fn put_tcp_info(ssk: *mut bindings::sock, dst: *mut c_void, len: usize) -> Result {
    // SAFETY: per the caller; tcp_get_info() takes the socket lock itself
    // and fills `info` in place.
    unsafe {
        put_zeroed::<bindings::tcp_info>(dst, |info| {
            bindings::tcp_get_info(ssk, info);
            Ok(len)
        })
    }?;
    Ok(())
}

/// Mainline's `mptcp_get_sub_addrs()`: the subflow's local and remote
/// addresses as `sockaddr_in`/`sockaddr_in6`, written into `a` (zeroed by
/// the caller; bytes past the sockaddrs are left alone).
///
/// # Safety
///
/// `ssk` must be a live full TCP socket, process context, not locked.
unsafe fn sub_addrs(ssk: *mut bindings::sock, a: &mut bindings::mptcp_subflow_addrs) {
    let local = ptr::addr_of_mut!(a.__bindgen_anon_1).cast::<u8>();
    let remote = ptr::addr_of_mut!(a.__bindgen_anon_2).cast::<u8>();
    // Each union is 128 bytes, room for a `sockaddr_in6`, written unaligned
    // to be independent of the union's alignment (neither sockaddr has
    // padding: asserted above).
    // SAFETY: a TCP sock is an `inet_sock`; the addresses are read under the
    // socket lock (connect/bind write them under it).
    unsafe {
        bindings::lock_sock(ssk);
        let inet = ssk.cast::<bindings::inet_sock>();
        let skc = &(*ssk).__sk_common;
        let dport = skc.__bindgen_anon_3.__bindgen_anon_1.skc_dport;
        match u32::from(skc.skc_family) {
            bindings::AF_INET => {
                let addrs = skc.__bindgen_anon_1.__bindgen_anon_1;
                let mut saddr = addrs.skc_rcv_saddr;
                if saddr == 0 {
                    saddr = (*inet).inet_saddr;
                }
                let mut sin = bindings::sockaddr_in {
                    sin_family: bindings::AF_INET as _,
                    sin_port: (*inet).inet_sport,
                    sin_addr: bindings::in_addr { s_addr: saddr },
                    __pad: [0; 8],
                };
                ptr::write_unaligned(local.cast(), sin);
                sin.sin_port = dport;
                sin.sin_addr.s_addr = addrs.skc_daddr;
                ptr::write_unaligned(remote.cast(), sin);
            }
            bindings::AF_INET6 if !(*inet).pinet6.is_null() => {
                let any = skc.skc_v6_rcv_saddr.in6_u.u6_addr32 == [0; 4];
                let mut sin6 = bindings::sockaddr_in6 {
                    sin6_family: bindings::AF_INET6 as _,
                    sin6_port: (*inet).inet_sport,
                    sin6_flowinfo: 0,
                    sin6_addr: if any {
                        (*(*inet).pinet6).saddr
                    } else {
                        skc.skc_v6_rcv_saddr
                    },
                    sin6_scope_id: 0,
                };
                ptr::write_unaligned(local.cast(), sin6);
                sin6.sin6_port = dport;
                sin6.sin6_addr = skc.skc_v6_daddr;
                ptr::write_unaligned(remote.cast(), sin6);
            }
            _ => {}
        }
        bindings::release_sock(ssk);
    }
}

// ---- MPTCP_INFO -----------------------------------------------------------------

/// Mainline's `mptcp_getsockopt_info()`: min(user, kernel) bytes of
/// `mptcp_info`, zeros if the subflow is not (yet) in MPTCP state
/// (listener, connect in progress, fresh socket), as mainline answers with
/// what it has then.
///
/// # Safety
///
/// As [`subflow_array`].
unsafe fn info(ssk: *mut bindings::sock, optval: *mut c_char, optlen: *mut c_int) -> Result {
    // SAFETY: the caller guarantees: as [`subflow_array`].
    let len = unsafe { get_user_int(optlen) }?;
    let len = usize::try_from(len)
        .map_err(|_| EINVAL)?
        .min(size_of::<bindings::mptcp_info>());
    // SAFETY: per the caller; `len` fits a c_int.
    unsafe {
        put_zeroed::<bindings::mptcp_info>(optval.cast(), |mi| {
            subflow::mptcp_info(crate::sys::TcpSock::from_raw(ssk), mi);
            put_user_int(optlen, len as c_int)?;
            Ok(len)
        })
    }?;
    Ok(())
}

// ---- MPTCP_TCPINFO / MPTCP_SUBFLOW_ADDRS ---------------------------------------

/// Mainline's `mptcp_get_subflow_data()`: the user's header, validated,
/// read into `sfd`; returns the number of bytes after it.
///
/// # Safety
///
/// User pointers from the getsockopt system call.
unsafe fn get_subflow_data(
    sfd: &mut bindings::mptcp_subflow_data,
    optval: *mut c_char,
    optlen: *mut c_int,
) -> Result<u32> {
    // SAFETY: the caller guarantees: user pointers from the getsockopt system call.
    let len = unsafe { get_user_int(optlen) }?;
    let len = u32::try_from(len).map_err(|_| EINVAL)?;
    if len < MIN_INFO_OPTLEN_SIZE as u32 {
        return Err(EINVAL);
    }
    let copylen = size_of::<bindings::mptcp_subflow_data>();
    // SAFETY: `sfd` is plain integers; `len` covers `copylen` bytes.
    unsafe { copy_in(ptr::from_mut(sfd).cast(), optval.cast(), copylen) }?;
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

/// Mainline's `mptcp_getsockopt_tcpinfo()` and
/// `mptcp_getsockopt_subflow_addrs()`, with `mptcp_put_subflow_data()`:
/// the elements, then the total length and the header (only its first
/// min(size_subflow_data, kernel size) bytes; header only if no element
/// was copied).
///
/// # Safety
///
/// `ssk` a live full TCP socket, process context, unlocked; user pointers
/// from the getsockopt system call.
unsafe fn subflow_array(
    ssk: *mut bindings::sock,
    elem: Elem,
    optval: *mut c_char,
    optlen: *mut c_int,
) -> Result {
    // SAFETY: the caller guarantees: `ssk` a live full TCP socket, process context, unlocked; user
    // pointers from the getsockopt system call.
    unsafe {
        put_zeroed::<bindings::mptcp_subflow_data>(optval.cast(), |sfd| {
            let len = get_subflow_data(sfd, optval, optlen)?;
            let size_kernel = match elem {
                Elem::TcpInfo => size_of::<bindings::tcp_info>(),
                Elem::Addrs => size_of::<bindings::mptcp_subflow_addrs>(),
            } as u32;
            sfd.size_kernel = size_kernel;
            sfd.size_user = sfd.size_user.min(size_kernel);
            let dst = user_add(optval.cast(), sfd.size_subflow_data as usize);
            let mut copied = 0u32;
            // The subflow list is `first` only: one element, if it fits.
            if len != 0 && len >= sfd.size_user {
                let n = sfd.size_user as usize;
                match elem {
                    Elem::TcpInfo => put_tcp_info(ssk, dst, n)?,
                    Elem::Addrs => {
                        put_zeroed::<bindings::mptcp_subflow_addrs>(dst, |a| {
                            sub_addrs(ssk, a);
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
            put_user_int(optlen, total as c_int)?;
            Ok(copylen as usize)
        })
    }?;
    Ok(())
}

// ---- MPTCP_FULL_INFO ------------------------------------------------------------

/// Mainline's `mptcp_getsockopt_full_info()`.
///
/// # Safety
///
/// As [`subflow_array`].
unsafe fn full_info(ssk: *mut bindings::sock, optval: *mut c_char, optlen: *mut c_int) -> Result {
    // SAFETY: the caller guarantees: as [`subflow_array`].
    let len = unsafe { get_user_int(optlen) }?;
    let len = u32::try_from(len).map_err(|_| EINVAL)?;
    if len < MIN_FULL_INFO_OPTLEN_SIZE as u32 {
        return Err(EINVAL);
    }
    // SAFETY: the caller guarantees: as [`subflow_array`].
    unsafe {
        put_zeroed::<bindings::mptcp_full_info>(optval.cast(), |mfi| {
            // `mfi` is plain integers, larger than the header.
            copy_in(
                ptr::from_mut(mfi).cast(),
                optval.cast(),
                MIN_FULL_INFO_OPTLEN_SIZE,
            )?;
            if mfi.size_tcpinfo_kernel != 0 || mfi.size_sfinfo_kernel != 0 || mfi.num_subflows != 0
            {
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
                subflow::mptcp_info(crate::sys::TcpSock::from_raw(ssk), &mut mfi.mptcp_info);
                copylen = len.min(size_of::<bindings::mptcp_info>() as u32);
            }
            mfi.size_tcpinfo_kernel = size_of::<bindings::tcp_info>() as u32;
            mfi.size_tcpinfo_user = mfi.size_tcpinfo_user.min(mfi.size_tcpinfo_kernel);
            mfi.size_sfinfo_kernel = size_of::<bindings::mptcp_subflow_info>() as u32;
            mfi.size_sfinfo_user = mfi.size_sfinfo_user.min(mfi.size_sfinfo_kernel);
            let sfinfoptr = mfi.subflow_info as usize as *mut c_void;
            let tcpinfoptr = mfi.tcp_info as usize as *mut c_void;
            // The subflow list is `first` only: one element, if user space
            // wants it.
            if mfi.size_arrays_user > 0 {
                let sfinfo_user = mfi.size_sfinfo_user as usize;
                put_zeroed::<bindings::mptcp_subflow_info>(sfinfoptr, |sfinfo| {
                    sfinfo.id = FIRST_SUBFLOW_ID;
                    // Addresses only if the user's element reaches them.
                    if sfinfo_user > offset_of!(bindings::mptcp_subflow_info, addrs) {
                        sub_addrs(ssk, &mut sfinfo.addrs);
                    }
                    Ok(sfinfo_user)
                })?;
                if mfi.size_tcpinfo_user != 0 {
                    put_tcp_info(ssk, tcpinfoptr, mfi.size_tcpinfo_user as usize)?;
                }
            }
            mfi.num_subflows = 1;
            copylen += MIN_FULL_INFO_OPTLEN_SIZE as u32;
            put_user_int(optlen, copylen as c_int)?;
            Ok(copylen as usize)
        })
    }?;
    Ok(())
}

/// The msk's getsockopt for the options of this file, on the connection
/// whose (first) subflow is `ssk`: Some(result), or None if not handled
/// here (other options, and everything on a fallback connection: the caller
/// forwards those to the subflow, as mainline does).
///
/// # Safety
///
/// `ssk` must be the msk's live subflow sock, process context, not locked;
/// `optval`/`optlen` the user pointers of the getsockopt system call.
pub(crate) unsafe fn getsockopt(
    ssk: *mut bindings::sock,
    level: c_int,
    optname: c_int,
    optval: *mut c_char,
    optlen: *mut c_int,
) -> Option<c_int> {
    if level != SOL_MPTCP
        || !matches!(
            optname,
            MPTCP_INFO | MPTCP_TCPINFO | MPTCP_SUBFLOW_ADDRS | MPTCP_FULL_INFO
        )
    {
        return None;
    }
    // SAFETY: the caller guarantees: `ssk` must be the msk's live subflow sock, process context, not
    // locked; `optval`/`optlen` the user pointers of the getsockopt system call.
    if unsafe { is_fallback(ssk) } {
        return None;
    }
    // SAFETY: the caller guarantees: `ssk` must be the msk's live subflow sock, process context, not
    // locked; `optval`/`optlen` the user pointers of the getsockopt system call.
    let ret = unsafe {
        match optname {
            MPTCP_INFO => info(ssk, optval, optlen),
            MPTCP_TCPINFO => subflow_array(ssk, Elem::TcpInfo, optval, optlen),
            MPTCP_SUBFLOW_ADDRS => subflow_array(ssk, Elem::Addrs, optval, optlen),
            _ => full_info(ssk, optval, optlen),
        }
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
