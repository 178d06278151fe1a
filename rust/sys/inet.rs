// SPDX-License-Identifier: GPL-2.0

//! What the inet layer knows of a socket: its addresses and ports, and
//! TCP's `tcp_info`.

use core::ptr;

use kernel::bindings;

use super::{Sock, TcpSock};

// [`TcpSock::addrs`] writes these whole: they must have no padding (the
// sum of their fields).
const _: () = assert!(core::mem::size_of::<bindings::sockaddr_in>() == 2 + 2 + 4 + 8);
const _: () = assert!(core::mem::size_of::<bindings::sockaddr_in6>() == 2 + 2 + 4 + 16 + 4);

impl Sock {
    /// The remote port (network order; 0 when not connected), read
    /// locklessly: a concurrent connect makes either answer valid.
    pub(crate) fn dport(&self) -> u16 {
        // SAFETY: a live socket (type invariant); a racy read of a u16.
        unsafe {
            (*self.as_ptr())
                .__sk_common
                .__bindgen_anon_3
                .__bindgen_anon_1
                .skc_dport
        }
    }
}

impl TcpSock {
    /// TCP's `tcp_info` of the socket (`tcp_get_info()`, which takes the
    /// socket lock itself: the caller must not hold it), written into
    /// `info` field by field.
    pub(crate) fn tcp_info(&self, info: &mut bindings::tcp_info) {
        // SAFETY: a live full TCP socket (type invariant), process context;
        // `info` is writable.
        unsafe { bindings::tcp_get_info(self.as_ptr(), info) };
    }

    /// Mainline's `mptcp_get_sub_addrs()`: the local and remote addresses
    /// as `sockaddr_in`/`sockaddr_in6`, written into `a` (bytes past the
    /// sockaddrs are left alone).  Takes the socket lock: the caller must
    /// not hold it.
    pub(crate) fn addrs(&self, a: &mut bindings::mptcp_subflow_addrs) {
        let local = ptr::addr_of_mut!(a.__bindgen_anon_1).cast::<u8>();
        let remote = ptr::addr_of_mut!(a.__bindgen_anon_2).cast::<u8>();
        let _g = self.lock();
        let sk = self.as_ptr();
        // Each union is 128 bytes, room for a `sockaddr_in6`, written
        // unaligned to be independent of the union's alignment (neither
        // sockaddr has padding: asserted above).
        // SAFETY: a TCP sock is an `inet_sock`; the addresses are read under
        // the socket lock (connect/bind write them under it).
        unsafe {
            let inet = sk.cast::<bindings::inet_sock>();
            let skc = &(*sk).__sk_common;
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
        }
    }
}
