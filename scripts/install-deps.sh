#!/usr/bin/env bash
# Install everything the build, the VM harness and the tests need on Debian 12.
# Idempotent: a no-op (a few dpkg queries) when everything is present.
set -euo pipefail

BINDGEN_VERSION=0.73.2
VIRTME_NG_VERSION=1.42

DEB_PKGS=(
  linux-source-6.12 rustc-web rust-web-src rust-web-clippy rustfmt-web
  clang-19 lld-19 llvm-19 libclang-19-dev
  make flex bison bc libelf-dev libssl-dev cpio xz-utils kmod pahole
  qemu-system-x86 busybox-static
  iproute2 iputils-ping ethtool nftables iptables iperf3 tcpdump socat netcat-openbsd procps
  python3-scapy
)

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

missing=()
for p in "${DEB_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The interop peer: Debian's stock 6.12 kernel (mainline MPTCP built in).
if ! ls /boot/vmlinuz-6.12.*-amd64 >/dev/null 2>&1; then
  img=$(apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' | awk '{print $1}' | sort -V | tail -1)
  if [ -n "$img" ]; then
    echo "install-deps: apt-get install $img (interop peer)"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$img" >/dev/null
  fi
fi

export PATH="$HOME/.cargo/bin:$PATH"
if ! bindgen --version 2>/dev/null | grep -q "$BINDGEN_VERSION"; then
  echo "install-deps: cargo install bindgen-cli $BINDGEN_VERSION"
  cargo install --locked --quiet bindgen-cli --version "$BINDGEN_VERSION"
fi

if ! vng --version 2>/dev/null | grep -q "$VIRTME_NG_VERSION"; then
  echo "install-deps: pip install virtme-ng==$VIRTME_NG_VERSION"
  python3 -m pip install --quiet --disable-pip-version-check "virtme-ng==$VIRTME_NG_VERSION"
fi
echo "install-deps: ok"
