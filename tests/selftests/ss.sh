#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# A 6.12-era `ss` for the selftests.  diag.sh's "chk last_data_sent /
# last_data_recv / last_ack_recv" read mptcpi_last_* (MPTCP_INFO since 6.10)
# through `ss -iM`; Debian 12's iproute2 6.1 does not print them, so those
# cases skip ("Feature probably not supported") on every kernel.  Debian's
# bookworm-backports has a newer iproute2: this fetches it with apt (a private
# sources list and state dir, signatures checked with the system keyring; the
# machine's apt configuration is untouched), unpacks it without installing,
# and prints the path of its `ss`, cached in ~/.cache/mptcp-rs/iproute2.
# Only the selftests use it (guest.sh puts it first on PATH); our own tests
# keep Debian 12's `ip`/`ss`.  Prints nothing (and a warning) when it cannot
# be fetched: the three cases then skip as before.
set -uo pipefail
C=${XDG_CACHE_HOME:-$HOME/.cache}/mptcp-rs/iproute2
SUITE=bookworm-backports
if [ -x "$C/ss" ] && [ "$(find "$C/ss" -mtime -30 2>/dev/null)" ]; then
  echo "$C/ss"; exit 0
fi
mkdir -p "$C/lists/partial" "$C/cache/archives/partial" "$C/deb"
echo "deb http://deb.debian.org/debian $SUITE main" > "$C/sources.list"
apt=(-q -o Dir::Etc::SourceList="$C/sources.list" -o Dir::Etc::SourceParts=/dev/null
     -o Dir::State::Lists="$C/lists" -o Dir::Cache="$C/cache"
     -o APT::Sandbox::User=root)
if apt-get "${apt[@]}" update >&2 &&
   (cd "$C/deb" && rm -f ./*.deb && apt-get "${apt[@]}" download "iproute2/$SUITE" >&2); then
  rm -rf "$C/x" && dpkg -x "$C"/deb/iproute2_*.deb "$C/x" &&
    cp "$C/x/bin/ss" "$C/ss.new" && "$C/ss.new" -V >&2 && mv "$C/ss.new" "$C/ss"
fi
if [ -x "$C/ss" ]; then
  touch "$C/ss"; echo "$C/ss"
else
  echo "selftests: could not fetch iproute2 from $SUITE; using the system ss" \
       "(diag.sh's last_* checks will skip)" >&2
fi
