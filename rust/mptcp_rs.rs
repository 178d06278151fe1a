// SPDX-License-Identifier: GPL-2.0

//! mptcp-rs: Multipath TCP (RFC 8684) as a loadable Linux module.
//!
//! The kernel side is a hook layer (kernel/patches) that forwards mainline's
//! MPTCP entry points to this module.  Layout:
//! - `core/src/*`: the pure protocol core (no_std, no unsafe, host-tested),
//!   compiled in through `#[path]` modules;
//! - `ctl`: per-namespace sysctls (`net.mptcp.*`) and MIB;
//! - `sys::hooks`: the ops table registered with the hook layer;
//! - `subflow`: per-subflow MPTCP state, MP_CAPABLE and DSS on the first subflow;
//! - `msk`: the `IPPROTO_MPTCP` socket, with its read side (`msk::rx`: never
//!   reads a data-level duplicate) and MPTCP-level socket options
//!   (`msk::sockopt`).

use kernel::prelude::*;

mod ctl;
mod mib;
mod msk;
mod subflow;
mod sys;
mod token;

// The protocol core.  Not all of it is used by the glue yet (stage 1 runs
// every connection as a TCP fallback); the host tests exercise all of it,
// and compiling it here keeps it kernel-clean.
#[allow(dead_code, unreachable_pub)]
#[path = "core/src/close.rs"]
mod close;
#[allow(dead_code, unreachable_pub)]
#[path = "core/src/crypto.rs"]
mod crypto;
#[allow(dead_code, unreachable_pub)]
#[path = "core/src/csum.rs"]
mod csum;
#[allow(dead_code, unreachable_pub)]
#[path = "core/src/fail.rs"]
mod fail;
#[allow(dead_code, unreachable_pub)]
#[path = "core/src/handshake.rs"]
mod handshake;
#[allow(dead_code, unreachable_pub)]
#[path = "core/src/mapping.rs"]
mod mapping;
#[allow(dead_code, unreachable_pub)]
#[path = "core/src/options.rs"]
mod options;
#[allow(dead_code, unreachable_pub)]
#[path = "core/src/rcvbuf.rs"]
mod rcvbuf;
#[allow(dead_code, unreachable_pub)]
#[path = "core/src/reassembly.rs"]
mod reassembly;
#[allow(dead_code, unreachable_pub)]
#[path = "core/src/seq.rs"]
mod seq;

module! {
    type: Mptcp,
    name: "mptcp",
    author: "mptcp-rs developers",
    description: "Multipath TCP (RFC 8684)",
    license: "GPL",
}

/// The module: its registrations, dropped in declaration order at module
/// exit, the reverse of the order `init` makes them (and an `init` that
/// fails half-way drops the ones it made, in reverse, the same way).
struct Mptcp {
    _msk: msk::Registration,
    _hooks: sys::Unregister,
    _subflow: sys::Unregister,
    _ctl: sys::Unregister,
    _token: sys::Unregister,
    _log: UnloadLog,
}

/// Logs the unload once everything before it in [`Mptcp`] is undone.
struct UnloadLog;

impl Drop for UnloadLog {
    fn drop(&mut self) {
        pr_info!("MPTCP unloaded\n");
    }
}

impl kernel::Module for Mptcp {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let token = token::init()?;
        let ctl = ctl::register()?;
        let subflow = subflow::register(module)?;
        let hooks = sys::hooks::register()?;
        let msk = msk::register(module)?;
        pr_info!("MPTCP loaded (MPTCP v1 on one subflow per connection)\n");
        Ok(Mptcp {
            _msk: msk,
            _hooks: hooks,
            _subflow: subflow,
            _ctl: ctl,
            _token: token,
            _log: UnloadLog,
        })
    }
}
