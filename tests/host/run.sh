#!/usr/bin/env bash
# Host tests: the pure protocol core (rust/core) with cargo.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export PATH="$HOME/.cargo/bin:$PATH"
cd "$ROOT/rust/core"
cargo test --quiet 2>&1 | tee /tmp/mptcp-rs-host-test.log
cargo clippy --quiet --all-targets -- -D warnings
passed=$(grep -oE '[0-9]+ passed' /tmp/mptcp-rs-host-test.log | awk '{s+=$1} END {print s+0}')
failed=$(grep -oE '[0-9]+ failed' /tmp/mptcp-rs-host-test.log | awk '{s+=$1} END {print s+0}')
echo "host tests: $passed passed, $failed failed"
