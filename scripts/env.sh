# Shared settings for the mptcp-rs scripts; source it, do not run it.
# The toolchain the kernel and the module are built with (see kernel/README.md).
MPTCP_RS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MPTCP_RS_CACHE=${MPTCP_RS_CACHE:-$HOME/.cache/mptcp-rs}
export PATH="/usr/lib/llvm-19/bin:$HOME/.cargo/bin:$PATH"
KMAKE_VARS=(LLVM=1 RUSTC=/usr/bin/rustc HOSTRUSTC=/usr/bin/rustc
            RUST_LIB_SRC=/usr/lib/rustlib/src/rust/library
            BINDGEN="$HOME/.cargo/bin/bindgen")
KSRC_TARBALL=/usr/src/linux-source-6.12.tar.xz
FLAVOUR=${FLAVOUR:-default}

# Cache key: kernel source package version, compiler, patches, config, recipe.
kernel_key() {
  {
    dpkg-query -W -f='${Version}\n' linux-source-6.12
    /usr/bin/rustc --version
    clang-19 --version | head -1
    cat "$MPTCP_RS_ROOT"/kernel/patches/*.patch "$MPTCP_RS_ROOT"/kernel/config/mptcp-rs.config
    [ "$FLAVOUR" = debug ] && cat "$MPTCP_RS_ROOT"/kernel/config/debug.config
    echo "$FLAVOUR"
    sed -n '/^# recipe-begin/,/^# recipe-end/p' "$MPTCP_RS_ROOT/scripts/build-kernel.sh"
  } | sha256sum | cut -c1-16
}
kernel_dir() { echo "$MPTCP_RS_CACHE/kernel/$FLAVOUR-$(kernel_key)"; }
