#!/usr/bin/env bash
# Boot a kernel under QEMU with virtme-ng (host root file system, read-only),
# run one command in the guest, return its exit status.
#
#   qemu/vm.sh [--kernel ours|mainline|PATH] [--cpus N] [--mem SIZE]
#              [--timeout SEC] [--qemu-opts "..."] [--append "kernel args"] -- COMMAND...
#
# ours      our custom kernel (build/kdir, made by `make`)
# mainline  Debian's stock 6.12 kernel (mainline MPTCP built in): the interop peer
#
# KVM is used when it works; otherwise (no /dev/kvm, or guests fail as on
# this project's build machines) TCG.  The probe result is cached per boot.
set -euo pipefail
. "$(dirname "$0")/../scripts/env.sh"

kernel=ours cpus=2 mem=2G timeout=1800 qopts="" append=""
while [ $# -gt 0 ]; do
  case "$1" in
    --kernel) kernel=$2; shift 2 ;;
    --cpus) cpus=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --qemu-opts) qopts=$2; shift 2 ;;
    --append) append=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "vm.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ $# -gt 0 ] || { echo "vm.sh: no command" >&2; exit 2; }

case "$kernel" in
  ours) image="$MPTCP_RS_ROOT/build/kdir/arch/x86/boot/bzImage" ;;
  mainline) image=$(ls /boot/vmlinuz-6.12.*-amd64 2>/dev/null | sort -V | tail -1) ;;
  *) image=$kernel ;;
esac
[ -f "$image" ] || { echo "vm.sh: no kernel image '$image' (run make first)" >&2; exit 2; }

# One VM at a time on 2 cores: take the project's VM lock (shared with
# qemu/twovm.sh) unless a caller already holds it.
if [ "${MPTCP_RS_VM_LOCKED:-0}" != 1 ]; then
  exec 9>>/tmp/mptcp-rs-vm.lock
  flock -n 9 || { echo "vm.sh: waiting for /tmp/mptcp-rs-vm.lock ..." >&2; flock 9; }
  export MPTCP_RS_VM_LOCKED=1
fi

# Does KVM run a guest here?  /dev/kvm may exist and still fail.
kvm_works() {
  local stamp="$MPTCP_RS_CACHE/kvm-probe" boot
  boot=$(cat /proc/sys/kernel/random/boot_id)
  if [ -f "$stamp" ] && [ "$(head -1 "$stamp")" = "$boot" ]; then
    [ "$(tail -1 "$stamp")" = yes ]; return
  fi
  local r=no
  if [ -w /dev/kvm ] && timeout 60 vng --force-9p -r "$image" --cpus 1 --memory 512M \
       -- true >/dev/null 2>&1; then r=yes; fi
  mkdir -p "$MPTCP_RS_CACHE"; printf '%s\n%s\n' "$boot" "$r" > "$stamp"
  [ "$r" = yes ]
}
accel=()
if [ "${MPTCP_RS_KVM:-auto}" = no ] || ! kvm_works; then accel=(--disable-kvm); fi

args=(--force-9p -r "$image" --cpus "$cpus" --memory "$mem" "${accel[@]}"
      --append "oops=panic panic=-1 panic_on_warn=0${append:+ $append}")
[ -n "$qopts" ] && args+=(--qemu-opts "$qopts")
# The guest runs as root with the host's file system read-only, /tmp writable.
# Output goes through a pipe: QEMU reopens its stdout/stderr by path, which
# would truncate a log file the caller redirected us to.
set +e
timeout --foreground -k 10 "$timeout" vng "${args[@]}" -- "$@" 2>&1 | cat
exit "${PIPESTATUS[0]}"
