// SPDX-License-Identifier: GPL-2.0

//! Pure Rust protocol core of mptcp-rs, a Multipath TCP (RFC 8684) kernel
//! module: the codec of the MPTCP TCP options ([`options`]),
//! sequence-number arithmetic ([`seq`]), SHA-256/HMAC and the MPTCP key,
//! token and HMAC derivations ([`crypto`]), the DSS checksum ([`csum`]),
//! DSS mapping arithmetic ([`mapping`]), MP_FAIL and the infinite mapping
//! ([`fail`]) and data-level out-of-order
//! reassembly as range logic ([`reassembly`]), the connection-level
//! receive window ([`window`]), receive buffer autotuning ([`rcvbuf`])
//! and send sequence space ([`sendq`]).
//!
//! `no_std`, no `alloc`, no `unsafe`, no dependencies, and no panics
//! outside tests. Each module file is self-contained so that the kernel
//! build can include it with `#[path = ".../rust/core/src/options.rs"]`;
//! the kernel declares the same set of sibling modules as this file.

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::arithmetic_side_effects
    )
)]

pub mod close;
pub mod crypto;
pub mod csum;
pub mod endpoint;
pub mod fail;
pub mod handshake;
pub mod mapping;
pub mod options;
pub mod rcvbuf;
pub mod reassembly;
pub mod sendq;
pub mod seq;
pub mod window;
