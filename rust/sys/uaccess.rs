// SPDX-License-Identifier: GPL-2.0

//! User memory: addresses from system calls ([`UserPtr`]), the option
//! pointer of setsockopt ([`SockPtr`]), and the uapi structs copied across
//! ([`Pod`]).

use core::ffi::c_void;
use core::mem::{size_of, MaybeUninit};
use core::ptr;

use kernel::bindings;
use kernel::ffi::{c_int, c_uint};
use kernel::prelude::*;

/// A user-space address.  Never dereferenced: every access goes through
/// `copy_to_user()`/`copy_from_user()`, which check that the range is user
/// memory and fail with EFAULT otherwise, so any value is safe to hold.
#[derive(Clone, Copy)]
pub(crate) struct UserPtr(*mut c_void);

/// A uapi struct copied to or from user space.
///
/// # Safety
///
/// Every byte pattern, all-zero included, must be a valid value: integers,
/// and arrays, unions and structs of those.
pub(crate) unsafe trait Pod {}

// SAFETY: integers only (uapi `linux/mptcp.h`, `linux/tcp.h`).
unsafe impl Pod for bindings::mptcp_info {}
// SAFETY: integers only (uapi `linux/tcp.h`).
unsafe impl Pod for bindings::tcp_info {}
// SAFETY: integers only (uapi `linux/mptcp.h`).
unsafe impl Pod for bindings::mptcp_subflow_data {}
// SAFETY: unions of integer sockaddrs.
unsafe impl Pod for bindings::mptcp_subflow_addrs {}
// SAFETY: an integer and the above.
unsafe impl Pod for bindings::mptcp_subflow_info {}
// SAFETY: integers and the above.
unsafe impl Pod for bindings::mptcp_full_info {}

impl UserPtr {
    /// The address `p` (a pointer argument of a system call).
    pub(crate) fn new<T>(p: *mut T) -> Self {
        Self(p.cast())
    }

    /// An address passed inside a uapi struct (`__u64`).
    pub(crate) fn from_u64(v: u64) -> Self {
        Self(v as usize as *mut c_void)
    }

    /// The raw address, for a kernel op that checks it itself.
    pub(super) fn as_ptr(&self) -> *mut c_void {
        self.0
    }

    /// The address `off` bytes further.
    pub(crate) fn add(self, off: usize) -> Self {
        Self(self.0.cast::<u8>().wrapping_add(off).cast())
    }

    /// Copies `len` bytes from `src` to the user.
    ///
    /// # Safety
    ///
    /// `src` is valid for reads of `len` bytes.
    unsafe fn copy_out(self, src: *const c_void, len: usize) -> Result {
        // SAFETY: per the caller; copy_to_user checks the user range.
        if unsafe { bindings::copy_to_user(self.0, src, len as _) } != 0 {
            return Err(EFAULT);
        }
        Ok(())
    }

    /// Reads an int.
    pub(crate) fn read_int(self) -> Result<c_int> {
        let mut v: c_int = 0;
        // SAFETY: `v` is a valid destination for its size; copy_from_user
        // checks the user range.
        let left = unsafe {
            bindings::copy_from_user(ptr::addr_of_mut!(v).cast(), self.0, size_of::<c_int>() as _)
        };
        if left != 0 {
            return Err(EFAULT);
        }
        Ok(v)
    }

    /// Writes an int.
    pub(crate) fn write_int(self, v: c_int) -> Result {
        // SAFETY: `v` is readable for its size.
        unsafe { self.copy_out(ptr::addr_of!(v).cast(), size_of::<c_int>()) }
    }

    /// Writes `b`.
    pub(crate) fn write_bytes(self, b: &[u8]) -> Result {
        // SAFETY: `b` is readable for its length.
        unsafe { self.copy_out(b.as_ptr().cast(), b.len()) }
    }

    /// Reads the first `len` bytes (at most its size) of a `T` into `dst`.
    pub(crate) fn read_into<T: Pod>(self, dst: &mut T, len: usize) -> Result {
        let len = len.min(size_of::<T>());
        // SAFETY: `dst` is writable for `len` <= its size, and any bytes are
        // a valid `T` (`Pod`); copy_from_user checks the user range.
        if unsafe { bindings::copy_from_user(ptr::from_mut(dst).cast(), self.0, len as _) } != 0 {
            return Err(EFAULT);
        }
        Ok(())
    }

    /// Builds a `T` for user space and copies the first `len` bytes of it
    /// here, where `len` is what `fill` returns (clamped to the size of
    /// `T`); returns `len`.  Nothing is copied if `fill` fails.
    ///
    /// `fill` gets a `T` in a zeroed stack buffer that never moves, and the
    /// bytes are copied from that buffer, not from a copy of the value:
    /// padding and whatever `fill` leaves alone read as zero, never as old
    /// kernel stack.  A Rust move or assignment of a whole struct need not
    /// carry its padding, so `fill` writes fields (and nested structs in
    /// place); it must not assign a whole `T` or a nested struct that has
    /// padding.
    pub(crate) fn write_zeroed<T: Pod>(
        self,
        fill: impl FnOnce(&mut T) -> Result<usize>,
    ) -> Result<usize> {
        let mut buf = MaybeUninit::<T>::zeroed();
        // SAFETY: zeroed is a valid `T` (`Pod`).
        let len = fill(unsafe { buf.assume_init_mut() })?.min(size_of::<T>());
        // SAFETY: the buffer is readable for `size_of::<T>()` >= `len` bytes,
        // all initialised (zeroed, then written).
        unsafe { self.copy_out(buf.as_ptr().cast(), len) }?;
        Ok(len)
    }
}

/// The option of a setsockopt call (`sockptr_t`: a user pointer, or a
/// kernel one from in-kernel callers) with its length.
pub(crate) struct SockPtr {
    p: bindings::sockptr_t,
    len: c_uint,
}

impl SockPtr {
    /// # Safety
    ///
    /// `p` and `len` are the option of the running setsockopt call: a
    /// kernel pointer is valid for reads of `len` bytes.
    pub(crate) unsafe fn new(p: bindings::sockptr_t, len: c_uint) -> Self {
        Self { p, len }
    }

    /// The raw option, for a kernel op.
    pub(super) fn raw(&self) -> (bindings::sockptr_t, c_uint) {
        (self.p, self.len)
    }

    /// The int value, as mainline's `mptcp_get_int_option()`: EINVAL if the
    /// option is shorter than an int.
    pub(crate) fn int(&self) -> Result<c_int> {
        if (self.len as usize) < size_of::<c_int>() {
            return Err(EINVAL);
        }
        if self.p.is_kernel() {
            // SAFETY: a kernel sockptr is valid for `len` bytes (`new`),
            // checked above to hold an int; it may be unaligned.
            return Ok(unsafe {
                ptr::read_unaligned(self.p.__bindgen_anon_1.kernel.cast::<c_int>())
            });
        }
        // SAFETY: not a kernel pointer, so the union holds the user one.
        UserPtr::new(unsafe { self.p.__bindgen_anon_1.user }).read_int()
    }
}
