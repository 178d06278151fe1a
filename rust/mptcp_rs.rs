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
#[path = "core/src/handshake.rs"]
mod handshake;
#[allow(dead_code, unreachable_pub)]
#[path = "core/src/mapping.rs"]
mod mapping;
#[allow(dead_code, unreachable_pub)]
#[path = "core/src/options.rs"]
mod options;
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

struct Mptcp;

impl kernel::Module for Mptcp {
    fn init(module: &'static ThisModule) -> Result<Self> {
        token::init()?;
        if let Err(e) = ctl::register() {
            token::exit();
            return Err(e);
        }
        if let Err(e) = subflow::register(module) {
            ctl::unregister();
            token::exit();
            return Err(e);
        }
        if let Err(e) = sys::hooks::register() {
            subflow::unregister();
            ctl::unregister();
            token::exit();
            return Err(e);
        }
        if let Err(e) = msk::register(module) {
            sys::hooks::unregister();
            subflow::unregister();
            ctl::unregister();
            token::exit();
            return Err(e);
        }
        pr_info!("MPTCP loaded (MPTCP v1 on one subflow per connection)\n");
        Ok(Mptcp)
    }
}

impl Drop for Mptcp {
    fn drop(&mut self) {
        msk::unregister();
        sys::hooks::unregister();
        subflow::unregister();
        ctl::unregister();
        token::exit();
        pr_info!("MPTCP unloaded\n");
    }
}
